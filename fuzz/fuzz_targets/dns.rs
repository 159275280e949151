//! Fuzzes the DNS message reader on arbitrary bytes, as a response from a
//! nameserver would come: the header, the question, every record of every
//! section and its data (SRV, TXT, CNAME, A, AAAA, SOA), names with
//! compression at every offset; then the lookup's reading of the answer
//! (as SRV, TXT, A and AAAA) and what DNS-SD makes of it. Nothing may
//! panic, and what reads must hold together: names fit 255 bytes, record
//! data lies inside the message, the answer stays within its bounds (SRV
//! records kept, TXT bytes, addresses, collectors).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::agent::discovery::interpret;
use wsflowd::config::MAX_COLLECTORS;
use wsflowd::dns::client::{read_reply, Answer, MAX_ADDRESSES, MAX_SRV, MAX_TXT_BYTES};
use wsflowd::dns::message::{read_name, rtype, Message, Name, Rdata, MAX_NAME_LEN};

fn check_name(name: &Name) {
    assert!(name.as_wire().len() <= MAX_NAME_LEN);
    assert_eq!(name.as_wire().last(), Some(&0));
    let text = name.to_string();
    // What Display writes reads back as the same name when it has no
    // escapes.
    if !text.contains('\\') && !name.is_root() {
        assert_eq!(Name::from_text(&text).as_ref(), Some(name));
    }
}

fuzz_target!(|data: &[u8]| {
    // Names at every offset (bounded: the first 64).
    for at in 0..data.len().min(64) {
        if let Ok((name, end)) = read_name(data, at) {
            check_name(&name);
            assert!(end > at && end <= data.len());
        }
    }
    let Ok(msg) = Message::new_checked(data) else {
        assert!(data.len() < 12);
        return;
    };
    let _ = (msg.id(), msg.is_response(), msg.opcode(), msg.truncated(), msg.rcode());
    let _ = format!("{msg:?}");
    let question = msg.question();
    if let Ok(q) = &question {
        check_name(&q.name);
    }
    let mut records = 0usize;
    for r in msg.records() {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                assert!(e.offset <= data.len(), "{e}");
                let _ = e.to_string();
                break;
            }
        };
        records += 1;
        check_name(&r.name);
        assert!(r.rdata_at + r.rdata.len() <= data.len());
        assert_eq!(&data[r.rdata_at..r.rdata_at + r.rdata.len()], r.rdata);
        assert!(r.ttl() <= i32::MAX as u32);
        match r.data(&msg) {
            Ok(Rdata::Srv(s)) => check_name(&s.target),
            Ok(Rdata::Cname(n)) => check_name(&n),
            Ok(Rdata::Txt(t)) => {
                let total: usize = t.strings().map(|s| 1 + s.len()).sum();
                assert_eq!(total, r.rdata.len());
            }
            Ok(Rdata::A(_)) => assert_eq!(r.rdata.len(), 4),
            Ok(Rdata::Aaaa(_)) => assert_eq!(r.rdata.len(), 16),
            Ok(Rdata::Soa(_)) | Ok(Rdata::Other) => {}
            Err(e) => assert!(e.offset <= data.len(), "{e}"),
        }
    }
    // Each record takes at least 11 bytes.
    assert!(records <= data.len() / 11 + 1);
    // The lookup's reading of it, as an answer to its own question (or to
    // a fixed one), for both types asked.
    let qname = question
        .map(|q| q.name)
        .unwrap_or_else(|_| Name::from_text("_sflow._udp.example.net").unwrap());
    for qtype in [rtype::SRV, rtype::TXT, rtype::A, rtype::AAAA] {
        let Ok(reply) = read_reply(&msg, &qname, qtype) else {
            continue;
        };
        assert!(reply.srv.len() <= MAX_SRV);
        assert!(reply.addresses.len() <= MAX_ADDRESSES);
        assert!(reply.txt_bytes <= MAX_TXT_BYTES);
        assert_eq!(reply.txt.iter().map(Vec::len).sum::<usize>(), reply.txt_bytes);
        let answer = Answer {
            name: qname.to_string(),
            srv: reply.srv.clone(),
            srv_left_out: reply.srv_left_out,
            txt: reply.txt.clone(),
            txt_records: reply.txt_records,
            txt_left_out: reply.txt_left_out,
            addresses: reply.addresses.clone(),
            ttl_s: reply.ttl_s,
            truncated: reply.truncated,
            server: "192.0.2.53:53".parse().unwrap(),
        };
        let found = interpret(&answer);
        assert!(found.collectors.len() <= MAX_COLLECTORS);
        assert!((60..=3600).contains(&found.refresh_s));
        for c in &found.collectors {
            assert!(wsflowd::config::parse_host(&c.address).is_ok());
            assert_ne!(c.port, 0);
        }
    }
});
