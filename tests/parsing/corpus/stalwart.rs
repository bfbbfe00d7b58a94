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

/// One entry per attachment our parser should produce (multipart entries
/// dropped); `Some(name)` where the reference part has a usable name.
fn expected_attachments(json: &Value) -> Result<Vec<Option<String>>, String> {
    let parts = json.get("parts").and_then(Value::as_array).ok_or("no `parts` array")?;
    let indices = json.get("attachments").and_then(Value::as_array).ok_or("no `attachments` array")?;
    let mut out = Vec::new();
    for index in indices {
        let part = index
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| parts.get(i))
            .ok_or_else(|| format!("attachment index {index} is not a part"))?;
        if part.get("body").and_then(|b| b.get("Multipart")).is_some() {
            continue;
        }
        let name = json_attribute(part, "content_disposition", "filename")
            .or_else(|| json_attribute(part, "content_type", "name"))
            .map(sanitize_filename)
            .filter(|n| !n.is_empty());
        out.push(name);
    }
    Ok(out)
}

#[test]
fn stalwart_mail_parser_corpus() {
    let dir = corpus_dir("stalwart-mail-parser");
    let files = files_under(&dir, &|p| has_ext(p, "eml"));
    assert!(!files.is_empty(), "no .eml files under {}", dir.display());

    let mut failures = Vec::new();
    let (mut subjects, mut names, mut unnamed) = (0usize, 0usize, 0usize);
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
        "stalwart-mail-parser: {} files checked, {subjects} subjects compared, \
         {names} attachment names compared ({unnamed} unnamed attachments counted only)",
        files.len()
    );
    finish("stalwart-mail-parser", &failures);
}

// ---------------------------------------------------------------------------
// mime4j corpus
// ---------------------------------------------------------------------------
