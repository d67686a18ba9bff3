//! The trainer's modules import each other without cycles: between files (a module's `mod.rs`
//! declaring its children aside), and between the top-level modules (`data`, `fit`, `train`, ...),
//! so that every layer can be read, tested and reused without the layers above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["fit", "epochs"]`) for each source file.
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap();
            let mut segs: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let file = segs.pop().unwrap();
            match file.as_str() {
                "mod.rs" | "lib.rs" => {}
                "main.rs" => continue,
                f => segs.push(f.trim_end_matches(".rs").to_string()),
            }
            out.insert(segs, p);
        }
    }
    out
}

/// The source without `#[cfg(test)]` modules (tests may reach anywhere).
fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else { return vec![path.trim().to_string()] };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.iter().filter(|p| !p.trim().is_empty()).flat_map(|p| expand(&format!("{prefix}{}", p.trim()))).collect()
}

/// Every `crate::`/`super::` path a file names, as written.
fn paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `use` statements (with braces), then paths written inline.
    for stmt in text.split(';') {
        let s = stmt.trim_start();
        let s = s.strip_prefix("pub ").or_else(|| s.strip_prefix("pub(crate) ")).unwrap_or(s);
        if let Some(rest) = s.strip_prefix("use ") {
            let flat: String = rest.split_whitespace().collect::<Vec<_>>().join(" ");
            out.extend(expand(&flat).into_iter().filter(|p| p.starts_with("crate::") || p.starts_with("super::")));
        }
    }
    for key in ["crate::", "super::"] {
        let mut at = 0;
        while let Some(i) = text[at..].find(key) {
            let start = at + i;
            let end = text[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(text.len(), |e| start + e);
            out.push(text[start..end].trim_end_matches(':').to_string());
            at = end;
        }
    }
    out
}

/// The children a `mod.rs` uses in its own code (`job::Job::new(..)`), apart from declaring and
/// re-exporting them; returned with a marker so they count as imports.
fn child_uses(text: &str) -> Vec<String> {
    let declared: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
            l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';'))
        })
        .collect();
    let body: String = text
        .lines()
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("pub use ") || t.starts_with("mod ") || t.starts_with("pub mod ") || t.starts_with("//"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    declared
        .into_iter()
        .filter(|c| {
            body.match_indices(&format!("{c}::"))
                .any(|(i, _)| i == 0 || !body[..i].ends_with(|ch: char| ch.is_alphanumeric() || ch == '_' || ch == ':'))
        })
        .map(|c| format!("{c}::@"))
        .collect()
}

/// The module a path in `from` (a module path; `is_mod`: the file is a `mod.rs`) refers to.
fn resolve(path: &str, from: &[String], is_mod: bool, known: &BTreeMap<Vec<String>, PathBuf>) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").map(|s| s.split_whitespace().next().unwrap_or("")).collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => Vec::new(),
        Some(&"super") => {
            let mut b = from.to_vec();
            if is_mod {
                b.pop();
            }
            b.pop();
            b
        }
        _ => return None,
    };
    segs.remove(0);
    while segs.first() == Some(&"super") {
        base.pop();
        segs.remove(0);
    }
    let mut best = base.clone();
    for s in segs {
        base.push(s.to_string());
        if known.contains_key(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    Some(best)
}

fn cycle<T: Ord + Clone + std::fmt::Debug>(edges: &BTreeMap<T, BTreeSet<T>>) -> Option<Vec<T>> {
    fn visit<T: Ord + Clone>(
        n: &T,
        edges: &BTreeMap<T, BTreeSet<T>>,
        state: &mut BTreeMap<T, u8>,
        path: &mut Vec<T>,
    ) -> Option<Vec<T>> {
        match state.get(n) {
            Some(1) => {
                let i = path.iter().position(|p| p == n).unwrap_or(0);
                let mut c = path[i..].to_vec();
                c.push(n.clone());
                return Some(c);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.clone(), 1);
        path.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    edges.keys().find_map(|n| visit(n, edges, &mut state, &mut Vec::new()))
}

#[test]
fn no_import_cycles_between_files_or_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    let mut files: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &known {
        let is_mod = path.ends_with("mod.rs") || path.ends_with("lib.rs");
        let text = without_tests(&std::fs::read_to_string(path).unwrap());
        let mut found = paths(&text);
        if is_mod {
            found.extend(
                child_uses(&text)
                    .into_iter()
                    .map(|c| format!("crate::{}", [module.clone(), vec![c]].concat().join("::"))),
            );
        }
        for p in found {
            let Some(target) = resolve(&p, module, is_mod, &known) else { continue };
            // `crate::` paths into a module's own children are its re-exports (structure); its other
            // uses of children come from `child_uses`.
            let reexport = is_mod
                && p.starts_with("crate::")
                && target.len() > module.len()
                && target.starts_with(module)
                && !p.contains("::@");
            if target != *module && !reexport && !target.is_empty() {
                files.entry(module.clone()).or_default().insert(target.clone());
            }
            if let (Some(a), Some(b)) = (module.first(), target.first())
                && a != b
            {
                tops.entry(a.clone()).or_default().insert(b.clone());
            }
        }
    }
    assert!(files.len() > 20, "the scan found too few imports to be working: {files:?}");
    assert_eq!(cycle(&files), None, "files that import each other (each imports the next)");
    assert_eq!(cycle(&tops), None, "top-level modules that import each other");
    // The command line sits on top: nothing imports it.
    let into_cli: Vec<&String> = tops.iter().filter(|(_, to)| to.contains("cli")).map(|(f, _)| f).collect();
    assert!(into_cli.is_empty(), "{into_cli:?} import the command line");
}

#[test]
fn the_scan_sees_cycles() {
    let mut e: BTreeMap<u8, BTreeSet<u8>> = BTreeMap::new();
    e.entry(1).or_default().insert(2);
    e.entry(2).or_default().insert(3);
    assert_eq!(cycle(&e), None);
    e.entry(3).or_default().insert(1);
    assert_eq!(cycle(&e), Some(vec![1, 2, 3, 1]));
    assert_eq!(expand("crate::a::{b, c::{d, e}}"), vec!["crate::a::b", "crate::a::c::d", "crate::a::c::e"]);
}
