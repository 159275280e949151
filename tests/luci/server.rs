//! A stand-in for the router's web side, for the LuCI page tests: an HTTP
//! server (std::net, one thread per connection) that serves the test page
//! with the LuCI shim (`tests/luci/`) and the app's views (`luci-app-wsflowd/`),
//! and answers what LuCI asks the router:
//!
//! - ubus JSON-RPC at `/cgi-bin/luci/admin/ubus` (what rpcd answers):
//!   `uci get/add/set/delete/order/changes/revert` over the real UCI file,
//!   read and written with the project's own UCI code (`config::uci`), the
//!   changes staged per server as rpcd stages them per session;
//!   `wsflowd status` passed to the running agent over ubus (an absent
//!   object is rpcd's "Object not found"); `luci-rpc getNetworkDevices`
//!   from the devices of a network namespace, `getWirelessDevices` with
//!   one access point interface; `network.interface dump`, `session
//!   access`, `luci getFeatures`;
//! - `/cgi-bin/luci/admin/uci/apply_rollback` (or `apply_unchecked`) and
//!   `confirm`, as LuCI's "Save & Apply" calls them: the staged package is
//!   written to the file (`uci commit`) and the agent told to reload as
//!   procd's reload trigger would (`/etc/init.d/wsflowd reload`: SIGHUP).
//!
//! With a LuCI source tree (`luci_root`), `/luci-static/...` is served from
//! its luci-base and bootstrap theme instead, for loading the views in
//! LuCI's real framework by hand (see the ignored test in luci_app.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};
use wsflowd::config::uci::{self, Package, Section, Value};

use crate::common::ubusd::{ubus_call, UbusError};

/// libuci's name of an anonymous section (`cfg` + the section's number
/// in the package + a hash of its type and options), as `uci show` and
/// rpcd give it.
fn libuci_name(number: usize, section: &Section) -> String {
    fn djb(mut hash: u32, text: &str) -> u32 {
        if hash == !0 {
            hash = 5381;
        }
        for &b in text.as_bytes() {
            hash = (hash << 5).wrapping_add(hash).wrapping_add(b as i8 as u32);
        }
        hash & 0x7FFF_FFFF
    }
    let mut hash = djb(!0, &section.kind);
    for o in &section.options {
        hash = djb(hash, &o.name);
        if let Value::Single(v) = &o.value {
            hash = djb(hash, v);
        }
    }
    format!("cfg{:02x}{:04x}", number & 0xff, hash % (1 << 16))
}

/// The package being edited: the file's sections with rpcd's section IDs,
/// and the staged changes as `uci changes` lists them.
#[derive(Clone)]
struct Working {
    package: Package,
    ids: Vec<String>,
    changes: Vec<Json>,
    added: usize,
}

impl Working {
    fn load(path: &Path) -> Working {
        let text = std::fs::read(path).unwrap_or_default();
        let package = uci::parse(&text).unwrap_or_default();
        let ids = package
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| s.name.clone().unwrap_or_else(|| libuci_name(i + 1, s)))
            .collect();
        Working {
            package,
            ids,
            changes: Vec::new(),
            added: 0,
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| i == id)
    }

    /// What `uci get` returns: `{ values: { ID: { .anonymous, .type, .name, .index, options... } } }`.
    fn values(&self) -> Json {
        let mut values = Map::new();
        for (index, (s, id)) in self.package.sections.iter().zip(&self.ids).enumerate() {
            let mut v = Map::new();
            v.insert(".anonymous".into(), json!(s.name.is_none()));
            v.insert(".type".into(), json!(s.kind));
            v.insert(".name".into(), json!(id));
            v.insert(".index".into(), json!(index));
            for o in &s.options {
                let value = match &o.value {
                    Value::Single(x) => json!(x),
                    Value::List(items) => json!(items),
                };
                v.insert(o.name.clone(), value);
            }
            values.insert(id.clone(), Json::Object(v));
        }
        json!({ "values": values })
    }

    fn set_values(&mut self, at: usize, values: &Map<String, Json>) -> bool {
        for (name, value) in values {
            let value = match value {
                Json::String(s) => Value::Single(s.clone()),
                Json::Number(n) => Value::Single(n.to_string()),
                Json::Bool(b) => Value::Single(if *b { "1" } else { "0" }.into()),
                Json::Array(items) => {
                    let items: Vec<String> = items
                        .iter()
                        .map(|i| match i {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    if items.is_empty() {
                        self.package.sections[at].unset(name);
                        continue;
                    }
                    Value::List(items)
                }
                _ => return false,
            };
            self.changes
                .push(json!(["set", self.ids[at], name, value_json(&value)]));
            self.package.sections[at].set(name, value);
        }
        true
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Single(s) => json!(s),
        Value::List(items) => json!(items),
    }
}

/// What the page did, for the tests.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    /// Every ubus call as "object.method".
    pub calls: Vec<String>,
    /// uci calls that change something (add, set, delete, order).
    pub uci_writes: Vec<String>,
    /// Completed "Save & Apply"s (the file written, the agent told).
    pub applies: usize,
    /// The last `wsflowd status` reply sent to the page.
    pub last_status: Option<Json>,
}

