//! One line to inline content: links (bare URLs and `[text](url)`),
//! `**strong**` / `__strong__`, `*em*` / `_em_`.
//!
//! Emphasis needs clear delimiters: a run of one or two `*` or `_` opens
//! only after a non-alphanumeric character and before a non-space, and
//! closes only after a non-space and before a non-alphanumeric character.
//! So `snake_case_words`, `2*3*4` and `a * b` stay literal. Matching is
//! linear: each kind of delimiter keeps a cursor into its closers, and the
//! walk visits tokens left to right.

use super::Inline;

/// Emphasis nested deeper than this stays literal.
const MAX_DEPTH: usize = 4;

/// Schemes a link may have: anything else (`javascript:`, relative paths)
/// stays text.
const SCHEMES: [&str; 3] = ["https://", "http://", "mailto:"];

#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    Text(&'a str),
    Delim { kind: usize, open: bool, close: bool, raw: &'a str },
    Link { text: &'a str, href: &'a str },
}

/// Kinds of delimiter: `*`, `**`, `_`, `__`.
const KINDS: usize = 4;

fn kind_of(ch: u8, len: usize) -> usize {
    usize::from(ch == b'_') * 2 + (len - 1)
}

fn is_strong(kind: usize) -> bool {
    kind % 2 == 1
}

pub(super) fn read(line: &str) -> Vec<Inline> {
    let toks = tokens(line);
    let mut closers: [Vec<usize>; KINDS] = Default::default();
    for (i, t) in toks.iter().enumerate() {
        if let Tok::Delim { kind, close: true, .. } = t {
            closers[*kind].push(i);
        }
    }
    let mut walk = Walk { toks: &toks, closers, cursors: [0; KINDS] };
    let mut out = Vec::new();
    walk.build(0, toks.len(), [false; KINDS], 0, &mut out);
    out
}

struct Walk<'t, 'a> {
    toks: &'t [Tok<'a>],
    closers: [Vec<usize>; KINDS],
    cursors: [usize; KINDS],
}

impl Walk<'_, '_> {
    /// The first closer of `kind` after token `t` (cursors only move forward:
    /// the walk asks in increasing `t`).
    fn closer_after(&mut self, kind: usize, t: usize) -> Option<usize> {
        let list = &self.closers[kind];
        let cur = &mut self.cursors[kind];
        while list.get(*cur).is_some_and(|&c| c <= t) {
            *cur += 1;
        }
        list.get(*cur).copied()
    }

    fn build(&mut self, lo: usize, hi: usize, active: [bool; KINDS], depth: usize, out: &mut Vec<Inline>) {
        let mut t = lo;
        while t < hi {
            match self.toks[t] {
                Tok::Text(s) => push_text(out, s),
                Tok::Link { text, href } => out.push(Inline::Link { text: text.into(), href: href.into() }),
                Tok::Delim { kind, open, raw, .. } => {
                    let closer =
                        if open && !active[kind] && depth < MAX_DEPTH { self.closer_after(kind, t) } else { None };
                    match closer {
                        Some(c) if c < hi && c > t + 1 => {
                            let mut inner = Vec::new();
                            let mut now = active;
                            now[kind] = true;
                            self.build(t + 1, c, now, depth + 1, &mut inner);
                            out.push(if is_strong(kind) { Inline::Strong(inner) } else { Inline::Em(inner) });
                            t = c + 1;
                            continue;
                        }
                        _ => push_text(out, raw),
                    }
                }
            }
            t += 1;
        }
    }
}

/// Append literal text, merged with text before it.
fn push_text(out: &mut Vec<Inline>, s: &str) {
    if s.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(Inline::Text(t)) => t.push_str(s),
        _ => out.push(Inline::Text(s.to_string())),
    }
}

fn tokens(line: &str) -> Vec<Tok<'_>> {
    let bytes = line.as_bytes();
    let mut toks = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let found = match bytes[i] {
            b'[' => md_link(line, i),
            b'h' if !prev_char(line, i).is_some_and(char::is_alphanumeric) => bare_url(line, i),
            ch @ (b'*' | b'_') => Some(delim(line, i, ch)),
            _ => None,
        };
        match found {
            Some((tok, end)) => {
                if text_start < i {
                    toks.push(Tok::Text(&line[text_start..i]));
                }
                toks.push(tok);
                i = end;
                text_start = end;
            }
            None => i += 1,
        }
    }
    if text_start < bytes.len() {
        toks.push(Tok::Text(&line[text_start..]));
    }
    toks
}

fn prev_char(line: &str, i: usize) -> Option<char> {
    line[..i].chars().next_back()
}

fn next_char(line: &str, i: usize) -> Option<char> {
    line[i..].chars().next()
}

/// A run of `ch` at `i`: a delimiter when one or two long, else text.
fn delim(line: &str, i: usize, ch: u8) -> (Tok<'_>, usize) {
    let len = line.as_bytes()[i..].iter().take_while(|&&b| b == ch).count();
    let end = i + len;
    let raw = &line[i..end];
    if len > 2 {
        return (Tok::Text(raw), end);
    }
    let (prev, next) = (prev_char(line, i), next_char(line, end));
    let open = next.is_some_and(|c| !c.is_whitespace()) && !prev.is_some_and(char::is_alphanumeric);
    let close = prev.is_some_and(|c| !c.is_whitespace()) && !next.is_some_and(char::is_alphanumeric);
    (Tok::Delim { kind: kind_of(ch, len), open, close, raw }, end)
}

/// `[text](url)` at `i`: the text has no brackets, the URL a known scheme.
/// The search for `]` stops at the next `[`, so scanning stays linear.
fn md_link(line: &str, i: usize) -> Option<(Tok<'_>, usize)> {
    let rest = &line[i + 1..];
    let close = rest.find(['[', ']'])?;
    if !rest[close..].starts_with("](") || rest[..close].trim().is_empty() {
        return None;
    }
    let text = &rest[..close];
    let url_start = i + 1 + close + 2;
    let url_len = url_extent(&line[url_start..], true)?;
    let href = &line[url_start..url_start + url_len];
    if !line[url_start + url_len..].starts_with(')') {
        return None;
    }
    Some((Tok::Link { text, href }, url_start + url_len + 1))
}

/// A bare `http://` or `https://` URL at `i`.
fn bare_url(line: &str, i: usize) -> Option<(Tok<'_>, usize)> {
    let rest = &line[i..];
    if !(rest.starts_with("https://") || rest.starts_with("http://")) {
        return None;
    }
    let len = url_extent(rest, false)?;
    let href = &rest[..len];
    Some((Tok::Link { text: href, href }, i + len))
}

/// How long the URL at the start of `s` is: up to white space or `<>"`
/// (bare: or a bracket, `[see https://x.test]`),
/// without trailing punctuation, and without a `)` that closes nothing
/// opened in the URL (`(see https://x.test/a)`). In `[text](url)` the
/// URL ends before its unbalanced `)`. None without a scheme and a host.
fn url_extent(s: &str, in_md: bool) -> Option<usize> {
    let scheme = SCHEMES.iter().find(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p))?;
    let mut depth = 0usize;
    let mut end = s.len();
    for (j, c) in s.char_indices() {
        match c {
            c if c.is_whitespace() || matches!(c, '<' | '>' | '"') || (!in_md && matches!(c, '[' | ']')) => {
                end = j;
                break;
            }
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = j;
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let mut url = &s[..end];
    if !in_md {
        url = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '*', '_']);
    }
    (url.len() > scheme.len()).then_some(url.len())
}
