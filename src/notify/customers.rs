//! The requester and participants among an event's recipients: who of them
//! hears of which event, and never the author of what is notified. Pure.

use std::collections::BTreeSet;

use super::event::{Customer, Event, EventKind, Origin};
use crate::config::{ConversationPolicy, CustomerEvent, RoutingSettings};
use crate::store::IssuePerson;

/// The issue's people as the event (and its script) sees them.
pub fn of(people: &[IssuePerson]) -> Vec<Customer> {
    people
        .iter()
        .map(|p| Customer {
            email: p.address.clone(),
            name: p.name.clone(),
            account_id: p.account_id.clone(),
            role: p.role,
            last_message_id: p.last_message_id.clone(),
        })
        .collect()
}

/// The conversation policy of a project: its first rule's, else the default's.
pub fn policy_for<'a>(routing: &'a RoutingSettings, project: &str) -> &'a ConversationPolicy {
    let target = routing
        .rules
        .iter()
        .map(|r| &r.target)
        .find(|t| t.project.as_ref().eq_ignore_ascii_case(project))
        .unwrap_or(&routing.default);
    &target.conversation
}

/// Whether the requester and participants hear of this event: a comment
/// (the caller has already kept internal and restricted ones from everyone),
/// and the changes the project's policy names. Not a new issue: its sender
/// gets the acknowledgement, the others on their mail saw it.
pub fn hear(event: &Event, policy: &ConversationPolicy) -> bool {
    match event.kind {
        EventKind::CommentCreated => true,
        EventKind::IssueCreated => false,
        // An agent's files (mailgate's own uploads are already left out).
        EventKind::IssueUpdated if !event.files.is_empty() => true,
        EventKind::IssueUpdated => event.changed.iter().any(|c| {
            let field = c.field.to_ascii_lowercase();
            policy.notify.iter().any(|wanted| match wanted {
                CustomerEvent::Resolved => field == "resolution" && c.to.is_some(),
                CustomerEvent::Status => field == "status",
                CustomerEvent::Assignee => field == "assignee",
            })
        }),
    }
}

/// Add the customers to `set` (unless a script removed them), then take
/// out the author of the comment: by address, and by account for a
/// customer whose account wrote it with a hidden address.
pub fn add(set: &mut BTreeSet<String>, event: &Event, hears: bool, removed: &[String]) {
    if hears {
        for c in &event.customers {
            if !removed.contains(&c.email) {
                set.insert(c.email.clone());
            }
        }
    }
    let Some(author) = event.comment.as_ref().and_then(|c| c.author.as_ref()) else { return };
    if let Some(email) = &author.email {
        set.remove(&email.to_lowercase());
    }
    if let Some(account) = &author.account_id {
        for c in event.customers.iter().filter(|c| c.account_id.as_ref() == Some(account)) {
            set.remove(&c.email);
        }
    }
    if event.origin == Origin::Mail
        && let Some(sender) = &event.mail_sender
    {
        set.remove(&sender.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::event::{Change, CommentInfo, Person};
    use crate::store::Role;

    fn customer(email: &str, account: Option<&str>) -> Customer {
        Customer {
            email: email.into(),
            name: None,
            account_id: account.map(String::from),
            role: Role::Participant,
            last_message_id: None,
        }
    }

    fn event(kind: EventKind, author: Option<Person>) -> Event {
        let comment = author.map(|a| CommentInfo {
            id: "1".into(),
            author: Some(a),
            body: "b".into(),
            visibility: Default::default(),
        });
        Event {
            id: "e".into(),
            kind,
            origin: Origin::Webhook,
            issue_key: "HELP-1".into(),
            project: "HELP".into(),
            summary: "s".into(),
            status: None,
            reporter: None,
            assignee: None,
            watchers: vec![],
            comment,
            changed: vec![],
            mail_sender: None,
            customers: vec![customer("ann@c.test", None), customer("hid@c.test", Some("acc-h"))],
            files: Vec::new(),
        }
    }

    #[test]
    fn customers_hear_comments_but_not_their_own() {
        let agent = Person { account_id: Some("agent".into()), ..Person::default() };
        let e = event(EventKind::CommentCreated, Some(agent));
        let mut set = BTreeSet::new();
        add(&mut set, &e, hear(&e, &ConversationPolicy::default()), &[]);
        assert_eq!(set.iter().map(String::as_str).collect::<Vec<_>>(), ["ann@c.test", "hid@c.test"]);

        let hidden_author = Person { account_id: Some("acc-h".into()), ..Person::default() };
        let e = event(EventKind::CommentCreated, Some(hidden_author));
        let mut set = BTreeSet::new();
        add(&mut set, &e, true, &["ann@c.test".into()]);
        assert!(set.is_empty(), "the author by account, a removed one by the script: {set:?}");
    }

    #[test]
    fn changes_reach_customers_only_when_the_policy_names_them() {
        let mut e = event(EventKind::IssueUpdated, None);
        e.changed = vec![Change { field: "resolution".into(), from: None, to: Some("Done".into()) }];
        assert!(!hear(&e, &ConversationPolicy::default()));
        let resolved = ConversationPolicy { notify: vec![CustomerEvent::Resolved], ..Default::default() };
        assert!(hear(&e, &resolved));
        let status = ConversationPolicy { notify: vec![CustomerEvent::Status], ..Default::default() };
        assert!(!hear(&e, &status));
        assert!(!hear(&event(EventKind::IssueCreated, None), &resolved));
    }
}
