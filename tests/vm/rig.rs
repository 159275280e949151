//! The VM of the Wi-Fi test rig: boots it once per test process with the
//! selected scenarios, and gives each scenario's outputs to the checks.
//!
//! The image (kernel + initramfs from Debian packages) is built by
//! `scripts/vm/build_image.py`; `make vm-test` builds it and runs this test
//! with `WSFLOWD_VM_IMAGE` set. The host shares one directory with the guest
//! over virtio-9p (`target/vm/run/`): the agent binary, the guest scripts
//! (`tests/vm/guest/`, `tests/vm/scenarios/`) and `run.list` go in, and
//! `out/<scenario>/` comes back (see `tests/vm/guest/lib.sh`). The guest's
//! console is kept in `console.log` there, and progress markers on it
//! ("WSFLOWD-VM: ...") are timed on the host.
//!
//! Environment:
//! - `WSFLOWD_VM_IMAGE`: the image directory (vmlinuz, initramfs.cpio);
//!   unset: the VM tests are skipped (they fail instead under
//!   `WSFLOWD_VM_REQUIRE=1`, which `make vm-test` sets).
//! - `WSFLOWD_VM_AGENT`: the agent binary (default `dist/x86_64/wsflowd`,
//!   the static musl build that `make cross-x86_64` ships).
//! - `WSFLOWD_VM_ACCEL`: `kvm`, `tcg` or `auto` (default): KVM when
//!   /dev/kvm opens and the CPU has vmx/svm, with a fall-back to TCG if
//!   the guest shows no sign of life within 30 s.
//! - `WSFLOWD_VM_SCENARIOS`: a comma-separated subset of the scenarios.
//! - `WSFLOWD_VM_SHARE`: the shared directory (default `target/vm/run`),
//!   emptied at the start and kept afterwards for inspection.
//! - `WSFLOWD_VM_REUSE=DIR`: do not boot; check the outputs of an earlier
//!   run kept in DIR (its `out/`), e.g. `target/vm/run`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// A scenario: a script `tests/vm/scenarios/<name>.sh` run in the guest,
/// killed after `guest_seconds`.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub guest_seconds: u32,
}

/// One boot of the VM and what came back.
#[derive(Debug)]
pub struct VmRun {
    pub share: PathBuf,
    pub console: String,
    pub accel: String,
    /// Host seconds from starting qemu to each console marker.
    pub markers: Vec<(f64, String)>,
    /// Host seconds from starting qemu to the kernel's start (the init
    /// marker's time minus the guest uptime it reports).
    pub kernel_start: f64,
    pub wall_seconds: f64,
    /// Why the run as a whole failed (qemu missing, no boot, time out).
    pub failure: Option<String>,
    pub selected: Vec<&'static str>,
}

static RUN: OnceLock<Option<VmRun>> = OnceLock::new();

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The run, booting the VM the first time it is asked for; `None` when
/// the VM tests are not enabled (a message says so).
pub fn vm_run(scenarios: &[Scenario]) -> Option<&'static VmRun> {
    RUN.get_or_init(|| boot_or_reuse(scenarios)).as_ref()
}

fn selected(scenarios: &[Scenario]) -> Vec<Scenario> {
    match std::env::var("WSFLOWD_VM_SCENARIOS") {
        Ok(list) if !list.trim().is_empty() => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            for w in &wanted {
                assert!(
                    scenarios.iter().any(|s| s.name == *w),
                    "WSFLOWD_VM_SCENARIOS names an unknown scenario {w:?}"
                );
            }
            scenarios
                .iter()
                .filter(|s| wanted.contains(&s.name))
                .copied()
                .collect()
        }
        _ => scenarios.to_vec(),
    }
}

