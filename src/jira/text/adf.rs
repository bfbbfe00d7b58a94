//! Blocks to an Atlassian Document Format document (Cloud REST v3), and
//! ADF back to the lightweight text form.
//!
//! The shape follows Atlassian's document structure,
//! https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
//! and its node pages: `doc` holds `paragraph`, `bulletList`, `orderedList`
//! and `blockquote`; a `listItem` starts with a `paragraph` and may hold
//! nested lists; a `blockquote` holds paragraphs and lists but no other
//! `blockquote` (so a nested quote's blocks go into the enclosing one);
//! `text` nodes are never empty and carry only the marks `strong`, `em`
//! and `link` (`attrs.href`).

use serde_json::{Map, Value, json};

use super::{Block, Inline, Item, Line, ListKind};

/// The ADF `doc` for `blocks` (no content for an empty body).
pub fn to_adf(blocks: &[Block]) -> Value {
    let mut content = Vec::new();
    for b in blocks {
        block(b, &mut content);
    }
    json!({"type": "doc", "version": 1, "content": content})
}

fn block(b: &Block, out: &mut Vec<Value>) {
    match b {
        Block::Paragraph(lines) => out.push(paragraph(lines)),
        Block::List { kind, items } => out.push(list(*kind, items)),
        Block::Quote(inner) => {
            let mut content = Vec::new();
            quote_content(inner, &mut content);
            out.push(json!({"type": "blockquote", "content": content}));
        }
    }
}

/// A quote's blocks, nested quotes flattened into it.
fn quote_content(blocks: &[Block], out: &mut Vec<Value>) {
    for b in blocks {
        match b {
            Block::Quote(inner) => quote_content(inner, out),
            other => block(other, out),
        }
    }
}

fn list(kind: ListKind, items: &[Item]) -> Value {
    let items: Vec<Value> = items.iter().map(list_item).collect();
    match kind {
        ListKind::Bullet => json!({"type": "bulletList", "content": items}),
        ListKind::Numbered { start: 1 } => json!({"type": "orderedList", "content": items}),
        ListKind::Numbered { start } => json!({"type": "orderedList", "attrs": {"order": start}, "content": items}),
    }
}

fn list_item(item: &Item) -> Value {
    let mut content = vec![paragraph(&item.lines)];
    for child in &item.children {
        block(child, &mut content);
    }
    json!({"type": "listItem", "content": content})
}

fn paragraph(lines: &[Line]) -> Value {
    let mut content = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            content.push(json!({"type": "hardBreak"}));
        }
        for node in line {
            inline(node, Marks::default(), &mut content);
        }
    }
    json!({"type": "paragraph", "content": content})
}

#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    strong: bool,
    em: bool,
}

fn inline(node: &Inline, marks: Marks, out: &mut Vec<Value>) {
    match node {
        Inline::Text(t) => out.push(text_node(t, marks, None)),
        Inline::Link { text, href } => out.push(text_node(text, marks, Some(href))),
        Inline::Strong(children) => {
            for c in children {
                inline(c, Marks { strong: true, ..marks }, out);
            }
        }
        Inline::Em(children) => {
            for c in children {
                inline(c, Marks { em: true, ..marks }, out);
            }
        }
    }
}

fn text_node(text: &str, marks: Marks, href: Option<&str>) -> Value {
    let mut list = Vec::new();
    if marks.strong {
        list.push(json!({"type": "strong"}));
    }
    if marks.em {
        list.push(json!({"type": "em"}));
    }
    if let Some(href) = href {
        list.push(json!({"type": "link", "attrs": {"href": href}}));
    }
    let mut node = Map::new();
    node.insert("type".into(), "text".into());
    node.insert("text".into(), text.into());
    if !list.is_empty() {
        node.insert("marks".into(), Value::Array(list));
    }
    Value::Object(node)
}

