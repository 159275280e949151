//! A small W3C WebDriver client (std::net and serde_json) driving Debian's
//! headless Chromium through chromedriver, for the LuCI page test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

/// Where Debian installs them (packages chromium and chromium-driver).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The browser's tools, or why a test is skipped; a failure instead when
/// `WSFLOWD_REQUIRE_TOOLS=1`.
pub fn tools_or_skip(test: &str) -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("WSFLOWD_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!(
            "{test}: {missing:?} missing (apt-get install chromium chromium-driver, or make deps)"
        );
    }
    eprintln!("{test}: skipped ({missing:?} missing: apt-get install chromium chromium-driver)");
    false
}

/// chromedriver with one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request to chromedriver; the JSON body of its answer.
fn http(port: u16, method: &str, path: &str, body: Option<&Json>) -> std::io::Result<(u16, Json)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    // chromedriver answers with a Content-Length (and may keep the
    // connection open): read the head, then that many bytes.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = String::from_utf8_lossy(&raw[head_end..]);
    let json = serde_json::from_str(body.trim()).unwrap_or(Json::Null);
    Ok((status, json))
}

impl Browser {
    pub fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let end = Instant::now() + Duration::from_secs(20);
        while http(port, "GET", "/status", None).is_err() {
            if Instant::now() > end {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile =
            std::env::temp_dir().join(format!("wsflowd-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        // Without the background-networking flags Chromium keeps trying
        // hosts this machine cannot reach.
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        } } });
        let reply = http(port, "POST", "/session", Some(&caps));
        let session = match reply
            .as_ref()
            .map(|(_, r)| r["value"]["sessionId"].as_str())
        {
            Ok(Some(id)) => id.to_owned(),
            _ => {
                let _ = driver.kill();
                let _ = driver.wait();
                let _ = std::fs::remove_dir_all(&profile);
                panic!("no browser session: {reply:?}");
            }
        };
        Browser {
            driver,
            port,
            session,
            profile,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Json>) -> Json {
        let path = format!("/session/{}{path}", self.session);
        let (status, reply) =
            http(self.port, method, &path, body.as_ref()).expect("chromedriver request");
        assert!(status == 200, "{method} {path}: {status} {reply}");
        reply["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
        let now = self.cmd("GET", "/url", None);
        assert_eq!(now.as_str(), Some(url), "navigation to {url}");
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub fn js(&self, script: &str, args: Json) -> Json {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Waits until `script` returns something true; returns it.
    pub fn wait(&self, what: &str, script: &str, timeout: Duration) -> Json {
        let end = Instant::now() + timeout;
        loop {
            let v = self.js(script, json!([]));
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            if Instant::now() > end {
                let page = self.js(
                    "return location.href + ' ' + document.documentElement.outerHTML.slice(0, 1500) + document.body.innerText.slice(0, 3000) + '\\n' + (window.__errors || []).join('\\n');",
                    json!([]),
                );
                panic!(
                    "timed out waiting for {what}; the page says:\n{}",
                    page.as_str().unwrap_or("")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A WebDriver element reference for a CSS selector (panics if none).
    pub fn find(&self, css: &str) -> Json {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_object()
            .and_then(|o| o.values().next().cloned())
            .unwrap_or_else(|| panic!("no element {css}"))
    }

    fn element(&self, css: &str, action: &str, body: Json) -> Json {
        let id = self.find(css);
        let id = id.as_str().unwrap();
        self.cmd("POST", &format!("/element/{id}/{action}"), Some(body))
    }

    /// Clicks the element as a user would (scrolled into view first).
    pub fn click(&self, css: &str) {
        self.element(css, "click", json!({}));
    }

    /// Replaces the text of an input, typing it key by key.
    pub fn type_into(&self, css: &str, text: &str) {
        self.element(css, "clear", json!({}));
        self.element(css, "value", json!({ "text": text }));
    }

    pub fn screenshot(&self, path: &Path) {
        let data = self.cmd("GET", "/screenshot", None);
        let bytes = base64_decode(data.as_str().expect("base64 PNG"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
