//! Values a rule reads from the mail: the sender, its domain, a header,
//! the subject or the text, then a regular expression's capture.

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::config::{FieldKey, FieldSource, MailPart, MailValue, Shape};
use crate::domain::InboundMessage;

/// The longest value read from the mail (Jira's single-line text fields
/// hold 255 characters; anything longer is not what the rule meant).
const MAX_CHARS: usize = 255;

/// The JSON value `source` gives for `key`; `Ok(None)` when the mail has
/// nothing for it (no such header, the pattern does not match).
pub(super) fn resolve(
    key: &FieldKey,
    source: &FieldSource,
    msg: &InboundMessage,
    text: &str,
) -> Result<Option<Value>, String> {
    let v = match source {
        FieldSource::Constant(v) => return Ok(Some(v.clone())),
        FieldSource::Mail(v) => v,
    };
    let Some(found) = read(v, msg, text) else { return Ok(None) };
    let found = found.trim();
    if found.is_empty() {
        return Ok(None);
    }
    if found.chars().nth(MAX_CHARS).is_some() {
        return Err(format!("the value read from the mail is longer than {MAX_CHARS} characters"));
    }
    Ok(Some(match (key, v.shape) {
        (FieldKey::Custom(_), Shape::Option) => json!({"value": found}),
        (FieldKey::Custom(_), Shape::Number) => number(found).ok_or_else(|| format!("'{found}' is not a number"))?,
        _ => Value::String(found.to_string()),
    }))
}

fn read<'a>(v: &MailValue, msg: &'a InboundMessage, text: &'a str) -> Option<Cow<'a, str>> {
    let whole: Cow<'a, str> = match &v.from {
        MailPart::Sender => Cow::Borrowed(msg.sender()?.as_ref()),
        MailPart::SenderDomain => Cow::Borrowed(msg.sender()?.domain()),
        MailPart::Header(name) => Cow::Owned(msg.header.get(name)?),
        MailPart::Subject => Cow::Borrowed(msg.subject.as_str()),
        MailPart::Body => Cow::Borrowed(text),
    };
    match &v.regex {
        None => Some(whole),
        Some(p) => match whole {
            Cow::Borrowed(s) => p.capture(s).map(Cow::Borrowed),
            Cow::Owned(s) => p.capture(&s).map(|c| Cow::Owned(c.to_string())),
        },
    }
}

/// An integer when it is one, else a finite decimal.
fn number(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::from(i));
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from)
}
