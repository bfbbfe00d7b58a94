//! The conversation a processed mail adds to: its sender and the people on
//! To/Cc become the issue's requester and participants, so that whoever
//! wrote hears back, with or without a Jira account or a visible address.

use super::{Pipeline, Posted};
use crate::classify;
use crate::domain::{EmailAddress, InboundMessage, MessageId};
use crate::jira::JiraUser;
use crate::store::{InboundRow, MailOnIssue, PersonIn, Role, StoreError};

/// Who a mail adds: its sender (the requester of a new issue, else a
/// participant) and the others on To/Cc that are not ours (on a reply only
/// when `reply_cc` is on). Pure.
pub(super) fn people_of<'a>(
    msg: &'a InboundMessage,
    own: &[EmailAddress],
    created: bool,
    reply_cc: bool,
    account_id: Option<&'a str>,
) -> (Option<(PersonIn<'a>, Role)>, Vec<PersonIn<'a>>) {
    let sender = msg.from.as_ref().filter(|f| !classify::is_own(&f.address, own)).map(|f| {
        let role = if created { Role::Requester } else { Role::Participant };
        (PersonIn { address: &f.address, name: f.name.as_deref(), account_id }, role)
    });
    let mut others: Vec<PersonIn<'a>> = Vec::new();
    if created || reply_cc {
        for m in msg.to.iter().chain(&msg.cc) {
            let known = others.iter().any(|o| o.address == &m.address);
            if !known && Some(&m.address) != msg.sender() && !classify::is_own(&m.address, own) {
                others.push(PersonIn { address: &m.address, name: m.name.as_deref(), account_id: None });
            }
        }
    }
    (sender, others)
}

/// The address a mail came in on: the first of ours it was delivered to
/// (a `+tag` kept), else our first address.
pub(super) fn came_in_on<'a>(msg: &'a InboundMessage, own: &'a [EmailAddress]) -> Option<&'a EmailAddress> {
    msg.delivered_to_any().find(|a| classify::is_own(a, own)).or(own.first())
}

impl Pipeline {
    /// Keep what the mail tells about its issue's people (idempotent).
    pub(super) async fn record_conversation(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        posted: &Posted,
        reporter: Option<&JiraUser>,
    ) -> Result<(), StoreError> {
        let key = posted.issue();
        let created = matches!(posted, Posted::Issue(_));
        let own = &self.policy.inbound.own_addresses;
        let policy = classify::target_for_issue(msg, &self.policy.routing, key.project()).conversation;
        let account = reporter.and_then(JiraUser::id).filter(|_| created);
        let (sender, others) = people_of(msg, own, created, policy.reply_cc_participants, account);
        let mut said = Vec::new();
        if let Some((p, role)) = &sender {
            said.push(format!("{} {}", role.as_str(), p.address));
        }
        if !others.is_empty() {
            let list: Vec<String> = others.iter().map(|p| p.address.to_string()).collect();
            said.push(format!("participants {}", list.join(", ")));
        }
        let m =
            MailOnIssue { issue: key, seq: row.id, message_id: mid, reply_to: came_in_on(msg, own), sender, others };
        self.store.record_mail_on_issue(&m, self.clock.now_ms()).await?;
        if !said.is_empty() {
            self.note(row, Some(mid), "people", &said.join("; "));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Mailbox;

    fn mb(a: &str) -> Mailbox {
        Mailbox { name: None, address: EmailAddress::parse(a).expect("address") }
    }

    fn mail() -> InboundMessage {
        InboundMessage {
            from: Some(Mailbox { name: Some("Ann".into()), ..mb("ann@c.test") }),
            to: vec![mb("help+sales@corp.test"), mb("bob@c.test")],
            cc: vec![mb("carol@c.test"), mb("ann@c.test"), mb("bob@c.test"), mb("help@corp.test")],
            ..Default::default()
        }
    }

    #[test]
    fn a_new_issue_has_its_sender_as_requester_and_the_others_as_participants() {
        let own = [EmailAddress::parse("help@corp.test").expect("own")];
        let msg = mail();
        let (sender, others) = people_of(&msg, &own, true, false, Some("acc-1"));
        let (p, role) = sender.expect("sender");
        assert_eq!(
            (p.address.as_ref(), p.name, p.account_id, role),
            ("ann@c.test", Some("Ann"), Some("acc-1"), Role::Requester)
        );
        let others: Vec<&str> = others.iter().map(|p| p.address.as_ref()).collect();
        assert_eq!(others, ["bob@c.test", "carol@c.test"], "ours (also with a +tag), the sender and repeats left out");
        assert_eq!(came_in_on(&msg, &own).map(|a| a.as_ref()), Some("help+sales@corp.test"));
    }

    #[test]
    fn a_reply_adds_its_sender_and_its_cc_only_when_the_rule_says_so() {
        let own = [EmailAddress::parse("help@corp.test").expect("own")];
        let msg = mail();
        let (sender, others) = people_of(&msg, &own, false, false, None);
        assert_eq!(sender.map(|(p, r)| (p.address.to_string(), r)), Some(("ann@c.test".into(), Role::Participant)));
        assert!(others.is_empty());
        assert_eq!(people_of(&msg, &own, false, true, None).1.len(), 2);
    }
}
