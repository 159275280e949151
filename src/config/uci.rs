//! A parser for OpenWrt's UCI configuration files (`/etc/config/*`).
//!
//! It follows the syntax of libuci's own parser (`file.c` in openwrt/uci),
//! in the strict mode that the `uci` command line tool uses, so that a file
//! read here means what `uci show` says it means:
//!
//! - Statements: `package NAME`, `config TYPE [NAME]`, `option NAME VALUE`
//!   and `list NAME VALUE`; each keyword may be shortened to its first
//!   letter. Several statements may share a line, separated by `;`, with
//!   libuci's quirks: a `;` right after an unquoted word ends the line, and
//!   one where an argument may start is an empty argument.
//! - Arguments: unquoted text up to whitespace, `'single quoted'` text (no
//!   escapes) or `"double quoted"` text (backslash escapes); quoted text may
//!   span lines, and touching parts join into one argument. Outside single
//!   quotes a backslash makes the next character literal (`\n` is `n`), and
//!   at the end of a line it continues the statement on the next one.
//! - An unquoted `#` starts a comment that runs to the end of the line.
//! - `option` sets or replaces an option (a list too) with a single value;
//!   an empty value (`option NAME ''`) changes nothing, as in libuci. `list`
//!   appends, turning a single value into a list; empty items are kept.
//! - `config TYPE NAME` with a name already used reopens that section.
//!
//! The lexer models libuci's line buffer, NUL bytes it writes included, so
//! that odd input gives the same result too; `tests/config_files/
//! libuci_cases.txt` holds inputs checked against libuci itself. Where
//! libuci reports a line, this parser reports the line where the offending
//! word starts, and value bytes must be UTF-8.
//!
//! The parser works on bytes, never panics, does not recurse and uses memory
//! in proportion to its input, and at most [`MAX_STATEMENTS`] statements:
//! a daemon's configuration has no use for more, and the limit bounds the
//! memory a file can make the daemon use (libuci has none). Anonymous sections are named the way
//! `uci show` names them, `@TYPE[N]`, so messages point at what users see.

use std::collections::BTreeMap;
use std::fmt;

/// Statements (`config`, `option`, `list`, `package`) read from one file at
/// most; a file with more is refused.
pub const MAX_STATEMENTS: usize = 8192;

/// A parsed configuration file: its sections in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Package {
    pub sections: Vec<Section>,
}

/// One `config TYPE [NAME]` section, with every statement that reopened it
/// merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section type (`config agent` has the type `agent`).
    pub kind: String,
    /// The section name, or `None` for an anonymous section.
    pub name: Option<String>,
    /// The 1-based line of the first `config` statement of this section.
    pub line: usize,
    /// Index among the sections of the same type, named ones included, in
    /// file order: the `N` of `@TYPE[N]`.
    pub index: usize,
    /// The options, in the order they were first set.
    pub options: Vec<UciOption>,
}

/// One option of a section: a single value or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciOption {
    pub name: String,
    pub value: Value,
    /// The 1-based line of the statement that last set or extended it.
    pub line: usize,
    /// The line of each item of [`UciOption::value`], in the same order as
    /// [`Value::items`] (a single value has one entry, equal to `line`).
    pub item_lines: Vec<usize>,
}

/// The value of an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Set with `option NAME VALUE`; never empty.
    Single(String),
    /// Built with `list NAME VALUE`; items may be empty.
    List(Vec<String>),
}

/// A syntax error, with the line where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl Package {
    /// The sections of one type, in file order.
    pub fn sections_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.kind == kind)
    }

    /// The named section `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
    }
}

impl Section {
    /// How `uci show` addresses the section: `'agent'` (quoted) for a named
    /// section, `@collector[0]` for an anonymous one.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!("'{name}'"),
            None => format!("@{}[{}]", self.kind, self.index),
        }
    }

    /// The option `name`, if set.
    pub fn get(&self, name: &str) -> Option<&UciOption> {
        self.options.iter().find(|o| o.name == name)
    }
}

impl Value {
    /// The value if it is a single one (set with `option`).
    pub fn as_single(&self) -> Option<&str> {
        match self {
            Value::Single(s) => Some(s),
            Value::List(_) => None,
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Value::List(_))
    }

    /// The items: one for a single value, every item for a list.
    pub fn items(&self) -> &[String] {
        match self {
            Value::Single(s) => std::slice::from_ref(s),
            Value::List(items) => items,
        }
    }
}

