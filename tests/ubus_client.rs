//! The ubus client against a real broker: the pure-Rust `ubusd` (crates.io
//! `ubusd` 0.5.0, `cargo install ubusd --version 0.5.0 --locked`), found
//! through `WSFLOWD_UBUSD`, on PATH or in `~/.cargo/bin`. Without it the
//! tests skip with a message, or fail when `WSFLOWD_REQUIRE_TOOLS=1`.
//!
//! `WSFLOWD_UBUSD` may name the C ubusd built from openwrt/ubus instead
//! (both take `-s SOCKET`): the same tests then check interoperability
//! with the original broker.
//!
//! Every test starts its own broker on a socket in a temporary directory;
//! the broker is killed and the directory removed when the test ends,
//! failed or not.

use std::io::{self, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::ubusd::Broker;
use common::TempDir;
use wsflowd::ubus::message::{self, msg_type, Header};
use wsflowd::ubus::{
    status, to_json, Attrs, BlobBuf, BlobmsgType, Connection, Event, ObjectInfo, ReadStatus, Value,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// An event, owned (the client's events borrow its buffer).
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Hello(u32),
    Status {
        seq: u16,
        peer: u32,
        status: i32,
        objid: Option<u32>,
        subscribers: Option<Vec<u32>>,
    },
    Data {
        seq: u16,
        peer: u32,
        objid: Option<u32>,
        data: Option<Vec<u8>>,
        attrs: Vec<u8>,
    },
    Invoke {
        seq: u16,
        peer: u32,
        objid: u32,
        method: String,
        data: Vec<u8>,
        no_reply: bool,
    },
    Unsubscribe {
        objid: u32,
        target: u32,
    },
    Notify {
        objid: u32,
        active: bool,
    },
    Malformed(String),
    Closed,
}

impl Ev {
    fn of(e: Event<'_>) -> Ev {
        match e {
            Event::Hello { client_id } => Ev::Hello(client_id),
            Event::Status {
                seq,
                peer,
                status,
                objid,
                subscribers,
            } => Ev::Status {
                seq,
                peer,
                status,
                objid,
                subscribers: subscribers.map(|s| s.map(|a| a.unwrap().u32().unwrap()).collect()),
            },
            Event::Data {
                seq,
                peer,
                objid,
                data,
                attrs,
            } => Ev::Data {
                seq,
                peer,
                objid,
                data: data.map(|d| d.as_bytes().to_vec()),
                attrs: attrs.as_bytes().to_vec(),
            },
            Event::Invoke {
                seq,
                peer,
                objid,
                method,
                data,
                no_reply,
            } => Ev::Invoke {
                seq,
                peer,
                objid,
                method: method.to_string(),
                data: data.as_bytes().to_vec(),
                no_reply,
            },
            Event::Unsubscribe { objid, target } => Ev::Unsubscribe { objid, target },
            Event::Notify { objid, active } => Ev::Notify { objid, active },
            Event::Malformed { error, .. } => Ev::Malformed(error.to_string()),
            Event::Closed => Ev::Closed,
        }
    }
}

/// How a client answers the INVOKEs of its objects: `(method, args)` ->
/// (reply table, status).
type Responder = Box<dyn FnMut(&str, Attrs<'_>) -> (Option<BlobBuf>, i32)>;

struct Client {
    name: &'static str,
    conn: Connection,
    events: Vec<Ev>,
    responder: Option<Responder>,
    /// INVOKEs answered (method, no_reply).
    answered: Vec<(String, bool)>,
}

/// Clients pumped together, so that one answers while another waits.
struct World {
    clients: Vec<Client>,
}

impl World {
    fn new() -> World {
        World {
            clients: Vec::new(),
        }
    }

    /// Connects a client and waits for its HELLO; returns its index.
    fn connect(&mut self, name: &'static str, socket: &Path) -> usize {
        let conn = Connection::connect(socket).unwrap();
        self.clients.push(Client {
            name,
            conn,
            events: Vec::new(),
            responder: None,
            answered: Vec::new(),
        });
        let i = self.clients.len() - 1;
        self.wait(i, "HELLO", |e| matches!(e, Ev::Hello(_)));
        assert!(self.clients[i].conn.is_ready());
        i
    }

    /// One poll round over every client: write what is queued, read what
    /// came, answer INVOKEs.
    fn step(&mut self, timeout_ms: i32) {
        let mut fds: Vec<libc::pollfd> = self
            .clients
            .iter()
            .map(|c| wsflowd::sys::pollfd(c.conn.fd(), c.conn.poll_events()))
            .collect();
        if let Err(e) = wsflowd::sys::poll(&mut fds, timeout_ms) {
            panic!("poll: {e}");
        }
        for c in &mut self.clients {
            if c.conn.wants_write() {
                c.conn.flush().unwrap();
            }
            let mut new = Vec::new();
            let status = c.conn.read(|e| new.push(Ev::of(e)));
            let status = status.unwrap_or_else(|e| panic!("{}: read: {e}", c.name));
            for e in &new {
                if let (
                    Ev::Invoke {
                        seq,
                        peer,
                        objid,
                        method,
                        data,
                        no_reply,
                    },
                    Some(respond),
                ) = (e, c.responder.as_mut())
                {
                    if *no_reply {
                        c.answered.push((method.clone(), true));
                        continue;
                    }
                    let (table, code) = respond(method, Attrs::new(data));
                    if let Some(t) = table {
                        c.conn.reply(*peer, *seq, *objid, t.payload()).unwrap();
                    }
                    c.conn.status(*peer, *seq, *objid, code).unwrap();
                    c.answered.push((method.clone(), false));
                }
            }
            // Closed is reported once: by the read that found it.
            if status == ReadStatus::Closed {
                assert!(c.conn.fd() == -1 && new.iter().filter(|e| **e == Ev::Closed).count() <= 1);
            }
            c.events.extend(new);
            if c.conn.wants_write() {
                c.conn.flush().unwrap();
            }
        }
    }

    /// Pumps until client `i` has an event matching `f`; removes and
    /// returns it.
    fn wait(&mut self, i: usize, what: &str, mut f: impl FnMut(&Ev) -> bool) -> Ev {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(k) = self.clients[i].events.iter().position(&mut f) {
                return self.clients[i].events.remove(k);
            }
            assert!(
                Instant::now() < deadline,
                "{}: timed out waiting for {what}; events: {:?}",
                self.clients[i].name,
                self.clients[i].events
            );
            self.step(50);
        }
    }

    /// Waits for the STATUS of request `seq` (from `peer`).
    fn status(&mut self, i: usize, seq: u16, peer: u32) -> Ev {
        self.wait(
            i,
            &format!("STATUS {seq}"),
            |e| matches!(e, Ev::Status { seq: s, peer: p, .. } if *s == seq && *p == peer),
        )
    }

    fn status_code(&mut self, i: usize, seq: u16, peer: u32) -> i32 {
        match self.status(i, seq, peer) {
            Ev::Status { status, .. } => status,
            _ => unreachable!(),
        }
    }

    /// Adds an object and returns its id (DATA then STATUS 0).
    fn add_object(
        &mut self,
        i: usize,
        path: Option<&str>,
        methods: &[(&str, &[(&str, BlobmsgType)])],
    ) -> u32 {
        let seq = self.clients[i].conn.add_object(path, methods).unwrap();
        let id = match self.wait(
            i,
            "ADD_OBJECT data",
            |e| matches!(e, Ev::Data { seq: s, .. } if *s == seq),
        ) {
            Ev::Data {
                objid: Some(id), ..
            } => id,
            other => panic!("ADD_OBJECT answered {other:?}"),
        };
        assert_eq!(self.status_code(i, seq, 0), status::OK);
        id
    }

    /// Pumps for a while, for messages that must not come.
    fn settle(&mut self) {
        let end = Instant::now() + Duration::from_millis(200);
        while Instant::now() < end {
            self.step(20);
        }
    }
}

const METHODS: &[(&str, &[(&str, BlobmsgType)])] = &[
    (
        "get",
        &[("n", BlobmsgType::Int32), ("name", BlobmsgType::String)],
    ),
    ("void", &[]),
];

/// The reply of `test.obj`'s `get`: every blobmsg type.
fn every_type(n: i64) -> BlobBuf {
    let mut b = BlobBuf::new();
    b.string("string", "wlan0 \"quoted\"\n");
    b.int64("int64", -(1 << 40));
    b.int32("int32", -70);
    b.int16("int16", -300);
    b.int8("int8", 5);
    b.bool("bool", false);
    b.double("double", 2.25);
    let t = b.table_start("table");
    b.int32("rx", 1);
    b.int32("tx", 2);
    b.table_end(t);
    let a = b.array_start("array");
    b.string("", "a");
    b.int32("", 7);
    let t = b.table_start("");
    b.table_end(t);
    b.array_end(a);
    b.int64("echo", n);
    b
}

fn check_every_type(data: Attrs<'_>, n: i64) {
    assert_eq!(
        data.get("string"),
        Some(Value::String("wlan0 \"quoted\"\n"))
    );
    assert_eq!(data.get("int64"), Some(Value::Int64(-(1 << 40))));
    assert_eq!(data.get("int32"), Some(Value::Int32(-70)));
    assert_eq!(data.get("int16"), Some(Value::Int16(-300)));
    assert_eq!(data.get("int8"), Some(Value::Int8(5)));
    assert_eq!(data.get("bool"), Some(Value::Int8(0)));
    assert_eq!(data.get("double"), Some(Value::Double(2.25)));
    let t = data.get_table("table").unwrap();
    assert_eq!((t.get_i64("rx"), t.get_i64("tx")), (Some(1), Some(2)));
    let items: Vec<Value> = data
        .get_array("array")
        .unwrap()
        .fields()
        .map(|f| f.unwrap().value)
        .collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0], Value::String("a"));
    assert_eq!(items[1], Value::Int32(7));
    assert!(items[2].as_table().unwrap().is_empty());
    assert_eq!(data.get_i64("echo"), Some(n));
    assert_eq!(data.check(), Ok(15));
    let mut json = String::new();
    to_json(data, &mut json).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"string":"wlan0 \"quoted\"\n","int64":-1099511627776,"int32":-70,"int16":-300,"int8":true,"bool":false,"double":2.250000,"table":{{"rx":1,"tx":2}},"array":["a",7,{{}}],"echo":{n}}}"#
        )
    );
}

