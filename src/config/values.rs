//! Parsers of the values that options take: booleans, decimal numbers,
//! interface names, host names and addresses, MAC addresses. Each returns
//! what it read or nothing; the checker (`check.rs`) words the errors.
//! The LuCI page uses the same rules (tests/luci_app.rs compares them).

use crate::mac::MacAddr;

/// Parses a UCI boolean: `1/0`, `yes/no`, `on/off`, `true/false` or
/// `enabled/disabled`, in any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["1", "yes", "on", "true", "enabled"];
    const FALSE: [&str; 5] = ["0", "no", "off", "false", "disabled"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// Whether Linux accepts `name` as a network device name (the kernel's
/// `dev_valid_name`): 1 to 15 bytes, not `.` or `..`, without `/`, `:` or
/// whitespace.
pub fn is_valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        // The kernel's isspace() also counts 0xA0 (Latin-1 no-break space).
        && !name
            .bytes()
            .any(|b| matches!(b, b'/' | b':' | b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0))
}

/// Checks a collector address: an IPv4 or IPv6 literal (IPv6 may be in
/// brackets, which are removed) or a DNS host name. Returns the address to
/// use, or what is wrong with it.
pub fn parse_host(text: &str) -> Result<String, &'static str> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return match crate::ip::parse_v6(inner) {
            Some(_) => Ok(inner.to_owned()),
            None => Err("expected an IPv6 address inside the brackets"),
        };
    }
    if crate::ip::parse(text).is_some() {
        return Ok(text.to_owned());
    }
    if text.contains(':') {
        let port_like = text
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return Err(if port_like {
            "expected an IP address or host name without a port (set the port with option 'port')"
        } else {
            "expected an IPv4 address, an IPv6 address or a host name"
        });
    }
    if is_dns_name(text) {
        Ok(text.to_owned())
    } else {
        Err("expected an IPv4 address, an IPv6 address or a host name")
    }
}

/// Checks a DNS domain name (`option dns_sd_domain`): labels as in a host
/// name (see [`parse_host`]), an optional final dot, which is removed.
pub fn parse_domain(text: &str) -> Result<String, &'static str> {
    if text.starts_with('.') && text.len() > 1 {
        return Err("expected a domain name without a leading dot (hsflowd's DNSSD_domain is written '.example.com', this one 'example.com')");
    }
    if !is_dns_name(text) {
        return Err("expected a domain name: labels of 1 to 63 letters, digits and '-' (not first or last), the last one not all digits");
    }
    Ok(text.strip_suffix('.').unwrap_or(text).to_owned())
}

/// Parses a MAC address written as six pairs of hex digits separated by
/// `:` or `-` (the same separator throughout), in any case:
/// `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF` ([`MacAddr::parse`], the
/// agent's one parser).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    MacAddr::parse(text).map(|m| m.0)
}

/// Labels of 1 to 63 letters, digits and `-` (not first or last), 253
/// characters in all, with an optional final dot. A name whose last label
/// is all digits is taken for a mistyped IPv4 address and refused.
fn is_dns_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let numeric_tail = name
        .rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !numeric_tail
}

/// Decimal digits only: no sign, no spaces, no `0x`.
pub fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// A value quoted for a message: at most 64 characters, control
/// characters escaped.
pub fn quoted(value: &str) -> String {
    let mut out = String::from("'");
    for (i, c) in value.chars().enumerate() {
        if i == 64 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}
