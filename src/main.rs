//! The `wsflowd` command: the agent, `--check-config` and (with the
//! `collect` feature, on by default but not in the OpenWrt builds) `collect`.

use std::path::PathBuf;
use std::process::ExitCode;

use wsflowd::agent::{self, Agent};
#[cfg(feature = "collect")]
use wsflowd::collect;
use wsflowd::log::{self, Level};
use wsflowd::{config, error};

const USAGE: &str = "\
Usage: wsflowd [-c PATH] [-f] [-l LEVEL]
       wsflowd --check-config [-c PATH]";

#[cfg(feature = "collect")]
const COLLECT_USAGE: &str = "
       wsflowd collect [--listen ADDR:PORT] [--json] [--count N] [--read FILE]
                       [--stations] [--prometheus ADDR:PORT [--prometheus-stations]]
                       [--max-agents N] [--max-series N] [--max-stations N]
                       [--agent-ttl SECONDS] [--station-ttl SECONDS]";
#[cfg(not(feature = "collect"))]
const COLLECT_USAGE: &str = "";

const DESCRIPTION: &str = "

sFlow v5 agent for OpenWrt Wi-Fi access points: samples frames on the
configured interfaces, polls interface and host counters, and sends sFlow
datagrams to the configured collectors, and with option dns_sd '1' to
those of the SRV records of _sflow._udp.DOMAIN too (DNS-SD; its TXT record
may set the agent-wide sampling rate and polling interval).

Options:
  -c, --config PATH      configuration file (default /etc/config/wsflowd)
  -f, --foreground       stay in the foreground and log to stderr (as procd
                         runs it); otherwise detach and log to syslog
  -l, --log-level LEVEL  error, warning, info or debug (overrides the
                         configuration's log_level)
      --check-config     validate the configuration, print any warnings and
                         exit: 0 if valid, 1 if not
  -h, --help             print this help
  -V, --version          print the version
";

#[cfg(feature = "collect")]
const COLLECT_OPTIONS: &str = "
collect: print every sample received, one line each (by default), show the
stations across all agents (--stations), or serve Prometheus metrics
(--prometheus); `wsflowd collect --help` lists the metrics
      --listen ADDR:PORT address to listen on (default [::]:6343, which also
                         receives IPv4)
      --json             one JSON object per sample (or per station event)
      --count N          exit after N samples
      --read FILE        decode the sFlow datagrams (UDP port 6343, or the
                         --listen port) of a pcap capture instead of listening
      --stations         the stations seen across all agents (MAC, agent,
                         BSSID/SSID, last seen, signal, rates) and their
                         roams: a table redrawn every second on a terminal,
                         one line per event (new, roam, gone) otherwise
      --prometheus ADDR:PORT
                         serve the agents' figures at http://ADDR:PORT/metrics
                         (Prometheus text format, or OpenMetrics when asked);
                         samples are not printed
      --prometheus-stations
                         also per-station series (signal, rates, traffic)
      --max-agents N     agents tracked (default 10000)
      --max-series N     data sources, BSSes and per-BSS traffic classes
                         tracked (default 100000)
      --max-stations N   stations tracked (default 10000)
      --agent-ttl SECONDS  forget agents, interfaces and BSSes not heard
                         from for this long (default 900)
      --station-ttl SECONDS  forget stations not seen for this long
                         (default 300)
";
#[cfg(not(feature = "collect"))]
const COLLECT_OPTIONS: &str = "";

const SIGNALS: &str = "
Signals: SIGHUP re-reads the configuration (an invalid one is refused and
the running one kept); SIGTERM and SIGINT stop the agent.";

fn usage() -> String {
    format!("{USAGE}{COLLECT_USAGE}{DESCRIPTION}{COLLECT_OPTIONS}{SIGNALS}")
}

#[derive(Debug, Default)]
struct RunOptions {
    config: Option<PathBuf>,
    foreground: bool,
    log_level: Option<Level>,
    check_config: bool,
}

enum Command {
    Run(RunOptions),
    #[cfg(feature = "collect")]
    Collect(collect::Options),
    #[cfg(feature = "collect")]
    CollectHelp,
    Help,
    Version,
}

fn value(args: &mut impl Iterator<Item = String>, option: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{option} needs a value"))
}

#[cfg(feature = "collect")]
fn number(args: &mut impl Iterator<Item = String>, option: &str) -> Result<usize, String> {
    let n = value(args, option)?;
    n.parse().map_err(|_| format!("{option} {n}: not a number"))
}

/// A number of seconds, in milliseconds.
#[cfg(feature = "collect")]
fn seconds(args: &mut impl Iterator<Item = String>, option: &str) -> Result<u64, String> {
    let n = value(args, option)?;
    n.parse::<u64>()
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| format!("{option} {n}: not a number of seconds"))
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    #[cfg(not(feature = "collect"))]
    if args.peek().map(String::as_str) == Some("collect") {
        return Err(
            "'collect' is not part of this build (the OpenWrt packages leave \
                    the collector out; build with the 'collect' feature)"
                .into(),
        );
    }
    #[cfg(feature = "collect")]
    if args.peek().map(String::as_str) == Some("collect") {
        args.next();
        let mut o = collect::Options::default();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--listen" => o.listen = Some(value(&mut args, &a)?),
                "--json" => o.json = true,
                "--count" => {
                    let n = value(&mut args, &a)?;
                    o.count = Some(
                        n.parse()
                            .map_err(|_| format!("--count {n}: not a number"))?,
                    );
                }
                "--read" => o.read = Some(PathBuf::from(value(&mut args, &a)?)),
                "--stations" => o.stations = true,
                "--prometheus" => o.prometheus = Some(value(&mut args, &a)?),
                "--prometheus-stations" => o.limits.station_series = true,
                "--max-agents" => o.limits.agents = number(&mut args, &a)?,
                "--max-series" => o.limits.series = number(&mut args, &a)?,
                "--max-stations" => o.limits.stations = number(&mut args, &a)?,
                "--agent-ttl" => o.limits.agent_ttl_ms = seconds(&mut args, &a)?,
                "--station-ttl" => o.limits.station_ttl_ms = seconds(&mut args, &a)?,
                "-h" | "--help" => return Ok(Command::CollectHelp),
                _ => return Err(format!("unknown collect option '{a}'")),
            }
        }
        o.check()?;
        return Ok(Command::Collect(o));
    }
    let mut o = RunOptions::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" | "--config" => o.config = Some(PathBuf::from(value(&mut args, &a)?)),
            "-f" | "--foreground" => o.foreground = true,
            "-l" | "--log-level" => {
                let l = value(&mut args, &a)?;
                o.log_level = Some(Level::parse(&l).ok_or_else(|| {
                    format!("--log-level {l}: expected error, warning, info or debug")
                })?);
            }
            "--check-config" => o.check_config = true,
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => return Err(format!("unknown option '{a}'")),
        }
    }
    Ok(Command::Run(o))
}

