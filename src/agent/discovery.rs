//! DNS-SD (`option dns_sd '1'`): collectors, and the agent-wide sampling
//! rate and polling interval, from the DNS, as hsflowd's mod_dnssd finds
//! them (RFC 6763 service discovery, without multicast).
//!
//! The agent asks for the SRV and TXT records of `_sflow._udp.DOMAIN`,
//! DOMAIN being `dns_sd_domain`, else each search domain of
//! /etc/resolv.conf in turn until one has SRV records:
//!
//! ```text
//! _sflow._udp.example.net. 3600 IN SRV 0 0 6343 collector1.example.net.
//! _sflow._udp.example.net. 3600 IN SRV 0 0 6343 collector2.example.net.
//! _sflow._udp.example.net. 3600 IN TXT "txtvers=1" "sampling=400" "polling=20"
//! ```
//!
//! - Every SRV target is a collector (priority and weight are not used:
//!   every collector receives every datagram, as with hsflowd); at most
//!   [`MAX_COLLECTORS`]; a target `.` (the service is not there), port 0 or
//!   a name that is not a host name is left out, with a note.
//! - The TXT strings `sampling=N` and `polling=N` set the agent-wide
//!   sampling rate and polling interval (see [`TxtSettings`]); `txtvers`
//!   other than 1 makes the record ignored; other keys (hsflowd's
//!   `sampling.<app>`, `agent`, `headerBytes`...) are ignored with a note.
//!
//! When to ask ([`Discovery`], pure state driven by the agent's uptime in
//! ms, so the rules are tested with simulated time):
//!
//! - at start, and at once after every reload (the operator's way to say
//!   "look now");
//! - after an answer, when the smallest TTL of its records ends, bounded to
//!   [`MIN_REFRESH_S`]..[`MAX_REFRESH_S`] (a TTL of 0 is a minute, a day is
//!   an hour); [`DEFAULT_REFRESH_S`] when the answer has no TTL (no record,
//!   and no SOA for a negative TTL);
//! - after a failure (timeouts, SERVFAIL, REFUSED, no server, an unreadable
//!   resolv.conf) again after [`FIRST_RETRY_S`], doubling with each failure
//!   in a row up to [`MAX_RETRY_S`]. A failure changes nothing in force:
//!   the last good answer stays, however long the DNS is down.
//! - NXDOMAIN or no SRV record (on every name tried) is a good answer: no
//!   collectors from DNS, no TXT settings.
//!
//! [`DnsSd`] drives it: reads resolv.conf when a lookup is due, runs the
//! non-blocking [`Lookup`] (its socket is the agent's `Slot::Dns`), logs
//! and reports (`ubus call wsflowd status`, `dns_sd`).

use crate::ip::Text;
use std::os::fd::RawFd;
use std::path::PathBuf;

use crate::config::{
    parse_host, CollectorConfig, Config, MAX_COLLECTORS, MAX_POLLING_INTERVAL, MAX_SAMPLING_RATE,
};
use crate::dns::client::{Answer, Lookup, Progress, Query, SrvTarget};
use crate::dns::message::Name;
use crate::dns::resolv::{ResolvConf, RESOLV_CONF};
use crate::rng::Rng;
use crate::ubus::blob::BlobBuf;
use crate::{debug, info, warn};

/// The service's name under the domain (hsflowd's `SFLOW_DNS_SD`).
pub const SERVICE: &str = "_sflow._udp";
/// Bounds of the time between two lookups after an answer, in seconds.
pub const MIN_REFRESH_S: u32 = 60;
pub const MAX_REFRESH_S: u32 = 3600;
/// After an answer that gives no TTL (hsflowd's retry delay).
pub const DEFAULT_REFRESH_S: u32 = 300;
/// After a first failure; doubled with each failure in a row, up to
/// [`MAX_RETRY_S`].
pub const FIRST_RETRY_S: u32 = 10;
pub const MAX_RETRY_S: u32 = 300;
/// The `section` of the collectors DNS-SD finds, for messages.
pub const SECTION: &str = "dns-sd";
/// Notes about one answer kept at most.
const MAX_NOTES: usize = 8;

/// What the TXT record sets. `sampling` replaces the agent section's
/// `sampling_rate` (so it applies to every interface whose own section
/// sets none, instead of the rate from the link speed); `polling`
/// replaces the agent section's `polling_interval`. An interface's own
/// `sampling_rate` or `polling_interval` stays in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxtSettings {
    pub sampling_rate: Option<u32>,
    pub polling_interval: Option<u32>,
}

