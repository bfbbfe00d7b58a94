//! Bodies over Jira's text limit: Jira refuses a description or comment
//! over 32,767 characters with a 400 (jira-facts.md "Limits"), so a long
//! mail is cut at a line boundary with a note, and its full text goes to
//! the issue as `mail-body.txt`.

/// Jira's limit on a text field, in characters.
pub const TEXT_LIMIT: usize = 32_767;

/// The attachment that carries a cut body in full.
pub const BODY_FILE: &str = "mail-body.txt";

const NOTE: &str = "\n\n[The mail's text is longer than Jira takes (32,767 characters): it is cut here, and the whole \
                    text is attached as mail-body.txt.]";

/// A body as it goes to Jira, and the full text when it had to be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub text: String,
    pub full: Option<String>,
}

/// Fit `body` into `limit` as `measure` counts it (the wiki markup's
/// characters on Data Center, the ADF document's JSON on Cloud). A body over
/// `limit` characters is cut even when its wiki markup (which drops a few
/// markers such as `**`) would just fit: the search stays bounded.
/// The cut is at the last line break of the longest prefix that fits with
/// the note (or mid-line when one line alone is too long).
pub fn fit(body: String, limit: usize, measure: impl Fn(&str) -> usize) -> Fitted {
    let over_by_chars = body.chars().nth(limit).is_some();
    if !over_by_chars && measure(&body) <= limit {
        return Fitted { text: body, full: None };
    }
    let with_note = |end: usize| format!("{}{NOTE}", &body[..end]);
    let fits = |end: usize| measure(&with_note(end)) <= limit;
    // The measure never counts fewer than the characters: nothing past the
    // `limit`-th character can fit, so the search (and the measure's cost)
    // stays within that prefix whatever the mail's size.
    let mut hi = body.char_indices().nth(limit).map_or(body.len(), |(i, _)| i);
    let mut lo = 0;
    while lo < hi {
        let mid = floor_boundary(&body, lo + (hi - lo).div_ceil(2));
        if mid <= lo {
            break;
        }
        if fits(mid) {
            lo = mid;
        } else {
            hi = floor_boundary(&body, mid - 1);
        }
    }
    // `lo` fits (or is 0). The line break before it nearly always does too,
    // but markup makes the measure not strictly monotone (`**a*` is longer
    // as wiki than `**a**`), so it is checked.
    let end = match body[..lo].rfind('\n') {
        Some(nl) if nl > lo / 2 && fits(nl) => nl,
        _ => lo,
    };
    let text = with_note(end).trim_start().to_string();
    Fitted { text, full: Some(body) }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn a_short_body_is_kept_as_it_is() {
        let f = fit("short\ntext".into(), 100, chars);
        assert_eq!(f, Fitted { text: "short\ntext".into(), full: None });
    }

    #[test]
    fn a_long_body_is_cut_at_a_line_break_with_the_note_and_kept_in_full() {
        let body: String = (0..100).map(|n| format!("line {n:03} é\n")).collect();
        let f = fit(body.clone(), 500, chars);
        assert!(chars(&f.text) <= 500, "{}", chars(&f.text));
        assert_eq!(f.full.as_deref(), Some(body.as_str()));
        let kept = f.text.split("\n\n[The mail").next().expect("text before the note");
        assert!(kept.ends_with('é') && body.starts_with(kept), "cut at a line end: {kept:?}");
        assert!(f.text.contains("mail-body.txt"));
    }

    #[test]
    fn one_endless_line_is_cut_mid_line_and_a_stricter_measure_cuts_earlier() {
        let body = "ü".repeat(10_000);
        let f = fit(body.clone(), 1_000, chars);
        assert!(chars(&f.text) <= 1_000 && chars(&f.text) > 900);
        // A measure that counts each character twice (like JSON escapes).
        let f2 = fit(body, 1_000, |s| 2 * chars(s));
        assert!(2 * chars(&f2.text) <= 1_000, "{}", chars(&f2.text));
    }
}
