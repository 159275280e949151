//! Tests of the configuration: syntax to model, every option and limit.

use super::*;
use crate::log::Level;

// The defaults as docs/configuration.md states them: the schema must say
// the same.
const DEFAULT_POLLING_INTERVAL: u32 = 20;
const DEFAULT_HEADER_BYTES: u32 = 128;
const DEFAULT_DATAGRAM_BYTES: u32 = 1400;
const DEFAULT_RING_KIB: u32 = 256;
const DEFAULT_COLLECTOR_PORT: u16 = 6343;

const FILE: &str = "/etc/config/wsflowd";
const EXAMPLE: &[u8] = include_bytes!("../../tests/config_files/example.uci");
const FULL: &[u8] = include_bytes!("../../tests/config_files/full.uci");

fn ok(text: &str) -> Loaded {
    match parse(text.as_bytes(), FILE) {
        Ok(loaded) => loaded,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

fn err(text: &str) -> ConfigError {
    match parse(text.as_bytes(), FILE) {
        Ok(loaded) => panic!("{text:?} accepted: {loaded:?}"),
        Err(e) => e,
    }
}

/// The agent section with one option set to `value`.
fn agent_with(option: &str, value: &str) -> String {
    format!("config agent 'agent'\n\toption {option} '{value}'\n")
}

fn agent(option: &str, value: &str) -> AgentConfig {
    ok(&agent_with(option, value)).config.agent
}

/// Checks the error about `option` of the agent section on line 2.
fn agent_err(option: &str, value: &str) -> ConfigError {
    let e = err(&agent_with(option, value));
    assert_eq!(e.file, FILE);
    assert_eq!(e.line, 2, "{e}");
    assert_eq!(e.section.as_deref(), Some("'agent'"), "{e}");
    assert_eq!(e.option.as_deref(), Some(option), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{FILE}:2: option '{option}' in section 'agent': ")),
        "{text}"
    );
    e
}

fn iface(
    device: &str,
    sampling_rate: Option<u32>,
    polling_interval: Option<u32>,
    section: &str,
) -> InterfaceConfig {
    InterfaceConfig {
        sampling_rate,
        polling_interval,
        ..InterfaceConfig::new(device, section)
    }
}

fn collector(address: &str, port: u16, section: &str) -> CollectorConfig {
    CollectorConfig {
        address: address.to_owned(),
        port,
        section: section.to_owned(),
    }
}

fn devices(loaded: &Loaded) -> Vec<&str> {
    loaded
        .config
        .interfaces
        .iter()
        .map(|i| i.device.as_str())
        .collect()
}

#[test]
fn example_file() {
    let loaded = parse(EXAMPLE, FILE).unwrap();
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let expected = Config {
        agent: AgentConfig {
            enabled: true,
            agent_address: AgentAddress::Auto,
            sub_agent_id: 0,
            polling_interval: 20,
            sampling_rate: None,
            header_bytes: 128,
            datagram_bytes: 1400,
            log_level: Level::Info,
            ring_kib: 256,
            sampling_filter: SamplingFilter::Auto,
            ubus_socket: None,
            station_sources: crate::stations::Sources::ALL,
            hostapd_control_dir: "/var/run/hostapd".into(),
            dns_sd: false,
            dns_sd_domain: None,
        },
        interfaces: vec![
            InterfaceConfig {
                ring_kib: Some(512),
                ..iface("wlan0", Some(100), Some(10), "@interface[0]")
            },
            iface("eth0", None, None, "'agent'"),
        ],
        collectors: vec![collector("192.0.2.10", 6343, "@collector[0]")],
    };
    assert_eq!(loaded.config, expected);
    let agent = &loaded.config.agent;
    let [wlan0, eth0] = &loaded.config.interfaces[..] else {
        panic!()
    };
    assert_eq!(agent.sampling_rate_for(wlan0), Some(100));
    assert_eq!(agent.sampling_rate_at_speed(wlan0, 1_000_000_000), 100);
    assert_eq!(agent.polling_interval_for(wlan0), 10);
    assert_eq!(agent.ring_kib_for(wlan0), 512);
    assert_eq!(agent.sampling_rate_for(eth0), None);
    assert_eq!(agent.sampling_rate_at_speed(eth0, 1_000_000_000), 1000);
    assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 400);
    assert_eq!(eth0.effective_polling_interval(agent), 20);
    assert_eq!(agent.ring_kib_for(eth0), 256);
}

#[test]
fn full_example_file() {
    let loaded = parse(FULL, "full.uci").unwrap();
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let config = loaded.config;
    assert_eq!(
        config.agent,
        AgentConfig {
            enabled: true,
            agent_address: AgentAddress::Interface("br-lan".into()),
            sub_agent_id: 3,
            polling_interval: 30,
            sampling_rate: Some(256),
            header_bytes: 160,
            datagram_bytes: 1452,
            log_level: Level::Warn,
            ring_kib: 512,
            sampling_filter: SamplingFilter::Ebpf,
            ubus_socket: None,
            station_sources: crate::stations::Sources::ALL,
            hostapd_control_dir: "/var/run/hostapd".into(),
            dns_sd: false,
            dns_sd_domain: None,
        }
    );
    assert_eq!(
        config.interfaces,
        [
            iface("phy0-ap0", None, None, "'agent'"),
            InterfaceConfig {
                ring_kib: Some(1024),
                ..iface("phy1-ap0", Some(512), None, "'radio5'")
            },
            iface("phy0-ap1", Some(1024), Some(60), "@interface[1]"),
            InterfaceConfig {
                bss: vec![
                    Bss::Interface("phy1-ap0".into()),
                    Bss::Bssid([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]),
                ],
                foreign_bss: ForeignBss::Discard,
                ..iface("phy1-mon0", Some(2000), None, "'monitor5'")
            },
        ]
    );
    let rings: Vec<u32> = config
        .interfaces
        .iter()
        .map(|i| config.agent.ring_kib_for(i))
        .collect();
    assert_eq!(rings, [512, 1024, 512, 512]);
    assert_eq!(
        config.collectors,
        [
            collector("2001:db8::10", 6343, "'noc'"),
            collector("sflow.example.net.", 9995, "@collector[1]"),
        ]
    );
}

#[test]
fn empty_file_gives_defaults_and_warnings() {
    let loaded = ok("");
    assert_eq!(loaded.config, Config::default());
    let agent = &loaded.config.agent;
    assert!(agent.enabled);
    assert_eq!(agent.agent_address, AgentAddress::Auto);
    assert_eq!(agent.sub_agent_id, 0);
    assert_eq!(agent.polling_interval, DEFAULT_POLLING_INTERVAL);
    assert_eq!(agent.sampling_rate, None);
    assert_eq!(agent.header_bytes, DEFAULT_HEADER_BYTES);
    assert_eq!(agent.datagram_bytes, DEFAULT_DATAGRAM_BYTES);
    assert_eq!(agent.log_level, Level::Info);
    assert_eq!(agent.ring_kib, DEFAULT_RING_KIB);
    assert_eq!(agent.sampling_filter, SamplingFilter::Auto);
    assert_eq!(
        loaded.warnings,
        [
            format!("{FILE}: no collector configured: samples will not be sent anywhere"),
            format!("{FILE}: no interface configured: nothing will be sampled or polled"),
        ]
    );
}

#[test]
fn agent_section_without_options_gives_defaults() {
    for text in [
        "config agent 'agent'\n",
        "config agent\n",
        "config agent main\n",
    ] {
        assert_eq!(ok(text).config.agent, AgentConfig::default(), "{text}");
    }
}

#[test]
fn disabled_agent_has_no_warnings_about_missing_parts() {
    let loaded = ok(&agent_with("enabled", "0"));
    assert!(!loaded.config.agent.enabled);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn only_one_agent_section() {
    let e = err("config agent 'agent'\n\nconfig collector\n\toption address x\nconfig agent\n");
    assert_eq!(e.line, 5);
    assert_eq!(e.section.as_deref(), Some("@agent[1]"));
    assert_eq!(e.option, None);
    assert_eq!(
        e.to_string(),
        format!("{FILE}:5: section @agent[1]: only one 'agent' section is allowed, the first is 'agent' (line 1)")
    );
    let e = err("config agent\nconfig agent two\n");
    assert_eq!(e.section.as_deref(), Some("'two'"));
    assert!(e.message.contains("@agent[0]"), "{e}");
}

#[test]
fn booleans() {
    for (text, value) in [
        ("1", true),
        ("0", false),
        ("yes", true),
        ("no", false),
        ("on", true),
        ("off", false),
        ("true", true),
        ("false", false),
        ("enabled", true),
        ("disabled", false),
        ("YES", true),
        ("Off", false),
        ("True", true),
        ("DISABLED", false),
    ] {
        assert_eq!(parse_bool(text), Some(value), "{text}");
        assert_eq!(agent("enabled", text).enabled, value, "{text}");
    }
    for text in ["2", "y", "n", "enable", " 1", "1 ", "-1", "tru"] {
        assert_eq!(parse_bool(text), None, "{text}");
        let e = agent_err("enabled", text);
        assert!(e.message.contains("expected a boolean"), "{e}");
    }
}

#[test]
fn polling_interval_range() {
    assert_eq!(agent("polling_interval", "0").polling_interval, 0);
    assert_eq!(agent("polling_interval", "1").polling_interval, 1);
    assert_eq!(agent("polling_interval", "86400").polling_interval, 86400);
    for bad in [
        "86401",
        "-1",
        "abc",
        "4294967296",
        "99999999999999999999999",
    ] {
        let e = agent_err("polling_interval", bad);
        assert_eq!(
            e.message,
            format!("invalid value '{bad}': expected a whole number of seconds from 0 to 86400")
        );
    }
}

#[test]
fn documented_error_shape() {
    let text = "config agent 'agent'\n\toption enabled '1'\n\n\t# counters\n\toption polling_interval 'abc'\n";
    let e = err(text);
    assert_eq!(
        e.to_string(),
        "/etc/config/wsflowd:5: option 'polling_interval' in section 'agent': invalid value 'abc': expected a whole number of seconds from 0 to 86400"
    );
    assert_eq!(e.line, 5);
    assert_eq!(e.section.as_deref(), Some("'agent'"));
    assert_eq!(e.option.as_deref(), Some("polling_interval"));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains("abc"));
}

#[test]
fn parse_error_shape() {
    let e = err("config agent 'agent'\n\n\toption bad-name 1\n");
    assert_eq!(
        e.to_string(),
        "/etc/config/wsflowd:3: invalid character in name field"
    );
    assert_eq!((e.line, e.section, e.option), (3, None, None));
}

#[test]
fn sampling_rate_range() {
    assert_eq!(agent("sampling_rate", "1").sampling_rate, Some(1));
    assert_eq!(
        agent("sampling_rate", "16777215").sampling_rate,
        Some(16_777_215)
    );
    let e = agent_err("sampling_rate", "0");
    assert!(e.message.contains("1 to 16777215"), "{e}");
    assert!(e.message.contains("'enabled'"), "{e}");
    let e = agent_err("sampling_rate", "16777216");
    assert!(e.message.contains("1 to 16777215"), "{e}");
}

#[test]
fn sampling_rate_from_link_speed() {
    const MBIT: u64 = 1_000_000;
    const GBIT: u64 = 1_000 * MBIT;
    for (speed, rate) in [
        (0, UNKNOWN_SPEED_SAMPLING_RATE),
        (1, MIN_SPEED_SAMPLING_RATE),
        (MBIT - 1, 100),
        (MBIT, 100),
        (10 * MBIT, 100),
        (100 * MBIT, 100),
        (101 * MBIT - 1, 100),
        (101 * MBIT, 101),
        (866_700_000, 866),
        (GBIT, 1000),
        (2_500 * MBIT, 2500),
        (10 * GBIT, 10_000),
        (400 * GBIT, 400_000),
        (u64::from(MAX_SAMPLING_RATE) * MBIT, MAX_SAMPLING_RATE),
        (u64::from(MAX_SAMPLING_RATE + 1) * MBIT, MAX_SAMPLING_RATE),
        (u64::MAX, MAX_SAMPLING_RATE),
    ] {
        assert_eq!(sampling_rate_for_speed(speed), rate, "{speed} bit/s");
    }
    assert_eq!(UNKNOWN_SPEED_SAMPLING_RATE, 400);
}

#[test]
fn sampling_rate_unset_is_chosen_by_speed() {
    let loaded = ok("config agent\n\tlist interface eth0\nconfig interface\n\toption device wlan0\n\toption sampling_rate 50\n");
    let agent = &loaded.config.agent;
    let [eth0, wlan0] = &loaded.config.interfaces[..] else {
        panic!("{loaded:?}")
    };
    assert_eq!(agent.sampling_rate_for(eth0), None);
    assert_eq!(agent.sampling_rate_at_speed(eth0, 10_000_000_000), 10_000);
    assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 400);
    assert_eq!(agent.sampling_rate_for(wlan0), Some(50));
    assert_eq!(agent.sampling_rate_at_speed(wlan0, 10_000_000_000), 50);
    // The agent's rate comes before the speed, the interface's first.
    let agent = AgentConfig {
        sampling_rate: Some(2000),
        ..AgentConfig::default()
    };
    assert_eq!(agent.sampling_rate_for(eth0), Some(2000));
    assert_eq!(agent.sampling_rate_at_speed(eth0, 0), 2000);
    assert_eq!(agent.sampling_rate_for(wlan0), Some(50));
}

