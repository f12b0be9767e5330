//! The docs cannot drift from the binary: every `--flag` that README.md and docs/ mention
//! exists.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::nnlab;

/// The `--flag`s in `text`: two dashes after a character that is not part of a word or a
/// dash, then a lowercase letter, then letters, digits and dashes.
fn flags_in(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    let mut flags = BTreeSet::new();
    for (i, _) in text.match_indices("--") {
        let before_ok = i == 0 || !(word(bytes[i - 1]) || bytes[i - 1].is_ascii_alphabetic());
        let start = i + 2;
        if !before_ok || !bytes.get(start).is_some_and(u8::is_ascii_lowercase) {
            continue;
        }
        let end = (start..bytes.len())
            .find(|&j| !word(bytes[j]))
            .unwrap_or(bytes.len());
        flags.insert(text[i..end].trim_end_matches('-').to_string());
    }
    flags
}

/// The help of `nnlab` and of each of its commands.
fn nnlab_help() -> String {
    let help = |args: &[&str]| {
        let out = nnlab().args(args).output().unwrap();
        assert!(out.status.success(), "nnlab {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    let commands = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&c| c != "help");
    let mut all = top.clone();
    for command in commands {
        all += &help(&[command, "--help"]);
    }
    all
}

/// Cargo's help for the commands the docs show (`cargo run --release --example …`).
fn cargo_help() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    ["build", "run", "test", "install", "bench"]
        .iter()
        .map(|sub| {
            let out = Command::new(&cargo).args([sub, "--help"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect()
}

/// The text of every file in `dir` whose name ends with `ext`.
fn texts(dir: &Path, ext: &str) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_flag_the_docs_mention_exists_in_a_help_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = texts(&root.join("docs"), "md");
    docs.push((
        "README.md".into(),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    ));
    // The benchmark scripts' own arguments (`compare.py --rounds 3`) count as theirs.
    let scripts: String = texts(&root.join("benches/peers"), "py")
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let known: BTreeSet<String> = [nnlab_help(), cargo_help(), scripts]
        .iter()
        .flat_map(|t| flags_in(t))
        .collect();
    assert!(
        known.contains("--latent") && known.contains("--release"),
        "{known:?}"
    );
    let missing: Vec<String> = docs
        .iter()
        .flat_map(|(file, text)| {
            let known = &known;
            flags_in(text)
                .into_iter()
                .filter(move |f| !known.contains(f))
                .map(move |f| format!("{file}: {f}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "flags in the docs that no help text has: {missing:?}"
    );
}

#[test]
fn flags_are_read_whole_and_not_from_dashes_inside_words() {
    let text = "run `nnlab train --d-lr 0.1 --epochs=3` |---| x--y —-- --Upper";
    let flags: Vec<String> = flags_in(text).into_iter().collect();
    assert_eq!(flags, ["--d-lr", "--epochs"]);
}