/// Parses the text of a UCI file.
pub fn parse(input: &[u8]) -> Result<Package, ParseError> {
    if let Some(at) = input.iter().position(|&b| b == 0) {
        let line = 1 + input[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(error(line, "NUL character in input"));
    }
    let mut lexer = Lexer {
        src: input,
        pos: 0,
        end: 0,
        filled: 0,
        line: 0,
    };
    let mut builder = Builder::default();
    let mut statements = 0;
    // libuci's uci_parse_line, once per line read.
    while lexer.read_line() {
        lexer.skip_space();
        while let Some((keyword, line)) = lexer.command() {
            statements += 1;
            if statements > MAX_STATEMENTS {
                return Err(error(
                    line,
                    &format!("too many statements (more than {MAX_STATEMENTS}): refused"),
                ));
            }
            statement(&mut lexer, &mut builder, keyword, line)?;
        }
    }
    Ok(builder.finish())
}

/// Parses one statement, its command word already read.
fn statement(
    lexer: &mut Lexer<'_>,
    builder: &mut Builder,
    keyword: Keyword<'_>,
    line: usize,
) -> Result<(), ParseError> {
    let (word, delimited) = match keyword {
        Keyword::Word { word, delimited } => (word, delimited),
        Keyword::Invalid => return Err(error(line, "invalid command")),
    };
    // Matched as `str`: rustc compares byte-string patterns byte by byte,
    // str patterns with one call (smaller); bytes that are not UTF-8 are
    // no command.
    let kind = match std::str::from_utf8(word).unwrap_or_default() {
        "package" | "p" => Command::Package,
        "config" | "c" => Command::Config,
        "option" | "o" => Command::Option,
        "list" | "l" => Command::List,
        _ => return Err(error(line, "invalid command")),
    };
    if matches!(kind, Command::Option | Command::List) && builder.current.is_none() {
        return Err(error(
            line,
            "option/list command found before the first section",
        ));
    }
    if !delimited {
        // The keyword ends the input: libuci's "config without name".
        return Err(error(line, "insufficient arguments"));
    }
    match kind {
        Command::Package => {
            let name = lexer.required_arg()?;
            if !valid_name(&name.text, true) {
                return Err(error(name.line, "invalid character in name field"));
            }
            lexer.assert_eol()?;
            // A single file is loaded as the package its file name says;
            // like libuci we check the statement and otherwise ignore it.
        }
        Command::Config => {
            let section_type = lexer.required_arg()?;
            if !section_type.text.iter().all(|&b| (33..=126).contains(&b)) {
                return Err(error(section_type.line, "invalid character in type field"));
            }
            let name = lexer.next_arg()?;
            if !name.text.is_empty() && !valid_name(&name.text, false) {
                return Err(error(name.line, "invalid character in name field"));
            }
            lexer.assert_eol()?;
            let name = Some(ascii(name.text)).filter(|n| !n.is_empty());
            builder.config(ascii(section_type.text), name, line)?;
        }
        Command::Option | Command::List => {
            let name = lexer.required_arg()?;
            if !valid_name(&name.text, false) {
                return Err(error(name.line, "invalid character in name field"));
            }
            let value = lexer.next_arg()?;
            lexer.assert_eol()?;
            let Ok(text) = String::from_utf8(value.text) else {
                return Err(error(value.line, "value is not valid UTF-8"));
            };
            if matches!(kind, Command::List) {
                builder.add_list(ascii(name.text), text, line);
            } else {
                builder.set(ascii(name.text), text, line);
            }
        }
    }
    Ok(())
}

/// Why a package cannot be written as a UCI file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError {
    pub message: String,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExportError {}

/// libuci's `uci_escape`: every `'` becomes `'\''`, the rest is copied.
fn escape(text: &str, out: &mut String) {
    for (i, part) in text.split('\'').enumerate() {
        if i > 0 {
            out.push_str("'\\''");
        }
        out.push_str(part);
    }
}

/// Writes `package` in the format of libuci's `uci export` (and of the
/// files `uci commit` writes): with `header`, a `package NAME` line first
/// (as `uci export` prints); then, for each section, an empty line,
/// `config TYPE` with ` 'NAME'` for a named section, and its options in
/// order, `\toption NAME 'VALUE'` or one `\tlist NAME 'ITEM'` per item,
/// with libuci's quoting (`'` as `'\''`); a final empty line.
///
/// [`parse`] reads the result back as the same sections, options and
/// values (only the line numbers differ). A section type holding a quote,
/// a backslash, `#` or `;` is quoted (libuci writes it bare, which does
/// not read back); what cannot be written is refused: a section type that
/// is empty or holds a space or a character outside printable ASCII, a
/// section or option name that is not letters, digits and `_`, an empty
/// single value (libuci deletes the option instead), a NUL byte.
pub fn export(package: &Package, header: Option<&str>) -> Result<String, ExportError> {
    let refuse = |message: String| Err(ExportError { message });
    let mut out = String::new();
    if let Some(name) = header {
        if !valid_name(name.as_bytes(), true) {
            return refuse(format!("invalid package name {name:?}"));
        }
        out.push_str("package ");
        out.push_str(name);
        out.push('\n');
    }
    for section in &package.sections {
        if section.kind.is_empty() || !section.kind.bytes().all(|b| b.is_ascii_graphic()) {
            return refuse(format!("invalid section type {:?}", section.kind));
        }
        out.push_str("\nconfig ");
        if section
            .kind
            .bytes()
            .any(|b| matches!(b, b'\'' | b'"' | b'\\' | b'#' | b';'))
        {
            // libuci writes the type bare, which would not read back.
            out.push('\'');
            escape(&section.kind, &mut out);
            out.push('\'');
        } else {
            out.push_str(&section.kind);
        }
        if let Some(name) = &section.name {
            if !valid_name(name.as_bytes(), false) {
                return refuse(format!("invalid section name {name:?}"));
            }
            out.push_str(" '");
            out.push_str(name);
            out.push('\'');
        }
        out.push('\n');
        for option in &section.options {
            if !valid_name(option.name.as_bytes(), false) {
                return refuse(format!("invalid option name {:?}", option.name));
            }
            let (keyword, items) = match &option.value {
                Value::Single(value) if value.is_empty() => {
                    return refuse(format!("option {:?} has an empty value", option.name));
                }
                Value::Single(value) => ("option", std::slice::from_ref(value)),
                Value::List(items) => ("list", &items[..]),
            };
            for item in items {
                if item.contains('\0') {
                    return refuse(format!("option {:?} holds a NUL byte", option.name));
                }
                out.push('\t');
                out.push_str(keyword);
                out.push(' ');
                out.push_str(&option.name);
                out.push_str(" '");
                escape(item, &mut out);
                out.push_str("'\n");
            }
        }
    }
    out.push('\n');
    Ok(out)
}

impl Package {
    /// Numbers the sections of each type again (the `N` of `@TYPE[N]`),
    /// after sections were added, removed or moved.
    pub fn renumber(&mut self) {
        let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
        for section in &mut self.sections {
            let n = per_kind.entry(section.kind.clone()).or_insert(0);
            section.index = *n;
            *n += 1;
        }
    }
}

impl Section {
    /// A new section without options.
    pub fn new(kind: &str, name: Option<&str>) -> Section {
        Section {
            kind: kind.to_owned(),
            name: name.map(str::to_owned),
            line: 0,
            index: 0,
            options: Vec::new(),
        }
    }

    /// Sets option `name` to `value`, replacing it in place if it is set
    /// (libuci keeps its position), as `uci set` does; an empty single
    /// value deletes it, as in libuci.
    pub fn set(&mut self, name: &str, value: Value) {
        if matches!(&value, Value::Single(v) if v.is_empty()) {
            self.unset(name);
            return;
        }
        let item_lines = vec![0; value.items().len()];
        let option = UciOption {
            name: name.to_owned(),
            value,
            line: 0,
            item_lines,
        };
        match self.options.iter_mut().find(|o| o.name == name) {
            Some(old) => *old = option,
            None => self.options.push(option),
        }
    }

    /// Removes option `name`; false if it was not set.
    pub fn unset(&mut self, name: &str) -> bool {
        let before = self.options.len();
        self.options.retain(|o| o.name != name);
        self.options.len() != before
    }
}

fn error(line: usize, message: &str) -> ParseError {
    ParseError {
        line,
        message: message.to_owned(),
    }
}

/// C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// libuci's `uci_validate_str` for names: option and section names are
/// ASCII letters, digits and `_`; package names may also contain `-`.
fn valid_name(text: &[u8], package: bool) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || (package && b == b'-'))
}

/// Text already checked to be ASCII.
fn ascii(text: Vec<u8>) -> String {
    String::from_utf8(text).unwrap_or_default()
}

