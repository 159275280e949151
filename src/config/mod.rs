//! The typed, validated configuration of wsflowd.
//!
//! The configuration is a UCI file, `/etc/config/wsflowd` by default, read
//! with [`uci::parse`] and checked here into a [`Config`]:
//!
//! ```text
//! config agent 'agent'
//!     option polling_interval '20'
//!     option sampling_rate '400'
//!     list interface 'wlan0'
//!
//! config interface
//!     option device 'wlan0'
//!     option sampling_rate '100'
//!
//! config interface
//!     option device 'mon0'
//!     list bss 'wlan0'
//!
//! config collector
//!     option address '192.0.2.10'
//! ```
//!
//! Validation fails on the first error in file order, with the file, the
//! line, the section as `uci show` names it and the option, so that a typo
//! can be found at once. Unknown options and section types are only
//! warnings, so that an older agent still starts with a newer file.
//! `docs/configuration.md` is the reference for users.
//!
//! - `uci.rs`: the file's syntax (libuci's), into sections and options;
//! - `schema.rs`: every option, its kind, limits, default and field;
//! - `values.rs`: the parsers of booleans, numbers, names and addresses;
//! - `check.rs`: the package read by the schema, sections checked whole;
//! - `model.rs`: the [`Config`] the agent uses.

mod check;
mod model;
mod schema;
pub mod uci;
mod values;

pub use self::model::*;
pub use self::schema::{
    defaults, option_spec, options_of, section_types, CollectorDraft, Draft, InterfaceDraft, Kind,
    OptionSpec, Refused, SectionSpec, DATAGRAM_HEADROOM, MAX_BSS, MAX_COLLECTORS,
    MAX_DATAGRAM_BYTES, MAX_HEADER_BYTES, MAX_INTERFACES, MAX_POLLING_INTERVAL, MAX_RING_KIB,
    MAX_RING_TOTAL_KIB, MAX_SAMPLING_RATE, MIN_DATAGRAM_BYTES, MIN_HEADER_BYTES, MIN_RING_KIB,
    SCHEMA, SECTIONS,
};
pub use self::uci::{Package, ParseError, Section, UciOption, Value};
pub use self::values::{
    is_valid_interface_name, parse_bool, parse_domain, parse_host, parse_mac,
    quoted as quoted_value,
};
pub use check::MAX_WARNINGS;

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Where the daemon reads its configuration unless told otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/config/wsflowd";
/// Configuration files larger than this are refused.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A validated configuration and the warnings found on the way, each one
/// formatted like an error (`file:line: message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based line, or 0 when the error is not about one line.
    pub line: usize,
    /// Display name of the section (`'agent'`, `@collector[1]`).
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}: ", self.file, self.line)?;
        }
        match (&self.option, &self.section) {
            (Some(option), Some(section)) => write!(f, "option '{option}' in section {section}: ")?,
            (Some(option), None) => write!(f, "option '{option}': ")?,
            (None, Some(section)) => write!(f, "section {section}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn from_parse(file: &str, error: ParseError) -> Self {
        ConfigError {
            file: file.to_owned(),
            line: error.line,
            section: None,
            option: None,
            message: error.message,
        }
    }

    /// An error about the file as a whole (line 0).
    fn about_file(file: &str, message: String) -> Self {
        ConfigError {
            file: file.to_owned(),
            line: 0,
            section: None,
            option: None,
            message,
        }
    }
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let text = read_file(path).map_err(|message| ConfigError::about_file(&file, message))?;
    parse(&text, &file)
}

/// The bytes of a configuration file, without ever waiting: the file is
/// opened non-blocking (a FIFO would otherwise block the open until a
/// writer comes, and the agent's loop with it) and must be a regular file
/// of at most [`MAX_FILE_BYTES`]; a FIFO, device, socket or directory is
/// refused, naming what it is.
pub fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::FileTypeExt;
    let io_error = |what: &str, e: &std::io::Error| {
        // "No such file or directory (os error 2)": the number is noise.
        // Stripped as the exact suffix rather than searched for: that
        // search was the binary's only substring search, and brought in
        // std's two-way searcher (~1.5 KB of mips).
        let text = e.to_string();
        let suffix = e
            .raw_os_error()
            .map_or(String::new(), |code| format!(" (os error {code})"));
        let text = text.strip_suffix(suffix.as_str()).unwrap_or(&text);
        format!("{what}: {text}")
    };
    let file = crate::sys::file::open_read(path, libc::O_NONBLOCK | libc::O_NOCTTY)
        .map_err(|e| io_error("cannot read", &e))?;
    let meta = file.metadata().map_err(|e| io_error("cannot read", &e))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(format!(
            "cannot read: {what}, not a regular file (the configuration must be a regular file)"
        ));
    }
    let too_large = || format!("file too large (more than {MAX_FILE_BYTES} bytes)");
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    // The size may change while it is read: never more than the limit.
    let mut text = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| io_error("cannot read", &e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// Parses and validates configuration text; `file` names it in messages.
pub fn parse(text: &[u8], file: &str) -> Result<Loaded, ConfigError> {
    let package = uci::parse(text).map_err(|e| ConfigError::from_parse(file, e))?;
    from_uci(&package, file)
}

/// Validates a parsed UCI package into a [`Config`].
pub fn from_uci(package: &Package, file: &str) -> Result<Loaded, ConfigError> {
    let mut check = check::Checker {
        file,
        error: None,
        warnings: Vec::new(),
    };
    let config = check.config(package);
    if let Some(error) = check.error {
        return Err(error);
    }
    let mut warnings = check.warnings;
    // File order, with the warnings about the whole file last.
    warnings.sort_by_key(|&(line, _)| if line == 0 { usize::MAX } else { line });
    let warnings = warnings
        .into_iter()
        .map(|(line, message)| match line {
            0 => format!("{file}: {message}"),
            _ => format!("{file}:{line}: {message}"),
        })
        .collect();
    Ok(Loaded {
        config,
        warnings: check::bounded(warnings),
    })
}

#[cfg(test)]
mod tests;
