//! The fields of a new issue beyond summary and description, held to what
//! the project has, as Jira does: a create naming a priority, component,
//! version or option Jira does not know, or a custom field that is not on
//! the create screen, is refused with a 400 whose `errors` name the field
//! (P3 createIssue: `ErrorCollection`; nothing is created). The messages
//! are Atlassian's as reported by its users:
//!
//! - `Priority name 'unassigned' is not valid`, `Version name '…' is not
//!   valid` (go-jira/jira issue 397, Jira 7.13); `Specify the Priority (id
//!   or name) in the string format` for a priority without either
//!   (incidentbot issue 339, Cloud);
//! - `Component name 'C4' is not valid` (K15t Backbone, "Component(s) not valid");
//! - `Field 'customfield_10042' cannot be set. It is not on the appropriate
//!   screen, or unknown.` (activepieces issue 3476, go-jira issue 373);
//! - `Option value 'ID' is not valid` (getsentry/sentry issue 13001) and
//!   `Could not find valid 'id' or 'value' in the Parent Option object.`
//!   for a select list given a string (php-jira-rest-client issue 470);
//! - `expected Object containing a 'name' property` for an assignee
//!   without an id (TA-jira-service-desk-simple-addon issue 221, DC).
//!
//! Every project has the default priority scheme (Highest, High, Medium,
//! Low, Lowest; names in any case) and, until a test adds some, no
//! components, no versions and no custom fields. System fields the fake
//! does not model are taken as they are.

use std::collections::BTreeMap;

use serde_json::Value;

use super::FakeJira;

/// The kind of value a custom field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomFieldKind {
    /// A single-line text field: a string.
    Text,
    /// A number field: a JSON number.
    Number,
    /// A select list with these options: `{"value": …}` (or `{"id": …}`).
    Select(Vec<String>),
}

/// What the site's projects have.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    priorities: Vec<String>,
    components: BTreeMap<String, Vec<String>>,
    versions: BTreeMap<String, Vec<String>>,
    custom: BTreeMap<String, CustomFieldKind>,
}

impl Default for Catalog {
    fn default() -> Self {
        let priorities = ["Highest", "High", "Medium", "Low", "Lowest"].map(String::from).to_vec();
        Self { priorities, components: BTreeMap::new(), versions: BTreeMap::new(), custom: BTreeMap::new() }
    }
}

/// The fields the fake checks and keeps on the issue (besides those it
/// models elsewhere: project, issue type, summary, description, labels, reporter).
fn kept_field(id: &str) -> bool {
    matches!(id, "priority" | "assignee" | "duedate" | "components" | "fixVersions") || id.starts_with("customfield_")
}

/// Jira's errors for a create's `fields` (field id, message); empty when
/// every field is fine.
pub(crate) fn check(cat: &Catalog, project: &str, fields: &Value) -> Vec<(String, String)> {
    let Some(fields) = fields.as_object() else { return Vec::new() };
    let mut errors = Vec::new();
    for (id, v) in fields {
        let error = match id.as_str() {
            "priority" => priority(cat, v),
            "assignee" => user(v),
            "duedate" => date(v),
            "components" => names(v, cat.components.get(project), "Component"),
            "fixVersions" => names(v, cat.versions.get(project), "Version"),
            "labels" => labels(v),
            custom if custom.starts_with("customfield_") => custom_value(cat.custom.get(custom), custom, v),
            _ => None,
        };
        if let Some(message) = error {
            errors.push((id.clone(), message));
        }
    }
    errors
}

