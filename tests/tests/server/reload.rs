//! `probity serve` configuration reloads: through `POST /v1/admin/reload`, a change of
//! the file, and SIGHUP; broken configurations refused with the running one kept; every
//! attempt in the audit trail.

use std::time::Duration;

use probity_e2e::server::{Client, ConfigText, Reply, Server, listing, sha256_hex, wait_for};
use probity_e2e::test_plugin;
use serde_json::{Value, json};

/// The configuration with `word`, not watching its file (reloads only when asked).
fn unwatched(word: &str) -> ConfigText {
    ConfigText::new()
        .server("watch_config = false")
        .word(Some(word))
}

fn reload(c: &Client) -> Reply {
    c.post_empty("/v1/admin/reload")
}

fn audit(c: &Client) -> Vec<Value> {
    let reply = c.get("/v1/admin/audit");
    reply.ok()["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("entries array: {}", reply.text))
        .clone()
}

/// The action on a new listing `id` titled `title` (event time grows with `n`).
fn action_for(c: &Client, n: u32, title: &str) -> Value {
    let id = format!("L-{n}");
    let at = format!("2026-11-01T10:{:02}:{:02}Z", n / 60, n % 60);
    let reply = c.send(&listing(&format!("e-{n}"), &at, &id, "S-1", title));
    reply.ok()["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["subject"]["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no verdict for {id}: {}", reply.text))["action"]
        .clone()
}

fn is_digest(value: &Value) -> bool {
    value.as_str().is_some_and(|d| {
        d.len() == 7 + 64
            && d.starts_with("sha256:")
            && d[7..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn has_change(changes: &Value, plugin: &str, change: &str) -> bool {
    changes.as_array().is_some_and(|all| {
        all.iter()
            .any(|c| c["plugin"] == plugin && c["change"] == change)
    })
}

/// A changed `word` setting applied by `POST /v1/admin/reload` flags the new word (and no
/// longer the old one); the answer and the audit trail show the change and the digests;
/// a second reload with nothing changed applies nothing.
#[test]
fn reload_via_api_applies_a_changed_setting_and_audits_it() {
    let mut server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    assert_eq!(action_for(&c, 1, "banned soap"), "allow");
    assert_eq!(action_for(&c, 2, "forbidden soap"), "block");

    let startup = audit(&c);
    assert_eq!(startup.len(), 1, "{startup:?}");
    let first = &startup[0];
    assert_eq!(first["trigger"], "startup");
    assert_eq!(first["applied"], true);
    assert!(is_digest(&first["config_digest"]), "{first}");
    assert_eq!(first["previous_digest"], Value::Null);
    assert_eq!(first["error"], Value::Null);
    probity_e2e::server::millis(first["at"].as_str().expect("at"));

    server.set_config(&unwatched("banned").render());
    let reply = reload(&c);
    let r = reply.ok();
    assert_eq!(r["applied"], true, "{}", reply.text);
    assert!(is_digest(&r["config_digest"]));
    assert_ne!(r["config_digest"], first["config_digest"]);
    assert!(
        has_change(&r["changes"], "good", "settings"),
        "{}",
        reply.text
    );
    assert!(r["warnings"].is_array(), "{}", reply.text);

    assert_eq!(action_for(&c, 3, "banned soap"), "block");
    assert_eq!(action_for(&c, 4, "forbidden soap"), "allow");
    let v = c.verdict("listing", "L-3");
    assert_eq!(v.ok()["findings"][0]["evidence"][0]["excerpt"], "banned");

    let entries = audit(&c);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let latest = &entries[0];
    assert_eq!(latest["trigger"], "api");
    assert_eq!(latest["applied"], true);
    assert_eq!(latest["config_digest"], r["config_digest"]);
    assert_eq!(latest["previous_digest"], first["config_digest"]);
    assert_eq!(latest["error"], Value::Null);
    assert!(
        has_change(&latest["changes"], "good", "settings"),
        "{latest}"
    );
    assert!(
        latest["seq"].as_u64() > entries[1]["seq"].as_u64(),
        "newest first: {entries:?}"
    );
    probity_e2e::server::millis(latest["at"].as_str().expect("at"));

    let again = reload(&c);
    let a = again.ok();
    assert_eq!(a["applied"], false, "{}", again.text);
    assert_eq!(a["changes"], json!([]));
    assert_eq!(a["config_digest"], r["config_digest"]);

    let limited = c.get("/v1/admin/audit?limit=1");
    let limited = limited.ok()["entries"].as_array().unwrap().clone();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0]["config_digest"], r["config_digest"]);
}

/// A file that is not TOML is refused with `422 config-refused` saying where; the running
/// configuration keeps working and the refusal is audited.
#[test]
fn invalid_toml_is_refused_and_the_running_config_stays() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    let before = c.plugin("good");
    server.write_config("[server\nlisten = \"127.0.0.1:0\"\n[plugins.good]\npath = \n");
    let reply = reload(&c);
    let p = reply.problem(422, "config-refused");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("line"), "says where: {detail}");

    assert_eq!(action_for(&c, 1, "forbidden soap"), "block");
    assert_eq!(c.get("/readyz").ok()["status"], "ready");
    let after = c.plugin("good");
    assert_eq!(after["digest"], before["digest"]);
    assert_eq!(after["enabled"], true);

    let entries = audit(&c);
    let refused = &entries[0];
    assert_eq!(refused["applied"], false, "{entries:?}");
    assert_eq!(refused["trigger"], "api");
    assert!(
        refused["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{refused}"
    );
    assert_eq!(entries.last().unwrap()["trigger"], "startup");
}

/// Configurations that parse but cannot run are refused with a precise reason and leave
/// the running configuration in place: a `word` the plugin rejects (empty), a settings key
/// it does not know, an unknown config key, a missing plugin file and a pinned sha256
/// that does not match.
#[test]
fn configurations_that_cannot_run_are_refused_precisely() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            unwatched("").render(),
            vec!["good", "word", "must not be empty"],
        ),
        (
            unwatched("forbidden")
                .render()
                .replace("word = ", "wrod = "),
            vec!["good", "wrod"],
        ),
        (
            unwatched("forbidden").server("bogus_key = 1").render(),
            vec!["bogus_key"],
        ),
        (
            unwatched("forbidden")
                .render()
                .replace("'{good}'", "'{dir}/no-such-plugin.wasm'"),
            vec!["no-such-plugin.wasm"],
        ),
        (
            unwatched("forbidden")
                .good(&format!("sha256 = \"{}\"", "0".repeat(64)))
                .render(),
            vec!["good", "sha256"],
        ),
    ];
    for (n, (config, words)) in cases.into_iter().enumerate() {
        server.write_config(&config);
        let reply = reload(&c);
        let p = reply.problem(422, "config-refused");
        let detail = p["detail"].as_str().unwrap();
        for word in words {
            assert!(detail.contains(word), "case {n}: `{word}` in `{detail}`");
        }
        let n = u32::try_from(n).unwrap();
        assert_eq!(
            action_for(&c, 10 + n, "forbidden soap"),
            "block",
            "case {n}"
        );
        assert_eq!(action_for(&c, 20 + n, "banned soap"), "allow", "case {n}");
        let latest = &audit(&c)[0];
        assert_eq!(latest["applied"], false, "case {n}: {latest}");
        assert!(latest["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The right pin is accepted.
    let wasm = std::fs::read(test_plugin("good")).expect("good.wasm");
    let pinned = unwatched("forbidden")
        .good(&format!("sha256 = \"{}\"", sha256_hex(&wasm)))
        .render();
    server.write_config(&pinned);
    reload(&c).expect_status(200);
    assert_eq!(action_for(&c, 40, "forbidden soap"), "block");
}

/// Editing the watched configuration file reloads it by itself (trigger `file`); a broken
/// edit is refused the same way and audited.
#[test]
fn editing_the_config_file_reloads_it() {
    let server = Server::start(&ConfigText::new().render());
    let c = server.client();
    assert_eq!(action_for(&c, 1, "banned soap"), "allow");
    server.write_config(&ConfigText::new().word(Some("banned")).render());
    let entry = wait_for(Duration::from_secs(20), || {
        audit(&c)
            .into_iter()
            .find(|e| e["trigger"] == "file" && e["applied"] == true)
    })
    .unwrap_or_else(|| {
        panic!(
            "no file-triggered reload within 20 s: {:?}\n{}",
            audit(&c),
            server.stderr_text()
        )
    });
    assert!(has_change(&entry["changes"], "good", "settings"), "{entry}");
    assert_eq!(action_for(&c, 2, "banned soap"), "block");
    assert_eq!(action_for(&c, 3, "forbidden soap"), "allow");

    server.write_config(&ConfigText::new().word(Some("")).render());
    let refused = wait_for(Duration::from_secs(20), || {
        audit(&c)
            .into_iter()
            .find(|e| e["trigger"] == "file" && e["applied"] == false)
    })
    .unwrap_or_else(|| panic!("no refused file reload within 20 s: {:?}", audit(&c)));
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("word")),
        "{refused}"
    );
    assert_eq!(action_for(&c, 4, "banned soap"), "block");
}

/// A reload reads the watched file, and the watcher sees reads too: that must not start
/// another reload (it did, every 300 ms, before the watcher compared file stamps).
#[test]
fn a_reload_does_not_make_the_watcher_reload_again() {
    let server = Server::start(&ConfigText::new().render());
    let c = server.client();
    reload(&c).ok();
    std::thread::sleep(Duration::from_secs(2));
    let log = server.stderr_text();
    assert_eq!(
        log.matches("configuration file changed").count(),
        0,
        "reloads that read the file were taken for changes:\n{log}"
    );
}

/// SIGHUP reloads the configuration (trigger `signal`).
#[test]
fn sighup_reloads_the_config() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    server.write_config(&unwatched("banned").render());
    server.signal(libc::SIGHUP);
    let entry = wait_for(Duration::from_secs(20), || {
        audit(&c)
            .into_iter()
            .find(|e| e["trigger"] == "signal" && e["applied"] == true)
    })
    .unwrap_or_else(|| {
        panic!(
            "no signal-triggered reload within 20 s: {:?}\n{}",
            audit(&c),
            server.stderr_text()
        )
    });
    assert!(has_change(&entry["changes"], "good", "settings"), "{entry}");
    assert_eq!(action_for(&c, 1, "banned soap"), "block");
    // The process is still the same one and healthy.
    assert_eq!(c.get("/healthz").ok()["status"], "ok");
}

