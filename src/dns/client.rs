//! A non-blocking lookup, for the event loop: a service's SRV and TXT
//! records (DNS-SD), or a host's A and AAAA records (a collector's name,
//! [`super::host`]). Nothing here waits.
//!
//! A [`Lookup`] asks the nameservers of resolv.conf as the C libraries do:
//! one server at a time, in order, for `attempts` rounds, each try waiting
//! `timeout` seconds (checked by [`Lookup::tick`], once a second). Both
//! queries of a name (SRV and TXT, or A and AAAA) go out together on one UDP socket
//! connected to the server, so only that server's datagrams arrive (and an
//! ICMP "port unreachable", nothing listening there, ends the try at once);
//! a response counts only if its id, its question (name, type, class) and
//! its flags match a query (RFC 5452), others are dropped. Ids come from
//! the agent's random generator and the source port from the kernel's
//! ephemeral range.
//!
//! A try fails on a timeout, a socket error, SERVFAIL, REFUSED or another
//! error code, or a malformed response: the next server is asked. FORMERR
//! to a query with EDNS(0) is asked again without it, from the same
//! server. NOERROR and NXDOMAIN are answers; a name without SRV records
//! (or without addresses; NXDOMAIN, or no data) moves on to the next name
//! of the search list, as `res_search` does. A truncated response (TC) whose records are complete
//! is used as it is (1232 bytes hold more SRV records than the agent uses);
//! one without a single complete record fails the try: there is no TCP.

use crate::ip::Text;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use super::message::{
    rcode, rtype, write_query, Message, Name, Rdata, Section, CLASS_IN, MAX_QUERY_LEN,
};
use super::resolv::ResolvConf;
use crate::rng::Rng;

/// The UDP payload announced with EDNS(0): the size the DNS flag day of
/// 2020 recommends, below any path MTU's fragmentation.
pub const EDNS_PAYLOAD: u16 = 1232;
/// Bytes received at most: a server that ignores the announced size is
/// still read up to this.
const RECEIVE_BYTES: usize = 4096;
/// SRV records kept from one answer at most.
pub const MAX_SRV: usize = 64;
/// Bytes of TXT strings kept from one answer at most (RFC 6763 §6.2
/// advises under 200 in all, 1300 at most).
pub const MAX_TXT_BYTES: usize = 1024;
/// CNAMEs followed from the name asked at most.
const MAX_CNAMES: usize = 8;
/// Addresses kept from one answer at most (musl's `MAXADDRS`).
pub const MAX_ADDRESSES: usize = 48;

/// What a lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// A service's SRV and TXT records (DNS-SD).
    Service,
    /// A host's addresses: A and AAAA records.
    Host,
}

impl Query {
    /// The query types, in the order of the replies.
    fn types(self) -> [u16; 2] {
        match self {
            Query::Service => [rtype::SRV, rtype::TXT],
            Query::Host => [rtype::A, rtype::AAAA],
        }
    }
}

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// The host, as text without the final dot; `.` when the record says
    /// the service is not available.
    pub target: String,
}

/// What the DNS said of a service or a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The name that has the SRV records (or the addresses); the last one
    /// asked when none has.
    pub name: String,
    /// The SRV records, as sent (at most [`MAX_SRV`]).
    pub srv: Vec<SrvTarget>,
    /// SRV records beyond [`MAX_SRV`], left out.
    pub srv_left_out: usize,
    /// The strings of the TXT records of the same name, in order, within
    /// [`MAX_TXT_BYTES`].
    pub txt: Vec<Vec<u8>>,
    /// TXT records read.
    pub txt_records: usize,
    /// Bytes of TXT strings beyond [`MAX_TXT_BYTES`], left out.
    pub txt_left_out: usize,
    /// A host's addresses: those of the A records, then those of the AAAA
    /// records, each in the order sent (at most [`MAX_ADDRESSES`] each).
    pub addresses: Vec<IpAddr>,
    /// The smallest TTL of the records read (and the CNAMEs that led to
    /// them); for a name without records, the negative TTL of the zone's
    /// SOA if the server sent it (RFC 2308). `None`: no TTL was given.
    pub ttl_s: Option<u32>,
    /// A response was truncated (its complete records were used).
    pub truncated: bool,
    /// The server that answered.
    pub server: SocketAddr,
}

/// How a lookup is going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Pending,
    /// The answer, or why there is none (every try failed).
    Done(Result<Answer, String>),
}

