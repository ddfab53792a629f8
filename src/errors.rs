//! The few pieces every layer's errors share: a boxed [`Cause`] kept
//! whole under an error (`#[source]`), [`context`] to say what was being
//! done when it happened, and [`chain`], how an error and its causes are
//! written where it is logged, once, at the edge (a handler's answer, a
//! background round, the command line). Each layer keeps its own
//! `thiserror` enum; none flattens a cause to text.

/// What caused an error, kept whole (its own causes too) for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A cause with what was being done when it happened.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Context {
    what: String,
    #[source]
    source: Cause,
}

/// `source`, said to have happened while doing `what`.
pub fn context(what: impl Into<String>, source: impl Into<Cause>) -> Cause {
    Box::new(Context {
        what: what.into(),
        source: source.into(),
    })
}

/// An error and its causes, `outer: inner: innermost`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // An error that already says its cause (`x: y`) is not repeated.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_says_every_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(chain(&e), "outer: disk full");
        let io = std::io::Error::other("alone");
        assert_eq!(chain(&io), "alone");
        let c = context("saving the keys", std::io::Error::other("read-only"));
        assert_eq!(chain(&*c), "saving the keys: read-only");
    }
}
