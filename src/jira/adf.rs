//! Atlassian Document Format for Cloud (REST v3) bodies.

use serde_json::{Value, json};

/// Plain text to an ADF document: blank lines separate paragraphs, single
/// newlines become hard breaks. Empty text gives an empty document.
pub fn text_to_adf(text: &str) -> Value {
    let normalised = text.replace("\r\n", "\n");
    let mut paragraphs = Vec::new();
    for para in normalised.split("\n\n") {
        let para = para.trim_matches('\n');
        if para.trim().is_empty() {
            continue;
        }
        let mut content = Vec::new();
        for (i, line) in para.split('\n').enumerate() {
            if i > 0 {
                content.push(json!({"type": "hardBreak"}));
            }
            if !line.is_empty() {
                content.push(json!({"type": "text", "text": line}));
            }
        }
        paragraphs.push(json!({"type": "paragraph", "content": content}));
    }
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// ADF back to plain text (used by the fake Jira and the demo output).
pub fn adf_to_text(doc: &Value) -> String {
    fn walk(node: &Value, out: &mut String) {
        match node.get("type").and_then(Value::as_str) {
            Some("text") => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("hardBreak") => out.push('\n'),
            _ => {}
        }
        if let Some(children) = node.get("content").and_then(Value::as_array) {
            for c in children {
                walk(c, out);
            }
        }
        if node.get("type").and_then(Value::as_str) == Some("paragraph") {
            out.push_str("\n\n");
        }
    }
    if let Some(s) = doc.as_str() {
        return s.to_string();
    }
    let mut out = String::new();
    walk(doc, &mut out);
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_adf() {
        let text = "Hello\nsecond line\n\nNew paragraph";
        let adf = text_to_adf(text);
        assert_eq!(adf["type"], "doc");
        assert_eq!(adf["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(adf_to_text(&adf), text);
    }

    #[test]
    fn empty_text_has_no_empty_text_nodes() {
        let adf = text_to_adf("\n\n  \n");
        assert_eq!(adf["content"].as_array().map(Vec::len), Some(0));
    }
}
