//! The OpenAPI checker the fake Jira (and mailgate's own client) is held to:
//! Atlassian's OpenAPI documents in `../shared/jira-openapi/`, a small
//! OpenAPI-3 schema validator, and the per-operation checks of query
//! strings, request bodies and answers (status, media type, body schema).

mod operation;
mod spec;
mod validator;

pub use spec::{Checked, KnownDefect, Operation, Spec, cloud_v3, data_center, jsm, media_type, schema_label, spec_for};
pub use validator::Validator;
