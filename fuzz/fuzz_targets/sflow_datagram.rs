//! Fuzzes the sFlow decoder: any bytes must decode or fail cleanly, and a
//! datagram that decodes must re-encode to the same bytes (decoded arrays
//! are re-emitted from their wire bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::collect::render_datagram;
use wsflowd::sflow::{Datagram, Encode, Writer};

fuzz_target!(|data: &[u8]| {
    // Walk every sample, record and field, as `wsflowd collect` does.
    let _ = render_datagram(None, data, true, |_| {});
    let _ = render_datagram(None, data, false, |_| {});
    if let Ok(d) = Datagram::parse(data) {
        let mut buf = vec![0u8; data.len()];
        let mut w = Writer::new(&mut buf);
        d.encode(&mut w).expect("a decoded datagram fits its own size");
        assert_eq!(w.written(), data, "re-encoding changed the datagram");
    }
});