pub struct Settings {
    /// The UCI file the page edits.
    pub config: PathBuf,
    /// ubusd's socket, for `wsflowd status`.
    pub ubus_socket: PathBuf,
    /// The agent to reload with SIGHUP on apply (procd's reload).
    pub agent_pid: Option<u32>,
    /// The network namespace whose devices `getNetworkDevices` lists; the
    /// host's when `None`.
    pub netns: Option<String>,
    /// `getNetworkDevices`' reply instead of the namespace's devices.
    pub devices: Option<Json>,
    /// A LuCI source tree whose luci-base and bootstrap theme serve
    /// `/luci-static/`: the real framework instead of the shim.
    pub luci_root: Option<PathBuf>,
}

struct State {
    settings: Settings,
    working: Option<Working>,
    journal: Journal,
    /// Serve this status instead of asking the agent.
    frozen_status: Option<Json>,
}

pub struct LuciServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl LuciServer {
    pub fn start(settings: Settings) -> LuciServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test server");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(Mutex::new(State {
            settings,
            working: None,
            journal: Journal::default(),
            frozen_status: None,
        }));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        thread::spawn(move || {
            while !sp.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let st = st.clone();
                        thread::spawn(move || {
                            let _ = handle(stream, &st);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        LuciServer { port, state, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn journal(&self) -> Journal {
        self.state.lock().unwrap().journal.clone()
    }

    /// The package as staged (what `uci commit` would write), once the page
    /// has read it.
    pub fn staged_text(&self) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.working
            .as_ref()
            .map(|w| uci::export(&w.package, None).expect("a package that can be written"))
    }

    /// Whether changes are staged (`uci changes` is not empty).
    pub fn staged(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .working
            .as_ref()
            .is_some_and(|w| !w.changes.is_empty())
    }

    /// Serves the last status reply from now on (or asks the agent again).
    pub fn freeze_status(&self, on: bool) -> Option<Json> {
        let mut st = self.state.lock().unwrap();
        st.frozen_status = if on {
            st.journal.last_status.clone()
        } else {
            None
        };
        st.frozen_status.clone()
    }

    pub fn set_agent_pid(&self, pid: Option<u32>) {
        self.state.lock().unwrap().settings.agent_pid = pid;
    }
}

impl Drop for LuciServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let path = match target.split_once('?') {
        Some((p, _)) => p.to_owned(),
        None => target,
    };
    Some(Request { method, path, body })
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" => "application/javascript",
        "css" => "text/css",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `root`, refusing paths that leave it.
fn file_under(root: &Path, rel: &str) -> Option<PathBuf> {
    if rel.split('/').any(|p| p == ".." || p.contains('\\')) {
        return None;
    }
    let path = root.join(rel.trim_start_matches('/'));
    path.is_file().then_some(path)
}

fn static_file(state: &Mutex<State>, path: &str) -> Option<PathBuf> {
    let app = repo().join("luci-app-wsflowd/htdocs");
    let luci_root = state.lock().unwrap().settings.luci_root.clone();
    if let Some(rel) = path.strip_prefix("/luci-static/resources/view/wsflowd/") {
        return file_under(&app.join("luci-static/resources/view/wsflowd"), rel);
    }
    if let Some(root) = luci_root {
        if let Some(rel) = path.strip_prefix("/luci-static/") {
            return file_under(&root.join("modules/luci-base/htdocs/luci-static"), rel).or_else(
                || {
                    file_under(
                        &root.join("themes/luci-theme-bootstrap/htdocs/luci-static"),
                        rel,
                    )
                },
            );
        }
        if path == "/" || path == "/real.html" {
            return file_under(&repo().join("tests/luci"), "real.html");
        }
    }
    if path == "/" || path == "/index.html" {
        return file_under(&repo().join("tests/luci"), "index.html");
    }
    if let Some(rel) = path.strip_prefix("/shim/") {
        return file_under(&repo().join("tests/luci/shim"), rel);
    }
    None
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let Some(req) = read_request(&mut stream) else {
        return Ok(());
    };
    if req.method == "GET" {
        if let Some(file) = static_file(state, &req.path) {
            let body = std::fs::read(&file)?;
            return respond(
                &mut stream,
                "200 OK",
                content_type(&file.to_string_lossy()),
                &body,
            );
        }
        if req.path == "/cgi-bin/luci/admin/menu" {
            let body = menu_json();
            return respond(&mut stream, "200 OK", "application/json", body.as_bytes());
        }
        return respond(&mut stream, "404 Not Found", "text/plain", b"not found");
    }
    let path = req.path.trim_end_matches('/');
    if let Some(rest) = path.strip_prefix("/cgi-bin/luci/admin/ubus") {
        let _ = rest; // "/object.method;..." names the calls, for logs only
        let body: Json = match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(_) => {
                let e = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
                return respond(
                    &mut stream,
                    "200 OK",
                    "application/json",
                    e.to_string().as_bytes(),
                );
            }
        };
        let reply = match body {
            Json::Array(calls) => Json::Array(calls.iter().map(|c| jsonrpc(state, c)).collect()),
            call => jsonrpc(state, &call),
        };
        return respond(
            &mut stream,
            "200 OK",
            "application/json",
            reply.to_string().as_bytes(),
        );
    }
    match path {
        "/cgi-bin/luci/admin/uci/apply_rollback" | "/cgi-bin/luci/admin/uci/apply_unchecked" => {
            let rollback = path.ends_with("rollback");
            if !apply(state) {
                return respond(&mut stream, "204 No Content", "text/plain", b"");
            }
            if rollback {
                let token = json!({ "token": "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" });
                respond(
                    &mut stream,
                    "200 OK",
                    "application/json",
                    token.to_string().as_bytes(),
                )
            } else {
                respond(&mut stream, "204 No Content", "text/plain", b"")
            }
        }
        "/cgi-bin/luci/admin/uci/confirm" => {
            respond(&mut stream, "200 OK", "application/json", b"{}")
        }
        "/cgi-bin/luci/admin/uci/revert" => {
            state.lock().unwrap().working = None;
            respond(&mut stream, "200 OK", "application/json", b"{}")
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found"),
    }
}

/// The app's menu entries, as the router's `admin/menu` serves them (only
/// what the by-hand check's bootstrap theme needs).
fn menu_json() -> String {
    let file = repo().join("luci-app-wsflowd/root/usr/share/luci/menu.d/luci-app-wsflowd.json");
    let app: Json = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let child = |name: &str| {
        let e = &app[format!("admin/services/wsflowd/{name}")];
        json!({ "title": e["title"], "order": e["order"], "action": e["action"], "satisfied": true })
    };
    json!({
        "satisfied": true,
        "children": { "admin": { "title": "Administration", "satisfied": true, "children": {
            "services": { "title": "Services", "order": 40, "satisfied": true, "action": { "type": "firstchild" }, "children": {
                "wsflowd": { "title": "sFlow", "order": 90, "satisfied": true, "action": { "type": "firstchild" }, "children": {
                    "status": child("status"),
                    "settings": child("settings")
                } }
            } }
        } } }
    })
    .to_string()
}

/// Writes the staged package to the file as `uci commit` does and reloads
/// the agent as procd's reload trigger does; false if nothing was staged.
fn apply(state: &Mutex<State>) -> bool {
    let mut st = state.lock().unwrap();
    let Some(working) = st.working.take() else {
        return false;
    };
    if working.changes.is_empty() {
        return false;
    }
    let text = uci::export(&working.package, None).expect("a package that can be written");
    let path = st.settings.config.clone();
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, &text).unwrap();
    std::fs::rename(&temp, &path).unwrap();
    if let Some(pid) = st.settings.agent_pid {
        // procd_send_signal wsflowd '*' 1
        let _ = crate::common::os::kill(pid, libc::SIGHUP);
    }
    st.journal.applies += 1;
    true
}

fn ok(data: Json) -> Json {
    json!([0, data])
}

fn jsonrpc(state: &Mutex<State>, call: &Json) -> Json {
    let id = call.get("id").cloned().unwrap_or(Json::Null);
    let frame = |result: Result<Json, (i32, &str)>| match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
        Err((code, message)) => {
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
        }
    };
    if call.get("method").and_then(Json::as_str) == Some("list") {
        return frame(Ok(json!({})));
    }
    let params = call.get("params").and_then(Json::as_array);
    let Some([_sid, object, method, args]) = params.map(|p| &p[..]) else {
        return frame(Err((-32602, "Invalid params")));
    };
    let (object, method) = (object.as_str().unwrap_or(""), method.as_str().unwrap_or(""));
    let empty = Map::new();
    let args = args.as_object().unwrap_or(&empty);
    state
        .lock()
        .unwrap()
        .journal
        .calls
        .push(format!("{object}.{method}"));
    frame(ubus(state, object, method, args))
}

fn ubus(
    state: &Mutex<State>,
    object: &str,
    method: &str,
    args: &Map<String, Json>,
) -> Result<Json, (i32, &'static str)> {
    const NOT_FOUND: (i32, &str) = (-32000, "Object not found");
    match (object, method) {
        ("uci", _) => Ok(uci_call(state, method, args)),
        ("wsflowd", "status") => {
            let (socket, frozen) = {
                let st = state.lock().unwrap();
                (st.settings.ubus_socket.clone(), st.frozen_status.clone())
            };
            let reply = match frozen {
                Some(s) => Ok(s),
                None => ubus_call(&socket, "wsflowd", "status"),
            };
            match reply {
                Ok(status) => {
                    state.lock().unwrap().journal.last_status = Some(status.clone());
                    Ok(ok(status))
                }
                Err(UbusError::NotFound) => Err(NOT_FOUND),
                Err(UbusError::Status(code)) => Ok(json!([code])),
                Err(UbusError::Timeout) => Ok(json!([7])),
            }
        }
        ("luci-rpc", "getNetworkDevices") => {
            let (netns, devices) = {
                let st = state.lock().unwrap();
                (st.settings.netns.clone(), st.settings.devices.clone())
            };
            Ok(ok(
                devices.unwrap_or_else(|| network_devices(netns.as_deref()))
            ))
        }
        ("luci-rpc", "getWirelessDevices") => Ok(ok(json!({
            "radio0": {
                "up": true,
                "pending": false,
                "autostart": true,
                "disabled": false,
                "config": { "band": "5g", "channel": "36" },
                "interfaces": [ {
                    "section": "default_radio0",
                    "ifname": "wlan0",
                    "config": { "mode": "ap", "ssid": "wsflowd-lab", "network": [ "lan" ] }
                } ]
            }
        }))),
        ("luci-rpc", "getBoardJSON") => Ok(ok(json!({}))),
        ("luci-rpc", "getHostHints") => Ok(ok(json!({}))),
        ("network.interface", "dump") => Ok(ok(json!({ "interface": [] }))),
        ("network", "get_proto_handlers") => Ok(ok(json!({}))),
        ("session", "access") => Ok(ok(json!({ "access": true }))),
        ("luci", "getFeatures") => Ok(ok(json!({}))),
        ("luci", "getLocaltime") => Ok(ok(json!({ "result": 0 }))),
        _ => Err(NOT_FOUND),
    }
}

fn uci_call(state: &Mutex<State>, method: &str, args: &Map<String, Json>) -> Json {
    let mut st = state.lock().unwrap();
    let config = args.get("config").and_then(Json::as_str).unwrap_or("");
    if !matches!(method, "changes" | "apply" | "confirm" | "rollback") && config != "wsflowd" {
        // Only the wsflowd package exists here (as network and wireless
        // do not): rpcd's NOT_FOUND.
        return json!([4]);
    }
    if st.working.is_none() {
        st.working = Some(Working::load(&st.settings.config));
    }
    let section_arg = args
        .get("section")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let mut log = None;
    let working = st.working.as_mut().unwrap();
    let reply = match method {
        "get" => ok(working.values()),
        "changes" => {
            let changes = if working.changes.is_empty() {
                json!({})
            } else {
                json!({ "wsflowd": working.changes })
            };
            ok(json!({ "changes": changes }))
        }
        "add" => {
            let kind = args.get("type").and_then(Json::as_str).unwrap_or("");
            let name = args
                .get("name")
                .and_then(Json::as_str)
                .filter(|n| !n.is_empty());
            if let Some(n) = name {
                if working.position(n).is_some() {
                    return json!([3]);
                }
            }
            working.package.sections.push(Section::new(kind, name));
            working.added += 1;
            let id = name.map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "cfg{:02x}{:04x}",
                    working.package.sections.len() & 0xff,
                    0xf000 + working.added
                )
            });
            working.ids.push(id.clone());
            working.package.renumber();
            let at = working.ids.len() - 1;
            working.changes.push(json!(["add", id, kind]));
            let values = args
                .get("values")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
            working.set_values(at, &values);
            log = Some(format!("add {kind} {id} {}", Json::Object(values)));
            ok(json!({ "section": id }))
        }
        "set" => match working.position(&section_arg) {
            Some(at) => {
                let values = args
                    .get("values")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default();
                working.set_values(at, &values);
                log = Some(format!("set {section_arg} {}", Json::Object(values)));
                json!([0])
            }
            None => json!([4]),
        },
        "delete" => match working.position(&section_arg) {
            Some(at) => {
                let mut options: Vec<String> = args
                    .get("options")
                    .and_then(Json::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|o| o.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(o) = args.get("option").and_then(Json::as_str) {
                    options.push(o.to_owned());
                }
                if options.is_empty() {
                    working.package.sections.remove(at);
                    working.ids.remove(at);
                    working.package.renumber();
                    working.changes.push(json!(["remove", section_arg]));
                } else {
                    for o in &options {
                        working.package.sections[at].unset(o);
                        working.changes.push(json!(["remove", section_arg, o]));
                    }
                }
                log = Some(format!("delete {section_arg} {options:?}"));
                json!([0])
            }
            None => json!([4]),
        },
        "order" => {
            let order: Vec<String> = args
                .get("sections")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut pairs: Vec<(String, Section)> = working
                .ids
                .drain(..)
                .zip(working.package.sections.drain(..))
                .collect();
            pairs.sort_by_key(|(id, _)| order.iter().position(|o| o == id).unwrap_or(usize::MAX));
            for (id, s) in pairs {
                working.ids.push(id);
                working.package.sections.push(s);
            }
            working.package.renumber();
            working.changes.push(json!(["order", order]));
            log = Some(format!("order {order:?}"));
            json!([0])
        }
        "revert" => {
            st.working = None;
            return json!([0]);
        }
        _ => json!([0]),
    };
    if let Some(l) = log {
        st.journal.uci_writes.push(l);
    }
    reply
}

