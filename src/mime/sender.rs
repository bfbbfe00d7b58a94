//! Who wrote the mail. Real mail has `From: "我" <>`, a domain written with
//! its root dot (`user@example.com.`), a quoted local part with spaces
//! (`"john smith"@example.com`), or a display name and no address at all.
//! The sender is the first usable mailbox of `From`, then `Sender`, then
//! `Reply-To`, then `Return-Path` (RFC 5322 section 3.6.2 names `Sender`
//! as the agent that sent it; `Return-Path` is where bounces go). When none
//! is usable the mail has no sender and is ignored ("no usable From").

use mail_parser::{Address, HeaderValue, Message};

use crate::domain::{EmailAddress, Mailbox};

/// The sender, with From's display name kept when only another header had a
/// usable address.
pub(super) fn sender(msg: &Message<'_>) -> Option<Mailbox> {
    let from_name = msg.from().and_then(|a| a.iter().find_map(|m| display_name(m.name())));
    let found = msg
        .from()
        .and_then(first_mailbox)
        .or_else(|| msg.sender().and_then(first_mailbox))
        .or_else(|| msg.reply_to().and_then(first_mailbox))
        .or_else(|| return_path(msg.return_path()))?;
    Some(Mailbox { name: found.name.or(from_name), ..found })
}

fn return_path(value: &HeaderValue<'_>) -> Option<Mailbox> {
    let raw = match value {
        HeaderValue::Text(t) => t.as_ref(),
        HeaderValue::TextList(list) => list.first()?.as_ref(),
        HeaderValue::Address(a) => return first_mailbox(a),
        _ => return None,
    };
    address(raw).map(|address| Mailbox { name: None, address })
}

pub(super) fn to_mailbox(addr: &mail_parser::Addr<'_>) -> Option<Mailbox> {
    let address = address(addr.address()?)?;
    Some(Mailbox { name: display_name(addr.name()), address })
}

fn display_name(name: Option<&str>) -> Option<String> {
    name.map(|n| n.trim().trim_matches('"').trim().to_string()).filter(|n| !n.is_empty())
}

/// An address as mail writes it, made one we can send to: the domain's
/// root dot dropped, a local part with spaces quoted again (mail-parser
/// gives it without its quotes).
fn address(raw: &str) -> Option<EmailAddress> {
    let raw = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    let (local, domain) = raw.rsplit_once('@')?;
    let domain = domain.trim().strip_suffix('.').unwrap_or(domain.trim());
    let local = local.trim();
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    let local = if !quoted && local.contains(' ') { format!("\"{local}\"") } else { local.to_string() };
    EmailAddress::parse(&format!("{local}@{domain}")).ok()
}

pub(super) fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address.iter().filter_map(to_mailbox).collect()
}

pub(super) fn first_mailbox(address: &Address<'_>) -> Option<Mailbox> {
    address.iter().find_map(to_mailbox)
}
