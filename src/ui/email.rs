//! Status emails, rendered by Leptos like the pages: the HTML part as a
//! component, the plain-text part from the same [`EmailView`]. `notify`
//! works out the words (from the shopper's view of the order, in the
//! shopper's language) and the links; this only lays them out.
//!
//! The HTML is one column with inline styles (mail clients drop style
//! sheets) and no scripts. Its only images are the shop's logo and the
//! items' pictures, from absolute `https` addresses the shop gave (its
//! CDN): never a pixel of ours, so opening an email tells us nothing.
//! Leptos escapes every text and attribute.

use leptos::prelude::*;

use crate::i18n::Lang;

/// A message's words, before they become MIME.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailView {
    pub lang: Lang,
    pub subject: String,
    pub shop_name: String,
    /// The shop's logo, an absolute `https` address.
    pub logo_url: Option<String>,
    /// "Order #1001".
    pub order_title: String,
    /// "Hi Anna," (or a greeting without a name).
    pub greeting: String,
    /// What changed, in one line.
    pub line: String,
    /// Where the order stands now, when it says more than `line`.
    pub headline: Option<String>,
    pub parcel: Option<ParcelFacts>,
    /// The items the message is about, when no parcel is shown.
    pub items_title: String,
    pub items: Vec<ItemFacts>,
    pub status_url: String,
    pub status_label: String,
    pub link_until: String,
    pub footer: String,
    pub unsubscribe_url: String,
    pub unsubscribe_label: String,
}

/// A parcel as an email shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelFacts {
    pub title: String,
    /// "Carrier: PostNord" (with the language's punctuation).
    pub carrier: Option<String>,
    /// "Tracking number: 0034…".
    pub tracking: Option<String>,
    /// The carrier's own latest words, with the place.
    pub latest: Option<String>,
    pub track_url: Option<String>,
    pub track_label: String,
    pub items_title: String,
    pub items: Vec<ItemFacts>,
}

/// One line of items: "1 × Mug (Blue)", with its picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFacts {
    pub text: String,
    /// An absolute `https` address.
    pub image: Option<String>,
}

/// The plain-text part.
pub fn plain(r: &EmailView) -> String {
    let mut out = format!(
        "{}
{}

{}

{}
",
        r.shop_name, r.order_title, r.greeting, r.line
    );
    if let Some(h) = &r.headline {
        out.push_str(&format!("{h}\n"));
    }
    let list = |title: &str, items: &[ItemFacts], out: &mut String| {
        if !items.is_empty() {
            out.push_str(&format!("\n{title}\n"));
            for it in items {
                out.push_str(&format!("- {}\n", it.text));
            }
        }
    };
    if let Some(p) = &r.parcel {
        out.push_str(&format!("\n{}\n", p.title));
        for l in [&p.carrier, &p.tracking, &p.latest].into_iter().flatten() {
            out.push_str(&format!("{l}\n"));
        }
        if let Some(u) = &p.track_url {
            out.push_str(&format!("{}\n{u}\n", p.track_label));
        }
        list(&p.items_title, &p.items, &mut out);
    } else {
        list(&r.items_title, &r.items, &mut out);
    }
    out.push_str(&format!(
        "\n{}\n{}\n({})\n\n-- \n{}\n{}\n{}\n",
        r.status_label,
        r.status_url,
        r.link_until,
        r.footer,
        r.unsubscribe_label,
        r.unsubscribe_url
    ));
    out
}

/// The HTML part, in the shop's accent colour.
pub fn html(r: &EmailView, accent: &str) -> String {
    let r = r.clone();
    let accent = accent.to_string();
    let owner = Owner::new();
    let body = owner.with(move || view! { <StatusEmail email=r accent=accent /> }.to_html());
    format!("<!DOCTYPE html>{body}")
}

const BODY: &str = "margin:0;padding:24px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;line-height:1.5";
const SMALL: &str = "margin:4px 0 24px;font-size:13px;color:#555";

/// The whole HTML document of a status email.
#[component]
fn StatusEmail(email: EmailView, accent: String) -> impl IntoView {
    let items = if email.parcel.is_some() {
        None
    } else {
        Some(view! { <Items title=email.items_title items=email.items /> })
    };
    let parcel = email.parcel.map(|p| view! { <Parcel parcel=p /> });
    let headline = email
        .headline
        .map(|h| view! { <p style="margin:0 0 16px">{h}</p> });
    let logo = email.logo_url.map(|src| {
        view! {
            <img
                src=src
                alt=""
                width="32"
                height="32"
                style="vertical-align:middle;margin-right:8px;border:0"
            />
        }
    });
    let button = format!(
        "display:inline-block;padding:12px 20px;background:{accent};color:#ffffff;text-decoration:none;border-radius:6px"
    );
    let rule = format!("border-bottom:3px solid {accent};padding-bottom:12px;margin-bottom:20px");
    view! {
        <html lang=email.lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width" />
                <title>{email.subject}</title>
            </head>
            <body style=BODY>
                <div style="max-width:560px;margin:0 auto">
                    <div style=rule>
                        {logo}
                        <strong style="font-size:18px;vertical-align:middle">
                            {email.shop_name}
                        </strong>
                        <div style="font-size:13px;color:#555;margin-top:4px">
                            {email.order_title}
                        </div>
                    </div>
                    <p style="margin:0 0 12px">{email.greeting}</p>
                    <p style="font-size:18px;margin:0 0 12px">{email.line}</p>
                    {headline}
                    {parcel}
                    {items}
                    <p style="margin:24px 0 4px">
                        <a href=email.status_url style=button>
                            {email.status_label}
                        </a>
                    </p>
                    <p style=SMALL>{email.link_until}</p>
                    <hr style="border:none;border-top:1px solid #ddd" />
                    <p style="font-size:13px;color:#555">
                        {email.footer}
                        " "
                        <a href=email.unsubscribe_url style="color:#555">
                            {email.unsubscribe_label}
                        </a>
                    </p>
                </div>
            </body>
        </html>
    }
}

