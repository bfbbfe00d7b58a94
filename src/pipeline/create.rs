//! A new Jira issue with the fields its rule and the mail's directives set
//! (`crate::fields` decides them): the assignee looked up by email, what
//! was left out noted under the description and in the audit trail, and a
//! create that Jira refuses for fields' values made again, once, without them.

use super::{Pipeline, cut, plan};
use crate::config::{FieldKey, RouteTarget};
use crate::domain::{EmailAddress, InboundMessage, MessageId};
use crate::fields::{self, FieldPlan};
use crate::identity::known_users;
use crate::jira::{CreatedIssue, JiraError, JiraUser, NewIssue};
use crate::store::InboundRow;

impl Pipeline {
    /// Create the issue for a mail routed by `target`, with the fitted `body`.
    pub(super) async fn create_issue(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        target: &RouteTarget,
        msg: &InboundMessage,
        body: &str,
        reporter: Option<&JiraUser>,
    ) -> Result<CreatedIssue, JiraError> {
        let mut plan = self.field_plan(target, msg);
        let assignee = match plan.assignee.clone() {
            Some(email) => self.assignee_id(&email, &mut plan.skipped).await,
            None => None,
        };
        let reporter = reporter.and_then(JiraUser::id).map(String::from).or_else(|| self.policy.reporter.clone());
        let mut issue = self.issue_from(target, msg, &plan, body, reporter, assignee);
        for s in &plan.skipped {
            self.note(row, Some(mid), "fields", &format!("not set: {s}"));
        }
        let fields = match self.jira.create_issue(&issue).await {
            Err(JiraError::InvalidFields { fields, message }) => match drop_refused(&mut issue, &fields) {
                Some(dropped) => dropped,
                None => return Err(JiraError::InvalidFields { fields, message }),
            },
            done => return done,
        };
        // Nothing was created on the 400: once more, without the refused fields.
        for d in &fields {
            self.note(row, Some(mid), "fields", &format!("not set: {d}"));
        }
        tracing::info!(refused = fields.len(), "Jira refused fields of the new issue; creating it without them");
        plan.skipped.extend(fields);
        issue.description = self.with_note(body, &plan.skipped);
        self.jira.create_issue(&issue).await
    }

    /// The fields `target` gives the new issue of `msg` (pure).
    pub(super) fn field_plan(&self, target: &RouteTarget, msg: &InboundMessage) -> FieldPlan {
        fields::decide(target, msg, plan::issue_text(msg, self.policy.inbound.reply_marker.as_deref()))
    }

    /// The issue to create; `assignee` and `reporter` are Jira ids.
    pub(super) fn issue_from(
        &self,
        target: &RouteTarget,
        msg: &InboundMessage,
        plan: &FieldPlan,
        body: &str,
        reporter: Option<String>,
        assignee: Option<String>,
    ) -> NewIssue {
        NewIssue {
            project: target.project.to_string(),
            issue_type: target.issue_type.clone(),
            summary: plan.summary.clone(),
            description: self.with_note(body, &plan.skipped),
            labels: plan.labels.clone(),
            components: plan.components.clone(),
            reporter,
            source_message_id: msg.message_id.as_ref().map(|m| m.to_string()),
            priority: plan.priority.clone(),
            assignee,
            due_date: plan.due_date,
            fix_versions: plan.fix_versions.clone(),
            custom: plan.custom.clone(),
        }
    }

    /// The description with its "Fields not set:" note, when that still
    /// fits Jira's limit (else the note is only in the audit trail).
    fn with_note(&self, body: &str, skipped: &[String]) -> String {
        let note = fields::note(skipped);
        if note.is_empty() {
            return body.to_string();
        }
        let text = format!("{body}{note}");
        if self.jira.text_length(&text) <= cut::TEXT_LIMIT { text } else { body.to_string() }
    }

