//! Debian's real Prometheus server for tests, and a minimal HTTP client.
//!
//! The server gets its own temporary directory (configuration, TSDB), a
//! loopback port and a 1-second scrape interval; it is killed on drop.
//! Queries go through its HTTP API (`/api/v1/query`), from inside the
//! network namespace it runs in.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{Netns, TempDir};

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET http://{addr}{path}` (HTTP/1.1, `Connection: close`), in the
/// calling thread's namespace.
pub fn http_request(
    method: &str,
    addr: &str,
    path: &str,
    accept: Option<&str>,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(a) = accept {
        request.push_str(&format!("Accept: {a}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: body.to_string(),
    })
}

pub fn http_get(addr: &str, path: &str, accept: Option<&str>) -> std::io::Result<Response> {
    http_request("GET", addr, path, accept)
}

/// Percent-encodes a query string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A free TCP port on 127.0.0.1 of the calling thread's namespace.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `f` on a thread in the namespace called `name`, and waits for it.
pub fn in_namespace<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{name}");
    thread::spawn(move || {
        let ns = File::open(&path).expect("namespace file");
        super::os::enter_netns(&ns).unwrap_or_else(|e| panic!("setns: {e}"));
        f()
    })
    .join()
    .unwrap()
}

/// `wsflowd collect` as a child process (in a namespace, if given), killed
/// on drop; its stdout and stderr lines are collected.
pub struct CollectProcess {
    child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// The UDP address it listens on.
    pub sflow: String,
    /// The address of its /metrics, with --prometheus.
    pub metrics: Option<String>,
}

impl CollectProcess {
    pub fn start(ns: Option<&Netns>, args: &[&str]) -> CollectProcess {
        let program = super::wsflowd();
        let mut command = match ns {
            Some(ns) => ns.command(program.to_str().unwrap()),
            None => Command::new(&program),
        };
        let mut child = command
            .arg("collect")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wsflowd collect");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        for (pipe, sink, tag) in [
            (
                Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
                stdout.clone(),
                "",
            ),
            (
                Box::new(child.stderr.take().unwrap()),
                stderr.clone(),
                "collect: ",
            ),
        ] {
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if !tag.is_empty() {
                        eprintln!("{tag}{line}");
                    }
                    sink.lock().unwrap().push(line);
                }
            });
        }
        let mut c = CollectProcess {
            child,
            stdout,
            stderr,
            sflow: String::new(),
            metrics: None,
        };
        let wants_metrics = args.contains(&"--prometheus");
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            for line in c.stderr.lock().unwrap().iter() {
                if let Some(a) = line.strip_prefix("wsflowd collect: listening on ") {
                    c.sflow = a.to_string();
                }
                if let Some(a) = line.split("metrics at http://").nth(1) {
                    c.metrics = a.strip_suffix("/metrics").map(str::to_string);
                }
            }
            if !c.sflow.is_empty() && (c.metrics.is_some() || !wants_metrics) {
                return c;
            }
            if let Ok(Some(status)) = c.child.try_wait() {
                panic!(
                    "wsflowd collect exited: {status}: {:?}",
                    c.stderr.lock().unwrap()
                );
            }
            assert!(Instant::now() < end, "wsflowd collect did not start");
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }
}

impl Drop for CollectProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running Prometheus server.
pub struct Prometheus {
    child: Child,
    pub dir: TempDir,
    pub addr: String,
    ns: Option<String>,
}

impl Prometheus {
    /// Starts Prometheus (in `ns`, if given) on 127.0.0.1:`port`, scraping
    /// `targets` every second as job `wsflowd`; waits until it is ready.
    pub fn start(ns: Option<&Netns>, port: u16, targets: &[String]) -> Prometheus {
        let dir = TempDir::new("prometheus");
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: wsflowd\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut command = match ns {
            Some(ns) => ns.command("prometheus"),
            None => Command::new("prometheus"),
        };
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("prometheus.log")).unwrap(),
            ));
        let child = command.spawn().expect("start prometheus");
        let p = Prometheus {
            child,
            dir,
            addr,
            ns: ns.map(|n| n.name.clone()),
        };
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if p.get("/-/ready").is_ok_and(|r| r.status == 200) {
                break;
            }
            assert!(
                Instant::now() < end,
                "prometheus did not become ready: {}",
                p.log()
            );
            thread::sleep(Duration::from_millis(100));
        }
        p
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// A GET to the server, from its namespace.
    pub fn get(&self, path: &str) -> std::io::Result<Response> {
        let (addr, path) = (self.addr.clone(), path.to_string());
        match &self.ns {
            Some(ns) => in_namespace(ns, move || http_get(&addr, &path, None)),
            None => http_get(&addr, &path, None),
        }
    }

    /// An instant query: the result vector as (labels, value) pairs.
    pub fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let r = self
            .get(&format!("/api/v1/query?query={}", url_encode(promql)))
            .expect("query prometheus");
        let v: serde_json::Value =
            serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{promql}: {e}: {}", r.body));
        assert_eq!(v["status"], "success", "{promql}: {}", r.body);
        let result = &v["data"]["result"];
        match v["data"]["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["metric"].clone(),
                        s["value"][1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect(),
            Some("scalar") => vec![(
                serde_json::Value::Null,
                result[1].as_str().unwrap().parse().unwrap(),
            )],
            other => panic!("{promql}: result type {other:?}"),
        }
    }

    /// The single value of a query, waiting up to `timeout` until there is
    /// one that `ok` accepts; the last value (or None) otherwise.
    pub fn wait_value(
        &self,
        promql: &str,
        timeout: Duration,
        ok: impl Fn(f64) -> bool,
    ) -> Option<f64> {
        let end = Instant::now() + timeout;
        let mut last = None;
        loop {
            let r = self.query(promql);
            if r.len() == 1 {
                last = Some(r[0].1);
                if ok(r[0].1) {
                    return last;
                }
            }
            if Instant::now() > end {
                return last;
            }
            thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Prometheus {
    /// Waits until a single-valued query gives the same value twice,
    /// `apart` apart (or `timeout`); returns it.
    pub fn wait_stable(&self, promql: &str, apart: Duration, timeout: Duration) -> f64 {
        let end = Instant::now() + timeout;
        let mut last: Option<f64> = None;
        loop {
            let r = self.query(promql);
            let now = (r.len() == 1).then(|| r[0].1);
            if let (Some(v), true) = (now, now == last) {
                return v;
            }
            assert!(
                Instant::now() < end,
                "{promql}: not stable ({last:?}, {now:?})"
            );
            last = now;
            thread::sleep(apart);
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
