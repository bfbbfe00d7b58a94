//! Conformance of the in-process fake Jira (`mailgate_testkit::fake_jira`) against
//! Atlassian's own OpenAPI documents in `../shared/jira-openapi/`.
//!
//! Every answer the fake gives here is checked against the operation the spec
//! declares for the request's method and path (looked up in the spec's
//! `paths`, not hard-coded): the status code must be one the operation
//! declares, the media type must be one it declares, and the body must
//! validate against the declared schema with the small OpenAPI-3 schema
//! validator of `mailgate_testkit::openapi`. Where the spec declares an error status without a body
//! schema, the body is checked against the spec's own `ErrorCollection`,
//! which is what Jira sends for platform errors.
//!
//! Requests are held to the spec too: query strings against the declared
//! parameters, JSON bodies against the declared request schema. mailgate's
//! own client (`HttpJira`) is driven through a recording proxy, so the
//! requests it really builds are what gets validated. Platform calls are
//! checked against Cloud v3 (`/rest/api/3`) or Data Center 10.3
//! (`/rest/api/2`), `/rest/servicedeskapi` against the JSM Cloud spec.
//!
//! Run: `cargo test --test jira_schema -- --nocapture` to see what was
//! validated against what.
//!
//! One module per area; `harness` drives the fake, `recorder` sits between
//! mailgate's client and the fake.

mod answers;
mod attachments;
mod bodies;
mod client;
mod fields;
mod harness;
mod hygiene;
mod jsm;
mod oauth_scopes;
mod people;
mod recorder;
mod self_checks;
mod strict;
mod watchers;
mod workflow;
mod workflow_client;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::Uri;
use harness::*;
use mailgate::config::{JiraAuth, JiraFlavor, JiraSettings};
use mailgate::domain::IssueKey;
use mailgate::jira::{HttpJira, IdentityApi, JiraApi, JiraError, NewRequest};
use mailgate_testkit::fake_jira::{FakeAuth, FakeJira};
use mailgate_testkit::openapi::*;
use people::*;
use recorder::*;
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, LOCATION};
use secrecy::SecretString;
use serde_json::{Value, json};
use watchers::*;

const USER: &str = "mailgate-bot@example.test";
const SECRET: &str = "api-token-0123";
