//! The test harness follows the host's semantics: clock, timers, TTL, rollback, quotas.
//!
//! The plugin under test runs a small script taken from the listing title, so each test
//! states what the plugin does next to what it expects. Commands, separated by `;`:
//! `set KEY VALUE [TTL]`, `get KEY`, `del KEY`, `incr KEY DELTA [TTL]`, `schedule KEY DUE`,
//! `cancel KEY`, `fail`. `get` and `incr` report a finding with rule `get`/`incr` whose
//! message is the value (or `absent`); refused writes report rule `refused` with the
//! error's name. A fired timer reports rule `timer.KEY` and runs its payload as a script
//! (written after `schedule KEY DUE`, with `,` between its commands).

use probity_sdk::prelude::*;
use probity_sdk::testing::{self, Harness, Limits, Outcome};

struct Scripted;

impl Plugin for Scripted {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("scripted", "0.1.0", "runs the script in the listing title")
            .subscribe(EventType::ListingUpserted)
    }

    fn new(_: NoSettings) -> Self {
        Scripted
    }

    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        match &envelope.event {
            Event::ListingUpserted(listing) => run(ctx, &listing.title),
            _ => Ok(vec![]),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context, timer: Timer) -> Result<Vec<Finding>, PluginError> {
        let mut findings = vec![report(
            &format!("timer.{}", timer.key),
            &timer.due.to_string(),
        )];
        let script = timer.payload_str().unwrap_or_default().replace(',', ";");
        findings.extend(run(ctx, &script)?);
        Ok(findings)
    }
}

fn report(rule: &str, message: &str) -> Finding {
    Finding::builder(Subject::listing("L"))
        .rule(rule)
        .message(message)
        .build()
}

fn run(ctx: &mut Context, script: &str) -> Result<Vec<Finding>, PluginError> {
    let mut findings = Vec::new();
    for command in script.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let words: Vec<&str> = command.split(' ').collect();
        let ttl = |i: usize| words.get(i).map(|t| t.parse::<u64>().unwrap());
        match words[0] {
            "set" => {
                if let Err(err) = ctx.state().set(words[1], words[2].as_bytes(), ttl(3)) {
                    findings.push(report("refused", err.name()));
                }
            }
            "get" => {
                let value = ctx.state().get(words[1]);
                let text = value.map_or("absent".to_string(), |v| String::from_utf8(v).unwrap());
                findings.push(report("get", &text));
            }
            "del" => {
                let was = ctx.state().delete(words[1]);
                findings.push(report("del", &was.to_string()));
            }
            "incr" => match ctx
                .state()
                .increment(words[1], words[2].parse().unwrap(), ttl(3))
            {
                Ok(value) => findings.push(report("incr", &value.to_string())),
                Err(err) => findings.push(report("refused", err.name())),
            },
            "schedule" => {
                let payload = words[3..].join(" ");
                if let Err(err) =
                    ctx.timers()
                        .schedule(words[1], words[2].parse().unwrap(), payload.as_bytes())
                {
                    findings.push(report("refused", err.name()));
                }
            }
            "cancel" => {
                let was = ctx.timers().cancel(words[1]);
                findings.push(report("cancel", &was.to_string()));
            }
            "fail" => return Err(PluginError::new("scripted", "asked to fail")),
            other => panic!("unknown command {other}"),
        }
    }
    Ok(findings)
}

fn harness() -> Harness<Scripted> {
    Harness::new("{}").unwrap()
}

/// A listing event at `at` whose plugin runs `script`.
fn script(at: Timestamp, script: &str) -> Envelope {
    testing::listing("L", "S", script).at(at)
}

fn messages(outcome: &Outcome) -> Vec<String> {
    outcome
        .findings()
        .iter()
        .map(|f| format!("{}={}", f.rule, f.message))
        .collect()
}

#[test]
fn timers_fire_after_the_event_in_due_then_key_order() {
    let mut h = harness();
    let out = h.handle(script(
        100,
        "schedule b 50; schedule a 50; schedule c 10; schedule later 101",
    ));
    assert_eq!(out.event_findings(), &[]);
    let fired: Vec<&str> = out.timers.iter().map(|r| r.timer.key.as_str()).collect();
    assert_eq!(fired, ["c", "a", "b"]);
    assert_eq!(h.pending_timers().len(), 1);
    assert_eq!(h.pending_timers()[0].key, "later");
}

