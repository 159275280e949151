//! procd's triggers, as `service/trigger.c` of openwrt/procd registers and
//! fires them, with the rules run by libubox's `json_script.c`:
//!
//! - `trigger_add`: every element of a service's "triggers" array that is
//!   an array, read by position: a string (the event type), an array (the
//!   rule), an int32 (the delay in ms); without type or rule it is skipped.
//! - `trigger_match`: a type with ".*" matches every event that starts
//!   with what precedes it (so "interface.*" matches "interface.update",
//!   "interface.down", and anything else starting with "interface"); any
//!   other type only itself.
//! - the rule runs as a json_script with the event's data as variables
//!   (string members only): commands `if` (condition, then, else),
//!   `case`, `return`; conditions `eq` (a string or any of an array),
//!   `has`, `and`, `or`, `not`, `isdir`; strings of a command have
//!   `%var%` replaced. Only the command "run_script" does something: it
//!   queues its arguments as a command line, after the trigger's delay
//!   (the same command line already queued is not queued twice).
//!   `regex` is not ported (it panics).
//! - the JSON of `ubus call service set` becomes blobmsg as libubox's
//!   blobmsg_json does: an integer within int32 is an int32, booleans
//!   are u8 (bool), and so on; blobmsg_parse_array's rule (an element of
//!   the wrong type is skipped, the slot keeps waiting) decides which
//!   elements a command or condition reads.
//!
//! Checked against procd itself: trigger.c and json_script.c of
//! openwrt/procd and openwrt/libubox master, built by hand with a harness
//! that registers a service's triggers, sends one event and prints the
//! command lines procd runs; their answers are
//! `tests::verdicts_of_the_real_trigger_c`.

use serde_json::Value;

/// One registered trigger.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub event: String,
    pub rule: Value,
    pub delay_ms: i64,
}

/// A command line a trigger queued, and after how long procd runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub command: Vec<String>,
    pub delay_ms: i64,
}

/// blobmsg types, as blobmsg_add_json_element makes them from JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobType {
    Unspec,
    Array,
    Table,
    String,
    Int64,
    Int32,
    Bool,
    Double,
}

fn blob_type(v: &Value) -> BlobType {
    match v {
        Value::Null => BlobType::Unspec,
        Value::Array(_) => BlobType::Array,
        Value::Object(_) => BlobType::Table,
        Value::String(_) => BlobType::String,
        Value::Bool(_) => BlobType::Bool,
        Value::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => BlobType::Int32,
            Some(_) => BlobType::Int64,
            None => BlobType::Double,
        },
    }
}

/// trigger.c's `trigger_add` over a service's "triggers" member.
pub fn triggers_of(service: &Value) -> Vec<Trigger> {
    let mut out = Vec::new();
    let Some(list) = service["triggers"].as_array() else {
        return out;
    };
    for cur in list {
        let Some(items) = cur.as_array() else {
            continue;
        };
        let (mut event, mut rule, mut delay) = (None, None, None);
        for (i, item) in items.iter().enumerate() {
            match i {
                0 if blob_type(item) == BlobType::String => event = item.as_str(),
                1 if blob_type(item) == BlobType::Array => rule = Some(item),
                2 if blob_type(item) == BlobType::Int32 => delay = item.as_i64(),
                _ => {}
            }
        }
        if let (Some(event), Some(rule)) = (event, rule) {
            out.push(Trigger {
                event: event.to_owned(),
                rule: rule.clone(),
                delay_ms: delay.unwrap_or(0),
            });
        }
    }
    out
}

/// trigger.c's `trigger_match`.
pub fn trigger_match(event: &str, pattern: &str) -> bool {
    match pattern.find(".*") {
        Some(at) => event.starts_with(&pattern[..at]),
        None => event == pattern,
    }
}

/// trigger.c's `trigger_event`: the commands an event queues (in order,
/// each command line once, with the largest delay asked for it).
pub fn fire(triggers: &[Trigger], event: &str, data: &Value) -> Vec<Queued> {
    let mut queued: Vec<Queued> = Vec::new();
    for t in triggers {
        if !trigger_match(event, &t.event) {
            continue;
        }
        let mut run = Run {
            vars: data,
            commands: Vec::new(),
        };
        run.process_cmd(&t.rule);
        for command in run.commands {
            // trigger_command_add: a pending command keeps its place; a
            // longer delay extends its timer. (The delay counts from now,
            // which is when all of them are queued here.)
            let delay_ms = if t.delay_ms > 0 { t.delay_ms } else { 1 };
            match queued.iter_mut().find(|q| q.command == command) {
                Some(q) => q.delay_ms = q.delay_ms.max(delay_ms),
                None => queued.push(Queued { command, delay_ms }),
            }
        }
    }
    queued
}

struct Run<'a> {
    vars: &'a Value,
    commands: Vec<Vec<String>>,
}

