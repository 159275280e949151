//! A host name's address, found as musl's `getaddrinfo` (OpenWrt's libc)
//! finds it, without its waiting: `/etc/hosts` first, then the A and AAAA
//! records from the nameservers of `/etc/resolv.conf`, asked by the
//! non-blocking [`Lookup`].
//!
//! - `/etc/hosts`: the lines that list the name after their address
//!   (ASCII case ignored, as DNS names are compared; `#` starts a
//!   comment). Any address found there settles it: the DNS is not asked.
//!   The file's first [`MAX_HOSTS_BYTES`] are read.
//! - The DNS: a name with fewer dots than `ndots` (1 unless resolv.conf
//!   says otherwise) and no final dot is tried in each search domain
//!   first, then as it is; any other name as it is only. The first name
//!   with an A or AAAA record (CNAMEs followed) gives the addresses.
//! - Of the addresses found, the first IPv4 one, else the first IPv6 one
//!   (most collectors listen on IPv4). `getaddrinfo` sorted them by the
//!   rules of RFC 6724 first; here they are taken in the order sent,
//!   which a server that has several rotates anyway.
//!
//! Why not `getaddrinfo` on a helper thread: with musl's resolver and the
//! `qsort` it sorts with, that was ~36 KB of a mips binary that already
//! has a DNS client (DNS-SD's).

use std::net::IpAddr;
use std::path::PathBuf;

use super::client::{Answer, Lookup, Progress, Query, MAX_ADDRESSES};
use super::message::Name;
use super::resolv::{read_text, ResolvConf, RESOLV_CONF};
use crate::rng::Rng;

/// Where the static table of host names is.
pub const HOSTS: &str = "/etc/hosts";
/// Bytes of `/etc/hosts` read at most: the file is read on the event loop.
pub const MAX_HOSTS_BYTES: u64 = 1 << 20;

/// The files a resolution reads: `/etc/hosts` and `/etc/resolv.conf`
/// (others in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

impl Default for Files {
    fn default() -> Self {
        Files {
            hosts: PathBuf::from(HOSTS),
            resolv_conf: PathBuf::from(RESOLV_CONF),
        }
    }
}

/// The addresses `/etc/hosts` (its text) gives `name`, in the file's
/// order. An address musl reads but Rust does not (`127.1`, an IPv6
/// address with a zone) leaves its line out.
pub fn from_hosts(text: &str, name: &str) -> Vec<IpAddr> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_ascii_whitespace();
        let Some(address) = words.next() else {
            continue;
        };
        if !words.any(|w| w.eq_ignore_ascii_case(name)) {
            continue;
        }
        if let Some(ip) = crate::ip::parse(address) {
            if found.len() < MAX_ADDRESSES {
                found.push(ip);
            }
        }
    }
    found
}

/// The names to ask the DNS for `name`, in order (musl's
/// `name_from_dns_search`).
pub fn query_names(name: &str, conf: &ResolvConf) -> Vec<Name> {
    let relative = name.strip_suffix('.').is_none();
    let mut names = Vec::new();
    let dots = name.bytes().filter(|&b| b == b'.').count();
    if relative && dots < conf.ndots as usize {
        for domain in &conf.search {
            names.extend(Name::from_text(&format!("{name}.{domain}")));
        }
    }
    names.extend(Name::from_text(name));
    names
}

/// The address to send to of those found: the first IPv4 one, else the
/// first.
pub fn preferred(addresses: &[IpAddr]) -> Option<IpAddr> {
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
}

/// How a resolution goes.
pub enum Resolution {
    /// Settled: by `/etc/hosts`, or the lookup could not start.
    Done(Result<IpAddr, String>),
    /// The DNS is being asked.
    Asking(Box<HostLookup>),
}