enum Command {
    Package,
    Config,
    Option,
    List,
}

enum Keyword<'a> {
    /// A command word, and whether a space or tab follows it.
    Word {
        word: &'a [u8],
        delimited: bool,
    },
    Invalid,
}

struct Arg {
    /// Empty when absent.
    text: Vec<u8>,
    /// Line where the argument starts.
    line: usize,
}

/// A model of libuci's parse buffer over the input.
///
/// libuci reads a line into a buffer, parses statements from it, and
/// appends further lines when a quote or a trailing backslash asks for
/// them. It also writes NUL bytes into the buffer as it goes: at a `#`
/// outside quotes, and at a `;` that directly ends an unquoted word, which
/// both end the buffer there. `end` is that logical end and `filled` the
/// end of what was read, so that the same input gives the same result as
/// `uci show`.
struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Where libuci's buffer is NUL: the logical end of the text.
    end: usize,
    /// The end of the lines read into the buffer so far.
    filled: usize,
    /// Number of the last line read (1-based).
    line: usize,
}

impl<'a> Lexer<'a> {
    /// The current character, `None` at the end of the buffer.
    fn cur(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.src[self.pos])
        } else {
            None
        }
    }

    /// Reads the next line into the buffer at its current end, dropping
    /// whatever followed the position (libuci's `uci_getln(ctx, pos)`).
    /// Returns false at the end of input.
    fn read_line(&mut self) -> bool {
        self.pos = self.filled;
        let rest = &self.src[self.filled..];
        if rest.is_empty() {
            self.end = self.filled;
            return false;
        }
        let length = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |at| at + 1);
        self.filled += length;
        self.end = self.filled;
        self.line += 1;
        true
    }

    /// libuci's skip_whitespace: every `isspace` character, the final
    /// newline included.
    fn skip_space(&mut self) {
        while let Some(b) = self.cur() {
            if !is_space(b) {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next command word of the buffer, libuci's `strtok(" \t")`: only
    /// spaces and tabs separate words here, so `config\r` is a word. `None`
    /// when the buffer holds no more statements.
    fn command(&mut self) -> Option<(Keyword<'a>, usize)> {
        while let Some(b' ' | b'\t') = self.cur() {
            self.pos += 1;
        }
        self.cur()?;
        let start = self.pos;
        while let Some(b) = self.cur() {
            if b == b' ' || b == b'\t' {
                break;
            }
            self.pos += 1;
        }
        let src: &'a [u8] = self.src;
        let word = &src[start..self.pos];
        if word[0] == b'#' {
            self.end = self.pos;
            return None;
        }
        let delimited = self.cur().is_some();
        if delimited {
            self.pos += 1;
        }
        let keyword = if word.last() == Some(&b'\n') {
            // "option\n": the newline is part of the word for strtok.
            Keyword::Invalid
        } else {
            Keyword::Word { word, delimited }
        };
        Some((keyword, self.line))
    }

    /// At a backslash outside single quotes: skips it, and if it ends the
    /// line (before `\n`, a final `\r\n` or the end of the text) continues
    /// with the next line and returns false; otherwise the next character
    /// is to be taken literally and it returns true.
    fn backslash(&mut self) -> bool {
        self.pos += 1;
        let continued = match self.cur() {
            None | Some(b'\n') => true,
            Some(b'\r') => self.src.get(self.pos + 1) == Some(&b'\n'),
            Some(_) => false,
        };
        if continued {
            self.read_line();
        }
        !continued
    }

    /// Copies the current character into `text`.
    fn take(&mut self, text: &mut Vec<u8>) {
        text.push(self.src[self.pos]);
        self.pos += 1;
    }

    /// libuci's next_arg: the next argument, empty when there is none. A
    /// `;` where an argument starts is consumed and gives an empty one.
    fn next_arg(&mut self) -> Result<Arg, ParseError> {
        self.skip_space();
        let line = self.line;
        let mut text = Vec::new();
        if self.cur() == Some(b';') {
            self.pos += 1;
            return Ok(Arg { text, line });
        }
        // libuci's parse_str. Quotes and backslashes are not copied; as
        // long as there were none, the word ends exactly where libuci
        // writes its terminating NUL, which matters for `;`.
        let mut collapsed = false;
        let mut next = true;
        loop {
            match self.cur() {
                Some(b'\'') => {
                    collapsed = true;
                    self.single_quoted(&mut text)?;
                }
                Some(b'"') => {
                    collapsed = true;
                    self.double_quoted(&mut text)?;
                }
                Some(b'#') => {
                    self.end = self.pos;
                    break;
                }
                None => break,
                Some(b';') => {
                    if !collapsed {
                        self.end = self.pos;
                    }
                    next = false;
                    break;
                }
                Some(b'\\') => {
                    collapsed = true;
                    if self.backslash() {
                        self.take(&mut text);
                    }
                }
                Some(_) => self.take(&mut text),
            }
            match self.cur() {
                Some(b) if !is_space(b) => {}
                _ => break,
            }
        }
        if next && self.cur().is_some() {
            self.pos += 1;
        }
        Ok(Arg { text, line })
    }

    fn single_quoted(&mut self, text: &mut Vec<u8>) -> Result<(), ParseError> {
        let opened = self.line;
        self.pos += 1;
        loop {
            match self.cur() {
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => {
                    if !self.read_line() {
                        return Err(unterminated(opened));
                    }
                }
                Some(_) => self.take(text),
            }
        }
    }

    fn double_quoted(&mut self, text: &mut Vec<u8>) -> Result<(), ParseError> {
        let opened = self.line;
        self.pos += 1;
        loop {
            match self.cur() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => {
                    if !self.read_line() {
                        return Err(unterminated(opened));
                    }
                }
                Some(b'\\') => {
                    if self.backslash() {
                        self.take(text);
                    }
                }
                Some(_) => self.take(text),
            }
        }
    }

    /// An argument that must be present and not empty.
    fn required_arg(&mut self) -> Result<Arg, ParseError> {
        let arg = self.next_arg()?;
        if arg.text.is_empty() {
            return Err(error(self.line, "insufficient arguments"));
        }
        Ok(arg)
    }

    /// libuci's assert_eol: one more argument may follow, if empty. What
    /// remains of the buffer after it is parsed as further statements.
    fn assert_eol(&mut self) -> Result<(), ParseError> {
        let arg = self.next_arg()?;
        if !arg.text.is_empty() {
            return Err(error(arg.line, "too many arguments"));
        }
        Ok(())
    }
}

fn unterminated(opened: usize) -> ParseError {
    ParseError {
        line: opened,
        message: format!("unterminated quote (opened on line {opened})"),
    }
}

/// The package under construction. Sections and options are looked up
/// through B-tree maps, so that no input costs quadratic time.
#[derive(Default)]
struct Builder {
    sections: Vec<Building>,
    by_name: BTreeMap<String, usize>,
    per_kind: BTreeMap<String, usize>,
    current: Option<usize>,
}

struct Building {
    kind: String,
    name: Option<String>,
    line: usize,
    index: usize,
    options: Vec<UciOption>,
    by_name: BTreeMap<String, usize>,
}

impl Builder {
    fn config(
        &mut self,
        kind: String,
        name: Option<String>,
        line: usize,
    ) -> Result<(), ParseError> {
        if let Some(name) = &name {
            if let Some(&at) = self.by_name.get(name) {
                if self.sections[at].kind != kind {
                    return Err(error(
                        line,
                        "section of different type overwrites prior section with same name",
                    ));
                }
                self.current = Some(at);
                return Ok(());
            }
            self.by_name.insert(name.clone(), self.sections.len());
        }
        let count = self.per_kind.entry(kind.clone()).or_insert(0);
        let index = *count;
        *count += 1;
        self.current = Some(self.sections.len());
        self.sections.push(Building {
            kind,
            name,
            line,
            index,
            options: Vec::new(),
            by_name: BTreeMap::new(),
        });
        Ok(())
    }

    fn section(&mut self) -> Option<&mut Building> {
        self.sections.get_mut(self.current?)
    }

    /// `option NAME VALUE`: sets or replaces. An empty value changes
    /// nothing: libuci's parser calls `uci_set` with a pointer that is not
    /// "complete", and `uci_set` then returns without deleting.
    fn set(&mut self, name: String, value: String, line: usize) {
        if value.is_empty() {
            return;
        }
        let Some(section) = self.section() else {
            return;
        };
        let option = UciOption {
            name,
            value: Value::Single(value),
            line,
            item_lines: vec![line],
        };
        match section.by_name.get(&option.name) {
            // Replaced in place: libuci keeps the option's position.
            Some(&at) => section.options[at] = option,
            None => {
                section
                    .by_name
                    .insert(option.name.clone(), section.options.len());
                section.options.push(option);
            }
        }
    }

    /// `list NAME VALUE`: appends, turning a single value into a list.
    fn add_list(&mut self, name: String, value: String, line: usize) {
        let Some(section) = self.section() else {
            return;
        };
        if let Some(&at) = section.by_name.get(&name) {
            let option = &mut section.options[at];
            match &mut option.value {
                Value::List(items) => items.push(value),
                Value::Single(old) => {
                    let old = std::mem::take(old);
                    option.value = Value::List(vec![old, value]);
                }
            }
            option.line = line;
            option.item_lines.push(line);
            return;
        }
        section.by_name.insert(name.clone(), section.options.len());
        section.options.push(UciOption {
            name,
            value: Value::List(vec![value]),
            line,
            item_lines: vec![line],
        });
    }

    fn finish(self) -> Package {
        let sections = self
            .sections
            .into_iter()
            .map(|s| Section {
                kind: s.kind,
                name: s.name,
                line: s.line,
                index: s.index,
                options: s.options,
            })
            .collect();
        Package { sections }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Package {
        match parse(text.as_bytes()) {
            Ok(p) => p,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn err(text: &str) -> ParseError {
        match parse(text.as_bytes()) {
            Ok(p) => panic!("{text:?} parsed: {p:?}"),
            Err(e) => e,
        }
    }

    fn single<'a>(p: &'a Package, section: usize, option: &str) -> &'a str {
        p.sections[section]
            .get(option)
            .and_then(|o| o.value.as_single())
            .unwrap_or_else(|| panic!("no single option {option} in {:?}", p.sections[section]))
    }

    fn list(p: &Package, section: usize, option: &str) -> Vec<String> {
        match &p.sections[section].get(option).expect("option").value {
            Value::List(items) => items.clone(),
            v => panic!("not a list: {v:?}"),
        }
    }

    #[test]
    fn basic_file() {
        let p = ok("config agent 'agent'\n\toption enabled '1'\n\tlist interface wlan0\n\tlist interface \"eth0\"\n\nconfig collector\n\toption address 192.0.2.10\n");
        assert_eq!(p.sections.len(), 2);
        let a = &p.sections[0];
        assert_eq!(a.kind, "agent");
        assert_eq!(a.name.as_deref(), Some("agent"));
        assert_eq!(a.line, 1);
        assert_eq!(a.index, 0);
        assert_eq!(a.display_name(), "'agent'");
        assert_eq!(single(&p, 0, "enabled"), "1");
        assert_eq!(a.get("enabled").unwrap().line, 2);
        assert_eq!(list(&p, 0, "interface"), ["wlan0", "eth0"]);
        assert_eq!(a.get("interface").unwrap().item_lines, [3, 4]);
        assert_eq!(a.get("interface").unwrap().line, 4);
        let c = &p.sections[1];
        assert_eq!(c.kind, "collector");
        assert_eq!(c.name, None);
        assert_eq!(c.line, 6);
        assert_eq!(c.display_name(), "@collector[0]");
        assert_eq!(single(&p, 1, "address"), "192.0.2.10");
        assert_eq!(p.sections_of("collector").count(), 1);
        assert_eq!(p.section("agent").map(|s| s.line), Some(1));
        assert!(p.section("nope").is_none());
    }

    #[test]
    fn empty_and_comment_only_inputs() {
        assert_eq!(ok("").sections.len(), 0);
        assert_eq!(ok("\n\n  \t\n").sections.len(), 0);
        assert_eq!(ok("# just a comment\n   # indented\n#\n").sections.len(), 0);
        assert_eq!(ok("#config x y").sections.len(), 0);
    }

    #[test]
    fn anonymous_indexes_count_named_sections() {
        let p = ok("config c\nconfig c 'named'\nconfig d\nconfig c\nconfig c ''\n");
        let names: Vec<String> = p.sections.iter().map(Section::display_name).collect();
        assert_eq!(names, ["@c[0]", "'named'", "@d[0]", "@c[2]", "@c[3]"]);
        assert_eq!(p.sections[1].index, 1);
    }

    #[test]
    fn abbreviated_keywords() {
        let p = ok("p wsflowd\nc agent a\no enabled 0\nl interface x\n");
        assert_eq!(p.sections[0].name.as_deref(), Some("a"));
        assert_eq!(single(&p, 0, "enabled"), "0");
        assert_eq!(list(&p, 0, "interface"), ["x"]);
    }

    #[test]
    fn invalid_commands() {
        for text in [
            "conf x\n",
            "configs x\n",
            "opt a b\n",
            "set a=b\n",
            "'config' x\n",
            "config;\n",
            "config#x\n",
            "Config x\n",
            "config\rt\n",
            "option\x0bx y\n",
            "config\r\n",
            // strtok keeps the newline in the word: "config\n" is no command.
            "config\n",
            "package\n",
        ] {
            let e = err(text);
            assert_eq!(e.message, "invalid command", "{text:?}");
            assert_eq!(e.line, 1);
        }
        assert_eq!(err("config t\nlist\n").message, "invalid command");
        let e = err("config a\n\n  bogus thing\n");
        assert_eq!((e.line, e.message.as_str()), (3, "invalid command"));
    }

    #[test]
    fn package_statement_is_checked_and_ignored() {
        let p = ok("package wsflowd\npackage my-pkg_2\nconfig a\n");
        assert_eq!(p.sections.len(), 1);
        assert_eq!(err("package \n").message, "insufficient arguments");
        assert_eq!(
            err("package 'a.b'\n").message,
            "invalid character in name field"
        );
        assert_eq!(err("package a b\n").message, "too many arguments");
    }

    #[test]
    fn crlf_line_endings() {
        let p = ok("config agent 'agent'\r\n\toption enabled '1'\r\n\toption x y\r\n\r\nconfig collector\r\n");
        assert_eq!(single(&p, 0, "enabled"), "1");
        assert_eq!(single(&p, 0, "x"), "y");
        assert_eq!(p.sections[1].line, 5);
        assert_eq!(p.sections[1].kind, "collector");
    }

    #[test]
    fn tabs_and_spaces_separate_words() {
        let p = ok("\t config\t\tt \t n\t\n\toption\ta\t \tvalue\t\n");
        assert_eq!(p.sections[0].kind, "t");
        assert_eq!(single(&p, 0, "a"), "value");
    }

    #[test]
    fn quoting_and_concatenation() {
        let p = ok(concat!(
            "config t\n",
            "option a 'b c'\n",
            "option b \"d e\"\n",
            "option c a'b c'\"d\"\n",
            "option d 'it'\\''s'\n",
            "option e \"say \\\"hi\\\"\"\n",
            "option f 'back\\slash'\n",
            "option g a\\ b\n",
            "option h \"\\n\\t\"\n",
            "option i \\n\n",
            "option j '#not a comment' \n",
            "option k \"semi;colon\"\n",
            "option l a\\#b\n",
            "option m a\\;b\n",
        ));
        assert_eq!(single(&p, 0, "a"), "b c");
        assert_eq!(single(&p, 0, "b"), "d e");
        assert_eq!(single(&p, 0, "c"), "ab cd");
        assert_eq!(single(&p, 0, "d"), "it's");
        assert_eq!(single(&p, 0, "e"), "say \"hi\"");
        assert_eq!(single(&p, 0, "f"), "back\\slash");
        assert_eq!(single(&p, 0, "g"), "a b");
        assert_eq!(single(&p, 0, "h"), "nt");
        assert_eq!(single(&p, 0, "i"), "n");
        assert_eq!(single(&p, 0, "j"), "#not a comment");
        assert_eq!(single(&p, 0, "k"), "semi;colon");
        assert_eq!(single(&p, 0, "l"), "a#b");
        assert_eq!(single(&p, 0, "m"), "a;b");
    }

    #[test]
    fn multi_line_quoted_values() {
        let p = ok(
            "config t\n\toption a 'line one\n\tline two'\n\toption b \"x\r\ny\"\n\toption c z\n",
        );
        assert_eq!(single(&p, 0, "a"), "line one\n\tline two");
        assert_eq!(p.sections[0].get("a").unwrap().line, 2);
        assert_eq!(single(&p, 0, "b"), "x\r\ny");
        assert_eq!(p.sections[0].get("b").unwrap().line, 4);
        assert_eq!(p.sections[0].get("c").unwrap().line, 6);
    }

    #[test]
    fn text_after_a_multi_line_quote_continues_the_statement() {
        let p = ok("config t\noption a 'x\ny'z\n");
        assert_eq!(single(&p, 0, "a"), "x\nyz");
        let e = err("config t\noption a 'x\ny' z\n");
        assert_eq!((e.line, e.message.as_str()), (3, "too many arguments"));
    }

    #[test]
    fn unterminated_quotes() {
        let e = err("config t\noption a 'abc\n\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unterminated quote"), "{e}");
        let e = err("config t\noption a \"abc");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unterminated quote"), "{e}");
        let e = err("config 't");
        assert!(e.message.contains("unterminated quote"));
        let e = err("config t\noption a \"abc\\\"");
        assert!(e.message.contains("unterminated quote"));
    }

    #[test]
    fn comments_after_statements() {
        let p = ok(concat!(
            "config t n # comment\n",
            "option a 'b' # comment\n",
            "option b c# comment\n",
            "option c #comment: value absent, ignored\n",
            "config u # anonymous\n",
            "list x y#z\n",
        ));
        assert_eq!(p.sections[0].name.as_deref(), Some("n"));
        assert_eq!(single(&p, 0, "a"), "b");
        assert_eq!(single(&p, 0, "b"), "c");
        assert!(p.sections[0].get("c").is_none());
        assert_eq!(p.sections[1].name, None);
        assert_eq!(list(&p, 1, "x"), ["y"]);
        // The comment swallows a following statement.
        let p = ok("config t\noption a b # ; option c d\n");
        assert!(p.sections[0].get("c").is_none());
    }

    #[test]
    fn semicolons_separate_statements() {
        // After a blank or a closing quote, `;` separates statements.
        let p = ok("config t a ; option x 1 ; list y 2 ; list y '3';list y \"4\"\nconfig t b\n");
        assert_eq!(p.sections.len(), 2);
        assert_eq!(single(&p, 0, "x"), "1");
        assert_eq!(list(&p, 0, "y"), ["2", "3", "4"]);
        assert_eq!(p.sections[0].get("y").unwrap().item_lines, [1, 1, 1]);
        let p = ok("config t a ; # comment\n");
        assert_eq!(p.sections.len(), 1);
    }

    #[test]
    fn semicolon_after_an_unquoted_word_ends_the_line() {
        // libuci writes its end-of-string at the `;`: the rest of the line
        // is lost, exactly as `uci show` shows it.
        let p = ok("config t a;option x 1\noption y 2;option z 3\noption w a\\;b\n");
        let names: Vec<&str> = p.sections[0]
            .options
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, ["y", "w"]);
        assert_eq!(single(&p, 0, "w"), "a;b");
        let p = ok("config t\noption a b;c\n");
        assert_eq!(single(&p, 0, "a"), "b");
    }

    #[test]
    fn semicolon_where_an_argument_starts_is_an_empty_argument() {
        for (text, message) in [
            ("config t ; option x 1\n", "too many arguments"),
            ("config t\noption x ; option y 1\n", "too many arguments"),
            ("config t\noption ;\n", "insufficient arguments"),
            ("config t a ; ; option x 1\n", "invalid command"),
            ("config t a ;\n", "invalid command"),
            ("config t\noption a \"b\";c\n", "invalid command"),
        ] {
            assert_eq!(err(text).message, message, "{text:?}");
        }
    }

    #[test]
    fn backslash_continuation() {
        let p = ok("config t\noption a abc\\\ndef\noption b x\n");
        assert_eq!(single(&p, 0, "a"), "abcdef");
        assert_eq!(p.sections[0].get("b").unwrap().line, 4);
        let p = ok("config t\r\noption a abc\\\r\ndef\r\n");
        assert_eq!(single(&p, 0, "a"), "abcdef");
        let p = ok("config t\noption a \"abc\\\ndef\"\n");
        assert_eq!(single(&p, 0, "a"), "abcdef");
        // Continuation between arguments.
        let p = ok("config t\noption \\\na b\n");
        assert_eq!(single(&p, 0, "a"), "b");
        // A backslash at the very end of the input.
        let p = ok("config t\noption a b\\");
        assert_eq!(single(&p, 0, "a"), "b");
        // In single quotes a backslash is just a character.
        let p = ok("config t\noption a 'x\\\ny'\n");
        assert_eq!(single(&p, 0, "a"), "x\\\ny");
        // As in libuci, the word ends where the next line's blanks begin.
        let e = err("config t\noption a b\\\n    c\n");
        assert_eq!((e.line, e.message.as_str()), (3, "too many arguments"));
        // A lone CR after a backslash is a literal CR.
        let p = ok("config t\noption a b\\\rc\n");
        assert_eq!(single(&p, 0, "a"), "b\rc");
    }

    #[test]
    fn names_and_types_are_validated() {
        let p = ok("config my-type.x/y@z sec_1\noption Opt_9 v\n");
        assert_eq!(p.sections[0].kind, "my-type.x/y@z");
        assert!(p.sections[0].get("Opt_9").is_some());
        for text in [
            "config t bad-name\n",
            "config t 'bad name'\n",
            "config t\noption bad-name v\n",
            "config t\noption 'a.b' v\n",
            "config t\nlist 'a b' v\n",
            "config t\noption é v\n",
        ] {
            assert_eq!(
                err(text).message,
                "invalid character in name field",
                "{text:?}"
            );
        }
        for text in ["config 'a b'\n", "config \"t\x7f\"\n", "config 'é'\n"] {
            assert_eq!(
                err(text).message,
                "invalid character in type field",
                "{text:?}"
            );
        }
    }

    #[test]
    fn insufficient_arguments() {
        for text in [
            "config \n",
            "package \n",
            "config ''\n",
            "config # comment\n",
            "config t\noption ''\n",
            "config t\nlist\t\n",
            "config t\noption ;\n",
            "c",
            "config t\noption",
        ] {
            let e = err(text);
            assert_eq!(e.message, "insufficient arguments", "{text:?}");
        }
        assert_eq!(err("config t\n\noption \n").line, 3);
    }

    #[test]
    fn too_many_arguments() {
        for text in [
            "config t n extra\n",
            "config t '' extra\n",
            "config t\noption a b c\n",
            "config t\noption a '' c\n",
            "config t\nlist a b c\n",
        ] {
            let e = err(text);
            assert_eq!(e.message, "too many arguments", "{text:?}");
        }
        assert_eq!(err("config t\n\n\toption a b c\n").line, 3);
        // libuci lets one empty extra argument pass, when nothing but a
        // comment follows it.
        let p = ok("config t n ''\noption a b ''\nlist l x '' # c\noption c d ''#c\noption e f ''");
        assert_eq!(single(&p, 0, "a"), "b");
        assert_eq!(list(&p, 0, "l"), ["x"]);
        assert_eq!(single(&p, 0, "c"), "d");
        assert_eq!(single(&p, 0, "e"), "f");
        // What follows that empty argument is parsed as the next statement,
        // without skipping line ends.
        for text in [
            "config t\noption a b '' ''\n",
            "config t\noption a b ''\r\n",
            "config t\noption a b '' \n",
            "config t\noption a b '' x\n",
            "config t\noption a b '';\n",
        ] {
            assert_eq!(err(text).message, "invalid command", "{text:?}");
        }
        let p = ok("config t n '' option a b\noption c '' \\\n\toption e f\n");
        assert_eq!(single(&p, 0, "a"), "b");
        assert!(p.sections[0].get("c").is_none());
        assert_eq!(single(&p, 0, "e"), "f");
        assert_eq!(p.sections[0].get("e").unwrap().line, 3);
    }

    #[test]
    fn option_before_config() {
        for text in ["option a b\n", "list a b\n", "package p\n# c\n o a b\n"] {
            let e = err(text);
            assert_eq!(
                e.message,
                "option/list command found before the first section"
            );
        }
        assert_eq!(err("# x\n\noption a b\n").line, 3);
    }

    #[test]
    fn option_replaces_and_empty_values_change_nothing() {
        let p = ok(concat!(
            "config t\n",
            "option a 1\n",
            "option b 2\n",
            "option a 3\n",
            "option c ''\n",
            "option d\n",
            "option e 5\n",
            "option e\n",
            "option b ''\n",
            "option f '' # comment\n",
        ));
        let s = &p.sections[0];
        let names: Vec<&str> = s.options.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "e"]);
        assert_eq!(single(&p, 0, "a"), "3");
        assert_eq!(s.get("a").unwrap().line, 4);
        assert_eq!(single(&p, 0, "b"), "2");
        assert_eq!(s.get("b").unwrap().line, 3);
        assert_eq!(single(&p, 0, "e"), "5");
    }

    #[test]
    fn list_conversions() {
        let p = ok(concat!(
            "config t\n",
            "option a 1\n",
            "list a 2\n",
            "list b x\n",
            "list b ''\n",
            "list b\n",
            "list c 1\n",
            "list c 2\n",
            "option c 3\n",
            "list d 1\n",
            "option d ''\n",
            "list d 2\n",
            "option e x\n",
            "option e y\n",
            "list e z\n",
        ));
        assert_eq!(list(&p, 0, "a"), ["1", "2"]);
        assert_eq!(p.sections[0].get("a").unwrap().item_lines, [2, 3]);
        assert_eq!(list(&p, 0, "b"), ["x", "", ""]);
        assert_eq!(single(&p, 0, "c"), "3");
        assert_eq!(p.sections[0].get("c").unwrap().item_lines, [9]);
        assert_eq!(list(&p, 0, "d"), ["1", "2"]);
        assert_eq!(p.sections[0].get("d").unwrap().item_lines, [10, 12]);
        assert_eq!(p.sections[0].get("d").unwrap().line, 12);
        assert_eq!(list(&p, 0, "e"), ["y", "z"]);
        assert_eq!(p.sections[0].get("e").unwrap().item_lines, [14, 15]);
        let names: Vec<&str> = p.sections[0]
            .options
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn named_sections_merge() {
        let p = ok(concat!(
            "config t 'x'\n",
            "option a 1\n",
            "option b 2\n",
            "list l 1\n",
            "config u\n",
            "config t 'x'\n",
            "option a 9\n",
            "list l 2\n",
            "config t\n",
        ));
        assert_eq!(p.sections.len(), 3);
        let x = &p.sections[0];
        assert_eq!(x.line, 1);
        assert_eq!(single(&p, 0, "a"), "9");
        assert_eq!(single(&p, 0, "b"), "2");
        assert_eq!(list(&p, 0, "l"), ["1", "2"]);
        assert_eq!(x.get("a").unwrap().line, 7);
        assert_eq!(p.sections[2].display_name(), "@t[1]");
        let e = err("config t 'x'\nconfig u 'x'\n");
        assert_eq!(e.line, 2);
        assert_eq!(
            e.message,
            "section of different type overwrites prior section with same name"
        );
    }

    #[test]
    fn options_go_to_the_latest_section() {
        let p = ok("config a 'one'\nconfig b\noption x 1\nconfig a 'one'\noption y 2\n");
        assert!(p.sections[1].get("x").is_some());
        assert!(p.sections[0].get("y").is_some());
    }

    #[test]
    fn invalid_utf8() {
        let e = parse(b"config t\n# \xff comments may hold anything\noption a '\xff\xfe'\n")
            .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("UTF-8"), "{e}");
        let e = parse(b"config \xc3\xa9\n").unwrap_err();
        assert_eq!(e.message, "invalid character in type field");
        let e = parse(b"\xff\n").unwrap_err();
        assert_eq!(e.message, "invalid command");
        let p = parse("config t\noption a 'h\u{e9}llo \u{1f600}'\n".as_bytes()).unwrap();
        assert_eq!(single(&p, 0, "a"), "h\u{e9}llo \u{1f600}");
    }

    #[test]
    fn nul_bytes_are_rejected() {
        let e = parse(b"config t\n\noption a '\0'\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("NUL"));
    }

    #[test]
    fn error_display() {
        let e = err("config t\nwhat\n");
        assert_eq!(e.to_string(), "line 2: invalid command");
    }

    #[test]
    fn value_helpers() {
        let s = Value::Single("a".into());
        assert_eq!(s.as_single(), Some("a"));
        assert!(!s.is_list());
        assert_eq!(s.items(), ["a"]);
        let l = Value::List(vec!["a".into(), "b".into()]);
        assert_eq!(l.as_single(), None);
        assert!(l.is_list());
        assert_eq!(l.items(), ["a", "b"]);
    }

    /// Decodes the escapes of `libuci_cases.txt`.
    fn unescape(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut bytes = text.bytes();
        while let Some(b) = bytes.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match bytes.next() {
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(b't') => out.push(b'\t'),
                Some(b'\\') => out.push(b'\\'),
                Some(b'x') => {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                }
                other => panic!("bad escape {other:?} in {text}"),
            }
        }
        out
    }

    /// What `uci show t` prints for a package.
    fn show(package: &Package) -> String {
        let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
        let mut out = String::new();
        for s in &package.sections {
            let name = match &s.name {
                Some(name) => name.clone(),
                None => format!("@{}[{}]", s.kind, s.index),
            };
            out.push_str(&format!("t.{name}={}\n", s.kind));
            for o in &s.options {
                let items: Vec<String> = o.value.items().iter().map(|v| quote(v)).collect();
                out.push_str(&format!("t.{name}.{}={}\n", o.name, items.join(" ")));
            }
        }
        out
    }

    /// Inputs run through libuci's own `uci show`, with its results.
    #[test]
    fn matches_libuci() {
        let cases = include_str!("../../tests/config_files/libuci_cases.txt");
        let mut input = None;
        let mut checked = 0;
        for line in cases.lines() {
            if let Some(text) = line.strip_prefix("in:") {
                input = Some(unescape(text.strip_prefix(' ').unwrap_or(text)));
                continue;
            }
            let Some(text) = input.take() else {
                continue;
            };
            let result = parse(&text);
            let shown = String::from_utf8_lossy(&text).into_owned();
            if let Some(expected) = line.strip_prefix("out:") {
                let expected = unescape(expected.strip_prefix(' ').unwrap_or(expected));
                match result {
                    Ok(p) => assert_eq!(show(&p).into_bytes(), expected, "{shown:?}"),
                    Err(e) => panic!("{shown:?}: {e}, libuci accepts it"),
                }
            } else if let Some(reason) = line.strip_prefix("err: ") {
                let expected = match reason {
                    r if r.starts_with("EOF with unterminated") => "unterminated quote",
                    r if r.ends_with("without name") => "insufficient arguments",
                    r => r,
                };
                match result {
                    Ok(p) => panic!("{shown:?}: parsed as {p:?}, libuci: {reason}"),
                    Err(e) => assert!(
                        e.message.starts_with(expected),
                        "{shown:?}: {e}, libuci: {reason}"
                    ),
                }
            } else {
                panic!("bad line {line:?}");
            }
            checked += 1;
        }
        assert!(checked > 300, "{checked}");
    }

    /// A section without its line numbers: type, name, index, options.
    type Meaning = (String, Option<String>, usize, Vec<(String, Value)>);

    /// The package without line numbers, to compare what two parses mean.
    fn meaning(p: &Package) -> Vec<Meaning> {
        p.sections
            .iter()
            .map(|s| {
                let options = s
                    .options
                    .iter()
                    .map(|o| (o.name.clone(), o.value.clone()))
                    .collect();
                (s.kind.clone(), s.name.clone(), s.index, options)
            })
            .collect()
    }

    fn round_trip(p: &Package) {
        let text = export(p, None).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let back = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(meaning(&back), meaning(p), "{text}");
        // Writing what was read gives the same bytes.
        assert_eq!(export(&back, None).unwrap(), text);
    }

    #[test]
    fn export_is_libucis_format() {
        let p = ok("config agent 'agent'\n\toption enabled 1\n\tlist interface wlan0\n\tlist interface \"it's\"\n\tlist interface ''\nconfig collector\n\toption address 'a\nb'\n\toption port 6343 # comment\n");
        // Byte for byte what `uci export` (header) and `uci commit` print
        // for this file (checked with libuci 66127cd).
        let expected = "\nconfig agent 'agent'\n\toption enabled '1'\n\tlist interface 'wlan0'\n\tlist interface 'it'\\''s'\n\tlist interface ''\n\nconfig collector\n\toption address 'a\nb'\n\toption port '6343'\n\n";
        assert_eq!(export(&p, None).unwrap(), expected);
        assert_eq!(
            export(&p, Some("wsflowd")).unwrap(),
            format!("package wsflowd\n{expected}")
        );
        assert_eq!(export(&Package::default(), None).unwrap(), "\n");
        round_trip(&p);
    }

    #[test]
    fn export_quotes_what_libuci_would_write_bare() {
        let mut p = Package::default();
        p.sections.push(Section::new("a'b#c;d\"e\\f", None));
        let text = export(&p, None).unwrap();
        assert_eq!(text, "\nconfig 'a'\\''b#c;d\"e\\f'\n\n");
        round_trip(&p);
    }

    #[test]
    fn export_refuses_what_cannot_be_read_back() {
        let refused = |p: &Package| export(p, None).unwrap_err().message;
        let mut p = Package::default();
        p.sections.push(Section::new("a b", None));
        assert!(refused(&p).contains("section type"));
        p.sections[0] = Section::new("", None);
        assert!(refused(&p).contains("section type"));
        p.sections[0] = Section::new("t", Some("a-b"));
        assert!(refused(&p).contains("section name"));
        p.sections[0] = Section::new("t", None);
        p.sections[0].options.push(UciOption {
            name: "x".into(),
            value: Value::Single(String::new()),
            line: 0,
            item_lines: vec![0],
        });
        assert!(refused(&p).contains("empty value"));
        p.sections[0].options[0].value = Value::List(vec!["a\0".into()]);
        assert!(refused(&p).contains("NUL"));
        p.sections[0].options[0].name = "x.y".into();
        assert!(refused(&p).contains("option name"));
        assert!(export(&Package::default(), Some("a b")).is_err());
    }

    #[test]
    fn set_unset_and_renumber() {
        let mut p = ok("config t\n\toption a 1\n\toption b 2\nconfig u 'n'\nconfig t\n");
        p.sections[0].set("a", Value::Single("x".into()));
        p.sections[0].set("c", Value::List(vec!["1".into(), "".into()]));
        p.sections[0].set("b", Value::Single(String::new()));
        assert!(!p.sections[0].unset("b"));
        assert_eq!(
            export(&p, None).unwrap(),
            "\nconfig t\n\toption a 'x'\n\tlist c '1'\n\tlist c ''\n\nconfig u 'n'\n\nconfig t\n\n"
        );
        p.sections.remove(0);
        p.sections.push(Section::new("u", None));
        p.renumber();
        let names: Vec<String> = p.sections.iter().map(Section::display_name).collect();
        assert_eq!(names, ["'n'", "@t[0]", "@u[1]"]);
        round_trip(&p);
    }

    #[test]
    fn export_round_trips_the_example_files_and_the_libuci_cases() {
        for text in [
            &include_bytes!("../../tests/config_files/example.uci")[..],
            &include_bytes!("../../tests/config_files/full.uci")[..],
        ] {
            round_trip(&parse(text).unwrap());
        }
        let cases = include_str!("../../tests/config_files/libuci_cases.txt");
        let mut checked = 0;
        for line in cases.lines() {
            let Some(input) = line.strip_prefix("in: ") else {
                continue;
            };
            if let Ok(p) = parse(&unescape(input)) {
                round_trip(&p);
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn export_round_trips_random_packages() {
        const TEXT: &[char] = &[
            'a', 'Z', '0', ' ', '\t', '\n', '\r', '\'', '"', '\\', '#', ';', '$', 'é', '_',
        ];
        let mut rng = crate::rng::Rng::from_seed(0x2545_f491_4f6c_dd1d);
        for _ in 0..3_000 {
            let mut p = Package::default();
            for _ in 0..rng.index(4) {
                let kind = ["agent", "collector", "t#'", "x\\y"][rng.index(4)];
                let name = ["", "agent", "a_1", "B"][rng.index(4)];
                let mut s = Section::new(kind, Some(name).filter(|n| !n.is_empty()));
                for k in 0..rng.index(4) {
                    let mut text = || -> String {
                        (0..rng.index(6))
                            .map(|_| TEXT[rng.index(TEXT.len())])
                            .collect()
                    };
                    let value = if k % 2 == 0 {
                        let v = text();
                        Value::Single(if v.is_empty() { "v".into() } else { v })
                    } else {
                        Value::List(vec![text(), text()])
                    };
                    s.set(&format!("o{k}"), value);
                }
                if p.sections
                    .iter()
                    .any(|o| o.name.is_some() && o.name == s.name)
                {
                    continue;
                }
                p.sections.push(s);
            }
            p.renumber();
            round_trip(&p);
        }
    }

    #[test]
    fn arbitrary_input_never_panics_and_keeps_invariants() {
        const ALPHABET: &[u8] = b"cop l\n\r\t ;#'\"\\ab_-1\xff";
        let mut rng = crate::rng::Rng::from_seed(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = rng.index(64);
            let input: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.index(ALPHABET.len())])
                .collect();
            let lines = 1 + input.iter().filter(|&&b| b == b'\n').count();
            match parse(&input) {
                Ok(p) => {
                    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
                    for s in &p.sections {
                        let n = per_kind.entry(&s.kind).or_insert(0);
                        assert_eq!(s.index, *n);
                        *n += 1;
                        assert!(s.line >= 1 && s.line <= lines);
                        for o in &s.options {
                            assert_eq!(o.item_lines.len(), o.value.items().len());
                            assert_eq!(o.item_lines.last(), Some(&o.line));
                            assert!(o.line <= lines);
                            if let Value::Single(v) = &o.value {
                                assert!(!v.is_empty());
                            }
                        }
                    }
                }
                Err(e) => assert!(e.line >= 1 && e.line <= lines, "{input:?}: {e}"),
            }
        }
    }
}