#[test]
fn ring_kib_range() {
    assert_eq!(AgentConfig::default().ring_kib, DEFAULT_RING_KIB);
    assert_eq!(DEFAULT_RING_KIB, 256);
    assert_eq!(agent("ring_kib", "16").ring_kib, MIN_RING_KIB);
    assert_eq!(agent("ring_kib", "65536").ring_kib, MAX_RING_KIB);
    assert_eq!(agent("ring_kib", "1024").ring_kib, 1024);
    for bad in ["15", "65537", "0", "256k", "-256", "4294967296"] {
        let e = agent_err("ring_kib", bad);
        assert_eq!(
            e.message,
            format!("invalid value '{bad}': expected a whole number of KiB from 16 to 65536")
        );
    }
}

#[test]
fn interface_ring_kib_overrides_the_agent() {
    let text = concat!(
        "config agent\n",
        "\toption ring_kib 128\n",
        "\tlist interface wlan0\n",
        "\tlist interface eth0\n",
        "config interface\n",
        "\toption device eth0\n",
        "\toption ring_kib 65536\n",
        "config interface\n",
        "\toption device wlan1\n",
        "\toption ring_kib 16\n",
    );
    let loaded = ok(text);
    let agent = &loaded.config.agent;
    let rings: Vec<(Option<u32>, u32)> = loaded
        .config
        .interfaces
        .iter()
        .map(|i| (i.ring_kib, agent.ring_kib_for(i)))
        .collect();
    assert_eq!(rings, [(None, 128), (Some(65536), 65536), (Some(16), 16)]);
    let no_agent = ok("config interface\n\toption device wlan0\n");
    let i = &no_agent.config.interfaces[0];
    assert_eq!(no_agent.config.agent.ring_kib_for(i), DEFAULT_RING_KIB);
    for bad in ["15", "65537", "0", "x"] {
        let e = err(&format!(
            "config interface 'w'\n\toption device wlan0\n\toption ring_kib '{bad}'\n"
        ));
        assert_eq!(
            e.to_string(),
            format!("{FILE}:3: option 'ring_kib' in section 'w': invalid value '{bad}': expected a whole number of KiB from 16 to 65536")
        );
    }
}

