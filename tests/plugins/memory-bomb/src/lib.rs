//! Hostile: `handle` allocates 1 MiB blocks, writes to every page and keeps them, until
//! the allocator fails (the host's memory limit refuses to grow memory) and the call traps.

use probity_sdk::prelude::*;

struct MemoryBomb;

const BLOCK: usize = 1 << 20;
const PAGE: usize = 4096;

impl Plugin for MemoryBomb {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new(
            "memory-bomb",
            "0.1.0",
            "test plugin: allocates until it dies",
        )
        .subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        MemoryBomb
    }

    fn handle(&mut self, _: &mut Context, _: &Envelope) -> Result<Vec<Finding>, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = vec![0_u8; BLOCK];
            for offset in (0..BLOCK).step_by(PAGE) {
                block[offset] = 0xA5;
            }
            hoard.push(std::hint::black_box(block));
            std::hint::black_box(&hoard);
        }
    }
}

probity_sdk::export_plugin!(MemoryBomb);
