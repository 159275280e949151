//! Reads a parsed UCI package into a [`Config`] by the schema: each option
//! is looked up in [`SCHEMA`], its value read by its kind and set by its
//! setter; then each section is checked as a whole (required options,
//! limits that involve several options), and the sections are merged.
//!
//! The first error in file order wins, so the message points at the first
//! thing to fix; warnings (unknown options and sections, repeats) are
//! collected with their lines.

use std::collections::BTreeMap;

use super::model::{CollectorConfig, Config, InterfaceConfig};
use super::schema::{
    defaults, option_spec, options_of, section_types, Draft, OptionSpec, DATAGRAM_HEADROOM,
    MAX_INTERFACES, MAX_RING_TOTAL_KIB, SECTIONS,
};
use super::uci::{Package, Section, UciOption, Value};
use super::values::quoted;
use super::ConfigError;
use crate::stations::Sources;

/// Warnings reported at most; the rest are counted in one more line.
pub const MAX_WARNINGS: usize = 32;

/// Edit distance, for "did you mean" hints on short names.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The known name closest to a misspelt one, if close enough.
pub(super) fn suggestion<'a>(
    unknown: &str,
    known: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    if unknown.len() > 64 {
        return None;
    }
    let lower = unknown.to_ascii_lowercase();
    known
        .map(|k| (distance(&lower, k), k))
        .filter(|&(d, k)| d <= 2.max(k.len() / 4))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// The options of a section in the order of their lines, so that the first
/// error reported is the first in the file.
fn by_line(section: &Section) -> Vec<&UciOption> {
    let mut options: Vec<&UciOption> = section.options.iter().collect();
    options.sort_by_key(|o| o.line);
    options
}

pub(super) struct Checker<'a> {
    pub file: &'a str,
    /// The error with the lowest line so far.
    pub error: Option<ConfigError>,
    pub warnings: Vec<(usize, String)>,
}

