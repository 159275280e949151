//! A port of ubox's datatype checks (`validate/validate.c` of
//! openwrt/ubox, as `/sbin/validate_data` runs them), of the part that
//! wsflowd's init script uses: the expression parser (`dt_parse`,
//! `dt_parse_list`, `dt_parse_expr`, `dt_parse_atom`), the evaluator
//! (`dt_step`, `dt_call`) and the types `or`, `and`, `not`, `list`,
//! `range`, `rangelength`, `uinteger`, `bool`, `ipaddr`, `hostname`,
//! `host`, `macaddr`, `regex` and quoted string literals, with the C
//! library functions they call as musl (OpenWrt's libc) implements them:
//! `strtol`/`strtoul` (`__intscan`), `strtod` for the numbers of an
//! expression, `inet_pton` and `ether_aton`.
//!
//! The width of C's `long` changes verdicts (`range()` keeps the low 32
//! bits of `strtol`'s result in an `int`): [`Target`] says which, 32 bits
//! for mips, mipsel and arm, 64 for aarch64 and x86_64.
//!
//! `regex()` takes only what the init script uses (literal characters,
//! `.` and `*`, anchored at both ends as validate.c anchors it); any other
//! pattern panics rather than be read wrong.
//!
//! Checked by hand against validate_data built from openwrt/ubox (master,
//! 6f78fa4) with libuci and libubox, linked statically with musl: Debian's
//! 1.2.3 on x86_64, and 1.2.5 built from source for mips (run under
//! qemu-mips): the same verdicts on all 23,130 (datatype, value) pairs of
//! tests/openwrt_init.rs's corpus on both (`real_validate_data_by_hand`).
//! (Zig's bundled libc is no substitute: it replaces musl's strtoul, which
//! then stops early on numbers beyond 2^32 on mips.)

/// The width of C's `long` on the target that runs validate_data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// mips, mipsel, arm: 32-bit `long`.
    Long32,
    /// aarch64, x86_64: 64-bit `long`.
    Long64,
}

impl Target {
    fn long_bits(self) -> u32 {
        match self {
            Target::Long32 => 32,
            Target::Long64 => 64,
        }
    }
}

/// `dt_parse(code, value) != DT_INVALID`: whether `value` is valid for the
/// datatype expression `code`. An expression that does not parse is false,
/// as there, and so is a true verdict that no typed check gave a type to
/// (`not(...)` alone).
pub fn valid(code: &str, value: &str, target: Target) -> bool {
    if value.is_empty() {
        return false;
    }
    let mut s = State {
        code: code.as_bytes(),
        stack: Vec::new(),
        pos: 0,
        value: value.as_bytes().to_vec(),
        target,
        typed: false,
    };
    // The implicit outer `or` over the top-level list.
    s.stack.push(Op {
        kind: OpKind::Function(Fun::Or),
        next: 0,
        length: 0,
        nextop: 0,
    });
    if !s.parse_list(0, code.len()) {
        return false;
    }
    s.pos = 0;
    s.call() && s.typed
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fun {
    Or,
    And,
    Not,
    List,
    Range,
    RangeLength,
    UInteger,
    Bool,
    IpAddr,
    Hostname,
    Host,
    MacAddr,
    Regex,
}

/// The functions of validate.c's table that this port has; a name of the
/// table it does not have panics (the init script must not use it
/// unchecked); an unknown name is a syntax error, as there.
fn lookup(name: &[u8]) -> Option<Fun> {
    let f = match name {
        b"or" => Fun::Or,
        b"and" => Fun::And,
        b"not" => Fun::Not,
        b"list" => Fun::List,
        b"range" => Fun::Range,
        b"rangelength" => Fun::RangeLength,
        b"uinteger" => Fun::UInteger,
        b"bool" => Fun::Bool,
        b"ipaddr" => Fun::IpAddr,
        b"hostname" => Fun::Hostname,
        b"host" => Fun::Host,
        b"macaddr" => Fun::MacAddr,
        b"regex" => Fun::Regex,
        b"neg" | b"min" | b"max" | b"minlength" | b"maxlength" | b"integer" | b"float"
        | b"ufloat" | b"string" | b"hexstring" | b"ip4addr" | b"ip6addr" | b"cidr4" | b"cidr6"
        | b"cidr" | b"netmask4" | b"netmask6" | b"ipmask4" | b"ipmask6" | b"ipmask" | b"port"
        | b"portrange" | b"uciname" | b"wpakey" | b"wepkey" | b"network" | b"phonedigit"
        | b"directory" | b"device" | b"file" | b"uci" => {
            panic!(
                "datatype {} is not ported (tests/openwrt/ubox_validate.rs)",
                String::from_utf8_lossy(name)
            )
        }
        _ => return None,
    };
    Some(f)
}

#[derive(Debug, Clone, Copy)]
enum OpKind {
    Number(f64),
    /// A quoted string: offset of its first character in the code.
    Str(usize),
    Function(Fun),
}

#[derive(Debug, Clone, Copy)]
struct Op {
    kind: OpKind,
    /// Offset in the code just after the atom.
    next: usize,
    /// A string's length, or a function's number of arguments.
    length: usize,
    nextop: usize,
}

struct State<'a> {
    code: &'a [u8],
    stack: Vec<Op>,
    pos: usize,
    value: Vec<u8>,
    target: Target,
    /// `valtype != DT_INVALID`: a check with a type (a literal, or any
    /// function but or, and, not, list) said true.
    typed: bool,
}