#[test]
fn a_timer_fires_once_the_clock_reaches_its_due_time() {
    let mut h = harness();
    let _ = h.handle(script(0, "schedule t 1000"));
    assert!(h.advance_clock(999).timers.is_empty());
    let out = h.advance_clock(1000);
    assert_eq!(messages(&out), ["timer.t=1000"]);
    assert!(h.pending_timers().is_empty());
}

#[test]
fn a_timer_scheduled_by_a_timer_and_already_due_fires_in_the_same_round() {
    let mut h = harness();
    let out = h.handle(script(100, "schedule first 10 schedule second 20"));
    assert_eq!(messages(&out), ["timer.first=10", "timer.second=20"]);
}

#[test]
fn cancelling_or_rescheduling_a_timer_changes_what_fires() {
    let mut h = harness();
    let out = h.handle(script(0, "schedule a 10; schedule b 10; schedule a 30"));
    assert!(out.timers.is_empty());
    let out = h.handle(script(5, "cancel b; cancel b"));
    assert_eq!(messages(&out), ["cancel=true", "cancel=false"]);
    assert_eq!(messages(&h.advance_clock(100)), ["timer.a=30"]);
}

#[test]
fn the_clock_never_goes_backwards() {
    let mut h = harness();
    let _ = h.handle(script(1000, ""));
    let _ = h.handle(script(10, "schedule t 500"));
    assert_eq!(h.now(), 1000);
    // Scheduled by a late event, but already due at the clock: it fires right away.
    assert_eq!(h.pending_timers(), vec![]);
}

#[test]
fn state_entries_expire_in_event_time() {
    let mut h = harness();
    let _ = h.handle(script(1000, "set k v 500"));
    assert_eq!(messages(&h.handle(script(1499, "get k"))), ["get=v"]);
    assert_eq!(messages(&h.handle(script(1500, "get k"))), ["get=absent"]);
    assert_eq!(h.state_entries(), vec![]);
    assert_eq!(
        h.state_bytes(),
        0,
        "expired entries no longer count against the quota"
    );
}

#[test]
fn expired_entries_count_against_the_quota_until_removed_after_the_event() {
    let mut h = harness().with_limits(Limits {
        state_quota_bytes: 20,
        ..Limits::default()
    });
    let _ = h.handle(script(0, "set k1 12345678 10"));
    let out = h.handle(script(10, "get k1; set k2 12345678; set k3 12345678"));
    assert_eq!(messages(&out), ["get=absent", "refused=quota-exceeded"]);
    assert_eq!(h.state_bytes(), 10, "k1 was removed after the event");
}

#[test]
fn setting_without_ttl_clears_an_earlier_expiry() {
    let mut h = harness();
    let _ = h.handle(script(0, "set k v 10; set k w"));
    assert_eq!(messages(&h.handle(script(100, "get k"))), ["get=w"]);
}

#[test]
fn increment_counts_from_zero_and_keeps_the_expiry_unless_given_one() {
    let mut h = harness();
    let out = h.handle(script(0, "incr c 2 100; incr c -5"));
    assert_eq!(messages(&out), ["incr=2", "incr=-3"]);
    assert_eq!(h.state_get("c"), Some((-3i64).to_le_bytes().to_vec()));
    assert_eq!(
        messages(&h.handle(script(100, "incr c 1"))),
        ["incr=1"],
        "the counter expired at 100"
    );
    let out = h.handle(script(100, "set text abc; incr text 1"));
    assert_eq!(messages(&out), ["refused=not-a-counter"]);
}

#[test]
fn increment_wraps_on_overflow() {
    let mut h = harness();
    let out = h.handle(script(0, &format!("incr c {}; incr c 1", i64::MAX)));
    assert_eq!(
        messages(&out),
        [format!("incr={}", i64::MAX), format!("incr={}", i64::MIN)]
    );
}

