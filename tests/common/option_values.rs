//! What the tests that hold another validator of the daemon's options
//! against the daemon's own share: the daemon's verdict on one value, and
//! the makings of their corpora of values (the init script's ubox
//! datatypes in openwrt_init.rs, the LuCI page's in luci_app.rs; each keeps
//! the edge cases of its own validator).

use wsflowd::config::{self, OptionSpec};
use wsflowd::rng::Rng;

/// Whether the daemon accepts `value` for the option (in a section holding
/// what that section needs besides, and the lines `extra`); an empty
/// `value` leaves the option out.
pub fn daemon_accepts(spec: &OptionSpec, value: &str, extra: &str) -> bool {
    let quoted = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    let mut text = format!("config {} 's'\n", spec.section);
    match (spec.section, spec.name) {
        ("interface", "device") | ("collector", "address") => {}
        ("interface", _) => text.push_str("\toption device 'eth1'\n"),
        ("collector", _) => text.push_str("\toption address '192.0.2.1'\n"),
        _ => {}
    }
    text.push_str(extra);
    if !value.is_empty() {
        let keyword = if spec.list { "list" } else { "option" };
        text.push_str(&format!("\t{keyword} {} {}\n", spec.name, quoted(value)));
    }
    config::parse(text.as_bytes(), "t").is_ok()
}

/// Random text: up to `max` pieces from `alphabet`.
pub fn random_text(rng: &mut Rng, alphabet: &[&str], max: usize) -> String {
    let len = rng.index(max + 1);
    (0..len)
        .map(|_| alphabet[rng.index(alphabet.len())])
        .collect()
}

/// A host name of `total` bytes: labels of 63 `b`s (the longest a label
/// may be) and a shorter last one, joined by dots.
pub fn long_name(total: usize) -> String {
    let mut s = String::new();
    while s.len() < total {
        if !s.is_empty() {
            s.push('.');
        }
        let n = (total - s.len()).min(63);
        s.push_str(&"b".repeat(n));
    }
    s
}
