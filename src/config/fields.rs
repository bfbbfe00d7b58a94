//! `fields.*` and `directives` of a routing rule: what a new issue's fields
//! are set to (constants, or values read from the mail), and which
//! `#name=value` directives in a mail the rule honours. The decision itself
//! is `crate::fields`; these are its inputs, checked when the config loads.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::routing::Pattern;
use crate::domain::EmailAddress;

/// A field a rule or a directive sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKey {
    Priority,
    Assignee,
    DueDate,
    Components,
    FixVersions,
    Labels,
    /// `customfield_<digits>`.
    Custom(String),
}

impl FieldKey {
    /// The key as the config writes it (`due_date`, `customfield_10042`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "priority" => Self::Priority,
            "assignee" => Self::Assignee,
            "due_date" => Self::DueDate,
            "components" => Self::Components,
            "fix_versions" => Self::FixVersions,
            "labels" => Self::Labels,
            custom => {
                let digits = custom.strip_prefix("customfield_")?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Self::Custom(custom.to_string())
            }
        })
    }

    /// The key as the config writes it.
    pub fn config_name(&self) -> &str {
        match self {
            Self::DueDate => "due_date",
            Self::FixVersions => "fix_versions",
            other => other.jira_id(),
        }
    }

    /// Jira's field id: the key in a create body and in a 400's `errors`.
    pub fn jira_id(&self) -> &str {
        match self {
            Self::Priority => "priority",
            Self::Assignee => "assignee",
            Self::DueDate => "duedate",
            Self::Components => "components",
            Self::FixVersions => "fixVersions",
            Self::Labels => "labels",
            Self::Custom(id) => id,
        }
    }

    /// The key from Jira's field id (`errors` keys).
    pub fn from_jira_id(id: &str) -> Option<Self> {
        match id {
            "duedate" => Some(Self::DueDate),
            "fixVersions" => Some(Self::FixVersions),
            "due_date" | "fix_versions" => None,
            other => Self::parse(other),
        }
    }
}

/// The part of the mail a value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailPart {
    /// The sender's address.
    Sender,
    /// The sender's domain (`customer.test`).
    SenderDomain,
    /// The first header field of this name (case-insensitive), unfolded.
    Header(String),
    Subject,
    /// The new issue's text (before the reply marker).
    Body,
}

/// How a value read from the mail is sent to a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// A JSON string (text fields).
    #[default]
    Text,
    /// `{"value": …}` (select lists, radio buttons).
    Option,
    /// A JSON number (number fields); a value that is no number is skipped.
    Number,
}

/// A value read from the mail: the part, then the first capture group of
/// `regex` (the whole match without a group) when one is given.
#[derive(Debug, Clone, PartialEq)]
pub struct MailValue {
    pub from: MailPart,
    pub regex: Option<Pattern>,
    pub shape: Shape,
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// As configured: a string, a number, a boolean, a list, or (custom
    /// fields) a table, sent as it is (`{ value = "Gold" }` for a select list).
    Constant(Value),
    Mail(MailValue),
}

/// `fields.<key> = …` of a rule, in key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldRules(Vec<(FieldKey, FieldSource)>);

impl FieldRules {
    pub fn iter(&self) -> impl Iterator<Item = &(FieldKey, FieldSource)> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A directive a rule may honour (`directives = ["priority", "due"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectiveKind {
    /// `#priority=High`
    Priority,
    /// `#due=2027-01-31`
    Due,
    /// `@assignee=ana@example.com`
    Assignee,
    /// `#components=Billing, Web` (added to the rule's)
    Components,
    /// `#labels=urgent,vip` (added to the rule's)
    Labels,
}

impl DirectiveKind {
    pub const ALL: [Self; 5] = [Self::Priority, Self::Due, Self::Assignee, Self::Components, Self::Labels];

    pub fn name(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::Due => "due",
            Self::Assignee => "assignee",
            Self::Components => "components",
            Self::Labels => "labels",
        }
    }

    /// The kind a directive's name (any case) stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name))
    }

    pub fn field(self) -> FieldKey {
        match self {
            Self::Priority => FieldKey::Priority,
            Self::Due => FieldKey::DueDate,
            Self::Assignee => FieldKey::Assignee,
            Self::Components => FieldKey::Components,
            Self::Labels => FieldKey::Labels,
        }
    }
}