/// `luci-rpc getNetworkDevices`: name, link type, state and MAC address of
/// every device of the namespace (the host's when `None`).
fn network_devices(netns: Option<&str>) -> Json {
    // '|'-separated: a monitor interface has no address.
    let script = "for d in /sys/class/net/*; do echo \"${d##*/}|$(cat $d/type)|$(cat $d/operstate)|$(cat $d/address)|$(cat $d/mtu)\"; done";
    let out = match netns {
        Some(ns) => Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c", script])
            .output(),
        None => Command::new("sh").args(["-c", script]).output(),
    };
    let mut devices = Map::new();
    if let Ok(out) = out {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split('|').collect();
            if let [name, kind, operstate, mac, mtu] = f[..] {
                let kind: u32 = kind.parse().unwrap_or(0);
                let devtype = if kind == 803 || name.starts_with("wlan") {
                    "wlan"
                } else {
                    "ethernet"
                };
                devices.insert(
                    name.to_owned(),
                    json!({
                        "name": name,
                        "type": kind,
                        "up": operstate == "up" || operstate == "unknown",
                        "devtype": devtype,
                        "mac": mac,
                        "mtu": mtu.parse::<u32>().unwrap_or(0),
                        "flags": { "up": operstate != "down" },
                        "stats": {}
                    }),
                );
            }
        }
    }
    Json::Object(devices)
}
