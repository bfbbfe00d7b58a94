//! A mail body read as lightweight structure, and that structure written
//! for Jira: ADF for Cloud (REST v3), wiki markup for Data Center (REST v2).
//!
//! Mail text has conventions everybody reads the same way: a blank line
//! between paragraphs, `* ` / `- ` / `1. ` lists, `> ` quotes, bare URLs,
//! `**bold**` and `_italic_`. Sending each line as its own paragraph (as
//! before) loses them; this reader keeps them so Jira shows what the sender
//! saw. It is deliberately small: anything it does not recognise stays
//! literal text, and no character of the mail is dropped or moved except
//! the markers it consumes (list bullets, `>` prefixes, emphasis and link
//! syntax).
//!
//! `html_to_text` (src/mime.rs) writes HTML mail in this same form, so an
//! HTML-only mail keeps its structure through one path.
//!
//! The reader is pure and linear in the input (issue 11: bodies can be
//! megabytes before the cut); nesting depths are capped so hostile input
//! cannot recurse deeply.

mod adf;
mod blocks;
mod inline;
mod wiki;

#[cfg(test)]
mod tests;

pub use adf::{adf_to_text, to_adf};
pub use wiki::to_wiki;

/// A block of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Lines of one paragraph (ADF joins them with `hardBreak`).
    Paragraph(Vec<Line>),
    List {
        kind: ListKind,
        items: Vec<Item>,
    },
    /// `> ` lines, read again as blocks (nested quotes are kept in the
    /// model; neither ADF nor wiki markup can nest them, see the renderers).
    Quote(Vec<Block>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Bullet,
    /// `start` is the first item's number (`3. ` starts at 3).
    Numbered {
        start: u32,
    },
}

/// One list item: its text lines and the lists nested under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub lines: Vec<Line>,
    pub children: Vec<Block>,
}

/// One line's inline content; never empty for a line read from text.
pub type Line = Vec<Inline>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Literal text, never empty.
    Text(String),
    Strong(Vec<Inline>),
    Em(Vec<Inline>),
    /// A bare URL (`text == href`) or `[text](href)`.
    Link {
        text: String,
        href: String,
    },
}

/// Read a body (LF or CRLF line ends) as blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    blocks::read(&lines, 0)
}

/// The body as the ADF document a Cloud description or comment takes.
pub fn text_to_adf(text: &str) -> serde_json::Value {
    to_adf(&parse(text))
}

/// The body as Data Center wiki markup.
pub fn text_to_wiki(text: &str) -> String {
    to_wiki(&parse(text))
}
