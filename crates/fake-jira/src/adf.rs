//! The shape of an ADF document, as Jira Cloud holds it: a body that breaks
//! Atlassian's document structure is refused with a 400, as the real site
//! refuses it (INVALID_INPUT). Follows
//! https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
//! and its node pages, for the nodes and marks Jira text uses; anything
//! else is refused so a client cannot rely on it unnoticed.

use serde_json::Value;

/// Why `doc` is not a valid ADF document, if it is not.
pub fn check(doc: &Value) -> Result<(), String> {
    if doc["type"] != "doc" || doc["version"] != 1 {
        return Err("the root is not {\"type\":\"doc\",\"version\":1}".into());
    }
    node(doc, 0)
}

const BLOCKS: &[&str] =
    &["paragraph", "bulletList", "orderedList", "blockquote", "heading", "codeBlock", "rule", "panel"];
const INLINES: &[&str] = &["text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"];

fn node(n: &Value, depth: usize) -> Result<(), String> {
    if depth > 64 {
        return Err("document nested too deeply".into());
    }
    let kind = n["type"].as_str().ok_or_else(|| format!("a node without a type: {n}"))?;
    let content: &[Value] = n.get("content").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let allowed: &[&str] = match kind {
        "doc" => BLOCKS,
        "paragraph" | "heading" => INLINES,
        "bulletList" | "orderedList" => &["listItem"],
        "listItem" => &["paragraph", "bulletList", "orderedList", "codeBlock"],
        // No blockquote inside a blockquote (node page "blockquote").
        "blockquote" => &["paragraph", "bulletList", "orderedList", "codeBlock"],
        "panel" => &["paragraph", "bulletList", "orderedList", "heading"],
        "codeBlock" => &["text"],
        "text" => return text(n),
        "hardBreak" | "rule" | "mention" | "emoji" | "inlineCard" | "date" | "status" => &[],
        other => return Err(format!("unknown node type {other}")),
    };
    let needs_content = matches!(kind, "bulletList" | "orderedList" | "listItem" | "blockquote" | "panel");
    if needs_content && content.is_empty() {
        return Err(format!("{kind} must have content"));
    }
    if kind == "listItem" && !matches!(content[0]["type"].as_str(), Some("paragraph" | "codeBlock")) {
        return Err("a listItem must start with a paragraph".into());
    }
    for c in content {
        let ck = c["type"].as_str().unwrap_or("");
        if !allowed.contains(&ck) {
            return Err(format!("{ck} is not allowed in {kind}"));
        }
        node(c, depth + 1)?;
    }
    Ok(())
}

fn text(n: &Value) -> Result<(), String> {
    if n["text"].as_str().is_none_or(str::is_empty) {
        return Err("a text node must have non-empty text".into());
    }
    for m in n.get("marks").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        match m["type"].as_str() {
            Some("strong" | "em" | "code" | "strike" | "underline" | "subsup" | "textColor") => {}
            Some("link") if m["attrs"]["href"].is_string() => {}
            _ => return Err(format!("unsupported mark {m}")),
        }
    }
    Ok(())
}
