//! A new issue's fields: a pure function of its routing rule and the parsed
//! mail. The rule's `fields` come first (constants and values read from the
//! mail), then the directives the rule allows, in the subject and then in
//! the text's directive lines: a directive overrides the rule's priority,
//! due date and assignee and adds to its components and labels. A value
//! that is no good is skipped with a note; it never fails the mail.
//!
//! Only the assignee's lookup (email to accountId or username) is left to
//! the pipeline, which does I/O.

mod directives;
mod values;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::classify;
pub use crate::config::parse_date;
use crate::config::{DirectiveKind, FieldKey, RouteTarget};
use crate::domain::{EmailAddress, InboundMessage};
pub use directives::{Directive, is_directive_line};

/// What a new issue gets besides its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldPlan {
    /// The summary, without the subject's directives.
    pub summary: String,
    pub priority: Option<String>,
    /// To be looked up (accountId on Cloud, username on Data Center).
    pub assignee: Option<EmailAddress>,
    pub due_date: Option<NaiveDate>,
    /// The rule's components and those added.
    pub components: Vec<String>,
    pub fix_versions: Vec<String>,
    /// The rule's labels and those added.
    pub labels: Vec<String>,
    /// `customfield_<id>` to the JSON Jira takes.
    pub custom: Map<String, Value>,
    /// Values left out, and why: one line each for the description's
    /// "Fields not set:" and the audit trail.
    pub skipped: Vec<String>,
}

/// The fields of a new issue made by `route` from `msg`, whose text (the
/// description's source, before the reply marker) is `text`.
pub fn decide(route: &RouteTarget, msg: &InboundMessage, text: &str) -> FieldPlan {
    let mut plan =
        FieldPlan { components: route.components.clone(), labels: route.labels.clone(), ..FieldPlan::default() };
    for (key, source) in route.fields.iter() {
        let origin = format!("fields.{}", key.config_name());
        match values::resolve(key, source, msg, text) {
            Ok(Some(value)) => plan.set(key, value, &origin),
            Ok(None) => {}
            Err(why) => plan.skipped.push(format!("{origin}: {why}")),
        }
    }
    if !route.directives.is_empty() {
        let (found, _) = directives::in_subject(&msg.subject);
        for d in found.into_iter().chain(directives::in_text(text)) {
            plan.directive(&d, &route.directives);
        }
    }
    plan.summary = summary(route, &msg.subject);
    plan
}

/// A new issue's summary: the subject's, without its directives when the
/// rule reads them.
pub fn summary(route: &RouteTarget, subject: &str) -> String {
    if route.directives.is_empty() {
        classify::summary(subject)
    } else {
        classify::summary(&directives::in_subject(subject).1)
    }
}

/// The "Fields not set:" note of a description (empty when nothing was skipped).
pub fn note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n\nFields not set:");
    for s in skipped {
        out.push_str("\n- ");
        out.push_str(s);
    }
    out
}

impl FieldPlan {
    fn directive(&mut self, d: &Directive, allowed: &[DirectiveKind]) {
        let written = d.written();
        if !allowed.contains(&d.kind) {
            self.skipped.push(format!("{written}: not allowed for this address, ignored"));
        } else if d.value.is_empty() {
            self.skipped.push(format!("{written}: no value"));
        } else {
            self.set(&d.kind.field(), Value::String(d.value.clone()), &written);
        }
    }

    /// Set `key` to `value`; a value the field cannot take is skipped.
    fn set(&mut self, key: &FieldKey, value: Value, origin: &str) {
        let text = value.as_str().map(str::trim).filter(|s| !s.is_empty());
        let result = match key {
            FieldKey::Priority => match text {
                Some(p) => {
                    self.priority = Some(p.to_string());
                    Ok(())
                }
                None => Err("expected a priority name".to_string()),
            },
            FieldKey::Assignee => match text.map(|t| (t, EmailAddress::parse(t))) {
                Some((_, Ok(a))) => {
                    self.assignee = Some(a);
                    Ok(())
                }
                Some((t, Err(_))) => Err(format!("'{t}' is not an email address")),
                None => Err("expected an email address".to_string()),
            },
            FieldKey::DueDate => match text.map(parse_date) {
                Some(Ok(d)) => {
                    self.due_date = Some(d);
                    Ok(())
                }
                Some(Err(e)) => Err(e),
                None => Err("expected a date (YYYY-MM-DD)".to_string()),
            },
            FieldKey::Components => add_names(&mut self.components, &value, false),
            FieldKey::FixVersions => add_names(&mut self.fix_versions, &value, false),
            FieldKey::Labels => add_names(&mut self.labels, &value, true),
            FieldKey::Custom(id) => {
                self.custom.insert(id.clone(), value);
                Ok(())
            }
        };
        if let Err(why) = result {
            self.skipped.push(format!("{origin}: {why}"));
        }
    }
}

/// Add names (a comma-separated string or a list) not yet in `to`. Labels
/// cannot hold spaces (Jira refuses them): such a label is skipped.
fn add_names(to: &mut Vec<String>, value: &Value, label: bool) -> Result<(), String> {
    let names: Vec<&str> = match value {
        Value::String(s) => s.split(',').collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Err("expected a name or a list of names".to_string()),
    };
    let mut refused = Vec::new();
    for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
        if label && name.contains(char::is_whitespace) {
            refused.push(format!("label '{name}' has a space (Jira takes none)"));
        } else if !to.iter().any(|t| t == name) {
            to.push(name.to_string());
        }
    }
    if refused.is_empty() { Ok(()) } else { Err(refused.join("; ")) }
}
