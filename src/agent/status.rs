//! `ubus call wsflowd status`: what the agent is doing, for operators and
//! for the LuCI page.

use super::source::Role;
use crate::config::{AgentAddress, ForeignBss};
use crate::ip::Text;
use crate::stations::{Source, Sources};
use crate::ubus::blob::BlobBuf;

use super::Agent;

/// Stations listed in a status reply at most (the count of each BSS is
/// always there): the reply stays well within a ubus message.
const MAX_LISTED_STATIONS: usize = 256;

/// A list of source names.
fn sources(b: &mut BlobBuf, name: &str, set: Sources) {
    let list = b.array_start(name);
    for s in set.iter() {
        b.string("", s.name());
    }
    b.array_end(list);
}

/// Which source a field came from ("" when none said).
fn from(b: &mut BlobBuf, name: &str, source: Option<Source>) {
    b.string(name, source.map_or("", Source::name));
}

/// Counters are unsigned 64-bit; blobmsg has signed int64 only. Values
/// beyond i64::MAX cannot occur in practice; they are clamped.
fn int64(b: &mut BlobBuf, name: &str, v: u64) {
    b.int64(name, i64::try_from(v).unwrap_or(i64::MAX));
}

impl Agent {
    /// The reply to `status`: version, uptime, configuration in force,
    /// collectors, data sources, hostapd's BSSes.
    pub(super) fn status(&mut self) -> BlobBuf {
        let mut b = BlobBuf::new();
        b.string("version", env!("CARGO_PKG_VERSION"));
        int64(&mut b, "uptime", self.now_ms() / 1000);
        let agent = &self.config.agent;
        let c = b.table_start("config");
        b.bool("enabled", agent.enabled);
        let address = match &agent.agent_address {
            AgentAddress::Auto => String::new(),
            AgentAddress::Fixed(ip) => Text(*ip).to_string(),
            AgentAddress::Interface(name) => name.clone(),
        };
        b.string("agent_address", &address);
        int64(&mut b, "sub_agent_id", u64::from(agent.sub_agent_id));
        int64(
            &mut b,
            "polling_interval",
            u64::from(agent.polling_interval),
        );
        // What is in force, not only the agent's own setting: each
        // interface's rate is in `interfaces`.
        let own = self
            .config
            .interfaces
            .iter()
            .filter(|i| i.sampling_rate.is_some())
            .count();
        match agent.sampling_rate {
            Some(rate) => int64(&mut b, "sampling_rate", u64::from(rate)),
            None if own > 0 && own == self.config.interfaces.len() => {
                b.string("sampling_rate", "set per interface")
            }
            None if own > 0 => {
                b.string("sampling_rate", "by link speed where not set per interface")
            }
            None => b.string("sampling_rate", "by link speed"),
        }
        int64(&mut b, "header_bytes", u64::from(agent.header_bytes));
        int64(&mut b, "datagram_bytes", u64::from(agent.datagram_bytes));
        int64(&mut b, "ring_kib", u64::from(agent.ring_kib));
        b.string("sampling_filter", agent.sampling_filter.name());
        b.string("log_level", agent.log_level.name());
        b.table_end(c);

        let packer = *self.out.packer.config();
        let chosen = packer
            .agent_address
            .map(|a| Text(a).to_string())
            .unwrap_or_default();
        b.string("agent_address", &chosen);
        int64(
            &mut b,
            "datagrams",
            u64::from(self.out.packer.sequence_number()),
        );

        let list = b.array_start("collectors");
        for col in self.out.collectors.entries() {
            let t = b.table_start("");
            b.string("section", &col.config.section);
            b.string("source", col.source.name());
            b.string("address", &col.config.address);
            int64(&mut b, "port", u64::from(col.config.port));
            let target = col.target.map(|t| Text(t).to_string()).unwrap_or_default();
            b.string("target", &target);
            int64(&mut b, "datagrams_sent", col.datagrams_sent);
            int64(&mut b, "send_errors", col.send_errors);
            b.string("last_error", col.last_error.as_deref().unwrap_or(""));
            b.table_end(t);
        }
        b.array_end(list);
        self.dns_sd.status(&mut b, self.now_ms());

        let list = b.array_start("interfaces");
        for k in 0..self.sources.len() {
            let counts = self.sources[k].counts();
            let s = &self.sources[k];
            let t = b.table_start("");
            b.string("device", &s.device);
            int64(&mut b, "ifindex", u64::from(s.if_index.unwrap_or(0)));
            b.bool("sampling", s.is_open());
            b.bool("monitor", s.is_monitor());
            int64(&mut b, "sampling_rate", u64::from(s.sampling_rate));
            if let Some((method, ring_bytes)) = s.capture_info() {
                b.string("filter", method);
                int64(&mut b, "ring_bytes", ring_bytes as u64);
            }
            int64(
                &mut b,
                "polling_interval",
                u64::from(s.settings.polling_interval),
            );
            int64(&mut b, "samples", counts.samples);
            int64(&mut b, "sample_pool", counts.pool);
            int64(&mut b, "drops", counts.drops);
            match &s.role {
                Role::Monitor(m) => {
                    int64(&mut b, "rejected", m.rejected);
                    int64(&mut b, "our_bss", m.ours.len() as u64);
                    int64(
                        &mut b,
                        "channel_mhz",
                        u64::from(m.operating_mhz.unwrap_or(0)),
                    );
                }
                Role::AccessPoint(ap) => {
                    b.string("radio_utilization", ap.utilization.unwrap_or(""));
                    if let Some(r) = &ap.radio {
                        let t = b.table_start("radio");
                        int64(&mut b, "elapsed_ms", u64::from(r.elapsed_time));
                        int64(&mut b, "on_channel_ms", u64::from(r.on_channel_time));
                        int64(&mut b, "busy_ms", u64::from(r.on_channel_busy_time));
                        b.table_end(t);
                    }
                }
                Role::Wired => {}
            }
            b.string(
                "role",
                match s.role {
                    Role::Monitor(_) => "monitor",
                    Role::AccessPoint(_) => "access point",
                    Role::Wired => "wired",
                },
            );
            b.string("error", s.open_error.as_deref().unwrap_or(""));
            if let Some(t) = &s.traffic {
                let c = b.table_start("traffic");
                int64(&mut b, "at_ms", t.at_ms);
                int64(&mut b, "rx_bytes", t.rx_bytes);
                int64(&mut b, "tx_bytes", t.tx_bytes);
                int64(&mut b, "rx_packets", t.rx_packets);
                int64(&mut b, "tx_packets", t.tx_packets);
                b.table_end(c);
            }
            b.table_end(t);
        }
        b.array_end(list);

        // What keeps the agent from doing its job, for the status page.
        let list = b.array_start("errors");
        for s in &self.sources {
            if let Some(e) = &s.open_error {
                b.string("", e);
            }
            if let Role::Monitor(m) = &s.role {
                if m.ours.is_empty() && s.settings.foreign_bss == ForeignBss::Ignore {
                    b.string("", &format!(
                        "monitor {}: no BSS of ours on its radio and frames of other BSSes ignored (foreign_bss 'ignore'): nothing is sampled; list our BSSes in 'bss', or set foreign_bss 'discard' to report every frame it sees as a discard",
                        s.device
                    ));
                }
            }
        }
        b.array_end(list);

        let u = b.table_start("ubus");
        b.string("socket", &self.wifi.ubus.path().display().to_string());
        b.bool("connected", self.wifi.ubus.is_connected());
        int64(&mut b, "notifications", self.wifi.ubus.stats.notifications);
        int64(&mut b, "answered", self.wifi.ubus.stats.answered);
        b.table_end(u);

        // Where stations come from: what is configured and what works.
        let t = b.table_start("station_sources");
        sources(&mut b, "configured", self.config.agent.station_sources);
        let k = b.table_start("nl80211");
        b.bool("available", self.wifi.nl80211);
        b.bool("notifications", self.wifi.nl80211_events.is_some());
        b.table_end(k);
        let u = b.table_start("ubus");
        b.bool("connected", self.wifi.ubus.is_connected());
        int64(&mut b, "bss", self.wifi.ubus.followed().count() as u64);
        b.table_end(u);
        if let Some(control) = &self.wifi.control {
            let c = control.stats();
            let h = b.table_start("hostapd");
            b.string("dir", &control.dir().display().to_string());
            int64(&mut b, "bss", u64::from(c.attached));
            int64(&mut b, "sockets", u64::from(c.sockets));
            int64(&mut b, "events", c.events);
            int64(&mut b, "replies", c.replies);
            int64(&mut b, "malformed", c.malformed);
            int64(&mut b, "timed_out", c.timed_out);
            int64(&mut b, "reconnects", c.reconnects);
            int64(&mut b, "refused", c.refused);
            // How long one message from hostapd took to handle (µs, the
            // bound of its power-of-two bucket): the proof that following
            // hostapd never delays it.
            if let Some(p99) = c.handling.percentile_us(99) {
                int64(&mut b, "handling_p99_us", p99);
            }
            int64(&mut b, "handling_max_us", c.handling.max_ns.div_ceil(1000));
            b.table_end(h);
        }
        b.table_end(t);

        // The station table is sorted by interface name already.
        let subscribed: Vec<(&str, bool)> = self.wifi.ubus.followed().collect();
        let mut listed = 0;
        let list = b.array_start("bss");
        for bss in self.wifi.stations.iter() {
            let t = b.table_start("");
            b.string("ifname", bss.ifname());
            sources(&mut b, "sources", bss.sources());
            let ssid = bss.ssid();
            b.string(
                "ssid",
                &String::from_utf8_lossy(ssid.map_or(&[][..], |(_, s)| s)),
            );
            from(&mut b, "ssid_from", ssid.map(|(s, _)| s));
            let bssid = bss.bssid();
            b.string(
                "bssid",
                &bssid.map(|(_, m)| m.to_string()).unwrap_or_default(),
            );
            from(&mut b, "bssid_from", bssid.map(|(s, _)| s));
            let channel = bss.channel();
            int64(&mut b, "channel", u64::from(channel.map_or(0, |(_, c)| c)));
            from(&mut b, "channel_from", channel.map(|(s, _)| s));
            let freq = bss.freq_mhz();
            int64(&mut b, "freq", u64::from(freq.map_or(0, |(_, f)| f)));
            b.string("radio", bss.radio().map_or("", |(_, r)| r));
            int64(&mut b, "stations", u64::from(bss.associated()));
            let is_subscribed = subscribed
                .iter()
                .any(|&(ifname, on)| on && ifname == bss.ifname());
            b.bool("subscribed", is_subscribed);
            let stations = b.array_start("station_list");
            for (mac, st) in bss.stations() {
                if listed == MAX_LISTED_STATIONS {
                    break;
                }
                listed += 1;
                let e = b.table_start("");
                b.string("mac", &mac.to_string());
                b.bool("associated", st.associated());
                if let Some(dbm) = st.signal_dbm() {
                    b.int32("signal", i32::from(dbm));
                }
                if let Some(k) = st.rx_rate_kbps() {
                    int64(&mut b, "rx_rate", u64::from(k));
                }
                if let Some(k) = st.tx_rate_kbps() {
                    int64(&mut b, "tx_rate", u64::from(k));
                }
                let (rx, tx) = st.bytes();
                if let Some(v) = rx {
                    int64(&mut b, "rx_bytes", v);
                }
                if let Some(v) = tx {
                    int64(&mut b, "tx_bytes", v);
                }
                sources(&mut b, "sources", st.sources());
                b.table_end(e);
            }
            b.array_end(stations);
            b.table_end(t);
        }
        b.array_end(list);
        b
    }
}
