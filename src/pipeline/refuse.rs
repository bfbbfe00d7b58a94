//! A polite reply instead of a comment: the policy refused the mail (an
//! outsider, a closed issue). The mail is kept and logged as rejected (a
//! replay can still post it); the reply is queued once per mail, threaded
//! under it, and never sent to one of our addresses or a bouncing one.

use super::policy::Refusal;
use super::{Pipeline, RowOutcome};
use crate::domain::{InboundMessage, IssueKey, MessageId};
use crate::outbound::outbox_message_id;
use crate::store::{InboundRow, LoggedAction, NewOutgoing, Status, StoreError};

/// The text of the reply. Pure.
pub(super) fn refusal_text(msg: &InboundMessage, issue: &IssueKey, why: Refusal) -> (String, String) {
    let subject = format!("Re: {}", crate::classify::strip_subject_prefixes(&msg.subject).trim());
    let advice = match why {
        Refusal::NotInvolved => format!(
            "Only the people taking part in {issue} can add to it by mail. To ask something of your own, \
             please write a new mail without {issue} in its subject."
        ),
        Refusal::Closed => format!(
            "{issue} is closed and takes no more comments. If you need more help, please write a new mail \
             without {issue} in its subject and we will open a new request."
        ),
    };
    let body =
        format!("Hello,\n\nyour mail was not added to {issue}: {why}.\n\n{advice}\n\nThis is an automatic reply.\n");
    (subject, body)
}

impl Pipeline {
    /// Queue the reply and finish the mail as rejected.
    pub(super) async fn refuse(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        issue: &IssueKey,
        why: Refusal,
    ) -> Result<RowOutcome, StoreError> {
        let reason = format!("not added to {issue}: {why}");
        let own = &self.policy.inbound.own_addresses;
        let now = self.clock.now_ms();
        match msg.sender().filter(|s| !crate::classify::is_own(s, own)) {
            Some(sender) if !self.store.is_bouncing(sender.as_ref(), now).await? => {
                let (subject, body) = refusal_text(msg, issue, why);
                let dedupe = format!("refusal:{}", row.id);
                let message_id = outbox_message_id(&dedupe);
                let reply_to = super::people::came_in_on(msg, own).map(|a| a.to_string());
                let reply = NewOutgoing {
                    dedupe_key: &dedupe,
                    kind: "refusal",
                    recipient: sender.as_ref(),
                    subject: &subject,
                    body_text: &body,
                    body_html: None,
                    message_id: &message_id,
                    in_reply_to: Some(mid.as_ref()),
                    issue_key: None,
                    reply_to: reply_to.as_deref(),
                    event_id: None,
                };
                self.store.enqueue(&reply, now).await?;
                self.note(row, Some(mid), "policy", &format!("{reason}; a reply tells {sender}"));
            }
            _ => self.note(row, Some(mid), "policy", &format!("{reason}; no reply (no usable sender)")),
        }
        tracing::info!(%reason, "mail refused by the conversation policy");
        self.finish(row, Status::Ignored, LoggedAction::Reject, Some(&reason), None, mid, Some(&reason)).await?;
        Ok(RowOutcome::Ignored(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_says_why_and_what_to_do() {
        let msg = InboundMessage { subject: "RE: Re: [HELP-3] Printer".into(), ..Default::default() };
        let key = IssueKey::parse("HELP-3").expect("key");
        let (subject, body) = refusal_text(&msg, &key, Refusal::Closed);
        assert_eq!(subject, "Re: [HELP-3] Printer");
        assert!(body.contains("HELP-3 is closed") && body.contains("write a new mail"), "{body}");
        let (_, body) = refusal_text(&msg, &key, Refusal::NotInvolved);
        assert!(body.contains("the sender may not comment"), "{body}");
    }
}
