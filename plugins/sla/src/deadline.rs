//! One deadline, whatever it is for: how it is met, voided, found overdue by a timer,
//! and what each of those reports.
//!
//! A deadline's timer is due one millisecond after the deadline, so an event at exactly
//! the deadline is on time and the breach is only reported once event time has *passed*
//! it. When it fires with nothing having happened, the breach is reported at the severity
//! its lateness has reached, and the next timer is set for the next severity step, so a
//! deadline that stays missed escalates. When the awaited event finally arrives, the
//! finding is re-reported with the real lateness (same rule, so it replaces the earlier
//! one); if the event turns out to have happened in time and only *arrived* late, the
//! breach is withdrawn with an `info` finding that says so.
//!
//! The seller's record counts each deadline once, when it is decided, and corrects
//! itself when a breach is withdrawn.

use probity_sdk::prelude::*;
use probity_sdk::time::minutes;
use serde::{Deserialize, Serialize};

use crate::run::Run;
use crate::settings::HOUR_MS;

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// Ship a paid order.
    Ship,
    /// Answer a complaint.
    Answer,
    /// Complete a refund.
    Refund,
}

impl Duty {
    /// The rule id of its breach.
    pub fn rule(self) -> &'static str {
        match self {
            Duty::Ship => "sla.ship_late",
            Duty::Answer => "sla.complaint_unanswered",
            Duty::Refund => "sla.refund_late",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Duty::Ship => "shipped",
            Duty::Answer => "answered",
            Duty::Refund => "refunded",
        }
    }

    fn not_done(self) -> &'static str {
        match self {
            Duty::Ship => "has not shipped",
            Duty::Answer => "has no answer",
            Duty::Refund => "is not refunded",
        }
    }
}

/// A deadline's state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Deadline {
    /// When the clock started (payment, opening, request).
    #[serde(rename = "s")]
    pub start: i64,
    /// The deadline.
    #[serde(rename = "d")]
    pub due: i64,
    /// When the awaited event happened.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub met: Option<i64>,
    /// Whether it no longer applies (cancelled, refunded, resolved in time).
    #[serde(rename = "v", default)]
    pub void: bool,
    /// The severity step of the breach reported, if one is live.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<u8>,
    /// How it counts in the seller's record: `Some(true)` a breach, `Some(false)` met.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<bool>,
}

impl Deadline {
    /// A deadline at `due` for a clock started at `start`.
    pub fn new(start: i64, due: i64) -> Self {
        Deadline {
            start,
            due,
            ..Deadline::default()
        }
    }

    /// Whether nothing more can happen to it.
    pub fn settled(&self) -> bool {
        self.void || self.met.is_some()
    }
}

/// What a deadline belongs to, for reports.
pub struct Owner<'k> {
    /// What it is for.
    pub duty: Duty,
    /// The subject findings go to.
    pub subject: Subject,
    /// How a message names it: "order O-1", "refund F-1 of order O-1".
    pub name: String,
    /// The seller, when known (for the record).
    pub seller: Option<&'k str>,
    /// Its timer's key.
    pub timer: String,
}

/// "30 h" or "2 d 6 h" or "25 min".
pub fn lateness(ms: i64) -> String {
    let hours = ms / HOUR_MS;
    match hours {
        0 => format!("{} min", (ms / 60_000).max(1)),
        1..=48 => format!("{hours} h"),
        _ if hours % 24 == 0 => format!("{} d", hours / 24),
        _ => format!("{} d {} h", hours / 24, hours % 24),
    }
}

impl Run<'_, '_> {
    /// Set the timer of a deadline that is not settled.
    pub fn arm(&mut self, owner: &Owner<'_>, deadline: &Deadline) {
        if deadline.settled() {
            return;
        }
        // Before any report, just past the deadline; after one, at the next severity step
        // (none after the last).
        let after = match deadline.reported {
            None => 0,
            Some(step) => match self.cfg.next_step(usize::from(step)) {
                Some(from) => from,
                None => return,
            },
        };
        let due = deadline.due + after + 1;
        if let Err(err) = self.ctx.timers().schedule(&owner.timer, due, &[]) {
            self.ctx
                .warn(&format!("cannot set a deadline's timer: {err:?}"));
        }
    }

