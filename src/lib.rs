//! mailgate: email to Jira. One module per pipeline stage; see README.md.

pub mod classify;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod context;
pub mod crash;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod domain;
pub mod http;
pub mod identity;
pub mod ingest;
pub mod jira;
pub mod mailbox;
pub mod mime;
pub mod notify;
pub mod outbound;
pub mod pipeline;
pub mod queue;
pub mod replay;
pub mod secrets;
pub mod startup;
pub mod stats;
pub mod store;
pub mod telemetry;