/// Starts resolving `name` (a host name, not an IP literal).
pub fn resolve(name: &str, files: &Files, rng: &mut Rng, now_ms: u64) -> Resolution {
    // A missing or unreadable file is no entry (musl: no file, no entry).
    let hosts = read_text(&files.hosts, MAX_HOSTS_BYTES).unwrap_or_default();
    if let Some(ip) = preferred(&from_hosts(&hosts, name)) {
        return Resolution::Done(Ok(ip));
    }
    // Without resolv.conf, the defaults: the local nameserver (as musl).
    let conf = ResolvConf::load(&files.resolv_conf).unwrap_or_default();
    let names = query_names(name, &conf);
    if names.is_empty() {
        return Resolution::Done(Err(format!("{name}: not a valid DNS name")));
    }
    let mut lookup = HostLookup {
        name: name.to_owned(),
        lookup: Lookup::new(Query::Host, names, &conf, rng.fork()),
    };
    match lookup.lookup.start(now_ms) {
        Progress::Pending => Resolution::Asking(Box::new(lookup)),
        Progress::Done(result) => Resolution::Done(lookup.address(result)),
    }
}

/// A resolution that asks the DNS.
#[derive(Debug)]
pub struct HostLookup {
    name: String,
    lookup: Lookup,
}

impl HostLookup {
    /// Reads the answers that came and fails a try that timed out; the
    /// address, or why there is none, once done. Called once a second:
    /// nothing polls its socket, so an answer waits up to a second (as a
    /// helper thread's result did).
    pub fn tick(&mut self, now_ms: u64) -> Option<Result<IpAddr, String>> {
        let mut progress = self.lookup.readable(now_ms);
        if progress == Progress::Pending {
            progress = self.lookup.tick(now_ms);
        }
        match progress {
            Progress::Pending => None,
            Progress::Done(result) => Some(self.address(result)),
        }
    }