#[test]
fn a_failed_event_call_leaves_no_state_or_timer_change() {
    let mut h = harness();
    let _ = h.handle(script(0, "set kept 1; schedule kept 1000"));
    let out = h.handle(script(
        1,
        "set kept 2; set new 1; del kept; cancel kept; schedule new 2000; fail",
    ));
    assert_eq!(out.errors()[0].code, "scripted");
    assert_eq!(
        h.state_entries(),
        vec![StateEntry {
            key: "kept".into(),
            value: b"1".to_vec()
        }]
    );
    let timers: Vec<String> = h.pending_timers().into_iter().map(|t| t.key).collect();
    assert_eq!(timers, ["kept"]);
}

#[test]
fn a_failed_timer_call_is_rolled_back_but_the_timer_is_consumed() {
    let mut h = harness();
    let out = h.handle(script(100, "schedule t 50 set written 1, fail"));
    assert_eq!(out.timers.len(), 1);
    assert!(out.timers[0].result.is_err());
    assert_eq!(h.state_get("written"), None);
    assert!(h.pending_timers().is_empty());
}

#[test]
fn the_event_timers_still_fire_when_the_event_call_fails() {
    let mut h = harness();
    let _ = h.handle(script(0, "schedule t 10"));
    let out = h.handle(script(20, "fail"));
    assert!(matches!(out.event, Some(Err(_))));
    assert_eq!(out.rules(), ["timer.t"]);
}

#[test]
fn the_plugin_is_built_once_and_again_after_a_failed_call() {
    let mut h = harness();
    assert_eq!(h.instances_built(), 0, "built lazily, not at load");
    let _ = h.handle(script(0, ""));
    let _ = h.handle(script(0, ""));
    assert_eq!(h.instances_built(), 1);
    let _ = h.handle(script(0, "fail"));
    let _ = h.handle(script(0, ""));
    assert_eq!(h.instances_built(), 2);
}

#[test]
fn the_state_quota_counts_keys_and_values() {
    let mut h = harness().with_limits(Limits {
        state_quota_bytes: 20,
        ..Limits::default()
    });
    // "k1" + 8 bytes = 10, "k2" + 8 bytes = 10: exactly at the quota.
    let out = h.handle(script(0, "set k1 12345678; set k2 12345678; set k3 1"));
    assert_eq!(messages(&out), ["refused=quota-exceeded"]);
    assert_eq!(h.state_bytes(), 20);
    // Shrinking is always allowed, and frees room.
    let out = h.handle(script(0, "set k2 1; set k3 1"));
    assert!(out.findings().is_empty());
    assert_eq!(h.state_bytes(), 10 + 3 + 3);
    let out = h.handle(script(0, "incr k4 1"));
    assert_eq!(messages(&out), ["refused=quota-exceeded"]);
}

#[test]
fn the_timers_quota_counts_pending_timers_and_rescheduling_is_free() {
    let mut h = harness().with_limits(Limits {
        timers_quota: 2,
        ..Limits::default()
    });
    let out = h.handle(script(
        0,
        "schedule a 10; schedule b 20; schedule a 15; schedule c 5",
    ));
    assert_eq!(messages(&out), ["refused=quota-exceeded"]);
    let out = h.handle(script(0, "cancel b; schedule c 5"));
    assert_eq!(messages(&out), ["cancel=true"]);
}

#[test]
fn bad_keys_and_oversized_values_are_refused() {
    let mut h = harness();
    let long_key = "k".repeat(513);
    let big = "x".repeat(64 * 1024 + 1);
    let out = h.handle(script(
        0,
        &format!("set {long_key} v; incr {long_key} 1; schedule {long_key} 5; set k {big}"),
    ));
    assert_eq!(
        messages(&out),
        [
            "refused=bad-key",
            "refused=bad-key",
            "refused=bad-key",
            "refused=value-too-large"
        ]
    );
    let max_key = "k".repeat(512);
    let out = h.handle(script(
        0,
        &format!("set {max_key} {}", "x".repeat(64 * 1024)),
    ));
    assert!(out.findings().is_empty());
}