    /// The assignee's accountId (Cloud) or username (DC), looked up with
    /// the workaround token as Cc'd watchers are; `None` with a note.
    async fn assignee_id(&self, email: &EmailAddress, skipped: &mut Vec<String>) -> Option<String> {
        let Some(tokens) = self.identity.as_deref() else {
            skipped.push(format!("assignee {email}: no workaround token to look the user up"));
            return None;
        };
        let (now, ttl) = (self.clock.now_ms(), self.policy.identity_ttl_secs);
        let found = known_users(tokens, &self.store, now, ttl, &[email.as_ref()]).await;
        let id = found.first().and_then(JiraUser::id).map(String::from);
        if id.is_none() {
            skipped.push(format!("assignee {email}: no Jira user with this email"));
        }
        id
    }
}

/// Leave out the fields Jira refused (field id, Jira's message), when each
/// is one the rule or a directive set; `None` when a refused field is
/// another (the summary, the reporter): then the mail fails as before.
/// Returns a note per field left out.
fn drop_refused(issue: &mut NewIssue, refused: &[(String, String)]) -> Option<Vec<String>> {
    let mut notes = Vec::new();
    for (id, message) in refused {
        let key = FieldKey::from_jira_id(id)?;
        let had = match &key {
            FieldKey::Priority => issue.priority.take().is_some(),
            FieldKey::Assignee => issue.assignee.take().is_some(),
            FieldKey::DueDate => issue.due_date.take().is_some(),
            FieldKey::Components => !std::mem::take(&mut issue.components).is_empty(),
            FieldKey::FixVersions => !std::mem::take(&mut issue.fix_versions).is_empty(),
            FieldKey::Labels => !std::mem::take(&mut issue.labels).is_empty(),
            FieldKey::Custom(id) => issue.custom.remove(id).is_some(),
        };
        if !had {
            return None;
        }
        notes.push(format!("{id}: refused by Jira ({message})"));
    }
    Some(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue() -> NewIssue {
        NewIssue {
            priority: Some("Urgent".into()),
            components: vec!["Nope".into()],
            custom: [("customfield_1".to_string(), serde_json::json!("x"))].into_iter().collect(),
            ..NewIssue::default()
        }
    }

    fn refused(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn refused_fields_the_rule_set_are_left_out_with_a_note() {
        let mut i = issue();
        let notes = drop_refused(
            &mut i,
            &refused(&[("priority", "Priority name 'Urgent' is not valid"), ("customfield_1", "unknown")]),
        );
        assert_eq!(
            notes,
            Some(vec![
                "priority: refused by Jira (Priority name 'Urgent' is not valid)".to_string(),
                "customfield_1: refused by Jira (unknown)".to_string()
            ])
        );
        assert_eq!((i.priority, i.custom.len(), i.components.len()), (None, 0, 1));
    }

    #[test]
    fn a_refused_field_the_rule_did_not_set_fails_as_before() {
        assert_eq!(drop_refused(&mut issue(), &refused(&[("summary", "too long")])), None);
        assert_eq!(drop_refused(&mut issue(), &refused(&[("duedate", "bad")])), None, "not sent: not ours");
    }

    #[test]
    fn directive_lines_are_removed_from_the_description_only_for_rules_with_directives() {
        use super::plan::body_for;
        let mail = |subject: &str, body: &str| {
            let raw =
                format!("From: Ann <ann@customer.test>\r\nSubject: {subject}\r\nMessage-ID: <d@c.test>\r\n\r\n{body}");
            crate::mime::parse(raw.as_bytes()).expect("parses")
        };
        let msg = mail(
            "Printer",
            "#priority=High\r\n\r\nThe printer is broken.\r\nSee #due=2027-01-01 maybe\r\n@assignee=bob@corp.test\r\n",
        );
        assert_eq!(
            body_for(&msg, false, &[], None, true),
            "From: Ann <ann@customer.test>\n\nThe printer is broken.\nSee #due=2027-01-01 maybe"
        );
        let untouched = body_for(&msg, false, &[], None, false);
        assert!(untouched.contains("#priority=High") && untouched.ends_with("@assignee=bob@corp.test"), "{untouched}");
        // A reply keeps its text: directives are for new issues.
        assert!(body_for(&msg, true, &[], None, true).contains("#priority=High"));
        let only = mail("x", "#priority=High\r\n");
        assert_eq!(body_for(&only, false, &[], None, true), "From: Ann <ann@customer.test>\n\n(no text)");
    }
}
