//! Which toolchain built a component, from its `producers` custom sections, so that a
//! refusal can name the likely cause and fix for that toolchain (issue 22): a JavaScript
//! component imports `wasi:http` because the engine's `fetch` support was left in — a
//! build flag, not code to remove.

/// The toolchain behind a component, as far as its producers sections tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// `jco componentize` / ComponentizeJS (StarlingMonkey).
    JavaScript,
    /// `componentize-py`.
    Python,
    /// `rustc` (with `wit-bindgen` and `wasm-component-ld`, or `cargo component`).
    Rust,
    /// Something else, named as its producers section names it.
    Other(String),
    /// No producers section.
    Unknown,
}

impl Toolchain {
    /// Read the producers sections of `wasm` (a component and the modules inside it).
    pub fn of(wasm: &[u8]) -> Toolchain {
        let mut names: Vec<String> = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            let Ok(wasmparser::Payload::CustomSection(section)) = payload else {
                continue;
            };
            if let wasmparser::KnownCustom::Producers(reader) = section.as_known() {
                for field in reader.into_iter().flatten() {
                    for value in field.values.into_iter().flatten() {
                        names.push(value.name.to_string());
                    }
                }
            }
        }
        let has = |needle: &str| {
            names
                .iter()
                .any(|name| name.to_ascii_lowercase().contains(needle))
        };
        if has("componentizejs") || has("componentize-js") || has("starlingmonkey") || has("jco") {
            Toolchain::JavaScript
        } else if has("componentize-py") || has("python") {
            Toolchain::Python
        } else if has("rustc") || names.iter().any(|name| name == "Rust") {
            Toolchain::Rust
        } else if let Some(first) = names.first() {
            Toolchain::Other(first.clone())
        } else {
            Toolchain::Unknown
        }
    }

    /// The likely cause and fix of a network import (`wasi:http`, `wasi:sockets`).
    pub fn network_fix(&self) -> &'static str {
        match self {
            Toolchain::JavaScript => {
                "plugins get no network access; for JavaScript the import comes from the engine's fetch support, not your code: rebuild with it disabled (`jco componentize … --disable http`, or componentize-js `--disable http fetch-event`)"
            }
            Toolchain::Python => {
                "plugins get no network access; for Python the import comes from an imported module that opens connections (urllib, http.client, a poll loop): remove that import"
            }
            _ => {
                "plugins get no network access; remove the code (or the crate, e.g. an HTTP client) that opens connections"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with one producers section.
    fn module_with_producers(field: &str, name: &str) -> Vec<u8> {
        let mut payload = Vec::new();
        let push_str = |out: &mut Vec<u8>, s: &str| {
            out.push(s.len() as u8);
            out.extend_from_slice(s.as_bytes());
        };
        push_str(&mut payload, "producers");
        payload.push(1); // one field
        push_str(&mut payload, field);
        payload.push(1); // one value
        push_str(&mut payload, name);
        push_str(&mut payload, "1.0");
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.push(0); // custom section
        wasm.push(payload.len() as u8);
        wasm.extend(payload);
        wasm
    }

    #[test]
    fn the_producers_section_names_the_toolchain() {
        assert_eq!(
            Toolchain::of(&module_with_producers("processed-by", "ComponentizeJS")),
            Toolchain::JavaScript
        );
        assert_eq!(
            Toolchain::of(&module_with_producers("processed-by", "componentize-py")),
            Toolchain::Python
        );
        assert_eq!(
            Toolchain::of(&module_with_producers("processed-by", "rustc")),
            Toolchain::Rust
        );
        assert_eq!(Toolchain::of(b"\0asm\x01\0\0\0"), Toolchain::Unknown);
        assert!(
            Toolchain::JavaScript
                .network_fix()
                .contains("--disable http")
        );
    }
}
