//! The translation template of a LuCI app as LuCI's `build/i18n-scan.pl`
//! makes it, for the test that compares it with the committed
//! `po/templates/*.pot` (CI cannot fetch LuCI to run the script itself).
//!
//! This is the script's own work redone step by step, on the files an app
//! of JavaScript views has (`*.js`, `menu.d/*.json`, `acl.d/*.json`), with
//! the same gettext tools and options (Debian's `gettext` package): each
//! file through `xgettext --language=JavaScript` (a JSON file after its
//! `"title"` and `"description"` values are wrapped in `_()`), its output
//! post-processed (locations rewritten to the file's path, continuation
//! lines joined, whitespace collapsed, empty ids and flags dropped), all of
//! it through `msguniq -s`, and the location lines of each entry sorted.
//! The line breaking of long ids and the sorting are gettext's. The output
//! is byte for byte the script's: checked by hand with i18n-scan.pl from
//! openwrt/luci (`real_i18n_scan_by_hand` in tests/luci_app.rs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The gettext tools the scan runs.
pub const TOOLS: [&str; 2] = ["xgettext", "msguniq"];

/// The template of the app in `app_dir`, whose files are named in it as
/// `label/<path inside the app>` (i18n-scan.pl names them as it was given
/// them: `applications/luci-app-NAME/...` from the top of the LuCI tree).
pub fn template(app_dir: &Path, label: &str) -> Result<String, String> {
    let mut files = Vec::new();
    collect(app_dir, &mut files)?;
    files.sort();
    let mut all = String::from("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\"\n");
    for file in files {
        let rel = file.strip_prefix(app_dir).unwrap().to_string_lossy();
        let path = format!("{label}/{rel}");
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{path}: {e}"))?;
        let source = if path.ends_with(".json") {
            wrap_json_titles(&text)
        } else {
            text
        };
        let pot = run(
            &[
                "xgettext",
                "--from-code=UTF-8",
                "--no-wrap",
                "--language=JavaScript",
                "--keyword=_:1",
                "--keyword=_:1,2c",
                "--keyword=N_:2,3",
                "--keyword=N_:2,3,4c",
                "-o",
                "-",
                "-",
            ],
            &source,
        )?;
        all.push_str(&postprocess(&path, &pot));
    }
    Ok(sort_locations(&run(&["msguniq", "-s"], &all)?))
}

/// The files i18n-scan.pl's `find` takes (`-name '*.js'`, `-path
/// '*/menu.d/*.json'`...), as far as an app of views has them; the kinds it
/// preprocesses otherwise (Lua, templates) are refused.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    const JSON_UNDER: [&str; 4] = [
        "/menu.d/",
        "/acl.d/",
        "/statistics/plugins/",
        "/https-dns-proxy/providers/",
    ];
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, files)?;
            continue;
        }
        let name = path.to_string_lossy();
        if name.ends_with(".js")
            || (name.ends_with(".json") && JSON_UNDER.iter().any(|d| name.contains(d)))
        {
            files.push(path);
        } else if [".htm", ".lua", ".uc", ".ut"]
            .iter()
            .any(|e| name.ends_with(e))
        {
            return Err(format!(
                "{name}: not a kind of file this port of i18n-scan.pl reads"
            ));
        }
    }
    Ok(())
}

/// Runs a gettext tool in the C locale (as the script does) with `input`
/// on its standard input; its standard output.
fn run(argv: &[&str], input: &str) -> Result<String, String> {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().unwrap().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            argv.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Perl's `\s`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// preprocess_json: `s/("(?:title|description)")\s*:\s*("(?:[^"\\]|\\.)*")/$1: _($2)/sg`.
fn wrap_json_titles(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut i = 0;
    'scan: while i < bytes.len() {
        for key in [&b"\"title\""[..], &b"\"description\""[..]] {
            if !bytes[i..].starts_with(key) {
                continue;
            }
            let mut j = i + key.len();
            while j < bytes.len() && is_space(bytes[j]) {
                j += 1;
            }
            if bytes.get(j) != Some(&b':') {
                continue;
            }
            j += 1;
            while j < bytes.len() && is_space(bytes[j]) {
                j += 1;
            }
            if bytes.get(j) != Some(&b'"') {
                continue;
            }
            let start = j;
            j += 1;
            while j < bytes.len() && bytes[j] != b'"' {
                // `\\.`: a backslash and any character but a newline.
                if bytes[j] == b'\\' && j + 1 < bytes.len() && bytes[j + 1] != b'\n' {
                    j += 2;
                } else if bytes[j] == b'\\' {
                    break;
                } else {
                    j += 1;
                }
            }
            if bytes.get(j) != Some(&b'"') {
                continue;
            }
            out.extend_from_slice(key);
            out.extend_from_slice(b": _(");
            out.extend_from_slice(&bytes[start..=j]);
            out.push(b')');
            i = j + 1;
            continue 'scan;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("only ASCII was added")
}

/// whitespace_collapse: `\t` and `\n` escapes as spaces, runs of spaces as
/// one, one space trimmed at each end.
fn collapse(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&e)) if e != '\n' => {
                chars.next();
                if e == 'n' || e == 't' {
                    out.push(' ');
                } else {
                    out.push('\\');
                    out.push(e);
                }
            }
            (c, _) => out.push(c),
        }
    }
    let mut single = String::new();
    for c in out.chars() {
        if !(c == ' ' && single.ends_with(' ')) {
            single.push(c);
        }
    }
    let single = single.strip_prefix(' ').unwrap_or(&single);
    single.strip_suffix(' ').unwrap_or(single).to_owned()
}