/// Disabling the plugin by reload stops its findings and lists it as disabled with null
/// version, digest and counters; enabling it again brings it back.
#[test]
fn disabling_and_enabling_the_plugin_by_reload() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    assert_eq!(action_for(&c, 1, "forbidden soap"), "block");

    server.write_config(&unwatched("forbidden").good("enabled = false").render());
    let reply = reload(&c);
    assert_eq!(reply.ok()["applied"], true);
    assert!(
        has_change(&reply.body["changes"], "good", "disabled"),
        "{}",
        reply.text
    );
    let good = c.plugin("good");
    assert_eq!(good["enabled"], false, "{good}");
    assert_eq!(good["version"], Value::Null);
    assert_eq!(good["digest"], Value::Null);
    assert_eq!(good["counters"], Value::Null);
    assert_eq!(action_for(&c, 2, "forbidden soap"), "allow");
    assert_eq!(c.verdict("listing", "L-2").ok()["findings"], json!([]));
    // Earlier verdicts stay as they were.
    assert_eq!(c.verdict("listing", "L-1").ok()["action"], "block");

    server.write_config(&unwatched("forbidden").render());
    let reply = reload(&c);
    assert!(
        has_change(&reply.ok()["changes"], "good", "enabled"),
        "{}",
        reply.text
    );
    assert_eq!(c.plugin("good")["enabled"], true);
    assert_eq!(action_for(&c, 3, "forbidden soap"), "block");
}

