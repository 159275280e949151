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
       wsflowd collect [--listen ADDR:PORT] [--json] [--count N] [--read FILE]";
#[cfg(not(feature = "collect"))]
const COLLECT_USAGE: &str = "";

const DESCRIPTION: &str = "

sFlow v5 agent for OpenWrt Wi-Fi access points: samples frames on the
configured interfaces, polls interface and host counters, and sends sFlow
datagrams to the configured collectors.

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
collect: print every sample received, one line each
      --listen ADDR:PORT address to listen on (default [::]:6343, which also
                         receives IPv4)
      --json             one JSON object per sample, with every field
      --count N          exit after N samples
      --read FILE        decode the sFlow datagrams (UDP port 6343, or the
                         --listen port) of a pcap capture instead of listening
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
    Help,
    Version,
}

fn value(args: &mut impl Iterator<Item = String>, option: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{option} needs a value"))
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
                "-h" | "--help" => return Ok(Command::Help),
                _ => return Err(format!("unknown collect option '{a}'")),
            }
        }
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
        // SAFETY: no other thread has been started yet (the agent starts
        // its name-resolution helper later).
        if let Err(e) = unsafe { wsflowd::sys::process::daemonize() } {
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
