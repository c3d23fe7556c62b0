//! Following the partition leases: take a partition over when this node gains its lease,
//! stop when it loses it, and hand it back — after stopping — when another live node
//! should own it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Division;
use crate::cluster::changelog::ChangeLog;
use crate::cluster::ownership::Membership;

/// How long a takeover waits for this node to apply the changelog up to its fence, and
/// a hand-back for the thread to stop.
const SETTLE_WAIT: Duration = Duration::from_secs(10);

/// The partitions this node evaluates, by the epoch it took each in.
pub type Taken = BTreeMap<u32, u64>;

/// After a lease round: make the partition threads do what the leases say.
pub async fn follow(
    division: &Division,
    changelog: &ChangeLog,
    changes_applied: &watch::Sender<u64>,
    membership: &mut Membership,
    taken: &mut Taken,
) {
    let held: BTreeMap<u32, Instant> = membership.held_until().into_iter().collect();
    let lost: Vec<u32> = taken
        .keys()
        .copied()
        .filter(|p| !held.contains_key(p))
        .collect();
    for partition in lost {
        tracing::warn!(
            partition,
            "lost the partition's lease; no longer evaluating it"
        );
        division.release(partition);
        taken.remove(&partition);
    }
    let handing_back = membership.handing_back();
    for &partition in &handing_back {
        division.release(partition);
        taken.remove(&partition);
        let stopped = wait_until(SETTLE_WAIT, || division.role(partition).active() == 0).await;
        if !stopped {
            tracing::warn!(
                partition,
                "the partition's thread has not stopped yet; handing back later"
            );
            continue;
        }
        division.flushed().await;
        match membership.hand_back(partition).await {
            Ok(()) => tracing::info!(
                partition,
                "handed the partition back to the node that should own it"
            ),
            Err(err) => tracing::warn!(partition, error = %err, "handing a partition back failed"),
        }
    }
    for (partition, until) in held {
        if handing_back.contains(&partition) {
            continue;
        }
        if let Some(&epoch) = taken.get(&partition)
            && division.epoch(partition) > epoch
        {
            // Another node fenced the partition after this one took it (a lease it
            // claimed while this node's looked valid here): this node's units since are
            // ignored everywhere. Fence again, and publish them again under that fence.
            tracing::warn!(
                partition,
                epoch,
                newer = division.epoch(partition),
                "another node fenced a partition this node holds; fencing it again"
            );
            metrics::counter!("probity_cluster_refences_total").increment(1);
            taken.remove(&partition);
        }
        match taken.get(&partition) {
            Some(&epoch) => division.want(partition, epoch, until),
            None => match take_over(division, changelog, changes_applied, partition).await {
                Ok(epoch) => {
                    taken.insert(partition, epoch);
                    division.want(partition, epoch, until);
                }
                Err(err) => {
                    tracing::warn!(partition, error = %err, "taking the partition over failed; trying again next round")
                }
            },
        }
    }
}

/// Fence `partition` in the changelog and wait until this node has applied everything up
/// to the fence; its epoch.
async fn take_over(
    division: &Division,
    changelog: &ChangeLog,
    changes_applied: &watch::Sender<u64>,
    partition: u32,
) -> Result<u64, String> {
    // What this node published of the partition earlier must come before the fence.
    division.flushed().await;
    let (id, payload) = division.fence_message();
    let stored = changelog
        .start_publish(partition, &id, (division.run(), "fence"), payload)
        .await
        .map_err(|err| err.to_string())?
        .await
        .map_err(|err| err.to_string())?;
    let fence = stored.sequence;
    let mut applied = changes_applied.subscribe();
    let reached = tokio::time::timeout(SETTLE_WAIT, applied.wait_for(|at| *at >= fence)).await;
    if !matches!(reached, Ok(Ok(_))) {
        return Err(format!(
            "this node has not applied the changelog up to its fence (sequence {fence}) within {}s",
            SETTLE_WAIT.as_secs()
        ));
    }
    let epoch = division.epoch(partition);
    if epoch != fence {
        return Err(format!(
            "another node fenced the partition after this one (sequence {epoch} > {fence})"
        ));
    }
    // This node's units another fence made void come first, under this fence.
    let republished = division.republish(partition, epoch);
    if republished > 0 {
        tracing::warn!(
            partition,
            epoch,
            messages = republished,
            "published again the units another node's fence had made void"
        );
    }
    tracing::info!(partition, epoch, "fenced the partition; taking it over");
    Ok(epoch)
}

async fn wait_until(wait: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = tokio::time::Instant::now() + wait;
    while !done() {
        if tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}