/// `test.obj`'s methods: `get` answers every type, `void` nothing, the
/// rest METHOD_NOT_FOUND.
fn publisher() -> Responder {
    Box::new(|method, args| match method {
        "get" => {
            let n = args.get_i64("n").unwrap_or(-1);
            (Some(every_type(n)), status::OK)
        }
        "void" => (None, status::OK),
        _ => (None, status::METHOD_NOT_FOUND),
    })
}

#[test]
fn publish_lookup_and_invoke() {
    let Some(broker) = Broker::start_or_skip("publish_lookup_and_invoke") else {
        return;
    };
    let mut w = World::new();
    let publ = w.connect("publisher", &broker.socket);
    let call = w.connect("caller", &broker.socket);
    assert_ne!(
        w.clients[publ].conn.client_id(),
        w.clients[call].conn.client_id()
    );
    w.clients[publ].responder = Some(publisher());
    let obj = w.add_object(publ, Some("test.obj"), METHODS);
    // Several objects on one connection.
    let other = w.add_object(publ, Some("test.other"), &[]);
    assert_ne!(obj, other);

    // LOOKUP by path: one DATA (path, id, type, signature), then STATUS 0.
    let seq = w.clients[call].conn.lookup(Some("test.obj")).unwrap();
    let Ev::Data { attrs, .. } = w.wait(
        call,
        "LOOKUP data",
        |e| matches!(e, Ev::Data { seq: s, .. } if *s == seq),
    ) else {
        unreachable!()
    };
    let info = ObjectInfo::parse(Attrs::new(&attrs)).unwrap().unwrap();
    assert_eq!((info.path, info.id), ("test.obj", obj));
    let sig = info.signature.unwrap();
    let get = sig.get_table("get").unwrap();
    assert_eq!(get.get_i64("n"), Some(i64::from(BlobmsgType::Int32.id())));
    assert_eq!(
        get.get_i64("name"),
        Some(i64::from(BlobmsgType::String.id()))
    );
    assert!(sig.get_table("void").unwrap().is_empty());
    assert_eq!(w.status_code(call, seq, 0), status::OK);

    // A wildcard finds both; a missing path is NOT_FOUND.
    let seq = w.clients[call].conn.lookup(Some("test.*")).unwrap();
    assert_eq!(w.status_code(call, seq, 0), status::OK);
    let mut paths: Vec<String> = w.clients[call]
        .events
        .drain(..)
        .filter_map(|e| match e {
            Ev::Data { seq: s, attrs, .. } if s == seq => {
                let o = ObjectInfo::parse(Attrs::new(&attrs)).unwrap().unwrap();
                Some(o.path.to_string())
            }
            _ => None,
        })
        .collect();
    paths.sort();
    assert_eq!(paths, ["test.obj", "test.other"]);
    let seq = w.clients[call].conn.lookup(Some("no.such")).unwrap();
    assert_eq!(w.status_code(call, seq, 0), status::NOT_FOUND);

    // INVOKE with INT32 arguments: the reply table, then STATUS 0, both
    // from the object.
    let mut args = BlobBuf::new();
    args.int32("n", 7);
    args.string("name", "x");
    let seq = w.clients[call]
        .conn
        .invoke(obj, "get", args.payload())
        .unwrap();
    let Ev::Data {
        peer, objid, data, ..
    } = w.wait(
        call,
        "INVOKE data",
        |e| matches!(e, Ev::Data { seq: s, .. } if *s == seq),
    )
    else {
        unreachable!()
    };
    assert_eq!((peer, objid), (obj, Some(obj)));
    check_every_type(Attrs::new(&data.unwrap()), 7);
    assert_eq!(w.status_code(call, seq, obj), status::OK);

    // A method without reply, an unknown method, an unknown object.
    let seq = w.clients[call].conn.invoke(obj, "void", &[]).unwrap();
    assert_eq!(w.status_code(call, seq, obj), status::OK);
    assert!(!w.clients[call]
        .events
        .iter()
        .any(|e| matches!(e, Ev::Data { seq: s, .. } if *s == seq)));
    let seq = w.clients[call].conn.invoke(obj, "nope", &[]).unwrap();
    assert_eq!(w.status_code(call, seq, obj), status::METHOD_NOT_FOUND);
    // (The broker's own STATUS echoes the request's peer: the target.)
    let seq = w.clients[call]
        .conn
        .invoke(0x7fff_fff0, "get", &[])
        .unwrap();
    assert_eq!(w.status_code(call, seq, 0x7fff_fff0), status::NOT_FOUND);

    // PING comes back as DATA.
    let seq = w.clients[call].conn.ping().unwrap();
    w.wait(
        call,
        "pong",
        |e| matches!(e, Ev::Data { seq: s, .. } if *s == seq),
    );

    // Removing the object: DATA, STATUS 0; then it is gone.
    let seq = w.clients[publ].conn.remove_object(obj).unwrap();
    assert_eq!(w.status_code(publ, seq, 0), status::OK);
    let seq = w.clients[call].conn.lookup(Some("test.obj")).unwrap();
    assert_eq!(w.status_code(call, seq, 0), status::NOT_FOUND);
    for c in &w.clients {
        assert!(
            !c.events.iter().any(|e| matches!(e, Ev::Malformed(_))),
            "{}: {:?}",
            c.name,
            c.events
        );
    }
}