impl<'de> Deserialize<'de> for FieldRules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
        let mut out = Vec::with_capacity(raw.len());
        for (name, value) in raw {
            let key = FieldKey::parse(&name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "fields.{name}: unknown field; expected priority, assignee, due_date, components, \
                     fix_versions, labels or customfield_<id>"
                ))
            })?;
            let source = source(&key, value).map_err(|e| serde::de::Error::custom(format!("fields.{name}: {e}")))?;
            out.push((key, source));
        }
        Ok(Self(out))
    }
}

/// A due date as Jira takes it: `YYYY-MM-DD`, a real day.
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    let s = s.trim();
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let bad = || format!("'{s}' is not a date (YYYY-MM-DD)");
    if !shaped {
        return Err(bad());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())
}

/// A TOML value as JSON (a TOML date or time as its text).
fn to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect()),
    }
}

fn source(key: &FieldKey, value: toml::Value) -> Result<FieldSource, String> {
    if let toml::Value::Table(t) = &value
        && t.contains_key("from")
    {
        return mail_value(key, t).map(FieldSource::Mail);
    }
    let json = to_json(value);
    constant(key, &json)?;
    Ok(FieldSource::Constant(json))
}

/// A constant must be what the field takes.
fn constant(key: &FieldKey, v: &Value) -> Result<(), String> {
    let text = || v.as_str().map(str::trim).filter(|s| !s.is_empty());
    match key {
        FieldKey::Priority => text().map(|_| ()).ok_or_else(|| "expected a priority name".to_string()),
        FieldKey::Assignee => match text() {
            Some(s) => EmailAddress::parse(s).map(|_| ()).map_err(|e| e.to_string()),
            None => Err("expected the assignee's email address".into()),
        },
        FieldKey::DueDate => match text() {
            Some(s) => parse_date(s).map(|_| ()),
            None => Err("expected a date (YYYY-MM-DD)".into()),
        },
        FieldKey::Components | FieldKey::FixVersions | FieldKey::Labels => {
            let names = v.as_array().map_or(v.is_string(), |a| a.iter().all(Value::is_string));
            if names { Ok(()) } else { Err("expected a name or a list of names".into()) }
        }
        FieldKey::Custom(_) => match v {
            Value::Null => Err("expected a value".into()),
            _ => Ok(()),
        },
    }
}

fn mail_value(key: &FieldKey, t: &toml::Table) -> Result<MailValue, String> {
    if let Some(extra) = t.keys().find(|k| !["from", "name", "regex", "as"].contains(&k.as_str())) {
        return Err(format!("unknown key `{extra}` (a value from the mail takes from, name, regex, as)"));
    }
    let text = |k: &str| match t.get(k) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("`{k}` must be a string")),
    };
    let name = text("name")?;
    let from = match text("from")? {
        Some("sender") => MailPart::Sender,
        Some("sender_domain") => MailPart::SenderDomain,
        Some("header") => MailPart::Header(
            name.map(str::trim).filter(|n| !n.is_empty()).ok_or("from = \"header\" needs the header's `name`")?.into(),
        ),
        Some("subject") => MailPart::Subject,
        Some("body") => MailPart::Body,
        other => {
            return Err(format!(
                "from = {other:?}: expected \"sender\", \"sender_domain\", \"header\", \"subject\" or \"body\""
            ));
        }
    };
    if name.is_some() && !matches!(from, MailPart::Header(_)) {
        return Err("`name` goes only with from = \"header\"".into());
    }
    let regex = text("regex")?.map(Pattern::parse).transpose()?;
    if from == MailPart::Body && regex.is_none() {
        return Err("from = \"body\" needs a `regex` (the whole text is no field value)".into());
    }
    let shape = match text("as")? {
        None | Some("text") => Shape::Text,
        Some("option") => Shape::Option,
        Some("number") => Shape::Number,
        Some(other) => return Err(format!("as = {other:?}: expected \"text\", \"option\" or \"number\"")),
    };
    if shape != Shape::Text && !matches!(key, FieldKey::Custom(_)) {
        return Err("`as` is for custom fields".into());
    }
    Ok(MailValue { from, regex, shape })
}
