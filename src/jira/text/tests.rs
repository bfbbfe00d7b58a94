use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}

fn marked(t: &str, marks: Value) -> Value {
    json!({"type": "text", "text": t, "marks": marks})
}

fn para(content: Value) -> Value {
    json!({"type": "paragraph", "content": content})
}

fn item(content: Value) -> Value {
    json!({"type": "listItem", "content": content})
}

fn doc(content: Value) -> Value {
    json!({"type": "doc", "version": 1, "content": content})
}

/// What Atlassian's document structure allows for the nodes mailgate
/// writes (developer.atlassian.com/cloud/jira/platform/apis/document/structure/
/// and the node pages): the children each node may hold, no empty text,
/// only known marks, a `listItem` opening with a paragraph.
pub(crate) fn check_adf(node: &Value) -> Result<(), String> {
    let kind = node["type"].as_str().ok_or_else(|| format!("node without type: {node}"))?;
    let children: &[Value] = node.get("content").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let allowed: &[&str] = match kind {
        "doc" => &["paragraph", "bulletList", "orderedList", "blockquote"],
        "blockquote" => &["paragraph", "bulletList", "orderedList"],
        "bulletList" | "orderedList" => &["listItem"],
        "listItem" => &["paragraph", "bulletList", "orderedList"],
        "paragraph" => &["text", "hardBreak"],
        "text" => {
            if node["text"].as_str().is_none_or(str::is_empty) {
                return Err(format!("empty text node: {node}"));
            }
            for m in node.get("marks").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                match m["type"].as_str() {
                    Some("strong" | "em") => {}
                    Some("link") if m["attrs"]["href"].is_string() => {}
                    _ => return Err(format!("bad mark {m}")),
                }
            }
            &[]
        }
        "hardBreak" => &[],
        other => return Err(format!("unexpected node {other}")),
    };
    if kind == "doc" && node["version"] != 1 {
        return Err("doc without version 1".into());
    }
    let needs_content = matches!(kind, "blockquote" | "bulletList" | "orderedList" | "listItem");
    if needs_content && children.is_empty() {
        return Err(format!("{kind} without content"));
    }
    if kind == "listItem" && children[0]["type"] != "paragraph" {
        return Err("listItem not opening with a paragraph".into());
    }
    for c in children {
        let ck = c["type"].as_str().unwrap_or("");
        if !allowed.contains(&ck) {
            return Err(format!("{ck} inside {kind}"));
        }
        check_adf(c)?;
    }
    Ok(())
}

fn adf(t: &str) -> Value {
    let v = text_to_adf(t);
    if let Err(e) = check_adf(&v) {
        panic!("{e} in {v}");
    }
    v
}

#[test]
fn paragraphs_are_split_by_blank_lines_and_lines_joined_by_hard_breaks() {
    let v = adf("Hello\nsecond line\n\n\nNew paragraph");
    let expected = doc(json!([
        para(json!([text("Hello"), {"type": "hardBreak"}, text("second line")])),
        para(json!([text("New paragraph")])),
    ]));
    assert_eq!(v, expected);
    assert_eq!(text_to_wiki("Hello\r\nsecond line\r\n\r\nNew paragraph"), "Hello\nsecond line\n\nNew paragraph");
}

#[test]
fn empty_input_gives_an_empty_document_and_no_wiki() {
    assert_eq!(adf(""), doc(json!([])));
    assert_eq!(adf("\n\n  \n"), doc(json!([])));
    assert_eq!(adf("> \n>"), doc(json!([])));
    assert_eq!(text_to_wiki(" \n"), "");
}

#[test]
fn bullet_lists_nest_by_indentation_and_wrapped_lines_continue_the_item() {
    let body = "Steps:\n* one\n  - one a\n  - one b\n- two\nwrapped\n\n• three\n\nAfter";
    let v = adf(body);
    let expected = doc(json!([
        para(json!([text("Steps:")])),
        {"type": "bulletList", "content": [
            item(json!([
                para(json!([text("one")])),
                {"type": "bulletList", "content": [
                    item(json!([para(json!([text("one a")]))])),
                    item(json!([para(json!([text("one b")]))])),
                ]},
            ])),
            item(json!([para(json!([text("two"), {"type": "hardBreak"}, text("wrapped")]))])),
            item(json!([para(json!([text("three")]))])),
        ]},
        para(json!([text("After")])),
    ]));
    assert_eq!(v, expected);
    assert_eq!(text_to_wiki(body), "Steps:\n\n* one\n** one a\n** one b\n* two\\\\ wrapped\n* three\n\nAfter");
}

#[test]
fn numbered_lists_keep_their_start_and_may_hold_bullets() {
    let body = "3. third\n4) fourth\n   * detail\n\n1. again";
    let v = adf(body);
    let expected = doc(json!([
        {"type": "orderedList", "attrs": {"order": 3}, "content": [
            item(json!([para(json!([text("third")]))])),
            item(json!([
                para(json!([text("fourth")])),
                {"type": "bulletList", "content": [item(json!([para(json!([text("detail")]))]))]},
            ])),
            item(json!([para(json!([text("again")]))])),
        ]},
    ]));
    assert_eq!(v, expected);
    assert_eq!(text_to_wiki(body), "# third\n# fourth\n#* detail\n# again");
}

#[test]
fn not_quite_lists_stay_text() {
    let body = "2026. was a year\n-- \n1.5 GB\n-\n**not a bullet**";
    let v = adf(body);
    let content = v["content"].as_array().expect("content");
    assert_eq!(content.len(), 1, "{v}");
    assert_eq!(content[0]["type"], "paragraph");
    assert_eq!(adf_to_text(&v), body);
}

