//! The house's layout, checked on the source: only `src/models/` names a model family's
//! types, and no two modules import each other (../shared/DESIGN.md: data flows one way).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::files_below;

/// `text` with its comments and string literals blanked (newlines kept, so line numbers
/// stay): what is left is the code's own names.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let end = if rest.starts_with(&['/', '/']) {
            i + rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            i + block_comment_len(rest)
        } else if let Some(len) = string_len(&chars, i) {
            i + len
        } else {
            out.push(chars[i]);
            i += 1;
            continue;
        };
        out.extend(chars[i..end].iter().map(|&c| blank(c)));
        i = end;
    }
    out
}

/// The length of the (nested) block comment at the start of `rest`.
fn block_comment_len(rest: &[char]) -> usize {
    let (mut depth, mut j) = (0, 0);
    while j < rest.len() {
        if rest[j..].starts_with(&['/', '*']) {
            depth += 1;
            j += 2;
        } else if rest[j..].starts_with(&['*', '/']) {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    rest.len()
}

/// The length of the string or char literal (`"…"`, `b"…"`, `r#"…"#`, `'"'`) starting at
/// `i`, if one does (a lifetime, `'a`, is not one).
fn string_len(chars: &[char], i: usize) -> Option<usize> {
    if chars[i] == '\'' {
        if chars.get(i + 1) == Some(&'\\') {
            let close = chars[i + 3..].iter().position(|&c| c == '\'')?;
            return Some(close + 4);
        }
        return (chars.get(i + 2) == Some(&'\'')).then_some(3);
    }
    let word_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i;
    if !word_before && chars[j] == 'b' {
        j += 1;
    }
    let raw = !word_before && chars.get(j) == Some(&'r');
    if raw {
        j += 1;
    }
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        let closes = || {
            chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        };
        match chars[j] {
            '\\' if !raw => j += 2,
            '"' if closes() => return Some(j + 1 + hashes - i),
            _ => j += 1,
        }
    }
    Some(chars.len() - i)
}

/// Whether `word` stands in `line` as a whole identifier or path.
fn names(line: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The variants of `enum NAME` in `source`, each with the type it holds (generics dropped).
fn variants(source: &str, name: &str) -> Vec<(String, String)> {
    let start = source
        .find(&format!("pub enum {name}"))
        .unwrap_or_else(|| panic!("the registry has no enum {name}"));
    let body = &source[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    body.split(',')
        .filter_map(|v| {
            let (variant, inner) = v.trim().split_once('(')?;
            let inner = inner.trim_end_matches(')');
            let ty = inner.split('<').next().unwrap().trim();
            Some((variant.trim().to_string(), ty.to_string()))
        })
        .collect()
}

/// What only `src/models/` may name: each family's module and config types, and the
/// variants of the registry's `Network` and `ModelConfig` (read from `src/models/mod.rs`, so
/// a family added there is checked too).
fn family_names(registry: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for enum_name in ["Network", "ModelConfig"] {
        for (variant, ty) in variants(registry, enum_name) {
            names.insert(ty);
            names.insert(format!("{enum_name}::{variant}"));
        }
    }
    names
}

#[test]
fn only_the_models_folder_names_a_model_family() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let registry = std::fs::read_to_string(src.join("models/mod.rs")).unwrap();
    let forbidden = family_names(&registry);
    for expected in [
        "Mlp",
        "CnnConfig",
        "Transformer",
        "Network::Gan",
        "ModelConfig::Vae",
    ] {
        assert!(
            forbidden.contains(expected),
            "{expected} not in {forbidden:?}"
        );
    }
    let mut found = Vec::new();
    for file in files_below(&src, "rs") {
        if file.starts_with(src.join("models")) {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for (n, line) in code.lines().enumerate() {
            // `Kind::Cnn` is the name a user gives (`--model cnn`), not the family's type.
            let line = line.replace("Kind::", "Kind_");
            for word in forbidden.iter().filter(|w| names(&line, w)) {
                let file = file.strip_prefix(&src).unwrap().display();
                found.push(format!("src/{file}:{}: {word}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "outside src/models/, only the registry's Network and ModelConfig may stand for a \
         family; ask them (a method in src/models/mod.rs) instead of naming it: {found:#?}"
    );
}

#[test]
fn the_layout_check_reads_code_and_not_comments_or_strings() {
    let code = code_only(
        "let a = Mlp; // Mlp\n/* Cnn /* nested */ Cnn */ let b = \"Gan\";\nr#\"Vae\"# b\"x\" 'c'",
    );
    assert!(names(&code, "Mlp") && !names(&code, "Cnn") && !names(&code, "Gan"));
    assert!(!names(&code, "Vae") && code.lines().count() == 3, "{code}");
    assert!(names("x: Network::Mlp(m)", "Network::Mlp") && !names("MlpJob", "Mlp"));
    let registry = "pub enum Network<B: Backend> {\n    Mlp(Mlp<B>),\n    Gan(Gan<B>),\n}\n";
    assert_eq!(
        variants(registry, "Network"),
        [("Mlp".into(), "Mlp".into()), ("Gan".into(), "Gan".into())]
    );
}

/// The module a file is (`eval::metrics` for src/eval/metrics.rs, `eval` for its mod.rs).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a file's code names from the crate (`crate::…`, `super::…`, and the items of
/// `use` groups), each resolved to the module it lies in, among `modules`.
fn imports(
    code: &str,
    here: &[String],
    is_dir: bool,
    modules: &BTreeSet<Vec<String>>,
) -> BTreeSet<Vec<String>> {
    let base: Vec<String> = if is_dir {
        here.to_vec()
    } else {
        here[..here.len() - 1].to_vec()
    };
    let mut paths = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(start) {
            let before = code[..i].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.extend(expand(&code[i..]));
            }
        }
    }
    paths
        .into_iter()
        .filter_map(|path| {
            let mut parts: Vec<String> = Vec::new();
            let mut segments = path.split("::").peekable();
            match segments.peek().copied() {
                Some("crate") => {
                    segments.next();
                }
                Some("self") => {
                    segments.next();
                    parts = base.clone();
                }
                Some("super") => {
                    parts = base.clone();
                    while segments.peek() == Some(&"super") {
                        segments.next();
                        parts.pop();
                    }
                }
                _ => return None,
            }
            parts.extend(segments.map(str::to_string));
            (1..=parts.len())
                .rev()
                .map(|n| parts[..n].to_vec())
                .find(|m| modules.contains(m))
        })
        .filter(|m| m.as_slice() != here)
        .collect()
}

/// The full paths a path or `use` tree at the start of `text` names: `a::{b, c::{d}}` gives
/// `a::b` and `a::c::d`.
fn expand(text: &str) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let head_len = text.find(|c: char| !ident(c)).unwrap_or(text.len());
    let head = text[..head_len].trim_end_matches(':');
    if !text[..head_len].ends_with("::") || !text[head_len..].starts_with('{') {
        return vec![head.to_string()];
    }
    let body = &text[head_len + 1..];
    let (mut depth, mut item_start, mut out) = (0, 0, Vec::new());
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 0 => {
                let item = body[item_start..i].trim();
                if !item.is_empty() && item != "self" {
                    out.extend(expand(item).into_iter().map(|p| format!("{head}::{p}")));
                } else if item == "self" {
                    out.push(head.to_string());
                }
                item_start = i + 1;
                if c == '}' {
                    break;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    out
}

#[test]
fn no_two_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = files_below(&src, "rs");
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // A file's unit tests may reach anywhere; they are not part of the flow.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let here = module_of(&src, file);
        let is_dir = matches!(
            file.file_stem().and_then(|s| s.to_str()),
            Some("mod" | "lib" | "main")
        );
        let found = imports(&code_only(text), &here, is_dir, &modules);
        edges.insert(here, found);
    }
    assert!(
        edges[&vec!["eval".to_string(), "predict".to_string()]]
            .contains(&vec!["eval".to_string(), "metrics".to_string()])
    );
    let inside = |a: &[String], b: &[String]| b.starts_with(a) || a.starts_with(b);
    let mut pairs = Vec::new();
    for (a, targets) in &edges {
        for b in targets.iter().filter(|b| a < *b && !inside(a, b)) {
            if edges.get(b).is_some_and(|t| t.contains(a)) {
                pairs.push(format!("{} <-> {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(
        pairs.is_empty(),
        "modules that import each other: move what both share to the one both depend on: {pairs:#?}"
    );
}
