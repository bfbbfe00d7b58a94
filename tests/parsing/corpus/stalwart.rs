//! `stalwart-mail-parser/**.eml` against mail-parser's reference parses.

use super::*;

fn json_header<'a>(part: &'a Value, name: &str) -> Option<&'a Value> {
    part.get("headers")?
        .as_array()?
        .iter()
        .rev()
        .find(|h| h.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")
}

/// mail-parser's `HeaderValue::as_text`.
fn json_text(value: &Value) -> Option<&str> {
    if let Some(text) = value.get("Text").and_then(Value::as_str) {
        return Some(text);
    }
    value.get("TextList")?.as_array()?.last()?.as_str()
}

/// The first attribute `attr` of a content-type-like header (`ContentType::attribute`).
fn json_attribute<'a>(part: &'a Value, header: &str, attr: &str) -> Option<&'a str> {
    json_header(part, header)?
        .get("ContentType")?
        .get("attributes")?
        .as_array()?
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(attr))?
        .get("value")?
        .as_str()
}

fn expected_subject(json: &Value) -> String {
    json.get("parts")
        .and_then(|parts| parts.get(0))
        .and_then(|root| json_header(root, "subject"))
        .and_then(json_text)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn part_name(part: &Value) -> Option<String> {
    json_attribute(part, "content_disposition", "filename")
        .or_else(|| json_attribute(part, "content_type", "name"))
        .map(sanitize_filename)
        .filter(|n| !n.is_empty())
}

fn indices(json: &Value, list: &str) -> Vec<usize> {
    json.get(list)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| i.as_u64().and_then(|i| usize::try_from(i).ok())).collect())
        .unwrap_or_default()
}

/// Text body parts with a file name other than the root: ours are
/// attachments (`mime::body`), mail-parser's are body.
fn named_text_parts(json: &Value) -> Vec<usize> {
    let parts = json.get("parts").and_then(Value::as_array).cloned().unwrap_or_default();
    indices(json, "text_body")
        .into_iter()
        .filter(|&i| i != 0)
        .filter(|&i| {
            parts.get(i).is_some_and(|p| {
                let text = p.get("body").is_some_and(|b| b.get("Text").is_some() || b.get("Html").is_some());
                text && part_name(p).is_some()
            })
        })
        .collect()
}

/// The decoded text of each unnamed `text/plain` part of `text_body`,
/// newlines normalised and trimmed as ours are: each must appear in our
/// body, in order.
fn expected_text_pieces(json: &Value) -> Vec<String> {
    let parts = json.get("parts").and_then(Value::as_array).cloned().unwrap_or_default();
    let named = named_text_parts(json);
    indices(json, "text_body")
        .into_iter()
        .filter(|i| !named.contains(i))
        .filter_map(|i| parts.get(i)?.get("body")?.get("Text")?.as_str().map(str::to_string))
        .map(|t| t.replace("\r\n", "\n").trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// One entry per attachment our parser should produce (multipart entries
/// dropped); `Some(name)` where the reference part has a usable name.
fn expected_attachments(json: &Value) -> Result<Vec<Option<String>>, String> {
    let parts = json.get("parts").and_then(Value::as_array).ok_or("no `parts` array")?;
    let listed = json.get("attachments").and_then(Value::as_array).ok_or("no `attachments` array")?;
    let mut all: Vec<Value> = listed.clone();
    all.extend(named_text_parts(json).into_iter().map(Value::from));
    all.sort_by_key(|v| v.as_u64());
    all.dedup();
    let mut out = Vec::new();
    for index in &all {
        let part = index
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| parts.get(i))
            .ok_or_else(|| format!("attachment index {index} is not a part"))?;
        if part.get("body").and_then(|b| b.get("Multipart")).is_some() {
            continue;
        }
        out.push(part_name(part));
    }
    Ok(out)
}

#[test]
fn stalwart_mail_parser_corpus() {
    let dir = corpus_dir("stalwart-mail-parser");
    let files = files_under(&dir, &|p| has_ext(p, "eml"));
    assert!(!files.is_empty(), "no .eml files under {}", dir.display());

    let mut failures = Vec::new();
    let (mut subjects, mut bodies, mut names, mut unnamed) = (0usize, 0usize, 0usize, 0usize);
    for path in &files {
        let file = rel(path);
        let msg = match load_and_parse_ok(path) {
            Ok(msg) => msg,
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };
        let json_path = path.with_extension("json");
        let json: Value = match std::fs::read(&json_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(json) => json,
            Err(e) => {
                failures.push(format!("{}: unusable expectation: {e}", rel(&json_path)));
                continue;
            }
        };

        let want = expected_subject(&json);
        check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
        subjects += 1;

        let pieces = expected_text_pieces(&json);
        let body_ok = contains_in_order(&msg.text, &pieces);
        check(&mut failures, BODY_ALLOW, &file, "body", &pieces, &msg.text, body_ok);
        bodies += usize::from(!pieces.is_empty());

        let want = match expected_attachments(&json) {
            Ok(want) => want,
            Err(e) => {
                failures.push(format!("{}: unusable expectation: {e}", rel(&json_path)));
                continue;
            }
        };
        let ours: Vec<&str> = msg.attachments.iter().map(|a| a.filename.as_str()).collect();
        if want.len() != ours.len() {
            check(&mut failures, ATTACHMENT_ALLOW, &file, "attachment count", &want, &ours, false);
            continue;
        }
        let named: Vec<(&str, &str)> =
            want.iter().zip(&ours).filter_map(|(w, o)| w.as_deref().map(|w| (w, *o))).collect();
        unnamed += want.len() - named.len();
        names += named.len();
        check(
            &mut failures,
            ATTACHMENT_ALLOW,
            &file,
            "attachment names",
            &named.iter().map(|(w, _)| *w).collect::<Vec<_>>(),
            &named.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
            named.iter().all(|(w, o)| w == o),
        );
    }

    println!(
        "stalwart-mail-parser: {} files checked, {subjects} subjects and {bodies} bodies compared, \
         {names} attachment names compared ({unnamed} unnamed attachments counted only)",
        files.len()
    );
    finish("stalwart-mail-parser", &failures);
}

// ---------------------------------------------------------------------------
// mime4j corpus
// ---------------------------------------------------------------------------
