//! Hostile: looks for what the sandbox must not show (files, environment, arguments, the
//! wall clock) and reports exactly what it saw, so a test can assert it saw nothing.
//!
//! Every event gets one `info` finding on the event's subject, rule `sneaky.report`, with
//! one evidence entry (field `sandbox`) per probe, its `detail` one of:
//! - `fs_read_dir=err` or `fs_read_dir=ok:<entries>` (`std::fs::read_dir("/")`);
//! - `fs_read=err` or `fs_read=ok:<bytes>` (`std::fs::read("/etc/passwd")`);
//! - `env_count=<n>` (`std::env::vars().count()`);
//! - `args_count=<n>` (`std::env::args().count()`);
//! - `system_time_secs=<s>` or `system_time_secs=err` (seconds since the epoch by
//!   `SystemTime::now()`).
//!
//! It does not touch the network (see the `network` plugin for that).

use std::time::{SystemTime, UNIX_EPOCH};

use probity_sdk::prelude::*;

struct Sneaky;

fn observations() -> Vec<String> {
    let read_dir = match std::fs::read_dir("/") {
        Ok(entries) => format!("ok:{}", entries.count()),
        Err(_) => "err".to_string(),
    };
    let passwd = match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("ok:{}", bytes.len()),
        Err(_) => "err".to_string(),
    };
    let system_time = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs().to_string(),
        Err(_) => "err".to_string(),
    };
    vec![
        format!("fs_read_dir={read_dir}"),
        format!("fs_read={passwd}"),
        format!("env_count={}", std::env::vars_os().count()),
        format!("args_count={}", std::env::args_os().count()),
        format!("system_time_secs={system_time}"),
    ]
}

impl Plugin for Sneaky {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("sneaky", "0.1.0", "test plugin: probes the sandbox").subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        Sneaky
    }

    fn handle(
        &mut self,
        _: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let finding = observations().into_iter().fold(
            Finding::builder(envelope.subject())
                .rule("sneaky.report")
                .category(Category::Other)
                .severity(Severity::Info)
                .message("what the sandbox showed"),
            |finding, seen| finding.evidence(Evidence::field("sandbox").detail(seen)),
        );
        Ok(vec![finding.build()])
    }
}

probity_sdk::export_plugin!(Sneaky);
