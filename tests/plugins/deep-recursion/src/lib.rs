//! Hostile: `handle` recurses without bound until the wasm call stack overflows and the
//! call traps (wasmtime's stack-overflow trap).
//!
//! The recursion goes through a function pointer read with a volatile load, so the
//! optimiser can neither inline it nor turn it into a loop, and the result is used after
//! each call, so it is not a tail call. Frames keep nothing in linear memory: it is the
//! engine's stack that overflows, not the shadow stack in the plugin's memory (which
//! would show up as an out-of-bounds access instead).

use probity_sdk::prelude::*;

struct DeepRecursion;

static DIVE: fn(u64) -> u64 = dive;

fn dive(depth: u64) -> u64 {
    // SAFETY: `DIVE` is a valid, initialised, aligned static; a volatile read of it is
    // only a read the compiler must not elide.
    let next = unsafe { std::ptr::read_volatile(&DIVE) };
    let below = next(depth + 1);
    below.rotate_left(7) ^ depth
}

impl Plugin for DeepRecursion {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new(
            "deep-recursion",
            "0.1.0",
            "test plugin: overflows the stack",
        )
        .subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        DeepRecursion
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let depth = dive(0);
        Err(PluginError::new(
            "unreachable",
            format!("the recursion returned {depth}"),
        ))
    }
}

probity_sdk::export_plugin!(DeepRecursion);