/// A parcel: what it is, its carrier and tracking, the carrier's latest
/// words, and what is in it.
#[component]
fn Parcel(parcel: ParcelFacts) -> impl IntoView {
    let lines = [parcel.carrier, parcel.tracking, parcel.latest]
        .into_iter()
        .flatten()
        .map(|l| view! { <p style="margin:4px 0">{l}</p> })
        .collect_view();
    let track = parcel.track_url.map(|u| {
        view! {
            <p style="margin:4px 0">
                <a href=u>{parcel.track_label.clone()}</a>
            </p>
        }
    });
    view! {
        <h2 style="font-size:16px;margin:24px 0 8px">{parcel.title}</h2>
        {lines}
        {track}
        <Items title=parcel.items_title items=parcel.items />
    }
}

/// A list of items with their pictures.
#[component]
fn Items(title: String, items: Vec<ItemFacts>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        let rows = items
            .into_iter()
            .map(|it| {
                let image = it.image.map(|src| {
                    view! {
                        <img
                            src=src
                            alt=""
                            width="48"
                            height="48"
                            style="border:0;border-radius:4px;vertical-align:middle;margin-right:12px"
                        />
                    }
                });
                view! {
                    <tr>
                        <td style="padding:4px 0">{image}{it.text}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <p style="margin:16px 0 4px;font-weight:600">{title}</p>
            <table role="presentation" style="border-collapse:collapse">
                <tbody>{rows}</tbody>
            </table>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailView {
        EmailView {
            lang: Lang::Sv,
            subject: "Din order #1001 är på väg".into(),
            shop_name: "Fika & Co".into(),
            logo_url: Some("https://cdn.example/logo.png".into()),
            order_title: "Order #1001".into(),
            greeting: "Hej Anna!".into(),
            line: "Paketet har skickats <b>nu</b>.".into(),
            headline: Some("Nu: På väg".into()),
            parcel: Some(ParcelFacts {
                title: "Paket 1 av 1".into(),
                carrier: Some("Fraktbolag: PostNord".into()),
                tracking: None,
                latest: Some("Senast från fraktbolaget: ”Sorterad” (Malmö)".into()),
                track_url: Some("https://carrier.example/t?n=1&x=\"2\"".into()),
                track_label: "Spåra".into(),
                items_title: "Innehåll".into(),
                items: vec![ItemFacts {
                    text: "1 × Mugg".into(),
                    image: Some("https://cdn.example/mug.jpg".into()),
                }],
            }),
            items_title: "I din beställning".into(),
            items: vec![],
            status_url: "https://track.example/status/T".into(),
            status_label: "Visa beställningen".into(),
            link_until: "Länken gäller till 1 januari".into(),
            footer: "Du får det här mejlet för att du beställde.".into(),
            unsubscribe_url: "https://track.example/unsubscribe/U".into(),
            unsubscribe_label: "Avsluta".into(),
        }
    }

    #[test]
    fn the_html_part_escapes_what_it_is_given_and_speaks_its_language() {
        let html = html(&email(), "#1f6f5c");
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"sv\">"),
            "{html}"
        );
        for part in [
            "Paketet har skickats &lt;b&gt;nu&lt;/b&gt;.",
            "href=\"https://carrier.example/t?n=1&amp;x=&quot;2&quot;\"",
            "Fika &amp; Co",
            "Hej Anna!",
            "Sorterad",
            "src=\"https://cdn.example/mug.jpg\"",
            "src=\"https://cdn.example/logo.png\"",
            "background:#1f6f5c",
        ] {
            assert!(html.contains(part), "{part}: {html}");
        }
        assert!(!html.contains("<script"));
        // Only the shop's pictures: no image of ours.
        assert_eq!(html.matches("<img").count(), 2, "{html}");
    }

    #[test]
    fn the_plain_part_says_the_same() {
        let text = plain(&email());
        for part in [
            "Fika & Co\nOrder #1001\n\nHej Anna!",
            "Paketet har skickats <b>nu</b>.",
            "Spåra\nhttps://carrier.example",
            "Senast från fraktbolaget",
            "- 1 × Mugg",
            "Avsluta\nhttps://track.example/unsubscribe/U",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }
}
