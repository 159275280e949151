//! Fuzzes the UCI parser and the configuration checks on arbitrary bytes:
//! neither may panic, and what they accept must hold together.
//!
//! Run with `cargo +nightly fuzz run uci` from the repository root; the
//! files in `tests/config_files/` make a good seed corpus.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::config::{self, uci};

fuzz_target!(|data: &[u8]| {
    let package = match uci::parse(data) {
        Ok(package) => package,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let mut per_type = std::collections::HashMap::new();
    for section in &package.sections {
        let next = per_type.entry(section.kind.as_str()).or_insert(0usize);
        assert_eq!(section.index, *next);
        *next += 1;
        let _ = section.display_name();
        for option in &section.options {
            assert_eq!(option.item_lines.len(), option.value.items().len());
        }
    }
    match config::from_uci(&package, "fuzz") {
        Ok(loaded) => {
            let agent = &loaded.config.agent;
            assert!(agent.header_bytes + config::DATAGRAM_HEADROOM <= agent.datagram_bytes);
            for interface in &loaded.config.interfaces {
                assert!(config::is_valid_interface_name(&interface.device));
                if let Some(rate) = agent.sampling_rate_for(interface) {
                    assert!((1..=config::MAX_SAMPLING_RATE).contains(&rate));
                }
                let ring = agent.ring_kib_for(interface);
                assert!((config::MIN_RING_KIB..=config::MAX_RING_KIB).contains(&ring));
            }
            for collector in &loaded.config.collectors {
                assert!(collector.port != 0);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
