//! The docs cannot drift from the binary: every command that README.md and docs/guide/ show
//! in a `console` block runs, and every `--flag` that README.md and docs/ mention exists.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{files_below, nnlab};

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

/// The text of every file below `dir` whose name ends with `ext`, by path.
fn texts(dir: &Path, ext: &str) -> Vec<(String, String)> {
    files_below(dir, ext)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// README.md and every page below `dir`, each with its text.
fn readme_and(dir: &Path) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = texts(dir, "md");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    pages.push(("README.md".into(), readme));
    pages
}

#[test]
fn every_flag_the_docs_mention_exists_in_a_help_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = readme_and(&root.join("docs"));
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

/// The commands of the `console` blocks of a page: the lines that start with `$ `, a
/// trailing backslash continuing one on the next line. The other lines are their output.
fn console_commands(page: &str) -> Vec<String> {
    let (mut commands, mut in_block, mut open): (Vec<String>, bool, Option<String>) =
        (Vec::new(), false, None);
    for line in page.lines() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_block = !in_block && fence == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        let command = match open.take() {
            Some(start) => format!("{start}\n{line}"),
            None => match line.strip_prefix("$ ") {
                Some(command) => command.to_string(),
                None => continue,
            },
        };
        if command.ends_with('\\') {
            open = Some(command);
        } else {
            commands.push(command);
        }
    }
    commands
}

/// A page's commands as one `sh -e` script that prints each before running it; a command
/// ending in `&` runs in the background until the script ends.
fn page_script(commands: &[String]) -> String {
    let mut script = String::from("set -e\npids=\ntrap 'kill $pids 2>/dev/null || true' EXIT\n");
    for command in commands {
        let shown = format!("$ {command}").replace('\'', "'\\''");
        script += &format!("printf '%s\\n' '{shown}'\n{command}\n");
        if command.trim_end().ends_with('&') {
            script += "pids=\"$pids $!\"\n";
        }
    }
    script
}

/// Runs a page's commands in a fresh folder that links the repository's examples/, with the
/// nnlab under test first on PATH; the output on failure.
fn run_page(commands: &[String]) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("examples"), dir.path().join("examples")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_nnlab")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    // A command that never ends (a server without `&`) fails the page instead of the run.
    let out = Command::new("timeout")
        .args(["300", "sh", "-c", &page_script(commands)])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!("{}:\n{}", out.status, tail.join("\n")))
}

#[test]
fn every_command_the_readme_and_the_guide_show_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = readme_and(&root.join("docs/guide"));
    let pages: Vec<(String, Vec<String>)> = pages
        .into_iter()
        .map(|(file, text)| (file, console_commands(&text)))
        .filter(|(_, commands)| !commands.is_empty())
        .collect();
    let shown: usize = pages.iter().map(|(_, c)| c.len()).sum();
    assert!(
        pages.len() >= 10 && pages.iter().any(|(f, _)| f == "README.md"),
        "only {} pages with console commands: {:?}",
        pages.len(),
        pages.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = pages
            .iter()
            .map(|(file, commands)| (file, scope.spawn(|| run_page(commands))))
            .collect();
        runs.into_iter()
            .filter_map(|(file, run)| run.join().unwrap().err().map(|e| format!("{file}: {e}")))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "of {shown} commands on {} pages, these pages failed:\n{}",
        pages.len(),
        failures.join("\n\n")
    );
}

#[test]
fn console_blocks_give_their_commands_and_not_their_output() {
    let page =
        "```sh\n$ not run\n```\n```console\n$ nnlab a \\\n  --b\nout $ x\n$ nnlab c &\n```\n";
    assert_eq!(console_commands(page), ["nnlab a \\\n  --b", "nnlab c &"]);
    let script = page_script(&console_commands("```console\n$ echo 'hi' &\n```\n"));
    assert!(
        script.contains("printf '%s\\n' '$ echo '\\''hi'\\'' &'"),
        "{script}"
    );
    assert!(script.contains("pids=\"$pids $!\""), "{script}");
}