#[test]
fn subscriptions_and_notifications() {
    let Some(broker) = Broker::start_or_skip("subscriptions_and_notifications") else {
        return;
    };
    let mut w = World::new();
    let publ = w.connect("publisher", &broker.socket);
    let sub = w.connect("subscriber", &broker.socket);
    w.clients[publ].responder = Some(publisher());
    // The subscriber answers every notification with 0, at once.
    w.clients[sub].responder = Some(Box::new(|_, _| (None, status::OK)));
    let obj = w.add_object(publ, Some("test.obj"), METHODS);
    // A subscriber is a nameless object without methods.
    let me = w.add_object(sub, None, &[]);

    let seq = w.clients[sub].conn.subscribe(me, obj).unwrap();
    assert_eq!(w.status_code(sub, seq, 0), status::OK);
    assert_eq!(
        w.wait(publ, "NOTIFY active", |e| matches!(e, Ev::Notify { .. })),
        Ev::Notify {
            objid: obj,
            active: true
        }
    );

    let mut data = BlobBuf::new();
    data.string("address", "02:00:00:00:00:01");
    data.int32("signal", -61);

    // no_reply: the subscriber gets it flagged and does not answer; the
    // notifier gets nothing back.
    let quiet = w.clients[publ]
        .conn
        .notify(obj, "probe", data.payload(), true)
        .unwrap();
    let Ev::Invoke {
        objid,
        method,
        data: got,
        no_reply,
        ..
    } = w.wait(sub, "notification", |e| matches!(e, Ev::Invoke { .. }))
    else {
        unreachable!()
    };
    assert_eq!((objid, method.as_str(), no_reply), (me, "probe", true));
    let got = Attrs::new(&got);
    assert_eq!(got.get_str("address"), Some("02:00:00:00:00:01"));
    assert_eq!(got.get("signal"), Some(Value::Int32(-61)));

    // Wanting answers: the broker's STATUS lists the subscribers, then the
    // subscriber's STATUS 0 arrives from its object, same seq.
    let loud = w.clients[publ]
        .conn
        .notify(obj, "assoc", data.payload(), false)
        .unwrap();
    assert_eq!(
        w.status(publ, loud, obj),
        Ev::Status {
            seq: loud,
            peer: obj,
            status: status::OK,
            objid: Some(obj),
            subscribers: Some(vec![me]),
        }
    );
    assert_eq!(w.status_code(publ, loud, me), status::OK);
    assert_eq!(
        w.clients[sub].answered,
        [("probe".to_string(), true), ("assoc".to_string(), false)]
    );
    w.settle();
    assert!(
        !w.clients[publ]
            .events
            .iter()
            .any(|e| matches!(e, Ev::Status { seq, .. } if *seq == quiet)),
        "no answer to a no_reply notification: {:?}",
        w.clients[publ].events
    );

    // Unsubscribing: the publisher learns it has no subscribers left.
    let seq = w.clients[sub].conn.unsubscribe(me, obj).unwrap();
    assert_eq!(w.status_code(sub, seq, 0), status::OK);
    assert_eq!(
        w.wait(publ, "NOTIFY inactive", |e| matches!(e, Ev::Notify { .. })),
        Ev::Notify {
            objid: obj,
            active: false
        }
    );

    // Subscribed again, the object goes away: UNSUBSCRIBE to the subscriber.
    let seq = w.clients[sub].conn.subscribe(me, obj).unwrap();
    assert_eq!(w.status_code(sub, seq, 0), status::OK);
    let seq = w.clients[publ].conn.remove_object(obj).unwrap();
    assert_eq!(w.status_code(publ, seq, 0), status::OK);
    assert_eq!(
        w.wait(sub, "UNSUBSCRIBE", |e| matches!(e, Ev::Unsubscribe { .. })),
        Ev::Unsubscribe {
            objid: me,
            target: obj
        }
    );
}

