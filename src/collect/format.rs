//! Rendering decoded samples as one line of text or JSON.

use std::fmt::Write;
use std::net::IpAddr;

use crate::mac::MacAddr;
use crate::sflow::{DecodeError, Visitor};

/// Appends `bytes` as lowercase hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

fn push_mac(out: &mut String, mac: &[u8; 6]) {
    let _ = write!(out, "{}", MacAddr(*mac));
}

/// Appends `s` as a JSON string literal.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders fields as a JSON object's members. The caller writes the braces
/// of the outermost object.
pub struct JsonVisitor {
    pub out: String,
    /// Per open object or array (the outermost first): whether it already
    /// has a member, so the next one needs a comma.
    nonempty: Vec<bool>,
}

impl Default for JsonVisitor {
    fn default() -> Self {
        JsonVisitor::new()
    }
}

impl JsonVisitor {
    pub fn new() -> Self {
        JsonVisitor {
            out: String::new(),
            nonempty: vec![false],
        }
    }

    fn key(&mut self, name: &str) {
        self.separate();
        push_json_string(&mut self.out, name);
        self.out.push(':');
    }

    fn separate(&mut self) {
        if let Some(nonempty) = self.nonempty.last_mut() {
            if std::mem::replace(nonempty, true) {
                self.out.push(',');
            }
        }
    }

    /// A string member whose value is computed (not a static label).
    pub fn label_owned(&mut self, name: &'static str, value: &str) {
        self.key(name);
        push_json_string(&mut self.out, value);
    }

    fn close(&mut self, bracket: char) {
        if self.nonempty.len() > 1 {
            self.nonempty.pop();
        }
        self.out.push(bracket);
    }
}

impl Visitor for JsonVisitor {
    fn u32(&mut self, name: &'static str, value: u32) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn i32(&mut self, name: &'static str, value: i32) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn u64(&mut self, name: &'static str, value: u64) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn f32(&mut self, name: &'static str, value: f32) {
        self.key(name);
        if value.is_finite() {
            let _ = write!(self.out, "{value}");
        } else {
            self.out.push_str("null");
        }
    }
    fn label(&mut self, name: &'static str, value: &'static str) {
        self.key(name);
        push_json_string(&mut self.out, value);
    }
    fn text(&mut self, name: &'static str, value: &[u8]) {
        self.key(name);
        push_json_string(&mut self.out, &String::from_utf8_lossy(value));
    }
    fn bytes(&mut self, name: &'static str, value: &[u8]) {
        self.key(name);
        self.out.push('"');
        push_hex(&mut self.out, value);
        self.out.push('"');
    }
    fn mac(&mut self, name: &'static str, value: &[u8; 6]) {
        self.key(name);
        self.out.push('"');
        push_mac(&mut self.out, value);
        self.out.push('"');
    }
    fn address(&mut self, name: &'static str, value: Option<IpAddr>) {
        self.key(name);
        match value {
            Some(ip) => push_json_string(&mut self.out, &ip.to_string()),
            None => self.out.push_str("null"),
        }
    }
    fn begin_list(&mut self, name: &'static str) {
        self.key(name);
        self.out.push('[');
        self.nonempty.push(false);
    }
    fn begin_item(&mut self) {
        self.separate();
        self.out.push('{');
        self.nonempty.push(false);
    }
    fn end_item(&mut self) {
        self.close('}');
    }
    fn end_list(&mut self) {
        self.close(']');
    }
    fn error(&mut self, error: &DecodeError) {
        self.separate();
        self.out.push_str("{\"error\":");
        push_json_string(&mut self.out, &error.to_string());
        self.out.push('}');
    }
}

/// Renders fields as `name=value` words; lists as `name=[{..} {..}]`.
#[derive(Default)]
pub struct TextVisitor {
    pub out: String,
    /// Whether the next word is the first in the current item.
    at_start: bool,
}

impl TextVisitor {
    pub fn new() -> Self {
        TextVisitor {
            out: String::new(),
            at_start: true,
        }
    }

    fn key(&mut self, name: &str) {
        if !self.at_start {
            self.out.push(' ');
        }
        self.at_start = false;
        self.out.push_str(name);
        self.out.push('=');
    }
}