/// C's `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

impl State<'_> {
    /// The code byte at `i`, NUL past the end (a C string).
    fn c(&self, i: usize) -> u8 {
        self.code.get(i).copied().unwrap_or(0)
    }

    fn depth(&self) -> usize {
        self.stack.len()
    }

    fn parse_list(&mut self, code: usize, end: usize) -> bool {
        let fptr = self.depth() - 1;
        let mut nest: i32 = 0;
        let mut esc = false;
        let mut p = code;
        let mut last = code;
        let mut c = self.c(p);
        while p <= end {
            if esc {
                esc = false;
            } else {
                match c {
                    b'\\' => esc = true,
                    b'(' => nest += 1,
                    b')' => nest -= 1,
                    b',' | 0 if nest <= 0 => {
                        if p > last {
                            if !self.parse_expr(last, p) {
                                return false;
                            }
                            self.stack[fptr].length += 1;
                        }
                        last = p + 1;
                    }
                    _ => {}
                }
            }
            p += 1;
            c = if p < end { self.c(p) } else { 0 };
        }
        self.stack[fptr].nextop = self.depth();
        true
    }

    fn parse_expr(&mut self, code: usize, end: usize) -> bool {
        if !self.parse_atom(code, end) {
            return false;
        }
        let tok = self.depth() - 1;
        while is_space(self.c(self.stack[tok].next)) {
            self.stack[tok].next += 1;
        }
        let next = self.stack[tok].next;
        match self.stack[tok].kind {
            OpKind::Function(_) => {
                if self.c(next) == b'(' {
                    let mut end = end - 1;
                    while is_space(self.c(end)) && end > next + 1 {
                        end -= 1;
                    }
                    self.parse_list(next + 1, end)
                } else if next == end {
                    self.parse_list(next, next)
                } else {
                    false
                }
            }
            _ => next == end,
        }
    }

    fn parse_atom(&mut self, label: usize, end: usize) -> bool {
        if self.depth() + 1 >= 32 {
            return false;
        }
        let mut label = label;
        while is_space(self.c(label)) {
            label += 1;
        }
        let (number, used) = strtod(&self.code[label.min(self.code.len())..]);
        let op = if used > 0 {
            Op {
                kind: OpKind::Number(number),
                next: label + used,
                length: 0,
                nextop: 0,
            }
        } else if self.c(label) == b'"' || self.c(label) == b'\'' {
            let q = self.c(label);
            let mut esc = false;
            let mut p = label + 1;
            let mut found = None;
            while p <= end {
                if esc {
                    esc = false;
                } else if self.c(p) == b'\\' {
                    esc = true;
                } else if self.c(p) == q {
                    found = Some(p);
                    break;
                }
                p += 1;
            }
            let Some(p) = found else {
                return false;
            };
            Op {
                kind: OpKind::Str(label + 1),
                next: p + 1,
                length: p - label - 1,
                nextop: 0,
            }
        } else if self.c(label) != 0 {
            let mut p = label;
            while p <= end && (self.c(p).is_ascii_alphanumeric() || self.c(p) == b'_') {
                p += 1;
            }
            let Some(fun) = lookup(&self.code[label..p.min(self.code.len())]) else {
                return false;
            };
            Op {
                kind: OpKind::Function(fun),
                next: p,
                length: 0,
                nextop: 0,
            }
        } else {
            return false;
        };
        self.stack.push(op);
        let depth = self.depth();
        self.stack[depth - 1].nextop = depth;
        true
    }

    fn step(&mut self) -> bool {
        let op = self.stack[self.pos];
        let rv = match op.kind {
            OpKind::Number(n) => test_number(n, &self.value),
            OpKind::Str(start) => test_string(self.code, start, start + op.length, &self.value),
            OpKind::Function(_) => self.call(),
        };
        if rv && !matches!(op.kind, OpKind::Function(_)) {
            self.typed = true;
        }
        self.pos = op.nextop;
        rv
    }

    fn call(&mut self) -> bool {
        let fptr = self.stack[self.pos];
        let OpKind::Function(fun) = fptr.kind else {
            unreachable!()
        };
        self.pos += 1;
        let rv = self.run(fun, fptr.length);
        if rv && !matches!(fun, Fun::Or | Fun::And | Fun::Not | Fun::List) {
            self.typed = true;
        }
        self.pos = fptr.nextop;
        rv
    }

    /// `dt_getint(n, v)`: the n-th argument if it is a number, as an `int`.
    fn int_arg(&self, n: usize, nargs: usize) -> Option<i32> {
        if n >= nargs {
            return None;
        }
        match self.stack.get(self.pos + n)?.kind {
            // C's conversion of a double to int (the values here fit).
            OpKind::Number(v) => Some(v as i32),
            _ => None,
        }
    }

    fn run(&mut self, fun: Fun, nargs: usize) -> bool {
        let long_bits = self.target.long_bits();
        match fun {
            Fun::Or => {
                for _ in 0..nargs {
                    if self.step() {
                        return true;
                    }
                }
                false
            }
            Fun::And => {
                for _ in 0..nargs {
                    if !self.step() {
                        return false;
                    }
                }
                true
            }
            Fun::Not => nargs > 0 && !self.step(),
            Fun::List => {
                if nargs == 0 {
                    return false;
                }
                let pos = self.pos;
                let value = self.value.clone();
                let mut rv = true;
                // strtok(str, " \t")
                for token in value.split(|&b| b == b' ' || b == b'\t') {
                    if token.is_empty() {
                        continue;
                    }
                    self.value = token.to_vec();
                    if !self.step() {
                        rv = false;
                        break;
                    }
                    self.pos = pos;
                }
                self.value = value;
                rv
            }
            Fun::Range => match (self.int_arg(0, nargs), self.int_arg(1, nargs)) {
                (Some(min), Some(max)) => {
                    let (n, used) = strtol(&self.value, 0, long_bits);
                    // int n = strtol(...)
                    let n = n as i32;
                    used > 0 && used == self.value.len() && n >= min && n <= max
                }
                _ => false,
            },
            Fun::RangeLength => match (self.int_arg(0, nargs), self.int_arg(1, nargs)) {
                (Some(min), Some(max)) => {
                    let len = self.value.len() as i64;
                    len >= i64::from(min) && len <= i64::from(max)
                }
                _ => false,
            },
            Fun::UInteger => {
                if !self.value[0].is_ascii_hexdigit() {
                    return false;
                }
                let base = self.int_arg(0, nargs).unwrap_or(0);
                let (_, used) = strtoul(&self.value, base as u32, long_bits);
                used > 0 && used == self.value.len()
            }
            Fun::Bool => [
                "0", "off", "false", "no", "disabled", "1", "on", "true", "yes", "enabled",
            ]
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(&self.value)),
            Fun::IpAddr => ipaddr(&self.value),
            Fun::Hostname => hostname(&self.value),
            Fun::Host => hostname(&self.value) || ipaddr(&self.value),
            Fun::MacAddr => ether_aton(&self.value, long_bits),
            Fun::Regex => {
                if nargs < 1 {
                    return false;
                }
                let op = self.stack[self.pos];
                let OpKind::Str(start) = op.kind else {
                    return false;
                };
                let pattern = &self.code[start..start + op.length];
                regex_anchored(pattern, &self.value)
            }
        }
    }
}