/// Switching the plugin to monitor mode by reload keeps its findings (`mode: monitor`)
/// but they no longer change the action.
#[test]
fn monitor_mode_by_reload() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    server.write_config(&unwatched("forbidden").good("mode = \"monitor\"").render());
    let reply = reload(&c);
    let change = reply.ok()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ch| ch["plugin"] == "good" && ch["change"] == "mode")
        .unwrap_or_else(|| panic!("a mode change: {}", reply.text))
        .clone();
    assert_eq!(change["from"], "enforce");
    assert_eq!(change["to"], "monitor");
    assert_eq!(c.plugin("good")["mode"], "monitor");
    assert_eq!(action_for(&c, 1, "forbidden soap"), "allow");
    let v = c.verdict("listing", "L-1");
    assert_eq!(v.ok()["findings"][0]["rule"], "good.word");
    assert_eq!(v.body["findings"][0]["mode"], "monitor");
}

/// A plugin added by reload runs on the next event; removed, it no longer does.
#[test]
fn adding_and_removing_a_plugin_by_reload() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    let second = format!(
        "[plugins.second]\npath = '{}'\nlimits = {{ deadline_ms = 10000 }}\n[plugins.second.settings]\nword = \"banned\"\n",
        test_plugin("good").display()
    );
    server.write_config(&unwatched("forbidden").tail(&second).render());
    let reply = reload(&c);
    assert!(
        has_change(&reply.ok()["changes"], "second", "added"),
        "{}",
        reply.text
    );
    assert_eq!(c.plugin("second")["enabled"], true);
    assert_eq!(action_for(&c, 1, "banned soap"), "block");
    assert_eq!(
        c.verdict("listing", "L-1").ok()["findings"][0]["plugin"],
        "second"
    );

    server.write_config(&unwatched("forbidden").render());
    let reply = reload(&c);
    assert!(
        has_change(&reply.ok()["changes"], "second", "removed"),
        "{}",
        reply.text
    );
    assert_eq!(action_for(&c, 2, "banned soap"), "allow");
    let plugins = c.get("/v1/plugins");
    assert!(
        !plugins.ok()["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "second"),
        "{}",
        plugins.text
    );
}

