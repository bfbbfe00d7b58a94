//! What a person wrote in a reply, without what they quoted: our "reply
//! above this line" marker, the quote headers mail clients put above the
//! quoted mail ("On … wrote:", Outlook's "From:/Sent:" block, "-----Original
//! Message-----") in the languages our customers write in, a signature
//! separator, and `>` lines.
//!
//! Cutting too much loses a customer's words; cutting too little puts a
//! notification back on the issue. So a header only counts in the shapes
//! clients write: on its own line, ending in a colon, after a blank line or
//! before the quote; a sentence that merely contains "wrote" never cuts.

/// Leading words of "On … wrote:" headers: en, de, fr, es, it, nl, pt.
const LEADS: &[&str] = &["on ", "am ", "le ", "el ", "il ", "op ", "em "];

/// The "wrote" verbs of those headers (lower case).
const WROTE: &[&str] = &[
    "wrote",
    "schrieb",
    "a écrit",
    "écrit",
    "escribió",
    "escribio",
    "ha scritto",
    "scritto",
    "schreef",
    "escreveu",
    "skrev",
];

/// Headers that end in the verb with no leading word (Chinese, Japanese).
const CJK_WROTE: &[&str] = &["写道", "寫道", "書きました"];

/// Outlook's "From:" in en, de, fr/es/pt, it, nl, ja, zh-CN, zh-TW.
const FROM_NAMES: &[&str] = &["from", "von", "de", "da", "van", "差出人", "发件人", "寄件者", "寄件人"];

/// Outlook's "Sent:"/"Date:" in the same languages.
const SENT_NAMES: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "envoye",
    "enviado",
    "enviado el",
    "enviado em",
    "enviada",
    "enviada em",
    "fecha",
    "inviato",
    "data",
    "verzonden",
    "送信日時",
    "日付",
    "发送时间",
    "日期",
    "傳送時間",
    "寄件日期",
];

/// "-----Original Message-----" and its translations (lower case, without
/// the dashes).
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "originalnachricht",
    "message d'origine",
    "message original",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "origineel bericht",
    "mensagem original",
    "元のメッセージ",
    "原始邮件",
    "原始郵件",
];

/// Apple Mail's and others' forward headers; a quote only when `>` lines follow.
const FORWARDED: &[&str] = &[
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "début du message réexpédié",
    "début du message transféré",
    "inicio del mensaje reenviado",
    "inizio messaggio inoltrato",
    "begin doorgestuurd bericht",
    "início da mensagem reencaminhada",
    "início da mensagem encaminhada",
    "転送されたメッセージ",
    "转发的邮件",
];

/// The text above our reply marker. The marker is matched ignoring case,
/// whitespace and leading `>` quote characters, also when a mail client
/// wrapped it over two or three lines; the first occurrence counts. The
/// whole line where the marker starts goes. Without a marker (or with an
/// empty one) the text is returned as it is.
pub fn cut_at_marker<'a>(text: &'a str, marker: Option<&str>) -> &'a str {
    let Some(want) = marker.map(squash).filter(|m| !m.is_empty()) else {
        return text;
    };
    // A window of the squashed current line and the two after it: long
    // mails are not copied whole.
    let mut window: std::collections::VecDeque<(usize, String)> = std::collections::VecDeque::new();
    let mut lines = line_starts(text);
    loop {
        while window.len() < 3 {
            let Some((start, line)) = lines.next() else { break };
            window.push_back((start, squash(unquote(line))));
        }
        let Some((start, first)) = window.front() else {
            return text;
        };
        let mut joined = first.clone();
        for (_, next) in window.iter().skip(1) {
            if joined.len() > first.len() + want.len() {
                break;
            }
            joined.push_str(next);
        }
        // The marker must start on this line, else a later line holds it.
        if joined.find(&want).is_some_and(|at| at < first.len()) {
            return text[..*start].trim_end();
        }
        window.pop_front();
    }
}

/// Cut quoted reply text: the reply marker (see [`cut_at_marker`]), the
/// first quote header or signature separator (`-- `) and everything below,
/// then the `>` lines left above it.
pub fn strip_quoted(text: &str, marker: Option<&str>) -> String {
    let text = cut_at_marker(text, marker);
    let lines: Vec<&str> = text.lines().collect();
    let mut end = (0..lines.len()).find(|&i| starts_quote(&lines, i)).unwrap_or(lines.len());
    // Outlook puts a line of underscores above its "From:" block.
    while end > 0 && is_rule(lines[end - 1]) {
        end -= 1;
    }
    let kept: Vec<&str> = lines[..end].iter().copied().filter(|l| !l.trim_start().starts_with('>')).collect();
    kept.join("\n").trim().to_string()
}

