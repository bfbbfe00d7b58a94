//! The request a mail would send to Jira, built as the pipeline builds it
//! but without any call: for `replay --dry-run`. What the pipeline looks
//! up first (the assignee's and the reporter's Jira ids, by email) shows
//! as the email, listed under `looked_up`.

use std::collections::BTreeMap;

use super::{Pipeline, Target};
use crate::classify::{self, Decision};
use crate::domain::InboundMessage;
use crate::jira::{JiraRequest, NewRequest};

/// A request as it would be sent, and the emails standing in for ids.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RequestPreview {
    #[serde(flatten)]
    pub request: JiraRequest,
    /// Field (`assignee`, `reporter`, `raiseOnBehalfOf`) to the email whose
    /// Jira id goes there when the mail is processed.
    pub looked_up: BTreeMap<&'static str, String>,
}

impl Pipeline {
    /// The create or comment `decision` makes for `msg`; `None` for an
    /// ignored mail.
    pub fn jira_request(&self, msg: &InboundMessage, decision: &Decision) -> Option<RequestPreview> {
        let flavor = self.policy.flavor;
        let mid = msg.message_id.as_ref().map(|m| m.to_string());
        let mut looked_up = BTreeMap::new();
        let sender = msg.sender().map(|a| a.to_string());
        let request = match decision {
            Decision::Ignore(_) => return None,
            Decision::Comment { issue, .. } => {
                let body = self.body_for_target(msg, &Target::Comment(issue.clone()));
                crate::jira::requests::add_comment(flavor, issue, &body.text, mid.as_deref())
            }
            Decision::Create(route) => {
                let body =
                    self.body_for_target(msg, &Target::Create { route: Box::new(route.clone()), floor: None }).text;
                // A rule with a sender policy looks the sender up.
                let reporter = match (&route.sender_policy, sender) {
                    (Some(_), Some(email)) => Some(email),
                    _ => None,
                };
                if let Some(service_desk) = &route.service_desk {
                    if let Some(email) = &reporter {
                        looked_up.insert("raiseOnBehalfOf", email.clone());
                    }
                    let request = NewRequest {
                        service_desk: service_desk.clone(),
                        request_type: route.request_type.clone().unwrap_or_default(),
                        summary: classify::summary(&msg.subject),
                        description: body,
                        on_behalf_of: reporter,
                        participants: Vec::new(),
                    };
                    crate::jira::requests::create_request(&request)
                } else {
                    let plan = self.field_plan(route, msg);
                    if let Some(email) = &reporter {
                        looked_up.insert("reporter", email.clone());
                    }
                    let assignee = plan.assignee.as_ref().map(|a| a.to_string());
                    if let Some(email) = &assignee {
                        looked_up.insert("assignee", email.clone());
                    }
                    let reporter = reporter.or_else(|| self.policy.reporter.clone());
                    let issue = self.issue_from(route, msg, &plan, &body, reporter, assignee);
                    crate::jira::requests::create_issue(flavor, &issue)
                }
            }
        };
        Some(RequestPreview { request, looked_up })
    }
}
