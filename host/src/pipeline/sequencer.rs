//! The sequencer: the one place that orders events, before any plugin runs.
//!
//! Every event passes through it, one at a time, in the order they are accepted. It
//!
//! 1. recognises a re-sent `event_id` (the same content: a duplicate; other content: a
//!    conflict), across every shard — including events still being evaluated, which the
//!    [`InFlight`] table holds until their units are committed;
//! 2. assigns the event-time clock, `max(clock, occurred_at)`;
//! 3. finds the event's shard: by its `seller_id`, or, for an event that names only an
//!    order or a complaint, by the seller that order or complaint belongs to; an event
//!    whose order or complaint is not known yet is **parked**;
//! 4. appends the event with its clock and shard to the event log — the log comes first;
//! 5. hands it to its shard, followed by the parked events it releases (an
//!    `order.placed` releases the events that waited for its order), each released
//!    event logged again as a [`LogEntry::Release`] at the point it is evaluated.
//!
//! A replay reads the same decisions back from the log ([`Sequencer::replay`]) instead
//! of making them again, so the shards see the same events at the same clocks in the
//! same order, whatever the number of partitions that evaluate them.
//!
//! **Buyer routes.** While a buyer-keyed plugin is loaded ([`Sequencer::set_buyer_routes`]),
//! an event that has a buyer — `order.placed`, or a later event of an order whose buyer is
//! known — is handed out twice: to its seller's shard (for the seller-keyed plugins) and,
//! right after, to its buyer's shard (for the buyer-keyed ones, [`Routed::buyer`]). The
//! log records the buyer with the event (or its release), so a replay hands it out the
//! same way whatever the configuration is by then.
//!
//! A parked event waits at most [`PARK_MAX_MS`] of event time; then it is evaluated in
//! the shard of its order or complaint id (there is no seller to go by), logged as a
//! release like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::LoggedEvent;
pub use super::routing::InFlight;
use super::routing::{
    buyer_reference, introduces, introduces_buyer, made_known, order_of, reference_of,
};
use crate::model::event::Event;
use crate::model::shard::{Shard, shard_of};
use crate::model::time::Timestamp;
use crate::store::{LogAppend, LogEntry, Routing, Store, StoreError};

/// The longest a parked event waits for its order or complaint, in event time: 7 days.
pub const PARK_MAX_MS: i64 = 7 * 24 * 3_600_000;

/// An event handed to a shard.
#[derive(Clone, Debug)]
pub struct Routed {
    /// The log position it is evaluated at: its own, or its release's.
    pub seq: u64,
    /// Its own log position (its idempotency record names it).
    pub event_seq: u64,
    /// The shard that evaluates it.
    pub shard: Shard,
    /// The clock it is evaluated at.
    pub clock: Timestamp,
    /// The event.
    pub event: Arc<Event>,
    /// SHA-256 (hex) of its pseudonymised JSON.
    pub digest: String,
    /// `Some(buyer pseudonym)` for the buyer route: `shard` is the buyer's and only the
    /// buyer-keyed plugins evaluate it; `None` for the seller route.
    pub buyer: Option<Arc<str>>,
}

impl Routed {
    /// This seller route, then, with a `buyer`, the same event's buyer route in that
    /// buyer's shard.
    fn with_buyer_route(self, buyer: Option<&str>) -> Vec<Routed> {
        let for_buyer = buyer.map(|buyer| Routed {
            shard: shard_of(buyer),
            buyer: Some(buyer.into()),
            ..self.clone()
        });
        std::iter::once(self).chain(for_buyer).collect()
    }
}

/// What the sequencer decided for one event.
#[derive(Debug)]
pub enum Route {
    /// Logged; evaluate these in order: the event, then the parked events it released.
    Evaluate(Vec<Routed>),
    /// Logged and parked until its order or complaint is known (`waiting_for`, as
    /// [`reference_key`] spells it); nothing to evaluate now, unless its arrival let the
    /// clock release events that waited too long (`released`).
    Parked {
        /// Its log position.
        seq: u64,
        /// The clock it moved (every shard's timers due by then fire).
        clock: Timestamp,
        /// What it waits for.
        waiting_for: String,
        /// Parked events whose wait ended.
        released: Vec<Routed>,
    },
    /// Accepted before with the same content. `shard` is set while the earlier one is
    /// still being evaluated there: ask that shard, after it, for the verdicts.
    Duplicate {
        /// Where the earlier one is being evaluated, if it still is.
        shard: Option<Shard>,
    },
    /// Accepted before with other content, at `seq`.
    Conflict {
        /// The earlier event's position.
        seq: u64,
    },
}

