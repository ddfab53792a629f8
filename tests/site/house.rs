//! The house rules a reader relies on, checked so they stay true: source
//! files short enough to read, every module saying what it owns, and the
//! documents pointing at files that exist.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("source file");
            let name = p
                .strip_prefix(root())
                .expect("under the crate")
                .display()
                .to_string();
            (name, text)
        })
        .collect()
}

/// Past 800 lines a file holds more than one thing; split it by what it
/// holds. Tests below `#[cfg(test)]` and files of tests do not count.
#[test]
fn no_source_file_is_over_800_lines_before_its_tests() {
    let files = sources();
    assert!(files.len() > 50, "found the sources ({})", files.len());
    let mut long = Vec::new();
    for (name, text) in &files {
        if name.ends_with("/tests.rs") {
            continue;
        }
        let lines = text
            .lines()
            .take_while(|l| l.trim() != "#[cfg(test)]")
            .count();
        if lines > 800 {
            long.push(format!("{name}: {lines} lines"));
        }
    }
    assert!(long.is_empty(), "too long to read: {long:#?}");
}

/// Each module opens with a `//!` paragraph saying what it owns and why.
#[test]
fn every_module_says_what_it_owns() {
    let missing: Vec<_> = sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(name, _)| name)
        .collect();
    assert!(missing.is_empty(), "no //! paragraph: {missing:?}");
}

/// A path a document names (`src/web/hooks.rs`, `tests/site/`) exists:
/// a reader following the README or SECURITY.md lands on the file meant.
#[test]
fn the_documents_name_files_that_exist() {
    let mut stale = Vec::new();
    let mut named = 0;
    for doc in ["README.md", "SECURITY.md", "BENCHMARKS.md"] {
        let text = std::fs::read_to_string(root().join(doc)).expect("document");
        for (at, _) in text.match_indices('`') {
            let rest = &text[at + 1..];
            let Some(end) = rest.find('`') else { continue };
            let quoted = &rest[..end];
            if !(quoted.starts_with("src/")
                || quoted.starts_with("tests/")
                || quoted.starts_with("benches/"))
                || quoted.contains(' ')
                || quoted.contains('*')
            {
                continue;
            }
            named += 1;
            if !root().join(quoted).exists() {
                stale.push(format!("{doc}: {quoted}"));
            }
        }
    }
    assert!(named > 20, "found the paths ({named})");
    stale.sort();
    stale.dedup();
    assert!(stale.is_empty(), "named but not there: {stale:#?}");
}

/// The README's Layout block names each top-level part on the left; each
/// is there.
#[test]
fn the_readme_layout_names_what_is_there() {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README");
    let layout = text
        .split("## Layout")
        .nth(1)
        .and_then(|s| s.split("```").nth(1))
        .expect("a Layout section with a block");
    let mut named = 0;
    let mut missing = Vec::new();
    for line in layout.lines() {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        if line.starts_with(' ') || !first.contains('/') {
            continue;
        }
        named += 1;
        if !root().join(first).exists() {
            missing.push(first.to_string());
        }
    }
    assert!(named > 15, "found the layout ({named})");
    assert!(missing.is_empty(), "the Layout names {missing:?}");
}
