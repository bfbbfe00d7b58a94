//! `mime4j/{testmsgs,mimetools-testmsgs}/*.msg` against mime4j's header views.

use super::*;

pub(super) fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Raw top-level header fields from a mime4j XML file: the `<field>`s of the
/// first `<header>` element, entities resolved, the newline mime4j writes
/// after `<field>` removed.
fn xml_top_level_fields(xml: &str) -> Vec<String> {
    let Some(start) = xml.find("<header>") else {
        return Vec::new();
    };
    let header = &xml[start..];
    let header = &header[..header.find("</header>").unwrap_or(header.len())];
    header
        .split("<field>")
        .skip(1)
        .map(|f| {
            let f = f.split("</field>").next().unwrap_or(f);
            let f = f.strip_prefix("\r\n").or_else(|| f.strip_prefix('\n')).unwrap_or(f);
            xml_unescape(f)
        })
        .collect()
}

/// The expected subject where it is clearly available; see the module docs.
/// A header section without a `Subject` field means an empty subject.
fn mime4j_expected_subject(fields: &[String]) -> Option<String> {
    let Some(raw) = fields.iter().rev().find_map(|f| {
        let (name, value) = f.split_once(':')?;
        name.trim().eq_ignore_ascii_case("subject").then_some(value)
    }) else {
        return Some(String::new());
    };
    let unfolded: String = raw.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let plain = unfolded.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) && !unfolded.contains("=?");
    plain.then(|| unfolded.trim().to_string())
}

#[test]
fn mime4j_corpus() {
    let dir = corpus_dir("mime4j");
    let mut files = Vec::new();
    for sub in ["testmsgs", "mimetools-testmsgs"] {
        let sub_dir = dir.join(sub);
        assert!(sub_dir.is_dir(), "{} is missing", sub_dir.display());
        files.extend(files_under(&sub_dir, &|p| has_ext(p, "msg")));
    }
    assert!(!files.is_empty(), "no .msg files under {}", dir.display());
    for e in MIME4J_EXPLICIT {
        assert!(files.iter().any(|p| rel(p) == e.file), "explicitly checked file {} is missing", e.file);
    }

    let mut failures = Vec::new();
    let (mut subjects, mut bodies, mut names, mut headerless) = (0usize, 0usize, 0usize, 0usize);
    for path in &files {
        let file = rel(path);

        let stem = path.with_extension("");
        let stem = stem.to_string_lossy();
        let xml_path =
            [format!("{stem}_decoded.xml"), format!("{stem}.xml")].into_iter().map(PathBuf::from).find(|p| p.is_file());
        let Some(xml_path) = xml_path else {
            failures.push(format!("{file}: no .xml expectation beside it"));
            continue;
        };
        let fields = match std::fs::read(&xml_path) {
            Ok(bytes) => xml_top_level_fields(&String::from_utf8_lossy(&bytes)),
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", rel(&xml_path)));
                continue;
            }
        };

        // mime4j reads a few files as body only, without any header field;
        // `parse` rejects exactly those (`ParseError::Unparseable`).
        let msg = match load_and_parse(path) {
            Ok(Ok(msg)) if !fields.is_empty() => msg,
            Ok(Err(ParseError::Unparseable)) if fields.is_empty() => {
                headerless += 1;
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{file}: parsed, but mime4j finds no header section"));
                continue;
            }
            Ok(Err(e)) => {
                failures.push(format!("{file}: parse error: {e}"));
                continue;
            }
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };

        if let Some(e) = MIME4J_EXPLICIT.iter().find(|e| e.file == file) {
            if let Some(want) = e.subject {
                check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
                subjects += 1;
            }
            if let Some(want) = e.attachments {
                let ours: Vec<&str> = msg.attachments.iter().map(|a| a.filename.as_str()).collect();
                check(
                    &mut failures,
                    ATTACHMENT_ALLOW,
                    &file,
                    "attachment names",
                    &want,
                    &ours,
                    want == ours.as_slice(),
                );
                names += want.len();
            }
            if e.subject.is_some() {
                continue;
            }
        }

        let decoded_xml = PathBuf::from(format!("{stem}_decoded.xml"));
        let pieces = super::mime4j_bodies::expected_pieces(&decoded_xml);
        if !pieces.is_empty() {
            let ok = super::contains_in_order(&msg.text, &pieces);
            check(&mut failures, BODY_ALLOW, &file, "body", &pieces, &msg.text, ok);
            bodies += 1;
        }

        if let Some(want) = mime4j_expected_subject(&fields) {
            check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
            subjects += 1;
        }
    }

    println!(
        "mime4j: {} files checked, {subjects} subjects and {bodies} bodies compared, \
         {names} attachment names compared ({headerless} header-less files rejected as expected)",
        files.len()
    );
    finish("mime4j", &failures);
}

// ---------------------------------------------------------------------------
// sisimai bounce corpus
// ---------------------------------------------------------------------------
