//! The layers, written down once and checked on every `crate::` path in `src/`: a module may
//! use only the modules listed after it. The order is the architecture (README, ARCHITECTURE):
//! nothing imports a layer above it, and two modules can never import each other.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, from the top layer down. A module may import itself and any
/// module after it in this list, never one before it.
const LAYERS_TOP_DOWN: &[&[&str]] = &[
    // The binary's entry: dispatch, the command-line grammar, telemetry start-up.
    &["app", "cli", "telemetry"],
    // Parse flags, call a use case, present the result (tables, JSON, CSV).
    &["commands", "output"],
    // Use cases: one transaction each, audit events beside the change.
    &["service"],
    // Persistence of domain types, both backends.
    &["store"],
    // Pure cores: no database, no clock, no files opened here.
    &[
        "ledger",
        "reconcile",
        "report",
        "risk",
        "audit",
        "evidence",
        "events",
        "alerts",
    ],
    // Foundations every layer shares.
    &[
        "input",
        "metrics",
        "model",
        "clock",
        "money",
        "csv_input",
        "rule_table",
        "cpu_pool",
        "fast_map",
        "text",
        "error",
    ],
];

/// Crate paths that name a `#[macro_export]` macro rather than a module, with its home module.
const MACROS: &[(&str, &str)] = &[("stderr_line", "output")];

/// Pure cores must not reach storage or the async runtime.
const CORE_MODULES: &[&str] = &[
    "ledger",
    "reconcile",
    "report",
    "risk",
    "audit",
    "events",
    "alerts",
];
const CORE_FORBIDDEN: &[&str] = &["sqlx::", "tokio::", "crate::store", "std::net"];

fn order() -> Vec<&'static str> {
    LAYERS_TOP_DOWN
        .iter()
        .flat_map(|layer| layer.iter().copied())
        .collect()
}

fn source_files(directory: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/store/risk.rs` → `store`); `None` for the
/// crate roots, which only declare modules.
fn module_of(source: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(source).expect("under src");
    let first = relative
        .components()
        .next()?
        .as_os_str()
        .to_str()?
        .to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main" | "bin")).then_some(name)
}

/// Code without `//` comments (doc comments mention paths in prose).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier_at(text: &str) -> &str {
    let end = text
        .find(|character: char| !(character.is_ascii_alphanumeric() || character == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first segment of every item in a `{a::b, c, d::{e, f}}` group.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    for (at, character) in group.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 1 => expecting = true,
            c if expecting && depth == 1 && (c.is_ascii_alphabetic() || c == '_') => {
                heads.push(identifier_at(&group[at..]).to_string());
                expecting = false;
            }
            _ => {}
        }
        if depth == 0 && at > 0 {
            break;
        }
    }
    heads
}

/// Every top-level name a file reaches through `crate::`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if rest.starts_with('{') {
            names.extend(group_heads(rest));
        } else {
            names.insert(identifier_at(rest).to_string());
        }
    }
    names
}

fn home_of(name: &str) -> &str {
    MACROS
        .iter()
        .find(|(macro_name, _)| *macro_name == name)
        .map_or(name, |(_, home)| home)
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = order();
    let mut files = Vec::new();
    source_files(&source, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&source, file) else {
            continue;
        };
        let shown = file.strip_prefix(&source).unwrap().display().to_string();
        let Some(rank) = order.iter().position(|name| *name == module) else {
            violations.push(format!(
                "{shown}: module `{module}` is not in LAYERS_TOP_DOWN"
            ));
            continue;
        };
        let code = without_comments(&std::fs::read_to_string(file).expect("read"));
        for name in crate_references(&code) {
            let home = home_of(&name);
            match order.iter().position(|candidate| *candidate == home) {
                Some(used) if used >= rank => {}
                Some(_) => {
                    violations.push(format!("{shown}: `{module}` uses `crate::{name}` above it"))
                }
                None => violations.push(format!("{shown}: `crate::{name}` is not a known module")),
            }
        }
        if CORE_MODULES.contains(&module.as_str()) {
            for forbidden in CORE_FORBIDDEN {
                if code.contains(forbidden) {
                    violations.push(format!("{shown}: pure core `{module}` uses `{forbidden}`"));
                }
            }
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_layered_module_exists() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for name in order() {
        let exists = source.join(format!("{name}.rs")).exists() || source.join(name).is_dir();
        assert!(
            exists,
            "LAYERS_TOP_DOWN names `{name}`, which is not in src/"
        );
    }
}

#[test]
fn the_reference_scanner_reads_groups_and_ignores_comments() {
    let code =
        without_comments("use crate::{a::b, c, d::{e, f}};\n// crate::zzz\nlet x = crate::g::h();");
    let names: Vec<String> = crate_references(&code).into_iter().collect();
    assert_eq!(names, ["a", "c", "d", "g"]);
}

/// The README's layout table names paths that exist, and every top-level module of `src/`
/// has a row (a new module is placed in the layout when it is added).
#[test]
fn the_readme_layout_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let layout = readme
        .split("\n## Layout\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a '## Layout' section");
    let mut named = Vec::new();
    for row in layout.lines().filter(|line| line.starts_with("| `")) {
        let first_cell = row.split('|').nth(1).unwrap_or("");
        for path in first_cell.split('`').skip(1).step_by(2) {
            named.push(path.to_string());
        }
    }
    assert!(named.len() > 10, "layout rows found: {named:?}");
    for path in &named {
        // `migrations/{sqlite,postgres}/` names two folders.
        for expanded in expand_braces(path) {
            assert!(
                exists(root, &expanded),
                "README layout names `{expanded}`, which does not exist"
            );
        }
    }
    for name in order() {
        let listed = named.iter().any(|path| {
            path == &format!("src/{name}.rs") || path.starts_with(&format!("src/{name}/"))
        });
        assert!(listed, "src/{name} has no row in the README's layout table");
    }
}

/// A path, or a `dir/prefix*suffix` pattern matching at least one file.
fn exists(root: &Path, path: &str) -> bool {
    let Some((before, after)) = path.split_once('*') else {
        return root.join(path).exists();
    };
    let (directory, prefix) = before.rsplit_once('/').unwrap_or(("", before));
    std::fs::read_dir(root.join(directory)).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            name.starts_with(prefix) && name.ends_with(after)
        })
    })
}

fn expand_braces(path: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (path.find('{'), path.find('}')) else {
        return vec![path.to_string()];
    };
    path[open + 1..close]
        .split(',')
        .map(|choice| format!("{}{choice}{}", &path[..open], &path[close + 1..]))
        .collect()
}
