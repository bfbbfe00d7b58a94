//! Directives a sender writes in a new mail: `#priority=High`,
//! `#due=2027-01-31`, `@assignee=ana@example.com`, `#components=Web, Billing`,
//! `#labels=vip`. `#` and `@` are the same; names are any case.
//!
//! - In the subject a directive is one word: its value ends at the next
//!   space, and the word is left out of the summary.
//! - In the text a directive line starts with a directive; each value runs
//!   to the next directive on the line (so `#priority=Very High` works),
//!   and the whole line is left out of the description. A line that starts
//!   with anything else is text, directives or not.
//!
//! Only names of [`DirectiveKind`] are directives (`#1`, `#hashtag`,
//! `@ana` are text), and only for a rule with `directives`; for other
//! rules, and in replies, mail text is never touched.

use crate::config::DirectiveKind;

/// A directive as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub kind: DirectiveKind,
    /// The value, trimmed (may be empty).
    pub value: String,
}

impl Directive {
    /// As a sender would write it (for notes).
    pub fn written(&self) -> String {
        let sigil = if self.kind == DirectiveKind::Assignee { '@' } else { '#' };
        format!("{sigil}{}={}", self.kind.name(), self.value)
    }
}

/// The directive a word starts, and the value's start in the word.
fn directive_word(word: &str) -> Option<(DirectiveKind, &str)> {
    let rest = word.strip_prefix(['#', '@'])?;
    let (name, value) = rest.split_once('=')?;
    Some((DirectiveKind::parse(name)?, value))
}

/// The subject's directives, and the subject without them.
pub fn in_subject(subject: &str) -> (Vec<Directive>, String) {
    let mut found = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    for word in subject.split_whitespace() {
        match directive_word(word) {
            Some((kind, value)) => found.push(Directive { kind, value: value.trim().to_string() }),
            None => kept.push(word),
        }
    }
    (found, kept.join(" "))
}

/// The directives of a directive line; `None` when the line is text.
pub fn in_line(line: &str) -> Option<Vec<Directive>> {
    let mut words = line.split_whitespace();
    let (kind, value) = directive_word(words.next()?)?;
    let mut found = vec![Directive { kind, value: value.to_string() }];
    for word in words {
        match directive_word(word) {
            Some((kind, value)) => found.push(Directive { kind, value: value.to_string() }),
            None => {
                if let Some(last) = found.last_mut() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(word);
                }
            }
        }
    }
    for d in &mut found {
        d.value = d.value.trim().to_string();
    }
    Some(found)
}

/// Whether a line of the text is a directive line (left out of the description).
pub fn is_directive_line(line: &str) -> bool {
    line.split_whitespace().next().and_then(directive_word).is_some()
}

/// Every directive line's directives, in the text's order.
pub fn in_text(text: &str) -> Vec<Directive> {
    text.lines().filter_map(in_line).flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(kind: DirectiveKind, value: &str) -> Directive {
        Directive { kind, value: value.into() }
    }

    #[test]
    fn subject_directives_are_words_left_out_of_the_summary() {
        let (found, rest) = in_subject("Printer #PRIORITY=High broken @assignee=ana@example.com #1 #due=2027-01-31");
        assert_eq!(
            found,
            [
                d(DirectiveKind::Priority, "High"),
                d(DirectiveKind::Assignee, "ana@example.com"),
                d(DirectiveKind::Due, "2027-01-31")
            ]
        );
        assert_eq!(rest, "Printer broken #1");
    }

    #[test]
    fn a_directive_line_runs_each_value_to_the_next_directive() {
        let found = in_line("  #priority=Very High #components=Web Site, Billing").expect("a directive line");
        assert_eq!(found, [d(DirectiveKind::Priority, "Very High"), d(DirectiveKind::Components, "Web Site, Billing")]);
        assert_eq!(in_line("@Labels=a,b"), Some(vec![d(DirectiveKind::Labels, "a,b")]));
    }

    #[test]
    fn lines_that_start_with_text_or_unknown_names_are_text() {
        for text in
            ["Please set #priority=High", "#hashtag", "#1 fix", "@ana thanks", "#foo=bar", "", "> #due=2027-01-01"]
        {
            assert!(!is_directive_line(text), "{text:?}");
            assert_eq!(in_line(text), None, "{text:?}");
        }
        assert!(is_directive_line("#due="));
        assert_eq!(in_line("#due="), Some(vec![d(DirectiveKind::Due, "")]));
    }

    #[test]
    fn the_text_yields_the_directives_of_its_directive_lines_in_order() {
        let text = "Hello\n#priority=Low\nSee #priority=High above\n@assignee=bob@c.test\n";
        assert_eq!(in_text(text), [d(DirectiveKind::Priority, "Low"), d(DirectiveKind::Assignee, "bob@c.test")]);
    }

    #[test]
    fn a_directive_is_written_back_with_its_sigil() {
        assert_eq!(d(DirectiveKind::Assignee, "a@b.test").written(), "@assignee=a@b.test");
        assert_eq!(d(DirectiveKind::Due, "x").written(), "#due=x");
    }
}
