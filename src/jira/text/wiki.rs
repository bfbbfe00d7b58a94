//! Blocks to Jira wiki markup (Data Center REST v2 descriptions and
//! comments are wiki markup strings, API-NOTES.md).
//!
//! Literal text is escaped so a mail cannot inject markup or macros:
//! `{panel}`, `[link|…]`, `!image!`, `*bold*`, `h1.` and `bq.` at a line's
//! start, `----`, `\\` line breaks. Special characters get a backslash
//! (`\{`, `\*`, `\-` …); a backslash itself and the letters that would
//! start `hN.` / `bq.` become numeric entities, for which wiki markup has
//! no backslash escape.

use std::fmt::Write;

use super::{Block, Inline, Item, Line, ListKind};

/// Wiki markup for `blocks`: blocks separated by a blank line.
pub fn to_wiki(blocks: &[Block]) -> String {
    let mut parts = Vec::new();
    for b in blocks {
        block(b, &mut parts);
    }
    parts.join("\n\n")
}

fn block(b: &Block, out: &mut Vec<String>) {
    match b {
        Block::Paragraph(lines) => out.push(lines_text(lines, "\n")),
        Block::List { kind, items } => {
            let mut s = String::new();
            list(*kind, items, "", &mut s);
            out.push(s.trim_end_matches('\n').to_string());
        }
        Block::Quote(inner) => {
            // `{quote}` does not nest: a nested quote's blocks join this one.
            let mut parts = Vec::new();
            quote_content(inner, &mut parts);
            out.push(format!("{{quote}}\n{}\n{{quote}}", parts.join("\n\n")));
        }
    }
}

fn quote_content(blocks: &[Block], out: &mut Vec<String>) {
    for b in blocks {
        match b {
            Block::Quote(inner) => quote_content(inner, out),
            other => block(other, out),
        }
    }
}

/// Items as `* ` / `# ` lines; nesting repeats the parents' markers
/// (`*#` is a numbered list in a bullet list). An item's further lines are
/// joined with `\\` (a newline would end the item).
fn list(kind: ListKind, items: &[Item], parents: &str, out: &mut String) {
    let prefix = format!("{parents}{}", if kind == ListKind::Bullet { '*' } else { '#' });
    for item in items {
        let _ = writeln!(out, "{prefix} {}", lines_text(&item.lines, "\\\\ "));
        for child in &item.children {
            if let Block::List { kind, items } = child {
                list(*kind, items, &prefix, out);
            }
        }
    }
}

fn lines_text(lines: &[Line], separator: &str) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        let start = out.len();
        for node in line {
            inline(node, &mut out);
        }
        guard_line_start(&mut out, start);
    }
    out
}

fn inline(node: &Inline, out: &mut String) {
    match node {
        Inline::Text(t) => escape(t, out),
        Inline::Strong(children) => wrap('*', children, out),
        Inline::Em(children) => wrap('_', children, out),
        Inline::Link { text, href } if text == href => {
            out.push('[');
            href_text(href, out);
            out.push(']');
        }
        Inline::Link { text, href } => {
            out.push('[');
            escape(text, out);
            out.push('|');
            href_text(href, out);
            out.push(']');
        }
    }
}

fn wrap(mark: char, children: &[Inline], out: &mut String) {
    out.push(mark);
    for c in children {
        inline(c, out);
    }
    out.push(mark);
}

/// Literal text: characters wiki markup reads as markup are escaped.
fn escape(text: &str, out: &mut String) {
    let mut prev = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("&#92;"),
            // Inside a word (`mail-body.txt`, `snake_case`) a dash or an
            // underscore opens no effect: Jira wiki's -strike- and
            // _emphasis_ start and end at word boundaries.
            '-' | '_'
                if prev.is_some_and(char::is_alphanumeric) && chars.peek().is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push(c)
            }
            '{' | '}' | '[' | ']' | '|' | '!' | '*' | '_' | '+' | '^' | '~' | '-' | '#' => {
                out.push('\\');
                out.push(c);
            }
            // `??citation??`
            '?' if prev == Some('?') || chars.peek() == Some(&'?') => out.push_str("\\?"),
            c => out.push(c),
        }
        prev = Some(c);
    }
}

/// A line starting `h1.`–`h6.` or `bq.` would be a heading or a quote.
fn guard_line_start(out: &mut String, start: usize) {
    let line = &out[start..];
    let rest = line.trim_start();
    let at = start + line.len() - rest.len();
    let b = rest.as_bytes();
    let heading = b.len() >= 3 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]) && b[2] == b'.';
    let quote = rest.starts_with("bq.");
    if heading {
        out.replace_range(at..at + 1, "&#104;");
    } else if quote {
        out.replace_range(at..at + 1, "&#98;");
    }
}

/// A link target: characters that end or split a wiki link are
/// percent-encoded.
fn href_text(href: &str, out: &mut String) {
    for c in href.chars() {
        match c {
            '|' => out.push_str("%7C"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            '\\' => out.push_str("%5C"),
            c => out.push(c),
        }
    }
}
