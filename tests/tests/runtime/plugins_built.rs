//! The build script built every test plugin as a component.

use probity_e2e::{test_plugin, test_plugin_names};

/// `\0asm`, then the component-model version and layer (a core module has 1, 0, 0, 0).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

#[test]
fn every_test_plugin_is_built_as_a_component() {
    let names = test_plugin_names();
    assert!(
        names.len() >= 13,
        "expected all test plugins, found {names:?}"
    );
    for name in names {
        let path = test_plugin(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert!(
            bytes.starts_with(&COMPONENT_HEADER),
            "{} does not start with the component header: {:02x?}",
            path.display(),
            &bytes[..bytes.len().min(8)]
        );
    }
}

#[test]
fn names_with_dashes_map_to_files_with_underscores() {
    assert!(test_plugin("infinite-loop").ends_with("infinite_loop.wasm"));
    assert_eq!(test_plugin("infinite-loop"), test_plugin("infinite_loop"));
}
