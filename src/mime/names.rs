//! File names for attachments: invented ones for parts that come without a
//! name, and one name per file within a mail. Pure; part of parsing, so
//! every attempt on a mail (a resume after a crash included) sees the same
//! names in the same order.

use std::collections::{HashMap, HashSet};

use crate::domain::Attachment;

/// Characters kept of a forwarded mail's subject in its file name: enough
/// to recognise it, short of the 255 bytes file systems and Jira allow.
const MAX_SUBJECT_CHARS: usize = 100;

/// The name of a forwarded mail (`message/rfc822`) without a name of its
/// own: its subject, so a ticket with several forwards says which is which.
pub(super) fn forwarded_name(subject: Option<&str>) -> String {
    let stem = subject.map(name_from_text).unwrap_or_default();
    if stem.is_empty() { "forwarded-message.eml".to_string() } else { format!("{stem}.eml") }
}

/// `text` as the stem of a file name: path separators become `-` (a
/// subject such as "Invoice 3/2026" must not read as a folder), control
/// characters and runs of white space one space, leading dots (hidden
/// files, `..`) and trailing dots and spaces (refused by Windows) dropped,
/// at most [`MAX_SUBJECT_CHARS`] characters.
fn name_from_text(text: &str) -> String {
    let mut out = String::new();
    let (mut space, mut kept) = (false, 0);
    for c in text.chars() {
        let c = match c {
            '/' | '\\' => '-',
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if kept >= MAX_SUBJECT_CHARS {
            break;
        }
        if std::mem::take(&mut space) {
            out.push(' ');
            kept += 1;
        }
        out.push(c);
        kept += 1;
    }
    let start = out.trim_start_matches('.').trim_start();
    start.trim_end_matches(['.', ' ']).to_string()
}

/// A name for an unnamed part from its content type (lower case, no
/// parameters): what it is and the extension a viewer opens it by.
/// `attachment.bin` only when the type says nothing usable.
pub(super) fn default_name(content_type: &str) -> String {
    let (stem, ext) = match content_type {
        "image/jpeg" | "image/jpg" | "image/pjpeg" => ("image", "jpg"),
        "image/png" | "image/x-png" => ("image", "png"),
        "image/svg+xml" => ("image", "svg"),
        "image/tiff" => ("image", "tif"),
        "image/x-icon" | "image/vnd.microsoft.icon" => ("image", "ico"),
        "text/plain" => ("text", "txt"),
        "text/html" => ("document", "html"),
        "text/calendar" | "application/ics" => ("calendar", "ics"),
        "text/csv" => ("table", "csv"),
        "text/vcard" | "text/x-vcard" | "text/directory" => ("contact", "vcf"),
        "text/xml" | "application/xml" => ("document", "xml"),
        "text/rtf" | "application/rtf" => ("document", "rtf"),
        "text/rfc822-headers" => ("headers", "txt"),
        "message/delivery-status" => ("delivery-status", "txt"),
        "message/disposition-notification" => ("disposition-notification", "txt"),
        "application/json" => ("data", "json"),
        "application/pdf" => ("file", "pdf"),
        "application/zip" | "application/x-zip-compressed" => ("archive", "zip"),
        "application/gzip" | "application/x-gzip" => ("archive", "gz"),
        "application/msword" => ("document", "doc"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => ("document", "docx"),
        "application/vnd.oasis.opendocument.text" => ("document", "odt"),
        "application/vnd.ms-excel" => ("spreadsheet", "xls"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => ("spreadsheet", "xlsx"),
        "application/vnd.oasis.opendocument.spreadsheet" => ("spreadsheet", "ods"),
        "application/vnd.ms-powerpoint" => ("presentation", "ppt"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => ("presentation", "pptx"),
        "application/pgp-signature" => ("signature", "asc"),
        "application/pgp-keys" => ("key", "asc"),
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => ("smime", "p7s"),
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => ("smime", "p7m"),
        "message/rfc822" | "message/global" => return forwarded_name(None),
        "audio/mpeg" => ("audio", "mp3"),
        other => return fallback_name(other),
    };
    format!("{stem}.{ext}")
}

/// Types outside the table: text is text; images, audio and video whose
/// subtype is a plain short word (`image/webp`, `video/mp4`) take it as
/// the extension.
fn fallback_name(content_type: &str) -> String {
    let (top, sub) = content_type.split_once('/').unwrap_or((content_type, ""));
    let plain_word = !sub.is_empty() && sub.len() <= 5 && sub.bytes().all(|b| b.is_ascii_alphanumeric());
    match top {
        "text" => "text.txt".to_string(),
        "image" | "audio" | "video" if plain_word => format!("{top}.{sub}"),
        _ => "attachment.bin".to_string(),
    }
}

/// Give every attachment of a mail its own name: the second `report.pdf`
/// becomes `report (2).pdf`, the third `report (3).pdf`. Two files stay two
/// files on the issue, the note can tell them apart, and an upload resumed
/// after a crash (which recognises files already on the issue by name and
/// size) cannot take one for the other. Names compare without case (a
/// Windows download folder does); a name the mail itself uses is never
/// handed to another file. Deterministic: the same mail, the same names.
pub(crate) fn make_unique(all: &mut [Attachment]) {
    let used: HashSet<String> = all.iter().map(|a| a.filename.to_lowercase()).collect();
    let mut taken: HashSet<String> = HashSet::with_capacity(all.len());
    // The next number to try per name: many copies of one name stay linear.
    let mut next: HashMap<String, u32> = HashMap::new();
    for a in all.iter_mut() {
        let key = a.filename.to_lowercase();
        if taken.insert(key.clone()) {
            continue;
        }
        let (stem, ext) = split_extension(&a.filename);
        let n = next.entry(key).or_insert(2);
        loop {
            let candidate = match ext {
                Some(ext) => format!("{stem} ({n}).{ext}"),
                None => format!("{stem} ({n})"),
            };
            *n += 1;
            let lower = candidate.to_lowercase();
            if !used.contains(&lower) && taken.insert(lower) {
                a.filename = candidate;
                break;
            }
        }
    }
}

/// `report.pdf` → (`report`, `pdf`); a name without a short extension
/// (`README`, `.profile`, `v1.0 final notes`) is all stem.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext))
        }
        _ => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<Attachment> {
        names
            .iter()
            .map(|n| Attachment {
                filename: n.to_string(),
                content_type: "application/octet-stream".into(),
                data: bytes::Bytes::new(),
            })
            .collect()
    }

    fn unique(names: &[&str]) -> Vec<String> {
        let mut all = named(names);
        make_unique(&mut all);
        all.into_iter().map(|a| a.filename).collect()
    }

    #[test]
    fn same_names_get_numbers_before_the_extension() {
        assert_eq!(
            unique(&["report.pdf", "report.pdf", "Report.PDF", "notes.txt"]),
            ["report.pdf", "report (2).pdf", "Report (3).PDF", "notes.txt"]
        );
        assert_eq!(
            unique(&["README", "README", ".profile", ".profile"]),
            ["README", "README (2)", ".profile", ".profile (2)"]
        );
        assert_eq!(unique(&["a.tar.gz", "a.tar.gz"]), ["a.tar.gz", "a.tar (2).gz"]);
    }

    #[test]
    fn a_number_never_takes_a_name_the_mail_uses() {
        assert_eq!(
            unique(&["image.png", "image.png", "image (2).png"]),
            ["image.png", "image (3).png", "image (2).png"]
        );
        let many: Vec<&str> = vec!["x.bin"; 5];
        assert_eq!(unique(&many), ["x.bin", "x (2).bin", "x (3).bin", "x (4).bin", "x (5).bin"]);
    }

    #[test]
    fn unnamed_parts_are_named_by_their_type() {
        let cases = [
            ("image/jpeg", "image.jpg"),
            ("image/png", "image.png"),
            ("image/gif", "image.gif"),
            ("image/webp", "image.webp"),
            ("text/html", "document.html"),
            ("text/plain", "text.txt"),
            ("text/x-log", "text.txt"),
            ("text/calendar", "calendar.ics"),
            ("application/pdf", "file.pdf"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "spreadsheet.xlsx"),
            ("application/pgp-signature", "signature.asc"),
            ("application/pkcs7-signature", "smime.p7s"),
            ("message/delivery-status", "delivery-status.txt"),
            ("message/rfc822", "forwarded-message.eml"),
            ("video/mp4", "video.mp4"),
            ("image/vnd.some-vendor-format", "attachment.bin"),
            ("application/octet-stream", "attachment.bin"),
            ("garbage", "attachment.bin"),
        ];
        for (ct, want) in cases {
            assert_eq!(default_name(ct), want, "{ct}");
        }
    }

    #[test]
    fn a_forward_is_named_by_its_subject_made_safe() {
        assert_eq!(forwarded_name(Some("Printer on floor 3")), "Printer on floor 3.eml");
        assert_eq!(forwarded_name(Some("Invoice 3/2026 \\ paid")), "Invoice 3-2026 - paid.eml");
        assert_eq!(forwarded_name(Some("  Fwd:\tlong\r\n folded  subject.. ")), "Fwd: long folded subject.eml");
        assert_eq!(forwarded_name(Some("../../etc/passwd")), "-..-etc-passwd.eml");
        assert_eq!(forwarded_name(Some("...")), "forwarded-message.eml");
        assert_eq!(forwarded_name(Some(" \t ")), "forwarded-message.eml");
        assert_eq!(forwarded_name(None), "forwarded-message.eml");
        let long = "\u{e9}".repeat(300);
        assert_eq!(forwarded_name(Some(&long)), format!("{}.eml", "\u{e9}".repeat(MAX_SUBJECT_CHARS)));
    }
}

/// Names as [`parse`](super::parse) gives them, on small mails.
#[cfg(test)]
mod parsed {
    fn names(raw: &str) -> Vec<(String, String, usize)> {
        let m = super::super::parse(raw.replace('\n', "\r\n").as_bytes()).expect("parses");
        m.attachments.into_iter().map(|a| (a.filename, a.content_type, a.data.len())).collect()
    }

    fn n(name: &str, ct: &str, size: usize) -> (String, String, usize) {
        (name.to_string(), ct.to_string(), size)
    }

    #[test]
    fn a_forward_is_named_by_its_subject_and_unnamed_parts_by_their_type() {
        let raw = "From: a@b.test\nSubject: fw\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nsee below\n--b\nContent-Type: message/rfc822\n\nFrom: c@d.test\nSubject: Printer / floor 3\n\nit jams\n--b\nContent-Type: message/rfc822\n\nFrom: c@d.test\n\nno subject\n--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n--b\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n--b\nContent-Type: application/x-unknown\n\nxyz\n--b\nContent-Disposition: attachment\n\nuntyped text\n--b--\n";
        let got: Vec<String> = names(raw).into_iter().map(|(name, ..)| name).collect();
        assert_eq!(
            got,
            [
                "Printer - floor 3.eml",
                "forwarded-message.eml",
                "image.jpg",
                "calendar.ics",
                "attachment.bin",
                "text.txt"
            ]
        );
    }

    #[test]
    fn two_files_of_one_name_become_two_names_and_empty_parts_are_kept_for_the_plan() {
        let raw = "From: a@b.test\nSubject: x\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/pdf; name=\"report.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0x\n--b\nContent-Type: application/pdf; name=\"report.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQ=\n--b\nContent-Type: application/pdf; name=\"empty.pdf\"\nContent-Transfer-Encoding: base64\n\n\n--b--\n";
        assert_eq!(
            names(raw),
            [
                n("report.pdf", "application/pdf", 6),
                n("report (2).pdf", "application/pdf", 8),
                n("empty.pdf", "application/pdf", 0)
            ]
        );
    }

    #[test]
    fn inline_images_and_detached_signatures_are_attachments() {
        let raw = "From: a@b.test\nSubject: x\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=\"s\"\n\n--s\nContent-Type: multipart/related; boundary=\"r\"\n\n--r\nContent-Type: text/html\n\n<p>hi <img src=\"cid:logo\"></p>\n--r\nContent-Type: image/gif\nContent-ID: <logo>\nContent-Disposition: inline\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n--r--\n--s\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n-----BEGIN PGP SIGNATURE-----\n--s--\n";
        let got: Vec<(String, String)> = names(raw).into_iter().map(|(name, ct, _)| (name, ct)).collect();
        assert_eq!(
            got,
            [
                ("image.gif".to_string(), "image/gif".to_string()),
                ("signature.asc".to_string(), "application/pgp-signature".to_string())
            ]
        );
    }
}
