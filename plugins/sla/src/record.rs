//! The seller's rolling record: deadlines decided and breached per day, over the last
//! `seller.window_days`, under `s␟{seller}`.
//!
//! Each deadline counts once, on the day it fell due, when it is decided (met, or found
//! breached). When the breach rate over the window rises above `max_breach_rate` (with
//! at least `min_deadlines` decided) the seller gets `sla.seller_record`; when it falls
//! back, the finding is cleared with an `info` one. While a seller is flagged, a daily
//! timer re-reads the record so that old breaches leaving the window clear it even if
//! nothing else happens.

use probity_sdk::prelude::*;
use probity_sdk::time::minutes;
use serde::{Deserialize, Serialize};

use crate::run::Run;
use crate::settings::DAY_MS;

/// The rule on a seller's record.
pub const RULE: &str = "sla.seller_record";
/// The prefix of the daily re-check timers.
pub const TIMER_PREFIX: &str = "record\u{1f}";

/// A seller's record.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SellerRecord {
    /// `(day, deadlines decided, breaches)`, ascending by day.
    pub days: Vec<(i64, u32, u32)>,
    /// Whether the seller is flagged now.
    pub flagged: bool,
}

fn key(seller: &str) -> String {
    format!("s\u{1f}{seller}")
}

impl Run<'_, '_> {
    /// Change the counts of the day of `due` at `seller` by the deltas, then re-judge.
    pub fn record(&mut self, seller: &str, due: i64, deadlines: i32, breaches: i32) {
        let Some(rule) = self.cfg.seller else { return };
        let key = key(seller);
        let mut record: SellerRecord = self.ctx.read_json(&key).unwrap_or_default();
        let day = due.div_euclid(DAY_MS);
        let slot = match record.days.iter().position(|(d, _, _)| *d == day) {
            Some(i) => i,
            None => {
                record.days.push((day, 0, 0));
                record.days.sort_unstable();
                record
                    .days
                    .iter()
                    .position(|(d, _, _)| *d == day)
                    .unwrap_or(0)
            }
        };
        let (_, decided, breached) = &mut record.days[slot];
        *decided = decided.saturating_add_signed(deadlines);
        *breached = breached.saturating_add_signed(breaches);
        self.judge(seller, &key, record, rule.window_days);
    }

    /// The daily re-check of a flagged seller.
    pub fn recheck(&mut self, timer: &Timer) {
        let Some(rule) = self.cfg.seller else { return };
        let Some(seller) = timer.key.strip_prefix(TIMER_PREFIX) else {
            return;
        };
        let key = key(seller);
        if let Some(record) = self.ctx.read_json::<SellerRecord>(&key) {
            self.judge(seller, &key, record, rule.window_days);
        }
    }

    fn judge(&mut self, seller: &str, key: &str, mut record: SellerRecord, window_days: i64) {
        let Some(rule) = self.cfg.seller else { return };
        let now = self.ctx.now();
        let today = now.div_euclid(DAY_MS);
        record.days.retain(|(day, _, _)| *day > today - window_days);
        let decided: u32 = record.days.iter().map(|(_, d, _)| d).sum();
        let breached: u32 = record.days.iter().map(|(_, _, b)| b).sum();
        let rate = f64::from(breached) / f64::from(decided.max(1));
        let flagged = decided >= rule.min_deadlines && rate > rule.max_rate;
        let what = format!(
            "{breached} of {decided} deadlines missed ({:.1} %) in the {window_days} days to {} (flagged above {:.1} % with at least {} decided)",
            rate * 100.0,
            minutes(now),
            rule.max_rate * 100.0,
            rule.min_deadlines
        );
        let was_flagged = record.flagged;
        if flagged != record.flagged {
            let (severity, message) = if flagged {
                (
                    rule.severity,
                    format!("seller {seller} misses its service deadlines: {what}"),
                )
            } else {
                (
                    Severity::Info,
                    format!(
                        "cleared: seller {seller} is back within its service deadlines: {what}"
                    ),
                )
            };
            let finding = Finding::builder(Subject::seller(seller))
                .rule(RULE)
                .category(Category::SlaBreach)
                .severity(severity)
                .message(message)
                .evidence(Evidence::field("seller_id").detail(what))
                .build();
            self.findings.push(finding);
            record.flagged = flagged;
        }
        let timer = format!("{TIMER_PREFIX}{seller}");
        // The re-check timer exists exactly while the seller is flagged.
        if record.flagged {
            if let Err(err) = self.ctx.timers().schedule(&timer, now + DAY_MS, &[]) {
                self.ctx
                    .warn(&format!("cannot set a seller's re-check: {err:?}"));
            }
        } else if was_flagged {
            self.ctx.timers().cancel(&timer);
        }
        let ttl = (window_days + 1) * DAY_MS;
        if let Err(err) = self.put(key, &record, ttl) {
            self.ctx
                .warn(&format!("cannot store a seller's record: {}", err.message));
        }
    }
}