impl TxtSettings {
    /// Lays the settings over a configuration read from the file.
    pub fn apply_to(&self, config: &mut Config) {
        if let Some(rate) = self.sampling_rate {
            config.agent.sampling_rate = Some(rate);
        }
        if let Some(interval) = self.polling_interval {
            config.agent.polling_interval = interval;
        }
    }
}

/// What one answer means to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The name whose records these are (or the last one asked).
    pub name: String,
    pub collectors: Vec<CollectorConfig>,
    pub settings: TxtSettings,
    /// What was left out of the records, and why.
    pub notes: Vec<String>,
    /// The TTL of the answer (the smallest of its records').
    pub ttl_s: Option<u32>,
    /// Seconds until the next lookup: the TTL within its bounds.
    pub refresh_s: u32,
    /// The server that answered.
    pub server: String,
    pub truncated: bool,
}

fn note(notes: &mut Vec<String>, text: String) {
    if notes.len() < MAX_NOTES {
        notes.push(text);
    }
}

/// Decimal digits only, as the configuration reads numbers (hsflowd's
/// `strtol(.., 0)` also takes hex and octal).
fn decimal(value: &str, min: u32, max: u32) -> Option<u32> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().and_then(|n| {
        if (u64::from(min)..=u64::from(max)).contains(&n) {
            u32::try_from(n).ok()
        } else {
            None
        }
    })
}

/// Reads the TXT strings: `key=value` pairs, keys in any case, the first
/// of a repeated key used (RFC 6763 §6.4; hsflowd takes the last).
fn txt_settings(strings: &[Vec<u8>], notes: &mut Vec<String>) -> TxtSettings {
    let mut settings = TxtSettings::default();
    let mut seen: Vec<String> = Vec::new();
    let mut ignored: Vec<String> = Vec::new();
    for s in strings {
        let text = String::from_utf8_lossy(s);
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), v),
            // A key without '=' is a boolean attribute (RFC 6763 §6.4).
            None => (text.to_ascii_lowercase(), ""),
        };
        // A string that starts with '=' has no key: skipped (§6.4).
        if key.is_empty() || seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        let quoted = crate::config::quoted_value(&text);
        match key.as_str() {
            "txtvers" if value == "1" => {}
            "txtvers" => {
                note(
                    notes,
                    format!("TXT {quoted}: a version this agent does not read, the TXT record is ignored"),
                );
                return TxtSettings::default();
            }
            "sampling" => match decimal(value, 1, MAX_SAMPLING_RATE) {
                Some(n) => settings.sampling_rate = Some(n),
                None => note(
                    notes,
                    format!("TXT {quoted} ignored: expected a 1-in-N rate from 1 to {MAX_SAMPLING_RATE}"),
                ),
            },
            "polling" => match decimal(value, 0, MAX_POLLING_INTERVAL) {
                Some(n) => settings.polling_interval = Some(n),
                None => note(
                    notes,
                    format!("TXT {quoted} ignored: expected seconds from 0 to {MAX_POLLING_INTERVAL}"),
                ),
            },
            _ => ignored.push(quoted),
        }
    }
    if !ignored.is_empty() {
        note(
            notes,
            format!(
                "TXT {} ignored: only txtvers, sampling and polling are read",
                ignored.join(", ")
            ),
        );
    }
    settings
}