#[test]
fn sampling_filters() {
    assert_eq!(AgentConfig::default().sampling_filter, SamplingFilter::Auto);
    for (text, filter) in [
        ("auto", SamplingFilter::Auto),
        ("ebpf", SamplingFilter::Ebpf),
        ("classic", SamplingFilter::Classic),
        ("eBPF", SamplingFilter::Ebpf),
        ("CLASSIC", SamplingFilter::Classic),
    ] {
        assert_eq!(agent("sampling_filter", text).sampling_filter, filter);
    }
    for filter in [
        SamplingFilter::Auto,
        SamplingFilter::Ebpf,
        SamplingFilter::Classic,
    ] {
        assert_eq!(
            agent("sampling_filter", filter.name()).sampling_filter,
            filter
        );
        assert_eq!(filter.to_string(), filter.name());
    }
    for bad in ["bpf", "cbpf", "e-bpf", "auto ", "1"] {
        let e = agent_err("sampling_filter", bad);
        assert_eq!(
            e.message,
            format!("invalid value '{bad}': expected one of auto, ebpf, classic")
        );
    }
}

#[test]
fn sampling_filter_belongs_in_the_agent_section() {
    let text = "config interface 'w'\n\toption device wlan0\n\toption sampling_filter classic\n";
    let loaded = ok(text);
    assert_eq!(loaded.config.agent.sampling_filter, SamplingFilter::Auto);
    assert_eq!(
        loaded.warnings[0],
        format!("{FILE}:3: unknown option 'sampling_filter' in section 'w', ignored (it belongs in an 'agent' section)")
    );
}

#[test]
fn header_bytes_range() {
    assert_eq!(agent("header_bytes", "16").header_bytes, 16);
    assert_eq!(agent("header_bytes", "512").header_bytes, 512);
    for bad in ["15", "513", "0", "128 "] {
        let e = agent_err("header_bytes", bad);
        assert!(
            e.message
                .ends_with("expected a whole number of bytes from 16 to 512"),
            "{e}"
        );
    }
}

#[test]
fn datagram_bytes_range() {
    assert_eq!(agent("datagram_bytes", "9000").datagram_bytes, 9000);
    assert_eq!(agent("datagram_bytes", "384").datagram_bytes, 384);
    for bad in ["255", "9001", "0"] {
        let e = agent_err("datagram_bytes", bad);
        assert!(e.message.ends_with("from 256 to 9000"), "{e}");
    }
    // 256 is in range, but too small for the default header_bytes.
    let e = agent_err("datagram_bytes", "256");
    assert!(e.message.contains("header_bytes + 256 = 384"), "{e}");
    let e = agent_err("datagram_bytes", "383");
    assert!(e.message.contains("at least"), "{e}");
}

#[test]
fn datagram_bytes_must_leave_room_for_a_header() {
    let ok_text = "config agent\n\toption header_bytes 16\n\toption datagram_bytes 272\n";
    assert_eq!(ok(ok_text).config.agent.datagram_bytes, 272);
    let text = "config agent\n\toption datagram_bytes 700\n\toption header_bytes 512\n";
    let e = err(text);
    assert_eq!(e.line, 2);
    assert_eq!(e.option.as_deref(), Some("datagram_bytes"));
    assert_eq!(e.section.as_deref(), Some("@agent[0]"));
    assert!(e.message.contains("768"), "{e}");
    let text = "config agent\n\toption header_bytes 512\n\toption datagram_bytes 768\n";
    assert_eq!(ok(text).config.agent.datagram_bytes, 768);
}

#[test]
fn sub_agent_id_range() {
    assert_eq!(agent("sub_agent_id", "0").sub_agent_id, 0);
    assert_eq!(agent("sub_agent_id", "4294967295").sub_agent_id, u32::MAX);
    let e = agent_err("sub_agent_id", "4294967296");
    assert!(e.message.contains("0 to 4294967295"), "{e}");
}

#[test]
fn integers_are_plain_decimal() {
    assert_eq!(agent("polling_interval", "007").polling_interval, 7);
    for bad in [
        "+5", "-5", " 5", "5 ", "0x10", "1e3", "5s", "1_000", "\u{663}", "5.0",
    ] {
        agent_err("polling_interval", bad);
    }
    assert_eq!(
        values::parse_decimal("18446744073709551615"),
        Some(u64::MAX)
    );
    assert_eq!(values::parse_decimal("18446744073709551616"), None);
    assert_eq!(values::parse_decimal(""), None);
}

#[test]
fn log_levels() {
    for (text, level) in [
        ("error", Level::Error),
        ("warning", Level::Warn),
        ("info", Level::Info),
        ("debug", Level::Debug),
        ("DEBUG", Level::Debug),
        ("warn", Level::Warn),
    ] {
        assert_eq!(agent("log_level", text).log_level, level, "{text}");
    }
    let e = agent_err("log_level", "verbose");
    assert!(e.message.contains("error, warning, info, debug"), "{e}");
}

#[test]
fn agent_addresses() {
    let addr = |v: &str| agent("agent_address", v).agent_address;
    assert_eq!(
        addr("192.0.2.1"),
        AgentAddress::Fixed("192.0.2.1".parse().unwrap())
    );
    assert_eq!(
        addr("2001:db8::1"),
        AgentAddress::Fixed("2001:db8::1".parse().unwrap())
    );
    assert_eq!(
        addr("[2001:db8::1]"),
        AgentAddress::Fixed("2001:db8::1".parse().unwrap())
    );
    assert_eq!(addr("br-lan"), AgentAddress::Interface("br-lan".into()));
    assert_eq!(addr("eth0.1"), AgentAddress::Interface("eth0.1".into()));
    // Empty deletes the option: automatic.
    assert_eq!(addr(""), AgentAddress::Auto);
    for bad in [
        "192.168.1.300",
        "10.0.0.1/24",
        "fe80::1%eth0",
        "a-very-long-interface-name",
        "1.2.3",
        "[eth0:1]",
    ] {
        let e = agent_err("agent_address", bad);
        assert!(
            e.message
                .contains("an IPv4 or IPv6 address, or an interface name"),
            "{e}"
        );
    }
}

#[test]
fn interface_names() {
    for good in [
        "wlan0",
        "a",
        "phy0-ap0",
        "br-lan",
        "eth0.100",
        "123456789012345",
        "wlan@x",
    ] {
        assert!(is_valid_interface_name(good), "{good}");
    }
    for bad in [
        "",
        ".",
        "..",
        "1234567890123456",
        "a/b",
        "a:b",
        "a b",
        "a\tb",
        "a\u{a0}",
    ] {
        assert!(!is_valid_interface_name(bad), "{bad:?}");
    }
}

#[test]
fn host_names() {
    for (text, host) in [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8::10", "2001:db8::10"),
        ("[2001:db8::10]", "2001:db8::10"),
        ("::1", "::1"),
        ("collector", "collector"),
        ("sflow.example.net", "sflow.example.net"),
        ("sflow.example.net.", "sflow.example.net."),
        ("a-b.c-d9", "a-b.c-d9"),
        ("9gag.com", "9gag.com"),
    ] {
        assert_eq!(parse_host(text).as_deref(), Ok(host), "{text}");
    }
    let label63 = "a".repeat(63);
    assert!(parse_host(&label63).is_ok());
    assert!(parse_host(&"a".repeat(64)).is_err());
    let name253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
    assert_eq!(name253.len(), 253);
    assert!(parse_host(&name253).is_ok());
    assert!(parse_host(&format!("{name253}.")).is_ok());
    assert!(parse_host(&format!("{name253}b")).is_err());
    for bad in [
        "",
        ".",
        "-a",
        "a-",
        "a..b",
        "a_b",
        "a b",
        "[192.0.2.1]",
        "192.0.2.300",
        "192.0.2",
        "2001:db8::g",
        "host:6343",
        "[::1]:6343",
        "h\u{e9}.net",
    ] {
        assert!(parse_host(bad).is_err(), "{bad:?}");
    }
    assert!(parse_host("192.0.2.1:6343")
        .unwrap_err()
        .contains("option 'port'"));
}

#[test]
fn interface_list_from_agent_list_and_option() {
    let loaded =
        ok("config agent\n\tlist interface wlan0\n\tlist interface eth0\n\tlist interface wlan1\n");
    assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
    let loaded = ok("config agent\n\toption interface 'wlan0  eth0\twlan1'\n");
    assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
    let loaded = ok("config agent\n\toption interface wlan0\n\tlist interface 'eth0 wlan1'\n");
    assert_eq!(devices(&loaded), ["wlan0", "eth0", "wlan1"]);
    for i in &loaded.config.interfaces {
        assert_eq!(i.section, "@agent[0]");
        assert_eq!((i.sampling_rate, i.polling_interval), (None, None));
    }
}

