//! A ubusd broker for tests: the pure-Rust `ubusd` from crates.io
//! (`cargo install ubusd --version 0.5.0 --locked`, which `make test`
//! does), found through `WSFLOWD_UBUSD`, on PATH or in `~/.cargo/bin`.
//! `WSFLOWD_UBUSD` may name the C ubusd built from openwrt/ubus instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value as Json};
use std::time::{Duration, Instant};
use wsflowd::ubus::blob::{to_json, BlobBuf};
use wsflowd::ubus::client::{Connection, Event};
use wsflowd::ubus::message::ObjectInfo;

use super::TempDir;

pub fn find_ubusd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WSFLOWD_UBUSD") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("ubusd"));
    let in_cargo = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/ubusd"));
    on_path.chain(in_cargo).find(|p| p.is_file())
}

/// A broker on a socket of its own, killed on drop.
pub struct Broker {
    child: Child,
    pub dir: PathBuf,
    /// Removes `dir` when the broker is dropped (not when it restarts).
    tmp: Option<TempDir>,
    pub socket: PathBuf,
    binary: PathBuf,
    acl: Option<PathBuf>,
}

impl Broker {
    /// Starts a broker, or says why the test is skipped (`None`); fails
    /// instead when `WSFLOWD_REQUIRE_TOOLS=1`.
    pub fn start_or_skip(test: &str) -> Option<Broker> {
        Broker::start_with_acl_or_skip(test, None)
    }

    /// Like [`Broker::start_or_skip`], with the ACL files of `acl_dir`
    /// (ubusd's `-A`; like the C ubusd it then checks what users other
    /// than root may look up, call, subscribe to and publish).
    pub fn start_with_acl_or_skip(test: &str, acl_dir: Option<&Path>) -> Option<Broker> {
        let Some(binary) = find_ubusd() else {
            if std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref() == Ok("1") {
                panic!("{test}: ubusd not found (cargo install ubusd --version 0.5.0 --locked)");
            }
            eprintln!(
                "{test}: skipped (ubusd not found; cargo install ubusd --version 0.5.0 --locked)"
            );
            return None;
        };
        let tmp = TempDir::new("ubus");
        let socket = tmp.path().join("ubus.sock");
        let acl = acl_dir.map(Path::to_path_buf);
        Some(Broker::spawn(binary, tmp, socket, acl))
    }

    fn spawn(binary: PathBuf, tmp: TempDir, socket: PathBuf, acl: Option<PathBuf>) -> Broker {
        let _ = std::fs::remove_file(&socket);
        let mut command = Command::new(&binary);
        if let Some(acl) = &acl {
            command.arg("-A").arg(acl);
        }
        let child = command
            .arg("-s")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let broker = Broker {
            child,
            dir: tmp.path().to_path_buf(),
            tmp: Some(tmp),
            socket,
            binary,
            acl,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::os::unix::net::UnixStream::connect(&broker.socket).is_err() {
            assert!(Instant::now() < deadline, "ubusd did not start listening");
            std::thread::sleep(Duration::from_millis(10));
        }
        broker
    }

    /// Kills the broker at once (SIGKILL: no goodbye on the sockets).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new broker on the same socket path.
    pub fn restart(mut self) -> Broker {
        self.kill();
        let tmp = self.tmp.take().expect("a running broker has its directory");
        Broker::spawn(
            self.binary.clone(),
            tmp,
            self.socket.clone(),
            self.acl.take(),
        )
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // Before `tmp` goes: the broker's socket is in it.
        self.kill();
    }
}

/// Why a ubus call gave no data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UbusError {
    /// No such object (the broker's lookup found none, or no broker).
    NotFound,
    /// The call ended with this status and no data.
    Status(i32),
    Timeout,
}

/// `ubus call PATH METHOD` through our ubus client: the reply as JSON.
pub fn ubus_call(socket: &Path, path: &str, method: &str) -> Result<Json, UbusError> {
    let Ok(mut c) = Connection::connect(socket) else {
        return Err(UbusError::NotFound);
    };
    let lookup = c.lookup(Some(path)).map_err(|_| UbusError::NotFound)?;
    let (mut id, mut call, mut reply, mut ended) = (None, None, None, None);
    let end = Instant::now() + Duration::from_secs(5);
    while ended.is_none() && Instant::now() < end {
        let _ = c.flush();
        let _ = wsflowd::sys::poll(&mut [wsflowd::sys::pollfd(c.fd(), c.poll_events())], 100);
        let mut found = None;
        let mut lookup_status = None;
        let read = c.read(|e| match e {
            Event::Data {
                seq, attrs, data, ..
            } => {
                if seq == lookup {
                    if let Ok(Some(info)) = ObjectInfo::parse(attrs) {
                        found = Some(info.id);
                    }
                } else if Some(seq) == call {
                    let mut text = String::new();
                    if let Some(d) = data {
                        if to_json(d, &mut text).is_ok() {
                            reply = Some(text);
                        }
                    }
                }
            }
            Event::Status { seq, status, .. } if seq == lookup => lookup_status = Some(status),
            Event::Status { seq, status, .. } if Some(seq) == call => ended = Some(status),
            _ => {}
        });
        if read.is_err() {
            return Err(UbusError::NotFound);
        }
        if let (Some(f), None) = (found, id) {
            id = Some(f);
            call = Some(
                c.invoke(f, method, BlobBuf::new().payload())
                    .map_err(|_| UbusError::NotFound)?,
            );
        } else if id.is_none() && lookup_status.is_some() {
            return Err(UbusError::NotFound);
        }
    }
    match (reply, ended) {
        (Some(text), Some(0)) => Ok(serde_json::from_str(&text).expect("ubus reply is JSON")),
        (None, Some(0)) => Ok(json!({})),
        (_, Some(code)) => Err(UbusError::Status(code)),
        _ => Err(UbusError::Timeout),
    }
}