/// `msgid "..."` and the like: the keyword and the quoted text.
fn keyword_line(line: &str) -> Option<(&str, &str)> {
    let (kw, rest) = line.split_once(' ')?;
    let kw_ok = kw.len() > 3
        && kw.starts_with("msg")
        && kw[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let text = rest.strip_prefix('"')?.strip_suffix('"')?;
    kw_ok.then_some((kw, text))
}

fn quoted_line(line: &str) -> Option<&str> {
    line.strip_prefix('"')?.strip_suffix('"')
}

/// postprocess_pot.
fn postprocess(path: &str, pot: &str) -> String {
    // Each location line: one line per ":N" it holds, with the file's path.
    let mut source = String::new();
    for line in pot.split_inclusive('\n') {
        match line.strip_prefix("#: ").and_then(|l| l.strip_suffix('\n')) {
            Some(refs) if !refs.is_empty() => {
                let numbers: Vec<&str> = refs
                    .split(':')
                    .skip(1)
                    .map(|p| &p[..p.bytes().take_while(u8::is_ascii_digit).count()])
                    .filter(|n| !n.is_empty())
                    .collect();
                let lines: Vec<String> = numbers.iter().map(|n| format!("#: {path}:{n}")).collect();
                source.push_str(&lines.join("\n"));
                source.push('\n');
            }
            _ => source.push_str(line),
        }
    }
    // Perl's split drops the empty fields at the end.
    let mut lines: Vec<&str> = source.split('\n').collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    let mut lines = lines
        .into_iter()
        .skip_while(|l| !l.starts_with("#: "))
        .peekable();
    let mut res: Vec<String> = Vec::new();
    while let Some(line) = lines.next() {
        if let Some((kw, first)) = keyword_line(line) {
            let mut value = first.to_owned();
            while let Some(more) = lines.peek().and_then(|l| quoted_line(l)) {
                value.push(' ');
                value.push_str(more);
                lines.next();
            }
            let value = collapse(&value);
            if kw != "msgstr" && value.is_empty() {
                // An empty id: the entry is dropped.
                while res.last().is_some_and(|l| !l.is_empty()) {
                    res.pop();
                }
                while lines
                    .peek()
                    .is_some_and(|l| quoted_line(l).is_some() || keyword_line(l).is_some())
                {
                    lines.next();
                }
                continue;
            }
            res.push(format!("{kw} \"{value}\""));
        } else if line.starts_with("#, ") {
            continue;
        } else {
            res.push(line.to_owned());
        }
    }
    if res.is_empty() {
        return String::new();
    }
    format!("\n{}\n", res.join("\n"))
}

/// The location lines of each entry sorted by path, then line number.
fn sort_locations(pot: &str) -> String {
    let lines: Vec<&str> = pot.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("#: ") {
            out.push_str(lines[i]);
            i += 1;
            continue;
        }
        let mut refs = Vec::new();
        while i < lines.len() && lines[i].starts_with("#: ") {
            let line = lines[i].trim_end_matches('\n');
            let (place, number) = line.rsplit_once(':').expect("a location line");
            refs.push((
                place.to_owned(),
                number.parse::<u64>().expect("a line number"),
            ));
            i += 1;
        }
        refs.sort();
        for (place, number) in refs {
            out.push_str(&format!("{place}:{number}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_titles_and_descriptions_are_wrapped_as_the_script_does() {
        assert_eq!(
            wrap_json_titles(
                "{ \"title\":\n \"A \\\"b\\\"\", \"x\": \"title\", \"description\" : \"D\" }"
            ),
            "{ \"title\": _(\"A \\\"b\\\"\"), \"x\": \"title\", \"description\": _(\"D\") }"
        );
    }

    #[test]
    fn whitespace_is_collapsed_as_the_script_does() {
        assert_eq!(collapse(" a\\n\\tb  c \\\" "), "a b c \\\"");
        assert_eq!(collapse("Error: "), "Error:");
    }
}