#[test]
fn quotes_hold_blocks_and_nested_quotes_flatten_into_them() {
    let body = "Earlier:\n> Ann wrote\n> * a point\n>\n>> older\n\nReply";
    let v = adf(body);
    let expected = doc(json!([
        para(json!([text("Earlier:")])),
        {"type": "blockquote", "content": [
            para(json!([text("Ann wrote")])),
            {"type": "bulletList", "content": [item(json!([para(json!([text("a point")]))]))]},
            para(json!([text("older")])),
        ]},
        para(json!([text("Reply")])),
    ]));
    assert_eq!(v, expected);
    assert_eq!(
        parse(">> older")[0],
        Block::Quote(vec![Block::Quote(vec![Block::Paragraph(vec![vec![Inline::Text("older".into())]])])])
    );
    assert_eq!(text_to_wiki(body), "Earlier:\n\n{quote}\nAnn wrote\n\n* a point\n\nolder\n{quote}\n\nReply");
}

#[test]
fn links_bold_and_italic_become_marks() {
    let body = "See https://x.test/a_(b). and [the docs](https://d.test/p?q=1), **bold _both_** or __b__ *it*.";
    let v = adf(body);
    let link = |h: &str| json!([{"type": "link", "attrs": {"href": h}}]);
    let expected = doc(json!([para(json!([
        text("See "),
        marked("https://x.test/a_(b)", link("https://x.test/a_(b)")),
        text(". and "),
        marked("the docs", link("https://d.test/p?q=1")),
        text(", "),
        marked("bold ", json!([{"type": "strong"}])),
        marked("both", json!([{"type": "strong"}, {"type": "em"}])),
        text(" or "),
        marked("b", json!([{"type": "strong"}])),
        text(" "),
        marked("it", json!([{"type": "em"}])),
        text("."),
    ]))]));
    assert_eq!(v, expected);
    assert_eq!(
        text_to_wiki(body),
        "See [https://x.test/a_(b)]. and [the docs|https://d.test/p?q=1], *bold _both_* or *b* _it_."
    );
    assert_eq!(adf_to_text(&v), body.replace("__b__ *it*", "**b** _it_"));
}

#[test]
fn stars_and_underscores_inside_words_stay_literal() {
    for body in
        ["snake_case_words", "2*3*4", "a * b * c", "my_file_.txt", "***x***", "** x**", "[x](ftp://y)", "[] (x)"]
    {
        assert_eq!(adf(body), doc(json!([para(json!([text(body)]))])), "{body}");
    }
}

#[test]
fn a_bare_url_in_angle_brackets_or_parentheses_ends_before_them() {
    let v = adf("<https://a.test/x> (https://b.test)");
    let nodes = &v["content"][0]["content"];
    assert_eq!(nodes[1]["text"], "https://a.test/x");
    assert_eq!(nodes[3]["text"], "https://b.test");
    assert_eq!(nodes[4]["text"], ")");
}

#[test]
fn wiki_special_characters_in_text_are_escaped() {
    let body = "{panel}x{panel} [evil|https://e.test] !img.png! a|b *s* _e_ +u+ ^sup^ ~sub~ -del- ??cite?? \\\\ #1?";
    assert_eq!(
        text_to_wiki(body),
        "\\{panel\\}x\\{panel\\} \\[evil\\|[https://e.test]\\] \\!img.png\\! a\\|b _s_ _e_ \\+u\\+ \\^sup\\^ \\~sub\\~ \
         \\-del\\- \\?\\?cite\\?\\? &#92;&#92; \\#1?"
    );
    assert_eq!(text_to_wiki("h1. Title\nbq. quoted\n----"), "&#104;1. Title\n&#98;q. quoted\n\\-\\-\\-\\-");
    assert_eq!(text_to_wiki("[a](https://x.test/a|b]c)"), "[a|https://x.test/a%7Cb%5Dc]");
    // Inside a word a dash or an underscore opens nothing and stays as it is.
    assert_eq!(
        text_to_wiki("see mail-body.txt and snake_case_name, not -x- or _y_"),
        "see mail-body.txt and snake_case_name, not \\-x\\- or _y_"
    );
}

#[test]
fn adf_reads_back_to_the_lightweight_form() {
    let body = "From: Ann <ann@c.test>\n\nHi,\nline two\n\n* a\n  1. b\n\n> quoted **x**\n\nSee [docs](https://d.test)";
    assert_eq!(adf_to_text(&adf(body)), body);
    assert_eq!(adf_to_text(&json!("wiki *text*")), "wiki *text*");
}

#[test]
fn a_long_body_is_read_in_linear_time() {
    let line = "Line with **bold**, _em_, https://x.test/p and a * literal star and snake_case words\n";
    let mut body = String::new();
    for n in 0..2_000 {
        body.push_str(match n % 4 {
            0 => line,
            1 => "* item *with* star\n",
            2 => "> quoted [link](https://q.test)\n",
            _ => "\n",
        });
    }
    let hostile = format!("{}\n{}\n{}", "*a ".repeat(20_000), ">".repeat(20_000), "[".repeat(20_000));
    let started = Instant::now();
    let v = adf(&body);
    let w = text_to_wiki(&body);
    let h = adf(&hostile);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(v["content"].as_array().is_some_and(|c| c.len() > 500));
    assert!(w.len() > body.len() / 2);
    assert!(adf_to_text(&h).contains("*a *a"));
}