/// `dt_test_number`: the value read by strtod equals the number.
fn test_number(number: f64, value: &[u8]) -> bool {
    let (n, used) = strtod(value);
    used > 0 && used == value.len() && n == number
}

/// `dt_test_string`: the value against a quoted string of the code
/// (`code[s..end]`), with its backslash escapes.
fn test_string(code: &[u8], mut s: usize, end: usize, value: &[u8]) -> bool {
    let at = |i: usize| code.get(i).copied().unwrap_or(0);
    let val = |i: usize| value.get(i).copied().unwrap_or(0);
    let mut v = 0;
    let mut esc = false;
    while val(v) != 0 {
        if s > end {
            return false;
        }
        if !esc && at(s) == b'\\' {
            s += 1;
            if s >= end {
                break;
            }
            esc = true;
            continue;
        }
        if at(s) != val(v) {
            return false;
        }
        esc = false;
        v += 1;
        s += 1;
    }
    at(s) == val(v) || (s >= end && val(v) == 0)
}

/// musl's `__intscan` with `pok` set (strtol, strtoul): the value as an
/// unsigned long long after the sign is applied, and the bytes read (0 when
/// nothing was converted: the end pointer is the start).
fn intscan(s: &[u8], base: u32, lim: u64) -> (u64, usize) {
    let val = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => 255,
        }
    };
    // The byte at i, or NUL (shgetc at the end returns EOF, which no
    // table entry accepts: the same).
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let mut base = base;
    if base > 36 || base == 1 {
        return (0, 0);
    }
    while is_space(at(i)) {
        i += 1;
    }
    let mut neg = false;
    if at(i) == b'+' || at(i) == b'-' {
        neg = at(i) == b'-';
        i += 1;
    }
    if (base == 0 || base == 16) && at(i) == b'0' {
        i += 1;
        if at(i) | 32 == b'x' {
            if val(at(i + 1)) >= 16 {
                // Only the "0" was read.
                return (0, i);
            }
            i += 1;
            base = 16;
        } else if base == 0 {
            base = 8;
        }
    } else {
        if base == 0 {
            base = 10;
        }
        if val(at(i)) >= base {
            return (0, 0);
        }
    }
    let mut y: u64 = 0;
    let mut overflow = false;
    while val(at(i)) < base {
        let d = u64::from(val(at(i)));
        match y
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(d))
        {
            Some(n) if !overflow => y = n,
            _ => overflow = true,
        }
        i += 1;
    }
    if overflow {
        y = lim;
        if lim & 1 == 1 {
            neg = false;
        }
    }
    if y >= lim {
        if lim & 1 == 0 && !neg {
            return (lim - 1, i);
        } else if y > lim {
            return (lim, i);
        }
    }
    let y = if neg { y.wrapping_neg() } else { y };
    (y, i)
}