/// What an answer means: the collectors of its SRV records, the settings
/// of its TXT strings, when to ask again.
pub fn interpret(answer: &Answer) -> Discovered {
    let mut notes = Vec::new();
    // A stable order whatever order the server sends them in (servers
    // rotate records): by priority, then weight (larger first), then name
    // and port. An insertion sort: at most MAX_SRV records, and no generic
    // sort code in the router binary.
    fn key(t: &SrvTarget) -> (u16, u16, &str, u16) {
        (t.priority, u16::MAX - t.weight, t.target.as_str(), t.port)
    }
    let mut targets: Vec<&SrvTarget> = Vec::with_capacity(answer.srv.len());
    for t in &answer.srv {
        let at = targets.partition_point(|o| key(o) <= key(t));
        targets.insert(at, t);
    }
    let mut collectors: Vec<CollectorConfig> = Vec::new();
    let mut left_out = answer.srv_left_out;
    for t in targets {
        if t.target == "." {
            note(
                &mut notes,
                format!(
                    "SRV target '.' (port {}): the service is not available there",
                    t.port
                ),
            );
            continue;
        }
        if t.port == 0 {
            note(&mut notes, format!("SRV {}: port 0 left out", t.target));
            continue;
        }
        let Ok(host) = parse_host(&t.target) else {
            note(
                &mut notes,
                format!(
                    "SRV target {} left out: not a host name",
                    crate::config::quoted_value(&t.target)
                ),
            );
            continue;
        };
        if collectors
            .iter()
            .any(|c| c.address.eq_ignore_ascii_case(&host) && c.port == t.port)
        {
            continue;
        }
        if collectors.len() == MAX_COLLECTORS {
            left_out += 1;
            continue;
        }
        collectors.push(CollectorConfig {
            address: host,
            port: t.port,
            section: SECTION.to_owned(),
        });
    }
    if left_out > 0 {
        note(
            &mut notes,
            format!("{left_out} more SRV records left out: at most {MAX_COLLECTORS} collectors from DNS-SD"),
        );
    }
    // TXT without SRV is not read, as with hsflowd (no servers: nothing).
    let settings = if collectors.is_empty() && answer.srv.is_empty() {
        TxtSettings::default()
    } else {
        txt_settings(&answer.txt, &mut notes)
    };
    if answer.txt_left_out > 0 {
        note(
            &mut notes,
            format!(
                "{} bytes of TXT strings left out: at most {} are read",
                answer.txt_left_out,
                crate::dns::client::MAX_TXT_BYTES
            ),
        );
    }
    if answer.truncated {
        note(
            &mut notes,
            "the answer was truncated: its complete records were used".into(),
        );
    }
    Discovered {
        name: answer.name.clone(),
        collectors,
        settings,
        notes,
        ttl_s: answer.ttl_s,
        refresh_s: answer
            .ttl_s
            .map_or(DEFAULT_REFRESH_S, |t| t.clamp(MIN_REFRESH_S, MAX_REFRESH_S)),
        server: Text(answer.server).to_string(),
        truncated: answer.truncated,
    }
}

/// The names to ask: `_sflow._udp.DOMAIN` of the configured domain, else
/// of each search domain.
pub fn query_names(domain: Option<&str>, search: &[String]) -> Result<Vec<Name>, String> {
    let domains: Vec<&str> = match domain {
        Some(d) => vec![d],
        None => search.iter().map(String::as_str).collect(),
    };
    if domains.is_empty() {
        return Err(format!(
            "no domain to look in: {RESOLV_CONF} has no 'search' or 'domain' line; set option dns_sd_domain"
        ));
    }
    let names: Vec<Name> = domains
        .iter()
        .filter_map(|d| Name::from_text(&format!("{SERVICE}.{d}")))
        .collect();
    if names.is_empty() {
        return Err(format!("no usable domain in {}", domains.join(" ")));
    }
    Ok(names)
}

/// When to ask, and what the last good answer said.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    enabled: bool,
    domain: Option<String>,
    /// A lookup is out.
    querying: bool,
    next_query_ms: u64,
    /// Lookups that failed in a row.
    failures: u32,
    /// The last good answer and when it came (uptime, ms).
    answer: Option<(u64, Discovered)>,
    /// The last failure, until an answer comes.
    error: Option<(u64, String)>,
    /// The names of the last lookup.
    names: Vec<String>,
    /// When the last lookup started.
    last_query_ms: Option<u64>,
}