#[test]
fn oversized_timer_payloads_are_refused() {
    let mut h = harness();
    let out = h.handle(script(
        0,
        &format!("schedule t 5 {}", "x".repeat(16 * 1024 + 1)),
    ));
    assert_eq!(messages(&out), ["refused=payload-too-large"]);
}

#[test]
fn scan_prefix_returns_live_entries_in_key_order_up_to_the_limit() {
    struct Scan;
    impl Plugin for Scan {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("scan", "0.1.0", "scans").subscribe_all()
        }
        fn new(_: NoSettings) -> Self {
            Scan
        }
        fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            for key in ["x:3", "x:1", "y:1", "x:2", "w"] {
                ctx.state().set(key, key.as_bytes(), None)?;
            }
            ctx.state().set("x:0", b"expired", Some(0))?;
            let keys = |entries: Vec<StateEntry>| {
                entries
                    .into_iter()
                    .map(|e| e.key)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let all = keys(ctx.state().scan_prefix("x:", 10));
            let two = keys(ctx.state().scan_prefix("x:", 2));
            Ok(vec![report("scan", &format!("{all}|{two}"))])
        }
    }
    let mut h = Harness::<Scan>::new("{}").unwrap();
    let out = h.handle(testing::order_paid("O"));
    assert_eq!(out.event_findings()[0].message, "x:1,x:2,x:3|x:1,x:2");
}

#[test]
fn events_the_manifest_does_not_subscribe_to_are_not_delivered() {
    let mut h = harness();
    let _ = h.handle(script(0, "schedule t 10"));
    let out = h.handle(testing::order_paid("O-1").at(50));
    assert_eq!(out.event, None);
    assert_eq!(
        out.rules(),
        ["timer.t"],
        "but the clock moves and timers fire"
    );
}

#[test]
fn json_helpers_round_trip_and_report_bad_data() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Seen {
        count: u32,
    }
    struct Json;
    impl Plugin for Json {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("json", "0.1.0", "json").subscribe(EventType::OrderPaid)
        }
        fn new(_: NoSettings) -> Self {
            Json
        }
        fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            let seen = ctx
                .state()
                .get_json::<Seen>("seen")?
                .unwrap_or(Seen { count: 0 });
            ctx.state().set_json(
                "seen",
                &Seen {
                    count: seen.count + 1,
                },
                None,
            )?;
            ctx.timers().schedule_json("t", 0, &seen)?;
            ctx.state().set("bad", b"not json", None)?;
            Ok(vec![])
        }
        fn on_timer(
            &mut self,
            ctx: &mut Context,
            timer: Timer,
        ) -> Result<Vec<Finding>, PluginError> {
            let seen: Seen = timer.payload_json()?;
            ctx.info(&format!("timer saw {}", seen.count));
            ctx.state().get_json::<Seen>("bad")?;
            Ok(vec![])
        }
    }
    let mut h = Harness::<Json>::new("{}").unwrap();
    let out = h.handle(testing::order_paid("O"));
    assert_eq!(out.errors()[0].code, "bad_state");
    let _ = h.handle(testing::order_paid("O"));
    assert_eq!(h.state_get("seen"), Some(br#"{"count":2}"#.to_vec()));
    let logged: Vec<&str> = h.logs().iter().map(|l| l.message.as_str()).collect();
    assert_eq!(logged, ["timer saw 0", "timer saw 1"]);
}

#[test]
fn a_plugin_rescheduling_into_the_past_is_cut_off_after_ten_thousand_timers_per_event() {
    struct Forever;
    impl Plugin for Forever {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("forever", "0.1.0", "reschedules itself").subscribe(EventType::OrderPaid)
        }
        fn new(_: NoSettings) -> Self {
            Forever
        }
        fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            let now = ctx.now();
            ctx.timers().schedule("t", now, b"")?;
            Ok(vec![])
        }
        fn on_timer(&mut self, ctx: &mut Context, _: Timer) -> Result<Vec<Finding>, PluginError> {
            let now = ctx.now();
            ctx.timers().schedule("t", now, b"")?;
            Ok(vec![])
        }
    }
    let mut h = Harness::<Forever>::new("{}").unwrap();
    let out = h.handle(testing::order_paid("O"));
    assert_eq!(out.timers.len(), testing::MAX_TIMER_FIRES_PER_EVENT);
    assert_eq!(
        h.pending_timers().len(),
        1,
        "the rest fire after the next event"
    );
}