/// `strtol`: the result as a C `long` of the target's width, and the bytes
/// read.
fn strtol(s: &[u8], base: u32, long_bits: u32) -> (i64, usize) {
    let lim = 1u64 << (long_bits - 1);
    let (y, used) = intscan(s, base, lim);
    let n = if long_bits == 32 {
        i64::from(y as u32 as i32)
    } else {
        y as i64
    };
    (n, used)
}

/// `strtoul`: the result as a C `unsigned long`, and the bytes read.
fn strtoul(s: &[u8], base: u32, long_bits: u32) -> (u64, usize) {
    let lim = if long_bits == 32 {
        u64::from(u32::MAX)
    } else {
        u64::MAX
    };
    let (y, used) = intscan(s, base, lim);
    let n = if long_bits == 32 {
        u64::from(y as u32)
    } else {
        y
    };
    (n, used)
}

/// `strtod`, for the numbers of a datatype expression: the value and the
/// bytes read (leading spaces, a sign, decimal digits with a point and an
/// exponent, "0x" hexadecimal, "inf", "infinity" and "nan").
fn strtod(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while is_space(at(i)) {
        i += 1;
    }
    let start = i;
    let mut negative = false;
    if at(i) == b'+' || at(i) == b'-' {
        negative = at(i) == b'-';
        i += 1;
    }
    let lower = |from: usize, n: usize| -> Vec<u8> {
        (from..from + n)
            .map(|k| at(k).to_ascii_lowercase())
            .collect()
    };
    for word in [&b"infinity"[..], b"inf"] {
        if lower(i, word.len()) == word {
            let inf = if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            return (inf, i + word.len());
        }
    }
    if lower(i, 3) == b"nan" {
        return (f64::NAN, i + 3);
    }
    if at(i) == b'0' && at(i + 1) | 32 == b'x' {
        let mut j = i + 2;
        let mut v = 0f64;
        let mut digits = 0;
        while at(j).is_ascii_hexdigit() {
            v = v * 16.0 + f64::from((at(j) as char).to_digit(16).unwrap());
            j += 1;
            digits += 1;
        }
        if digits == 0 {
            // "0x" alone: the "0" is the number.
            return (0.0, i + 1);
        }
        assert!(
            at(j) != b'.' && at(j) | 32 != b'p',
            "hexadecimal fractions are not ported"
        );
        return (if negative { -v } else { v }, j);
    }
    let mut j = i;
    let mut digits = 0;
    while at(j).is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if at(j) == b'.' {
        j += 1;
        while at(j).is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0);
    }
    if at(j) | 32 == b'e' {
        let mut k = j + 1;
        if at(k) == b'+' || at(k) == b'-' {
            k += 1;
        }
        if at(k).is_ascii_digit() {
            while at(k).is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[start..j]).unwrap();
    (text.parse().unwrap(), j)
}