    /// The awaited event happened at `at`.
    pub fn fulfil(&mut self, owner: &Owner<'_>, deadline: &mut Deadline, at: i64) {
        if deadline.met.is_some_and(|met| met <= at) {
            return;
        }
        deadline.met = Some(at);
        self.ctx.timers().cancel(&owner.timer);
        if deadline.void {
            return;
        }
        if at <= deadline.due {
            if deadline.reported.take().is_some() {
                let message = format!(
                    "cleared: {} was {} on time at {} (deadline {}); the event arrived after the deadline had passed",
                    owner.name,
                    owner.duty.done(),
                    minutes(at),
                    minutes(deadline.due)
                );
                self.report(owner, Severity::Info, message, deadline, at);
            }
            self.count(owner, deadline, Some(false));
            return;
        }
        let late = at - deadline.due;
        let (step, severity) = self.cfg.step(late);
        deadline.reported = Some(step as u8);
        let message = format!(
            "{} was {} {} after its deadline {}",
            owner.name,
            owner.duty.done(),
            lateness(late),
            minutes(deadline.due)
        );
        self.report(owner, severity, message, deadline, at);
        self.count(owner, deadline, Some(true));
    }

    /// The deadline's timer fired at event time `now`.
    pub fn overdue(&mut self, owner: &Owner<'_>, deadline: &mut Deadline, now: i64) {
        if deadline.settled() || now <= deadline.due {
            return;
        }
        let late = now - deadline.due;
        let (step, severity) = self.cfg.step(late);
        if deadline
            .reported
            .is_none_or(|reported| usize::from(reported) < step)
        {
            deadline.reported = Some(step as u8);
            let message = format!(
                "{} {}: {} past its deadline {}",
                owner.name,
                owner.duty.not_done(),
                lateness(late),
                minutes(deadline.due)
            );
            self.report(owner, severity, message, deadline, now);
        }
        self.count(owner, deadline, Some(true));
        self.arm(owner, deadline);
    }

    /// The deadline stopped applying at `at` (an order cancelled or refunded, a
    /// complaint resolved). Before the deadline that is no breach; after it the breach
    /// stands.
    pub fn void(&mut self, owner: &Owner<'_>, deadline: &mut Deadline, at: i64) {
        if deadline.settled() {
            return;
        }
        self.ctx.timers().cancel(&owner.timer);
        if at <= deadline.due {
            deadline.void = true;
            if deadline.reported.take().is_some() {
                let message = format!(
                    "cleared: {} no longer had to be {}: it was closed at {}, before its deadline {}",
                    owner.name,
                    owner.duty.done(),
                    minutes(at),
                    minutes(deadline.due)
                );
                self.report(owner, Severity::Info, message, deadline, at);
            }
            self.count(owner, deadline, None);
            return;
        }
        if deadline.reported.is_none() {
            self.overdue(owner, deadline, at);
        }
        deadline.void = true;
        self.ctx.timers().cancel(&owner.timer);
    }

    fn report(
        &mut self,
        owner: &Owner<'_>,
        severity: Severity,
        message: String,
        deadline: &Deadline,
        at: i64,
    ) {
        let detail = format!(
            "started {}, deadline {} ({}), {} {}",
            minutes(deadline.start),
            minutes(deadline.due),
            lateness(deadline.due - deadline.start),
            if deadline.met.is_some() {
                owner.duty.done()
            } else {
                "still open at"
            },
            minutes(deadline.met.unwrap_or(at)),
        );
        let finding = Finding::builder(owner.subject.clone())
            .rule(owner.duty.rule())
            .category(Category::SlaBreach)
            .severity(severity)
            .message(message)
            .evidence(Evidence::field("occurred_at").detail(detail))
            .build();
        self.findings.push(finding);
    }

    /// Make the seller's record count this deadline as `now` (a breach, met, or not at
    /// all), correcting what it counted before.
    fn count(&mut self, owner: &Owner<'_>, deadline: &mut Deadline, now: Option<bool>) {
        if deadline.counted == now {
            return;
        }
        let before = deadline.counted;
        deadline.counted = now;
        if let Some(seller) = owner.seller {
            let deadlines = i32::from(now.is_some()) - i32::from(before.is_some());
            let breaches = i32::from(now == Some(true)) - i32::from(before == Some(true));
            self.record(seller, deadline.due, deadlines, breaches);
        }
    }
}
