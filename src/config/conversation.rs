//! Per-rule conversation policy (`conversation = { … }` on a routing rule
//! or the default): who hears back, who may comment by mail, what a reply
//! to a closed issue does.

use serde::Deserialize;

/// Issue changes the requester and participants are mailed about, besides
/// public comments (always).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CustomerEvent {
    /// The resolution was set.
    Resolved,
    /// The status changed (resolving is a status change too).
    Status,
    /// Someone else now works on it.
    Assignee,
}

/// Who may add a comment to an existing issue by mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CommentPolicy {
    /// Whoever names the issue (key in the subject, a reply to our mail).
    #[default]
    Anyone,
    /// The requester, participants, reporter, assignee, watchers, and Jira
    /// users allowed to comment on the issue.
    Involved,
    /// Senders of these domains (lower case, without `@`).
    Domains(Vec<String>),
}

impl<'de> Deserialize<'de> for CommentPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Domains { domains: Vec<String> },
        }
        match Raw::deserialize(d)? {
            Raw::Name(n) if n == "anyone" => Ok(Self::Anyone),
            Raw::Name(n) if n == "involved" => Ok(Self::Involved),
            Raw::Name(n) => Err(serde::de::Error::custom(format!(
                "who_may_comment {n:?}: expected \"anyone\", \"involved\" or {{ domains = [...] }}"
            ))),
            Raw::Domains { domains } if domains.is_empty() => {
                Err(serde::de::Error::custom("who_may_comment: the domain list is empty"))
            }
            Raw::Domains { domains } => Ok(Self::Domains(
                domains.iter().map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()).collect(),
            )),
        }
    }
}

/// What happens to a mail from someone the comment policy leaves out.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OutsiderAction {
    /// Their mail becomes a new issue of their own.
    #[default]
    NewIssue,
    /// A polite reply says the mail was not added; nothing is made in Jira.
    Reject,
}

/// What a reply to a closed (done) issue does.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClosedAction {
    /// A comment, as on an open issue.
    #[default]
    Comment,
    /// The `reopen_transition` (looked up by name), then the comment.
    Reopen,
    /// A new issue, linked to the closed one ("Relates").
    NewIssue,
    /// A polite reply; nothing is made in Jira.
    Reject,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationPolicy {
    /// Changes the requester and participants hear of, besides public comments.
    #[serde(default)]
    pub notify: Vec<CustomerEvent>,
    /// A reply's Cc join the issue's participants (its sender always does).
    #[serde(default = "yes")]
    pub reply_cc_participants: bool,
    #[serde(default)]
    pub who_may_comment: CommentPolicy,
    #[serde(default)]
    pub outsiders: OutsiderAction,
    #[serde(default)]
    pub closed: ClosedAction,
    /// The workflow transition `closed = "reopen"` takes, by name (case-insensitive).
    #[serde(default = "default_reopen")]
    pub reopen_transition: String,
    /// A reply to an issue resolved longer ago than this becomes a new,
    /// linked issue, whatever `closed` says.
    #[serde(default)]
    pub new_issue_after_days: Option<u32>,
    /// The link type of a follow-up issue to its closed one.
    #[serde(default = "default_link")]
    pub link_type: String,
}

fn yes() -> bool {
    true
}

fn default_reopen() -> String {
    "Reopen".into()
}

fn default_link() -> String {
    "Relates".into()
}

impl Default for ConversationPolicy {
    fn default() -> Self {
        Self {
            notify: Vec::new(),
            reply_cc_participants: true,
            who_may_comment: CommentPolicy::Anyone,
            outsiders: OutsiderAction::NewIssue,
            closed: ClosedAction::Comment,
            reopen_transition: default_reopen(),
            new_issue_after_days: None,
            link_type: default_link(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrap {
        c: ConversationPolicy,
    }

    fn parse(s: &str) -> Result<ConversationPolicy, toml::de::Error> {
        toml::from_str::<Wrap>(&format!("c = {s}")).map(|w| w.c)
    }

    #[test]
    fn every_policy_parses_and_bad_ones_say_why() {
        assert_eq!(parse("{}").expect("defaults"), ConversationPolicy::default());
        let p = parse(
            r#"{ who_may_comment = "involved", outsiders = "reject", closed = "reopen", notify = ["resolved"] }"#,
        )
        .expect("parses");
        assert_eq!(p.who_may_comment, CommentPolicy::Involved);
        assert_eq!((p.outsiders, p.closed), (OutsiderAction::Reject, ClosedAction::Reopen));
        let p = parse(
            r#"{ who_may_comment = { domains = ["@Corp.test"] }, closed = "new-issue", new_issue_after_days = 30 }"#,
        )
        .expect("parses");
        assert_eq!(p.who_may_comment, CommentPolicy::Domains(vec!["corp.test".into()]));
        assert_eq!(p.new_issue_after_days, Some(30));
        let e = parse(r#"{ who_may_comment = "everybody" }"#).expect_err("refused").to_string();
        assert!(e.contains("anyone"), "{e}");
        assert!(parse(r#"{ closed = "ignore" }"#).is_err());
        assert!(parse(r#"{ who_may_comment = { domains = [] } }"#).is_err());
    }
}
