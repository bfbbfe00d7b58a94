//! Atlassian's documented limits, which the fake keeps so that mailgate is
//! never proven against a kinder Jira than the real one. Each is a switch,
//! on by default; a test that needs the old behaviour turns one off and
//! says why.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::FakeIssue;

/// The strict behaviours and their sources.
#[derive(Debug, Clone)]
pub struct Strictness {
    /// `issue.property[...]` in JQL. Entity properties are searchable only
    /// when an app declares an index for them (Forge `jira:entityProperty`,
    /// Connect "Entity Property" module, DC `index-document-configuration`);
    /// a REST client with an API token cannot, so Jira answers the clause as
    /// an unknown field (jira-facts.md "Search and properties";
    /// developer.atlassian.com/cloud/jira/platform/modules/entity-property/).
    pub properties_searchable: bool,
    /// Search sees a write this long after it happened, unless the issue's
    /// id is in `reconcileIssues` (at most 50): "The API doesn't provide
    /// read-after-write consistency by default … a few seconds to minutes"
    /// (developer.atlassian.com/cloud/jira/platform/search-and-reconcile;
    /// jira-facts.md). A GET of one issue (or `issue/bulkfetch`) reads the
    /// issue itself and is never late.
    pub search_lag: Duration,
    /// `GET /issue/{key}/comment?expand=properties`. The specs document only
    /// `renderedBody` for this `expand` (P3 and DC `getComments`); comment
    /// properties are read with `GET /comment/{id}/properties/{key}`.
    pub comment_expand_properties: bool,
    /// Text fields (description, comment body) at most 32,767 characters,
    /// summary 255 (jira-facts.md "Limits"). An ADF document is counted as
    /// its JSON, the stricter of the two readings.
    pub field_limits: bool,
    /// What `user/search?query=<email>` does for a user whose email is
    /// hidden: "privacy controls apply to what is returned" (jira-facts.md
    /// "People and privacy"); sites differ, so both are modelled.
    pub hidden_email_search: HiddenEmailSearch,
}

/// How user search treats a hidden email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenEmailSearch {
    /// The email matches, but the answer leaves it out.
    MatchesButOmits,
    /// The email does not match at all (only the display name does).
    FindsNothing,
}

impl Default for Strictness {
    fn default() -> Self {
        Self {
            properties_searchable: false,
            search_lag: Duration::from_secs(3),
            comment_expand_properties: false,
            field_limits: true,
            hidden_email_search: HiddenEmailSearch::MatchesButOmits,
        }
    }
}

/// Jira's limit on a text field's length.
pub const TEXT_LIMIT: usize = 32_767;

/// Atlassian's message for a text over the limit (a 400 naming the field).
pub const TOO_LONG: &str = "The entered text is too long. It exceeds the allowed limit of 32,767 characters.";

/// The length Jira holds a text field's value to: a string's characters,
/// an ADF document's JSON.
pub fn text_length(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::String(s) => s.chars().count(),
        other => other.to_string().chars().count(),
    }
}

/// Whether a value breaks the text limit (when limits are on).
pub fn too_long(strict: &Strictness, v: &Value) -> bool {
    strict.field_limits && text_length(v) > TEXT_LIMIT
}

/// What the search index holds of an issue at `now`: its `updated` stamp as
/// of the last write the index has caught up with, or `None` when the
/// index has not seen the issue yet. Issues in `reconcile` are read as they are.
pub fn indexed_updated<'a>(
    strict: &Strictness,
    issue: &'a FakeIssue,
    now: Instant,
    reconcile: &[String],
) -> Option<&'a str> {
    if strict.search_lag.is_zero() || reconcile.contains(&issue.id) {
        return Some(&issue.updated);
    }
    issue
        .writes
        .iter()
        .rev()
        .find(|(at, _)| now.saturating_duration_since(*at) >= strict.search_lag)
        .map(|(_, updated)| updated.as_str())
}
