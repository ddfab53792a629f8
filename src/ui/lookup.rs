//! The lookup page at `/`: the shop's name and a form asking for the order
//! number and the email used at checkout.

use leptos::prelude::*;
use leptos_meta::Title;

use super::ShopHeader;
use crate::web::AppState;

/// `/`: find an order by number and email.
#[component]
pub fn LookupPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shop = state.config.shop.name.clone();
    view! {
        <Title text=format!("Track your order · {shop}") />
        <ShopHeader />
        <main id="main" class="page lookup">
            <h1>"Track your order"</h1>
            <p class="lede">"Enter your order number and the email you used at checkout."</p>
            <form method="post" action="/" class="card lookup-form">
                <div class="field">
                    <label for="order">"Order number"</label>
                    <input
                        id="order"
                        name="order"
                        type="text"
                        inputmode="numeric"
                        autocomplete="off"
                        placeholder="#1001"
                        required
                        maxlength="32"
                    />
                </div>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input
                        id="email"
                        name="email"
                        type="email"
                        autocomplete="email"
                        required
                        maxlength="254"
                    />
                </div>
                <button type="submit">"Find my order"</button>
            </form>
        </main>
    }
}