/// The checked fields as sent, kept on the issue.
pub(crate) fn kept(fields: &Value) -> BTreeMap<String, Value> {
    fields
        .as_object()
        .map(|o| o.iter().filter(|(k, _)| kept_field(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn priority(cat: &Catalog, v: &Value) -> Option<String> {
    if let Some(name) = v["name"].as_str() {
        let known = cat.priorities.iter().any(|p| p.eq_ignore_ascii_case(name));
        return (!known).then(|| format!("Priority name '{name}' is not valid"));
    }
    match v["id"].as_str().and_then(|id| id.parse::<usize>().ok()) {
        Some(n) if (1..=cat.priorities.len()).contains(&n) => None,
        Some(_) => Some("The priority selected is invalid.".into()),
        None => Some("Specify the Priority (id or name) in the string format".into()),
    }
}

fn user(v: &Value) -> Option<String> {
    let id = ["accountId", "name", "id"].iter().find_map(|k| v[*k].as_str()).filter(|s| !s.is_empty());
    id.is_none().then(|| "expected Object containing a 'name' property".into())
}

fn date(v: &Value) -> Option<String> {
    let s = v.as_str().unwrap_or_default();
    let ok = s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
    (!ok).then(|| format!("Error parsing date string: {s}"))
}

/// `[{"name": …}]` of names the project has (`what`: Component, Version).
fn names(v: &Value, known: Option<&Vec<String>>, what: &str) -> Option<String> {
    let Some(items) = v.as_array() else { return Some("data was not an array".into()) };
    items.iter().find_map(|item| {
        let name = item["name"].as_str().unwrap_or_default();
        let ok = known.is_some_and(|k| k.iter().any(|n| n == name));
        (!ok).then(|| format!("{what} name '{name}' is not valid"))
    })
}

fn labels(v: &Value) -> Option<String> {
    let items = v.as_array()?;
    items
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.contains(char::is_whitespace))
        .map(|l| format!("The label '{l}' contains spaces which is invalid."))
}

fn custom_value(kind: Option<&CustomFieldKind>, id: &str, v: &Value) -> Option<String> {
    let Some(kind) = kind else {
        return Some(format!("Field '{id}' cannot be set. It is not on the appropriate screen, or unknown."));
    };
    match kind {
        CustomFieldKind::Text => (!v.is_string()).then(|| "Operation value must be a string".into()),
        CustomFieldKind::Number => (!v.is_number()).then(|| "Operation value must be a number".into()),
        CustomFieldKind::Select(options) => match (v["value"].as_str(), v["id"].as_str()) {
            (Some(value), _) => {
                (!options.iter().any(|o| o == value)).then(|| format!("Option value '{value}' is not valid"))
            }
            (None, Some(_)) => None,
            (None, None) => Some("Could not find valid 'id' or 'value' in the Parent Option object.".into()),
        },
    }
}

impl FakeJira {
    /// A component of `project` (a create may then name it).
    pub fn add_component(&self, project: &str, name: &str) {
        self.lock().catalog.components.entry(project.to_string()).or_default().push(name.to_string());
    }

    /// A version of `project` (for `fixVersions`).
    pub fn add_version(&self, project: &str, name: &str) {
        self.lock().catalog.versions.entry(project.to_string()).or_default().push(name.to_string());
    }

    /// A custom field on every create screen.
    pub fn add_custom_field(&self, id: &str, kind: CustomFieldKind) {
        self.lock().catalog.custom.insert(id.to_string(), kind);
    }

    /// Replace the priority scheme (ids 1, 2, … in this order).
    pub fn set_priorities(&self, names: &[&str]) {
        self.lock().catalog.priorities = names.iter().map(|n| n.to_string()).collect();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_values_are_refused_with_jiras_messages() {
        let mut cat = Catalog::default();
        cat.components.insert("HELP".into(), vec!["Web".into()]);
        cat.custom.insert("customfield_2".into(), CustomFieldKind::Select(vec!["Gold".into()]));
        cat.custom.insert("customfield_3".into(), CustomFieldKind::Number);
        let fields = json!({
            "priority": {"name": "Urgent"},
            "components": [{"name": "Web"}, {"name": "Mobile"}],
            "fixVersions": [{"name": "2.0"}],
            "duedate": "2027-02-30",
            "customfield_1": "x",
            "customfield_2": "Gold",
            "customfield_3": "7",
            "labels": ["a b"],
            "assignee": {},
            "summary": "ok",
        });
        let errors: BTreeMap<String, String> = check(&cat, "HELP", &fields).into_iter().collect();
        let want: BTreeMap<String, String> = [
            ("assignee", "expected Object containing a 'name' property"),
            ("components", "Component name 'Mobile' is not valid"),
            ("customfield_1", "Field 'customfield_1' cannot be set. It is not on the appropriate screen, or unknown."),
            ("customfield_2", "Could not find valid 'id' or 'value' in the Parent Option object."),
            ("customfield_3", "Operation value must be a number"),
            ("duedate", "Error parsing date string: 2027-02-30"),
            ("fixVersions", "Version name '2.0' is not valid"),
            ("labels", "The label 'a b' contains spaces which is invalid."),
            ("priority", "Priority name 'Urgent' is not valid"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(errors, want);
    }

    #[test]
    fn known_values_pass_and_are_kept() {
        let mut cat = Catalog::default();
        cat.versions.insert("HELP".into(), vec!["2.0".into()]);
        cat.custom.insert("customfield_2".into(), CustomFieldKind::Select(vec!["Gold".into()]));
        let fields = json!({
            "priority": {"name": "high"},
            "fixVersions": [{"name": "2.0"}],
            "duedate": "2027-01-31",
            "customfield_2": {"value": "Gold"},
            "assignee": {"accountId": "abc"},
            "summary": "ok",
        });
        assert_eq!(check(&cat, "HELP", &fields), []);
        let kept: Vec<String> = kept(&fields).into_keys().collect();
        assert_eq!(kept, ["assignee", "customfield_2", "duedate", "fixVersions", "priority"]);
        assert_eq!(check(&cat, "HELP", &json!({"priority": {"id": "9"}}))[0].1, "The priority selected is invalid.");
    }
}
