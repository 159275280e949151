//! The resolver's configuration, `/etc/resolv.conf` (resolv.conf(5)): the
//! nameservers to ask, the search list and when it applies (`ndots`), and
//! the timeout and attempts.
//!
//! Read as glibc and musl read it: one keyword per line (`nameserver`,
//! `search`, `domain`, `options`), `#` or `;` at the start of a line for a
//! comment, unknown keywords ignored; at most 3 nameservers (`MAXNS`);
//! `search` and `domain` replace each other, the last one wins; no
//! nameserver means the local one (127.0.0.1). Unlike glibc, no search
//! domain is taken from the host name when the file names none (musl,
//! OpenWrt's libc, takes none either).

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

/// Where the system's resolver configuration is.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Nameservers used at most (glibc's and musl's `MAXNS`).
pub const MAX_NAMESERVERS: usize = 3;
/// Search domains kept at most (glibc's `MAXDNSRCH`).
pub const MAX_SEARCH: usize = 6;
/// Bytes of the file read at most: a resolv.conf is a few lines.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;
/// glibc's defaults and limits (`RES_TIMEOUT`, `RES_MAXRETRANS`,
/// `RES_DFLRETRY`, `RES_MAXRETRY`).
pub const DEFAULT_TIMEOUT_S: u32 = 5;
pub const MAX_TIMEOUT_S: u32 = 30;
pub const DEFAULT_ATTEMPTS: u32 = 2;
pub const MAX_ATTEMPTS: u32 = 5;
/// Dots a host name needs to be asked as it is, without the search list
/// (`RES_DFLNDOTS`; `RES_MAXNDOTS`, musl's bound too).
pub const DEFAULT_NDOTS: u32 = 1;
pub const MAX_NDOTS: u32 = 15;

/// What resolv.conf says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// The servers to ask, in order, port 53.
    pub nameservers: Vec<SocketAddr>,
    /// Domains a relative name is tried in, in order, without final dots.
    pub search: Vec<String>,
    /// A host name with fewer dots than this is tried in the search
    /// domains first ([`super::host`]).
    pub ndots: u32,
    /// Seconds to wait for an answer from one server.
    pub timeout_s: u32,
    /// Rounds over all the servers.
    pub attempts: u32,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53)],
            search: Vec::new(),
            ndots: DEFAULT_NDOTS,
            timeout_s: DEFAULT_TIMEOUT_S,
            attempts: DEFAULT_ATTEMPTS,
        }
    }
}

impl ResolvConf {
    /// Reads the file's text; never fails (what it cannot read is left
    /// out, as the C libraries do).
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword {
                "nameserver" => {
                    if conf.nameservers.len() == MAX_NAMESERVERS {
                        continue;
                    }
                    // An IPv6 address with a zone (fe80::1%eth0) is not
                    // read: such a server is left out.
                    if let Some(ip) = words.next().and_then(crate::ip::parse) {
                        conf.nameservers.push(SocketAddr::new(ip, 53));
                    }
                }
                "search" | "domain" => {
                    conf.search = words
                        .map(|w| w.trim_end_matches('.'))
                        .filter(|w| !w.is_empty())
                        .take(MAX_SEARCH)
                        .map(str::to_owned)
                        .collect();
                    if keyword == "domain" {
                        conf.search.truncate(1);
                    }
                }
                "options" => {
                    for option in words {
                        let number = |prefix: &str| {
                            option
                                .strip_prefix(prefix)
                                // Through u64, whose parser the binary has
                                // anyway (a u32 one is ~400 bytes more).
                                .and_then(|v| v.parse::<u64>().ok())
                                .and_then(|v| u32::try_from(v).ok())
                        };
                        if let Some(t) = number("timeout:") {
                            conf.timeout_s = t.clamp(1, MAX_TIMEOUT_S);
                        } else if let Some(a) = number("attempts:") {
                            conf.attempts = a.clamp(1, MAX_ATTEMPTS);
                        } else if let Some(n) = number("ndots:") {
                            conf.ndots = n.min(MAX_NDOTS);
                        }
                    }
                }
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    /// Reads `path`: a regular file (a FIFO or device is refused at once,
    /// so reading never waits) of which the first [`MAX_FILE_BYTES`] are
    /// read.
    pub fn load(path: &Path) -> Result<ResolvConf, String> {
        read_text(path, MAX_FILE_BYTES).map(|text| ResolvConf::parse(&text))
    }
}

/// The text of the regular file `path` (a FIFO or device is refused at
/// once, so reading never waits), its first `max` bytes; bytes that are
/// not UTF-8 become U+FFFD.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let fail = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = crate::sys::file::open_read(path, libc::O_NONBLOCK).map_err(fail)?;
    if !file.metadata().map_err(fail)?.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut text = Vec::new();
    file.take(max).read_to_end(&mut text).map_err(fail)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_openwrt_writes() {
        // OpenWrt's /tmp/resolv.conf (written by dnsmasq's init script).
        let c = ResolvConf::parse("search lan\nnameserver 127.0.0.1\nnameserver ::1\n");
        assert_eq!(c.search, ["lan"]);
        assert_eq!(
            c.nameservers,
            ["127.0.0.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()]
        );
        assert_eq!((c.timeout_s, c.attempts), (5, 2));
    }

    #[test]
    fn keywords_comments_and_limits() {
        let c = ResolvConf::parse(
            "# comment\n; also\nnameserver 192.0.2.1\nnameserver 192.0.2.2 # x\n\
             nameserver fe80::1%eth0\nnameserver bogus\nnameserver 192.0.2.3\n\
             nameserver 192.0.2.4\ndomain first.example\nsearch a.example. b.example c d e f g\n\
             options ndots:2 timeout:0 attempts:9 rotate\n",
        );
        assert_eq!(c.nameservers.len(), 3);
        assert_eq!(c.nameservers[2], "192.0.2.3:53".parse().unwrap());
        assert_eq!(c.search, ["a.example", "b.example", "c", "d", "e", "f"]);
        assert_eq!((c.timeout_s, c.attempts, c.ndots), (1, 5, 2));
        // The last of search and domain wins; domain names one.
        let c = ResolvConf::parse("search a b\ndomain x.example y\n");
        assert_eq!(c.search, ["x.example"]);
        let c = ResolvConf::parse("options timeout:99 attempts:0 ndots:40\n");
        assert_eq!((c.timeout_s, c.attempts, c.ndots), (30, 1, 15));
        assert_eq!(ResolvConf::parse("options ndots:0\n").ndots, 0);
    }

    #[test]
    fn no_nameserver_means_the_local_one() {
        let c = ResolvConf::parse("");
        assert_eq!(c, ResolvConf::default());
        assert!(c.search.is_empty());
    }

    #[test]
    fn load_refuses_what_is_not_a_file() {
        assert!(ResolvConf::load(Path::new("/nonexistent/resolv.conf")).is_err());
        let e = ResolvConf::load(Path::new("/")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