/// musl's `inet_pton(AF_INET, ...)`.
fn inet_pton4(s: &[u8]) -> bool {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut base = 0;
    for i in 0..4 {
        let mut v = 0u32;
        let mut j = 0;
        while j < 3 && at(base + j).is_ascii_digit() {
            v = 10 * v + u32::from(at(base + j) - b'0');
            j += 1;
        }
        if j == 0 || (j > 1 && at(base) == b'0') || v > 255 {
            return false;
        }
        if at(base + j) == 0 && i == 3 {
            return true;
        }
        if at(base + j) != b'.' {
            return false;
        }
        base += j + 1;
    }
    false
}

/// musl's `inet_pton(AF_INET6, ...)`.
fn inet_pton6(s: &[u8]) -> bool {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let hexval = |c: u8| -> Option<u32> { (c as char).to_digit(16) };
    let mut p = 0;
    let mut brk: Option<usize> = None;
    let mut need_v4 = false;
    if at(p) == b':' {
        p += 1;
        if at(p) != b':' {
            return false;
        }
    }
    let mut i = 0;
    loop {
        if at(p) == b':' && brk.is_none() {
            brk = Some(i);
            p += 1;
            if at(p) == 0 {
                break;
            }
            if i == 7 {
                return false;
            }
            i += 1;
            continue;
        }
        let mut j = 0;
        while j < 4 && hexval(at(p + j)).is_some() {
            j += 1;
        }
        if j == 0 {
            return false;
        }
        if at(p + j) == 0 && (brk.is_some() || i == 7) {
            break;
        }
        if i == 7 {
            return false;
        }
        if at(p + j) != b':' {
            if at(p + j) != b'.' || (i < 6 && brk.is_none()) {
                return false;
            }
            need_v4 = true;
            break;
        }
        p += j + 1;
        i += 1;
    }
    if need_v4 && !inet_pton4(&s[p..]) {
        return false;
    }
    true
}

