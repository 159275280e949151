//! The checks of one scenario, each named, and their verdict.
//!
//! A check whose name is in the test's list of known agent gaps (features
//! the agent does not have yet) does not fail the test when it fails: it
//! is reported as a known gap, with what it measured. When such a check
//! passes, the test fails until the name is taken off the list, so the
//! list never outlives the fix nor hides a regression after it.
//! `WSFLOWD_VM_STRICT=1` makes every check count (to see what the agent
//! still gets wrong).

use std::fmt::Write as _;

use super::rig::ScenarioOut;

/// A check that fails with today's agent, and why.
pub struct Gap {
    /// `scenario/check`
    pub check: &'static str,
    pub why: &'static str,
    /// The failure is not seen in every run: passing is not news.
    pub intermittent: bool,
}

// The list of gaps is empty today; the constructors stay for the next one.
impl Gap {
    #[allow(dead_code)]
    pub const fn always(check: &'static str, why: &'static str) -> Gap {
        Gap {
            check,
            why,
            intermittent: false,
        }
    }

    /// A gap seen in some runs only.
    #[allow(dead_code)]
    pub const fn intermittent(check: &'static str, why: &'static str) -> Gap {
        Gap {
            check,
            why,
            intermittent: true,
        }
    }
}

#[derive(Debug)]
struct Check {
    name: String,
    ok: bool,
    detail: String,
}

pub struct Verdict {
    scenario: &'static str,
    known_gaps: &'static [Gap],
    checks: Vec<Check>,
    /// Values compared with an independent source (iw, hostapd_cli,
    /// tcpdump, tshark, the traffic sent).
    pub compared: usize,
    /// Figures printed with the verdict (samples, times).
    pub figures: Vec<String>,
}

impl Verdict {
    pub fn new(scenario: &'static str, known_gaps: &'static [Gap]) -> Self {
        Verdict {
            scenario,
            known_gaps,
            checks: Vec::new(),
            compared: 0,
            figures: Vec::new(),
        }
    }

    /// Records check `name` (unique within the scenario).
    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            ok,
            detail: detail.into(),
        });
    }

    /// Records a check from a list of problems (none: passed), counting
    /// `compared` values.
    pub fn problems(
        &mut self,
        name: &str,
        compared: usize,
        problems: Vec<String>,
        summary: String,
    ) {
        self.compared += compared;
        let ok = problems.is_empty();
        let mut detail = summary;
        for p in problems.iter().take(8) {
            let short: String = p.chars().take(400).collect();
            let more = if short.len() < p.len() { " ..." } else { "" };
            let _ = write!(detail, "\n      - {short}{more}");
        }
        if problems.len() > 8 {
            let _ = write!(detail, "\n      - ... {} more", problems.len() - 8);
        }
        self.check(name, ok, detail);
    }

    pub fn figure(&mut self, text: impl Into<String>) {
        self.figures.push(text.into());
    }

    fn gap(&self, name: &str) -> Option<&'static Gap> {
        let id = format!("{}/{name}", self.scenario);
        self.known_gaps.iter().find(|g| g.check == id)
    }

    /// Prints every check; panics (with the guest's logs) if a check
    /// failed that is not a known gap, or a known gap passed.
    pub fn finish(self, out: &ScenarioOut) {
        let strict = std::env::var("WSFLOWD_VM_STRICT").as_deref() == Ok("1");
        let mut report = format!("=== VM scenario {} ===\n", self.scenario);
        for f in &self.figures {
            let _ = writeln!(report, "  {f}");
        }
        let mut failed = Vec::new();
        let mut fixed = Vec::new();
        let mut gaps = 0;
        for c in &self.checks {
            let gap = self.gap(&c.name);
            let status = match (c.ok, gap) {
                (true, None) => "pass",
                (true, Some(_)) if strict => "pass",
                (true, Some(g)) if g.intermittent => "pass (an intermittent known gap)",
                (true, Some(_)) => {
                    fixed.push(c.name.clone());
                    "PASSES (remove it from KNOWN_AGENT_GAPS)"
                }
                (false, Some(_)) if !strict => {
                    gaps += 1;
                    "known gap"
                }
                (false, _) => {
                    failed.push(c.name.clone());
                    "FAIL"
                }
            };
            let _ = writeln!(report, "  [{status}] {}: {}", c.name, c.detail);
            if let (false, Some(g)) = (c.ok, gap) {
                let _ = writeln!(report, "      (agent gap: {})", g.why);
            }
        }
        let _ = writeln!(
            report,
            "  {} checks: {} passed, {} known gaps, {} failed; {} values compared with iw/hostapd/tcpdump/tshark/the traffic sent",
            self.checks.len(),
            self.checks.len() - gaps - failed.len() - fixed.len(),
            gaps,
            failed.len() + fixed.len(),
            self.compared
        );
        println!("{report}");
        if !failed.is_empty() || !fixed.is_empty() {
            panic!(
                "VM scenario {}: failed: {:?}; known gaps that now pass (take them off KNOWN_AGENT_GAPS): {:?} \
                 (the checks are printed above)\n{}",
                self.scenario,
                failed,
                fixed,
                out.logs()
            );
        }
    }
}

/// Whether `n` samples agree with `sent` frames sampled 1-in-`rate`:
/// within 4 standard deviations of the binomial expectation (exactly
/// `sent` at 1-in-1). Returns (ok, expected, 4 sigma).
pub fn within_4_sigma(n: usize, sent: u64, rate: u32) -> (bool, f64, f64) {
    let p = 1.0 / f64::from(rate.max(1));
    let expected = sent as f64 * p;
    let sigma4 = 4.0 * (sent as f64 * p * (1.0 - p)).sqrt();
    (
        (n as f64 - expected).abs() <= sigma4.max(0.5),
        expected,
        sigma4,
    )
}
