//! The brush-orders plugin against the generated marketplace (`probity_e2e::brush`):
//! order-level precision and recall, the trap groups, rings, sellers and state.

use probity_e2e::brush::market::{Market, Params};
use probity_e2e::brush::{run_native, score};

#[test]
fn brush_orders_meet_precision_and_recall_on_the_generated_marketplace() {
    let market = Market::generate(Params::full(7));
    let started = std::time::Instant::now();
    let outcome = run_native(&market, "{}");
    println!("{} events in {:?}", market.events.len(), started.elapsed());
    assert!(
        outcome.errors.is_empty(),
        "plugin errors: {:?}",
        &outcome.errors[..outcome.errors.len().min(5)]
    );
    let scores = score(&market, &outcome);
    println!("{scores}");
    println!(
        "state: {} bytes; findings: {}",
        outcome.state_bytes, outcome.findings
    );
    for (seller, style) in &market.ring_sellers {
        println!("{seller} {style:?}: {:?}", outcome.seller_rules(seller));
    }
    assert!(
        outcome.without_evidence.is_empty(),
        "{:?}",
        outcome.without_evidence
    );
    assert!(
        scores.trap_blocks.is_empty(),
        "honest orders blocked: {:?}",
        scores.trap_blocks
    );
    assert!(
        scores.precision() >= 0.95 && scores.recall() >= 0.90,
        "{scores}"
    );
}