/// A parked event.
#[derive(Debug)]
struct ParkedEvent {
    seq: u64,
    event: Arc<Event>,
    digest: String,
}

/// Orders events and decides where each is evaluated (see the module docs).
pub struct Sequencer {
    store: Arc<dyn Store>,
    clock: Option<Timestamp>,
    in_flight: Arc<InFlight>,
    /// Parked events by what they wait for.
    parked: BTreeMap<String, Vec<ParkedEvent>>,
    /// (parked at, position, what it waits for): the oldest first.
    waiting: BTreeSet<(Timestamp, u64, String)>,
    /// The last log position appended or replayed.
    last_seq: u64,
    /// Whether events with a buyer also go to the buyer's shard (a buyer-keyed plugin is
    /// loaded).
    buyer_routes: bool,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("clock", &self.clock)
            .field("parked", &self.waiting.len())
            .finish()
    }
}

impl Sequencer {
    /// A sequencer over `store`, resuming its clock.
    pub fn new(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        Ok(Sequencer {
            clock: store.clock()?,
            store,
            in_flight: Arc::new(InFlight::default()),
            parked: BTreeMap::new(),
            waiting: BTreeSet::new(),
            last_seq: 0,
            buyer_routes: false,
        })
    }

    /// Hand events with a buyer to the buyer's shard too, from the next event on (call it
    /// where the plugin set changes, which the log records).
    pub fn set_buyer_routes(&mut self, on: bool) {
        self.buyer_routes = on;
    }

