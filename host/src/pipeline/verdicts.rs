//! Verdicts being changed by one unit: loaded from the store on first use, changed by
//! the unit's findings, and handed to its batch.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::PluginSet;
use crate::model::subject::{Subject, SubjectType};
use crate::model::time::Timestamp;
use crate::rating::FactWrites;
use crate::store::{Store, StoreError, WriteBatch};
use crate::verdict::{Finding, Verdict};

/// What a plugin call does to verdicts, in call order.
pub(super) enum VerdictStep {
    /// The plugin succeeded: its earlier `plugin_error` findings on the event's primary
    /// subject no longer hold.
    ClearErrors(String),
    /// A finding on a subject.
    Apply(Subject, Finding),
}

/// Verdicts being changed by one unit, loaded from the store on first use.
pub(super) struct VerdictWork<'a> {
    store: &'a dyn Store,
    pub(super) verdicts: BTreeMap<Subject, Verdict>,
    changed: Vec<Subject>,
    history: Vec<(Subject, Finding)>,
}

impl<'a> VerdictWork<'a> {
    pub(super) fn new(store: &'a dyn Store) -> Self {
        VerdictWork {
            store,
            verdicts: BTreeMap::new(),
            changed: Vec::new(),
            history: Vec::new(),
        }
    }

    pub(super) fn verdict(
        &mut self,
        subject: &Subject,
        at: Timestamp,
    ) -> Result<&mut Verdict, StoreError> {
        match self.verdicts.entry(subject.clone()) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let verdict = match self.store.verdict(subject)? {
                    Some(verdict) => verdict,
                    None => {
                        mark_changed(&mut self.changed, subject);
                        let mut verdict = Verdict::clean(subject.clone(), at);
                        if subject.kind == SubjectType::Seller {
                            verdict.seller_id = Some(subject.id.clone());
                        }
                        verdict
                    }
                };
                Ok(entry.insert(verdict))
            }
        }
    }

    /// Make sure `subject` has a verdict, and record the seller it belongs to when the
    /// event names one and the verdict does not know it yet.
    pub(super) fn touch(
        &mut self,
        subject: &Subject,
        seller: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let verdict = self.verdict(subject, at)?;
        if let Some(seller) = seller
            && verdict.seller_id.is_none()
        {
            verdict.seller_id = Some(seller.to_string());
            mark_changed(&mut self.changed, subject);
        }
        Ok(())
    }

    pub(super) fn apply(
        &mut self,
        finding: Finding,
        subject: Subject,
        plugins: &PluginSet,
    ) -> Result<(), StoreError> {
        let at = finding.at;
        let mapping = *plugins.mapping();
        let changed = self.verdict(&subject, at)?.apply(finding.clone(), &mapping);
        if changed {
            mark_changed(&mut self.changed, &subject);
        }
        if changed {
            // A finding that repeats the current one is not history.
            self.history.push((subject, finding));
        }
        Ok(())
    }

    /// A successful call of `plugin` on an event about `subject`: its earlier
    /// `plugin_error` findings there no longer hold.
    /// Apply the plugin calls' steps in order; `primary` is the subject a successful
    /// call clears its earlier `plugin_error` findings on.
    pub(super) fn apply_steps(
        &mut self,
        steps: Vec<VerdictStep>,
        primary: &Subject,
        at: Timestamp,
        plugins: &PluginSet,
    ) -> Result<(), StoreError> {
        for step in steps {
            match step {
                VerdictStep::ClearErrors(plugin) => {
                    self.clear_plugin_errors(primary, &plugin, at, plugins)?
                }
                VerdictStep::Apply(subject, finding) => self.apply(finding, subject, plugins)?,
            }
        }
        Ok(())
    }

    pub(super) fn clear_plugin_errors(
        &mut self,
        subject: &Subject,
        plugin: &str,
        at: Timestamp,
        plugins: &PluginSet,
    ) -> Result<(), StoreError> {
        let mapping = *plugins.mapping();
        if self
            .verdict(subject, at)?
            .clear_plugin_errors(plugin, &mapping)
        {
            mark_changed(&mut self.changed, subject);
        }
        Ok(())
    }

    /// The rating facts of this unit's new findings ([`crate::rating::facts`]): each on
    /// the seller its subject belongs to, when that is known.
    pub(super) fn record_facts(&self, facts: &mut FactWrites) -> Result<(), StoreError> {
        let read = |ns: &str, key: &str| Ok(self.store.state_get(ns, key)?.map(|v| v.bytes));
        for (subject, finding) in &self.history {
            let seller = match subject.kind {
                SubjectType::Seller => Some(subject.id.as_str()),
                _ => self
                    .verdicts
                    .get(subject)
                    .and_then(|v| v.seller_id.as_deref()),
            };
            if let Some(seller) = seller {
                facts.of_finding(seller, subject, finding, &read)?;
            }
        }
        Ok(())
    }

    /// Move the changed verdicts and history into `batch`; returns the changed verdicts.
    pub(super) fn finish(
        self,
        batch: &mut WriteBatch,
    ) -> (Vec<Verdict>, BTreeMap<Subject, Verdict>) {
        let changed: Vec<Verdict> = self
            .changed
            .iter()
            .filter_map(|subject| self.verdicts.get(subject).cloned())
            .collect();
        batch.verdicts.extend(changed.iter().cloned());
        batch.history.extend(self.history);
        (changed, self.verdicts)
    }
}

fn mark_changed(changed: &mut Vec<Subject>, subject: &Subject) {
    if !changed.contains(subject) {
        changed.push(subject.clone());
    }
}