/// ADF back to text in the lightweight form the reader takes (`* ` and
/// `1. ` lists, `> ` quotes, `**strong**`, `_em_`, `[text](url)`), so text
/// mailgate sent reads back as it was written. Used for Jira comments that
/// become notification mails, by the fake Jira's tests and the demo. A
/// string (Data Center) is returned as it is.
pub fn adf_to_text(doc: &Value) -> String {
    if let Some(s) = doc.as_str() {
        return s.to_string();
    }
    let mut out = String::new();
    blocks_text(children(doc), &mut out);
    out.trim_end().to_string()
}

fn children(node: &Value) -> &[Value] {
    node.get("content").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn kind(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Block nodes, each followed by a blank line.
fn blocks_text(nodes: &[Value], out: &mut String) {
    for node in nodes {
        match kind(node) {
            "bulletList" | "orderedList" => {
                list_text(node, "", out);
                out.push('\n');
            }
            "blockquote" => {
                let mut inner = String::new();
                blocks_text(children(node), &mut inner);
                for line in inner.trim_end().split('\n') {
                    out.push_str(if line.is_empty() { ">" } else { "> " });
                    out.push_str(line);
                    out.push('\n');
                }
                out.push('\n');
            }
            "rule" => out.push_str("---\n\n"),
            _ => {
                inline_text(children(node), out);
                out.push_str("\n\n");
            }
        }
    }
}

fn list_text(list: &Value, indent: &str, out: &mut String) {
    let ordered = kind(list) == "orderedList";
    let start = list.pointer("/attrs/order").and_then(Value::as_u64).unwrap_or(1);
    for (number, item) in (start..).zip(children(list)) {
        let marker = if ordered { format!("{number}. ") } else { "* ".to_string() };
        out.push_str(indent);
        out.push_str(&marker);
        let nested = format!("{indent}{}", " ".repeat(marker.len()));
        let mut first = true;
        for child in children(item) {
            match kind(child) {
                "bulletList" | "orderedList" => list_text(child, &nested, out),
                _ => {
                    if !first {
                        out.push_str(&nested);
                    }
                    let mut text = String::new();
                    inline_text(children(child), &mut text);
                    out.push_str(&text.replace('\n', &format!("\n{nested}")));
                    out.push('\n');
                }
            }
            first = false;
        }
    }
}

fn inline_text(nodes: &[Value], out: &mut String) {
    // Consecutive nodes with the same marks share one pair of delimiters
    // (`**see [x](y)**`, not `**see **[x](y)`): a mark is closed only when
    // a node lacks it (inner first), opened when a node has it.
    let mut open: Vec<&str> = Vec::new();
    for node in nodes {
        let attr = |name: &str| node.pointer(&format!("/attrs/{name}")).and_then(Value::as_str).unwrap_or("");
        let marks = node.get("marks").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let want: Vec<&str> = ["**", "_"]
            .into_iter()
            .zip(["strong", "em"])
            .filter(|(_, t)| kind(node) == "text" && marks.iter().any(|m| kind(m) == *t))
            .map(|(d, _)| d)
            .collect();
        while open.iter().any(|d| !want.contains(d)) {
            out.push_str(open.pop().unwrap_or_default());
        }
        for d in want {
            if !open.contains(&d) {
                out.push_str(d);
                open.push(d);
            }
        }
        match kind(node) {
            "text" => {
                let text = node.get("text").and_then(Value::as_str).unwrap_or("");
                let href = marks
                    .iter()
                    .find(|m| kind(m) == "link")
                    .and_then(|m| m.pointer("/attrs/href"))
                    .and_then(Value::as_str);
                match href {
                    Some(h) if h != text => out.push_str(&format!("[{text}]({h})")),
                    _ => out.push_str(text),
                }
            }
            "hardBreak" => out.push('\n'),
            "mention" | "emoji" => out.push_str(attr("text")),
            "inlineCard" => out.push_str(attr("url")),
            _ => inline_text(children(node), out),
        }
    }
    while let Some(d) = open.pop() {
        out.push_str(d);
    }
}