#[test]
fn object_events_and_sent_events() {
    let Some(broker) = Broker::start_or_skip("object_events_and_sent_events") else {
        return;
    };
    let mut w = World::new();
    let listen = w.connect("listener", &broker.socket);
    let publ = w.connect("publisher", &broker.socket);
    w.clients[listen].responder = Some(Box::new(|_, _| (None, status::OK)));
    let me = w.add_object(listen, None, &[]);
    for pattern in ["ubus.object.*", "test.*"] {
        let seq = w.clients[listen].conn.register_event(me, pattern).unwrap();
        assert_eq!(
            w.status_code(listen, seq, message::SYSTEM_OBJECT_EVENT),
            status::OK
        );
    }

    let obj = w.add_object(publ, Some("test.evt"), &[]);
    let event = |w: &mut World, name: &str| -> (u32, Vec<u8>) {
        let Ev::Invoke {
            objid,
            data,
            no_reply,
            ..
        } = w.wait(
            listen,
            name,
            |e| matches!(e, Ev::Invoke { method, .. } if method == name),
        )
        else {
            unreachable!()
        };
        assert!(!no_reply);
        (objid, data)
    };
    let (to, data) = event(&mut w, "ubus.object.add");
    assert_eq!(to, me);
    let data = Attrs::new(&data);
    assert_eq!(data.get_u32("id"), Some(obj));
    assert_eq!(data.get_str("path"), Some("test.evt"));

    let seq = w.clients[publ].conn.remove_object(obj).unwrap();
    assert_eq!(w.status_code(publ, seq, 0), status::OK);
    let (to, data) = event(&mut w, "ubus.object.remove");
    assert_eq!(to, me);
    let data = Attrs::new(&data);
    assert_eq!(data.get_u32("id"), Some(obj));
    assert_eq!(data.get_str("path"), Some("test.evt"));

    // `ubus send`: another client's event, with its data.
    let mut d = BlobBuf::new();
    d.int32("x", 1);
    let seq = w.clients[publ]
        .conn
        .send_event("test.hello", d.payload())
        .unwrap();
    assert_eq!(
        w.status_code(publ, seq, message::SYSTEM_OBJECT_EVENT),
        status::OK
    );
    let (to, data) = event(&mut w, "test.hello");
    assert_eq!(to, me);
    assert_eq!(Attrs::new(&data).get_i64("x"), Some(1));
}

