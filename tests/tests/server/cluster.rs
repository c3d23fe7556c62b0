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
/// checking after each that no partition has two owners; after each round a node hands
/// back what another node should own, as a node does once its thread stopped.
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
        // A node hands a partition back once it stopped evaluating it (at once here).
        for node in [&mut *a, &mut *b, &mut *c] {
            for partition in node.handing_back() {
                node.hand_back(partition).await.expect("hand back");
            }
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
        let log = EventStream::open(
            async_nats_connect(&url).await,
            "test",
            1,
            std::time::Duration::from_secs(120),
        )
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
        let log = EventStream::open(
            async_nats_connect(&url).await,
            "test",
            1,
            std::time::Duration::from_secs(120),
        )
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

/// A node's configuration: the three bundled plugins and the buyer-keyed
/// `serial-refunds` (whose events go to their buyers' partitions), and `[cluster]` on
/// `url`.
fn node_config(url: &str, node: &str) -> String {
    format!(
        "{}\n[cluster]\nnats_url = \"{url}\"\nnode = \"{node}\"\npartitions = 4\nlease = \"2s\"\nanswer_wait_ms = 60000\n",
        probity_e2e::server::market::four_plugins(2)
    )
}

/// Send one NDJSON batch, to `nodes[first]` or, while that one is down or its stream
/// unavailable, to the next: retried (event ids make that safe) until stored and
/// answered, for at most two minutes.
fn send_until_stored(nodes: &[Option<&probity_e2e::server::Server>], first: usize, body: &str) {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let node = (first + attempt) % nodes.len();
        attempt += 1;
        let Some(server) = nodes[node] else { continue };
        let reply = server.client().try_request(
            "POST",
            "/v1/events",
            &[("content-type", "application/x-ndjson")],
            Some(body.as_bytes()),
        );
        match reply {
            Ok(reply) if reply.status == 200 => {
                assert_eq!(
                    reply.body["rejected"].as_array().map(Vec::len),
                    Some(0),
                    "{}",
                    reply.text
                );
                return;
            }
            Ok(reply) => assert!(
                reply.status == 503,
                "only 503 (stream unavailable) is retried: {} {}",
                reply.status,
                reply.text
            ),
            Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the batch was never stored"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Wait until every node has applied the whole stream, and reflects every partition's
/// owner's work up to its end; the stream's last sequence.
fn wait_until_applied(nodes: &[&probity_e2e::server::Server]) -> u64 {
    let started = Instant::now();
    loop {
        let statuses: Vec<serde_json::Value> = nodes
            .iter()
            .map(|n| n.client().get("/v1/cluster").ok().clone())
            .collect();
        let last = statuses[0]["stream"]["last_sequence"].as_u64().unwrap_or(0);
        if last > 0
            && statuses.iter().all(|s| {
                s["applied"].as_u64() == Some(last) && s["reflected"].as_u64() == Some(last)
            })
        {
            return last;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the nodes never caught up: {statuses:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Issue 19 end to end: three `probity serve` nodes on one NATS JetStream take a
/// generated market in NDJSON batches, each batch to a different node. Midway one node
/// is SIGKILLed while a batch is in flight to it (the batch is re-sent elsewhere) and
/// later restarted; later still the NATS server itself is SIGKILLed and restarted. At
/// the end every node holds exactly the verdicts and histories a single node gives for
/// the same events: nothing acknowledged lost, no finding recorded twice.
#[test]
fn three_nodes_give_one_nodes_verdicts_through_a_node_sigkill_and_a_nats_restart() {
    use probity_e2e::server::Server;
    use probity_e2e::server::market::{
        compare, everything, four_plugins, ratings, send_all, stream,
    };

    let mut nats = NatsServer::start();
    let url = nats.url();
    let events = stream();
    let batches = probity_e2e::server::market::ndjson_batches(&events, 150);
    let (kill_at, restart_at, nats_at) =
        (batches.len() / 3, batches.len() / 2, batches.len() * 2 / 3);
    let a = Server::start(&node_config(&url, "a"));
    let mut b = Server::start(&node_config(&url, "b"));
    let c = Server::start(&node_config(&url, "c"));
    let mut b_down = false;
    for (k, batch) in batches.iter().enumerate() {
        if k == kill_at {
            // A batch in flight to b when it dies: the client re-sends it to a.
            let client = b.client();
            let body = batch.clone();
            let in_flight = std::thread::spawn(move || {
                client.try_request(
                    "POST",
                    "/v1/events",
                    &[("content-type", "application/x-ndjson")],
                    Some(body.as_bytes()),
                )
            });
            std::thread::sleep(Duration::from_millis(40));
            b.kill_9();
            b_down = true;
            let _ = in_flight.join();
        }
        if k == restart_at {
            b.restart();
            b_down = false;
        }
        if k == nats_at {
            nats.restart();
        }
        let nodes = [Some(&a), (!b_down).then_some(&b), Some(&c)];
        send_until_stored(&nodes, k % 3, batch);
    }
    let last = wait_until_applied(&[&a, &b, &c]);
    let by_a = everything(&a.client());
    compare("node b vs node a", &by_a, &everything(&b.client()));
    compare("node c vs node a", &by_a, &everything(&c.client()));

    let single = Server::start(&four_plugins(2));
    send_all(&single.client(), &events);
    compare(
        "the cluster vs a single node",
        &everything(&single.client()),
        &by_a,
    );
    let rated = ratings(&single.client());
    for node in [&a, &b, &c] {
        assert_eq!(
            ratings(&node.client()),
            rated,
            "every node rates as a single node"
        );
    }
    let status = a.client().get("/v1/cluster").ok().clone();
    assert_eq!(
        status["membership"]["nodes"].as_array().map(Vec::len),
        Some(3),
        "{status}"
    );
    let flagged = by_a
        .values()
        .filter(|(v, _)| v["action"] != "allow")
        .count();
    eprintln!(
        "cluster: {} events in {} batches over 3 nodes (b killed at batch {kill_at}, back at {restart_at}; NATS restarted at {nats_at}); stream last sequence {last}; {} subjects ({flagged} flagged), the same on every node and on a single node",
        events.len(),
        batches.len(),
        by_a.len()
    );
}

/// A cluster node of the usual configuration (`good` flags `word`), not watching its file.
fn good_node(url: &str, node: &str, word: &str) -> String {
    format!(
        "{}\n[cluster]\nnats_url = \"{url}\"\nnode = \"{node}\"\npartitions = 4\nlease = \"2s\"\n",
        probity_e2e::server::ConfigText::new()
            .server("watch_config = false")
            .word(Some(word))
            .render()
    )
}

/// The action on listing `L-n` titled `title`, sent to `client`.
fn listing_action(client: &probity_e2e::server::Client, n: u32, title: &str) -> String {
    let id = format!("L-{n}");
    let at = format!("2026-11-01T10:{:02}:{:02}Z", n / 60, n % 60);
    let reply = client.send(&probity_e2e::server::listing(
        &format!("e-{n}"),
        &at,
        &id,
        "S-1",
        title,
    ));
    reply.ok()["verdicts"]
        .as_array()
        .and_then(|all| all.iter().find(|v| v["subject"]["id"] == id.as_str()))
        .and_then(|v| v["action"].as_str())
        .unwrap_or_else(|| panic!("no verdict for {id}: {}", reply.text))
        .to_string()
}

/// A reload on one node changes the plugins of every node at the same point of the event
/// stream: events before it are judged by the old settings everywhere, events after it
/// by the new ones, on the node that was not reloaded too; that node's audit trail shows
/// the change as `cluster`, and after a restart it still runs the cluster's settings,
/// not its own file's. A node with another pseudonym key is refused.
#[test]
fn a_reload_on_one_node_applies_on_every_node_at_the_same_point_of_the_stream() {
    use probity_e2e::server::Server;
    let nats = NatsServer::start();
    let url = nats.url();
    let mut a = Server::start(&good_node(&url, "a", "forbidden"));
    let mut b = Server::start(&good_node(&url, "b", "forbidden"));
    assert_eq!(listing_action(&a.client(), 1, "forbidden soap"), "block");
    assert_eq!(listing_action(&b.client(), 2, "banned soap"), "allow");

    a.set_config(&good_node(&url, "a", "banned"));
    let reply = a.client().post_empty("/v1/admin/reload");
    assert_eq!(reply.ok()["applied"], true, "{}", reply.text);
    // b's file still says `forbidden`; it runs the cluster's `banned` from here on.
    assert_eq!(listing_action(&b.client(), 3, "banned soap"), "block");
    assert_eq!(listing_action(&b.client(), 4, "forbidden soap"), "allow");
    let entries = b.client().get("/v1/admin/audit").ok()["entries"].clone();
    let cluster_entry = entries
        .as_array()
        .and_then(|all| all.iter().find(|e| e["trigger"] == "cluster"))
        .unwrap_or_else(|| panic!("a cluster entry in b's audit trail: {entries}"));
    assert_eq!(cluster_entry["actor"], "a", "{cluster_entry}");
    // A reviewer's decision on a travels the stream too: b applies it at the same point.
    let decided = a
        .client()
        .post_json(
            "/v1/verdicts/listing/L-3/decisions",
            &serde_json::json!({"plugin": "good", "rule": "good.word", "decision": "overturn", "note": "a brand"}),
        )
        .ok()
        .clone();
    assert_eq!(decided["verdict"]["action"], "allow", "{decided}");
    let started = Instant::now();
    while b.client().verdict("listing", "L-3").ok()["action"] != "allow" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "b never applied the decision"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for node in [&a, &b] {
        let exported = node.client().get("/v1/decisions").ok().clone();
        assert_eq!(
            exported["decisions"].as_array().map(Vec::len),
            Some(1),
            "{exported}"
        );
    }
    for n in 1..=4 {
        let id = format!("L-{n}");
        let on_a = a.client().verdict("listing", &id).ok().clone();
        let on_b = b.client().verdict("listing", &id).ok().clone();
        assert_eq!(on_a, on_b, "{id} is judged alike on both nodes");
    }

    b.stop();
    b.restart();
    assert_eq!(listing_action(&b.client(), 5, "banned soap"), "block");

    // A node with another pseudonym key would pseudonymise buyers differently: refused.
    a.stop();
    let other_key = good_node(&url, "c", "banned").replace(
        probity_e2e::server::PSEUDONYM_KEY,
        "another-pseudonym-key-of-32-bytes!!",
    );
    let (status, stderr) = Server::builder(&other_key).run_to_exit(Duration::from_secs(60));
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("pseudonym key is not the cluster's"),
        "{stderr}"
    );
}

/// The owners of every partition as `node` sees them, with their epochs.
fn owners(node: &probity_e2e::server::Server) -> Vec<(u64, String)> {
    let status = node.client().get("/v1/cluster").ok().clone();
    let owners = status["membership"]["owners"].as_array().cloned();
    status["partitions"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(owners.into_iter().flatten())
        .map(|(p, owner)| {
            (
                p["epoch"].as_u64().unwrap_or(0),
                owner.as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Issue 19: partitions move while events for them keep arriving. Two nodes take a
/// generated market in a steady flow of NDJSON batches; midway a third node joins, and
/// the partitions it should own are handed to it — each stopped on its old owner and
/// fenced, caught up and carried on by c — while batches keep coming; later node a is
/// SIGKILLed, and b and c take its partitions over when its leases lapse, again under
/// load. Only a partition's owner runs its plugins; the others apply its changelog. At
/// the end every node has exactly a single node's verdicts, histories and ratings: no
/// finding recorded twice, none lost.
#[test]
fn partitions_move_between_nodes_while_events_for_them_keep_arriving() {
    use probity_e2e::server::Server;
    use probity_e2e::server::market::{compare, everything, ratings, send_all, stream};

    let nats = NatsServer::start();
    let url = nats.url();
    let events = stream();
    let batches = probity_e2e::server::market::ndjson_batches(&events, 100);
    // Eight partitions: c's share on joining is 4, 5 and 7 (rendezvous over a, b, c).
    let config = |node: &str| node_config(&url, node).replace("partitions = 4", "partitions = 8");
    let mut a = Server::start(&config("a"));
    let b = Server::start(&config("b"));
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let wait_for = |count: usize| {
        while sent.load(std::sync::atomic::Ordering::SeqCst) < count {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let (join_at, kill_at) = (batches.len() / 4, batches.len() / 2);
    let c = std::thread::scope(|scope| {
        let a_addr = a.client();
        let b_ref = &b;
        let (batches, sent) = (&batches, &sent);
        scope.spawn(move || {
            for (k, batch) in batches.iter().enumerate() {
                // To b mostly (a dies midway), and to a now and then.
                let body = batch.as_bytes();
                let to_a = k % 3 == 0 && k < kill_at;
                let reply = match to_a {
                    true => a_addr.try_request(
                        "POST",
                        "/v1/events",
                        &[("content-type", "application/x-ndjson")],
                        Some(body),
                    ),
                    false => Err(String::new()),
                };
                if !reply.is_ok_and(|r| r.status == 200) {
                    send_until_stored(&[Some(b_ref)], 0, batch);
                }
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        wait_for(join_at);
        let before = owners(&b);
        let c = Server::start(&config("c"));
        // c gets its share while the batches keep coming.
        let started = Instant::now();
        while !owners(&b).iter().any(|(_, owner)| owner == "c") {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "c never got a partition: {:?}",
                owners(&b)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "owners before c joined {before:?}, after {:?} ({} of {} batches sent)",
            owners(&b),
            sent.load(std::sync::atomic::Ordering::SeqCst),
            batches.len()
        );
        wait_for(kill_at);
        a.kill_9();
        (c, Instant::now())
    });
    let (c, killed) = c;
    let last = wait_until_applied(&[&b, &c]);
    let moved = owners(&b);
    assert!(
        moved
            .iter()
            .all(|(epoch, owner)| *epoch > 0 || owner == "c"),
        "every partition has a live owner that took it over: {moved:?}"
    );
    assert!(
        moved.iter().all(|(_, owner)| owner == "b" || owner == "c"),
        "a's partitions moved: {moved:?}"
    );
    eprintln!(
        "cluster: a killed with {} batches to go; b and c answered them all and reflect all {last} stream entries {:?} after the kill; owners {moved:?}",
        batches.len() - kill_at,
        killed.elapsed()
    );
    // Per partition, exactly one of the live nodes says it owns it.
    let owned = |node: &Server| -> usize {
        let text = node
            .client()
            .get("/metrics")
            .expect_status(200)
            .text
            .clone();
        text.lines()
            .filter(|l| l.starts_with("probity_cluster_partition_owned{") && l.ends_with(" 1"))
            .count()
    };
    let started = Instant::now();
    while owned(&b) + owned(&c) != 8 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "per-partition ownership metrics: b {} + c {}",
            owned(&b),
            owned(&c)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let by_b = everything(&b.client());
    compare("node c vs node b", &by_b, &everything(&c.client()));
    let single = Server::start(&probity_e2e::server::market::four_plugins(2));
    send_all(&single.client(), &events);
    compare(
        "the cluster vs a single node",
        &everything(&single.client()),
        &by_b,
    );
    let rated = ratings(&single.client());
    assert_eq!(ratings(&b.client()), rated, "b rates as a single node");
    assert_eq!(ratings(&c.client()), rated, "c rates as a single node");
}

/// An owner that another node fenced out: a fence for one of a's partitions appears in
/// the changelog from a run that never takes the partition over (as after a lease claimed
/// while a's still looked valid to a, around a NATS restart). Every node then ignores
/// a's units for that partition; a must notice, stop, fence again and publish its void
/// units again under the new fence — else the other nodes never reflect the partition
/// again. At the end both nodes equal a single node.
#[test]
fn an_owner_fenced_out_by_another_run_fences_again_and_loses_nothing() {
    use probity::cluster::changelog::{Change, ChangeLog, ChangeMessage};
    use probity_e2e::server::Server;
    use probity_e2e::server::market::{compare, everything, four_plugins, send_all, stream};

    let nats = NatsServer::start();
    let url = nats.url();
    let events = stream();
    let batches = probity_e2e::server::market::ndjson_batches(&events, 300);
    let half = batches.len() / 2;
    let a = Server::start(&node_config(&url, "a"));
    let b = Server::start(&node_config(&url, "b"));
    for (k, batch) in batches[..half].iter().enumerate() {
        send_until_stored(&[Some(&a), Some(&b)], k % 2, batch);
    }
    wait_until_applied(&[&a, &b]);
    let status = a.client().get("/v1/cluster").ok().clone();
    let owned: Vec<u64> = status["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter(|p| p["role"] == "owner")
        .filter_map(|p| p["partition"].as_u64())
        .collect();
    let partition = *owned.first().expect("a owns a partition") as u32;

    // The intruder's fence, while a is evaluating the second half.
    let intruder_url = url.clone();
    let intruder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let changelog = ChangeLog::open(
                async_nats_connect(&intruder_url).await,
                "intruder",
                1,
                Duration::from_secs(120),
            )
            .await
            .expect("changelog");
            let fence: ChangeMessage<Vec<()>> = ChangeMessage {
                node: "intruder".into(),
                run: "intruder-run".into(),
                change: Change::Fence,
            };
            let payload = serde_json::to_vec(&fence).expect("json");
            changelog
                .start_publish(
                    partition,
                    "fence.intruder-run.1",
                    ("intruder-run", "fence"),
                    payload.into(),
                )
                .await
                .expect("publish")
                .await
                .expect("stored");
        });
    });
    for (k, batch) in batches[half..].iter().enumerate() {
        send_until_stored(&[Some(&a), Some(&b)], k % 2, batch);
    }
    intruder.join().expect("the intruder's fence");
    wait_until_applied(&[&a, &b]);
    let refenced = a.client().get("/metrics").expect_status(200).text.clone();
    assert!(
        refenced
            .lines()
            .any(|l| l.starts_with("probity_cluster_refences_total ") && !l.ends_with(" 0")),
        "a fenced its partition {partition} again: {}",
        refenced
            .lines()
            .filter(|l| l.starts_with("probity_cluster_"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let by_a = everything(&a.client());
    compare("node b vs node a", &by_a, &everything(&b.client()));
    let single = Server::start(&four_plugins(2));
    send_all(&single.client(), &events);
    compare(
        "the cluster vs a single node",
        &everything(&single.client()),
        &by_a,
    );
}