#[test]
fn a_call_keeps_at_most_32_log_lines() {
    struct Verbose;
    impl Plugin for Verbose {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("verbose", "0.1.0", "logs a lot").subscribe(EventType::OrderPaid)
        }
        fn new(_: NoSettings) -> Self {
            Verbose
        }
        fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            for i in 0..40 {
                ctx.debug(&format!("line {i}"));
            }
            Ok(vec![])
        }
    }
    let mut h = Harness::<Verbose>::new("{}").unwrap();
    let _ = h.handle(testing::order_paid("O"));
    let _ = h.handle(testing::order_paid("O"));
    assert_eq!(h.logs().len(), 64, "the cap is per call");
    assert_eq!(h.logs()[31].message, "line 31");
    assert_eq!(h.dropped_log_lines(), 16);
}

/// Returns the findings its settings describe: `{"rule": "...", "count": n}`.
struct Emitter {
    rule: String,
    count: usize,
}

#[derive(serde::Deserialize, Default)]
struct EmitterSettings {
    rule: String,
    count: usize,
}

impl Plugin for Emitter {
    type Settings = EmitterSettings;
    fn manifest() -> Manifest {
        Manifest::new("emitter", "0.1.0", "emits findings").subscribe(EventType::OrderPaid)
    }
    fn new(settings: EmitterSettings) -> Self {
        Emitter {
            rule: settings.rule,
            count: settings.count,
        }
    }
    fn handle(
        &mut self,
        ctx: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        ctx.state().set("written", b"1", None)?;
        let finding = Finding::builder(envelope.subject())
            .rule(&self.rule)
            .message("m")
            .build();
        Ok(vec![finding; self.count])
    }
}

#[test]
fn output_the_host_would_refuse_fails_the_call() {
    let mut h = Harness::<Emitter>::new(r#"{"rule": "Not A Rule", "count": 1}"#).unwrap();
    let out = h.handle(testing::order_paid("O"));
    let err = out.errors()[0];
    assert_eq!(err.code, "invalid_output");
    assert!(
        err.message.starts_with("finding 0: rule `Not A Rule`"),
        "{}",
        err.message
    );
    assert_eq!(
        h.state_get("written"),
        None,
        "the call's writes are rolled back"
    );
}

#[test]
fn too_many_findings_or_too_much_output_fails_the_call() {
    let mut h = Harness::<Emitter>::new(r#"{"rule": "r", "count": 1001}"#).unwrap();
    assert_eq!(
        h.handle(testing::order_paid("O")).errors()[0].code,
        "invalid_output"
    );
    let mut h = Harness::<Emitter>::new(r#"{"rule": "r", "count": 10}"#)
        .unwrap()
        .with_limits(Limits {
            output_bytes: 100,
            ..Limits::default()
        });
    let err = h.handle(testing::order_paid("O")).errors()[0].clone();
    assert!(
        err.message.contains("exceed the output limit of 100 bytes"),
        "{}",
        err.message
    );
}

#[test]
fn log_lines_are_cut_to_one_kibibyte() {
    struct Chatty;
    impl Plugin for Chatty {
        type Settings = NoSettings;
        fn manifest() -> Manifest {
            Manifest::new("chatty", "0.1.0", "logs").subscribe(EventType::OrderPaid)
        }
        fn new(_: NoSettings) -> Self {
            Chatty
        }
        fn handle(&mut self, ctx: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
            ctx.warn(&"é".repeat(1000));
            Ok(vec![])
        }
    }
    let mut h = Harness::<Chatty>::new("{}").unwrap();
    let _ = h.handle(testing::order_paid("O"));
    let line = &h.take_logs()[0];
    assert_eq!(line.level, LogLevel::Warn);
    assert_eq!(line.message.len(), 1024);
    assert!(h.logs().is_empty());
}
