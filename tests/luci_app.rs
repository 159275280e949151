//! luci-app-wsflowd, the LuCI pages (`luci-app-wsflowd/`):
//!
//! - its JSON files, its ACL against the calls the views make, and its
//!   translation template against the strings of the views;
//! - the settings form against the daemon's configuration: every option
//!   the page writes, its widget, datatype and limits compared with
//!   [`wsflowd::config::SCHEMA`], and thousands of values run through both
//!   the page's validation (in node, with the LuCI shim) and the daemon's
//!   parser, which must agree;
//! - in a real browser (Debian's headless Chromium through chromedriver),
//!   both pages on the test page (`tests/luci/index.html`) against a server
//!   that edits a real UCI file with the project's UCI code and asks a
//!   running wsflowd for its status over ubus (as root, in namespaces):
//!   collectors added, rejected inline, saved and applied, the agent
//!   reloaded; the status page showing the agent's figures; screenshots
//!   in `target/luci-artifacts/`.

mod common;
#[path = "luci/i18n_scan.rs"]
mod i18n_scan;
#[path = "luci/server.rs"]
mod server;
#[path = "luci/webdriver.rs"]
mod webdriver;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use wsflowd::config::{self, uci, Kind, OptionSpec, SCHEMA};
use wsflowd::rng::Rng;

use common::ap_lab::ApLab;
use common::fake_hostapd::{mac_text, FakeHostapd};
use common::option_values::{daemon_accepts, long_name, random_text};
use common::ubusd::{ubus_call, Broker, UbusError};
use common::*;
use server::{LuciServer, Settings};
use webdriver::Browser;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn app() -> PathBuf {
    repo().join("luci-app-wsflowd")
}

fn views() -> Vec<PathBuf> {
    let dir = app().join("htdocs/luci-static/resources/view/wsflowd");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_file(rel: &str) -> Json {
    let path = app().join(rel);
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// node, or why the test is skipped (a failure with WSFLOWD_REQUIRE_TOOLS=1).
fn node_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("node"))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{test}: node not found (make deps installs nodejs)");
        }
        eprintln!("{test}: skipped (node not found)");
    }
    found
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    target.join("luci-artifacts")
}

// ---------------------------------------------------------------------
// Static checks: JSON, ACL, menu, translations.

#[test]
fn json_files_are_valid_and_name_existing_views() {
    let menu = json_file("root/usr/share/luci/menu.d/luci-app-wsflowd.json");
    let entries = menu.as_object().unwrap();
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        [
            "admin/services/wsflowd",
            "admin/services/wsflowd/settings",
            "admin/services/wsflowd/status"
        ]
    );
    let top = &menu["admin/services/wsflowd"];
    assert_eq!(top["title"], "sFlow");
    assert_eq!(top["action"]["type"], "firstchild");
    assert_eq!(top["depends"]["acl"], json!(["luci-app-wsflowd"]));
    assert_eq!(top["depends"]["uci"], json!({ "wsflowd": true }));
    for page in ["status", "settings"] {
        let e = &menu[format!("admin/services/wsflowd/{page}")];
        assert_eq!(e["action"]["type"], "view");
        let path = e["action"]["path"].as_str().unwrap();
        assert_eq!(path, format!("wsflowd/{page}"));
        assert!(app()
            .join(format!("htdocs/luci-static/resources/view/{path}.js"))
            .is_file());
    }
    json_file("root/usr/share/rpcd/acl.d/luci-app-wsflowd.json");
    // luci.mk names the package after its directory, and the app includes
    // it from the LuCI feed's root as openwrt/luci's applications do.
    assert_eq!(
        app().file_name().unwrap(),
        "luci-app-wsflowd",
        "luci.mk takes the package name from the directory"
    );
    let makefile = read(&app().join("Makefile"));
    for line in [
        "include $(TOPDIR)/rules.mk",
        "LUCI_DEPENDS:=+luci-base +wsflowd",
        "include ../../luci.mk",
        "# call BuildPackage - OpenWrt buildroot signature",
    ] {
        assert!(makefile.lines().any(|l| l == line), "Makefile lacks {line}");
    }
}

/// `rpc.declare({ object: 'X', method: 'Y' ... })` of a view.
fn declared_calls(source: &str) -> BTreeSet<(String, String)> {
    let mut calls = BTreeSet::new();
    for part in source.split("rpc.declare(").skip(1) {
        let block = &part[..part.find('}').unwrap()];
        let field = |name: &str| {
            let at = block.find(&format!("{name}:")).unwrap() + name.len() + 1;
            let rest = block[at..].trim_start();
            let quote = rest.chars().next().unwrap();
            rest[1..1 + rest[1..].find(quote).unwrap()].to_owned()
        };
        calls.insert((field("object"), field("method")));
    }
    calls
}