fn boot_or_reuse(scenarios: &[Scenario]) -> Option<VmRun> {
    let chosen = selected(scenarios);
    let names: Vec<&'static str> = chosen.iter().map(|s| s.name).collect();
    if let Ok(dir) = std::env::var("WSFLOWD_VM_REUSE") {
        let share = PathBuf::from(dir);
        let console = fs::read_to_string(share.join("console.log")).unwrap_or_default();
        eprintln!("vm: checking the outputs kept in {}", share.display());
        return Some(VmRun {
            share,
            console,
            accel: "reused".into(),
            markers: Vec::new(),
            kernel_start: 0.0,
            wall_seconds: 0.0,
            failure: None,
            selected: names,
        });
    }
    let image = match std::env::var("WSFLOWD_VM_IMAGE") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            if std::env::var("WSFLOWD_VM_REQUIRE").as_deref() == Ok("1") {
                panic!("WSFLOWD_VM_REQUIRE=1 but WSFLOWD_VM_IMAGE is not set: run `make vm-test`");
            }
            eprintln!("vm: skipped (run `make vm-test`, which builds the image and sets WSFLOWD_VM_IMAGE)");
            return None;
        }
    };
    Some(boot(&image, &chosen))
}

fn prepare_share(share: &Path, agent: &Path, scenarios: &[Scenario]) -> std::io::Result<()> {
    let _ = fs::remove_dir_all(share);
    fs::create_dir_all(share.join("out"))?;
    let src = repo().join("tests/vm");
    fs::create_dir_all(share.join("guest/scenarios"))?;
    for entry in fs::read_dir(src.join("guest"))? {
        let entry = entry?;
        fs::copy(entry.path(), share.join("guest").join(entry.file_name()))?;
    }
    for s in scenarios {
        let name = format!("{}.sh", s.name);
        fs::copy(
            src.join("scenarios").join(&name),
            share.join("guest/scenarios").join(&name),
        )?;
    }
    fs::copy(agent, share.join("wsflowd"))?;
    let list: String = scenarios
        .iter()
        .map(|s| format!("{} {}\n", s.name, s.guest_seconds))
        .collect();
    fs::write(share.join("run.list"), list)
}

/// Whether KVM can be tried: /dev/kvm opens read-write and the CPU says it
/// has hardware virtualization (on these machines /dev/kvm exists but is a
/// paravirtual device without vmx/svm, under which the guest hangs).
fn kvm_plausible() -> bool {
    let opens = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    let flags = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    opens
        && flags
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

struct Attempt {
    console: String,
    markers: Vec<(f64, String)>,
    outcome: Result<(), String>,
    wall: f64,
}

/// Runs qemu once. `alive_within`: kill it if no init marker comes in that
/// time (the KVM probe); `deadline`: kill it after that long in any case.
fn run_qemu(
    image: &Path,
    share: &Path,
    accel: &str,
    alive_within: Option<Duration>,
    deadline: Duration,
) -> Attempt {
    let accel_args: Vec<&str> = match accel {
        "kvm" => vec!["-accel", "kvm", "-cpu", "host"],
        _ => vec!["-accel", "tcg,thread=multi", "-cpu", "max"],
    };
    let virtfs = format!(
        "local,path={},mount_tag=share,security_model=none,id=share",
        share.display()
    );
    let start = Instant::now();
    let child = Command::new("qemu-system-x86_64")
        .args(&accel_args)
        .args(["-m", "1024", "-smp", "2", "-nographic", "-no-reboot"])
        // No network card: no iPXE ROM to load, nothing leaves the guest.
        .args(["-net", "none", "-monitor", "none", "-serial", "stdio"])
        .arg("-kernel")
        .arg(image.join("vmlinuz"))
        .arg("-initrd")
        .arg(image.join("initramfs.cpio"))
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .args(["-virtfs", &virtfs])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Attempt {
                console: String::new(),
                markers: Vec::new(),
                outcome: Err(format!(
                    "cannot run qemu-system-x86_64 ({e}): `make vm-test` installs qemu-system-x86"
                )),
                wall: 0.0,
            }
        }
    };
    let (tx, rx) = mpsc::channel::<(f64, String)>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                if tx.send((start.elapsed().as_secs_f64(), line)).is_err() {
                    break;
                }
                buf.clear();
            }
        });
    }
    drop(tx);
    let mut console = String::new();
    let mut markers = Vec::new();
    let outcome = loop {
        let now = start.elapsed();
        if now > deadline {
            break Err(format!(
                "the VM did not finish within {} s: killed",
                deadline.as_secs()
            ));
        }
        if let Some(limit) = alive_within {
            if now > limit && markers.is_empty() {
                break Err(format!(
                    "no sign of life from the guest within {} s",
                    limit.as_secs()
                ));
            }
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((t, line)) => {
                if let Some(m) = line.find("WSFLOWD-VM: ") {
                    let marker = line[m + 12..].to_string();
                    eprintln!("vm: {t:6.1} s  {marker}");
                    markers.push((t, marker));
                }
                console.push_str(&line);
                console.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Ok(()),
        }
        if let Ok(Some(_)) = child.try_wait() {
            // Drain what is left of the console.
            while let Ok((t, line)) = rx.recv_timeout(Duration::from_millis(500)) {
                if let Some(m) = line.find("WSFLOWD-VM: ") {
                    markers.push((t, line[m + 12..].to_string()));
                }
                console.push_str(&line);
                console.push('\n');
            }
            break Ok(());
        }
    };
    if outcome.is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
    let outcome = outcome.and_then(|()| {
        if markers.iter().any(|(_, m)| m.starts_with("done")) {
            Ok(())
        } else if let Some((_, m)) = markers.iter().find(|(_, m)| m.starts_with("fatal")) {
            Err(format!("the guest stopped: {m}"))
        } else {
            Err("qemu exited before the guest said it was done".into())
        }
    });
    Attempt {
        console,
        markers,
        outcome,
        wall: start.elapsed().as_secs_f64(),
    }
}