#[test]
fn full_send_queue_is_an_error_not_a_block() {
    // A "broker" that greets and then never reads.
    let tmp = TempDir::new("ubus-stuck");
    let dir = tmp.path();
    let listener = UnixListener::bind(dir.join("s")).unwrap();
    let mut conn = Connection::connect(&dir.join("s")).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    let mut hello = Vec::new();
    message::encode(
        &mut hello,
        Header::new(msg_type::HELLO, 0, 0x42),
        &BlobBuf::new(),
    );
    peer.write_all(&hello).unwrap();

    let started = Instant::now();
    let mut args = BlobBuf::new();
    args.string("pad", &"p".repeat(4000));
    let mut sent = 0usize;
    let error = loop {
        assert!(started.elapsed() < TIMEOUT, "the queue never filled");
        let _ = wsflowd::sys::poll(
            &mut [wsflowd::sys::pollfd(conn.fd(), conn.poll_events())],
            0,
        );
        conn.read(|_| {}).unwrap();
        conn.flush().unwrap();
        match conn.invoke(9, "m", args.payload()) {
            Ok(_) => sent += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), io::ErrorKind::OutOfMemory, "{error}");
    assert!(error.to_string().contains("queue full"), "{error}");
    // The socket buffers and the 1 MiB queue are full; nothing blocked.
    assert!(sent * 4000 > wsflowd::ubus::DEFAULT_QUEUE_LIMIT);
    assert!(conn.pending_bytes() <= wsflowd::ubus::DEFAULT_QUEUE_LIMIT);
    assert!(conn.wants_write());
    assert!(started.elapsed() < TIMEOUT);
    drop(peer);
}