#[test]
fn duplicate_interfaces_in_agent_list_are_merged() {
    let loaded = ok("config agent 'agent'\n\tlist interface wlan0\n\tlist interface eth0\n\tlist interface wlan0\nconfig collector\n\toption address c\n");
    assert_eq!(devices(&loaded), ["wlan0", "eth0"]);
    assert_eq!(
        loaded.warnings,
        [format!("{FILE}:4: 'wlan0' is listed more than once in option 'interface' of section 'agent', the repeat is ignored")]
    );
    let loaded = ok("config agent\n\toption interface 'a a'\n");
    assert_eq!(devices(&loaded), ["a"]);
    assert!(loaded.warnings[0].starts_with(&format!("{FILE}:2: 'a' is listed more than once")));
}

#[test]
fn invalid_interface_names_are_errors_on_their_line() {
    let e = err("config agent 'agent'\n\tlist interface wlan0\n\tlist interface 'a/b'\n\tlist interface eth0\n");
    assert_eq!(e.line, 3);
    assert_eq!(e.option.as_deref(), Some("interface"));
    assert_eq!(e.section.as_deref(), Some("'agent'"));
    assert!(e.message.contains("invalid interface name 'a/b'"), "{e}");
    let e = err("config agent\n\tlist interface ''\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("invalid interface name ''"), "{e}");
    let e = err("config agent\n\toption interface 'wlan0 0123456789abcdef'\n");
    assert!(e.message.contains("0123456789abcdef"), "{e}");
    let e = err("config interface\n\toption device 'a:1'\n");
    assert_eq!((e.line, e.option.as_deref()), (2, Some("device")));
    assert_eq!(e.section.as_deref(), Some("@interface[0]"));
}

#[test]
fn interface_sections_override_and_extend() {
    let text = concat!(
        "config agent\n",
        "\toption sampling_rate 1000\n",
        "\toption polling_interval 30\n",
        "\tlist interface wlan0\n",
        "\tlist interface eth0\n",
        "config interface\n",
        "\toption device phy1\n",
        "config interface 'w'\n",
        "\toption device eth0\n",
        "\toption sampling_rate 50\n",
        "\toption polling_interval 0\n",
        "config interface\n",
        "\toption device phy0\n",
        "\toption polling_interval 5\n",
    );
    let loaded = ok(text);
    assert_eq!(
        loaded.config.interfaces,
        [
            iface("wlan0", None, None, "@agent[0]"),
            iface("eth0", Some(50), Some(0), "'w'"),
            iface("phy1", None, None, "@interface[0]"),
            iface("phy0", None, Some(5), "@interface[2]"),
        ]
    );
    let agent = &loaded.config.agent;
    let rates: Vec<(Option<u32>, u32)> = loaded
        .config
        .interfaces
        .iter()
        .map(|i| (agent.sampling_rate_for(i), agent.polling_interval_for(i)))
        .collect();
    assert_eq!(
        rates,
        [
            (Some(1000), 30),
            (Some(50), 0),
            (Some(1000), 30),
            (Some(1000), 5)
        ]
    );
    // The agent's rate applies whatever the link speed.
    let wlan0 = &loaded.config.interfaces[0];
    assert_eq!(agent.sampling_rate_at_speed(wlan0, 10_000_000_000), 1000);
}

#[test]
fn interface_sections_without_agent() {
    let loaded = ok("config interface\n\toption device wlan0\n\toption sampling_rate 64\n");
    let i = &loaded.config.interfaces[0];
    assert_eq!(i, &iface("wlan0", Some(64), None, "@interface[0]"));
    assert_eq!(loaded.config.agent.sampling_rate_for(i), Some(64));
    let plain = iface("x", None, None, "");
    assert_eq!(loaded.config.agent.sampling_rate_for(&plain), None);
    assert_eq!(
        loaded.config.agent.sampling_rate_at_speed(&plain, 0),
        UNKNOWN_SPEED_SAMPLING_RATE
    );
    assert_eq!(loaded.config.agent.ring_kib_for(&plain), DEFAULT_RING_KIB);
    assert_eq!(
        loaded.config.agent.polling_interval_for(&plain),
        DEFAULT_POLLING_INTERVAL
    );
}

#[test]
fn disabled_interface_sections_remove_devices() {
    let text = concat!(
        "config agent\n",
        "\tlist interface wlan0\n",
        "\tlist interface eth0\n",
        "config interface\n",
        "\toption device eth0\n",
        "\toption enabled 0\n",
        "config interface\n",
        "\toption device wlan1\n",
        "\toption enabled off\n",
        "config interface\n",
        "\toption device wlan2\n",
        "\toption enabled 1\n",
    );
    assert_eq!(devices(&ok(text)), ["wlan0", "wlan2"]);
}

#[test]
fn interface_section_errors() {
    let e = err("config agent\nconfig interface\n\toption sampling_rate 10\n");
    assert_eq!(e.line, 2);
    assert_eq!(e.section.as_deref(), Some("@interface[0]"));
    assert_eq!(e.option.as_deref(), Some("device"));
    assert_eq!(
        e.to_string(),
        format!(
            "{FILE}:2: option 'device' in section @interface[0]: missing required option 'device'"
        )
    );
    let e = err("config interface\n\toption device a\nconfig interface 'b'\n\toption device a\n");
    assert_eq!(e.line, 4);
    assert_eq!(e.section.as_deref(), Some("'b'"));
    assert!(
        e.message
            .contains("already configured in section @interface[0] (line 2)"),
        "{e}"
    );
    let e = err("config interface\n\toption device a\n\toption sampling_rate 0\n");
    assert_eq!((e.line, e.option.as_deref()), (3, Some("sampling_rate")));
    assert!(e.message.contains("'enabled'"), "{e}");
    let e = err("config interface\n\toption device a\n\toption polling_interval 86401\n");
    assert_eq!((e.line, e.option.as_deref()), (3, Some("polling_interval")));
    let e = err("config interface\n\toption device a\n\toption enabled maybe\n");
    assert_eq!((e.line, e.option.as_deref()), (3, Some("enabled")));
    let ok_text = "config interface\n\toption device a\n\toption sampling_rate 16777215\n\toption polling_interval 86400\n";
    assert_eq!(
        ok(ok_text).config.interfaces,
        [iface("a", Some(16_777_215), Some(86_400), "@interface[0]")]
    );
}

#[test]
fn monitor_options_default_to_none() {
    let text = "config agent\n\tlist interface mon0\nconfig interface\n\toption device mon1\n";
    for i in &ok(text).config.interfaces {
        assert_eq!(i.bss, []);
        assert_eq!(i.foreign_bss, ForeignBss::Ignore);
        assert_eq!(i.ring_kib, None);
    }
    assert_eq!(ForeignBss::default(), ForeignBss::Ignore);
}

#[test]
fn bss_lists() {
    let text = concat!(
        "config interface 'mon'\n",
        "\toption device mon0\n",
        "\tlist bss wlan0\n",
        "\tlist bss 'AA:BB:CC:DD:EE:F0'\n",
        "\tlist bss '02-00-5e-10-00-01 phy1-ap0'\n",
        "\tlist bss 'aa:bb:cc:dd:ee:f0'\n",
        "\tlist bss wlan0\n",
        "\tlist bss 'AA-BB-CC-DD-EE-F0'\n",
    );
    let loaded = ok(text);
    let i = &loaded.config.interfaces[0];
    assert_eq!(
        i.bss,
        [
            Bss::Interface("wlan0".into()),
            Bss::Bssid([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0]),
            Bss::Bssid([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]),
            Bss::Interface("phy1-ap0".into()),
        ]
    );
    assert_eq!(
        loaded.warnings,
        [
            format!("{FILE}:6: 'aa:bb:cc:dd:ee:f0' is listed more than once in option 'bss' of section 'mon', the repeat is ignored"),
            format!("{FILE}:7: 'wlan0' is listed more than once in option 'bss' of section 'mon', the repeat is ignored"),
            format!("{FILE}:8: 'AA-BB-CC-DD-EE-F0' is listed more than once in option 'bss' of section 'mon', the repeat is ignored"),
            format!("{FILE}: no collector configured: samples will not be sent anywhere"),
        ]
    );
    // One option, split on whitespace.
    let loaded = ok(
        "config interface\n\toption device mon0\n\toption bss 'wlan0  wlan1\t02:00:00:00:00:01'\n",
    );
    assert_eq!(
        loaded.config.interfaces[0].bss,
        [
            Bss::Interface("wlan0".into()),
            Bss::Interface("wlan1".into()),
            Bss::Bssid([2, 0, 0, 0, 0, 1]),
        ]
    );
    // An empty option changes nothing; an option replaces the list.
    let loaded = ok("config interface\n\toption device mon0\n\toption bss ''\n");
    assert_eq!(loaded.config.interfaces[0].bss, []);
    let loaded =
        ok("config interface\n\toption device mon0\n\tlist bss wlan0\n\toption bss wlan1\n");
    assert_eq!(
        loaded.config.interfaces[0].bss,
        [Bss::Interface("wlan1".into())]
    );
}

#[test]
fn invalid_bss_items_are_errors_on_their_line() {
    // The section is reopened: each item keeps its own line.
    let text = concat!(
        "config interface 'mon'\n",
        "\toption device mon0\n",
        "\tlist bss wlan0\n",
        "config collector\n",
        "\toption address c\n",
        "config interface 'mon'\n",
        "\tlist bss 'aa:bb:cc:dd:ee'\n",
        "\tlist bss 'a/b'\n",
    );
    let e = err(text);
    assert_eq!(e.file, FILE);
    assert_eq!(e.line, 7);
    assert_eq!(e.section.as_deref(), Some("'mon'"));
    assert_eq!(e.option.as_deref(), Some("bss"));
    assert_eq!(
        e.to_string(),
        format!("{FILE}:7: option 'bss' in section 'mon': invalid value 'aa:bb:cc:dd:ee': expected an interface name or a BSSID written as a MAC address (aa:bb:cc:dd:ee:ff)")
    );
    for (bad, what) in [
        ("", "an interface name or a BSSID"),
        ("0123456789abcdef", "an interface name or a BSSID"),
        ("aa:bb:cc:dd:ee:fg", "an interface name or a BSSID"),
        ("aa:bb:cc:dd:ee:ff:00", "an interface name or a BSSID"),
        ("aa:bb-cc:dd:ee:ff", "an interface name or a BSSID"),
        ("aa.bb.cc.dd.ee.ff", "an interface name or a BSSID"),
        ("a:bb:cc:dd:ee:fff", "an interface name or a BSSID"),
        ("ff:ff:ff:ff:ff:ff", "a unicast BSSID"),
        ("01:00:5e:00:00:01", "a unicast BSSID"),
        ("00:00:00:00:00:00", "a unicast BSSID"),
    ] {
        let text = format!(
            "config interface\n\toption device mon0\n\tlist bss wlan0\n\tlist bss '{bad}'\n\tlist bss wlan1\n"
        );
        let e = err(&text);
        assert_eq!(
            (e.line, e.option.as_deref(), e.section.as_deref()),
            (4, Some("bss"), Some("@interface[0]")),
            "{e}"
        );
        assert!(
            e.message
                .starts_with(&format!("invalid value '{bad}': expected {what}")),
            "{e}"
        );
    }
    // In one option split on whitespace: the option's line.
    let e = err("config interface\n\toption device mon0\n\n\toption bss 'wlan0 x:y'\n");
    assert_eq!((e.line, e.option.as_deref()), (4, Some("bss")));
    assert!(e.message.contains("'x:y'"), "{e}");
}

#[test]
fn documented_monitor_example() {
    let text = "config interface\n\toption device 'mon0'\n\tlist bss 'wlan0'\n\toption foreign_bss 'ignore'\n";
    let loaded = ok(text);
    assert_eq!(
        loaded.config.interfaces,
        [InterfaceConfig {
            bss: vec![Bss::Interface("wlan0".into())],
            ..iface("mon0", None, None, "@interface[0]")
        }]
    );
    let agent = &loaded.config.agent;
    let mon0 = &loaded.config.interfaces[0];
    assert_eq!(agent.sampling_rate_at_speed(mon0, 0), 400);
    assert_eq!(agent.ring_kib_for(mon0), DEFAULT_RING_KIB);
}

#[test]
fn bssid_like_interface_names_are_warned_about() {
    let loaded = ok("config interface\n\toption device mon0\n\tlist bss aabbccddeeff\n");
    assert_eq!(
        loaded.config.interfaces[0].bss,
        [Bss::Interface("aabbccddeeff".into())]
    );
    assert_eq!(
        loaded.warnings[0],
        format!("{FILE}:3: 'aabbccddeeff' in option 'bss' of section @interface[0] is taken for an interface name; write a BSSID as aa:bb:cc:dd:ee:ff")
    );
}

#[test]
fn foreign_bss_values() {
    for (text, value) in [
        ("ignore", ForeignBss::Ignore),
        ("discard", ForeignBss::Discard),
        ("Discard", ForeignBss::Discard),
        ("IGNORE", ForeignBss::Ignore),
    ] {
        let loaded = ok(&format!(
            "config interface\n\toption device mon0\n\toption foreign_bss '{text}'\n"
        ));
        assert_eq!(loaded.config.interfaces[0].foreign_bss, value, "{text}");
    }
    assert_eq!(ForeignBss::Discard.to_string(), "discard");
    assert_eq!(ForeignBss::Ignore.name(), "ignore");
    for bad in ["drop", "report", "0", "discarded"] {
        let e = err(&format!(
            "config interface 'm'\n\toption device mon0\n\toption foreign_bss '{bad}'\n"
        ));
        assert_eq!(
            e.to_string(),
            format!("{FILE}:3: option 'foreign_bss' in section 'm': invalid value '{bad}': expected one of ignore, discard")
        );
    }
}

#[test]
fn monitor_options_belong_in_an_interface_section() {
    let text = "config agent 'agent'\n\tlist bss wlan0\n\toption foreign_bss discard\n\tlist interface mon0\n";
    let loaded = ok(text);
    assert_eq!(loaded.config.interfaces[0].bss, []);
    assert_eq!(loaded.config.interfaces[0].foreign_bss, ForeignBss::Ignore);
    assert_eq!(
        &loaded.warnings[..2],
        [
            format!("{FILE}:2: unknown option 'bss' in section 'agent', ignored (it belongs in an 'interface' section)"),
            format!("{FILE}:3: unknown option 'foreign_bss' in section 'agent', ignored (it belongs in an 'interface' section)"),
        ]
    );
    // Not checked there: a bad value is only ignored.
    let loaded = ok("config agent\n\tlist bss 'a/b'\n");
    assert!(
        loaded.warnings[0].contains("'bss'"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn mac_addresses() {
    assert_eq!(
        parse_mac("aa:bb:cc:dd:ee:ff"),
        Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
    );
    assert_eq!(
        parse_mac("AA-bB-0c-DD-ee-09"),
        Some([0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0x09])
    );
    for bad in [
        "",
        "aa:bb:cc:dd:ee",
        "aa:bb:cc:dd:ee:ff:",
        "aa:bb:cc:dd:ee-ff",
        "aa-bb-cc-dd-ee:ff",
        "aabb.ccdd.eeff",
        "aa bb cc dd ee ff",
        "+a:bb:cc:dd:ee:ff",
        "a:bbb:cc:dd:ee:ff",
        "gg:bb:cc:dd:ee:ff",
        "\u{e9}:bb:cc:dd:ee:ff",
        "ab:c\u{e9}dd:ee:ff:00",
        "ab:cd:ef:01:23:\u{663}",
    ] {
        assert_eq!(parse_mac(bad), None, "{bad:?}");
    }
    let mac = Bss::Bssid([0x02, 0, 0x5e, 0x10, 0xab, 0x01]);
    assert_eq!(mac.to_string(), "02:00:5e:10:ab:01");
    assert_eq!(Bss::Interface("wlan0".into()).to_string(), "wlan0");
}

#[test]
fn collectors() {
    let text = concat!(
        "config collector\n",
        "\toption address 192.0.2.1\n",
        "config collector 'v6'\n",
        "\toption address '[2001:db8::1]'\n",
        "\toption port 1\n",
        "config collector\n",
        "\toption address 192.0.2.2\n",
        "\toption enabled 0\n",
        "config collector\n",
        "\toption address sflow.example.com\n",
        "\toption port 65535\n",
    );
    let loaded = ok(text);
    assert_eq!(
        loaded.config.collectors,
        [
            collector("192.0.2.1", DEFAULT_COLLECTOR_PORT, "@collector[0]"),
            collector("2001:db8::1", 1, "'v6'"),
            collector("sflow.example.com", 65535, "@collector[3]"),
        ]
    );
    // Interfaces missing, collectors present.
    assert_eq!(
        loaded.warnings,
        [format!(
            "{FILE}: no interface configured: nothing will be sampled or polled"
        )]
    );
}

#[test]
fn collector_errors() {
    let e = err("config collector\n\toption port 6343\n");
    assert_eq!((e.line, e.option.as_deref()), (1, Some("address")));
    assert_eq!(e.section.as_deref(), Some("@collector[0]"));
    assert!(e.message.contains("missing required option 'address'"));
    // A disabled collector is still checked.
    let e = err("config collector\n\toption enabled 0\n");
    assert_eq!(e.option.as_deref(), Some("address"));
    for (port, line) in [("0", 3), ("65536", 3), ("http", 3)] {
        let e = err(&format!(
            "config collector\n\toption address c\n\toption port {port}\n"
        ));
        assert_eq!((e.line, e.option.as_deref()), (line, Some("port")), "{e}");
        assert!(e.message.contains("from 1 to 65535"), "{e}");
    }
    let e = err("config collector\n\toption address '192.0.2.1:6343'\n");
    assert_eq!((e.line, e.option.as_deref()), (2, Some("address")));
    assert_eq!(
        e.to_string(),
        format!("{FILE}:2: option 'address' in section @collector[0]: invalid value '192.0.2.1:6343': expected an IP address or host name without a port (set the port with option 'port')")
    );
    let e = err("config collector\n\toption address 'bad_host'\n");
    assert!(e.message.contains("host name"), "{e}");
}

#[test]
fn duplicate_collectors_are_dropped_with_a_warning() {
    let text = "config collector\n\toption address C\nconfig collector\n\toption address c\n\toption port 6343\nconfig collector\n\toption address c\n\toption port 1\n";
    let loaded = ok(text);
    assert_eq!(loaded.config.collectors.len(), 2);
    assert!(
        loaded.warnings[0].starts_with(&format!(
            "{FILE}:3: collector c port 6343 in section @collector[1]"
        )),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn lists_where_a_single_value_is_expected() {
    for (section, option) in [
        ("agent", "enabled"),
        ("agent", "sampling_rate"),
        ("agent", "log_level"),
        ("agent", "agent_address"),
        ("agent", "ring_kib"),
        ("agent", "sampling_filter"),
        ("interface", "device"),
        ("interface", "polling_interval"),
        ("interface", "ring_kib"),
        ("interface", "foreign_bss"),
        ("collector", "address"),
        ("collector", "port"),
    ] {
        let required = match (section, option) {
            ("interface", "device") => "",
            ("interface", _) => "\toption device d\n",
            ("collector", "port") => "\toption address c\n",
            _ => "",
        };
        let text = format!("config {section}\n\tlist {option} 1\n\tlist {option} 2\n{required}");
        let e = err(&text);
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.option.as_deref(), Some(option));
        assert!(e.message.contains("not a list"), "{e}");
    }
    // A single-item list is still a list.
    let e = err("config agent\n\tlist polling_interval 10\n");
    assert!(e.message.contains("option polling_interval"), "{e}");
}

#[test]
fn unknown_options_are_warnings() {
    let text = concat!(
        "config agent 'agent'\n",
        "\tlist interface wlan0\n",
        "\toption future_thing 1\n",
        "\toption polling_interval 10\n",
        "\n",
        "\n",
        "\toption sampling_rat 7\n",
        "\toption port 6343\n",
        "config collector\n",
        "\toption adress x\n",
        "\toption address x\n",
        "\toption device x\n",
    );
    let loaded = ok(text);
    assert_eq!(loaded.config.agent.sampling_rate, None);
    assert_eq!(
        loaded.warnings,
        [
            format!("{FILE}:3: unknown option 'future_thing' in section 'agent', ignored"),
            format!("{FILE}:7: unknown option 'sampling_rat' in section 'agent', ignored (did you mean 'sampling_rate'?)"),
            format!("{FILE}:8: unknown option 'port' in section 'agent', ignored (it belongs in a 'collector' section)"),
            format!("{FILE}:10: unknown option 'adress' in section @collector[0], ignored (did you mean 'address'?)"),
            format!("{FILE}:12: unknown option 'device' in section @collector[0], ignored (it belongs in an 'interface' section)"),
        ]
    );
}

#[test]
fn unknown_section_types_are_warnings() {
    let text = "config colector\n\toption address x\nconfig future 'f'\n\toption a b\n";
    let loaded = ok(text);
    assert!(loaded.config.collectors.is_empty());
    assert_eq!(
        &loaded.warnings[..2],
        [
            format!("{FILE}:1: unknown section type 'colector' (@colector[0]), ignored (did you mean 'collector'?)"),
            format!("{FILE}:3: unknown section type 'future' ('f'), ignored"),
        ]
    );
}

#[test]
fn the_first_error_in_the_file_is_reported() {
    // The named section is reopened after the collector: its bad
    // option is on the last line.
    let text = concat!(
        "config agent 'agent'\n",
        "\toption polling_interval 10\n",
        "config collector\n",
        "\toption port 0\n",
        "\toption address c\n",
        "config agent 'agent'\n",
        "\toption sampling_rate 0\n",
    );
    let e = err(text);
    assert_eq!((e.line, e.option.as_deref()), (4, Some("port")));
    // A missing option is reported at the line of its section.
    let text = "config collector\n\toption port 0\n";
    assert_eq!(err(text).option.as_deref(), Some("address"));
    let text =
        "config collector\n\toption address c\n\toption port x\nconfig agent\n\toption enabled x\n";
    assert_eq!(err(text).line, 3);
    let text = "config agent\n\toption log_level x\n\toption enabled x\n";
    assert_eq!(err(text).option.as_deref(), Some("log_level"));
}

#[test]
fn values_in_messages_are_escaped_and_shortened() {
    let e = err("config agent\n\toption enabled 'a\nb'\n");
    assert!(e.message.contains("'a\\nb'"), "{e}");
    let long = "x".repeat(100);
    let e = err(&agent_with("enabled", &long));
    assert!(
        e.message.contains(&format!("'{}...'", "x".repeat(64))),
        "{e}"
    );
}

#[test]
fn load_reads_files() {
    let dir = std::env::temp_dir().join(format!("wsflowd-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wsflowd");
    std::fs::write(&path, EXAMPLE).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.config, parse(EXAMPLE, FILE).unwrap().config);
    std::fs::write(&path, "config agent\n\toption header_bytes 1\n").unwrap();
    let e = load(&path).unwrap_err();
    assert_eq!(e.file, path.display().to_string());
    assert!(
        e.to_string()
            .starts_with(&format!("{}:2: ", path.display())),
        "{e}"
    );
    std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
    let e = load(&path).unwrap_err();
    assert!(e.message.contains("too large"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Anything but a regular file is refused at once, naming what it is:
/// opening a FIFO would otherwise wait for a writer (and the agent's
/// loop with it), a device could be endless.
#[test]
fn load_refuses_what_is_not_a_regular_file() {
    let dir = std::env::temp_dir().join(format!("wsflowd-config-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = std::time::Instant::now();
    let cases = [
        (fifo.as_path(), "a FIFO"),
        (dir.as_path(), "a directory"),
        (Path::new("/dev/zero"), "a device"),
    ];
    for (path, what) in cases {
        let e = load(path).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "cannot read: {what}, not a regular file (the configuration must be a regular file)"
            ),
            "{}",
            path.display()
        );
        assert_eq!(e.line, 0);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // A symbolic link to a regular file is fine.
    let real = dir.join("real");
    std::fs::write(&real, EXAMPLE).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert!(load(&link).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_reports_io_errors() {
    let e = load(Path::new("/nonexistent/wsflowd")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/wsflowd: cannot read: No such file or directory"
    );
    assert_eq!((e.line, e.section, e.option), (0, None, None));
}

/// A section of type `kind` with one option set to `value` (written
/// with `list` for list options), and what is needed besides.
fn with_option(spec: &OptionSpec, value: &str) -> String {
    let keyword = if spec.list { "list" } else { "option" };
    let required = match spec.section {
        "interface" if spec.name != "device" => "\toption device 'eth0'\n",
        "collector" if spec.name != "address" => "\toption address '192.0.2.1'\n",
        _ => "",
    };
    let value = value.replace('\'', "'\\''");
    format!(
        "config {} 's'\n{required}\t{keyword} {} '{value}'\n",
        spec.section, spec.name
    )
}

/// A valid value of `spec` other than its default.
fn other_value(spec: &OptionSpec) -> &'static str {
    match spec.kind {
        Kind::Bool(_) if spec.default == Some("1") => "0",
        Kind::Bool(_) => "1",
        Kind::Integer { min, .. } => {
            let candidates = ["17", "300", "1500", "6344"];
            candidates
                .into_iter()
                .find(|c| {
                    Some(*c) != spec.default
                        && spec.kind.check(c).is_ok()
                        && c.parse::<u64>().unwrap() >= min
                })
                .expect("a value in range")
        }
        Kind::Word { words, .. } => words
            .iter()
            .copied()
            .find(|w| Some(*w) != spec.default)
            .expect("two words"),
        Kind::Host(_) => "192.0.2.7",
        Kind::AgentAddress(_) | Kind::Interface(_) | Kind::Bss(_) => "eth1",
        Kind::SocketPath(_) => "/var/run/ubus/ubus.sock",
        Kind::Domain(_) => "example.net",
    }
}

#[test]
fn schema_covers_every_option_the_checks_read() {
    let types: Vec<_> = section_types().collect();
    assert_eq!(types, ["agent", "interface", "collector"]);
    for spec in SCHEMA {
        assert!(types.contains(&spec.section), "{spec:?}");
        assert!(std::ptr::eq(
            option_spec(spec.section, spec.name).unwrap(),
            spec
        ));
        // Known (no "unknown option" warning) and its default valid.
        let value = spec.default.unwrap_or_else(|| other_value(spec));
        let text = with_option(spec, value);
        let loaded = ok(&text);
        assert!(
            loaded.warnings.iter().all(|w| !w.contains("unknown")),
            "{text}: {:?}",
            loaded.warnings
        );
        // Its setter puts another value somewhere: the draft changes.
        let mut draft = defaults();
        spec.kind.set(&mut draft, other_value(spec));
        assert_ne!(draft, defaults(), "{} sets nothing", spec.name);
        if spec.required {
            let without = text
                .lines()
                .filter(|l| !l.contains(spec.name))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                err(&without).message.contains("missing required option"),
                "{spec:?}"
            );
        }
    }
    // The defaults in force are the schema's, as documented.
    let d = AgentConfig::default();
    assert_eq!(d, ok("config agent 'agent'\n").config.agent);
    assert_eq!(
        (
            d.polling_interval,
            d.header_bytes,
            d.datagram_bytes,
            d.ring_kib
        ),
        (
            DEFAULT_POLLING_INTERVAL,
            DEFAULT_HEADER_BYTES,
            DEFAULT_DATAGRAM_BYTES,
            DEFAULT_RING_KIB
        )
    );
    assert_eq!(
        (d.sub_agent_id, d.log_level, d.sampling_filter),
        (0, Level::Info, SamplingFilter::Auto)
    );
    assert!(d.enabled);
    assert_eq!(defaults().interface.foreign_bss, ForeignBss::Ignore);
    assert!(defaults().interface.enabled);
    assert_eq!(defaults().collector.port, DEFAULT_COLLECTOR_PORT);
    assert_eq!(option_spec("agent", "sampling_rate").unwrap().default, None);
}

#[test]
fn schema_limits_are_the_limits_in_force() {
    for spec in SCHEMA {
        match spec.kind {
            Kind::Integer { min, max, what, .. } => {
                for n in [min, max] {
                    let text = with_option(spec, &n.to_string());
                    if spec.name == "datagram_bytes" && n == min {
                        // Below the smallest header + 256: in range,
                        // but never valid (see the next test).
                        assert!(err(&text).message.contains("header_bytes + 256"));
                        continue;
                    }
                    ok(&text);
                }
                let mut outside = vec![max + 1, u64::MAX];
                if min > 0 {
                    outside.push(min - 1);
                }
                for n in outside {
                    let e = err(&with_option(spec, &n.to_string()));
                    assert!(
                        e.message.contains(&format!("{what} from {min} to {max}")),
                        "{e}"
                    );
                }
            }
            Kind::Word { words, aliases, .. } => {
                for w in words.iter().chain(aliases.iter().map(|(a, _)| a)) {
                    ok(&with_option(spec, w));
                    ok(&with_option(spec, &w.to_ascii_uppercase()));
                }
                let e = err(&with_option(spec, "nonsense"));
                assert!(
                    e.message.contains(&format!("one of {}", words.join(", "))),
                    "{e}"
                );
            }
            _ => {}
        }
    }
    // The log level words are the ones Level::parse reads.
    let Kind::Word { words, aliases, .. } = option_spec("agent", "log_level").unwrap().kind else {
        panic!()
    };
    for w in words {
        assert_eq!(Level::parse(w).map(Level::name), Some(*w));
    }
    for (alias, word) in aliases {
        assert_eq!(Level::parse(alias).map(Level::name), Some(*word));
    }
}

#[test]
fn suggestions() {
    assert_eq!(
        check::suggestion("sampling_rat", options_of("agent").map(|o| o.name)),
        Some("sampling_rate")
    );
    assert_eq!(
        check::suggestion("Polling_Interval", options_of("agent").map(|o| o.name)),
        Some("polling_interval")
    );
    assert_eq!(
        check::suggestion("interfaces", options_of("agent").map(|o| o.name)),
        Some("interface")
    );
    assert_eq!(
        check::suggestion("zzz", options_of("agent").map(|o| o.name)),
        None
    );
    assert_eq!(check::distance("kitten", "sitting"), 3);
    assert_eq!(check::distance("", "abc"), 3);
}

fn check_never_panics(input: &[u8]) {
    match parse(input, FILE) {
        Ok(loaded) => {
            let agent = &loaded.config.agent;
            assert!(agent.header_bytes + DATAGRAM_HEADROOM <= agent.datagram_bytes);
            for i in &loaded.config.interfaces {
                assert!(is_valid_interface_name(&i.device));
                if let Some(rate) = agent.sampling_rate_for(i) {
                    assert!((1..=MAX_SAMPLING_RATE).contains(&rate));
                }
                assert!((MIN_RING_KIB..=MAX_RING_KIB).contains(&agent.ring_kib_for(i)));
                assert!(agent.polling_interval_for(i) <= MAX_POLLING_INTERVAL);
                for bss in &i.bss {
                    match bss {
                        Bss::Interface(name) => assert!(is_valid_interface_name(name)),
                        Bss::Bssid(mac) => assert_eq!(mac[0] & 1, 0),
                    }
                }
            }
            for c in &loaded.config.collectors {
                assert!(c.port >= 1);
                assert!(parse_host(&c.address).is_ok());
            }
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = crate::rng::Rng::from_seed(0x2545_f491_4f6c_dd1d);
    for _ in 0..5_000 {
        let len = rng.index(200);
        let input: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
        check_never_panics(&input);
    }
}

#[test]
fn mutations_of_the_examples_never_panic() {
    const PIECES: &[&[u8]] = &[
        b"'",
        b"\"",
        b"\\",
        b"\n",
        b"\r\n",
        b";",
        b"#",
        b" ",
        b"\t",
        b"0",
        b"9999999999",
        b"option ",
        b"list ",
        b"config ",
        b"agent",
        b"interface",
        b"collector",
        b"enabled",
        b"\xff",
        b"\0",
        b"-",
        b":",
        b"[",
        b"]",
        b"\xc3\xa9",
        b"bss",
        b"ring_kib",
        b"foreign_bss",
        b"sampling_filter",
        b"02:00:5e:10:00:01",
    ];
    let mut rng = crate::rng::Rng::from_seed(0x9e37_79b9_7f4a_7c15);
    for round in 0..4_000 {
        let mut input = if round % 2 == 0 {
            EXAMPLE.to_vec()
        } else {
            FULL.to_vec()
        };
        for _ in 0..1 + rng.index(6) {
            let at = rng.index(input.len() + 1);
            match rng.index(4) {
                0 if at < input.len() => {
                    let end = (at + 1 + rng.index(16)).min(input.len());
                    input.drain(at..end);
                }
                1 if at < input.len() => input[at] = rng.next_u32() as u8,
                2 => {
                    let piece = PIECES[rng.index(PIECES.len())];
                    input.splice(at..at, piece.iter().copied());
                }
                _ => {
                    // Duplicate a random line somewhere else.
                    let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
                    let line = lines[rng.index(lines.len())].to_vec();
                    let at = at.min(input.len());
                    input.splice(at..at, line.into_iter().chain([b'\n']));
                }
            }
        }
        check_never_panics(&input);
    }
}

/// What a real access point can have is accepted; beyond, the file is
/// refused, naming the option or section (the daemon's memory stays
/// bounded whatever the file says).
#[test]
fn lists_and_sections_are_bounded() {
    let names = |n: usize| (0..n).map(|i| format!("wl{i}")).collect::<Vec<_>>();
    let listed = |n: usize| {
        let mut t = String::from("config agent 'agent'\n");
        for name in names(n) {
            t.push_str(&format!("\tlist interface '{name}'\n"));
        }
        t
    };
    assert_eq!(
        ok(&listed(MAX_INTERFACES)).config.interfaces.len(),
        MAX_INTERFACES
    );
    let e = err(&listed(MAX_INTERFACES + 1));
    assert_eq!(e.line, MAX_INTERFACES + 2, "{e}");
    assert_eq!(e.option.as_deref(), Some("interface"));
    assert!(e.message.starts_with("too many items: at most 64"), "{e}");
    // The same in one shell-style option.
    let one = format!(
        "config agent\n\toption interface '{}'\n",
        names(100_000).join(" ")
    );
    assert!(one.len() > 600_000);
    let started = std::time::Instant::now();
    assert!(err(&one).message.contains("too many items"));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    // Interface sections add to the listed interfaces.
    let mut t = listed(60);
    for i in 0..5 {
        t.push_str(&format!("config interface\n\toption device 'eth{i}'\n"));
    }
    let e = err(&t);
    assert_eq!(e.section.as_deref(), Some("@interface[4]"), "{e}");
    assert!(
        e.message.starts_with("too many interfaces: at most 64"),
        "{e}"
    );

    let collectors = |n: usize| {
        (0..n)
            .map(|i| format!("config collector\n\toption address '192.0.2.{i}'\n"))
            .collect::<String>()
    };
    assert_eq!(
        ok(&collectors(MAX_COLLECTORS)).config.collectors.len(),
        MAX_COLLECTORS
    );
    let e = err(&collectors(MAX_COLLECTORS + 1));
    assert_eq!(e.section.as_deref(), Some("@collector[16]"), "{e}");
    assert!(
        e.message
            .starts_with("too many 'collector' sections: at most 16"),
        "{e}"
    );

    let bss = |n: usize| {
        let mut t = String::from("config interface 'mon'\n\toption device 'mon0'\n");
        for i in 0..n {
            t.push_str(&format!("\tlist bss '02:00:00:00:00:{i:02x}'\n"));
        }
        t
    };
    assert_eq!(ok(&bss(MAX_BSS)).config.interfaces[0].bss.len(), MAX_BSS);
    let e = err(&bss(MAX_BSS + 1));
    assert_eq!(
        (e.line, e.option.as_deref()),
        (MAX_BSS + 3, Some("bss")),
        "{e}"
    );

    // Rings: each within its range, all together within theirs.
    let mut t = String::from(
        "config agent\n\toption ring_kib 65536\n\tlist interface a\n\tlist interface b\n",
    );
    assert!(ok(&t).config.interfaces.len() == 2);
    t.push_str("\tlist interface c\n");
    let e = err(&t);
    assert_eq!((e.line, e.option.as_deref()), (2, Some("ring_kib")), "{e}");
    assert!(
        e.message.contains("more than 131072 KiB in all (at c)"),
        "{e}"
    );
}

#[test]
fn the_syntax_is_bounded_too() {
    let mut t = String::from("config agent\n");
    for _ in 0..uci::MAX_STATEMENTS {
        t.push_str("\toption x y\n");
    }
    let e = err(&t);
    assert_eq!(e.line, uci::MAX_STATEMENTS + 1, "{e}");
    assert!(
        e.message.contains("too many statements (more than 8192)"),
        "{e}"
    );
    // Fewer statements but thousands of unknown options: the warnings are
    // bounded.
    let mut t = String::from("config agent\n");
    for i in 0..2000 {
        t.push_str(&format!("\toption unknown{i} y\n"));
    }
    let loaded = ok(&t);
    assert_eq!(loaded.warnings.len(), MAX_WARNINGS + 1);
    assert!(loaded.warnings.last().unwrap().contains("more warnings"));
}

#[test]
fn station_sources_are_all_unless_listed() {
    use crate::stations::{Source, Sources};
    assert_eq!(AgentConfig::default().station_sources, Sources::ALL);
    assert_eq!(
        agent("hostapd_control_dir", "/tmp/hostapd").hostapd_control_dir,
        std::path::PathBuf::from("/tmp/hostapd")
    );
    assert_eq!(
        AgentConfig::default().hostapd_control_dir,
        std::path::PathBuf::from("/var/run/hostapd")
    );
    let only = ok("config agent\n\tlist station_source 'nl80211'\n")
        .config
        .agent;
    assert_eq!(
        only.station_sources,
        Sources::from_sources([Source::Nl80211])
    );
    let two = ok("config agent\n\toption station_source 'UBUS hostapd'\n")
        .config
        .agent;
    assert_eq!(
        two.station_sources,
        Sources::from_sources([Source::Ubus, Source::HostapdControl])
    );
    let e = err("config agent\n\tlist station_source 'iw'\n");
    assert_eq!(e.option.as_deref(), Some("station_source"));
    assert!(
        e.message.contains("expected one of nl80211, hostapd, ubus"),
        "{e}"
    );
}

#[test]
fn dns_sd_options() {
    let a = agent("dns_sd", "yes");
    assert!(a.dns_sd);
    assert_eq!(a.dns_sd_domain, None);
    assert!(!AgentConfig::default().dns_sd);
    assert_eq!(
        agent("dns_sd_domain", "Example.NET.")
            .dns_sd_domain
            .as_deref(),
        Some("Example.NET")
    );
    for bad in [
        ".example.com",
        "a..b",
        "_sflow.example",
        "example.123",
        "a b",
        "-a.example",
    ] {
        let e = agent_err("dns_sd_domain", bad);
        assert!(e.message.contains("domain name"), "{bad:?}: {e}");
    }
    let e = agent_err("dns_sd_domain", ".example.com");
    assert!(e.message.contains("without a leading dot"), "{e}");
    // No collector section: no warning when DNS-SD may give collectors.
    let text = "config agent 'agent'\n\toption dns_sd '1'\n\tlist interface 'eth0'\n";
    assert!(ok(text).warnings.is_empty(), "{:?}", ok(text).warnings);
    let text = "config agent 'agent'\n\tlist interface 'eth0'\n";
    assert!(ok(text).warnings[0].contains("no collector configured"));
}
