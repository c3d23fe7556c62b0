//! Hostile: opens a TCP connection. Using `std::net` makes the component import
//! `wasi:sockets/*`, which the host must refuse at load, naming the import; the code below
//! should therefore never run.
//!
//! The address is the local discard port, not a public host: if a host wrongly allowed
//! sockets, the test still sends nothing off the machine.

use std::net::TcpStream;

use probity_sdk::prelude::*;

const TARGET: &str = "127.0.0.1:9";

struct Network;

impl Plugin for Network {
    type Settings = NoSettings;

    fn manifest() -> Manifest {
        Manifest::new("network", "0.1.0", "test plugin: opens a socket").subscribe_all()
    }

    fn new(_: NoSettings) -> Self {
        Network
    }

    fn handle(
        &mut self,
        _: &mut Context,
        envelope: &Envelope,
    ) -> Result<Vec<Finding>, PluginError> {
        let outcome = match TcpStream::connect(TARGET) {
            Ok(_) => "connect=ok",
            Err(_) => "connect=err",
        };
        let finding = Finding::builder(envelope.subject())
            .rule("network.report")
            .message(format!("tried {TARGET}"))
            .evidence(Evidence::field("network").detail(outcome))
            .build();
        Ok(vec![finding])
    }
}

probity_sdk::export_plugin!(Network);