fn boot(image: &Path, scenarios: &[Scenario]) -> VmRun {
    let share = std::env::var("WSFLOWD_VM_SHARE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("target/vm/run"));
    // qemu wants an absolute path.
    let _ = fs::create_dir_all(&share);
    let share = share.canonicalize().unwrap_or(share);
    let agent = std::env::var("WSFLOWD_VM_AGENT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("dist/x86_64/wsflowd"));
    let names: Vec<&'static str> = scenarios.iter().map(|s| s.name).collect();
    let failed = |why: String| VmRun {
        share: share.clone(),
        console: String::new(),
        accel: String::new(),
        markers: Vec::new(),
        kernel_start: 0.0,
        wall_seconds: 0.0,
        failure: Some(why),
        selected: names.clone(),
    };
    for f in ["vmlinuz", "initramfs.cpio"] {
        if !image.join(f).is_file() {
            return failed(format!(
                "{} has no {f}: run scripts/vm/build_image.py",
                image.display()
            ));
        }
    }
    if !agent.is_file() {
        return failed(format!(
            "no agent binary at {} (make cross-x86_64)",
            agent.display()
        ));
    }
    if let Err(e) = prepare_share(&share, &agent, scenarios) {
        return failed(format!("cannot prepare {}: {e}", share.display()));
    }
    // The guest's scenarios are bounded by their own time limits; the
    // host's deadline adds the boot and some slack, so that qemu is killed
    // only if the guest itself is stuck.
    let deadline = Duration::from_secs(
        60 + scenarios
            .iter()
            .map(|s| u64::from(s.guest_seconds) + 10)
            .sum::<u64>(),
    );
    let wanted = std::env::var("WSFLOWD_VM_ACCEL").unwrap_or_else(|_| "auto".into());
    let mut accel = match wanted.as_str() {
        "kvm" => "kvm",
        "tcg" => "tcg",
        _ if kvm_plausible() => "kvm",
        _ => "tcg",
    };
    eprintln!(
        "vm: booting {} with {accel} (scenarios: {})",
        image.display(),
        names.join(", ")
    );
    let mut attempt = run_qemu(
        image,
        &share,
        accel,
        (accel == "kvm").then_some(Duration::from_secs(30)),
        deadline,
    );
    if accel == "kvm" && attempt.markers.is_empty() && wanted != "kvm" {
        eprintln!(
            "vm: KVM gave no sign of life ({}): TCG instead",
            attempt.outcome.as_ref().err().map_or("", |s| s.as_str())
        );
        accel = "tcg";
        if let Err(e) = prepare_share(&share, &agent, scenarios) {
            return failed(format!("cannot prepare {}: {e}", share.display()));
        }
        attempt = run_qemu(image, &share, accel, None, deadline);
    }
    let _ = fs::write(share.join("console.log"), &attempt.console);
    let kernel_start = attempt
        .markers
        .iter()
        .find(|(_, m)| m.starts_with("init"))
        .and_then(|(t, m)| Some(t - marker_uptime(m)?))
        .unwrap_or(0.0);
    VmRun {
        share,
        console: attempt.console,
        accel: accel.to_string(),
        markers: attempt.markers,
        kernel_start,
        wall_seconds: attempt.wall,
        failure: attempt.outcome.err(),
        selected: names,
    }
}

/// The `uptime=` a marker carries.
pub fn marker_uptime(marker: &str) -> Option<f64> {
    marker
        .split_whitespace()
        .find_map(|w| w.strip_prefix("uptime="))
        .and_then(|v| v.parse().ok())
}

impl VmRun {
    /// The outputs of one scenario, or why there are none (it was not
    /// selected, or the run failed before it).
    pub fn scenario(&self, name: &str) -> Result<ScenarioOut, String> {
        if !self.selected.contains(&name) {
            return Err(format!("{name} not selected (WSFLOWD_VM_SCENARIOS)"));
        }
        let dir = self.share.join("out").join(name);
        if !dir.is_dir() {
            return Err(format!(
                "no outputs for {name}: {}\n--- console ---\n{}",
                self.failure
                    .as_deref()
                    .unwrap_or("the guest did not run it"),
                tail(&self.console, 80)
            ));
        }
        Ok(ScenarioOut {
            name: name.to_string(),
            dir,
        })
    }

    /// Host seconds from qemu's start to the marker that starts with
    /// `prefix`.
    pub fn marker_time(&self, prefix: &str) -> Option<f64> {
        self.markers
            .iter()
            .find(|(_, m)| m.starts_with(prefix))
            .map(|(t, _)| *t)
    }
}

/// What one scenario left in the share.
#[derive(Debug, Clone)]
pub struct ScenarioOut {
    pub name: String,
    pub dir: PathBuf,
}

impl ScenarioOut {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// A text file of the scenario ("" if it is missing).
    pub fn text(&self, file: &str) -> String {
        fs::read(self.path(file))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    pub fn bytes(&self, file: &str) -> Vec<u8> {
        fs::read(self.path(file)).unwrap_or_default()
    }

    /// The scenario script's exit status in the guest (124/143: killed at
    /// its time limit).
    pub fn exit_code(&self) -> Option<i32> {
        self.text("exit").trim().parse().ok()
    }

    /// Every log the guest brought back, for a failure message: the
    /// agents', hostapd's, wpa_supplicant's, dmesg, the events and the end
    /// of the scenario's shell trace.
    pub fn logs(&self) -> String {
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        if let Ok(dir) = fs::read_dir(&self.dir) {
            for e in dir.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".log") || name == "dmesg.txt" {
                    files.insert(name, e.path());
                }
            }
        }
        let mut out = String::new();
        for (name, path) in &files {
            let text = String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned();
            let lines = match name.as_str() {
                "script.log" | "stations.log" | "facts.log" => 60,
                _ => 200,
            };
            out.push_str(&format!(
                "----- {}/{name} (last {lines} lines) -----\n{}\n",
                self.name,
                tail(&text, lines)
            ));
        }
        out
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
