//! The two tasks of a divided cluster node: one publishes this node's changelog
//! messages, in order; one applies every node's.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use super::{Division, Outgoing};
use crate::cluster::changelog::ChangeLog;
use crate::cluster::log::PendingAppend;

/// Most messages on their way to JetStream at once.
const IN_FLIGHT: usize = 256;

/// Most changelog messages applied as one blocking batch.
const APPLY_BATCH: usize = 256;

/// Publish what the partition threads queue, in order, for ever. A message JetStream
/// did not store is published again, with every one after it (their ids make a copy
/// that did arrive harmless), after a second.
pub async fn run_publisher(
    changelog: ChangeLog,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    division: Arc<Division>,
) {
    let mut unsent: VecDeque<Outgoing> = VecDeque::new();
    loop {
        if unsent.is_empty() {
            match queue.recv().await {
                Some(message) => unsent.push_back(message),
                None => return,
            }
        }
        while unsent.len() < IN_FLIGHT {
            match queue.try_recv() {
                Ok(message) => unsent.push_back(message),
                Err(_) => break,
            }
        }
        let mut pending: Vec<PendingAppend> = Vec::with_capacity(unsent.len());
        let mut failed = false;
        for message in &unsent {
            match changelog
                .start_publish(
                    message.partition,
                    &message.id,
                    (division.run(), message.kind),
                    message.payload.clone(),
                )
                .await
            {
                Ok(ack) => pending.push(ack),
                Err(err) => {
                    tracing::warn!(error = %err, "publishing to the changelog failed; trying again in a second");
                    failed = true;
                    break;
                }
            }
        }
        let mut stored = 0usize;
        for ack in pending {
            match ack.await {
                Ok(_) => stored += 1,
                Err(err) => {
                    tracing::warn!(error = %err, "the changelog did not store a message; trying again in a second");
                    failed = true;
                    break;
                }
            }
        }
        unsent.drain(..stored);
        division.note_stored(stored as u64);
        if failed {
            metrics::counter!("probity_cluster_publish_failures_total").increment(1);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Apply the changelog from its beginning, for ever; `applied` says how far. A unit is
/// applied only once this node's sequencer has routed its item (`routed` says how far):
/// what the owner computed after an item must not reach this node's store before the
/// item itself does (a reviewer's decision, applied by every node between two items,
/// would otherwise see a later state). A failure starts the follow again after the last
/// message applied, a second later.
pub async fn run_applier(
    changelog: ChangeLog,
    division: Arc<Division>,
    applied: watch::Sender<u64>,
    routed: watch::Receiver<u64>,
) {
    loop {
        let from = *applied.borrow() + 1;
        let result = apply_from(&changelog, &division, &applied, routed.clone(), from).await;
        if let Err(err) = result {
            metrics::counter!("probity_cluster_follow_restarts_total").increment(1);
            tracing::warn!(error = %err, applied = *applied.borrow(), "applying the changelog stopped; starting again in a second");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn apply_from(
    changelog: &ChangeLog,
    division: &Arc<Division>,
    applied: &watch::Sender<u64>,
    mut routed: watch::Receiver<u64>,
    from: u64,
) -> Result<(), String> {
    let mut messages = changelog
        .follow(from)
        .await
        .map_err(|err| err.to_string())?;
    loop {
        let Some(first) = messages.next().await else {
            return Err("the changelog's consumer ended".into());
        };
        let mut batch = vec![first.map_err(|err| err.to_string())?];
        let mut error = None;
        while batch.len() < APPLY_BATCH {
            match futures_util::FutureExt::now_or_never(messages.next()) {
                Some(Some(Ok(message))) => batch.push(message),
                Some(Some(Err(err))) => {
                    error = Some(err.to_string());
                    break;
                }
                Some(None) | None => break,
            }
        }
        let decoded: Vec<_> = batch.iter().map(|m| division.decode(m)).collect();
        // Wait until this node routed every item the batch's units are for.
        let needed = decoded
            .iter()
            .filter_map(|d| d.as_ref().and_then(|d| d.position()))
            .max()
            .unwrap_or(0);
        if *routed.borrow() < needed {
            metrics::counter!("probity_cluster_changelog_waits_total").increment(1);
            routed
                .wait_for(|at| *at >= needed)
                .await
                .map_err(|_| "the node is stopping".to_string())?;
        }
        let last = batch.last().map_or(0, |m| m.sequence);
        let division = division.clone();
        let done = tokio::task::spawn_blocking(move || -> Result<(), String> {
            for message in decoded.into_iter().flatten() {
                division
                    .apply(message)
                    .map_err(|err| format!("applying the changelog: {err}"))?;
            }
            Ok(())
        })
        .await
        .map_err(|err| err.to_string())?;
        done?;
        applied.send_replace(last);
        metrics::gauge!("probity_cluster_changelog_applied").set(last as f64);
        if let Some(error) = error {
            return Err(error);
        }
    }
}