#[test]
fn broker_gone_then_reconnect() {
    let Some(broker) = Broker::start_or_skip("broker_gone_then_reconnect") else {
        return;
    };
    let mut w = World::new();
    let a = w.connect("a", &broker.socket);
    w.add_object(a, Some("test.obj"), METHODS);

    let mut broker = broker;
    broker.kill();
    w.wait(a, "Closed", |e| *e == Ev::Closed);
    assert!(w.clients[a].conn.is_closed());
    assert_eq!(w.clients[a].conn.fd(), -1);
    assert_eq!(
        w.clients[a].conn.lookup(None).unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
    // Connecting to the dead socket fails at once, without blocking.
    assert!(Connection::connect(&broker.socket).is_err());

    // A new broker on the same path: connect again, publish again.
    let broker = broker.restart();
    let mut w = World::new();
    let a = w.connect("a again", &broker.socket);
    w.clients[a].responder = Some(publisher());
    let obj = w.add_object(a, Some("test.obj"), METHODS);
    let b = w.connect("b", &broker.socket);
    let seq = w.clients[b].conn.lookup(None).unwrap();
    assert_eq!(w.status_code(b, seq, 0), status::OK);
    let found: Vec<(String, u32)> = w.clients[b]
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::Data { seq: s, attrs, .. } if *s == seq => ObjectInfo::parse(Attrs::new(attrs))
                .unwrap()
                .map(|o| (o.path.to_string(), o.id)),
            _ => None,
        })
        .collect();
    assert!(found.contains(&("test.obj".to_string(), obj)), "{found:?}");
    let seq = w.clients[b].conn.invoke(obj, "get", &[]).unwrap();
    let Ev::Data { data, .. } = w.wait(
        b,
        "reply",
        |e| matches!(e, Ev::Data { seq: s, .. } if *s == seq),
    ) else {
        unreachable!()
    };
    check_every_type(Attrs::new(&data.unwrap()), -1);
}