fn ipaddr(value: &[u8]) -> bool {
    inet_pton4(value) || inet_pton6(value)
}

/// validate.c's `dt_type_hostname`.
fn hostname(value: &[u8]) -> bool {
    let mut last = 0;
    for (p, &c) in value.iter().enumerate() {
        if c == b'.' {
            if p - last == 0 || p - last > 63 {
                return false;
            }
            last = p + 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            continue;
        }
        return false;
    }
    let p = value.len();
    p - last > 0 && p - last <= 255
}

/// musl's `ether_aton`: six fields separated by ':', each read by
/// `strtoul(x, &y, 16)` (so spaces, a sign, "0x", or nothing at all are
/// taken) and at most 0xFF.
fn ether_aton(value: &[u8], long_bits: u32) -> bool {
    let mut x = 0;
    for ii in 0..6 {
        if ii != 0 {
            if value.get(x) != Some(&b':') {
                return false;
            }
            x += 1;
        }
        let (n, used) = strtoul(&value[x..], 16, long_bits);
        x += used;
        if n > 0xFF {
            return false;
        }
    }
    x == value.len()
}

/// `regcomp("^" pattern "$", REG_EXTENDED)` and `regexec` for patterns of
/// literal characters, `.` and `X*` only.
fn regex_anchored(pattern: &[u8], value: &[u8]) -> bool {
    for &c in pattern {
        assert!(
            c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'*' | b'_' | b'-'),
            "regex {} is not ported",
            String::from_utf8_lossy(pattern)
        );
    }
    fn matches(p: &[u8], v: &[u8]) -> bool {
        let one = |pc: u8, vc: u8| pc == b'.' || pc == vc;
        match p {
            [] => v.is_empty(),
            [pc, b'*', rest @ ..] => {
                let mut k = 0;
                loop {
                    if matches(rest, &v[k..]) {
                        return true;
                    }
                    if k < v.len() && one(*pc, v[k]) {
                        k += 1;
                    } else {
                        return false;
                    }
                }
            }
            [pc, rest @ ..] => !v.is_empty() && one(*pc, v[0]) && matches(rest, &v[1..]),
        }
    }
    matches(pattern, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verdicts of validate_data built from openwrt/ubox with musl, on
    /// x86_64 and under qemu-mips (`validate_data TYPE VALUE`): the
    /// quirks the comparison with the daemon lists.
    #[test]
    fn verdicts_of_the_real_validate_data() {
        use Target::*;
        let cases: &[(&str, &str, Target, bool)] = &[
            ("and(uinteger,range(0,86400))", "020", Long64, true),
            ("and(uinteger,range(0,86400))", "0128", Long64, false),
            ("and(uinteger,range(0,86400))", "0x10", Long64, true),
            ("and(uinteger,range(0,86400))", "100000", Long64, false),
            ("and(uinteger,range(0,86400))", "0100000", Long64, true),
            ("and(uinteger,range(0,86400))", "-0", Long64, false),
            ("and(uinteger,range(1,65535))", "4294967297", Long64, true),
            ("and(uinteger,range(1,65535))", "4294967297", Long32, false),
            ("macaddr", ":::::", Long64, true),
            ("macaddr", " 2:+0x3:-0:0:0:0", Long32, true),
        ];
        for &(code, value, target, want) in cases {
            assert_eq!(
                valid(code, value, target),
                want,
                "{code} {value:?} {target:?}"
            );
        }
    }
}
