//! Status emails, rendered by Leptos like the pages: the HTML part as a
//! component, the plain-text part from the same [`EmailView`]. `notify`
//! works out the words (from the shopper's view of the order, in the
//! shopper's language) and the links; this only lays them out.
//!
//! The HTML is one column with inline styles (mail clients drop style
//! sheets), no images (so no tracking pixel) and no scripts. Leptos
//! escapes every text and attribute.

use leptos::prelude::*;

use crate::i18n::Lang;

/// A message's words, before they become MIME.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailView {
    pub lang: Lang,
    pub subject: String,
    /// What changed, in one line.
    pub line: String,
    /// Where the order stands now.
    pub headline: String,
    pub parcel: Option<ParcelFacts>,
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
    /// "Carrier: PostNord".
    pub carrier: Option<String>,
    /// "Tracking number: 0034…".
    pub tracking: Option<String>,
    pub track_url: Option<String>,
    pub track_label: String,
    pub items_title: String,
    /// "1 × Mug (Blue)".
    pub items: Vec<String>,
}

/// The plain-text part.
pub fn plain(r: &EmailView) -> String {
    let mut out = format!("{}\n\n{}\n", r.line, r.headline);
    if let Some(p) = &r.parcel {
        out.push_str(&format!("\n{}\n", p.title));
        for l in [&p.carrier, &p.tracking].into_iter().flatten() {
            out.push_str(&format!("{l}\n"));
        }
        if let Some(u) = &p.track_url {
            out.push_str(&format!("{}: {u}\n", p.track_label));
        }
        if !p.items.is_empty() {
            out.push_str(&format!("{}\n", p.items_title));
            for it in &p.items {
                out.push_str(&format!("- {it}\n"));
            }
        }
    }
    out.push_str(&format!(
        "\n{}:\n{}\n({})\n\n-- \n{}\n{}: {}\n",
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
    let parcel = email.parcel.map(|p| view! { <Parcel parcel=p /> });
    let button = format!(
        "display:inline-block;padding:12px 20px;background:{accent};color:#ffffff;text-decoration:none;border-radius:6px"
    );
    view! {
        <html lang=email.lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width" />
                <title>{email.subject}</title>
            </head>
            <body style=BODY>
                <div style="max-width:560px;margin:0 auto">
                    <p style="font-size:18px;margin:0 0 12px">{email.line}</p>
                    <p style="margin:0 0 16px">{email.headline}</p>
                    {parcel}
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

/// A parcel: what it is, its carrier and tracking, and what is in it.
#[component]
fn Parcel(parcel: ParcelFacts) -> impl IntoView {
    let lines = [parcel.carrier, parcel.tracking]
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
    let items = (!parcel.items.is_empty()).then(|| {
        let list = parcel
            .items
            .into_iter()
            .map(|it| view! { <li>{it}</li> })
            .collect_view();
        view! {
            <p style="margin:12px 0 4px">{parcel.items_title}</p>
            <ul style="margin:0;padding-left:20px">{list}</ul>
        }
    });
    view! {
        <h2 style="font-size:16px;margin:24px 0 8px">{parcel.title}</h2>
        {lines}
        {track}
        {items}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailView {
        EmailView {
            lang: Lang::Sv,
            subject: "Din order #1001 är på väg".into(),
            line: "Paketet har skickats <b>nu</b>.".into(),
            headline: "På väg".into(),
            parcel: Some(ParcelFacts {
                title: "Paket 1 av 1".into(),
                carrier: Some("Fraktbolag: PostNord".into()),
                tracking: None,
                track_url: Some("https://carrier.example/t?n=1&x=\"2\"".into()),
                track_label: "Spåra".into(),
                items_title: "Innehåll".into(),
                items: vec!["1 × Mugg".into()],
            }),
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
        assert!(
            html.contains("Paketet har skickats &lt;b&gt;nu&lt;/b&gt;."),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://carrier.example/t?n=1&amp;x=&quot;2&quot;\""),
            "{html}"
        );
        assert!(html.contains("background:#1f6f5c"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
    }

    #[test]
    fn the_plain_part_says_the_same() {
        let text = plain(&email());
        for part in [
            "Paketet har skickats <b>nu</b>.",
            "Spåra: https://carrier.example",
            "- 1 × Mugg",
            "Avsluta: https://track.example/unsubscribe/U",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }
}
