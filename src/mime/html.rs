//! HTML mail to text in the lightweight form `jira::text` reads, so an
//! HTML-only mail keeps its structure in Jira: paragraphs, `* ` and `1. `
//! lists (nested lists indented), `> ` quotes, `[text](url)` links inline
//! (not footnotes), `**bold**` and `*italic*`.

use html2text::render::{TaggedLine, TextDecorator};

/// Lines are not wrapped (a wrapped line would become a hard break in
/// Jira); html2text still needs a width (it draws no `<hr>`, and tables are
/// as wide as their cells), so this is large but bounded.
const WIDTH: usize = 10_000;

/// The text of `html`; None when html2text fails. Table borders are left
/// out: in mail, tables are mostly layout.
pub(super) fn to_text(html: &str) -> Option<String> {
    html2text::config::with_decorator(Markup::default())
        .link_footnotes(false)
        .no_table_borders()
        .string_from_read(html.as_bytes(), WIDTH)
        .ok()
}

/// The decorator: markers of the lightweight form around inline elements.
#[derive(Debug, Clone, Default)]
struct Markup {
    /// The open links' targets (None: not a scheme the reader links).
    links: Vec<Option<String>>,
}

fn linkable(url: &str) -> bool {
    ["https://", "http://", "mailto:"].iter().any(|s| url.len() > s.len() && url[..s.len()].eq_ignore_ascii_case(s))
        && !url.contains(|c: char| c.is_whitespace() || c == ')' || c == '(')
}

impl TextDecorator for Markup {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, ()) {
        let url = linkable(url).then(|| url.to_string());
        let prefix = if url.is_some() { "[" } else { "" };
        self.links.push(url);
        (prefix.to_string(), ())
    }

    fn decorate_link_end(&mut self) -> String {
        match self.links.pop().flatten() {
            Some(url) => format!("]({url})"),
            None => String::new(),
        }
    }

    fn decorate_em_start(&self) -> (String, ()) {
        ("*".into(), ())
    }

    fn decorate_em_end(&self) -> String {
        "*".into()
    }

    fn decorate_strong_start(&self) -> (String, ()) {
        ("**".into(), ())
    }

    fn decorate_strong_end(&self) -> String {
        "**".into()
    }

    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, ()) {
        ("`".into(), ())
    }

    fn decorate_code_end(&self) -> String {
        "`".into()
    }

    fn decorate_preformat_first(&self) {}

    fn decorate_preformat_cont(&self) {}

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        (if title.is_empty() { String::new() } else { format!("[{title}]") }, ())
    }

    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }

    fn quote_prefix(&self) -> String {
        "> ".into()
    }

    fn unordered_item_prefix(&self) -> String {
        "* ".into()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        Self::default()
    }

    fn finalise(&mut self, _urls: Vec<String>) -> Vec<TaggedLine<()>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jira::text_to_adf;

    #[test]
    fn html_structure_becomes_the_lightweight_form() {
        let html = r#"<h1>Title</h1><p>Hello <b>world</b>, <i>see</i> <a href="https://x.test/a">the page</a>.<br>Next</p>
<ul><li>one</li><li>two<ul><li>two a</li></ul></li></ul><ol><li>first</li></ol>
<blockquote><p>quoted</p></blockquote><p>snake_case 2*3*4 <a href="javascript:x()">js</a> <img alt="logo" src="x.png"></p>
<table><tr><td>a</td><td>b</td></tr></table>"#;
        let text = to_text(html).expect("converts");
        assert_eq!(
            text.trim_end(),
            "Title\n\nHello **world**, *see* [the page](https://x.test/a).\nNext\n* one\n* two\n  * two a\n1. first\n\n\
             > quoted\n\nsnake_case 2*3*4 js [logo]\n\na b"
        );
    }

    #[test]
    fn an_html_mail_reaches_jira_as_structured_adf() {
        let raw = b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n\
            <p>Hi <strong>team</strong></p><ul><li>VPN <em>down</em></li><li><a href=\"https://s.test\">status</a></li></ul>";
        let m = crate::mime::parse(raw).expect("parses");
        let strong = json!([{"type": "strong"}]);
        let em = json!([{"type": "em"}]);
        let link = json!([{"type": "link", "attrs": {"href": "https://s.test"}}]);
        let li = |content: serde_json::Value| json!({"type": "listItem", "content": [{"type": "paragraph", "content": content}]});
        let expected = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "team", "marks": strong}]},
            {"type": "bulletList", "content": [
                li(json!([{"type": "text", "text": "VPN "}, {"type": "text", "text": "down", "marks": em}])),
                li(json!([{"type": "text", "text": "status", "marks": link}])),
            ]},
        ]});
        assert_eq!(text_to_adf(&m.text), expected, "{}", m.text);
    }
}
