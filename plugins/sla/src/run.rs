//! One call's working context, and the state helpers every module uses.

use probity_sdk::prelude::*;
use serde::Serialize;

use crate::settings::Config;

/// One call's context: the host, the settings, the findings so far.
pub struct Run<'a, 'h> {
    /// The host.
    pub ctx: &'a mut Context<'h>,
    /// The settings.
    pub cfg: &'a Config,
    /// Findings so far.
    pub findings: Vec<Finding>,
}

impl<'a, 'h> Run<'a, 'h> {
    /// A run with no findings yet.
    pub fn new(ctx: &'a mut Context<'h>, cfg: &'a Config) -> Self {
        Run {
            ctx,
            cfg,
            findings: Vec::new(),
        }
    }

    /// A time-to-live reaching `after` past the open deadline `due` (past now if none),
    /// plus the last severity step, so a record outlives every timer that needs it.
    pub fn ttl_past(&mut self, due: Option<i64>, after: i64) -> i64 {
        let now = self.ctx.now();
        let last_step = self.cfg.steps.last().map_or(0, |(from, _)| *from);
        due.map_or(0, |due| (due - now).max(0) + last_step) + after
    }

    /// Store `value` under `key` for `ttl_ms` of event time.
    pub fn put<T: Serialize>(
        &mut self,
        key: &str,
        value: &T,
        ttl_ms: i64,
    ) -> Result<(), PluginError> {
        let ttl = u64::try_from(ttl_ms.max(1)).unwrap_or(1);
        self.ctx.state().set_json(key, value, Some(ttl))
    }
}