/// What one response said of the name and type asked.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// SRV records, at most [`MAX_SRV`].
    pub srv: Vec<SrvTarget>,
    pub srv_left_out: usize,
    /// TXT strings, [`MAX_TXT_BYTES`] at most in all.
    pub txt: Vec<Vec<u8>>,
    pub txt_records: usize,
    pub txt_bytes: usize,
    pub txt_left_out: usize,
    /// Addresses (A or AAAA), at most [`MAX_ADDRESSES`].
    pub addresses: Vec<IpAddr>,
    /// Smallest TTL of the records used.
    pub ttl_s: Option<u32>,
    /// From an SOA in the authority section.
    pub negative_ttl_s: Option<u32>,
    pub truncated: bool,
}

fn min_ttl(a: Option<u32>, b: u32) -> Option<u32> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Reads the records that answer `qname`/`qtype`: those of `qname` and of
/// the names its CNAMEs lead to; the SOA's negative TTL.
pub fn read_reply(msg: &Message<'_>, qname: &Name, qtype: u16) -> Result<Reply, String> {
    let mut reply = Reply {
        truncated: msg.truncated(),
        ..Reply::default()
    };
    let mut owners: Vec<Name> = vec![*qname];
    // The CNAME chain first, in whatever order the records come.
    let mut chain_ttl = None;
    loop {
        let mut grew = false;
        for r in msg.records() {
            let Ok(r) = r else { break };
            if r.section != Section::Answer || r.rtype != rtype::CNAME || r.class != CLASS_IN {
                continue;
            }
            if !owners.contains(&r.name) {
                continue;
            }
            if let Ok(Rdata::Cname(target)) = r.data(msg) {
                if !owners.contains(&target) && owners.len() <= MAX_CNAMES {
                    owners.push(target);
                    chain_ttl = min_ttl(chain_ttl, r.ttl());
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    let mut complete = 0;
    for r in msg.records() {
        let r = match r {
            Ok(r) => r,
            // A truncated message ends in the middle of a record: the
            // complete ones before it are used.
            Err(_) if msg.truncated() => break,
            Err(e) => return Err(e.to_string()),
        };
        complete += 1;
        if r.class != CLASS_IN {
            continue;
        }
        match (r.section, r.rtype) {
            (Section::Answer, t) if t == qtype && owners.contains(&r.name) => {
                match r.data(msg).map_err(|e| e.to_string())? {
                    Rdata::Srv(s) => {
                        reply.ttl_s = min_ttl(reply.ttl_s, r.ttl());
                        if reply.srv.len() == MAX_SRV {
                            reply.srv_left_out += 1;
                            continue;
                        }
                        reply.srv.push(SrvTarget {
                            priority: s.priority,
                            weight: s.weight,
                            port: s.port,
                            target: s.target.to_string(),
                        });
                    }
                    Rdata::A(a) if reply.addresses.len() < MAX_ADDRESSES => {
                        reply.ttl_s = min_ttl(reply.ttl_s, r.ttl());
                        reply.addresses.push(a.into());
                    }
                    Rdata::Aaaa(a) if reply.addresses.len() < MAX_ADDRESSES => {
                        reply.ttl_s = min_ttl(reply.ttl_s, r.ttl());
                        reply.addresses.push(a.into());
                    }
                    Rdata::Txt(t) => {
                        reply.ttl_s = min_ttl(reply.ttl_s, r.ttl());
                        reply.txt_records += 1;
                        for s in t.strings() {
                            if reply.txt_bytes + s.len() > MAX_TXT_BYTES {
                                reply.txt_left_out += s.len();
                                continue;
                            }
                            reply.txt_bytes += s.len();
                            reply.txt.push(s.to_vec());
                        }
                    }
                    _ => {}
                }
            }
            (Section::Authority, rtype::SOA) => {
                if let Ok(Rdata::Soa(soa)) = r.data(msg) {
                    reply.negative_ttl_s = min_ttl(reply.negative_ttl_s, r.ttl().min(soa.minimum));
                }
            }
            _ => {}
        }
    }
    if reply.truncated && complete == 0 {
        return Err("a truncated response without one complete record (TCP is not used)".into());
    }
    if reply.ttl_s.is_some() {
        if let Some(c) = chain_ttl {
            reply.ttl_s = min_ttl(reply.ttl_s, c);
        }
    }
    Ok(reply)
}

/// What a socket error says of a server.
fn socket_error(server: SocketAddr, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => {
            format!("{}: nothing listens (ICMP port unreachable)", Text(server))
        }
        _ => format!("{}: {e}", Text(server)),
    }
}

/// A lookup of the SRV and TXT records (or the addresses) of the first
/// name of a list that has some.
#[derive(Debug)]
pub struct Lookup {
    query: Query,
    names: Vec<Name>,
    /// The name being asked.
    name_index: usize,
    servers: Vec<SocketAddr>,
    timeout_ms: u64,
    /// Tries per name: servers × attempts.
    tries: usize,
    try_index: usize,
    /// Queries carry an OPT record (until a server answers FORMERR).
    edns: bool,
    socket: Option<UdpSocket>,
    server: SocketAddr,
    sent_ms: u64,
    ids: [u16; 2],
    replies: [Option<Reply>; 2],
    last_error: String,
    /// The names without SRV records so far: the smallest negative TTL.
    negative_ttl_s: Option<u32>,
    /// A name without SRV records gave no negative TTL.
    negative_without_ttl: bool,
    rng: Rng,
    buffer: Vec<u8>,
}

impl Lookup {
    /// A lookup of `names` (at least one) from the servers of `conf`; it
    /// starts with [`Lookup::start`].
    pub fn new(query: Query, names: Vec<Name>, conf: &ResolvConf, rng: Rng) -> Lookup {
        let servers = if conf.nameservers.is_empty() {
            ResolvConf::default().nameservers
        } else {
            conf.nameservers.clone()
        };
        Lookup {
            query,
            names,
            name_index: 0,
            tries: servers.len() * conf.attempts.max(1) as usize,
            server: servers[0],
            servers,
            timeout_ms: u64::from(conf.timeout_s.max(1)) * 1000,
            try_index: 0,
            edns: true,
            socket: None,
            sent_ms: 0,
            ids: [0; 2],
            replies: [None, None],
            last_error: String::new(),
            negative_ttl_s: None,
            negative_without_ttl: false,
            rng,
            buffer: Vec::new(),
        }
    }

    /// Sends the first queries.
    pub fn start(&mut self, now_ms: u64) -> Progress {
        if self.names.is_empty() {
            return Progress::Done(Err("no name to look up".into()));
        }
        self.buffer = vec![0; RECEIVE_BYTES];
        self.send_try(now_ms)
    }

    /// The socket to poll for reading while queries are out.
    pub fn fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(|s| s.as_raw_fd())
    }

    /// The name being asked.
    pub fn name(&self) -> Option<&Name> {
        self.names.get(self.name_index)
    }

    /// The names of the lookup, in order.
    pub fn names(&self) -> &[Name] {
        &self.names
    }

    /// Sends the queries of the current name to the server of the current
    /// try, going on to the next tries while sending fails.
    fn send_try(&mut self, now_ms: u64) -> Progress {
        while self.try_index < self.tries {
            let server = self.servers[self.try_index % self.servers.len()];
            self.server = server;
            self.edns = true;
            match self.send_queries(server) {
                Ok(()) => {
                    self.sent_ms = now_ms;
                    return Progress::Pending;
                }
                Err(e) => {
                    self.last_error = socket_error(server, &e);
                    self.try_index += 1;
                }
            }
        }
        self.socket = None;
        let name = self.names[self.name_index];
        Progress::Done(Err(format!("{name}: {}", self.last_error)))
    }

    fn send_queries(&mut self, server: SocketAddr) -> io::Result<()> {
        self.socket = Some(crate::sys::socket::udp_connected(server)?);
        self.resend()
    }

    /// Sends both queries (with new ids) on the current socket.
    fn resend(&mut self) -> io::Result<()> {
        let Some(socket) = &self.socket else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let name = self.names[self.name_index];
        let payload = self.edns.then_some(EDNS_PAYLOAD);
        let mut query = [0u8; MAX_QUERY_LEN];
        for (k, qtype) in self.query.types().into_iter().enumerate() {
            let mut id = self.rng.next_u32() as u16;
            if k == 1 && id == self.ids[0] {
                id = id.wrapping_add(1);
            }
            self.ids[k] = id;
            self.replies[k] = None;
            let n = write_query(&mut query, id, &name, qtype, payload);
            socket.send(&query[..n])?;
        }
        Ok(())
    }

    /// Gives up the current try for `error`; asks the next server.
    fn next_try(&mut self, now_ms: u64, error: String) -> Progress {
        self.last_error = error;
        self.socket = None;
        self.try_index += 1;
        self.send_try(now_ms)
    }

    /// Once a second: a try whose answers did not come in time fails.
    pub fn tick(&mut self, now_ms: u64) -> Progress {
        if self.socket.is_some() && now_ms >= self.sent_ms + self.timeout_ms {
            let error = format!(
                "{}: no answer in {} s",
                Text(self.server),
                self.timeout_ms / 1000
            );
            return self.next_try(now_ms, error);
        }
        Progress::Pending
    }

    /// The socket is readable: reads the datagrams that came.
    pub fn readable(&mut self, now_ms: u64) -> Progress {
        let mut buffer = std::mem::take(&mut self.buffer);
        let progress = loop {
            let Some(socket) = &self.socket else {
                break Progress::Pending;
            };
            match socket.recv(&mut buffer) {
                Ok(n) => {
                    let p = self.response(&buffer[..n], now_ms);
                    if !matches!(p, Progress::Pending) {
                        break p;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Progress::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let error = socket_error(self.server, &e);
                    let p = self.next_try(now_ms, error);
                    if !matches!(p, Progress::Pending) {
                        break p;
                    }
                }
            }
        };
        self.buffer = buffer;
        progress
    }

    /// One datagram from the server.
    fn response(&mut self, bytes: &[u8], now_ms: u64) -> Progress {
        let Ok(msg) = Message::new_checked(bytes) else {
            return Progress::Pending;
        };
        if !msg.is_response() || msg.opcode() != 0 {
            return Progress::Pending;
        }
        let Some(k) = self.ids.iter().position(|&id| id == msg.id()) else {
            return Progress::Pending;
        };
        if self.replies[k].is_some() {
            return Progress::Pending;
        }
        let name = self.names[self.name_index];
        let qtype = self.query.types()[k];
        match msg.question() {
            Ok(q) if q.name == name && q.qtype == qtype && q.qclass == CLASS_IN => {}
            // Not an answer to our question: dropped, as a resolver does.
            _ => return Progress::Pending,
        }
        let server = self.server;
        match msg.rcode() {
            rcode::NOERROR | rcode::NXDOMAIN => match read_reply(&msg, &name, qtype) {
                Ok(reply) => self.replies[k] = Some(reply),
                Err(e) => return self.next_try(now_ms, format!("{}: {e}", Text(server))),
            },
            rcode::FORMERR if self.edns => {
                // A server that does not know EDNS(0): asked again without.
                self.edns = false;
                if let Err(e) = self.resend() {
                    return self.next_try(now_ms, format!("{}: {e}", Text(server)));
                }
                return Progress::Pending;
            }
            code => {
                let e = format!(
                    "{} answered {} to {} {}",
                    Text(server),
                    rcode::name(code),
                    name,
                    rtype::name(qtype)
                );
                return self.next_try(now_ms, e);
            }
        }
        if self.replies.iter().any(Option::is_none) {
            return Progress::Pending;
        }
        self.name_answered(now_ms)
    }

    /// Both replies of the current name came.
    fn name_answered(&mut self, now_ms: u64) -> Progress {
        self.socket = None;
        let [Some(first), Some(second)] = std::mem::take(&mut self.replies) else {
            return Progress::Done(Err("internal: a reply is missing".into()));
        };
        let name = self.names[self.name_index];
        let found = match self.query {
            Query::Service => !first.srv.is_empty() || first.srv_left_out > 0,
            Query::Host => !first.addresses.is_empty() || !second.addresses.is_empty(),
        };
        if found {
            let ttl_s = match (first.ttl_s, second.ttl_s) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let mut addresses = first.addresses;
            addresses.extend(second.addresses);
            return Progress::Done(Ok(Answer {
                name: name.to_string(),
                srv: first.srv,
                srv_left_out: first.srv_left_out,
                txt: second.txt,
                txt_records: second.txt_records,
                txt_left_out: second.txt_left_out,
                addresses,
                ttl_s,
                truncated: first.truncated || second.truncated,
                server: self.server,
            }));
        }
        // Nothing here: the next name of the list, if any. The negative
        // TTL is the first reply's (SRV's, or A's).
        match first.negative_ttl_s {
            Some(t) => self.negative_ttl_s = Some(self.negative_ttl_s.map_or(t, |n| n.min(t))),
            None => self.negative_without_ttl = true,
        }
        if self.name_index + 1 < self.names.len() {
            self.name_index += 1;
            self.try_index = 0;
            return self.send_try(now_ms);
        }
        Progress::Done(Ok(Answer {
            name: name.to_string(),
            srv: Vec::new(),
            srv_left_out: 0,
            txt: Vec::new(),
            txt_records: 0,
            txt_left_out: 0,
            addresses: Vec::new(),
            // A name without a negative TTL could be published any time:
            // none is claimed then.
            ttl_s: if self.negative_without_ttl {
                None
            } else {
                self.negative_ttl_s
            },
            truncated: false,
            server: self.server,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::{HEADER_LEN, MAX_NAME_LEN};
    use std::time::Duration;

    /// A DNS server on loopback for the client's tests: answers each query
    /// with what `answer` makes of it (or nothing).
    struct TestServer {
        socket: UdpSocket,
    }

    impl TestServer {
        fn new() -> TestServer {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            TestServer { socket }
        }

        fn addr(&self) -> SocketAddr {
            self.socket.local_addr().unwrap()
        }

        /// Receives one query: (its bytes, where from).
        fn query(&self) -> Option<(Vec<u8>, SocketAddr)> {
            let mut buf = [0u8; 1500];
            let (n, from) = self.socket.recv_from(&mut buf).ok()?;
            Some((buf[..n].to_vec(), from))
        }

        fn send(&self, bytes: &[u8], to: SocketAddr) {
            self.socket.send_to(bytes, to).unwrap();
        }
    }

    /// A response to `query`: its header and question with QR set, the
    /// rcode, and the answer records given (owner written as a pointer to
    /// the question's name).
    fn respond(query: &[u8], rcode: u8, flags: u16, answers: &[(u16, u32, Vec<u8>)]) -> Vec<u8> {
        let msg = Message::new_checked(query).unwrap();
        let q = msg.question().unwrap();
        let mut r = Vec::new();
        r.extend_from_slice(&msg.id().to_be_bytes());
        r.extend_from_slice(&(0x8180 | flags | u16::from(rcode)).to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0]);
        r.extend_from_slice(q.name.as_wire());
        r.extend_from_slice(&q.qtype.to_be_bytes());
        r.extend_from_slice(&CLASS_IN.to_be_bytes());
        for (t, ttl, data) in answers {
            r.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
            r.extend_from_slice(&t.to_be_bytes());
            r.extend_from_slice(&CLASS_IN.to_be_bytes());
            r.extend_from_slice(&ttl.to_be_bytes());
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend_from_slice(data);
        }
        r
    }

    fn srv(port: u16, target: &str) -> Vec<u8> {
        let mut d = vec![0, 1, 0, 5];
        d.extend_from_slice(&port.to_be_bytes());
        d.extend_from_slice(Name::from_text(target).unwrap().as_wire());
        d
    }

    fn qtype(query: &[u8]) -> u16 {
        Message::new_checked(query)
            .unwrap()
            .question()
            .unwrap()
            .qtype
    }

    fn conf(servers: &[SocketAddr]) -> ResolvConf {
        ResolvConf {
            nameservers: servers.to_vec(),
            search: Vec::new(),
            ndots: 1,
            timeout_s: 1,
            attempts: 1,
        }
    }

    fn names(list: &[&str]) -> Vec<Name> {
        list.iter().map(|n| Name::from_text(n).unwrap()).collect()
    }

    /// Reads from the lookup until it is done (at most 2 s).
    fn finish(l: &mut Lookup) -> Progress {
        for t in 0..200 {
            let p = l.readable(t * 10);
            if p != Progress::Pending {
                return p;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Progress::Pending
    }

    #[test]
    fn srv_and_txt_from_one_server() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["_sflow._udp.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(1),
        );
        assert_eq!(l.start(0), Progress::Pending);
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            let m = Message::new_checked(&q).unwrap();
            // RD, EDNS.
            assert_eq!(m.additional_count(), 1);
            let reply = match qtype(&q) {
                rtype::SRV => respond(
                    &q,
                    0,
                    0,
                    &[
                        (rtype::SRV, 90, srv(6343, "c1.test")),
                        (rtype::SRV, 30, srv(6344, "c2.test")),
                    ],
                ),
                _ => respond(
                    &q,
                    0,
                    0,
                    &[(rtype::TXT, 60, b"\x09txtvers=1\x0bsampling=50".to_vec())],
                ),
            };
            server.send(&reply, from);
        }
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert_eq!(a.name, "_sflow._udp.test");
        assert_eq!(a.srv.len(), 2);
        assert_eq!((a.srv[0].port, a.srv[0].target.as_str()), (6343, "c1.test"));
        assert_eq!(a.txt, [b"txtvers=1".to_vec(), b"sampling=50".to_vec()]);
        assert_eq!(a.ttl_s, Some(30));
        assert_eq!(a.server, server.addr());
        assert!(l.fd().is_none(), "the socket is closed once answered");
    }

    #[test]
    fn mismatched_responses_are_dropped() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(2),
        );
        l.start(0);
        let (q1, from) = server.query().unwrap();
        let (q2, _) = server.query().unwrap();
        let good = |q: &[u8]| match qtype(q) {
            rtype::SRV => respond(q, 0, 0, &[(rtype::SRV, 90, srv(6343, "c1.test"))]),
            _ => respond(q, 0, 0, &[]),
        };
        // Wrong id, wrong question, a query (no QR), garbage: all dropped.
        let mut wrong_id = good(&q1);
        wrong_id[0] ^= 0xff;
        server.send(&wrong_id, from);
        let mut wrong_name = good(&q1);
        wrong_name[HEADER_LEN + 1] = b'x';
        server.send(&wrong_name, from);
        server.send(&q1, from);
        server.send(&[1, 2, 3], from);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(l.readable(10), Progress::Pending);
        server.send(&good(&q1), from);
        server.send(&good(&q2), from);
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert_eq!(a.srv.len(), 1);
        // No TXT record: no TTL from it.
        assert_eq!((a.txt_records, a.ttl_s), (0, Some(90)));
    }

    #[test]
    fn servfail_and_timeouts_go_to_the_next_server() {
        let first = TestServer::new();
        let second = TestServer::new();
        let mut c = conf(&[first.addr(), second.addr()]);
        c.attempts = 2;
        let mut l = Lookup::new(Query::Service, names(&["s.test"]), &c, Rng::from_seed(3));
        l.start(0);
        // The first server fails.
        for _ in 0..2 {
            let (q, from) = first.query().unwrap();
            first.send(&respond(&q, rcode::SERVFAIL, 0, &[]), from);
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(l.readable(100), Progress::Pending);
        // The second does not answer: after the timeout, the first again
        // (second round), which now answers.
        let _ = second.query().unwrap();
        let _ = second.query().unwrap();
        assert_eq!(l.tick(999), Progress::Pending);
        assert_eq!(l.tick(1100), Progress::Pending);
        for _ in 0..2 {
            let (q, from) = first.query().unwrap();
            let a = match qtype(&q) {
                rtype::SRV => vec![(rtype::SRV, 10, srv(1, "c.test"))],
                _ => vec![],
            };
            first.send(&respond(&q, 0, 0, &a), from);
        }
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert_eq!(a.server, first.addr());
    }

    #[test]
    fn every_try_failing_is_a_failure_naming_the_last_error() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(4),
        );
        l.start(0);
        let (q, from) = server.query().unwrap();
        server.send(&respond(&q, rcode::REFUSED, 0, &[]), from);
        let Progress::Done(Err(e)) = finish(&mut l) else {
            panic!()
        };
        assert!(e.contains("REFUSED"), "{e}");
        assert!(e.starts_with("s.test: "), "{e}");
    }

    #[test]
    fn nothing_listening_fails_at_once() {
        let port = {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[port]),
            Rng::from_seed(5),
        );
        // The second send may already see the ICMP error.
        let p = match l.start(0) {
            Progress::Pending => finish(&mut l),
            done => done,
        };
        let Progress::Done(Err(e)) = p else {
            panic!("{p:?}")
        };
        assert!(e.contains("nothing listens"), "{e}");
    }

    #[test]
    fn names_without_srv_move_to_the_next_name() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["_sflow._udp.a.test", "_sflow._udp.b.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(6),
        );
        l.start(0);
        // a.test: NXDOMAIN with an SOA (negative TTL 120).
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            let mut r = respond(&q, rcode::NXDOMAIN, 0, &[]);
            r[9] = 1; // NSCOUNT
            let mut soa = Name::from_text("ns.test").unwrap().as_wire().to_vec();
            soa.extend_from_slice(Name::from_text("h.test").unwrap().as_wire());
            soa.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 120]);
            r.extend_from_slice(&[0xc0, HEADER_LEN as u8, 0, 6, 0, 1, 0, 0, 0x0e, 0x10]);
            r.extend_from_slice(&(soa.len() as u16).to_be_bytes());
            r.extend_from_slice(&soa);
            server.send(&r, from);
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(l.readable(10), Progress::Pending);
        assert_eq!(l.name().unwrap().to_string(), "_sflow._udp.b.test");
        // b.test: no data either, no SOA.
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            server.send(&respond(&q, 0, 0, &[]), from);
        }
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert!(a.srv.is_empty());
        assert_eq!(a.name, "_sflow._udp.b.test");
        assert_eq!(a.ttl_s, None, "one name gave no negative TTL");
    }

    #[test]
    fn formerr_is_asked_again_without_edns() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(7),
        );
        l.start(0);
        let (q, from) = server.query().unwrap();
        let _ = server.query().unwrap();
        server.send(&respond(&q, rcode::FORMERR, 0, &[]), from);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(l.readable(10), Progress::Pending);
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            assert_eq!(Message::new_checked(&q).unwrap().additional_count(), 0);
            let a = match qtype(&q) {
                rtype::SRV => vec![(rtype::SRV, 10, srv(1, "c.test"))],
                _ => vec![],
            };
            server.send(&respond(&q, 0, 0, &a), from);
        }
        assert!(matches!(finish(&mut l), Progress::Done(Ok(_))));
    }

    #[test]
    fn truncated_responses() {
        // Complete records: used.
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(8),
        );
        l.start(0);
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            let r = match qtype(&q) {
                rtype::SRV => {
                    let mut r = respond(
                        &q,
                        0,
                        0x0200,
                        &[
                            (rtype::SRV, 10, srv(1, "c.test")),
                            (rtype::SRV, 10, srv(2, "d.test")),
                        ],
                    );
                    r.truncate(r.len() - 3);
                    r
                }
                _ => respond(&q, 0, 0, &[]),
            };
            server.send(&r, from);
        }
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert_eq!((a.srv.len(), a.truncated), (1, true));
        // None complete: the try fails.
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(9),
        );
        l.start(0);
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            let mut r = respond(&q, 0, 0x0200, &[(rtype::SRV, 10, srv(1, "c.test"))]);
            r.truncate(r.len() - 3);
            server.send(&r, from);
        }
        let Progress::Done(Err(e)) = finish(&mut l) else {
            panic!()
        };
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn cnames_are_followed_and_bounded_bytes_kept() {
        let server = TestServer::new();
        let mut l = Lookup::new(
            Query::Service,
            names(&["s.test"]),
            &conf(&[server.addr()]),
            Rng::from_seed(10),
        );
        l.start(0);
        for _ in 0..2 {
            let (q, from) = server.query().unwrap();
            let t = qtype(&q);
            // s.test CNAME real.test (TTL 20), then real.test's records,
            // which are owned by another name: built by hand.
            let mut r = respond(
                &q,
                0,
                0,
                &[(
                    rtype::CNAME,
                    20,
                    Name::from_text("real.test").unwrap().as_wire().to_vec(),
                )],
            );
            let target_at = r.len() - Name::from_text("real.test").unwrap().as_wire().len();
            let data = if t == rtype::SRV {
                srv(6343, "c.test")
            } else {
                // 5 strings of 255 bytes: more than MAX_TXT_BYTES.
                let mut d = Vec::new();
                for _ in 0..5 {
                    d.push(255);
                    d.extend(std::iter::repeat_n(b'x', 255));
                }
                d
            };
            r[7] = 2;
            r.extend_from_slice(&(0xc000 | target_at as u16).to_be_bytes());
            r.extend_from_slice(&t.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 0, 100]);
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend_from_slice(&data);
            server.send(&r, from);
        }
        let Progress::Done(Ok(a)) = finish(&mut l) else {
            panic!()
        };
        assert_eq!(a.srv[0].target, "c.test");
        assert_eq!(a.ttl_s, Some(20), "the CNAME's TTL counts");
        assert_eq!(a.txt.len(), 4);
        assert_eq!(a.txt_left_out, 255);
        assert_eq!(a.name, "s.test");
        let _ = MAX_NAME_LEN;
    }
}