impl Discovery {
    /// The agent section's options, at start and at every reload. A reload
    /// asks again at once. Disabling DNS-SD, or changing its domain, drops
    /// the answer (its collectors and settings): returns whether one was
    /// dropped.
    pub fn configure(&mut self, enabled: bool, domain: Option<&str>, now_ms: u64) -> bool {
        let new_domain = self.domain.as_deref() != domain;
        self.domain = domain.map(str::to_owned);
        self.enabled = enabled;
        self.querying = false;
        self.next_query_ms = now_ms;
        if enabled && !new_domain {
            return false;
        }
        self.failures = 0;
        self.error = None;
        self.names.clear();
        self.answer.take().is_some()
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// A lookup is to start now.
    pub fn due(&self, now_ms: u64) -> bool {
        self.enabled && !self.querying && now_ms >= self.next_query_ms
    }

    /// A lookup of `names` started.
    pub fn started(&mut self, now_ms: u64, names: Vec<String>) {
        self.querying = true;
        self.names = names;
        self.last_query_ms = Some(now_ms);
    }

    /// The lookup failed, or could not start: the last good answer stays;
    /// asked again after a delay that doubles with each failure in a row.
    /// Returns the delay in seconds.
    pub fn failed(&mut self, now_ms: u64, error: String) -> u32 {
        self.querying = false;
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.saturating_sub(1).min(16);
        let delay_s = FIRST_RETRY_S
            .saturating_mul(1 << doublings)
            .min(MAX_RETRY_S);
        self.next_query_ms = now_ms + u64::from(delay_s) * 1000;
        self.error = Some((now_ms, error));
        delay_s
    }

    /// An answer came: it is in force from now on. Returns whether the
    /// collectors or the settings changed.
    pub fn answered(&mut self, now_ms: u64, answer: Discovered) -> bool {
        self.querying = false;
        self.failures = 0;
        self.error = None;
        self.next_query_ms = now_ms + u64::from(answer.refresh_s) * 1000;
        let changed = match &self.answer {
            Some((_, old)) => {
                old.collectors != answer.collectors || old.settings != answer.settings
            }
            None => !answer.collectors.is_empty() || answer.settings != TxtSettings::default(),
        };
        self.answer = Some((now_ms, answer));
        changed
    }

    /// The collectors in force.
    pub fn collectors(&self) -> &[CollectorConfig] {
        self.answer
            .as_ref()
            .map_or(&[][..], |(_, a)| a.collectors.as_slice())
    }

    /// The settings in force.
    pub fn settings(&self) -> TxtSettings {
        self.answer
            .as_ref()
            .map_or(TxtSettings::default(), |(_, a)| a.settings)
    }

    /// The last good answer and when it came.
    pub fn answer(&self) -> Option<(u64, &Discovered)> {
        self.answer.as_ref().map(|(at, a)| (*at, a))
    }

    /// The last failure and when, until an answer comes.
    pub fn error(&self) -> Option<(u64, &str)> {
        self.error.as_ref().map(|(at, e)| (*at, e.as_str()))
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn querying(&self) -> bool {
        self.querying
    }

    /// When the next lookup starts, if one is to come.
    pub fn next_query_ms(&self) -> Option<u64> {
        (self.enabled && !self.querying).then_some(self.next_query_ms)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn last_query_ms(&self) -> Option<u64> {
        self.last_query_ms
    }
}

/// DNS-SD in the agent: the state, the lookup under way, the log.
pub struct DnsSd {
    pub state: Discovery,
    lookup: Option<Lookup>,
    resolv_conf: PathBuf,
}

impl Default for DnsSd {
    fn default() -> Self {
        DnsSd::new()
    }
}

/// "c1.example.net:6343, c2.example.net:6343", or "none".
fn collector_list(collectors: &[CollectorConfig]) -> String {
    if collectors.is_empty() {
        return "none".into();
    }
    collectors
        .iter()
        .map(|c| format!("{}:{}", c.address, c.port))
        .collect::<Vec<_>>()
        .join(", ")
}

impl DnsSd {
    pub fn new() -> DnsSd {
        DnsSd {
            state: Discovery::default(),
            lookup: None,
            resolv_conf: PathBuf::from(RESOLV_CONF),
        }
    }

    /// The agent section's `enabled`, `dns_sd` and `dns_sd_domain`, at
    /// start and at every reload: a lookup under way is dropped, a new one
    /// starts at the next tick. Returns whether what was in force was
    /// dropped.
    pub fn configure(&mut self, enabled: bool, domain: Option<&str>, now_ms: u64) -> bool {
        let was = self.state.enabled();
        self.lookup = None;
        let dropped = self.state.configure(enabled, domain, now_ms);
        match (was, enabled) {
            (false, true) => match domain {
                Some(d) => info!("DNS-SD on: collectors from the SRV records of {SERVICE}.{d}"),
                None => info!(
                    "DNS-SD on: collectors from the SRV records of {SERVICE}.DOMAIN, DOMAIN each search domain of {RESOLV_CONF}"
                ),
            },
            (true, false) => info!("DNS-SD off"),
            _ => {}
        }
        if dropped {
            info!("DNS-SD: the collectors and settings found before are dropped");
        }
        dropped
    }

    /// The socket to poll while a lookup is out.
    pub fn poll_fd(&self) -> Option<RawFd> {
        self.lookup.as_ref().and_then(Lookup::fd)
    }

    /// The collectors DNS-SD found.
    pub fn collectors(&self) -> &[CollectorConfig] {
        self.state.collectors()
    }

    /// The TXT settings in force.
    pub fn settings(&self) -> TxtSettings {
        self.state.settings()
    }

    /// Once a second: starts a lookup that is due, fails a try that timed
    /// out. Returns whether the collectors or settings changed.
    pub fn tick(&mut self, now_ms: u64, rng: &mut Rng) -> bool {
        if let Some(lookup) = &mut self.lookup {
            let progress = lookup.tick(now_ms);
            return self.progress(now_ms, progress);
        }
        if !self.state.due(now_ms) {
            return false;
        }
        let names = ResolvConf::load(&self.resolv_conf).and_then(|conf| {
            let names = query_names(self.state.domain(), &conf.search)?;
            Ok((conf, names))
        });
        let (conf, names) = match names {
            Ok(found) => found,
            Err(e) => {
                self.fail(now_ms, e);
                return false;
            }
        };
        let texts = names.iter().map(Name::to_string).collect();
        debug!(
            "DNS-SD: asking {} for {}",
            conf.nameservers
                .iter()
                .map(|&s| Text(s).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(Name::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.state.started(now_ms, texts);
        let mut lookup = Lookup::new(Query::Service, names, &conf, rng.fork());
        let progress = lookup.start(now_ms);
        self.lookup = Some(lookup);
        self.progress(now_ms, progress)
    }

    /// The lookup's socket is readable. Returns whether the collectors or
    /// settings changed.
    pub fn readable(&mut self, now_ms: u64) -> bool {
        let Some(lookup) = &mut self.lookup else {
            return false;
        };
        let progress = lookup.readable(now_ms);
        self.progress(now_ms, progress)
    }

    fn progress(&mut self, now_ms: u64, progress: Progress) -> bool {
        let Progress::Done(result) = progress else {
            return false;
        };
        self.lookup = None;
        match result {
            Ok(answer) => self.answered(now_ms, &answer),
            Err(e) => {
                self.fail(now_ms, e);
                false
            }
        }
    }

    fn answered(&mut self, now_ms: u64, answer: &Answer) -> bool {
        let found = interpret(answer);
        let failures = self.state.failures();
        let first = self.state.answer().is_none();
        let mut summary = format!(
            "{}: collectors {}",
            found.name,
            collector_list(&found.collectors)
        );
        if let Some(r) = found.settings.sampling_rate {
            summary.push_str(&format!(", sampling 1-in-{r}"));
        }
        if let Some(p) = found.settings.polling_interval {
            summary.push_str(&format!(", polling every {p} s"));
        }
        let ttl = found
            .ttl_s
            .map_or("no TTL".to_owned(), |t| format!("TTL {t} s"));
        summary.push_str(&format!("; {ttl}, asked again in {} s", found.refresh_s));
        let notes = found.notes.clone();
        let changed = self.state.answered(now_ms, found);
        if changed || first || failures > 0 {
            info!("DNS-SD {summary}");
            for n in &notes {
                warn!("DNS-SD: {n}");
            }
        } else {
            debug!("DNS-SD {summary} (unchanged)");
        }
        changed
    }

    fn fail(&mut self, now_ms: u64, error: String) {
        let same = self.state.error().is_some_and(|(_, e)| e == error);
        let delay = self.state.failed(now_ms, error.clone());
        let kept = match self.state.answer() {
            Some((_, a)) => format!(
                "keeping the last answer (collectors {})",
                collector_list(&a.collectors)
            ),
            None => "no collectors from DNS yet".to_owned(),
        };
        if same {
            debug!("DNS-SD: {error}; {kept}; asking again in {delay} s");
        } else {
            warn!("DNS-SD: {error}; {kept}; asking again in {delay} s");
        }
    }

    /// `dns_sd` in `ubus call wsflowd status`. Times are agent uptime in
    /// seconds (`at`) or seconds from now (`age`, `next_query`...).
    pub fn status(&self, b: &mut BlobBuf, now_ms: u64) {
        let secs = |ms: u64| i64::try_from(ms / 1000).unwrap_or(i64::MAX);
        let s = &self.state;
        let t = b.table_start("dns_sd");
        b.bool("enabled", s.enabled());
        b.string("domain", s.domain().unwrap_or(""));
        let names = b.array_start("names");
        for n in s.names() {
            b.string("", n);
        }
        b.array_end(names);
        b.bool("querying", s.querying());
        if let Some(at) = s.last_query_ms() {
            b.int64("last_query_age", secs(now_ms.saturating_sub(at)));
        }
        if let Some(next) = s.next_query_ms() {
            b.int64("next_query", secs(next.saturating_sub(now_ms)));
        }
        if let Some((at, a)) = s.answer() {
            let t = b.table_start("answer");
            b.int64("age", secs(now_ms.saturating_sub(at)));
            b.int64("at", secs(at));
            b.string("name", &a.name);
            b.string("server", &a.server);
            // Absent when the answer gave none.
            if let Some(ttl) = a.ttl_s {
                b.int64("ttl", i64::from(ttl));
            }
            b.int64("refresh", i64::from(a.refresh_s));
            let list = b.array_start("collectors");
            for c in &a.collectors {
                let e = b.table_start("");
                b.string("address", &c.address);
                b.int64("port", i64::from(c.port));
                b.table_end(e);
            }
            b.array_end(list);
            if let Some(r) = a.settings.sampling_rate {
                b.int64("sampling_rate", i64::from(r));
            }
            if let Some(p) = a.settings.polling_interval {
                b.int64("polling_interval", i64::from(p));
            }
            let notes = b.array_start("notes");
            for n in &a.notes {
                b.string("", n);
            }
            b.array_end(notes);
            b.table_end(t);
        }
        match s.error() {
            Some((at, e)) => {
                b.string("error", e);
                b.int64("error_age", secs(now_ms.saturating_sub(at)));
                b.int64("failures", i64::from(s.failures()));
            }
            None => b.string("error", ""),
        }
        b.table_end(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    fn srv(priority: u16, weight: u16, port: u16, target: &str) -> SrvTarget {
        SrvTarget {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    fn answer(srv: Vec<SrvTarget>, txt: &[&str], ttl_s: Option<u32>) -> Answer {
        Answer {
            name: "_sflow._udp.example.net".into(),
            srv,
            srv_left_out: 0,
            txt: txt.iter().map(|s| s.as_bytes().to_vec()).collect(),
            txt_records: usize::from(!txt.is_empty()),
            txt_left_out: 0,
            addresses: Vec::new(),
            ttl_s,
            truncated: false,
            server: "192.0.2.53:53".parse().unwrap(),
        }
    }

    fn addresses(d: &Discovered) -> Vec<(String, u16)> {
        d.collectors
            .iter()
            .map(|c| (c.address.clone(), c.port))
            .collect()
    }

    #[test]
    fn srv_records_become_collectors() {
        let d = interpret(&answer(
            vec![
                srv(10, 0, 6343, "c3.example.net"),
                srv(0, 5, 6343, "c2.example.net"),
                srv(0, 50, 6343, "c1.example.net"),
                srv(0, 0, 6343, "C1.example.net"),
                srv(0, 0, 6343, "."),
                srv(0, 0, 0, "c4.example.net"),
                srv(0, 0, 6343, "bad_name.example.net"),
                srv(0, 0, 6343, "a\\032b.example.net"),
            ],
            &[],
            Some(120),
        ));
        assert_eq!(
            addresses(&d),
            [
                ("c1.example.net".to_owned(), 6343),
                ("c2.example.net".to_owned(), 6343),
                ("c3.example.net".to_owned(), 6343)
            ]
        );
        assert!(d.collectors.iter().all(|c| c.section == SECTION));
        assert_eq!(d.notes.len(), 4, "{:?}", d.notes);
        assert!(d.notes[0].contains("not available"), "{:?}", d.notes);
        assert_eq!(d.refresh_s, 120);
    }

    #[test]
    fn at_most_max_collectors() {
        let many: Vec<SrvTarget> = (0..40)
            .map(|k| srv(0, 0, 6343, &format!("c{k:02}.example.net")))
            .collect();
        let mut a = answer(many, &[], Some(60));
        a.srv_left_out = 3;
        let d = interpret(&a);
        assert_eq!(d.collectors.len(), MAX_COLLECTORS);
        assert!(d.notes[0].contains("27 more SRV records"), "{:?}", d.notes);
    }

    #[test]
    fn txt_settings_as_hsflowd_reads_them() {
        let c1 = vec![srv(0, 0, 6343, "c1.example.net")];
        let d = interpret(&answer(
            c1.clone(),
            &["txtvers=1", "sampling=50", "polling=10"],
            None,
        ));
        assert_eq!(
            d.settings,
            TxtSettings {
                sampling_rate: Some(50),
                polling_interval: Some(10)
            }
        );
        assert!(d.notes.is_empty());
        // Keys in any case; the first of a repeated key; bad values and
        // unknown keys noted.
        let d = interpret(&answer(
            c1.clone(),
            &[
                "SAMPLING=200",
                "sampling=7",
                "polling=0x10",
                "agent=eth0",
                "sampling.10G=1",
                "flag",
                "=x",
            ],
            None,
        ));
        assert_eq!(d.settings.sampling_rate, Some(200));
        assert_eq!(d.settings.polling_interval, None);
        assert_eq!(d.notes.len(), 2, "{:?}", d.notes);
        assert!(
            d.notes[0].contains("'polling=0x10' ignored"),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes[1].contains("'agent=eth0', 'sampling.10G=1', 'flag'"),
            "{:?}",
            d.notes
        );
        // Limits.
        for (s, ok) in [
            ("sampling=0", false),
            ("sampling=1", true),
            ("sampling=16777215", true),
            ("sampling=16777216", false),
            ("sampling=-1", false),
            ("sampling= 5", false),
            ("sampling=99999999999999999999", false),
        ] {
            let d = interpret(&answer(c1.clone(), &[s], None));
            assert_eq!(d.settings.sampling_rate.is_some(), ok, "{s}");
        }
        for (s, ok) in [
            ("polling=0", true),
            ("polling=86400", true),
            ("polling=86401", false),
        ] {
            let d = interpret(&answer(c1.clone(), &[s], None));
            assert_eq!(d.settings.polling_interval.is_some(), ok, "{s}");
        }
        // Another version: the whole record is ignored.
        let d = interpret(&answer(c1.clone(), &["sampling=50", "txtvers=2"], None));
        assert_eq!(d.settings, TxtSettings::default());
        assert!(d.notes[0].contains("version"), "{:?}", d.notes);
        // No SRV record: the TXT record is not read.
        let d = interpret(&answer(vec![], &["sampling=50"], None));
        assert_eq!(d.settings, TxtSettings::default());
        // Bytes that are not UTF-8 do not stop the others.
        let mut a = answer(c1, &["polling=30"], None);
        a.txt.insert(0, vec![0xff, b'=', 0xfe]);
        let d = interpret(&a);
        assert_eq!(d.settings.polling_interval, Some(30));
    }

    #[test]
    fn ttl_bounds() {
        let c1 = || vec![srv(0, 0, 6343, "c1.example.net")];
        for (ttl, refresh) in [
            (Some(0), 60),
            (Some(59), 60),
            (Some(61), 61),
            (Some(3600), 3600),
            (Some(86400), 3600),
            (None, DEFAULT_REFRESH_S),
        ] {
            assert_eq!(
                interpret(&answer(c1(), &[], ttl)).refresh_s,
                refresh,
                "{ttl:?}"
            );
        }
    }

    #[test]
    fn settings_override_the_agent_wide_ones_only() {
        let mut config = crate::config::parse(
            b"config agent 'agent'\n\toption sampling_rate '400'\n\toption polling_interval '20'\n\tlist interface 'eth0'\n\nconfig interface\n\toption device 'wlan0'\n\toption sampling_rate '7'\n\toption polling_interval '3'\n",
            "t",
        )
        .unwrap()
        .config;
        TxtSettings {
            sampling_rate: Some(50),
            polling_interval: Some(10),
        }
        .apply_to(&mut config);
        let (eth0, wlan0) = (&config.interfaces[0], &config.interfaces[1]);
        let a = &config.agent;
        assert_eq!(
            (a.sampling_rate_for(eth0), a.polling_interval_for(eth0)),
            (Some(50), 10)
        );
        assert_eq!(
            (a.sampling_rate_for(wlan0), a.polling_interval_for(wlan0)),
            (Some(7), 3)
        );
        // Nothing from TXT: the file's values.
        let mut again = config.clone();
        TxtSettings::default().apply_to(&mut again);
        assert_eq!(again, config);
    }

    #[test]
    fn names_to_ask() {
        let search = vec!["lan".to_owned(), "example.net".to_owned()];
        let n: Vec<String> = query_names(None, &search)
            .unwrap()
            .iter()
            .map(Name::to_string)
            .collect();
        assert_eq!(n, ["_sflow._udp.lan", "_sflow._udp.example.net"]);
        let n = query_names(Some("corp.example"), &search).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].to_string(), "_sflow._udp.corp.example");
        let e = query_names(None, &[]).unwrap_err();
        assert!(e.contains("dns_sd_domain"), "{e}");
        assert!(query_names(Some(&"a".repeat(250)), &[]).is_err());
    }

    /// The state machine with simulated time: the first lookup at once,
    /// then after the TTL (within its bounds), failures retried with a
    /// growing delay while the last answer stays, NXDOMAIN a good answer
    /// that removes the collectors, a reload asking at once.
    #[test]
    fn when_to_ask_with_simulated_time() {
        let mut d = Discovery::default();
        assert!(!d.due(0), "off by default");
        assert!(!d.configure(true, Some("example.net"), 5 * S));
        assert!(d.due(5 * S));
        d.started(5 * S, vec!["_sflow._udp.example.net".into()]);
        assert!(!d.due(6 * S), "one lookup at a time");
        assert_eq!(d.next_query_ms(), None);
        // An answer with TTL 0: the next lookup a minute later.
        let c1 = vec![srv(0, 0, 6343, "c1.example.net")];
        let found = interpret(&answer(c1.clone(), &["sampling=50"], Some(0)));
        assert!(d.answered(7 * S, found.clone()));
        assert_eq!(d.collectors().len(), 1);
        assert_eq!(d.settings().sampling_rate, Some(50));
        assert_eq!(d.next_query_ms(), Some(67 * S));
        assert!(!d.due(66 * S));
        assert!(d.due(67 * S));
        // The same answer again: nothing changes.
        d.started(67 * S, vec![]);
        assert!(!d.answered(68 * S, found.clone()));
        // Failures: 10, 20, 40, 80, 160, 300, 300 s; the answer stays.
        let mut now = 128 * S;
        for expected in [10, 20, 40, 80, 160, 300, 300] {
            assert!(d.due(now));
            d.started(now, vec![]);
            assert_eq!(d.failed(now + S, "timeout".into()), expected);
            assert_eq!(d.collectors().len(), 1);
            assert_eq!(d.settings().sampling_rate, Some(50));
            assert_eq!(d.error().map(|(_, e)| e), Some("timeout"));
            now += S + u64::from(expected) * S;
            assert!(!d.due(now - 1));
        }
        assert_eq!(d.failures(), 7);
        // Back: the failures are forgotten.
        d.started(now, vec![]);
        assert!(!d.answered(now + S, found.clone()));
        assert_eq!((d.failures(), d.error()), (0, None));
        // NXDOMAIN: no collectors, no settings; asked again per its
        // negative TTL (none here: the default).
        d.started(now + 2 * S, vec![]);
        let gone = interpret(&answer(vec![], &[], None));
        assert!(d.answered(now + 3 * S, gone));
        assert!(d.collectors().is_empty());
        assert_eq!(d.settings(), TxtSettings::default());
        assert_eq!(
            d.next_query_ms(),
            Some(now + 3 * S + u64::from(DEFAULT_REFRESH_S) * S)
        );
        // A reload asks at once; it keeps the answer (same domain).
        d.started(now + 4 * S, vec![]);
        assert!(d.answered(now + 5 * S, found.clone()));
        assert!(!d.configure(true, Some("example.net"), now + 6 * S));
        assert!(d.due(now + 6 * S));
        assert_eq!(d.collectors().len(), 1);
        // Another domain, or DNS-SD off: the answer goes.
        assert!(d.configure(true, Some("other.example"), now + 7 * S));
        assert!(d.collectors().is_empty());
        d.started(now + 8 * S, vec![]);
        assert!(d.answered(now + 9 * S, found));
        assert!(d.configure(false, Some("other.example"), now + 10 * S));
        assert!(!d.due(now + 100 * S));
        assert_eq!(d.next_query_ms(), None);
    }

    #[test]
    fn a_first_answer_without_anything_changes_nothing() {
        let mut d = Discovery::default();
        d.configure(true, None, 0);
        d.started(0, vec![]);
        assert!(!d.answered(S, interpret(&answer(vec![], &[], Some(600)))));
        assert_eq!(d.next_query_ms(), Some(601 * S));
        assert!(d.answer().is_some());
    }

    #[test]
    fn a_long_outage_keeps_the_answer_and_asks_every_five_minutes() {
        let mut d = Discovery::default();
        d.configure(true, None, 0);
        d.started(0, vec![]);
        d.answered(
            0,
            interpret(&answer(
                vec![srv(0, 0, 6343, "c.example.net")],
                &[],
                Some(3600),
            )),
        );
        let mut now = 3600 * S;
        let mut lookups = 0;
        // A day of failures.
        while now < 90_000 * S {
            if d.due(now) {
                d.started(now, vec![]);
                d.failed(now, "SERVFAIL".into());
                lookups += 1;
            }
            now += S;
        }
        assert_eq!(d.collectors().len(), 1);
        // At 3600 s, then 10, 20, 40, 80, 160 s later, then every 300 s
        // until 90,000 s: 6 + 286.
        assert_eq!(lookups, 292);
    }
}
