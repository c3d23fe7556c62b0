//! Keeps the table in `lib.rs` true: every `crate::…` path in a module's source names a
//! module its row lets it use, no module names a library its row forbids, and sled is
//! named nowhere but in `store/sled/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One row of the table: what a module may use and which libraries it must not name.
#[derive(Debug)]
struct Row {
    may_use: BTreeSet<String>,
    must_not_know: Vec<String>,
}

/// The table in `lib.rs`, by module.
fn table(lib: &str) -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | [`") else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let module = cells[0].trim_end_matches("`]").to_string();
        let names = |cell: &str| -> Vec<String> {
            cell.split(',')
                .map(|name| {
                    name.trim()
                        .trim_matches('`')
                        .trim_end_matches(" |")
                        .to_string()
                })
                .filter(|name| !name.is_empty() && name != "—")
                .collect()
        };
        rows.insert(
            module,
            Row {
                may_use: names(cells[2]).into_iter().collect(),
                must_not_know: names(cells[3]),
            },
        );
    }
    rows
}

/// The source files under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `source` without its comments (line comments, which are all this code base uses).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal (a URL) is rare; cutting there only hides
            // code after it on the same line.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file's code names through `crate::`, including inside
/// `use crate::{a::…, b::…}` groups.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split at commas outside nested braces.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    found.insert(ident(item.trim()));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

/// Whether `code` names a path starting with the crate `path` (`sled::`), not a module of
/// ours of that name (`self::sled::`, `store::sled::`).
fn names_crate(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    })
}

/// The names of the libraries a "must not know about" cell stands for.
fn library_paths(name: &str) -> Vec<&'static str> {
    match name {
        "wasmtime" => vec!["wasmtime::", "wasmtime_wasi::"],
        "sled" => vec!["sled::"],
        "HTTP" => vec!["axum::", "hyper::", "hyper_util::", "tower_http::"],
        _ => Vec::new(),
    }
}

#[test]
fn imports_follow_the_table_in_lib_rs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rows = table(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    assert!(rows.len() >= 12, "the table was not found: {rows:?}");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|name| name.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        if ["lib", "main", "layering"].contains(&module.as_str()) {
            continue;
        }
        let Some(row) = rows.get(&module) else {
            broken.push(format!(
                "{}: module `{module}` has no row",
                relative.display()
            ));
            continue;
        };
        let code = code(&std::fs::read_to_string(file).expect("read"));
        for used in crate_modules(&code) {
            if used != module && !row.may_use.contains(&used) {
                broken.push(format!(
                    "{}: `{module}` uses `crate::{used}`, not in its row",
                    relative.display()
                ));
            }
        }
        for library in &row.must_not_know {
            for path in library_paths(library) {
                if names_crate(&code, path) {
                    broken.push(format!(
                        "{}: `{module}` names `{path}` ({library} is in its must-not-know column)",
                        relative.display()
                    ));
                }
            }
        }
        let in_sled_module = relative.starts_with("store/sled");
        if !in_sled_module && names_crate(&code, "sled::") {
            broken.push(format!(
                "{}: names `sled::` outside store/sled/",
                relative.display()
            ));
        }
    }
    // The table itself runs one way: what a row may use is above it.
    let order: Vec<&String> = {
        let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
        let mut order = Vec::new();
        for line in lib.lines() {
            if let Some(row) = line.strip_prefix("//! | [`") {
                let module = row.split('`').next().unwrap_or_default().to_string();
                if let Some((name, _)) = rows.get_key_value(&module) {
                    order.push(name);
                }
            }
        }
        order
    };
    for (index, module) in order.iter().enumerate() {
        for used in &rows[*module].may_use {
            if !order[..index].contains(&used) {
                broken.push(format!(
                    "the row of `{module}` may use `{used}`, which is not above it"
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_parser_sees_grouped_and_plain_paths() {
    let found = crate_modules(
        "use crate::{model::event::Event, store::{Store, StoreError}};\nlet x = crate::pipeline::f();",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["model", "pipeline", "store"]
    );
}
