//! Complaints: the seller must answer within `complaint.hours` of
//! `complaint.opened`, under `c␟{complaint}`.
//!
//! `complaint.responded` meets the deadline; `complaint.resolved` before the deadline
//! voids it (the platform closed the matter), after it the breach stands. A response or
//! resolution seen before the opening is remembered and applied when it arrives.

use probity_sdk::prelude::*;
use serde::{Deserialize, Serialize};

use crate::deadline::{Deadline, Duty, Owner};
use crate::run::Run;
use crate::settings::DAY_MS;

/// The prefix of answer timers.
pub const ANSWER_TIMER: &str = "answer\u{1f}";
/// How long a complaint is remembered after its deadline is settled or falls due.
const CLOSED_TTL_MS: i64 = 30 * DAY_MS;

/// What the plugin knows of a complaint.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ComplaintSla {
    /// The seller.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    /// The answer deadline.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// The first response seen.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub responded: Option<i64>,
    /// The resolution seen.
    #[serde(rename = "z", default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<i64>,
}

fn key(id: &str) -> String {
    format!("c\u{1f}{id}")
}

fn owner<'o>(id: &str, seller: Option<&'o str>) -> Owner<'o> {
    Owner {
        duty: Duty::Answer,
        subject: Subject::complaint(id),
        name: format!("complaint {id}"),
        seller,
        timer: format!("{ANSWER_TIMER}{id}"),
    }
}

impl Run<'_, '_> {
    fn complaint(&mut self, id: &str) -> ComplaintSla {
        self.ctx.read_json(&key(id)).unwrap_or_default()
    }

    fn save_complaint(&mut self, id: &str, complaint: &ComplaintSla) -> Result<(), PluginError> {
        let open = complaint
            .deadline
            .as_ref()
            .filter(|d| !d.settled())
            .map(|d| d.due);
        let ttl = self.ttl_past(open, CLOSED_TTL_MS);
        self.put(&key(id), complaint, ttl)
    }

    /// `complaint.opened`.
    pub fn opened(&mut self, opened: &ComplaintOpened, at: i64) -> Result<(), PluginError> {
        let Some(length) = self.cfg.complaint_ms else {
            return Ok(());
        };
        let id = opened.complaint_id.as_str();
        let mut complaint = self.complaint(id);
        if complaint.deadline.is_some() {
            return Ok(());
        }
        complaint.seller = Some(opened.seller_id.clone());
        let mut deadline = Deadline::new(at, at + length);
        let owner = owner(id, Some(&opened.seller_id));
        if let Some(responded) = complaint.responded {
            self.fulfil(&owner, &mut deadline, responded);
        } else if let Some(resolved) = complaint.resolved {
            self.void(&owner, &mut deadline, resolved);
        } else {
            self.arm(&owner, &deadline);
        }
        complaint.deadline = Some(deadline);
        self.save_complaint(id, &complaint)
    }

    /// `complaint.responded` or `complaint.resolved` at `at`.
    pub fn answered(&mut self, id: &str, at: i64, resolution: bool) -> Result<(), PluginError> {
        let mut complaint = self.complaint(id);
        let seen = if resolution {
            &mut complaint.resolved
        } else {
            &mut complaint.responded
        };
        *seen = Some(seen.map_or(at, |s| s.min(at)));
        let seller = complaint.seller.clone();
        if let Some(deadline) = complaint.deadline.as_mut() {
            let owner = owner(id, seller.as_deref());
            if resolution {
                self.void(&owner, deadline, at);
            } else {
                self.fulfil(&owner, deadline, at);
            }
        }
        self.save_complaint(id, &complaint)
    }

    /// An answer timer fired.
    pub fn complaint_timer(&mut self, timer: &Timer) -> Result<(), PluginError> {
        let Some(id) = timer.key.strip_prefix(ANSWER_TIMER) else {
            return Ok(());
        };
        let now = self.ctx.now();
        let mut complaint = self.complaint(id);
        let seller = complaint.seller.clone();
        if let Some(deadline) = complaint.deadline.as_mut() {
            self.overdue(&owner(id, seller.as_deref()), deadline, now);
            return self.save_complaint(id, &complaint);
        }
        Ok(())
    }
}
