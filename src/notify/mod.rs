//! Outbound notifications: Jira events (webhooks, catch-up, our own
//! actions) become mails, with recipients chosen by rhai scripts.

pub mod catchup;
mod customers;
mod error;
pub mod event;
mod files;
pub mod from_mail;
pub mod notifier;
pub mod script;
pub mod templates;
pub mod webhook;

pub use error::NotifyError;
pub use notifier::{Notifier, NotifyOutcome};