/// Detaches from the terminal: fork, new session, stdio to /dev/null.
fn daemonize() -> std::io::Result<()> {
    unsafe {
        match libc::fork() {
            -1 => return Err(std::io::Error::last_os_error()),
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        libc::chdir(c"/".as_ptr());
    }
    Ok(())
}

fn run(o: RunOptions) -> ExitCode {
    let path = o
        .config
        .unwrap_or_else(|| PathBuf::from(config::DEFAULT_CONFIG_PATH));
    let loaded = match config::load(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("wsflowd: {e}");
            return ExitCode::from(1);
        }
    };
    if o.check_config {
        for w in &loaded.warnings {
            eprintln!("wsflowd: warning: {w}");
        }
        println!("{}: configuration valid", path.display());
        return ExitCode::SUCCESS;
    }
    let lock = match agent::instance::acquire(loaded.config.agent.sub_agent_id) {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("wsflowd: not starting: {e}");
            return ExitCode::from(1);
        }
    };
    if !o.foreground {
        if let Err(e) = daemonize() {
            eprintln!("wsflowd: cannot detach: {e}");
            return ExitCode::from(1);
        }
        log::use_syslog();
    }
    let mut loaded = loaded;
    if let Some(level) = o.log_level {
        // The command line wins over the file, now and on reloads.
        loaded.config.agent.log_level = level;
        log::pin_level(level);
    }
    let result = Agent::new(path, loaded, lock).and_then(|mut agent| agent.run());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    wsflowd::sys::report_fatal_signals();
    match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(o)) => run(o),
        #[cfg(feature = "collect")]
        Ok(Command::Collect(o)) => match collect::run(&o) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wsflowd collect: {e}");
                ExitCode::from(1)
            }
        },
        #[cfg(feature = "collect")]
        Ok(Command::CollectHelp) => {
            println!(
                "{}\nMetrics served with --prometheus (docs/collect.md has more):\n{}",
                usage(),
                collect::metrics::help_text()
            );
            ExitCode::SUCCESS
        }
        Ok(Command::Help) => {
            println!("{}", usage());
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("wsflowd {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wsflowd: {e}\n\n{}", usage());
            ExitCode::from(2)
        }
    }
}