    fn address(&self, result: Result<Answer, String>) -> Result<IpAddr, String> {
        let answer = result?;
        preferred(&answer.addresses).ok_or_else(|| {
            let names: Vec<String> = self.lookup.names().iter().map(Name::to_string).collect();
            format!(
                "{}: no such host (not in {HOSTS}; no A or AAAA record for {})",
                self.name,
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, UdpSocket};
    use std::time::Duration;

    #[test]
    fn hosts_lines_as_musl_reads_them() {
        let text = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n\
                    192.0.2.7\tcollector.lan  Collector # the collector\n\
                    # 192.0.2.8 collector\n192.0.2.9 other #collector\n\
                    fe80::1%eth0 collector\nbogus collector\n2001:db8::7 collector\n";
        let ips = |name| -> Vec<String> {
            from_hosts(text, name)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(ips("localhost"), ["127.0.0.1", "::1"]);
        assert_eq!(ips("collector"), ["192.0.2.7", "2001:db8::7"]);
        assert_eq!(ips("COLLECTOR.lan."), ["192.0.2.7"]);
        // A name is a whole word after the address, never the address.
        assert!(ips("collector.la").is_empty());
        assert!(ips("192.0.2.7").is_empty());
        assert_eq!(
            preferred(&from_hosts(text, "localhost")),
            Some(Ipv4Addr::LOCALHOST.into())
        );
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(preferred(&[v6]), Some(v6));
        assert_eq!(preferred(&[]), None);
    }

    #[test]
    fn search_domains_for_names_with_few_dots() {
        let conf = ResolvConf::parse("search lan example.net\n");
        let names = |name| -> Vec<String> {
            query_names(name, &conf)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(names("c1"), ["c1.lan", "c1.example.net", "c1"]);
        // As many dots as ndots (1), or a final dot: as it is only.
        assert_eq!(names("c1.lan"), ["c1.lan"]);
        assert_eq!(names("c1."), ["c1"]);
        let conf = ResolvConf::parse("search lan\noptions ndots:3\n");
        let n: Vec<String> = query_names("a.b", &conf)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(n, ["a.b.lan", "a.b"]);
        // A search domain that makes the name too long is skipped.
        let long = format!("search {}\n", vec!["d".repeat(63); 4].join("."));
        assert_eq!(query_names("c1", &ResolvConf::parse(&long)).len(), 1);
    }

    fn temp_files(test: &str, hosts: &str, resolv_conf: &str) -> (PathBuf, Files) {
        let dir = std::env::temp_dir().join(format!("wsflowd-host-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = Files {
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
        };
        std::fs::write(&files.hosts, hosts).unwrap();
        std::fs::write(&files.resolv_conf, resolv_conf).unwrap();
        (dir, files)
    }

    #[test]
    fn the_hosts_file_settles_it_without_the_dns() {
        // The nameserver would not answer: the hosts file is enough.
        let (dir, files) = temp_files("hosts", "192.0.2.1 c1\n", "nameserver 192.0.2.53\n");
        let mut rng = Rng::from_seed(1);
        match resolve("c1", &files, &mut rng, 0) {
            Resolution::Done(Ok(ip)) => assert_eq!(ip, Ipv4Addr::new(192, 0, 2, 1)),
            _ => panic!("not from the hosts file"),
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A nameserver on loopback: `c1.lan` has A 192.0.2.5 and AAAA
    /// 2001:db8::5, `c3` AAAA 2001:db8::3 only; NXDOMAIN for the rest.
    fn answer(server: &UdpSocket) -> bool {
        use crate::dns::message::{rtype, Message, HEADER_LEN};
        let mut buf = [0u8; 512];
        let Ok((n, from)) = server.recv_from(&mut buf) else {
            return false;
        };
        let q = Message::new_checked(&buf[..n]).unwrap().question().unwrap();
        let question_end = HEADER_LEN + q.name.as_wire().len() + 4;
        let mut r = buf[..question_end].to_vec();
        r[2] = 0x81;
        let name = q.name.to_string();
        let data: &[u8] = match (name.as_str(), q.qtype) {
            ("c1.lan", rtype::A) => &[192, 0, 2, 5],
            ("c1.lan", rtype::AAAA) => &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
            ("c3", rtype::AAAA) => &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
            _ => &[],
        };
        let known = name == "c1.lan" || name == "c3";
        r[3] = if known { 0x80 } else { 0x83 };
        r[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 0]);
        if !data.is_empty() {
            r[7] = 1;
            r.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
            r.extend_from_slice(&q.qtype.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 0, 60, 0, data.len() as u8]);
            r.extend_from_slice(data);
        }
        server.send_to(&r, from).unwrap();
        true
    }

    #[test]
    fn the_dns_in_the_search_domain_then_as_it_is() {
        // c3: NXDOMAIN in the search domain, then an AAAA record as it is.
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        // The lookup is pointed at the test's server (resolv.conf can only
        // name port 53).
        let mut conf = ResolvConf::parse("search lan\n");
        conf.nameservers = vec![server.local_addr().unwrap()];
        let mut rng = Rng::from_seed(2);
        for name in ["c1", "c2", "c3"] {
            let names = query_names(name, &conf);
            let mut lookup = HostLookup {
                name: name.into(),
                lookup: Lookup::new(Query::Host, names, &conf, rng.fork()),
            };
            assert_eq!(lookup.lookup.start(0), Progress::Pending);
            let mut result = None;
            for t in 1..20 {
                while answer(&server) {}
                result = lookup.tick(t);
                if result.is_some() {
                    break;
                }
            }
            match result.expect("an answer") {
                // IPv4 first; IPv6 when that is all there is.
                Ok(ip) if name == "c1" => assert_eq!(ip, Ipv4Addr::new(192, 0, 2, 5)),
                Ok(ip) => assert_eq!((name, ip.to_string().as_str()), ("c3", "2001:db8::3")),
                Err(e) => {
                    assert_eq!(name, "c2", "{e}");
                    assert!(e.starts_with("c2: no such host"), "{e}");
                    assert!(e.contains("for c2.lan, c2"), "{e}");
                }
            }
        }
    }
}
