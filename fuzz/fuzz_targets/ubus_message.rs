//! Fuzzes the ubus reader on arbitrary bytes: framing, the message and
//! its attributes, every blobmsg value at every depth, and the JSON
//! rendering. Nothing may panic; what parses must hold together: offsets
//! stay inside the input, and a table that reads cleanly re-encodes
//! (through `BlobBuf`) into bytes that read back as the same values.
//!
//! The same bytes are also read as a bare blobmsg table, so that the
//! value readers get inputs not shaped like a message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wsflowd::ubus::blob::{array_to_json, MAX_DEPTH};
use wsflowd::ubus::message::{frame_len, Message, MsgAttrs, ObjectInfo, HEADER_LEN, MAX_MSG_LEN};
use wsflowd::ubus::{to_json, to_json_indented, Attrs, BlobBuf, Value};

/// Walks every attribute and value below `attrs`; returns whether all
/// were well formed. Offsets must stay within `end`.
fn walk(attrs: &Attrs<'_>, end: usize, depth: usize) -> bool {
    if depth > MAX_DEPTH + 1 {
        return false;
    }
    let mut clean = true;
    for a in attrs.clone() {
        let a = match a {
            Ok(a) => a,
            Err(e) => {
                assert!(e.offset <= end, "{e}");
                let _ = e.to_string();
                return false;
            }
        };
        assert!(a.offset + 4 + a.data.len() <= end);
        let _ = (a.u8(), a.u16(), a.u32(), a.i32(), a.u64(), a.string());
        match a.blobmsg() {
            Ok(f) => {
                let v = &f.value;
                let _ = (v.as_i64(), v.as_u64(), v.as_bool(), v.as_f64(), v.as_str());
                let _ = v.type_id();
                if let Value::Table(inner) | Value::Array(inner) = v {
                    assert!(inner.offset() + inner.as_bytes().len() <= end);
                    clean &= walk(inner, end, depth + 1);
                }
            }
            Err(e) => {
                assert!(e.offset <= end, "{e}");
                clean = false;
            }
        }
    }
    clean
}

/// Re-encodes a well-formed blobmsg list, recursively, value by value.
fn reencode(attrs: &Attrs<'_>, b: &mut BlobBuf, array: bool) {
    for f in attrs.fields() {
        let f = f.expect("checked");
        let name = if array { "" } else { f.name };
        match &f.value {
            Value::Table(inner) => {
                let m = b.table_start(name);
                reencode(inner, b, false);
                b.table_end(m);
            }
            Value::Array(inner) => {
                let m = b.array_start(name);
                reencode(inner, b, true);
                b.array_end(m);
            }
            v => b.value(name, v),
        }
    }
}

/// Compares two lists value by value (names too, tables and arrays
/// recursively; NaN equals NaN bit for bit).
fn same(a: &Attrs<'_>, b: &Attrs<'_>, array: bool) -> bool {
    let mut x = a.fields();
    let mut y = b.fields();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(Ok(p)), Some(Ok(q))) => {
                if !array && p.name != q.name {
                    return false;
                }
                let ok = match (&p.value, &q.value) {
                    (Value::Table(s), Value::Table(t)) => same(s, t, false),
                    (Value::Array(s), Value::Array(t)) => same(s, t, true),
                    (Value::Double(s), Value::Double(t)) => s.to_bits() == t.to_bits(),
                    (s, t) => s == t,
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn exercise_table(table: Attrs<'_>, end: usize) {
    let clean = walk(&table, end, 0);
    let checked = table.check();
    let mut json = String::new();
    let rendered = to_json(table.clone(), &mut json);
    let mut indented = String::new();
    let _ = to_json_indented(table.clone(), &mut indented);
    let mut array = String::new();
    let _ = array_to_json(table.clone(), &mut array);
    let _ = (table.get("id"), table.get_str("path"), table.lookup("x"));
    if clean && checked.is_ok() {
        assert!(rendered.is_ok(), "clean input renders");
        assert!(json.starts_with('{') && json.ends_with('}'));
        // What reads cleanly re-encodes to the same values.
        let mut b = BlobBuf::new();
        reencode(&table, &mut b, false);
        if b.is_valid() {
            assert!(
                same(&table, &b.attrs(), false),
                "re-encoding changed a value"
            );
            let mut again = String::new();
            to_json(b.attrs(), &mut again).expect("re-encoded renders");
            assert_eq!(json, again);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match frame_len(data) {
        Ok(Some(len)) => assert!(len >= HEADER_LEN + 4 && len <= HEADER_LEN + MAX_MSG_LEN),
        Ok(None) => assert!(data.len() < HEADER_LEN + 4),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(msg) = Message::parse(data) {
        assert!(msg.len <= data.len());
        assert_eq!(frame_len(data), Ok(Some(msg.len)));
        let end = msg.len;
        walk(&msg.attrs, end, 0);
        match msg.fields() {
            Ok(f) => {
                let MsgAttrs {
                    data: table,
                    signature,
                    subscribers,
                    ..
                } = f.clone();
                for t in [table, signature].into_iter().flatten() {
                    exercise_table(t, end);
                }
                if let Some(s) = subscribers {
                    for a in s.flatten() {
                        let _ = a.u32();
                    }
                }
                if let Ok(Some(o)) = ObjectInfo::parse(msg.attrs.clone()) {
                    assert_eq!(Some(o.path), f.objpath);
                }
            }
            Err(e) => assert!(e.offset <= end, "{e}"),
        }
    }
    exercise_table(Attrs::new(data), data.len());
});