#[test]
fn acl_grants_exactly_what_the_pages_use() {
    let acl = json_file("root/usr/share/rpcd/acl.d/luci-app-wsflowd.json");
    let acl = acl.as_object().unwrap();
    assert_eq!(acl.keys().collect::<Vec<_>>(), ["luci-app-wsflowd"]);
    let grant = &acl["luci-app-wsflowd"];
    assert!(grant["description"].as_str().is_some());

    // The views' own calls...
    let mut needed: BTreeSet<(String, String)> = BTreeSet::new();
    for view in views() {
        needed.extend(declared_calls(&read(&view)));
    }
    // ...and those of the device picker (widgets.DeviceSelect through
    // network.js) that say which devices and Wi-Fi networks there are.
    // network.js asks for more (board, host hints, protocol handlers, the
    // luci config) and does without them.
    for (o, m) in [
        ("luci-rpc", "getNetworkDevices"),
        ("luci-rpc", "getWirelessDevices"),
        ("network.interface", "dump"),
    ] {
        needed.insert((o.into(), m.into()));
    }
    let mut granted: BTreeSet<(String, String)> = BTreeSet::new();
    for (object, methods) in grant["read"]["ubus"].as_object().unwrap() {
        for m in methods.as_array().unwrap() {
            granted.insert((object.clone(), m.as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(granted, needed);
    assert!(
        !granted.contains(&("wsflowd".into(), "reload".into())),
        "Save & Apply reloads through procd, not through ubus"
    );
    assert!(
        grant["write"].get("ubus").is_none(),
        "nothing to write over ubus"
    );
    // Read: our package, and those the device picker reads; write: ours.
    assert_eq!(
        grant["read"]["uci"],
        json!(["wsflowd", "network", "wireless"])
    );
    assert_eq!(grant["write"], json!({ "uci": ["wsflowd"] }));
    assert_eq!(
        declared_calls(&read(&views()[0]))
            .union(&declared_calls(&read(&views()[1])))
            .filter(|(o, _)| o == "wsflowd")
            .count(),
        1,
        "the pages call wsflowd status only"
    );
}

/// The argument of every `_('...')` (and `N_(n, '...', '...')`) in a JS
/// file, with its line.
fn translatable(source: &str) -> Vec<(String, usize)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let start_ok = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b'.');
        let plural = bytes[i..].starts_with(b"N_(");
        if start_ok && (bytes[i..].starts_with(b"_(") || plural) {
            let mut j = i + if plural { 3 } else { 2 };
            let mut strings = 0;
            loop {
                while j < bytes.len() && (bytes[j] as char).is_whitespace() {
                    j += 1;
                }
                if plural && strings == 0 && bytes[j] != b'\'' && bytes[j] != b'"' {
                    // the count argument
                    while j < bytes.len() && bytes[j] != b',' {
                        j += 1;
                    }
                    j += 1;
                    continue;
                }
                let quote = bytes[j];
                if quote != b'\'' && quote != b'"' {
                    break;
                }
                let line = 1 + source[..j].matches('\n').count();
                let mut text = String::new();
                j += 1;
                let mut chars = source[j..].char_indices();
                while let Some((k, c)) = chars.next() {
                    match c {
                        '\\' => {
                            let (_, e) = chars.next().unwrap();
                            text.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        c if c as u32 == quote as u32 => {
                            j += k + 1;
                            break;
                        }
                        c => text.push(c),
                    }
                }
                out.push((text, line));
                strings += 1;
                while j < bytes.len() && (bytes[j] as char).is_whitespace() {
                    j += 1;
                }
                if !(plural && strings < 3 && bytes[j] == b',') {
                    break;
                }
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The msgids of a .pot file, unquoted, continuation lines joined.
fn pot_msgids(pot: &str) -> BTreeSet<String> {
    let unquote = |s: &str| -> String {
        let inner = &s[1..s.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    let mut ids = BTreeSet::new();
    let mut lines = pot.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(first) = line.strip_prefix("msgid ") {
            let mut id = unquote(first);
            while let Some(more) = lines.peek().filter(|l| l.starts_with('"')) {
                id.push_str(&unquote(more));
                lines.next();
            }
            ids.insert(id);
        }
    }
    ids
}

/// The gettext tools, or why a test is skipped (a failure with
/// WSFLOWD_REQUIRE_TOOLS=1).
fn gettext_or_skip(test: &str) -> bool {
    let missing: Vec<&str> = i18n_scan::TOOLS
        .into_iter()
        .filter(|tool| {
            !std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .any(|d| d.join(tool).is_file())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{test}: {missing:?} not found (make deps installs gettext)");
    }
    eprintln!("{test}: skipped ({missing:?} not found: apt-get install gettext)");
    false
}

const POT: &str = "po/templates/wsflowd.pot";

/// The committed template is what LuCI's i18n-scan.pl makes of the app,
/// byte for byte (through our port of it, tests/luci/i18n_scan.rs: same
/// gettext tools, same steps). `WSFLOWD_UPDATE_POT=1 cargo test --test
/// luci_app translation` rewrites it.
#[test]
fn translation_template_is_what_i18n_scan_makes() {
    let test = "translation_template_is_what_i18n_scan_makes";
    if !gettext_or_skip(test) {
        return;
    }
    let path = app().join(POT);
    let expected = i18n_scan::template(&app(), "applications/luci-app-wsflowd")
        .unwrap_or_else(|e| panic!("{e}"));
    if std::env::var("WSFLOWD_UPDATE_POT").as_deref() == Ok("1") {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = read(&path);
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "{POT} is not what i18n-scan.pl makes (first difference at line {}: {:?} instead of {:?}): WSFLOWD_UPDATE_POT=1 cargo test --test luci_app translation",
            first + 1,
            actual.lines().nth(first),
            expected.lines().nth(first)
        );
    }
}

/// By hand: LuCI's own build/i18n-scan.pl (from a LuCI source tree in
/// WSFLOWD_LUCI_DIR, never part of this repository), run as LuCI's
/// i18n-sync.sh runs it, from the top of a tree holding the app in
/// applications/, makes the committed template, and our port makes the
/// same. `WSFLOWD_LUCI_DIR=... cargo test --test luci_app real_i18n_scan --
/// --ignored`.
#[test]
#[ignore]
fn real_i18n_scan_by_hand() {
    let test = "real_i18n_scan_by_hand";
    let Some(luci) = std::env::var_os("WSFLOWD_LUCI_DIR").map(PathBuf::from) else {
        eprintln!("{test}: set WSFLOWD_LUCI_DIR to a LuCI source tree");
        return;
    };
    if !gettext_or_skip(test) {
        return;
    }
    let tree = TempConfig::new("");
    std::fs::create_dir_all(tree.dir.join("applications")).unwrap();
    let copied = Command::new("cp")
        .arg("-r")
        .arg(app())
        .arg(tree.dir.join("applications/luci-app-wsflowd"))
        .status()
        .unwrap();
    assert!(copied.success());
    let scanned = stdout_of(
        Command::new("perl")
            .arg(luci.join("build/i18n-scan.pl"))
            .arg("applications/luci-app-wsflowd")
            .current_dir(&tree.dir),
    );
    assert_eq!(scanned, read(&app().join(POT)), "i18n-scan.pl and {POT}");
    let ours = i18n_scan::template(&app(), "applications/luci-app-wsflowd").unwrap();
    assert_eq!(scanned, ours, "i18n-scan.pl and our port of it");
    println!(
        "i18n-scan.pl, our port and {POT}: {} bytes, identical",
        scanned.len()
    );

    // The port on the tree's own applications that have only what it
    // reads (JavaScript views, menu.d and acl.d files).
    let mut compared = Vec::new();
    let mut apps: Vec<PathBuf> = std::fs::read_dir(luci.join("applications"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    apps.sort();
    for dir in apps {
        let label = format!(
            "applications/{}",
            dir.file_name().unwrap().to_string_lossy()
        );
        let Ok(ours) = i18n_scan::template(&dir, &label) else {
            continue;
        };
        let out = Command::new("perl")
            .arg(luci.join("build/i18n-scan.pl"))
            .arg(&label)
            .current_dir(&luci)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            ours,
            "{label}: i18n-scan.pl and our port"
        );
        compared.push(label);
    }
    println!(
        "our port and i18n-scan.pl agree on {} applications of the LuCI tree",
        compared.len()
    );
}

/// Independently of gettext: every string of the views (as written: LuCI
/// looks it up as written, and i18n-scan.pl collapses spaces, so a string
/// with spaces at either end or two in a row would never be translated),
/// every menu title and the ACL's description are in the template.
#[test]
fn translation_template_has_every_string_of_the_pages() {
    let msgids = pot_msgids(&read(&app().join(POT)));
    for view in views() {
        for (text, line) in translatable(&read(&view)) {
            assert!(
                msgids.contains(&text),
                "{}:{line}: {text:?} is not in {POT} (WSFLOWD_UPDATE_POT=1 cargo test --test luci_app translation; no spaces at either end or two in a row)",
                view.display()
            );
        }
    }
    let menu = json_file("root/usr/share/luci/menu.d/luci-app-wsflowd.json");
    for entry in menu.as_object().unwrap().values() {
        let title = entry["title"].as_str().unwrap();
        assert!(msgids.contains(title), "menu title {title:?}");
    }
    let acl = json_file("root/usr/share/rpcd/acl.d/luci-app-wsflowd.json");
    let description = acl["luci-app-wsflowd"]["description"].as_str().unwrap();
    assert!(msgids.contains(description), "ACL description");
    assert!(msgids.len() > 100, "{}", msgids.len());
}

#[test]
fn translatable_strings_are_found_as_xgettext_would() {
    let found = translatable(
        "x = _('a\\'b') + N_(n, 'one', \"two\") + f_('no') + o._('no') + _(\"c\\\"d\");",
    );
    let texts: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(texts, ["a'b", "one", "two", "c\"d"]);
}

// ---------------------------------------------------------------------
// The settings form against the daemon's configuration.

/// The UCI package the form is built over in node: an agent section, a
/// monitor interface, a wired one, a collector.
fn form_package() -> Json {
    json!({
        "agent": { ".type": "agent", ".name": "agent", ".anonymous": false, ".index": 0 },
        "cfg020001": { ".type": "interface", ".name": "cfg020001", ".anonymous": true, ".index": 1, "device": "mon0" },
        "cfg030002": { ".type": "interface", ".name": "cfg030002", ".anonymous": true, ".index": 2, "device": "eth1" },
        "cfg040003": { ".type": "collector", ".name": "cfg040003", ".anonymous": true, ".index": 3, "address": "192.0.2.1" }
    })
}

/// Builds the settings form in node and runs `cases` through its
/// validation: the options and, per case, each matching option's verdict.
fn run_form(node: &Path, cases: &[Json]) -> (Vec<Json>, Vec<Vec<Json>>) {
    run_form_with(node, cases, None)
}

/// [`run_form`], with LuCI's own validation.js instead of the shim's
/// datatypes when `luci_validation` names it.
fn run_form_with(
    node: &Path,
    cases: &[Json],
    luci_validation: Option<&Path>,
) -> (Vec<Json>, Vec<Vec<Json>>) {
    let input = json!({
        "uci": form_package(),
        "devices": { "mon0": { "type": 803, "up": true }, "eth1": { "type": 1, "up": true } },
        "cases": cases
    });
    let mut command = Command::new(node);
    if let Some(file) = luci_validation {
        command.env("WSFLOWD_LUCI_VALIDATION_JS", file);
    }
    let mut child = command
        .arg(repo().join("tests/luci/form-schema.js"))
        .arg(app().join("htdocs/luci-static/resources/view/wsflowd/settings.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let mut stdin = stdin;
        std::io::Write::write_all(&mut stdin, input.to_string().as_bytes()).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "form-schema.js: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Json = serde_json::from_slice(&out.stdout).unwrap();
    let options = result["options"].as_array().unwrap().clone();
    let results = result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect();
    (options, results)
}

/// Values worth trying for an option of this kind.
fn corpus(spec: &OptionSpec, rng: &mut Rng) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "".into(),
        " ".into(),
        "x y".into(),
        "'".into(),
        "a\nb".into(),
    ];
    let label63 = "a".repeat(63);
    let addresses: Vec<String> = [
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.4/24",
        "1.2.3.4:6343",
        "1.2.3.4.",
        "::",
        "::1",
        "2001:db8::10",
        "2001:DB8::A",
        "2001:db8:0:0:0:0:0:1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "::1:2:3:4:5:6:7",
        "1::2:3:4:5:6:7",
        "::1:2:3:4:5:6:7:8",
        "1:::2",
        "12345::1",
        "::ffff:1.2.3.4",
        "::ffff:1.2.3",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4",
        "fe80::1%eth0",
        "[2001:db8::1]",
        "[2001:db8::1]:6343",
        "[1.2.3.4]",
        "[]",
        "[::1",
        "2001:db8::1:6343",
        "example.com",
        "example.com.",
        "example..com",
        "a",
        "a.",
        "-a.com",
        "a-.com",
        "a-b.com",
        "a_b.com",
        "xn--bcher-kva.example",
        "host.123",
        "123",
        "1e3",
        "sflow.example.net.",
        "ünicode.de",
        "a b",
        "localhost",
        "0x7f.1",
        "com",
        "_a.example",
        "a_b",
        "a.-b.example",
        "a.b-.example",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1::3:4:5:6:7:8",
        "::ffff:01.2.3.4",
        "0a.1.2.3",
        "12.example",
        "sflow.example.123",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("{label63}.com"),
        format!("{label63}a.com"),
        long_name(253),
        format!("{}.", long_name(253)),
        long_name(254),
    ])
    .collect();
    let interfaces: Vec<String> = [
        "eth0",
        "wlan0",
        "phy0-ap0",
        "br-lan",
        "eth0.1",
        "a",
        "abcdefghijklmno",
        "abcdefghijklmnop",
        ".",
        "..",
        "...",
        "a/b",
        "a:b",
        "a%b",
        "a\tb",
        "a\u{b}b",
        "éééééé",
        "éééééééé",
        "à",
        "\u{a0}",
        "1.2.3.4",
        "1234",
        "0123456789ab",
        "wlan0 eth0",
        "wlan%d",
        "a\u{2003}b",
        "a\u{a0}b",
        "\u{3000}",
        "abcdefghijklmnö",
        "ö",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match spec.kind {
        Kind::Integer { min, max, .. } => {
            for n in [
                0,
                1,
                min.saturating_sub(1),
                min,
                min + 1,
                max - 1,
                max,
                max + 1,
            ] {
                v.push(n.to_string());
                v.push(format!("0{n}"));
            }
            for s in [
                "-0",
                "-1",
                "+1",
                " 1",
                "1 ",
                "1.0",
                "1.5",
                "1e3",
                "0x10",
                "abc",
                "4294967296",
                "18446744073709551616",
                "99999999999999999999",
                "٣",
            ] {
                v.push(s.into());
            }
            for _ in 0..200 {
                v.push(random_text(rng, &["0", "1", "5", "9", "-", "."], 11));
            }
        }
        Kind::Host(_) | Kind::AgentAddress(_) | Kind::Domain(_) => {
            v.extend(addresses);
            v.extend(interfaces);
            let alphabet = [
                "0", "1", "2", "9", "a", "f", "F", "g", "z", ":", ":", ".", ".", "[", "]", "-",
                "_", "%", "/", " ",
            ];
            for _ in 0..4000 {
                v.push(random_text(rng, &alphabet, 18));
            }
            // IPv6-shaped text: hex groups and separators.
            for _ in 0..3000 {
                v.push(random_text(
                    rng,
                    &[
                        "0", "1", "ff", "abcd", "12345", ":", ":", ":", ".", "1.2.3.4", "::",
                    ],
                    12,
                ));
            }
        }
        Kind::Interface(_) | Kind::Bss(_) => {
            v.extend(interfaces);
            v.extend(addresses.into_iter().take(20));
            for m in [
                "02:00:5e:10:00:01",
                "02-00-5E-10-00-01",
                "02:00-5e:10:00:01",
                "03:00:5e:10:00:01",
                "00:00:00:00:00:00",
                "00-00-00-00-00-00",
                "02:00:5e:10:00",
                "02:00:5e:10:00:01:02",
                "0g:00:5e:10:00:01",
                "fe:ff:ff:ff:ff:ff",
                "FF:FF:FF:FF:FF:FF",
                "1b:00:5e:10:00:01",
                "0b:00:5e:10:00:01",
                "1a:00:5e:10:00:01",
                "02:00:5e:10:00:01 phy0-ap0",
                "0200.5e10.0001",
                "02005e100001",
            ] {
                v.push(m.into());
            }
            for _ in 0..3000 {
                v.push(random_text(
                    rng,
                    &["0", "2", "a", "F", "x", ":", "-", ".", "/", " ", "é"],
                    18,
                ));
            }
        }
        _ => {}
    }
    v
}

/// Why the page refuses a value the daemon takes, when it does so on
/// purpose: where LuCI's datatypes are stricter than the daemon, and the
/// value is one a user has no reason to type. (The other way round, a
/// value the page takes and the daemon refuses, is never allowed.)
fn deliberate_difference(spec: &OptionSpec, value: &str) -> Option<&'static str> {
    let unicode_space = value.chars().any(|c| !c.is_ascii() && c.is_whitespace());
    match spec.kind {
        Kind::Bss(_) if value.bytes().any(|b| b.is_ascii_whitespace()) => {
            Some("several BSSes in one item of the list: the page adds one per item")
        }
        Kind::Bss(_) if value.contains('-') && config::parse_mac(value).is_some() => {
            Some("a BSSID written with '-': LuCI's macaddr takes ':' only")
        }
        Kind::Host(_) | Kind::AgentAddress(_)
            if value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .is_some_and(|v| v.parse::<std::net::Ipv6Addr>().is_ok()) =>
        {
            Some(
                "an IPv6 address in brackets: LuCI's ipaddr takes none (a configured one is shown without)",
            )
        }
        Kind::Host(_) | Kind::AgentAddress(_)
            if value.parse::<std::net::Ipv6Addr>().is_ok()
                && (value.starts_with("::") || value.ends_with("::")) =>
        {
            Some("'::' standing for one group at the start or end of an IPv6 address: LuCI's parseIPv6 refuses it")
        }
        Kind::Host(_) | Kind::Domain(_) if value.ends_with('.') && (value.len() == 254 || !value[..value.len() - 1].contains('.')) => {
            Some("a host name with a final dot, of 254 characters or a single label: LuCI's hostname refuses it")
        }
        Kind::Interface(_) | Kind::AgentAddress(_) | Kind::Bss(_)
            if value.contains('%') || unicode_space =>
        {
            Some("'%' or a Unicode space in an interface name: LuCI's netdevname refuses them (the kernel names no interface with '%')")
        }
        _ => None,
    }
}

#[test]
fn settings_form_writes_the_daemons_options_with_its_limits() {
    let Some(node) = node_or_skip("settings_form_writes_the_daemons_options_with_its_limits")
    else {
        return;
    };
    let (options, _) = run_form(&node, &[]);
    let mut covered = BTreeSet::new();
    for o in &options {
        let section = o["section"].as_str().unwrap();
        let name = o["option"].as_str().unwrap();
        let what = format!("{section}.{name} ({})", o["title"]);
        let spec = config::option_spec(section, name)
            .unwrap_or_else(|| panic!("the page writes {what}, which the daemon does not know"));
        covered.insert((section, name));
        let widget = o["widget"].as_str().unwrap();
        assert_eq!(
            o["rmempty"] == json!(false) || o["widget"] == "CBI.FlagValue",
            spec.required || widget == "CBI.FlagValue",
            "{what}: a required option may not be left empty, others may"
        );
        match spec.kind {
            Kind::Bool(_) => {
                assert_eq!(widget, "CBI.FlagValue", "{what}");
                assert_eq!(
                    (o["enabled"].as_str(), o["disabled"].as_str()),
                    (Some("1"), Some("0")),
                    "{what}"
                );
                assert_eq!(o["default"].as_str(), spec.default, "{what}");
                for v in ["1", "0"] {
                    assert!(daemon_accepts(spec, v, ""), "{what}: {v}");
                }
            }
            Kind::Integer { min, max, .. } => {
                assert_eq!(widget, "CBI.Value", "{what}");
                assert_eq!(
                    o["datatype"],
                    format!("and(uinteger,range({min},{max}))"),
                    "{what}"
                );
                assert_eq!(o["validate"], true, "{what}: no sign (uinteger takes -0)");
            }
            Kind::Word { words, .. } if spec.list => {
                assert_eq!(widget, "CBI.MultiValue", "{what}");
                assert_eq!(o["choices"], json!(words), "{what}");
                // form-schema.js shows the default array as String() does.
                assert_eq!(
                    o["default"]
                        .as_str()
                        .map(|d| d.replace(',', " "))
                        .as_deref(),
                    spec.default,
                    "{what}"
                );
                for w in words {
                    assert!(daemon_accepts(spec, w, ""), "{what}: {w}");
                }
            }
            Kind::Word { words, .. } => {
                assert_eq!(widget, "CBI.ListValue", "{what}");
                assert_eq!(o["choices"], json!(words), "{what}");
                assert_eq!(o["default"].as_str(), spec.default, "{what}");
                for w in words {
                    assert!(daemon_accepts(spec, w, ""), "{what}: {w}");
                }
            }
            // LuCI's datatypes, narrowed by a validate function to what
            // the daemon takes (the verdicts are compared below).
            Kind::Host(_) => {
                assert_eq!(
                    (widget, o["datatype"].as_str(), &o["validate"]),
                    ("CBI.Value", Some("host"), &json!(true)),
                    "{what}"
                );
            }
            Kind::AgentAddress(_) => {
                assert_eq!(
                    (widget, o["datatype"].as_str(), &o["validate"]),
                    (
                        "CBI.Value",
                        Some("or(ipaddr(\"nomask\"),netdevname)"),
                        &json!(true)
                    ),
                    "{what}"
                );
            }
            Kind::Domain(_) => {
                assert_eq!(
                    (widget, o["datatype"].as_str(), &o["validate"]),
                    ("CBI.Value", Some("hostname"), &json!(true)),
                    "{what}"
                );
            }
            // DeviceSelect gives its Dropdown a validate function but no
            // datatype: a datatype set on it would never run.
            Kind::Interface(_) if spec.list => {
                assert_eq!(
                    (widget, &o["multiple"], &o["datatype"]),
                    ("CBI.DeviceSelect", &json!(true), &Json::Null),
                    "{what}"
                );
                assert_eq!(o["typed"]["datatype"], "string", "{what}");
                assert_eq!(o["validate"], true, "{what}: each name checked");
            }
            Kind::Interface(_) => {
                // Any device, or one of the monitor interfaces found.
                assert!(
                    (widget == "CBI.DeviceSelect"
                        && o["validate"] == true
                        && o["datatype"].is_null())
                        || (widget == "CBI.ListValue" && o["choices"] == json!(["mon0"])),
                    "{what}: {o}"
                );
                for choice in o["choices"].as_array().unwrap() {
                    assert!(
                        daemon_accepts(spec, choice.as_str().unwrap(), ""),
                        "{what}: {choice}"
                    );
                }
            }
            Kind::Bss(_) => {
                assert_eq!(
                    (widget, o["datatype"].as_str(), &o["validate"]),
                    (
                        "CBI.DynamicList",
                        Some("or(macaddr,netdevname)"),
                        &json!(true)
                    ),
                    "{what}"
                );
            }
            Kind::SocketPath(_) => panic!("{what}: not on the page"),
        }
    }
    let all: BTreeSet<(&str, &str)> = SCHEMA.iter().map(|s| (s.section, s.name)).collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    // ubus_socket, hostapd_control_dir: only for a broker or a hostapd
    // whose sockets are elsewhere; left to the shell.
    assert_eq!(
        missing,
        [&("agent", "hostapd_control_dir"), &("agent", "ubus_socket")]
    );
    println!(
        "{} form options compared, covering {} of the daemon's {} options",
        options.len(),
        covered.len(),
        SCHEMA.len()
    );
}

/// A value typed into an option of the page, with the lines the daemon
/// reads in the same section.
struct Case {
    spec: &'static OptionSpec,
    value: String,
    extra: String,
}

/// The values to try in every option of the page that takes typed text,
/// as form-schema.js cases and as the daemon will read them.
fn validation_cases(options: &[Json]) -> (Vec<Json>, Vec<Case>) {
    let mut rng = Rng::from_seed(0x5eed_1ac1_0000_0001);
    let mut cases = Vec::new();
    let mut specs = Vec::new();
    let mut seen = BTreeSet::new();
    for o in options {
        let (section, name) = (
            o["section"].as_str().unwrap(),
            o["option"].as_str().unwrap(),
        );
        let spec = config::option_spec(section, name).unwrap();
        if matches!(spec.kind, Kind::Bool(_) | Kind::Word { .. }) || !seen.insert((section, name)) {
            continue;
        }
        for value in corpus(spec, &mut rng) {
            cases.push(json!({ "section": section, "option": name, "value": value }));
            specs.push(Case {
                spec,
                value,
                extra: String::new(),
            });
        }
    }
    // The room a datagram must leave for a sampled header.
    let datagram = config::option_spec("agent", "datagram_bytes").unwrap();
    for header in ["", "16", "17", "128", "511", "512"] {
        for size in [
            "", "256", "271", "272", "273", "383", "384", "700", "767", "768", "1400", "9000",
        ] {
            cases.push(json!({ "section": "agent", "option": "datagram_bytes", "value": size, "set": { "header_bytes": header } }));
            let extra = if header.is_empty() {
                String::new()
            } else {
                format!("\toption header_bytes '{header}'\n")
            };
            specs.push(Case {
                spec: datagram,
                value: size.to_owned(),
                extra,
            });
        }
    }
    (cases, specs)
}

#[test]
fn settings_validation_accepts_exactly_what_the_daemon_accepts() {
    let Some(node) = node_or_skip("settings_validation_accepts_exactly_what_the_daemon_accepts")
    else {
        return;
    };
    let (options, _) = run_form(&node, &[]);
    let (cases, specs) = validation_cases(&options);
    let started = Instant::now();
    let (_, results) = run_form(&node, &cases);
    let page_time = started.elapsed();
    compare_with_the_daemon(&specs, &results, page_time);
}

/// The page's verdicts against the daemon's: never more permissive, and
/// stricter only for the reasons of [`deliberate_difference`].
fn compare_with_the_daemon(specs: &[Case], results: &[Vec<Json>], page_time: Duration) {
    assert_eq!(results.len(), specs.len());
    let mut checked = 0;
    let mut mismatches = Vec::new();
    let mut deliberate: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (Case { spec, value, extra }, verdicts) in specs.iter().zip(results) {
        assert!(
            !verdicts.is_empty(),
            "{}.{}: no option",
            spec.section,
            spec.name
        );
        let daemon = daemon_accepts(spec, value, extra);
        for v in verdicts {
            if v["typed"] != true {
                // A choice among values checked below, not typed text.
                continue;
            }
            let page = v["ok"] == true;
            checked += 1;
            if page == daemon {
                continue;
            }
            if let Some(why) = deliberate_difference(spec, value).filter(|_| !page) {
                deliberate
                    .entry(why)
                    .or_default()
                    .push(format!("{}.{} {value:?}", spec.section, spec.name));
                continue;
            }
            mismatches.push(format!(
                "{}.{} = {value:?} {extra:?}: page {} ({}), daemon {}",
                spec.section,
                spec.name,
                if page { "accepts" } else { "refuses" },
                v["message"],
                if daemon { "accepts" } else { "refuses" }
            ));
        }
    }
    println!(
        "{checked} verdicts of the page's validation compared with the daemon's parser ({} values, page side {page_time:?}); values the page refuses on purpose:",
        specs.len()
    );
    for (why, values) in &deliberate {
        println!(
            "  {} x {why}, e.g. {}",
            values.len(),
            values[..values.len().min(3)].join(", ")
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(40)].join("\n")
    );
    assert!(checked > 20_000, "{checked}");
}

/// validation.js's verdicts on the datatypes the page uses and those they
/// are built from, on the values where they are easy to get wrong or differ
/// from the daemon: None for valid, else LuCI's message (or the exception
/// it throws). Read from LuCI's own validation.js (openwrt/luci master of
/// 2026-03, through `real_luci_validation_by_hand`); the shim must agree.
const DATATYPE_CASES: &[(&str, &str, Option<&str>)] = &[
    ("and(uinteger,range(1,65535))", "1", None),
    ("and(uinteger,range(1,65535))", "65535", None),
    ("and(uinteger,range(1,65535))", "0", Some("Expecting: value between 1 and 65535")),
    ("and(uinteger,range(1,65535))", "65536", Some("Expecting: value between 1 and 65535")),
    ("and(uinteger,range(1,65535))", "1.5", Some("Expecting: positive integer value")),
    ("and(uinteger,range(1,65535))", "-1", Some("Expecting: positive integer value")),
    ("and(uinteger,range(0,86400))", "-0", None),
    ("and(uinteger,range(0,86400))", "007", None),
    ("and(uinteger,range(0,86400))", " 7", Some("Expecting: positive integer value")),
    ("and(uinteger,range(0,86400))", "", Some("Expecting: non-empty value")),
    ("and(uinteger,range(0,4294967295))", "4294967296", Some("Expecting: value between 0 and 4294967295")),
    ("range(1,10)", "1.5", None),
    ("or(uinteger,'auto')", "auto", None),
    ("or(uinteger,'auto')", "x", Some("Expecting: One of the following: \n - positive integer value\n - \"auto\"")),
    ("port", "0", None),
    ("host", "192.0.2.1", None),
    ("host", "01.2.3.4", None),
    ("host", "2001:db8::1", None),
    ("host", "::ffff:1.2.3.4", None),
    ("host", "[2001:db8::1]", Some("Expecting: valid hostname or IP address")),
    ("host", "fe80::1%eth0", Some("Expecting: valid hostname or IP address")),
    ("host", "1.2.3.4/24", Some("Expecting: valid hostname or IP address")),
    ("host", "example.com", None),
    ("host", "a_b.example", None),
    ("host", "example..com", None),
    ("host", "a-.example", None),
    ("host", "-a.example", Some("Expecting: valid hostname or IP address")),
    ("host", "host.123", None),
    ("host", "123", None),
    ("host", "a", None),
    ("host", "a.", Some("Expecting: valid hostname or IP address")),
    ("host", "1:2:3:4:5:6:7::", Some("Expecting: valid hostname or IP address")),
    ("host", "::2:3:4:5:6:7:8", Some("Expecting: valid hostname or IP address")),
    ("host", "1::3:4:5:6:7:8", None),
    ("or(ipaddr(\"nomask\"),netdevname)", "192.0.2.1", None),
    ("or(ipaddr(\"nomask\"),netdevname)", "br-lan", None),
    ("or(ipaddr(\"nomask\"),netdevname)", "1234", None),
    ("or(ipaddr(\"nomask\"),netdevname)", "2001:db8::1/64", Some("Expecting: One of the following: \n - valid IP address\n - valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("netdevname", "phy0-ap0", None),
    ("netdevname", "abcdefghijklmno", None),
    ("netdevname", "abcdefghijklmnop", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("netdevname", "éééééééé", None),
    ("netdevname", "wlan%d", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("netdevname", "a b", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("netdevname", "a\u{a0}b", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("netdevname", "à", None),
    ("netdevname", ".", Some("Expecting: valid network device name, not \".\" or \"..\"")),
    ("netdevname", "a:b", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("macaddr", "02:00:5e:10:00:01", None),
    ("macaddr", "03:00:5e:10:00:01", Some("Expecting: valid MAC address")),
    ("macaddr", "ff:ff:ff:ff:ff:ff", None),
    ("macaddr", "1b:00:5e:10:00:01", None),
    ("macaddr", "02-00-5e-10-00-01", Some("Expecting: valid MAC address")),
    ("macaddr", "00:00:00:00:00:00", None),
    ("or(macaddr,netdevname)", "02:00:5e:10:00:01", None),
    ("or(macaddr,netdevname)", "phy0-ap0", None),
    ("or(macaddr,netdevname)", "x y", Some("Expecting: One of the following: \n - valid MAC address\n - valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("list(netdevname)", "wlan0 eth0", None),
    ("list(netdevname)", "wlan0 a/b", Some("Expecting: valid network device name between 1 and 15 characters not containing \":\", \"/\", \"%\" or spaces")),
    ("list(netdevname)", " ", Some("throws TypeError")),
    ("hostname", "bbb", None),
    ("neg(port)", "!80", None),
    ("and(minlength(2),maxlength(4))", "éé", None),
    ("and(minlength(2),maxlength(4))", "ééé", Some("Expecting: value with at most 4 characters")),
];

/// What validation.js (the shim's, or LuCI's own) says of each case of
/// [`DATATYPE_CASES`], checked alone as a required field without validate
/// function: true, or the message.
fn datatype_verdicts(node: &Path, luci_validation: Option<&Path>) -> Vec<Json> {
    let datatypes: Vec<Json> = DATATYPE_CASES
        .iter()
        .map(|(t, v, _)| json!([t, v]))
        .collect();
    let input = json!({ "uci": {}, "devices": {}, "cases": [], "datatypes": datatypes });
    let mut command = Command::new(node);
    if let Some(file) = luci_validation {
        command.env("WSFLOWD_LUCI_VALIDATION_JS", file);
    }
    let mut child = command
        .arg(repo().join("tests/luci/form-schema.js"))
        .arg(app().join("htdocs/luci-static/resources/view/wsflowd/settings.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        input.to_string().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "form-schema.js: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Json = serde_json::from_slice(&out.stdout).unwrap();
    result["datatypes"].as_array().unwrap().clone()
}

fn assert_datatype_verdicts(verdicts: &[Json], whose: &str) {
    assert_eq!(verdicts.len(), DATATYPE_CASES.len());
    let wrong: Vec<String> = DATATYPE_CASES
        .iter()
        .zip(verdicts)
        .filter(|((_, _, expected), got)| match expected {
            None => **got != json!(true),
            Some(message) => **got != json!(message),
        })
        .map(|((t, v, expected), got)| {
            format!("{t} {v:?}: {whose} {got}, validation.js {expected:?}")
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn shim_datatypes_follow_luci_validation() {
    // validation.js's semantics for the datatypes the views use, on the
    // values where they are easy to get wrong (decimals, signs, spaces,
    // quirks such as "ff:ff:ff:ff:ff:ff" taken for a unicast MAC address,
    // LuCI's own messages). The page narrows them down to the daemon's.
    let Some(node) = node_or_skip("shim_datatypes_follow_luci_validation") else {
        return;
    };
    assert_datatype_verdicts(&datatype_verdicts(&node, None), "the shim");
}

/// By hand: the shim's datatypes against LuCI's own validation.js, from a
/// LuCI source tree in WSFLOWD_LUCI_DIR (openwrt/luci or a fork that tracks
/// it; never part of this repository): [`DATATYPE_CASES`], and every
/// verdict of the page's validation comparison, value for value and
/// message for message; then the page with LuCI's validation.js against
/// the daemon. `WSFLOWD_LUCI_DIR=... cargo test --test luci_app
/// real_luci_validation -- --ignored --nocapture`.
#[test]
#[ignore]
fn real_luci_validation_by_hand() {
    let test = "real_luci_validation_by_hand";
    let Some(luci) = std::env::var_os("WSFLOWD_LUCI_DIR").map(PathBuf::from) else {
        eprintln!("{test}: set WSFLOWD_LUCI_DIR to a LuCI source tree");
        return;
    };
    let Some(node) = node_or_skip(test) else {
        return;
    };
    let validation = luci.join("modules/luci-base/htdocs/luci-static/resources/validation.js");
    assert!(validation.is_file(), "{}", validation.display());
    assert_datatype_verdicts(&datatype_verdicts(&node, Some(&validation)), "LuCI");

    let (options, _) = run_form(&node, &[]);
    let (cases, specs) = validation_cases(&options);
    let (_, shim) = run_form(&node, &cases);
    let started = Instant::now();
    let (_, real) = run_form_with(&node, &cases, Some(&validation));
    let page_time = started.elapsed();
    let mut compared = 0;
    let mut differ = Vec::new();
    for ((case, s), r) in specs.iter().zip(&shim).zip(&real) {
        for (s, r) in s.iter().zip(r) {
            compared += 1;
            if (&s["ok"], &s["message"]) != (&r["ok"], &r["message"]) {
                differ.push(format!(
                    "{}.{} {:?}: shim {} {}, LuCI {} {}",
                    case.spec.section,
                    case.spec.name,
                    case.value,
                    s["ok"],
                    s["message"],
                    r["ok"],
                    r["message"]
                ));
            }
        }
    }
    println!("{compared} verdicts of the page: the shim's datatypes and LuCI's validation.js agree on {}", compared - differ.len());
    assert!(
        differ.is_empty(),
        "{}",
        differ[..differ.len().min(40)].join("\n")
    );
    compare_with_the_daemon(&specs, &real, page_time);
}

// ---------------------------------------------------------------------
// In a browser, against a running agent.

/// The access point: a namespace with `wlan0` (a veth, its station side in
/// another namespace) and `mon0` (a radiotap TAP), hostapd's BSS on wlan0
/// with two stations, two collectors, and traffic from the station.
struct Lab {
    net: ApLab,
    _mon0: File,
    broker: Broker,
    _fake: FakeHostapd,
    collector_a: Collector,
    collector_b: Collector,
    traffic: Arc<AtomicBool>,
}

impl Lab {
    fn new(test: &str) -> Option<Lab> {
        let broker = Broker::start_or_skip(test)?;
        let net = ApLab::new("wsflu", "wsfls", 206);
        let mon0 = net
            .ap
            .spawn(|| monitor_tap("mon0").expect("radiotap TAP"))
            .join()
            .unwrap();
        net.ap.exec(&["ip", "link", "set", "mon0", "up"]);
        let fake = FakeHostapd::start(&broker.socket);
        // Markup in an SSID is shown as text, not taken for HTML.
        fake.add_bss(net.bss("wsflowd <i>lab</i>"));
        fake.associate("wlan0", net.sta_mac, -52);
        fake.associate("wlan0", [0x02, 0x5a, 0, 0, 0, 7], -67);
        fake.sync();
        let collector_a = Collector::start(&net.ap);
        let collector_b = Collector::start(&net.ap);
        // From the station to the access point, until the test ends (two
        // minutes at most).
        let traffic = Arc::new(AtomicBool::new(true));
        let on = traffic.clone();
        net.sta.spawn(move || {
            let s = UdpSocket::bind("10.206.0.2:0").unwrap();
            let end = Instant::now() + Duration::from_secs(120);
            while on.load(Ordering::Relaxed) && Instant::now() < end {
                let _ = s.send_to(b"wsflowd luci test", "10.206.0.1:9");
                thread::sleep(Duration::from_millis(5));
            }
        });
        Some(Lab {
            net,
            _mon0: mon0,
            broker,
            _fake: fake,
            collector_a,
            collector_b,
            traffic,
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.traffic.store(false, Ordering::Relaxed);
    }
}

/// The page's element count for a CSS selector.
fn count(b: &Browser, css: &str) -> u64 {
    b.js(
        "return document.querySelectorAll(arguments[0]).length;",
        json!([css]),
    )
    .as_u64()
    .unwrap()
}

fn wait_view(b: &Browser) {
    b.wait(
        "the view",
        "return document.body.getAttribute('data-view-ready') == 'true' && !document.querySelector('.spinning');",
        Duration::from_secs(20),
    );
}

/// The text of the cell `field` of the row `key` of table `table`.
fn cell(b: &Browser, table: &str, key: &str, field: &str) -> String {
    b.js(
        "const row = [...document.querySelectorAll('#' + arguments[0] + ' tr')].find((r) => r.dataset.key == arguments[1]);\
         const td = row && row.querySelector('[data-field=\"' + arguments[2] + '\"]');\
         return td ? td.textContent : null;",
        json!([table, key, field]),
    )
    .as_str()
    .unwrap_or_else(|| panic!("no cell {table} {key} {field}"))
    .to_owned()
}

fn fact(b: &Browser, field: &str) -> String {
    b.js(
        "const td = document.querySelector('#wsflowd-agent [data-field=\"' + arguments[0] + '\"]'); return td ? td.textContent : null;",
        json!([field]),
    )
    .as_str()
    .unwrap_or_else(|| panic!("no agent field {field}"))
    .to_owned()
}

/// An uptime as the status page shows it: LuCI's `'%t'.format()` (cbi.js),
/// "1d 2h 3m 4s", or "2h 3m 4s" under a day.
fn duration_text(s: i64) -> String {
    let (d, h, m, s) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m {s}s")
    } else {
        format!("{h}h {m}m {s}s")
    }
}

fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) if s.is_empty() => "-".into(),
        Json::String(s) => s.clone(),
        Json::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The CSS selector of the grid section titled `title`.
fn grid(title: &str) -> String {
    format!(".cbi-tblsection[data-section-title=\"{title}\"]")
}

fn modal_input(option: &str) -> String {
    format!("#modal_overlay [data-name=\"{option}\"] input")
}

fn input_state(b: &Browser, css: &str) -> (bool, String) {
    let v = b.js(
        "const i = document.querySelector(arguments[0]); return [i.classList.contains('cbi-input-invalid'), i.getAttribute('data-tooltip') || ''];",
        json!([css]),
    );
    (v[0] == true, v[1].as_str().unwrap().to_owned())
}

/// Configurations the daemon accepts, for the page to load and save: the
/// package's own, and the shapes the others take (absent interfaces, many
/// of them, lists written as one option, monitor sections with BSSIDs,
/// words and booleans in other spellings, collectors by host name and
/// IPv6 address, with brackets, an anonymous agent section, none at all).
const SAVED_CONFIGS: &[(&str, &str)] = &[
    ("default", include_str!("../openwrt/files/wsflowd.config")),
    (
        "many-interfaces",
        "config agent 'agent'\n\toption polling_interval '30'\n\tlist interface 'phy0-ap0'\n\tlist interface 'phy0-ap1'\n\tlist interface 'phy1-ap0'\n\tlist interface 'phy1-ap1'\n\tlist interface 'phy2-ap0'\n\tlist interface 'wlan0'\n\tlist interface 'wlan1'\n\tlist interface 'wlan0-1'\n\tlist interface 'lan1'\n\tlist interface 'lan2'\n\tlist interface 'lan3'\n\tlist interface 'lan4'\n\tlist interface 'eth0.1'\n\tlist interface 'br-lan'\n\tlist interface 'wlan5 wlan6'\n\tlist interface 'abcdefghijklmno'\n",
    ),
    (
        "monitor",
        "config agent 'agent'\n\toption enabled 'yes'\n\toption sampling_filter 'EBPF'\n\toption log_level 'warn'\n\toption interface 'phy0-ap0 lan1'\n\nconfig interface\n\toption device 'mon0'\n\tlist bss 'phy0-ap0'\n\tlist bss '02:00:5E:10:00:01'\n\tlist bss '02-00-5e-10-00-02'\n\tlist bss 'phy1-ap0 phy1-ap1'\n\toption foreign_bss 'DISCARD'\n\toption sampling_rate '50'\n\nconfig interface\n\toption device 'wlan9'\n\toption enabled '0'\n\nconfig interface\n\toption device 'lan1'\n\toption sampling_rate '1000'\n\toption polling_interval '5'\n\toption ring_kib '1024'\n\nconfig collector\n\toption address '192.0.2.10'\n",
    ),
    (
        "collectors",
        "config agent\n\toption agent_address '[2001:db8::1]'\n\toption sub_agent_id '7'\n\toption header_bytes '256'\n\toption datagram_bytes '512'\n\tlist interface 'phy0-ap0'\n\nconfig collector\n\toption address 'sflow.example.net.'\n\toption port '6343'\n\nconfig collector\n\toption address '2001:db8::10'\n\toption port '9999'\n\nconfig collector\n\toption address '[2001:db8::11]'\n\toption enabled 'off'\n\nconfig collector\n\toption address 'collector-1.example'\n\toption enabled '1'\n",
    ),
    ("no-agent", "config collector\n\toption address '192.0.2.10'\n"),
];

/// A device as `luci-rpc getNetworkDevices` describes it.
fn device(name: &str, link_type: u32, devtype: &str) -> Json {
    json!({ "name": name, "type": link_type, "up": true, "devtype": devtype, "flags": { "up": true }, "stats": {} })
}

/// Clicks a button that runs a handler (Save, Save & Apply...) and waits
/// until it is done (ui.createHandlerFn disables the button meanwhile).
fn click_and_wait(b: &Browser, css: &str) {
    b.click(css);
    b.wait(
        css,
        &format!("const e = document.querySelector('{css}'); return !e || !e.disabled;"),
        Duration::from_secs(10),
    );
}

/// The fields the page marks invalid, with their messages.
fn invalid_fields(b: &Browser) -> Json {
    b.js(
        "return [...document.querySelectorAll('.cbi-input-invalid')].map((e) => { const f = e.closest('[data-field]'); return [f ? f.dataset.field : e.id, e.getAttribute('data-tooltip')]; });",
        json!([]),
    )
}

#[test]
fn configurations_the_daemon_accepts_load_and_save_in_a_browser() {
    let test = "configurations_the_daemon_accepts_load_and_save_in_a_browser";
    if !webdriver::tools_or_skip(test) {
        return;
    }
    let started = Instant::now();
    let shots = artifacts();
    // The access point the page is shown on: Wi-Fi, wired and bridge
    // devices and a monitor interface; the configurations name others,
    // absent for now.
    let devices = json!({
        "phy0-ap0": device("phy0-ap0", 1, "wlan"),
        "lan1": device("lan1", 1, "ethernet"),
        "lan2": device("lan2", 1, "ethernet"),
        "br-lan": device("br-lan", 1, "bridge"),
        "mon0": device("mon0", 803, "wlan"),
        "lo": device("lo", 772, "ethernet"),
    });
    let b = Browser::start(1280, 1900);
    for (name, text) in SAVED_CONFIGS {
        let original = config::parse(text.as_bytes(), name)
            .unwrap_or_else(|e| panic!("{name}: the daemon refuses it: {e}"))
            .config;
        let cfg = TempConfig::new(text);
        let server = LuciServer::start(Settings {
            config: cfg.path.clone(),
            ubus_socket: cfg.dir.join("no-ubus"),
            agent_pid: None,
            netns: None,
            devices: Some(devices.clone()),
            luci_root: None,
        });

        // Loaded: no field flagged, no error.
        b.goto(&server.url("/?view=wsflowd/settings"));
        wait_view(&b);
        assert_eq!(invalid_fields(&b), json!([]), "{name}: flagged on load");
        assert_eq!(count(&b, ".alert-message.error"), 0, "{name}");
        b.screenshot(&shots.join(format!("saved-{name}-loaded.png")));
        if *name == "no-agent" {
            assert_eq!(count(&b, "[data-name=\"interface\"]"), 0);
            assert_eq!(
                count(&b, "#cbi-wsflowd-agent > .cbi-button-add"),
                1,
                "{name}: the agent section is offered, not added"
            );
            assert!(server.staged_text().is_none() || !server.staged());
        } else {
            // The names of the agent's list, as chosen in the widget.
            let chosen = b.js(
                "return document.querySelector('[data-name=\"interface\"] .cbi-dropdown').value;",
                json!([]),
            );
            let chosen: BTreeSet<&str> = chosen.as_str().unwrap().split_whitespace().collect();
            let package = uci::parse(text.as_bytes()).unwrap();
            let agent = package.sections_of("agent").next().unwrap();
            let listed: BTreeSet<&str> = agent
                .get("interface")
                .map(|o| {
                    o.value
                        .items()
                        .iter()
                        .flat_map(|i| i.split_whitespace())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(chosen, listed, "{name}: the interface list");
        }

        // Save: nothing staged that the daemon would read differently.
        click_and_wait(&b, "#save");
        assert_eq!(count(&b, "#modal_overlay"), 0, "{name}: Save refused");
        if let Some(staged) = server.staged_text() {
            let reread = config::parse(staged.as_bytes(), name)
                .unwrap_or_else(|e| panic!("{name}: staged {e}\n{staged}"))
                .config;
            assert_eq!(
                reread, original,
                "{name}: Save changed the configuration:\n{staged}"
            );
        }

        if *name == "no-agent" {
            // Asked for, the agent section comes with the daemon's defaults.
            click_and_wait(&b, "#cbi-wsflowd-agent > .cbi-button-add");
            assert_eq!(count(&b, "[data-name=\"interface\"] .cbi-dropdown"), 1);
            assert_eq!(invalid_fields(&b), json!([]), "{name}: flagged once added");
        }

        // A collector added, Save & Apply: the file is written, with the
        // rest as it was.
        let collectors = grid("Collectors");
        b.click(&format!("{collectors} .cbi-section-create button"));
        b.wait(
            "the modal",
            "return !!document.querySelector('#modal_overlay [data-name=\"address\"] input');",
            Duration::from_secs(5),
        );
        let address = if *name == "collectors" {
            "2001:db8::20"
        } else {
            "sflow.example.net"
        };
        b.type_into(&modal_input("address"), address);
        b.type_into(&modal_input("port"), "6344");
        b.click("#modal_overlay .cbi-button-positive");
        b.wait(
            "the modal closed",
            "return !document.querySelector('#modal_overlay');",
            Duration::from_secs(5),
        );
        b.js("document.body.dataset.beforeApply = '1';", json!([]));
        b.click("#save-apply");
        let end = Instant::now() + Duration::from_secs(10);
        while server.journal().applies == 0 {
            assert!(
                Instant::now() < end,
                "{name}: no apply: {:?}",
                server.journal()
            );
            thread::sleep(Duration::from_millis(50));
        }
        let written = std::fs::read_to_string(&cfg.path).unwrap();
        let saved = config::parse(written.as_bytes(), name)
            .unwrap_or_else(|e| {
                panic!("{name}: the daemon refuses the file written: {e}\n{written}")
            })
            .config;
        assert_eq!(saved.agent, original.agent, "{name}:\n{written}");
        assert_eq!(saved.interfaces, original.interfaces, "{name}:\n{written}");
        let added = saved.collectors.last().unwrap();
        assert_eq!(
            (added.address.as_str(), added.port),
            (address, 6344),
            "{name}:\n{written}"
        );
        assert_eq!(
            saved.collectors[..saved.collectors.len() - 1],
            original.collectors[..],
            "{name}:\n{written}"
        );
        b.wait(
            "the page reloaded after applying",
            "return !document.body.dataset.beforeApply;",
            Duration::from_secs(10),
        );
        wait_view(&b);
        assert_eq!(
            invalid_fields(&b),
            json!([]),
            "{name}: flagged after saving"
        );
        b.screenshot(&shots.join(format!("saved-{name}-applied.png")));
        println!("{name}: loaded, saved, applied; the file:\n{written}");
    }
    println!(
        "{} configurations loaded and saved in {:?}",
        SAVED_CONFIGS.len(),
        started.elapsed()
    );
}

#[test]
fn pages_in_a_browser_edit_the_file_and_show_the_running_agent() {
    let test = "pages_in_a_browser_edit_the_file_and_show_the_running_agent";
    if !root_or_skip(test) || !webdriver::tools_or_skip(test) {
        return;
    }
    let Some(lab) = Lab::new(test) else {
        return;
    };
    let started = Instant::now();
    let shots = artifacts();
    let initial = format!(
        "# wsflowd: edited by the LuCI page test\n\nconfig agent 'agent'\n\toption enabled '1'\n\toption sampling_rate '2'\n\toption polling_interval '1'\n\toption ubus_socket '{}'\n\tlist interface 'wlan0'\n\nconfig interface\n\toption device 'mon0'\n\toption enabled '0'\n\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{}'\n",
        lab.broker.socket.display(),
        lab.collector_a.port
    );
    let cfg = TempConfig::new(&initial);
    let agent = AgentProcess::start(&lab.net.ap, &cfg.path);
    assert!(agent.wait_for_log("sampling wlan0", Duration::from_secs(5)));
    let server = LuciServer::start(Settings {
        config: cfg.path.clone(),
        ubus_socket: lab.broker.socket.clone(),
        agent_pid: Some(agent.child.id()),
        netns: Some(lab.net.ap.name.clone()),
        devices: None,
        luci_root: None,
    });
    let b = Browser::start(1280, 1900);

    // ---- Settings: what the file says.
    b.goto(&server.url("/?view=wsflowd/settings"));
    wait_view(&b);
    let checked: Json = b.js(
        "return [...document.querySelectorAll('[data-name=\"interface\"] input[type=checkbox]')].filter((i) => i.checked).map((i) => i.value);",
        json!([]),
    );
    assert_eq!(checked, json!(["wlan0"]), "the agent's interface list");
    let devices: Json = b.js(
        "return [...document.querySelectorAll('[data-name=\"interface\"] li')].map((l) => l.dataset.value);",
        json!([]),
    );
    for d in ["wlan0", "mon0"] {
        assert!(
            devices.as_array().unwrap().contains(&json!(d)),
            "{d} offered: {devices} ({:?})",
            server.journal().calls
        );
    }
    let monitor = grid("Monitor mode");
    assert_eq!(count(&b, &format!("{monitor} tr.cbi-section-table-row")), 1);
    assert_eq!(
        b.js(&format!("return document.querySelector('{} tr.cbi-section-table-row [data-name=\"enabled\"] input').checked;", monitor.replace('\'', "\\'")), json!([])),
        json!(false),
        "monitor sampling of mon0 off"
    );
    let collectors = grid("Collectors");
    assert_eq!(
        count(&b, &format!("{collectors} tr.cbi-section-table-row")),
        1
    );
    assert_eq!(
        count(
            &b,
            &format!(
                "{} tr.cbi-section-table-row",
                grid("Per-interface settings")
            )
        ),
        0
    );

    // ---- An invalid address, then an invalid port: shown inline, nothing written.
    b.click(&format!("{collectors} .cbi-section-create button"));
    b.wait(
        "the modal",
        "return !!document.querySelector('#modal_overlay [data-name=\"address\"] input');",
        Duration::from_secs(5),
    );
    b.type_into(&modal_input("address"), "192.0.2.300");
    b.type_into(&modal_input("port"), "6343");
    b.click("#modal_overlay .cbi-button-positive");
    thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&b, "#modal_overlay"), 1, "the modal stays open");
    let (invalid, tip) = input_state(&b, &modal_input("address"));
    assert!(invalid);
    assert_eq!(tip, "Expecting: valid hostname or IP address");
    let shown = b.js("return document.querySelector('#modal_overlay [data-name=\"address\"] .cbi-tooltip').textContent;", json!([]));
    assert_eq!(shown, json!(tip), "the message is shown next to the field");
    b.screenshot(&shots.join("settings-invalid-address.png"));
    b.type_into(&modal_input("address"), "127.0.0.1");
    b.type_into(&modal_input("port"), "70000");
    assert!(!input_state(&b, &modal_input("address")).0);
    b.click("#modal_overlay .cbi-button-positive");
    thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&b, "#modal_overlay"), 1);
    assert_eq!(
        input_state(&b, &modal_input("port")),
        (true, "Expecting: value between 1 and 65535".to_owned())
    );
    b.screenshot(&shots.join("settings-invalid-port.png"));
    b.click("#modal_overlay .button-row .cbi-button:not(.cbi-button-positive)");
    b.wait(
        "the modal closed",
        "return !document.querySelector('#modal_overlay');",
        Duration::from_secs(5),
    );
    assert_eq!(
        count(&b, &format!("{collectors} tr.cbi-section-table-row")),
        1,
        "nothing added"
    );
    assert!(
        server.journal().uci_writes.is_empty(),
        "{:?}",
        server.journal().uci_writes
    );
    assert!(!server.staged());
    assert_eq!(
        std::fs::read_to_string(&cfg.path).unwrap(),
        initial,
        "the file is untouched"
    );

    // ---- A collector added.
    b.click(&format!("{collectors} .cbi-section-create button"));
    b.wait(
        "the modal",
        "return !!document.querySelector('#modal_overlay [data-name=\"address\"] input');",
        Duration::from_secs(5),
    );
    b.type_into(&modal_input("address"), "127.0.0.1");
    b.type_into(&modal_input("port"), &lab.collector_b.port.to_string());
    b.click("#modal_overlay .cbi-button-positive");
    b.wait(
        "the modal closed",
        "return !document.querySelector('#modal_overlay');",
        Duration::from_secs(5),
    );
    b.wait(
        "two collectors",
        &format!("return document.querySelectorAll('{collectors} tr.cbi-section-table-row').length == 2;"),
        Duration::from_secs(5),
    );
    assert_eq!(
        std::fs::read_to_string(&cfg.path).unwrap(),
        initial,
        "staged, not applied yet"
    );

    // ---- The datagram size must leave room for the header: refused on save.
    b.type_into("[data-name=\"header_bytes\"] input", "512");
    b.type_into("[data-name=\"datagram_bytes\"] input", "700");
    assert_eq!(
        input_state(&b, "[data-name=\"datagram_bytes\"] input"),
        (
            true,
            "Must be at least the header bytes + 256 = 768 bytes".to_owned()
        )
    );
    let writes = server.journal().uci_writes.len();
    b.click("#save-apply");
    let error = b.wait("the save error", "const e = document.querySelector('#modal_overlay .save-error'); return e && e.textContent;", Duration::from_secs(5));
    assert!(error.as_str().unwrap().contains("Datagram size"), "{error}");
    b.screenshot(&shots.join("settings-save-error.png"));
    b.click("#modal_overlay .cbi-button");
    assert_eq!(
        server.journal().uci_writes.len(),
        writes,
        "nothing more staged"
    );
    assert_eq!(server.journal().applies, 0);
    assert_eq!(std::fs::read_to_string(&cfg.path).unwrap(), initial);
    b.type_into("[data-name=\"datagram_bytes\"] input", "1000");
    assert!(!input_state(&b, "[data-name=\"datagram_bytes\"] input").0);
    // A value the header change makes too small is flagged at once.
    b.type_into("[data-name=\"datagram_bytes\"] input", "768");
    b.type_into("[data-name=\"header_bytes\"] input", "513");
    assert!(input_state(&b, "[data-name=\"header_bytes\"] input").0);
    b.type_into("[data-name=\"header_bytes\"] input", "511");
    assert!(!input_state(&b, "[data-name=\"datagram_bytes\"] input").0);
    b.type_into("[data-name=\"header_bytes\"] input", "512");
    assert!(!input_state(&b, "[data-name=\"datagram_bytes\"] input").0);
    b.type_into("[data-name=\"datagram_bytes\"] input", "1000");

    // ---- Monitor-mode sampling on, then Save & Apply.
    b.click(&format!(
        "{monitor} tr.cbi-section-table-row [data-name=\"enabled\"] input"
    ));
    b.screenshot(&shots.join("settings-before-apply.png"));
    // Marks this page, to tell when the reload after applying replaced it.
    b.js("document.body.dataset.beforeApply = '1';", json!([]));
    b.click("#save-apply");
    let end = Instant::now() + Duration::from_secs(10);
    while server.journal().applies == 0 {
        assert!(Instant::now() < end, "no apply: {:?}", server.journal());
        thread::sleep(Duration::from_millis(50));
    }
    // The page reloads after applying, as LuCI's does.
    b.wait(
        "the page reloaded after applying",
        "return !document.body.dataset.beforeApply;",
        Duration::from_secs(10),
    );
    wait_view(&b);

    // The file, written with our UCI code, says what was set...
    let text = std::fs::read_to_string(&cfg.path).unwrap();
    println!("the file after Save & Apply:\n{text}");
    let package = uci::parse(text.as_bytes()).unwrap();
    assert_eq!(
        uci::export(&package, None).unwrap(),
        text,
        "written as uci commit writes"
    );
    let loaded = config::parse(text.as_bytes(), "wsflowd").unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    let ports: Vec<(String, u16)> = c
        .collectors
        .iter()
        .map(|c| (c.address.clone(), c.port))
        .collect();
    assert_eq!(
        ports,
        [
            ("127.0.0.1".to_owned(), lab.collector_a.port),
            ("127.0.0.1".to_owned(), lab.collector_b.port)
        ]
    );
    assert_eq!((c.agent.header_bytes, c.agent.datagram_bytes), (512, 1000));
    assert_eq!(c.agent.sampling_rate, Some(2));
    assert_eq!(
        c.agent.ubus_socket.as_deref(),
        Some(lab.broker.socket.as_path()),
        "options the page does not show are kept"
    );
    let devices: Vec<&str> = c.interfaces.iter().map(|i| i.device.as_str()).collect();
    assert_eq!(devices, ["wlan0", "mon0"], "monitor sampling of mon0 on");
    // The new collector: what was typed, and "enabled" left to its
    // default as nothing changed it.
    assert!(
        text.trim_end().ends_with(&format!(
            "\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{}'",
            lab.collector_b.port
        )),
        "{text}"
    );

    // ...and the agent reloaded it: the new collector receives datagrams.
    assert!(agent.wait_for_log("configuration reloaded", Duration::from_secs(5)));
    let end = Instant::now() + Duration::from_secs(8);
    let status = loop {
        let s = ubus_call(&lab.broker.socket, "wsflowd", "status").unwrap();
        let sent = s["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["port"] == lab.collector_b.port)
            .map(|c| c["datagrams_sent"].as_i64().unwrap());
        if sent.unwrap_or(0) > 0 && !lab.collector_b.snapshot().is_empty() {
            break s;
        }
        assert!(Instant::now() < end, "the new collector gets nothing: {s}");
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["config"]["header_bytes"], 512);
    let mon0 = status["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["device"] == "mon0")
        .cloned();
    assert_eq!(
        mon0.map(|m| m["monitor"].clone()),
        Some(json!(true)),
        "{status}"
    );
    // The reloaded page shows the new state.
    assert_eq!(
        count(&b, &format!("{collectors} tr.cbi-section-table-row")),
        2
    );
    assert_eq!(
        b.js(&format!("return document.querySelector('{} tr.cbi-section-table-row [data-name=\"enabled\"] input').checked;", monitor.replace('\'', "\\'")), json!([])),
        json!(true)
    );
    assert!(!server.staged());
    b.screenshot(&shots.join("settings.png"));

    // ---- Status: the figures the agent reports.
    thread::sleep(Duration::from_millis(1_500));
    b.goto(&server.url("/?view=wsflowd/status"));
    wait_view(&b);
    // The same reply from now on, so that what is compared cannot move.
    server
        .freeze_status(true)
        .expect("the page asked for the status");
    b.goto(&server.url("/?view=wsflowd/status"));
    wait_view(&b);
    let s = server.journal().last_status.unwrap();
    println!("status: {}", serde_json::to_string_pretty(&s).unwrap());
    assert_eq!(fact(&b, "version"), s["version"].as_str().unwrap());
    assert_eq!(
        fact(&b, "uptime"),
        duration_text(s["uptime"].as_i64().unwrap())
    );
    assert_eq!(fact(&b, "datagrams"), text_of(&s["datagrams"]));
    assert_eq!(fact(&b, "agent_address"), text_of(&s["agent_address"]));
    assert_eq!(fact(&b, "sampling_rate"), "2");
    let collectors = s["collectors"].as_array().unwrap();
    assert_eq!(collectors.len(), 2);
    for c in collectors {
        let key = format!("{}:{}", c["address"].as_str().unwrap(), c["port"]);
        assert!(c["datagrams_sent"].as_i64().unwrap() > 0, "{c}");
        for field in [
            "address",
            "port",
            "target",
            "datagrams_sent",
            "send_errors",
            "last_error",
        ] {
            assert_eq!(
                cell(&b, "wsflowd-collectors", &key, field),
                text_of(&c[field]),
                "{key} {field}"
            );
        }
        assert_eq!(c["source"], "uci", "{c}");
        assert_eq!(cell(&b, "wsflowd-collectors", &key, "source"), "settings");
    }
    // DNS-SD is off in this configuration: said so.
    assert_eq!(s["dns_sd"]["enabled"], false, "{s}");
    let dns_sd = b.js(
        "const td = document.querySelector('#wsflowd-dns-sd [data-field=\"state\"]'); return td ? td.textContent : null;",
        json!([]),
    );
    assert_eq!(dns_sd, json!("off"));
    let interfaces = s["interfaces"].as_array().unwrap();
    assert_eq!(interfaces.len(), 2);
    for i in interfaces {
        let key = i["device"].as_str().unwrap();
        for field in [
            "ifindex",
            "sampling_rate",
            "samples",
            "sample_pool",
            "drops",
            "polling_interval",
        ] {
            assert_eq!(
                cell(&b, "wsflowd-interfaces", key, field),
                text_of(&i[field]),
                "{key} {field}"
            );
        }
        let kind = if i["monitor"] == true {
            "monitor"
        } else {
            "interface"
        };
        assert_eq!(cell(&b, "wsflowd-interfaces", key, "kind"), kind);
        assert_eq!(
            cell(&b, "wsflowd-interfaces", key, "sampling"),
            text_of(&i["filter"])
        );
    }
    let wlan0 = interfaces.iter().find(|i| i["device"] == "wlan0").unwrap();
    assert!(
        wlan0["samples"].as_i64().unwrap() > 0,
        "traffic sampled: {wlan0}"
    );
    assert_eq!(wlan0["sampling_rate"], 2);
    let bss = &s["bss"][0];
    assert_eq!(bss["stations"], 2);
    assert_eq!(
        cell(&b, "wsflowd-bss", "wlan0", "ssid"),
        "wsflowd <i>lab</i>"
    );
    assert_eq!(
        cell(&b, "wsflowd-bss", "wlan0", "bssid"),
        bss["bssid"].as_str().unwrap()
    );
    assert_eq!(cell(&b, "wsflowd-bss", "wlan0", "stations"), "2");
    assert_eq!(cell(&b, "wsflowd-bss", "wlan0", "channel"), "36 (5180 MHz)");
    assert_eq!(bss["bssid"], mac_text(&lab.net.ap_mac));
    b.screenshot(&shots.join("status.png"));

    // The page polls: once the agent is asked again, new figures appear.
    server.freeze_status(false);
    let shown = fact(&b, "datagrams");
    b.wait(
        "a refresh by polling",
        &format!(
            "const td = document.querySelector('#wsflowd-agent [data-field=\"datagrams\"]'); return td && td.textContent != '{shown}';"
        ),
        Duration::from_secs(8),
    );

    // Graphs: traffic per SSID from two counter readings or more (the
    // agent polls every second here, the page every 5 s), drawn as SVG.
    b.wait(
        "the traffic graph",
        "const g = document.querySelector('#wsflowd-traffic-chart g[data-series]'); return g && g.querySelectorAll('circle').length >= 2;",
        Duration::from_secs(20),
    );
    let series = b.js(
        "return Array.from(document.querySelectorAll('#wsflowd-traffic-chart g[data-series]')).map(g => g.getAttribute('data-series'));",
        json!([]),
    );
    assert!(
        series
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "wsflowd <i>lab</i> in"),
        "traffic of the SSID: {series}"
    );
    let legend = b.js(
        "return document.querySelector('#wsflowd-traffic-chart .wsflowd-legend').textContent;",
        json!([]),
    );
    assert!(
        legend.as_str().unwrap().contains("wsflowd <i>lab</i> in"),
        "the legend shows the SSID as it is: {legend}"
    );
    b.screenshot(&shots.join("status-graphs.png"));

    // ---- The agent stopped: said plainly.
    server.set_agent_pid(None);
    assert!(agent.stop().success());
    assert_eq!(
        ubus_call(&lab.broker.socket, "wsflowd", "status"),
        Err(UbusError::NotFound)
    );
    b.goto(&server.url("/?view=wsflowd/status"));
    wait_view(&b);
    let error = b.js("const e = document.querySelector('#wsflowd-not-running [data-field=\"error\"]'); return e && e.textContent;", json!([]));
    assert!(
        error.as_str().unwrap_or("").contains("Object not found"),
        "{error}"
    );
    assert!(count(&b, "#wsflowd-status") == 0);
    b.screenshot(&shots.join("status-not-running.png"));
    println!(
        "browser test: {:?}, screenshots in {}",
        started.elapsed(),
        shots.display()
    );
}

/// By hand: the views in LuCI's real framework. Needs a LuCI source tree
/// (openwrt/luci, not part of this repository) in WSFLOWD_LUCI_DIR; serves
/// it with the test server (tests/luci/real.html bootstraps luci.js as
/// LuCI's header template does) for WSFLOWD_LUCI_SECONDS (default 600)
/// while a browser is pointed at the printed address. Runs an agent like
/// the browser test. `cargo test --test luci_app -- --ignored --nocapture`.
#[test]
#[ignore]
fn real_luci_framework_by_hand() {
    let test = "real_luci_framework_by_hand";
    let Some(luci) = std::env::var_os("WSFLOWD_LUCI_DIR").map(PathBuf::from) else {
        eprintln!("{test}: set WSFLOWD_LUCI_DIR to an openwrt/luci checkout");
        return;
    };
    if !root_or_skip(test) {
        return;
    }
    let Some(lab) = Lab::new(test) else {
        return;
    };
    let cfg = TempConfig::new(&format!(
        "\nconfig agent 'agent'\n\toption sampling_rate '2'\n\toption polling_interval '1'\n\toption ubus_socket '{}'\n\tlist interface 'wlan0'\n\nconfig interface\n\toption device 'mon0'\n\toption enabled '0'\n\nconfig collector\n\toption address '127.0.0.1'\n\toption port '{}'\n",
        lab.broker.socket.display(),
        lab.collector_a.port
    ));
    let agent = AgentProcess::start(&lab.net.ap, &cfg.path);
    let server = LuciServer::start(Settings {
        config: cfg.path.clone(),
        ubus_socket: lab.broker.socket.clone(),
        agent_pid: Some(agent.child.id()),
        netns: Some(lab.net.ap.name.clone()),
        devices: None,
        luci_root: Some(luci),
    });
    let seconds: u64 = std::env::var("WSFLOWD_LUCI_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    println!(
        "real LuCI: {} (config {})",
        server.url("/real.html?view=wsflowd/settings"),
        cfg.path.display()
    );
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        thread::sleep(Duration::from_secs(1));
        if std::fs::metadata(cfg.dir.join("stop")).is_ok() {
            break;
        }
    }
    println!("journal: {:?}", server.journal());
    println!("file:\n{}", std::fs::read_to_string(&cfg.path).unwrap());
}
