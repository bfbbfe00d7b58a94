//! Lines to blocks: paragraphs, lists (nested by indentation), quotes.

use super::{Block, Item, ListKind, inline};

/// Quotes nested deeper than this stay literal `>` text: bounded recursion
/// whatever the mail (a line of 10,000 `>` is one paragraph).
const MAX_QUOTE_DEPTH: usize = 8;
/// Lists nested deeper than this continue at the deepest level.
const MAX_LIST_DEPTH: usize = 6;
/// `1. ` to `999. `: longer numbers are more likely a year (`2026. was…`).
const MAX_NUMBER_DIGITS: usize = 3;

pub(super) fn read(lines: &[&str], quote_depth: usize) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            i += 1;
        } else if quote_depth < MAX_QUOTE_DEPTH && is_quote(line) {
            let start = i;
            while i < lines.len() && is_quote(lines[i]) {
                i += 1;
            }
            let inner: Vec<&str> = lines[start..i].iter().map(|l| unquote(l)).collect();
            let blocks = read(&inner, quote_depth + 1);
            if !blocks.is_empty() {
                out.push(Block::Quote(blocks));
            }
        } else if let Some(m) = marker(line) {
            let (list, next) = read_list(lines, i, m, 0, quote_depth);
            out.push(list);
            i = next;
        } else {
            let start = i;
            i += 1;
            while i < lines.len() && !starts_block(lines[i], quote_depth) {
                i += 1;
            }
            out.push(Block::Paragraph(lines[start..i].iter().map(|l| inline::read(l)).collect()));
        }
    }
    out
}

/// Whether `line` ends a paragraph: blank, or a quote or list starts.
fn starts_block(line: &str, quote_depth: usize) -> bool {
    is_blank(line) || (quote_depth < MAX_QUOTE_DEPTH && is_quote(line)) || marker(line).is_some()
}

/// The list starting at `lines[i]` (whose marker is `first`), and the index
/// after it. Deeper-indented markers open a nested list under the last item;
/// other lines without a marker continue the last item (a wrapped line).
fn read_list(lines: &[&str], mut i: usize, first: Marker<'_>, depth: usize, quote_depth: usize) -> (Block, usize) {
    let kind = first.kind;
    let base = first.indent;
    let mut items: Vec<Item> = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            // A blank line between items of the same list keeps the list.
            let next = (i..lines.len()).find(|&j| !is_blank(lines[j]));
            match next.and_then(|j| marker(lines[j]).map(|m| (j, m))) {
                Some((j, m)) if m.indent == base && same_kind(m.kind, kind) => i = j,
                _ => break,
            }
            continue;
        }
        if quote_depth < MAX_QUOTE_DEPTH && is_quote(line) {
            break;
        }
        match (marker(line), items.last_mut()) {
            (Some(m), _) if m.indent < base && depth > 0 => break,
            (Some(m), Some(last)) if m.indent > base && depth < MAX_LIST_DEPTH => {
                let (child, next) = read_list(lines, i, m, depth + 1, quote_depth);
                last.children.push(child);
                i = next;
            }
            (Some(m), _) if !same_kind(m.kind, kind) => break,
            (Some(m), _) => {
                items.push(Item { lines: vec![inline::read(m.content)], children: Vec::new() });
                i += 1;
            }
            (None, Some(last)) => {
                last.lines.push(inline::read(line.trim_start()));
                i += 1;
            }
            (None, None) => break,
        }
    }
    (Block::List { kind, items }, i)
}

fn same_kind(a: ListKind, b: ListKind) -> bool {
    matches!((a, b), (ListKind::Bullet, ListKind::Bullet) | (ListKind::Numbered { .. }, ListKind::Numbered { .. }))
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quote(line: &str) -> bool {
    line.starts_with('>')
}

/// One quote level off: the `>` and one space after it.
fn unquote(line: &str) -> &str {
    let rest = line.strip_prefix('>').unwrap_or(line);
    rest.strip_prefix(' ').unwrap_or(rest)
}

#[derive(Debug, Clone, Copy)]
struct Marker<'a> {
    /// Leading whitespace width (a tab counts 4).
    indent: usize,
    kind: ListKind,
    /// The item's text after the marker and its space; never blank.
    content: &'a str,
}

/// A list marker at the start of `line`: `* `, `- `, `• `, `1. ` or `1) `.
fn marker(line: &str) -> Option<Marker<'_>> {
    let body = line.trim_start_matches([' ', '\t']);
    let indent = line[..line.len() - body.len()].chars().map(|c| if c == '\t' { 4 } else { 1 }).sum();
    let (kind, rest) = if let Some(rest) = body.strip_prefix(['*', '-', '•']) {
        (ListKind::Bullet, rest)
    } else {
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > MAX_NUMBER_DIGITS {
            return None;
        }
        let rest = body[digits..].strip_prefix(['.', ')'])?;
        let start = body[..digits].parse().ok()?;
        (ListKind::Numbered { start }, rest)
    };
    let content = rest.strip_prefix(' ')?;
    if content.trim().is_empty() {
        return None;
    }
    Some(Marker { indent, kind, content })
}