/// blobmsg_parse_array: slot i takes the first element (from where the
/// previous slot was filled) of its type; `None` means any type.
fn parse_array<'v>(policy: &[Option<BlobType>], items: &'v [Value]) -> Vec<Option<&'v Value>> {
    let mut tb = vec![None; policy.len()];
    let mut i = 0;
    for item in items {
        if let Some(t) = policy[i] {
            if blob_type(item) != t {
                continue;
            }
        }
        tb[i] = Some(item);
        i += 1;
        if i == policy.len() {
            break;
        }
    }
    tb
}

impl Run<'_> {
    /// json_script_find_var: a string member of the event's data.
    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .as_object()?
            .iter()
            .find(|(k, v)| k.as_str() == name && blob_type(v) == BlobType::String)
            .and_then(|(_, v)| v.as_str())
    }

    /// json_process_cmd: a block of commands, or one command.
    fn process_cmd(&mut self, block: &Value) -> i32 {
        let Some(items) = block.as_array() else {
            return -1;
        };
        for (i, cur) in items.iter().enumerate() {
            if blob_type(cur) == BlobType::String && i == 0 {
                return self.process_one(items);
            }
            let ret = self.process_cmd(cur);
            if ret < -1 {
                return ret;
            }
        }
        0
    }

    /// __json_process_cmd.
    fn process_one(&mut self, items: &[Value]) -> i32 {
        let name = items[0].as_str().unwrap();
        match name {
            "if" => {
                let a = Some(BlobType::Array);
                let tb = parse_array(&[Some(BlobType::String), a, a, a], items);
                let (Some(cond), Some(then)) = (tb[1], tb[2]) else {
                    return 0;
                };
                match self.process_expr(cond) {
                    ret if ret < 0 => 0,
                    0 => tb[3].map_or(0, |e| self.process_cmd(e)),
                    _ => self.process_cmd(then),
                }
            }
            "case" => {
                let tb = parse_array(
                    &[
                        Some(BlobType::String),
                        Some(BlobType::String),
                        Some(BlobType::Table),
                    ],
                    items,
                );
                let (Some(var), Some(table)) = (tb[1], tb[2]) else {
                    return 0;
                };
                let Some(value) = self.var(var.as_str().unwrap()) else {
                    return 0;
                };
                let value = value.to_owned();
                match table.as_object().unwrap().get(&value) {
                    Some(cmd) => self.process_cmd(cmd),
                    None => 0,
                }
            }
            "return" => -2,
            // Only the trigger's own rule can be loaded, which is already
            // running: "Recursive include".
            "include" => 0,
            _ => {
                let mut args = Vec::new();
                for arg in &items[1..] {
                    match arg.as_str() {
                        Some(s) => match self.eval_string(s) {
                            Some(s) => args.push(s),
                            None => return -1,
                        },
                        // Added as it is; run_script's argv takes strings.
                        None => args.push(String::new()),
                    }
                }
                if name == "run_script" {
                    self.commands.push(args);
                }
                0
            }
        }
    }

    /// json_process_expr: 1 true, 0 false, negative for an error.
    fn process_expr(&mut self, cur: &Value) -> i32 {
        let Some(items) = cur.as_array() else {
            return -1;
        };
        let Some(name) = items.first().and_then(Value::as_str) else {
            return -1;
        };
        match name {
            "eq" => {
                let tb = parse_array(
                    &[Some(BlobType::String), Some(BlobType::String), None],
                    items,
                );
                let (Some(var), Some(want)) = (tb[1], tb[2]) else {
                    return -1;
                };
                let Some(value) = self.var(var.as_str().unwrap()) else {
                    return 0;
                };
                match want {
                    Value::String(s) => i32::from(value == s),
                    Value::Array(list) => {
                        for w in list {
                            match w.as_str() {
                                Some(w) if w == value => return 1,
                                Some(_) => {}
                                None => return -1,
                            }
                        }
                        0
                    }
                    _ => -1,
                }
            }
            "regex" => panic!("json_script regex is not ported"),
            "has" => {
                let tb = parse_array(&[Some(BlobType::String), None, None], items);
                let Some(what) = tb[1] else {
                    return -1;
                };
                match what {
                    Value::String(s) => i32::from(self.var(s).is_some()),
                    Value::Array(list) => {
                        for w in list {
                            match w.as_str() {
                                Some(w) if self.var(w).is_some() => return 1,
                                Some(_) => {}
                                None => return -1,
                            }
                        }
                        0
                    }
                    _ => -1,
                }
            }
            "and" | "or" => {
                let and = name == "and";
                for e in &items[1..] {
                    let ret = self.process_expr(e);
                    if ret < 0 {
                        return ret;
                    }
                    if (ret != 0) != and {
                        return ret;
                    }
                }
                i32::from(and)
            }
            "not" => {
                let tb = parse_array(
                    &[Some(BlobType::String), Some(BlobType::Array), None],
                    items,
                );
                let Some(e) = tb[1] else {
                    return -1;
                };
                match self.process_expr(e) {
                    ret if ret < 0 => ret,
                    ret => i32::from(ret == 0),
                }
            }
            "isdir" => {
                let tb = parse_array(
                    &[Some(BlobType::String), Some(BlobType::String), None],
                    items,
                );
                let Some(pattern) = tb[1].and_then(Value::as_str) else {
                    return -1;
                };
                match self.eval_string(pattern) {
                    Some(path) => i32::from(std::path::Path::new(&path).is_dir()),
                    None => -1,
                }
            }
            // handle_expr's default: "Unknown expression type".
            _ => -1,
        }
    }

    /// eval_string: `%name%` is the variable (left out when unset), `%%`
    /// a '%'; an unterminated reference is an error.
    fn eval_string(&self, pattern: &str) -> Option<String> {
        let mut out = String::new();
        let mut var = false;
        let mut parts = pattern.split('%').peekable();
        while let Some(part) = parts.next() {
            let cur_var = var;
            if parts.peek().is_some() {
                var = !var;
            }
            if cur_var {
                if part.is_empty() {
                    out.push('%');
                } else if let Some(v) = self.var(part) {
                    out.push_str(v);
                }
            } else {
                out.push_str(part);
            }
        }
        (!var).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn interface_star_is_a_prefix() {
        assert!(trigger_match("interface.update", "interface.*"));
        assert!(trigger_match("interface.down", "interface.*"));
        assert!(trigger_match("interfaces", "interface.*"));
        assert!(!trigger_match("instance.update", "interface.*"));
        assert!(trigger_match("config.change", "config.change"));
        assert!(!trigger_match("config.changed", "config.change"));
    }

    /// What procd's own trigger.c and json_script.c (openwrt/procd and
    /// openwrt/libubox master, built with a harness that registers these
    /// triggers, sends one event and prints the command lines procd runs
    /// after their delays) ran for each event: the triggers as procd.sh
    /// builds them for procd_add_reload_trigger wsflowd wireless,
    /// procd_add_raw_trigger 'interface.*' 2000, procd_add_reload_interface_trigger
    /// wan, procd_add_interface_trigger interface.update lan .. restart and
    /// procd_add_config_trigger config.change network.
    #[test]
    fn verdicts_of_the_real_trigger_c() {
        let service = json!({"triggers": [
            ["config.change",["if",["eq","package","wsflowd"],["run_script","/etc/init.d/trig","reload"]],1000],
            ["config.change",["if",["eq","package","wireless"],["run_script","/etc/init.d/trig","reload"]],1000],
            ["interface.*",[["run_script","/etc/init.d/trig","reload"]],2000],
            ["interface.*",["if",["eq","interface","wan"],["run_script","/etc/init.d/trig","reload"]],1000],
            ["interface.update",["if",["eq","interface","lan"],["run_script","/etc/init.d/trig","restart"]],1000],
            ["config.change",["if",["eq","package","network"],["run_script","/etc/init.d/trig","reload"]],1000]
        ]});
        let triggers = triggers_of(&service);
        let cases: &[(&str, Value, &[&str])] = &[
            (
                "interface.update",
                json!({"interface":"wan","up":true,"l3_device":"eth1","updated":["addresses"]}),
                &["reload"],
            ),
            (
                "interface.down",
                json!({"interface":"wan","up":false}),
                &["reload"],
            ),
            (
                "interface.update",
                json!({"interface":"wan6","up":true}),
                &["reload"],
            ),
            (
                "interface.update",
                json!({"interface":"lan","up":true}),
                &["restart", "reload"],
            ),
            (
                "interface.down",
                json!({"interface":"lan","up":false}),
                &["reload"],
            ),
            (
                "interface.update",
                json!({"interface":"loopback","up":true}),
                &["reload"],
            ),
            ("config.change", json!({"package":"wsflowd"}), &["reload"]),
            ("config.change", json!({"package":"wireless"}), &["reload"]),
            ("config.change", json!({"package":"network"}), &["reload"]),
            ("config.change", json!({"package":"firewall"}), &[]),
            ("instance.update", json!({}), &[]),
            ("service.data.update", json!({"name":"wsflowd"}), &[]),
            ("interfaces", json!({"interface":"wan"}), &["reload"]),
        ];
        for (event, data, want) in cases {
            let mut queued = fire(&triggers, event, data);
            // procd runs them as their delays expire.
            queued.sort_by_key(|q| q.delay_ms);
            let ran: Vec<&str> = queued
                .iter()
                .map(|q| {
                    assert_eq!(q.command[0], "/etc/init.d/trig");
                    q.command[1].as_str()
                })
                .collect();
            assert_eq!(&ran, want, "{event} {data}");
        }
    }

    #[test]
    fn eval_string_replaces_variables() {
        let data = json!({"interface": "wan", "up": true});
        let run = Run {
            vars: &data,
            commands: Vec::new(),
        };
        assert_eq!(
            run.eval_string("a %interface% b").as_deref(),
            Some("a wan b")
        );
        assert_eq!(run.eval_string("100%%").as_deref(), Some("100%"));
        assert_eq!(run.eval_string("%up%x").as_deref(), Some("x"));
        assert_eq!(run.eval_string("%interface"), None);
    }
}
