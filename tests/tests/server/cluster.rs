//! Partition ownership on a real NATS JetStream server (issue 19): three nodes share the
//! partitions with exactly one owner each; a node that dies loses its partitions to the
//! others within the lease bound, never while its own lease could still be valid; a node
//! that comes back gets its share again.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use probity::cluster::ownership::{Membership, Settings, preferred_owner};
use probity_e2e::nats::NatsServer;

const PARTITIONS: u32 = 8;
const LEASE: Duration = Duration::from_millis(3000);
const RENEW: Duration = Duration::from_millis(500);

fn settings(node: &str) -> Settings {
    Settings {
        node: node.to_string(),
        partitions: PARTITIONS,
        lease: LEASE,
        renew_every: RENEW,
        replicas: 1,
    }
}

async fn join(url: &str, node: &str) -> Membership {
    let client = async_nats_connect(url).await;
    Membership::join(client, settings(node))
        .await
        .expect("join")
}

async fn async_nats_connect(url: &str) -> probity::cluster::Client {
    probity::cluster::connect(url).await.expect("connect")
}

/// No partition is held by two nodes at once.
fn assert_one_owner(nodes: &[&Membership]) {
    let mut seen = BTreeSet::new();
    for node in nodes {
        for p in node.held() {
            assert!(seen.insert(p), "partition {p} held twice: {nodes:?}");
        }
    }
}

/// Whether every partition is held, each by its preferred live node.
fn settled(nodes: &[&Membership]) -> bool {
    let live: BTreeSet<String> = nodes.iter().map(|n| n.view().node.clone()).collect();
    (0..PARTITIONS).all(|p| {
        let want = preferred_owner(&live, p);
        nodes
            .iter()
            .any(|n| Some(n.view().node.as_str()) == want && n.held().contains(&p))
    })
}

/// Rounds of all three nodes at once until every partition is with its preferred node,
/// checking after each that no partition has two owners.
async fn rounds_until_settled(a: &mut Membership, b: &mut Membership, c: &mut Membership) {
    let started = Instant::now();
    loop {
        let (ra, rb, rc) = tokio::join!(a.round(), b.round(), c.round());
        ra.expect("a");
        rb.expect("b");
        rc.expect("c");
        assert_one_owner(&[a, b, c]);
        if settled(&[a, b, c]) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never settled: {a:?} {b:?} {c:?}"
        );
        tokio::time::sleep(RENEW).await;
    }
}

#[test]
fn partitions_have_one_owner_and_move_when_a_node_dies_and_comes_back() {
    let nats = NatsServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let url = nats.url();
        let (mut a, mut b, mut c) = (
            join(&url, "a").await,
            join(&url, "b").await,
            join(&url, "c").await,
        );
        // Three nodes settle on the rendezvous owners.
        rounds_until_settled(&mut a, &mut b, &mut c).await;
        for node in [&a, &b, &c] {
            assert!(!node.held().is_empty(), "{node:?} owns nothing");
        }
        // c dies without a word: its leases expire, a and b take them over.
        let c_partitions = c.held();
        let c_last_round = Instant::now();
        c.round().await.expect("c's last round");
        drop(c);
        let valid_until = c_last_round + LEASE - LEASE / 4;
        loop {
            let (ra, rb) = tokio::join!(a.round(), b.round());
            ra.expect("a");
            rb.expect("b");
            assert_one_owner(&[&a, &b]);
            let taken: Vec<u32> = c_partitions
                .iter()
                .copied()
                .filter(|p| a.held().contains(p) || b.held().contains(p))
                .collect();
            assert!(
                taken.is_empty() || Instant::now() >= valid_until,
                "{taken:?} taken while c's lease could still be valid"
            );
            if taken.len() == c_partitions.len() {
                break;
            }
            // The bound is lease + one renewal; the slack is for a loaded 2-core CI
            // machine running other tests at the same time.
            assert!(
                c_last_round.elapsed() < LEASE + RENEW + Duration::from_secs(10),
                "takeover too slow: {a:?} {b:?}"
            );
            tokio::time::sleep(RENEW).await;
        }
        let takeover = c_last_round.elapsed();
        println!(
            "takeover of {} partitions: {takeover:?} (lease {LEASE:?})",
            c_partitions.len()
        );
        // Its share stays with a and b while c's announcement expires too.
        tokio::time::sleep(LEASE).await;
        // c comes back and gets its share again, one partition at a time.
        let mut c = join(&url, "c").await;
        rounds_until_settled(&mut a, &mut b, &mut c).await;
        assert_eq!(c.held(), c_partitions, "c gets its share back");
        assert!(a.view().owner_changes > 0 && c.view().nodes.len() == 3);
        // A clean leave hands everything back at once.
        c.leave().await.expect("leave");
    });
}

/// The cluster's event log (issue 19): an event is stored in its partition's subject,
/// a re-sent event id is a duplicate with the first copy's sequence, and what JetStream
/// acknowledged survives a SIGKILL of the NATS server.
#[test]
fn the_event_stream_stores_de_duplicates_and_survives_a_nats_restart() {
    use probity::cluster::log::EventStream;
    let mut nats = NatsServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = nats.url();
    let first = runtime.block_on(async {
        let log = EventStream::open(async_nats_connect(&url).await, "test", 1, std::time::Duration::from_secs(120))
            .await
            .expect("open");
        let a = log.append(3, "e-1", "{\"n\":1}".into()).await.expect("e-1");
        let b = log.append(5, "e-2", "{\"n\":2}".into()).await.expect("e-2");
        let again = log
            .append(3, "e-1", "{\"n\":1}".into())
            .await
            .expect("e-1 again");
        assert!(!a.duplicate && !b.duplicate && b.sequence == a.sequence + 1);
        assert!(again.duplicate, "{again:?}");
        assert_eq!(again.sequence, a.sequence);
        assert_eq!(log.stored_events().await.expect("stored events"), 2);
        a
    });
    nats.restart();
    runtime.block_on(async {
        let log = EventStream::open(async_nats_connect(&url).await, "test", 1, std::time::Duration::from_secs(120))
            .await
            .expect("reopen");
        assert_eq!(log.stored_events().await.expect("stored events"), 2);
        let (partition, json) = log.read(first.sequence).await.expect("read");
        assert_eq!((partition, json.as_ref()), (3, b"{\"n\":1}".as_ref()));
        // The duplicate window outlives the restart too.
        let again = log.append(3, "e-1", "{\"n\":1}".into()).await.expect("e-1");
        assert!(again.duplicate);
    });
}