impl Visitor for TextVisitor {
    fn u32(&mut self, name: &'static str, value: u32) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn i32(&mut self, name: &'static str, value: i32) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn u64(&mut self, name: &'static str, value: u64) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn f32(&mut self, name: &'static str, value: f32) {
        self.key(name);
        let _ = write!(self.out, "{value}");
    }
    fn label(&mut self, name: &'static str, value: &'static str) {
        // The record type reads best bare, as the item's first word.
        if name == "type" {
            if !self.at_start {
                self.out.push(' ');
            }
            self.at_start = false;
            self.out.push_str(value);
        } else {
            self.key(name);
            self.out.push_str(value);
        }
    }
    fn text(&mut self, name: &'static str, value: &[u8]) {
        self.key(name);
        // Quoted with Rust escapes, so spaces and control bytes stay visible.
        let _ = write!(self.out, "{:?}", String::from_utf8_lossy(value));
    }
    fn bytes(&mut self, name: &'static str, value: &[u8]) {
        self.key(name);
        push_hex(&mut self.out, value);
    }
    fn mac(&mut self, name: &'static str, value: &[u8; 6]) {
        self.key(name);
        push_mac(&mut self.out, value);
    }
    fn address(&mut self, name: &'static str, value: Option<IpAddr>) {
        self.key(name);
        match value {
            Some(ip) => {
                let _ = write!(self.out, "{ip}");
            }
            None => self.out.push_str("unknown"),
        }
    }
    fn begin_list(&mut self, name: &'static str) {
        self.key(name);
        self.out.push('[');
        self.at_start = true;
    }
    fn begin_item(&mut self) {
        if !self.at_start {
            self.out.push(' ');
        }
        self.out.push('{');
        self.at_start = true;
    }
    fn end_item(&mut self) {
        self.out.push('}');
        self.at_start = false;
    }
    fn end_list(&mut self) {
        self.out.push(']');
        self.at_start = false;
    }
    fn error(&mut self, error: &DecodeError) {
        if !self.at_start {
            self.out.push(' ');
        }
        self.at_start = false;
        let _ = write!(self.out, "{{error={:?}}}", error.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sflow::*;

    fn sample<'a>(records: &'a [FlowRecord<'a>]) -> Sample<'a> {
        Sample::Flow(
            SampleForm::Compact,
            FlowSample {
                sequence_number: 1,
                source: DataSource::interface(2),
                sampling_rate: 10,
                sample_pool: 100,
                drops: 0,
                input: Interface::index(2),
                output: Interface::UNKNOWN,
                records: List::Items(records),
            },
        )
    }

    fn records() -> [FlowRecord<'static>; 2] {
        [
            FlowRecord::SampledHeader(SampledHeader {
                protocol: HeaderProtocol::ETHERNET,
                frame_length: 60,
                stripped: 4,
                header: &[0xab, 0xcd],
            }),
            FlowRecord::Extended80211Rx(Extended80211Rx {
                ssid: b"caf\"e",
                bssid: [2, 0, 0, 0, 0, 1],
                version: Ieee80211Version::N,
                channel: 6,
                speed: 65_000_000,
                rsni: 1,
                rcpi: 2,
                packet_duration: 3,
            }),
        ]
    }

    #[test]
    fn json_is_well_formed() {
        let r = records();
        let mut v = JsonVisitor::new();
        v.address("agent", Some("10.0.0.1".parse().unwrap()));
        sample(&r).visit(&mut v);
        let line = format!("{{{}}}", v.out);
        assert_eq!(
            line,
            r#"{"agent":"10.0.0.1","type":"flow_sample","sequence_number":1,"source_id_type":0,"source_id_index":2,"sampling_rate":10,"sample_pool":100,"drops":0,"input_format":0,"input":2,"output_format":0,"output":0,"records":[{"type":"sampled_header","enterprise":0,"format":1,"protocol":1,"frame_length":60,"stripped":4,"header":"abcd"},{"type":"extended_80211_rx","enterprise":0,"format":1014,"ssid":"caf\"e","bssid":"02:00:00:00:00:01","version":4,"channel":6,"speed":65000000,"rsni":1,"rcpi":2,"packet_duration":3}]}"#
        );
    }

    #[test]
    fn text_is_one_readable_line() {
        let r = records();
        let mut v = TextVisitor::new();
        sample(&r).visit(&mut v);
        assert_eq!(
            v.out,
            "flow_sample sequence_number=1 source_id_type=0 source_id_index=2 sampling_rate=10 sample_pool=100 drops=0 input_format=0 input=2 output_format=0 output=0 records=[{sampled_header enterprise=0 format=1 protocol=1 frame_length=60 stripped=4 header=abcd} {extended_80211_rx enterprise=0 format=1014 ssid=\"caf\\\"e\" bssid=02:00:00:00:00:01 version=4 channel=6 speed=65000000 rsni=1 rcpi=2 packet_duration=3}]"
        );
    }
}