/// Whether the quoted part (or the signature) starts at line `i`.
fn starts_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    if line == "-- " || line == "--" {
        return true;
    }
    let t = line.trim();
    if t.is_empty() || t.starts_with('>') {
        return false;
    }
    let lower = t.to_lowercase();
    is_original_message(&lower)
        || is_forward_quote(&lower, &lines[i + 1..])
        || is_outlook_block(&lower, &lines[i + 1..])
        || is_wrote_header(&lower, lines, i)
}

/// "-----Original Message-----", "-------- Ursprüngliche Nachricht --------".
fn is_original_message(lower: &str) -> bool {
    lower.starts_with("--") && ORIGINAL_MESSAGE.contains(&lower.trim_matches(|c| c == '-' || c == ' '))
}

/// "Begin forwarded message:" followed (after blank lines) by `>` lines.
fn is_forward_quote(lower: &str, after: &[&str]) -> bool {
    let name = lower.trim_end_matches([':', '：', ' ']);
    FORWARDED.contains(&name)
        && ends_with_colon(lower)
        && after.iter().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim_start().starts_with('>'))
}

/// "From: …" with a "Sent: …"/"Date: …" line among the next four.
fn is_outlook_block(lower: &str, after: &[&str]) -> bool {
    header_name_in(lower, FROM_NAMES)
        && after.iter().take(4).any(|l| header_name_in(&l.trim().to_lowercase(), SENT_NAMES))
}

/// `Name:` (or `*Name:*`, `Name：`) at the start of the line, `Name` one of `names`.
fn header_name_in(lower: &str, names: &[&str]) -> bool {
    let l = lower.trim_start_matches('*');
    let Some((name, _)) = l.split_once([':', '：']) else {
        return false;
    };
    names.contains(&name.trim_end_matches('*').trim())
}

/// "On … wrote:" and its translations, on one line or wrapped onto a
/// second, standing apart: after a blank line (or first) or right above
/// the quote (a blank or `>` line follows).
fn is_wrote_header(lower: &str, lines: &[&str], i: usize) -> bool {
    let apart_above = i == 0 || lines[i - 1].trim().is_empty();
    let apart_below = |next: usize| {
        lines.get(next).is_none_or(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('>')
        })
    };
    if is_wrote_line(lower) {
        return apart_above || apart_below(i + 1);
    }
    // Wrapped: only a line that starts like a header is joined with the next.
    if !(starts_with_lead(lower) || lower.contains('@')) {
        return false;
    }
    let Some(next) = lines.get(i + 1).map(|l| l.trim()).filter(|l| !l.is_empty() && !l.starts_with('>')) else {
        return false;
    };
    let joined = format!("{lower} {}", next.to_lowercase());
    is_wrote_line(&joined) && (apart_above || apart_below(i + 2))
}

/// One (joined) line in the shape of a quote header.
fn is_wrote_line(lower: &str) -> bool {
    if lower.chars().count() > 400 || !ends_with_colon(lower) {
        return false;
    }
    let body = lower.trim_end_matches([':', '：', ' ']);
    if starts_with_lead(body) && WROTE.iter().any(|v| contains_word(body, v)) {
        return true;
    }
    // "Bob <bob@x.test> wrote:" (Thunderbird without a date).
    if body.contains('@') && WROTE.iter().any(|v| body.ends_with(v)) {
        return true;
    }
    if CJK_WROTE.iter().any(|v| body.ends_with(v)) {
        return true;
    }
    // Apple Mail in Japanese: "2026/01/05 10:00、山田 <yamada@x.test>のメール:".
    if body.contains('@') && body.ends_with("のメール") {
        return true;
    }
    // Gmail in Japanese: "2026年1月5日(月) 10:00 山田 <yamada@x.test>:".
    let year = body.split_once('年').is_some_and(|(y, _)| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()));
    year && body.contains('@')
}

fn starts_with_lead(lower: &str) -> bool {
    LEADS.iter().any(|l| lower.starts_with(l))
}

fn ends_with_colon(s: &str) -> bool {
    s.ends_with(':') || s.ends_with('：')
}

/// `word` in `hay`, not as part of a longer word ("wrote" not in "rewrote").
fn contains_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + word.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// A line of only underscores or dashes (at least five).
fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 5 && t.chars().all(|c| c == '_' || c == '-')
}

/// Lines with the byte offset each starts at.
fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0usize, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// A line without its leading `>` quote characters.
fn unquote(line: &str) -> &str {
    line.trim_start_matches(|c: char| c == '>' || c.is_whitespace())
}

/// Lower case, no whitespace: how a marker is compared.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests;
