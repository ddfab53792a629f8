//! What may go into a log line or an answer to a client: nothing a shopper
//! typed or an order holds (emails, names, addresses) and no secret. The
//! helpers here describe errors by kind and place instead of by content.

/// A JSON error described by its kind and place only. serde's own
/// messages quote the offending value, which in an order is often an email
/// or a name: those must not reach logs or answers.
pub fn json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "a field has a value of the wrong kind",
        serde_json::error::Category::Eof => "cut short",
    };
    if e.line() == 0 {
        kind.to_string()
    } else {
        format!("{kind} (line {}, column {})", e.line(), e.column())
    }
}

/// A URL with any password replaced by `***` (SMTP URLs carry them).
pub fn url_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_leave_urls() {
        assert_eq!(
            super::url_without_password("smtps://me:s3cret@mail.example:465?x=1"),
            "smtps://me:***@mail.example:465?x=1"
        );
        assert_eq!(
            super::url_without_password("smtp://127.0.0.1:2525"),
            "smtp://127.0.0.1:2525"
        );
    }

    #[test]
    fn json_errors_are_described_without_the_values() {
        let e = serde_json::from_str::<u64>("\"anna@example.se\"").expect_err("a string");
        assert!(
            e.to_string().contains("anna"),
            "serde's own message quotes it"
        );
        let text = super::json_error(&e);
        assert!(!text.contains("anna"), "{text}");
        assert!(text.contains("wrong kind"), "{text}");
    }
}
