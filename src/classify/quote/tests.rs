use super::*;

const MARKER: &str = "--- Reply above this line. Do not remove this line. ---";

fn strip(text: &str) -> String {
    strip_quoted(text, Some(MARKER))
}

#[test]
fn the_marker_cuts_also_wrapped_quoted_and_in_other_case() {
    let plain = "Works now.\n\n--- Reply above this line. Do not remove this line. ---\nHELP-1 was updated";
    assert_eq!(strip(plain), "Works now.");
    let wrapped = "Works now.\n\n> --- Reply above this line. Do not\n> remove this line. ---\n> HELP-1 was updated";
    assert_eq!(strip(wrapped), "Works now.");
    let shouting = "Works now.\n>>  --- REPLY ABOVE THIS\tLINE.  do not remove\n>> this line. ---\nold";
    assert_eq!(strip(shouting), "Works now.");
    let three = "Works now.\n--- Reply above\nthis line. Do not remove\nthis line. ---\nold";
    assert_eq!(strip(three), "Works now.");
}

#[test]
fn the_first_of_several_markers_cuts() {
    let text = "Top answer\n--- Reply above this line. Do not remove this line. ---\nmiddle\n\
                > --- Reply above this line. Do not remove this line. ---\nbottom";
    assert_eq!(cut_at_marker(text, Some(MARKER)), "Top answer");
}

#[test]
fn cut_at_marker_leaves_text_without_a_marker_alone() {
    let text = "Printer broken\n\n-- \nAlice";
    assert_eq!(cut_at_marker(text, Some(MARKER)), text);
    assert_eq!(cut_at_marker(text, None), text);
    assert_eq!(cut_at_marker(text, Some("  ")), text);
    assert_eq!(cut_at_marker("", Some(MARKER)), "");
    // Half of the marker is not the marker.
    assert_eq!(cut_at_marker("a\n--- Reply above this line.\nb", Some(MARKER)), "a\n--- Reply above this line.\nb");
}

#[test]
fn a_new_issue_with_our_marker_is_cut_there() {
    let forwarded =
        "Please look at this.\r\n\r\n--- Reply above this line. Do not remove this line. ---\r\nHELP-4: old";
    assert_eq!(cut_at_marker(forwarded, Some(MARKER)), "Please look at this.");
}

#[test]
fn on_wrote_headers_in_many_languages() {
    let cases = [
        "On Mon, 5 Jan 2026 at 10:00, Bob <bob@x.test> wrote:",
        "On 05.01.26 10:00, Bob wrote:",
        "Am 05.01.2026 um 10:00 schrieb Bob <bob@x.test>:",
        "Am Mo., 5. Jan. 2026 um 10:00 Uhr schrieb Bob <bob@x.test>:",
        "Le lun. 5 janv. 2026 à 10:00, Bob <bob@x.test> a écrit :",
        "Le 05/01/2026 à 10:00, Bob a écrit :",
        "El lun, 5 ene 2026 a las 10:00, Bob (<bob@x.test>) escribió:",
        "Il giorno lun 5 gen 2026 alle ore 10:00 Bob <bob@x.test> ha scritto:",
        "Il 05/01/2026 10:00, Bob ha scritto:",
        "Op ma 5 jan. 2026 om 10:00 schreef Bob <bob@x.test>:",
        "Em seg., 5 de jan. de 2026 às 10:00, Bob <bob@x.test> escreveu:",
        "Bob <bob@x.test> wrote:",
        "2026年1月5日(月) 10:00 山田太郎 <yamada@x.test>:",
        "2026/01/05 10:00、山田太郎 <yamada@x.test>のメール:",
        "2026/01/05 10:00 に 山田太郎 が書きました:",
        "山田さんは書きました：",
        "张三 <zhang@x.test> 于2026年1月5日周一 10:00写道：",
        "張三 <zhang@x.test> 於 2026年1月5日 週一 10:00 寫道：",
    ];
    for header in cases {
        let text = format!("My answer.\n\n{header}\n> old\n> older");
        assert_eq!(strip(&text), "My answer.", "{header}");
    }
}

