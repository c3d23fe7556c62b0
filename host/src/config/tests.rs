use super::*;
use crate::verdict::{Action, Mode};

#[test]
fn the_embedded_default_enables_every_bundled_plugin() {
    let config = Config::load(None, &["claims", "sla"]).expect("default loads");
    assert_eq!(config.plugins.len(), 2);
    assert!(config.plugins.values().all(|p| p.enabled));
    assert_eq!(
        config.plugins["sla"].source(),
        PluginSource::Bundled("sla".into())
    );
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
}

#[test]
fn a_full_plugin_entry_parses() {
    let config = Config::from_toml(
        r#"
        [actions]
        medium = "block"

        [plugins.claims]
        path = "plugins/claims.wasm"
        sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        mode = "monitor"
        on_error = "review"
        [plugins.claims.limits]
        deadline_ms = 20
        fuel = 0
        [plugins.claims.settings]
        terms = ["最佳"]
        "#,
    )
    .expect("valid");
    let claims = &config.plugins["claims"];
    assert_eq!(claims.mode, Mode::Monitor);
    assert_eq!(claims.on_error, OnError::Review);
    assert_eq!(claims.limits.deadline_ms, 20);
    assert_eq!(claims.limits.memory_mib, Limits::default().memory_mib);
    assert_eq!(claims.settings_json(), r#"{"terms":["最佳"]}"#);
    assert_eq!(config.actions.medium, Action::Block);
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let err = Config::from_toml("[plugins.x]\nbundled = \"x\"\nenabeld = true\n").unwrap_err();
    assert!(err.to_string().contains("enabeld"), "{err}");
}

#[test]
fn a_plugin_without_a_source_is_refused() {
    let err = Config::from_toml("[plugins.x]\nenabled = true\n").unwrap_err();
    assert!(err.to_string().contains("plugins.x.bundled"), "{err}");
}

#[test]
fn a_bad_limit_is_refused_with_its_key() {
    let err =
        Config::from_toml("[plugins.x]\nbundled = \"x\"\n[plugins.x.limits]\ndeadline_ms = 0\n")
            .unwrap_err();
    assert!(
        err.to_string().contains("plugins.x.limits.deadline_ms"),
        "{err}"
    );
}

#[test]
fn a_bad_plugin_name_is_refused() {
    let err = Config::from_toml("[plugins.\"Bad Name\"]\nbundled = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("plugin name"), "{err}");
}

#[test]
fn a_short_pseudonym_key_is_refused() {
    let err = Config::from_toml("[privacy]\npseudonym_key = \"short\"\n").unwrap_err();
    assert!(err.to_string().contains("privacy.pseudonym_key"), "{err}");
}

#[test]
fn the_key_is_not_printed_in_debug_output() {
    let config = Config::from_toml("[privacy]\npseudonym_key = \"0123456789abcdef-secret\"\n")
        .expect("valid");
    assert!(!format!("{config:?}").contains("secret"));
}

#[test]
fn tokens_are_hashes_with_roles_and_mistakes_are_named() {
    let hash = "a".repeat(64);
    let config = Config::from_toml(&format!(
        "[[auth.tokens]]\nname = \"shop\"\nsha256 = \"{hash}\"\nroles = [\"ingest\", \"read\"]\n"
    ))
    .expect("valid");
    assert_eq!(config.auth.tokens[0].roles, [Role::Ingest, Role::Read]);

    let plain = Config::from_toml(
        "[[auth.tokens]]\nname = \"shop\"\nsha256 = \"my-secret\"\nroles = [\"read\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(plain.contains("auth.tokens[0].sha256"), "{plain}");
    let no_roles = Config::from_toml(&format!(
        "[[auth.tokens]]\nname = \"shop\"\nsha256 = \"{hash}\"\nroles = []\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(no_roles.contains("auth.tokens[0].roles"), "{no_roles}");
    let bad_role = Config::from_toml(&format!(
        "[[auth.tokens]]\nname = \"shop\"\nsha256 = \"{hash}\"\nroles = [\"root\"]\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(bad_role.contains("root"), "{bad_role}");
}

#[test]
fn server_limits_have_defaults_and_are_checked() {
    let config = Config::from_toml("").expect("defaults");
    assert_eq!(config.server.max_batch_events, 10_000);
    assert!(config.server.watch_config);
    let err = Config::from_toml("[server]\nmax_batch_events = 0\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.max_batch_events"), "{err}");
}

#[test]
fn a_cluster_table_is_optional_and_checked_when_present() {
    let alone = Config::from_toml("").expect("no cluster");
    assert_eq!(alone.cluster, None);
    let config = Config::from_toml(
        r#"
        [cluster]
        nats_url = "nats://127.0.0.1:4222"
        node = "node-a"
        "#,
    )
    .expect("a cluster with defaults");
    let cluster = config.cluster.expect("cluster");
    assert_eq!(cluster.partitions, 16);
    assert_eq!(cluster.lease_ms(), Ok(6_000));
    for (text, key) in [
        ("[cluster]\nnode = \"a\"", "cluster.nats_url"),
        (
            "[cluster]\nnats_url = \"nats://x\"\nnode = \"a b\"",
            "cluster.node",
        ),
        (
            "[cluster]\nnats_url = \"nats://x\"\nnode = \"a\"\npartitions = 0",
            "cluster.partitions",
        ),
        (
            "[cluster]\nnats_url = \"nats://x\"\nnode = \"a\"\nlease = \"10ms\"",
            "cluster.lease",
        ),
    ] {
        let err = Config::from_toml(text).expect_err(text).to_string();
        assert!(err.contains(key), "{text}: {err}");
    }
}