    /// The event-time clock: the furthest any event or advance moved it.
    pub fn clock(&self) -> Option<Timestamp> {
        self.clock
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The table of events logged but not committed, to share with the partitions.
    pub fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// How many events are parked.
    pub fn parked(&self) -> usize {
        self.waiting.len()
    }

    /// The log position of the oldest parked event, if any: the log is not applied
    /// beyond the position before it.
    pub fn oldest_parked(&self) -> Option<u64> {
        self.waiting.iter().map(|(_, seq, _)| *seq).min()
    }

    /// How far the log is decided: every entry up to it is routed, and evaluated once the
    /// shards have done what they were handed — except parked events, which hold it back.
    pub fn decided(&self) -> u64 {
        match self.oldest_parked() {
            Some(parked) => self.last_seq.min(parked - 1),
            None => self.last_seq,
        }
    }

    /// Log a reviewer's decision (its `seq` is the position it gets); returns it.
    pub fn log_decision(&mut self, decision: &crate::verdict::Decision) -> Result<u64, StoreError> {
        self.append(LogAppend::Decision(decision))
    }

    fn append(&mut self, record: LogAppend<'_>) -> Result<u64, StoreError> {
        let seq = self.store.append_log(record)?;
        self.last_seq = seq;
        Ok(seq)
    }

    /// Decide for one event and log it (see the module docs).
    pub fn route(&mut self, event: Event) -> Result<Route, StoreError> {
        let logged = LoggedEvent::new(&event);
        let earlier = self.in_flight.tables().events.get(&event.event_id).cloned();
        if let Some((seq, digest, shard)) = earlier {
            return Ok(match digest == logged.digest {
                true => Route::Duplicate { shard },
                false => Route::Conflict { seq },
            });
        }
        if let Some(record) = self.store.event_record(&event.event_id)? {
            return Ok(match record.digest == logged.digest {
                true => Route::Duplicate { shard: None },
                false => Route::Conflict { seq: record.seq },
            });
        }
        let clock = self
            .clock
            .map_or(event.occurred_at, |c| c.max(event.occurred_at));
        let reference = reference_of(&event);
        let shard = self.seller_for(&event)?.as_deref().map(shard_of);
        // A parked event's buyer is decided at its release.
        let buyer = match shard {
            Some(_) => self.buyer_for(&event)?,
            None => None,
        };
        let seq = self.append(LogAppend::Event {
            json: &logged.json,
            routing: Routing {
                clock,
                shard,
                buyer: buyer.clone(),
            },
        })?;
        self.clock = Some(clock);
        let event = Arc::new(event);
        {
            let mut tables = self.in_flight.tables();
            tables
                .events
                .insert(event.event_id.clone(), (seq, logged.digest.clone(), shard));
            tables.refs.extend(made_known(&event));
        }
        match (shard, reference) {
            (Some(shard), _) => {
                let routed = Routed {
                    seq,
                    event_seq: seq,
                    shard,
                    clock,
                    event: event.clone(),
                    digest: logged.digest,
                    buyer: None,
                };
                let mut items = routed.with_buyer_route(buyer.as_deref());
                if let Some((reference, _)) = introduces(&event) {
                    items.extend(self.release(&reference, shard, clock)?);
                }
                items.extend(self.release_overdue(clock)?);
                Ok(Route::Evaluate(items))
            }
            (None, Some(waiting_for)) => {
                self.park(&waiting_for, seq, clock, event, logged.digest);
                let released = self.release_overdue(clock)?;
                Ok(Route::Parked {
                    seq,
                    clock,
                    waiting_for,
                    released,
                })
            }
            // Every event names a seller or an order or complaint.
            (None, None) => Err(StoreError::Corrupt {
                tree: "events",
                detail: format!(
                    "event `{}` names no seller, order or complaint",
                    event.event_id
                ),
            }),
        }
    }

    /// Log that the configuration `config_digest` takes effect at this point; returns
    /// its position.
    pub fn reload(&mut self, config_digest: &str) -> Result<u64, StoreError> {
        self.append(LogAppend::Reload { config_digest })
    }

    /// Move the clock to `to` without an event, logging the advance; `None` when `to` is
    /// not ahead of the clock. Returns its position and the parked events whose wait
    /// ended.
    pub fn advance(
        &mut self,
        to: Timestamp,
        cause: &str,
    ) -> Result<Option<(u64, Vec<Routed>)>, StoreError> {
        if self.clock.is_some_and(|clock| clock >= to) {
            return Ok(None);
        }
        let seq = self.append(LogAppend::ClockAdvance { to, cause })?;
        self.clock = Some(to);
        let released = self.release_overdue(to)?;
        Ok(Some((seq, released)))
    }

    /// Read one log entry back (a replay): the same decision as when it was logged, with
    /// no new record. Returns what to evaluate (`None` for an entry that evaluates
    /// nothing) and, for a clock advance, the new clock.
    pub fn replay(&mut self, seq: u64, entry: &LogEntry) -> Result<Vec<Routed>, StoreError> {
        Ok(match self.replay_one(seq, entry)? {
            Some((routed, buyer)) => routed.with_buyer_route(buyer.as_deref()),
            None => Vec::new(),
        })
    }

    /// [`Sequencer::replay`]: the seller route and the buyer the log names.
    fn replay_one(
        &mut self,
        seq: u64,
        entry: &LogEntry,
    ) -> Result<Option<(Routed, Option<String>)>, StoreError> {
        self.last_seq = seq;
        match entry {
            LogEntry::Event { event, routing, .. } => {
                let logged = LoggedEvent::new(event);
                let routing = match routing {
                    Some(routing) => routing.clone(),
                    // A log written before shards: route it afresh, never parking (there
                    // is no release record to come).
                    None => {
                        let clock = self
                            .clock
                            .map_or(event.occurred_at, |c| c.max(event.occurred_at));
                        let shard = self
                            .seller_for(event)?
                            .as_deref()
                            .map(shard_of)
                            .unwrap_or_else(|| shard_of(&reference_of(event).unwrap_or_default()));
                        Routing {
                            clock,
                            shard: Some(shard),
                            buyer: None,
                        }
                    }
                };
                self.clock = Some(self.clock.map_or(routing.clock, |c| c.max(routing.clock)));
                let event = Arc::new((**event).clone());
                match routing.shard {
                    Some(shard) => Ok(Some((
                        Routed {
                            seq,
                            event_seq: seq,
                            shard,
                            clock: routing.clock,
                            event,
                            digest: logged.digest,
                            buyer: None,
                        },
                        routing.buyer,
                    ))),
                    None => {
                        // Already evaluated (its release was applied): nothing waits.
                        if self.store.event_record(&event.event_id)?.is_none() {
                            let waiting_for = reference_of(&event).unwrap_or_default();
                            self.park(&waiting_for, seq, routing.clock, event, logged.digest);
                        }
                        Ok(None)
                    }
                }
            }
            LogEntry::Release {
                seq: event_seq,
                shard,
                clock,
                buyer,
            } => {
                self.clock = Some(self.clock.map_or(*clock, |c| c.max(*clock)));
                let parked = match self.unpark(*event_seq) {
                    Some(parked) => parked,
                    // Parked before the replay's start (the log is applied up to a
                    // position between the two): read the event back.
                    None => match self.logged_event(*event_seq)? {
                        Some(parked) => parked,
                        None => return Ok(None),
                    },
                };
                Ok(Some((
                    Routed {
                        seq,
                        event_seq: parked.seq,
                        shard: *shard,
                        clock: *clock,
                        event: parked.event,
                        digest: parked.digest,
                        buyer: None,
                    },
                    buyer.clone(),
                )))
            }
            LogEntry::ClockAdvance { to, .. } => {
                self.clock = Some(self.clock.map_or(*to, |c| c.max(*to)));
                Ok(None)
            }
            LogEntry::EventDeadline { .. }
            | LogEntry::TimerDeadline(_)
            | LogEntry::Reload { .. }
            | LogEntry::Decision(_) => Ok(None),
        }
    }

    /// The event logged at `seq`, read back; `None` (and an error logged) when the log
    /// no longer holds it (purged).
    fn logged_event(&self, seq: u64) -> Result<Option<ParkedEvent>, StoreError> {
        if let Some(item) = self.store.logged_events_from(seq).next()
            && let (found, LogEntry::Event { event, .. }) = item?
            && found == seq
        {
            let logged = LoggedEvent::new(&event);
            return Ok(Some(ParkedEvent {
                seq,
                event: Arc::new(*event),
                digest: logged.digest,
            }));
        }
        tracing::error!(
            seq,
            "a released event is no longer in the event log (purged); it is not evaluated"
        );
        Ok(None)
    }

    /// After a replay: release the parked events whose order or complaint is known by
    /// now (a crash can take a release's record and keep its order's).
    pub fn release_known(&mut self) -> Result<Vec<Routed>, StoreError> {
        let references: Vec<String> = self.parked.keys().cloned().collect();
        let clock = self.clock.unwrap_or_default();
        let mut released = Vec::new();
        for reference in references {
            if let Some(seller) = self.seller_of(&reference)? {
                released.extend(self.release(&reference, shard_of(&seller), clock)?);
            }
        }
        Ok(released)
    }

    /// The event's seller: its own `seller_id`, or that of the order or complaint it
    /// refers to, once known.
    fn seller_for(&self, event: &Event) -> Result<Option<String>, StoreError> {
        match (event.seller_id(), reference_of(event)) {
            (Some(seller), _) => Ok(Some(seller.to_string())),
            (None, Some(reference)) => self.seller_of(&reference),
            (None, None) => Ok(None),
        }
    }

    /// The event's buyer, when buyer routes are on: `order.placed`'s own, or that of the
    /// order it names, once known.
    fn buyer_for(&self, event: &Event) -> Result<Option<String>, StoreError> {
        if !self.buyer_routes {
            return Ok(None);
        }
        if let Some((_, buyer)) = introduces_buyer(event) {
            return Ok(Some(buyer.to_string()));
        }
        match order_of(event) {
            Some(order) => self.seller_of(&buyer_reference(order)),
            None => Ok(None),
        }
    }

    fn seller_of(&self, reference: &str) -> Result<Option<String>, StoreError> {
        if let Some(seller) = self.in_flight.tables().refs.get(reference) {
            return Ok(Some(seller.clone()));
        }
        self.store.seller_of(reference)
    }

    fn park(
        &mut self,
        waiting_for: &str,
        seq: u64,
        clock: Timestamp,
        event: Arc<Event>,
        digest: String,
    ) {
        // A re-send of a parked event is a duplicate, also after a restart.
        self.in_flight
            .tables()
            .events
            .insert(event.event_id.clone(), (seq, digest.clone(), None));
        self.waiting.insert((clock, seq, waiting_for.to_string()));
        self.parked
            .entry(waiting_for.to_string())
            .or_default()
            .push(ParkedEvent { seq, event, digest });
        metrics::gauge!("probity_parked_events").set(self.waiting.len() as f64);
    }

    fn unpark(&mut self, seq: u64) -> Option<ParkedEvent> {
        let (clock, _, waiting_for) = self
            .waiting
            .iter()
            .find(|(_, parked_seq, _)| *parked_seq == seq)
            .cloned()?;
        self.waiting.remove(&(clock, seq, waiting_for.clone()));
        let list = self.parked.get_mut(&waiting_for)?;
        let index = list.iter().position(|parked| parked.seq == seq)?;
        let parked = list.remove(index);
        if list.is_empty() {
            self.parked.remove(&waiting_for);
        }
        metrics::gauge!("probity_parked_events").set(self.waiting.len() as f64);
        Some(parked)
    }

    /// Send the events waiting for `reference` to `shard`, each logged as a release.
    fn release(
        &mut self,
        reference: &str,
        shard: Shard,
        clock: Timestamp,
    ) -> Result<Vec<Routed>, StoreError> {
        let Some(list) = self.parked.get(reference) else {
            return Ok(Vec::new());
        };
        let seqs: Vec<u64> = list.iter().map(|parked| parked.seq).collect();
        let mut released = Vec::with_capacity(seqs.len());
        for event_seq in seqs {
            released.extend(self.release_one(event_seq, reference, shard, clock)?);
        }
        Ok(released)
    }

    /// Release the events parked for longer than [`PARK_MAX_MS`] by `clock`, each to the
    /// shard of what it waited for.
    fn release_overdue(&mut self, clock: Timestamp) -> Result<Vec<Routed>, StoreError> {
        let mut released = Vec::new();
        while let Some((parked_at, event_seq, waiting_for)) = self.waiting.first().cloned() {
            if clock.saturating_sub(parked_at) < PARK_MAX_MS {
                break;
            }
            tracing::warn!(
                event_seq,
                waiting_for = %waiting_for,
                "a parked event's order or complaint never came; it is evaluated without its seller's state"
            );
            metrics::counter!("probity_parked_overdue_total").increment(1);
            released.extend(self.release_one(
                event_seq,
                &waiting_for,
                shard_of(&waiting_for),
                clock,
            )?);
        }
        Ok(released)
    }

    /// Log the release of the parked event at `event_seq` (waiting for `reference`) to
    /// `shard`, at `clock`, and hand it over (with its buyer route, once its buyer is
    /// known).
    fn release_one(
        &mut self,
        event_seq: u64,
        reference: &str,
        shard: Shard,
        clock: Timestamp,
    ) -> Result<Vec<Routed>, StoreError> {
        let event = self
            .parked
            .get(reference)
            .and_then(|list| list.iter().find(|parked| parked.seq == event_seq))
            .map(|parked| parked.event.clone());
        let buyer = match event {
            Some(event) => self.buyer_for(&event)?,
            None => None,
        };
        let seq = self.append(LogAppend::Release {
            seq: event_seq,
            shard,
            clock,
            buyer: buyer.as_deref(),
        })?;
        let Some(parked) = self.unpark(event_seq) else {
            return Ok(Vec::new());
        };
        self.set_in_flight_shard(&parked.event.event_id, shard);
        let routed = Routed {
            seq,
            event_seq,
            shard,
            clock,
            event: parked.event,
            digest: parked.digest,
            buyer: None,
        };
        Ok(routed.with_buyer_route(buyer.as_deref()))
    }

    fn set_in_flight_shard(&self, event_id: &str, shard: Shard) {
        if let Some(entry) = self.in_flight.tables().events.get_mut(event_id) {
            entry.2 = Some(shard);
        }
    }
}