impl Checker<'_> {
    fn fail(&mut self, line: usize, section: &Section, option: Option<&str>, message: String) {
        if self.error.as_ref().is_some_and(|e| e.line <= line) {
            return;
        }
        self.error = Some(ConfigError {
            file: self.file.to_owned(),
            line,
            section: Some(section.display_name()),
            option: option.map(str::to_owned),
            message,
        });
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push((line, message));
    }

    fn unknown_option(&mut self, section: &Section, option: &UciOption) {
        let mut message = format!(
            "unknown option '{}' in section {}, ignored",
            option.name,
            section.display_name()
        );
        if let Some(hint) = suggestion(&option.name, options_of(&section.kind).map(|o| o.name)) {
            message.push_str(&format!(" (did you mean '{hint}'?)"));
        } else if let Some(kind) =
            section_types().find(|&k| k != section.kind && option_spec(k, &option.name).is_some())
        {
            let article = if kind.starts_with(['a', 'i']) {
                "an"
            } else {
                "a"
            };
            message.push_str(&format!(" (it belongs in {article} '{kind}' section)"));
        }
        self.warn(option.line, message);
    }

    /// Reads one option into `draft` by its schema entry.
    fn option(&mut self, section: &Section, option: &UciOption, draft: &mut Draft) {
        let Some(spec) = option_spec(&section.kind, &option.name) else {
            self.unknown_option(section, option);
            return;
        };
        if !spec.list {
            match &option.value {
                Value::Single(value) => {
                    self.value(section, option, spec, option.line, value, draft)
                }
                Value::List(_) => {
                    let message = format!(
                        "expected a single value, not a list: set it with 'option {}', not 'list'",
                        option.name
                    );
                    self.fail(option.line, section, Some(&option.name), message);
                }
            }
            return;
        }
        // A list, in OpenWrt's shell style too (`option interface 'wlan0
        // eth0'`): every item is split on whitespace; repeats are warned
        // about and left out.
        // At most `max_items` + 1 entries (more fail): a list is enough.
        let mut seen: Vec<String> = Vec::new();
        for (item, &line) in option.value.items().iter().zip(&option.item_lines) {
            let mut words = item.split_ascii_whitespace().peekable();
            if words.peek().is_none() {
                // An empty item: refused by its kind, with the message.
                self.value(section, option, spec, line, item, draft);
            }
            for word in words {
                let Some(canonical) = self.checked(section, option, spec, line, word) else {
                    continue;
                };
                if seen.contains(&canonical) {
                    let message = format!(
                        "{} is listed more than once in option '{}' of section {}, the repeat is ignored",
                        quoted(word),
                        option.name,
                        section.display_name()
                    );
                    self.warn(line, message);
                    continue;
                }
                seen.push(canonical);
                if seen.len() > spec.max_items {
                    let message = format!(
                        "too many items: at most {} (a configuration this large is refused)",
                        spec.max_items
                    );
                    self.fail(line, section, Some(&option.name), message);
                    return;
                }
                spec.kind.set(draft, word);
            }
        }
    }

    /// Checks one value by its kind: its canonical form, or `None` after
    /// reporting why it is refused.
    fn checked(
        &mut self,
        section: &Section,
        option: &UciOption,
        spec: &OptionSpec,
        line: usize,
        text: &str,
    ) -> Option<String> {
        match spec.kind.check(text) {
            Ok((canonical, remark)) => {
                if let Some(remark) = remark {
                    let message = format!(
                        "{} in option '{}' of section {} {remark}",
                        quoted(text),
                        option.name,
                        section.display_name()
                    );
                    self.warn(line, message);
                }
                Some(canonical)
            }
            Err(refused) => {
                let mut message = format!(
                    "invalid {} {}: expected {}",
                    refused.noun,
                    quoted(text),
                    refused.expected
                );
                if let Some((value, hint)) = spec.hint.filter(|&(v, _)| v == text) {
                    debug_assert_eq!(value, text);
                    message.push_str(&format!(" ({hint})"));
                }
                self.fail(line, section, Some(&option.name), message);
                None
            }
        }
    }

    fn value(
        &mut self,
        section: &Section,
        option: &UciOption,
        spec: &OptionSpec,
        line: usize,
        text: &str,
        draft: &mut Draft,
    ) {
        if self.checked(section, option, spec, line, text).is_some() {
            spec.kind.set(draft, text);
        }
    }

    /// Reads a section's options into `draft` and reports its missing
    /// required options.
    fn section(&mut self, section: &Section, draft: &mut Draft) {
        for option in by_line(section) {
            self.option(section, option, draft);
        }
        for spec in options_of(&section.kind).filter(|o| o.required) {
            if section.get(spec.name).is_none() {
                let message = format!("missing required option '{}'", spec.name);
                self.fail(section.line, section, Some(spec.name), message);
            }
        }
    }

    /// The line of option `name` in `section`, else the section's.
    fn line_of(section: &Section, name: &str) -> usize {
        section.get(name).map_or(section.line, |o| o.line)
    }

    pub fn config(&mut self, package: &Package) -> Config {
        let defaults = defaults();
        let mut config = Config::default();

        // Sections of each type, at most as many as the schema allows.
        for spec in SECTIONS {
            if let Some(extra) = package.sections_of(spec.kind).nth(spec.max) {
                let message = if spec.max == 1 {
                    let first = package.sections_of(spec.kind).next().unwrap_or(extra);
                    format!(
                        "only one '{}' section is allowed, the first is {} (line {})",
                        spec.kind,
                        first.display_name(),
                        first.line
                    )
                } else {
                    format!(
                        "too many '{}' sections: at most {} (a configuration this large is refused)",
                        spec.kind, spec.max
                    )
                };
                self.fail(extra.line, extra, None, message);
            }
        }

        let mut agent_name = String::new();
        let mut listed = Vec::new();
        if let Some(section) = package.sections_of("agent").next() {
            let mut draft = defaults.clone();
            draft.station_sources = Sources::NONE;
            self.section(section, &mut draft);
            draft.finish_agent();
            self.agent(section, &draft);
            config.agent = draft.agent;
            listed = draft.listed;
            agent_name = section.display_name();
        }

        // The agent's list, then the interface sections' own devices.
        let mut interfaces: Vec<Option<InterfaceConfig>> = Vec::new();
        let mut position: BTreeMap<String, usize> = BTreeMap::new();
        for device in listed {
            position.insert(device.clone(), interfaces.len());
            interfaces.push(Some(InterfaceConfig {
                foreign_bss: defaults.interface.foreign_bss,
                ..InterfaceConfig::new(&device, &agent_name)
            }));
        }
        // Maps are B-trees (no input costs quadratic time), all of one type:
        // each instantiation of BTreeMap is ~1.5 KB of a mips binary.
        // `configured`: each device and the section (in `first`) that
        // configured it first.
        let mut configured: BTreeMap<String, usize> = BTreeMap::new();
        let mut first: Vec<&Section> = Vec::new();
        for section in package.sections_of("interface") {
            let mut draft = defaults.clone();
            self.section(section, &mut draft);
            let read = draft.interface;
            let Some(device) = read.device else {
                continue;
            };
            let line = Self::line_of(section, "device");
            if let Some(&other) = configured.get(&device) {
                let other = first[other];
                let message = format!(
                    "device '{device}' is already configured in section {} (line {})",
                    other.display_name(),
                    Self::line_of(other, "device")
                );
                self.fail(line, section, Some("device"), message);
                continue;
            }
            configured.insert(device.clone(), first.len());
            first.push(section);
            let entry = InterfaceConfig {
                device: device.clone(),
                sampling_rate: read.sampling_rate,
                polling_interval: read.polling_interval,
                ring_kib: read.ring_kib,
                bss: read.bss,
                foreign_bss: read.foreign_bss,
                section: section.display_name(),
            };
            match position.get(&device) {
                Some(&at) => interfaces[at] = read.enabled.then_some(entry),
                None if read.enabled => {
                    if interfaces.len() >= MAX_INTERFACES {
                        let message = format!(
                            "too many interfaces: at most {MAX_INTERFACES} are sampled (a configuration this large is refused)"
                        );
                        self.fail(line, section, Some("device"), message);
                        continue;
                    }
                    position.insert(device, interfaces.len());
                    interfaces.push(Some(entry));
                }
                None => {}
            }
        }
        config.interfaces = interfaces.into_iter().flatten().collect();
        self.ring_total(package, &config);

        // Address and port as one key (an address holds no space).
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for section in package.sections_of("collector") {
            let mut draft = defaults.clone();
            self.section(section, &mut draft);
            let c = draft.collector;
            let (Some(address), true) = (c.address, c.enabled) else {
                continue;
            };
            let collector = CollectorConfig {
                address,
                port: c.port,
                section: section.display_name(),
            };
            let key = format!(
                "{} {}",
                collector.address.to_ascii_lowercase(),
                collector.port
            );
            if seen.insert(key, 0).is_none() {
                config.collectors.push(collector);
            } else {
                let message = format!(
                    "collector {} port {} in section {} is configured twice, ignored",
                    collector.address, collector.port, collector.section
                );
                self.warn(section.line, message);
            }
        }

        for section in &package.sections {
            if !section_types().any(|k| k == section.kind) {
                let mut message = format!(
                    "unknown section type '{}' ({}), ignored",
                    section.kind,
                    section.display_name()
                );
                if let Some(hint) = suggestion(&section.kind, section_types()) {
                    message.push_str(&format!(" (did you mean '{hint}'?)"));
                }
                self.warn(section.line, message);
            }
        }

        if config.agent.enabled {
            if config.collectors.is_empty() && !config.agent.dns_sd {
                let message = "no collector configured: samples will not be sent anywhere";
                self.warn(0, message.to_owned());
            }
            if config.interfaces.is_empty() {
                let message = "no interface configured: nothing will be sampled or polled";
                self.warn(0, message.to_owned());
            }
        }
        config
    }

    /// What the agent section's options say together.
    fn agent(&mut self, section: &Section, draft: &Draft) {
        let agent = &draft.agent;
        let needed = agent.header_bytes + DATAGRAM_HEADROOM;
        if agent.datagram_bytes < needed {
            // datagram_bytes can only be too small if one of them was set.
            let line = section
                .get("datagram_bytes")
                .or(section.get("header_bytes"))
                .map_or(section.line, |o| o.line);
            let message = format!(
                "invalid value '{}': must be at least header_bytes + {DATAGRAM_HEADROOM} = {needed} bytes (header_bytes is {})",
                agent.datagram_bytes, agent.header_bytes
            );
            self.fail(line, section, Some("datagram_bytes"), message);
        }
    }

    /// The rings of every sampled interface together stay within
    /// [`MAX_RING_TOTAL_KIB`].
    fn ring_total(&mut self, package: &Package, config: &Config) {
        let mut total = 0u64;
        for i in &config.interfaces {
            total += u64::from(config.agent.ring_kib_for(i));
            if total <= MAX_RING_TOTAL_KIB {
                continue;
            }
            // Blame the interface's own ring_kib if it set one, else the
            // agent's.
            let own = package
                .sections_of("interface")
                .find(|s| s.display_name() == i.section && s.get("ring_kib").is_some());
            let agent = package.sections_of("agent").next();
            let Some(section) = own.or(agent) else {
                return;
            };
            let message = format!(
                "the receive rings of the sampled interfaces would take more than {MAX_RING_TOTAL_KIB} KiB in all (at {}): lower ring_kib",
                i.device
            );
            self.fail(
                Self::line_of(section, "ring_kib"),
                section,
                Some("ring_kib"),
                message,
            );
            return;
        }
    }
}

/// Keeps the first [`MAX_WARNINGS`] warnings and says how many more there
/// were: a file with thousands of unknown options must not flood the log.
pub(super) fn bounded(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
        warnings.push(format!("... and {more} more warnings"));
    }
    warnings
}