#[test]
fn on_wrote_headers_wrapped_over_two_lines() {
    let en = "Thanks, fixed.\n\nOn Mon, 1 Jan 2026 at 10:00, Bob <b@x.test>\nwrote:\n> old text\n> more";
    assert_eq!(strip(en), "Thanks, fixed.");
    let es = "Hecho.\n\nEl lun, 5 ene 2026 a las 10:00, Roberto Gómez\n(<rg@x.test>) escribió:\n\n> viejo";
    assert_eq!(strip(es), "Hecho.");
    let zh = "好的\n\n张三 <zhang@x.test> 于2026年1月5日周一\n10:00写道：\n> 旧";
    assert_eq!(strip(zh), "好的");
}

#[test]
fn a_sentence_with_wrote_does_not_cut() {
    let mid = "I looked at it and\non the server Bob wrote:\nthe disk is full, so I cleaned up.";
    assert_eq!(strip(mid), mid);
    let no_colon = "Hi,\n\nOn Monday Bob wrote to me about this.\nStill broken.";
    assert_eq!(strip(no_colon), no_colon);
    let rewrote = "Hi,\n\nOn Monday I rewrote:\nthe config.";
    assert_eq!(strip(rewrote), rewrote);
    let long = format!("Hi\n\nOn {} wrote:\n> x", "very ".repeat(100));
    assert_ne!(strip(&long), "Hi");
}

#[test]
fn outlook_blocks_in_many_languages() {
    let blocks = [
        ("From: Bob", "Sent: Monday, January 5, 2026 10:00"),
        ("*From:* Bob", "*Sent:* Monday"),
        ("Von: Bob", "Gesendet: Montag, 5. Januar 2026 10:00"),
        ("De : Bob", "Envoyé : lundi 5 janvier 2026 10:00"),
        ("De: Bob", "Enviado el: lunes, 5 de enero de 2026 10:00"),
        ("De: Bob", "Enviado: segunda-feira, 5 de janeiro de 2026 10:00"),
        ("De: Bob", "Enviada em: segunda-feira, 5 de janeiro de 2026 10:00"),
        ("Da: Bob", "Inviato: lunedì 5 gennaio 2026 10:00"),
        ("Van: Bob", "Verzonden: maandag 5 januari 2026 10:00"),
        ("差出人: Bob", "送信日時: 2026年1月5日 10:00"),
        ("发件人: Bob", "发送时间: 2026年1月5日 10:00"),
        ("寄件者: Bob", "傳送時間: 2026年1月5日 上午 10:00"),
        ("差出人： Bob", "送信日時： 2026年1月5日 10:00"),
    ];
    for (from, sent) in blocks {
        let text = format!("Yes\r\n\r\n________________________________\r\n{from}\r\n{sent}\r\nTo: x\r\n\r\nold");
        assert_eq!(strip(&text), "Yes", "{from} / {sent}");
    }
    // A "From:" line alone is no quote header (a pasted log, a form).
    let no_sent = "Yes\n\nFrom: Bob\nTo: x\n\nold";
    assert_eq!(strip(no_sent), no_sent);
}

#[test]
fn original_message_separators_in_many_languages() {
    for sep in [
        "-----Original Message-----",
        "-------- Original Message --------",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "-----Mensagem original-----",
        "-----元のメッセージ-----",
        "-----原始邮件-----",
    ] {
        assert_eq!(strip(&format!("Top\n{sep}\nold")), "Top", "{sep}");
    }
}

#[test]
fn a_forward_header_cuts_only_above_quoted_lines() {
    let quoted = "See below.\n\nBegin forwarded message:\n\n> From: Bob\n> old";
    assert_eq!(strip(quoted), "See below.");
    let pasted = "See below.\n\nBegin forwarded message:\n\nFrom: Bob\nthe error text";
    assert_eq!(strip(pasted), pasted);
}

#[test]
fn a_signature_separator_ends_the_reply() {
    assert_eq!(strip("Done.\n-- \nAlice\nACME"), "Done.");
    assert_eq!(strip("Done.\r\n--\r\nAlice"), "Done.");
    let not_sig = "Done.\n-- see above\nmore";
    assert_eq!(strip(not_sig), not_sig);
}

#[test]
fn inline_quotes_are_dropped_and_answers_kept() {
    assert_eq!(strip_quoted("> quoted\nmine\n> quoted again\nmore mine", None), "mine\nmore mine");
}