/// Changes of limits, `on_error` and the plugin's source path are each reported by kind.
#[test]
fn limits_on_error_and_source_changes_are_reported() {
    let server = Server::start(&unwatched("forbidden").render());
    let c = server.client();
    let copy = server.dir().join("good-copy.wasm");
    std::fs::copy(test_plugin("good"), &copy).expect("copy good.wasm");
    let changed = unwatched("forbidden")
        .render()
        .replace("deadline_ms = 10000", "deadline_ms = 9000")
        .replace(
            "'{good}'",
            &format!("'{}'\non_error = \"review\"", copy.display()),
        );
    server.write_config(&changed);
    let reply = reload(&c);
    let changes = &reply.ok()["changes"];
    for kind in ["limits", "on_error", "source"] {
        assert!(has_change(changes, "good", kind), "{kind}: {}", reply.text);
    }
    assert!(
        !has_change(changes, "good", "code"),
        "same bytes: {}",
        reply.text
    );
    let good = c.plugin("good");
    assert_eq!(good["on_error"], "review");
    assert_eq!(good["limits"]["deadline_ms"], 9000);
    assert_eq!(action_for(&c, 1, "forbidden soap"), "block");
}

/// A plugin disabled while it has pending timers: the reload says they are kept, and
/// `/v1/plugins` still shows them.
#[test]
fn disabling_a_plugin_with_pending_timers_says_they_are_kept() {
    let mut server = probity_e2e::server::Server::start(
        &probity_e2e::server::ConfigText::new()
            .server("watch_config = false")
            .render(),
    );
    let c = server.client();
    c.send(&probity_e2e::server::order_placed(
        "e-0",
        "2026-11-01T10:00:00Z",
        "O-1",
        "L-1",
        "S-1",
        "B-1",
    ))
    .ok();
    c.send(&probity_e2e::server::order_paid(
        "e-1",
        "2026-11-01T10:00:00Z",
        "O-1",
    ))
    .ok();
    server.set_config(
        &probity_e2e::server::ConfigText::new()
            .server("watch_config = false")
            .good("enabled = false")
            .render(),
    );
    let reply = c.post_empty("/v1/admin/reload");
    let report = reply.ok();
    assert!(
        report["warnings"]
            .to_string()
            .contains("1 pending timer(s): they are kept"),
        "{}",
        reply.text
    );
    let good = c.plugin("good");
    assert_eq!(good["usage"]["timers"], 1, "{good}");
}

/// A reload is a point in the event log: every partition swaps its plugins there, and
/// the log records the configuration's digest between the events before and after it.
#[test]
fn a_reload_is_a_point_in_the_event_log() {
    let mut server = Server::start(&unwatched("forbidden").server("partitions = 3").render());
    let c = server.client();
    assert_eq!(action_for(&c, 1, "banned soap"), "allow");
    server.set_config(&unwatched("banned").server("partitions = 3").render());
    let reply = reload(&c);
    let digest = reply.ok()["config_digest"]
        .as_str()
        .expect("digest")
        .to_string();
    assert_eq!(action_for(&c, 2, "banned soap"), "block");
    server.stop();

    let store = probity::store::SledStore::open(&server.data_dir(), 1 << 20).expect("store");
    let entries: Vec<String> = probity::store::Store::logged_events(&store)
        .map(|item| match item.expect("entry").1 {
            probity::store::LogEntry::Event { event, .. } => event.event_id,
            probity::store::LogEntry::Reload { config_digest } => config_digest,
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(entries, ["e-1", digest.as_str(), "e-2"]);
}
