//! Conformance of the in-process fake Jira (`mailgate::fake_jira`) against
//! Atlassian's own OpenAPI documents in `../shared/jira-openapi/`.
//!
//! Every answer the fake gives here is checked against the operation the spec
//! declares for the request's method and path (looked up in the spec's
//! `paths`, not hard-coded): the status code must be one the operation
//! declares, the media type must be one it declares, and the body must
//! validate against the declared schema with the small OpenAPI-3 schema
//! validator below. Where the spec declares an error status without a body
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

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::Uri;
use mailgate::config::{JiraAuth, JiraFlavor, JiraSettings};
use mailgate::domain::IssueKey;
use mailgate::fake_jira::{FakeAuth, FakeJira};
use mailgate::jira::{HttpJira, IdentityApi, JiraApi, JiraError, NewRequest};
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderValue};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

const SPEC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/jira-openapi");
const CLOUD_V3_FILE: &str = "jira-cloud-platform-v3.swagger-v3.v3.json";
const DC_FILE: &str = "jira-software-dc-10.3.swagger.v3.json";
const JSM_FILE: &str = "jira-service-management-cloud.swagger.v3.json";

const USER: &str = "mailgate-bot@example.test";
const SECRET: &str = "api-token-0123";

// ---------------------------------------------------------------------------
// A small OpenAPI 3.0 schema validator
// ---------------------------------------------------------------------------

/// Validates JSON values against OpenAPI 3.0 schema objects. Supported:
/// `$ref` (local, e.g. `#/components/schemas/X`), `type`
/// (object/array/string/integer/number/boolean), `properties`, `required`,
/// `items`, `additionalProperties` (boolean or schema; `false` makes unknown
/// properties errors), `allOf`/`oneOf`/`anyOf`, `nullable`, `enum`. Other
/// keywords (`format`, `readOnly`, `example`, `maxLength`, `discriminator`,
/// …) are ignored. Errors carry a JSON path such as `$.issues[0].key`.
struct Validator<'a> {
    root: &'a Value,
}

/// Guard against `$ref` cycles that do not consume any data.
const MAX_DEPTH: usize = 256;

impl<'a> Validator<'a> {
    fn new(root: &'a Value) -> Self {
        Self { root }
    }

    fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", 0, &mut errors);
        errors
    }

    fn resolve(&self, reference: &Value) -> Result<&'a Value, String> {
        let reference = reference.as_str().ok_or_else(|| format!("$ref is not a string: {reference}"))?;
        let pointer =
            reference.strip_prefix('#').ok_or_else(|| format!("only local $ref is supported, got {reference}"))?;
        self.root.pointer(pointer).ok_or_else(|| format!("unresolvable $ref {reference}"))
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, depth: usize, errors: &mut Vec<String>) {
        if depth > MAX_DEPTH {
            errors.push(format!("{path}: schema nesting deeper than {MAX_DEPTH} ($ref cycle?)"));
            return;
        }
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{path}: no value is allowed here"));
                return;
            }
            Value::Object(s) => s,
            other => {
                errors.push(format!("{path}: invalid schema {other}"));
                return;
            }
        };
        if let Some(reference) = schema.get("$ref") {
            // OpenAPI 3.0: keywords next to `$ref` are ignored.
            match self.resolve(reference) {
                Ok(target) => self.check(target, value, path, depth + 1, errors),
                Err(e) => errors.push(format!("{path}: {e}")),
            }
            return;
        }
        if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(ty) = schema.get("type") {
            match ty.as_str() {
                Some(t) if type_matches(t, value) => {}
                Some(t) => {
                    errors.push(format!("{path}: expected {t}, found {}", kind(value)));
                    return;
                }
                None => {
                    errors.push(format!("{path}: invalid `type` {ty} in schema"));
                    return;
                }
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!("{path}: {value} is not one of the allowed values {}", Value::Array(allowed.clone())));
        }
        if let Value::Object(object) = value {
            self.check_object(schema, object, path, depth, errors);
        }
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{i}]"), depth + 1, errors);
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, path, depth + 1, errors);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            let outcomes: Vec<Vec<String>> = any
                .iter()
                .map(|sub| {
                    let mut e = Vec::new();
                    self.check(sub, value, path, depth + 1, &mut e);
                    e
                })
                .collect();
            if !outcomes.iter().any(Vec::is_empty) {
                errors.push(format!(
                    "{path}: matches none of the {} anyOf alternatives ({})",
                    any.len(),
                    outcomes.iter().map(|e| e.join("; ")).collect::<Vec<_>>().join(" | ")
                ));
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let outcomes: Vec<Vec<String>> = one
                .iter()
                .map(|sub| {
                    let mut e = Vec::new();
                    self.check(sub, value, path, depth + 1, &mut e);
                    e
                })
                .collect();
            let matching = outcomes.iter().filter(|e| e.is_empty()).count();
            if matching != 1 {
                errors.push(format!(
                    "{path}: must match exactly one oneOf alternative, matches {matching} of {} ({})",
                    one.len(),
                    outcomes.iter().map(|e| e.join("; ")).collect::<Vec<_>>().join(" | ")
                ));
            }
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    errors.push(format!("{path}: missing required property `{name}`"));
                }
            }
        }
        for (key, v) in object {
            let child = child_path(path, key);
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, v, &child, depth + 1, errors),
                None => match schema.get("additionalProperties") {
                    None | Some(Value::Bool(true)) => {}
                    Some(Value::Bool(false)) => errors
                        .push(format!("{child}: property not allowed by the schema (additionalProperties: false)")),
                    Some(sub) => self.check(sub, v, &child, depth + 1, errors),
                },
            }
        }
    }
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn child_path(path: &str, key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!("{path}.{key}") } else { format!("{path}[{key:?}]") }
}

// ---------------------------------------------------------------------------
// The spec documents and operation lookup
// ---------------------------------------------------------------------------

/// A place where a spec document is known to contradict the real service.
/// The test asserts the spec still says `declared` there (ignoring
/// `description`/`example`), so an updated spec makes the override fail loudly
/// instead of silently hiding something.
struct KnownDefect {
    pointer: &'static str,
    declared: &'static str,
    replacement: &'static str,
    why: &'static str,
}

/// Jira Software DC 10.3 defects (see API-NOTES.md §5, "Known defects").
const DC_DEFECTS: &[KnownDefect] = &[
    KnownDefect {
        pointer: "/components/schemas/IssueBean/properties/fields/additionalProperties",
        declared: r#"{"type":"object"}"#,
        replacement: "{}",
        why: "issue field values are strings, arrays, objects or null (`summary` is a string); \
              the DC spec types every field value as an object",
    },
    KnownDefect {
        pointer: "/components/schemas/IssueUpdateBean/properties/fields/additionalProperties",
        declared: r#"{"type":"object"}"#,
        replacement: "{}",
        why: "createIssue takes `summary` and `description` as strings; \
              the DC spec types every field value as an object",
    },
    KnownDefect {
        pointer: "/paths/~1api~12~1issue~1{issueIdOrKey}~1attachments/post/responses/200/content/application~1json/schema",
        declared: r##"{"$ref":"#/components/schemas/AttachmentJsonBean"}"##,
        replacement: r##"{"type":"array","items":{"$ref":"#/components/schemas/AttachmentJsonBean"}}"##,
        why: "addAttachment answers a JSON array (one entry per `file` part); \
              the DC spec declares the item schema instead of an array",
    },
    KnownDefect {
        pointer: "/paths/~1api~12~1user~1search/get/responses/200/content/application~1json/schema",
        declared: r##"{"$ref":"#/components/schemas/UserBean"}"##,
        replacement: r##"{"type":"array","items":{"$ref":"#/components/schemas/UserBean"}}"##,
        why: "findUsers answers a JSON array of users (\"Returns a list of users\"); \
              the DC spec declares the item schema instead of an array",
    },
    KnownDefect {
        pointer: "/paths/~1api~12~1group~1member/get/parameters/2",
        declared: r#"{"name":"groupname","in":"path","required":true,"schema":{"type":"string"}}"#,
        replacement: r#"{"name":"groupname","in":"query","required":true,"schema":{"type":"string"}}"#,
        why: "getUsersFromGroup takes the group as a query parameter (`/group/member?groupname=`); \
              the DC spec declares it `in: path` although the path has no {groupname}",
    },
    KnownDefect {
        pointer: "/paths/~1api~12~1group~1member/get/responses/200/content/application~1json/schema",
        declared: r##"{"$ref":"#/components/schemas/UserJsonBean"}"##,
        replacement: r##"{"allOf":[{"$ref":"#/components/schemas/PageBean"},
            {"type":"object","properties":{"values":{"type":"array","items":{"$ref":"#/components/schemas/UserJsonBean"}}}}]}"##,
        why: "getUsersFromGroup answers a page of users (startAt, maxResults, total, isLast, nextPage, \
              values), \"a paginated list of users\" as its description says; the DC spec declares a \
              single UserJsonBean, which every page object would pass vacuously",
    },
    KnownDefect {
        pointer: "/components/schemas/WatchersBean",
        declared: r#"{"type":"object","xml":{"name":"watchers"}}"#,
        replacement: r##"{"type":"object","xml":{"name":"watchers"},"properties":{
            "self":{"type":"string","format":"uri"},
            "isWatching":{"type":"boolean"},
            "watchCount":{"type":"integer","format":"int32"},
            "watchers":{"type":"array","items":{"$ref":"#/components/schemas/UserJsonBean"}}}}"##,
        why: "getIssueWatchers (the only user of WatchersBean) answers {self, isWatching, watchCount, \
              watchers: [user]}, as the DC spec's own IssueBean example shows for the `watcher` field; \
              the DC spec declares WatchersBean as a bare object, which every answer would pass vacuously",
    },
    KnownDefect {
        pointer: "/paths/~1api~12~1project~1{projectIdOrKey}~1role/get/responses/200",
        declared: "{}",
        replacement: r#"{"description":"List of roles and URIs to full details","content":{"application/json":
            {"schema":{"type":"object","additionalProperties":{"type":"string","format":"uri"}}}}}"#,
        why: "getProjectRoles answers a JSON object mapping each role name to the URL of its details \
              (\"List of roles and URIs to full details\", as Cloud declares); the DC spec declares the \
              200 without any content, so there would be nothing to validate",
    },
];

struct Spec {
    label: &'static str,
    file: &'static str,
    doc: Value,
    /// Path part of `servers[0].url` (`""` for Cloud, `"/rest"` for DC).
    base_path: String,
}

fn strip_annotations(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "description" && *k != "example")
                .map(|(k, v)| (k.clone(), strip_annotations(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_annotations).collect()),
        other => other.clone(),
    }
}

fn load_spec(file: &'static str, label: &'static str, defects: &[KnownDefect]) -> Spec {
    let path = format!("{SPEC_DIR}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read Atlassian's OpenAPI spec {path}: {e}. This conformance test needs \
             the spec files in ../shared/jira-openapi/ next to the crate (see README.md there)."
        )
    });
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid JSON: {e}"));
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "{path}: expected an OpenAPI 3 document, found openapi={version:?}");
    for d in defects {
        let slot = doc.pointer_mut(d.pointer).unwrap_or_else(|| {
            panic!("{file}: known spec defect at {} is gone ({}); review and remove the override", d.pointer, d.why)
        });
        let declared: Value = serde_json::from_str(d.declared).expect("defect JSON");
        assert_eq!(
            strip_annotations(slot),
            declared,
            "{file}: the spec changed at {} ({}); review and remove the override",
            d.pointer,
            d.why
        );
        *slot = serde_json::from_str(d.replacement).expect("defect replacement JSON");
    }
    let base_path = doc["servers"][0]["url"]
        .as_str()
        .map(|url| {
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            after_scheme.find('/').map_or("", |i| &after_scheme[i..]).trim_end_matches('/').to_string()
        })
        .unwrap_or_default();
    Spec { label, file, doc, base_path }
}

fn cloud_v3() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(CLOUD_V3_FILE, "Cloud v3", &[]))
}

fn data_center() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(DC_FILE, "DC 10.3", DC_DEFECTS))
}

/// Jira Service Management Cloud. Its server URL has no path and its paths
/// are written in full (`/rest/servicedeskapi/...`), so the base path is "".
fn jsm() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(JSM_FILE, "JSM Cloud", &[]))
}

/// The spec that describes a request path the way mailgate uses it: JSM
/// for `/rest/servicedeskapi`, Cloud v3 for `/rest/api/3`, Data Center for
/// `/rest/api/2` (mailgate speaks v2 only to Data Center).
fn spec_for(path: &str) -> &'static Spec {
    if path.starts_with("/rest/servicedeskapi/") {
        jsm()
    } else if path.starts_with("/rest/api/3/") {
        cloud_v3()
    } else {
        data_center()
    }
}

struct Operation<'s> {
    spec: &'s Spec,
    method: String,
    template: String,
    op: &'s Value,
}

/// What one conformance check covered.
#[derive(Debug)]
struct Checked {
    operation_id: String,
    status: u16,
    line: String,
}

impl Spec {
    /// The operation the spec declares for `method` on a concrete request
    /// path (e.g. `/rest/api/3/issue/HELP-1`). Literal segments win over
    /// `{templated}` ones, as OpenAPI requires.
    fn operation(&self, method: &str, request_path: &str) -> Result<Operation<'_>, String> {
        let spec_path = request_path.strip_prefix(&self.base_path).ok_or_else(|| {
            format!("{}: {request_path} is outside the server base path {:?}", self.label, self.base_path)
        })?;
        let wanted: Vec<&str> = spec_path.trim_end_matches('/').split('/').collect();
        let method = method.to_ascii_lowercase();
        let paths = self.doc["paths"].as_object().ok_or_else(|| format!("{}: spec has no `paths`", self.file))?;
        let mut best: Option<(Vec<bool>, &String, &Value)> = None;
        for (template, item) in paths {
            let Some(op) = item.get(&method) else {
                continue;
            };
            let segments: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            if segments.len() != wanted.len() {
                continue;
            }
            let mut score = Vec::with_capacity(segments.len());
            let matched = segments.iter().zip(&wanted).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    score.push(false);
                    !w.is_empty()
                } else {
                    score.push(true);
                    t == w
                }
            });
            if matched && best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                best = Some((score, template, op));
            }
        }
        let (_, template, op) = best.ok_or_else(|| {
            format!("{} ({}): no operation {} matches {spec_path}", self.label, self.file, method.to_uppercase())
        })?;
        Ok(Operation { spec: self, method: method.to_uppercase(), template: template.clone(), op })
    }

    fn validator(&self) -> Validator<'_> {
        Validator::new(&self.doc)
    }
}

fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn schema_label(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.to_string();
    }
    if schema["type"] == "array"
        && let Some(r) = schema["items"]["$ref"].as_str()
    {
        return format!("array of {r}");
    }
    "inline schema".to_string()
}

impl Operation<'_> {
    fn id(&self) -> String {
        self.op["operationId"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("{} {}", self.method, self.template))
    }

    fn declared_statuses(&self) -> Vec<String> {
        self.op["responses"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default()
    }

    /// The declared parameters, `$ref`s resolved.
    fn parameters(&self) -> Vec<&Value> {
        let validator = self.spec.validator();
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| p.get("$ref").and_then(|r| validator.resolve(r).ok()).unwrap_or(p)).collect())
            .unwrap_or_default()
    }

    /// The declared default of a query/path parameter, if the spec gives one.
    fn param_default(&self, name: &str) -> Option<&Value> {
        self.parameters().into_iter().find_map(|p| (p["name"] == name).then(|| p["schema"].get("default"))?)
    }

    /// Check the query string of a request against the declared parameters:
    /// every parameter sent is declared `in: query`, scalar values parse as
    /// the declared type, required query parameters are present, and every
    /// declared path parameter occurs in the path template (a spec that
    /// declares a query parameter `in: path` fails here).
    fn check_query(&self, query: &[(String, String)]) -> Result<(), String> {
        let params = self.parameters();
        let mut problems = Vec::new();
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            match p["in"].as_str() {
                Some("path") if !self.template.contains(&format!("{{{name}}}")) => {
                    problems.push(format!("path parameter `{name}` does not occur in the path template"));
                }
                Some("query") if p["required"] == true && !query.iter().any(|(k, _)| k == name) => {
                    problems.push(format!("required query parameter `{name}` is missing"));
                }
                _ => {}
            }
        }
        for (name, value) in query {
            let Some(p) = params.iter().find(|p| p["name"] == name.as_str() && p["in"] == "query") else {
                problems.push(format!("query parameter `{name}` is not declared"));
                continue;
            };
            let ty = p["schema"]["type"].as_str().unwrap_or_default();
            let ok = match ty {
                "integer" => value.parse::<i64>().is_ok(),
                "number" => value.parse::<f64>().is_ok(),
                "boolean" => value == "true" || value == "false",
                _ => true,
            };
            if !ok {
                problems.push(format!("query parameter `{name}={value}` is not a {ty}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: query of {} ({} {}) {query:?}:\n  {}",
                self.spec.label,
                self.id(),
                self.method,
                self.template,
                problems.join("\n  ")
            ))
        }
    }

    /// Check a request body we send against the declared request schema, so
    /// the test drives the fake with inputs the spec accepts.
    fn check_request(&self, body: &Value) -> Result<(), String> {
        let Some(schema) = self.op["requestBody"]["content"]["application/json"].get("schema") else {
            return Err(format!(
                "{}: {} {} declares no application/json request schema",
                self.spec.label, self.method, self.template
            ));
        };
        let errors = self.spec.validator().validate(schema, body);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: request for {} ({} {}) does not match {}:\n  {}",
                self.spec.label,
                self.id(),
                self.method,
                self.template,
                schema_label(schema),
                errors.join("\n  ")
            ))
        }
    }

    /// Check one answer: declared status, declared media type, body schema.
    fn check_response(&self, status: u16, content_type: Option<&str>, body: &Value) -> Result<Checked, String> {
        let responses = &self.op["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let (declared_as, response) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|k| responses.get(k).map(|r| (k, r)))
            .ok_or_else(|| {
                format!(
                    "{}: {} ({} {}) answered {status}, but the spec declares only {:?}",
                    self.spec.label,
                    self.id(),
                    self.method,
                    self.template,
                    self.declared_statuses()
                )
            })?;
        if status == 204 {
            // No Content: HTTP allows no body, whatever media type the spec
            // lists for it (Cloud addWatcher lists application/json).
            if !body.is_null() {
                return Err(format!("{}: {} 204 answer carries a body: {body}", self.spec.label, self.id()));
            }
            return Ok(Checked {
                operation_id: self.id(),
                status,
                line: format!(
                    "[{}] {} {} ({}) 204 (declared as {declared_as}) -> no body",
                    self.spec.label,
                    self.method,
                    self.template,
                    self.id()
                ),
            });
        }
        let media = content_type.map(media_type);
        let content = response.get("content").and_then(Value::as_object).filter(|c| !c.is_empty());
        let declared_schema = match content {
            Some(content) => {
                let mt =
                    media.as_deref().ok_or_else(|| format!("{}: {status} answer without a Content-Type", self.id()))?;
                let entry = content.get(mt).ok_or_else(|| {
                    format!(
                        "{}: {} {status} answered {mt}, the spec declares {:?}",
                        self.spec.label,
                        self.id(),
                        content.keys().collect::<Vec<_>>()
                    )
                })?;
                entry.get("schema")
            }
            None => None,
        };
        let (schema, label) = match declared_schema {
            Some(s) => (s, schema_label(s)),
            None if status >= 400 => {
                // No body schema declared for this error: Jira still sends
                // its platform error body, so hold the fake to that.
                if media.as_deref() != Some("application/json") {
                    return Err(format!("{}: {status} error answered {media:?}, expected application/json", self.id()));
                }
                let s = self
                    .spec
                    .doc
                    .pointer("/components/schemas/ErrorCollection")
                    .ok_or_else(|| format!("{} has no ErrorCollection schema", self.spec.file))?;
                (s, "#/components/schemas/ErrorCollection (spec declares no body schema)".to_string())
            }
            None => {
                return Err(format!(
                    "{}: {} {status} has no response schema; nothing to validate",
                    self.spec.label,
                    self.id()
                ));
            }
        };
        let errors = self.spec.validator().validate(schema, body);
        if !errors.is_empty() {
            return Err(format!(
                "{}: {} ({} {}) {status} body does not match {label}:\n  {}\nbody: {body:#}",
                self.spec.label,
                self.id(),
                self.method,
                self.template,
                errors.join("\n  ")
            ));
        }
        Ok(Checked {
            operation_id: self.id(),
            status,
            line: format!(
                "[{}] {} {} ({}) {status} (declared as {declared_as}) -> {label}",
                self.spec.label,
                self.method,
                self.template,
                self.id()
            ),
        })
    }
}

// ---------------------------------------------------------------------------
// Driving the fake over HTTP
// ---------------------------------------------------------------------------

struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Value,
}

struct Run {
    spec: &'static Spec,
    fake: FakeJira,
    http: reqwest::Client,
    checked: Vec<Checked>,
}

impl Run {
    async fn start(spec: &'static Spec) -> Self {
        mailgate::telemetry::install_crypto_provider();
        let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
            .await
            .expect("start the fake Jira");
        Self { spec, fake, http: reqwest::Client::new(), checked: Vec::new() }
    }

    /// Send `method path` (query and body added by `build`) with the given
    /// password, require `expected`, and check the answer against the spec.
    /// The query string must be one the spec accepts (see `check_query`).
    async fn call_with(
        &mut self,
        secret: &str,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.exchange(secret, method, path, build, expected, true).await
    }

    /// Like `call`, for a request that is deliberately off-spec (e.g. a
    /// required query parameter left out to provoke a 400): only the answer
    /// is checked.
    async fn call_off_spec(
        &mut self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.exchange(SECRET, method, path, build, expected, false).await
    }

    async fn exchange(
        &mut self,
        secret: &str,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
        check_query: bool,
    ) -> Value {
        let url = format!("{}{path}", self.fake.base_url());
        let request = build(self.http.request(method.clone(), url).basic_auth(USER, Some(secret)));
        let (client, request) = request.build_split();
        let request = request.unwrap_or_else(|e| panic!("{method} {path}: cannot build the request: {e}"));
        if check_query {
            let query: Vec<(String, String)> =
                request.url().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            self.spec
                .operation(method.as_str(), path)
                .and_then(|op| op.check_query(&query))
                .unwrap_or_else(|e| panic!("the test's own request is off-spec: {e}"));
        }
        let resp = client.execute(request).await.expect("HTTP call to the fake Jira");
        let status = resp.status().as_u16();
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp.bytes().await.expect("read the fake's answer");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("{method} {path}: {status} answer is not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        let answer = Answer { status, content_type, body };
        assert_eq!(answer.status, expected, "{method} {path}: unexpected status; body {}", answer.body);
        let op = self.spec.operation(method.as_str(), path).unwrap_or_else(|e| panic!("{e}"));
        let checked = op
            .check_response(answer.status, answer.content_type.as_deref(), &answer.body)
            .unwrap_or_else(|e| panic!("{e}"));
        self.checked.push(checked);
        answer.body
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.call_with(SECRET, method, path, build, expected).await
    }

    /// JSON request body, validated against the spec's request schema first.
    async fn send_json(&mut self, method: Method, path: &str, body: Value, expected: u16) -> Value {
        self.send_json_query(method, path, &[], body, expected).await
    }

    /// `send_json` with a query string.
    async fn send_json_query(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Value,
        expected: u16,
    ) -> Value {
        self.spec
            .operation(method.as_str(), path)
            .and_then(|op| op.check_request(&body))
            .unwrap_or_else(|e| panic!("the test's own request is off-spec: {e}"));
        self.call(method, path, |r| r.query(query).json(&body), expected).await
    }

    fn covered(&self) -> BTreeSet<(String, u16)> {
        self.checked.iter().map(|c| (c.operation_id.clone(), c.status)).collect()
    }

    fn report(&self) {
        for c in &self.checked {
            println!("validated {}", c.line);
        }
    }

    fn keys_in_project(&self, project: &str) -> Vec<String> {
        let mut keys: Vec<String> =
            self.fake.issues().into_iter().filter(|i| i.project == project).map(|i| i.key).collect();
        keys.sort();
        keys
    }
}

fn str_field<'v>(v: &'v Value, name: &str) -> &'v str {
    v[name].as_str().unwrap_or_else(|| panic!("`{name}` missing or not a string in {v}"))
}

fn adf(text: &str) -> Value {
    json!({
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]
    })
}

fn attachment_form() -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(&b"hello from mailgate\n"[..])
        .file_name("hello.txt")
        .mime_str("text/plain")
        .expect("mime type");
    reqwest::multipart::Form::new().part("file", part)
}

fn expected_coverage(pairs: &[(&str, u16)]) -> BTreeSet<(String, u16)> {
    pairs.iter().map(|(o, s)| (o.to_string(), *s)).collect()
}

// ---------------------------------------------------------------------------
// Conformance tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn cloud_v3_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;

    // getCurrentUser
    let me = run.call(Method::GET, "/rest/api/3/myself", |r| r, 200).await;
    assert!(!str_field(&me, "accountId").is_empty());

    // createIssue with an ADF description
    let created = run
        .send_json(
            Method::POST,
            "/rest/api/3/issue",
            json!({"fields": {
                "project": {"key": "HELP"},
                "issuetype": {"name": "Task"},
                "summary": "Printer on fire",
                "description": adf("The printer on floor 3 is on fire."),
                "labels": ["email"]
            }}),
            201,
        )
        .await;
    // CreatedIssue has no `required` in the spec, so insist on the basics here.
    let key = str_field(&created, "key").to_string();
    assert!(key.starts_with("HELP-"), "unexpected key {key}");
    assert!(!str_field(&created, "id").is_empty());
    assert!(str_field(&created, "self").ends_with(str_field(&created, "id")));

    // getIssue
    let issue_path = format!("/rest/api/3/issue/{key}");
    let issue = run.call(Method::GET, &issue_path, |r| r, 200).await;
    assert_eq!(issue["key"], key.as_str());
    assert_eq!(issue["fields"]["summary"], "Printer on fire");
    assert_eq!(issue["fields"]["description"], adf("The printer on floor 3 is on fire."));

    // addComment (ADF body) and getComments
    let comments_path = format!("/rest/api/3/issue/{key}/comment");
    let comment = run.send_json(Method::POST, &comments_path, json!({"body": adf("Fire brigade called.")}), 201).await;
    let comment_id = str_field(&comment, "id").to_string();
    assert_eq!(comment["body"], adf("Fire brigade called."));

    let page = run.call(Method::GET, &comments_path, |r| r, 200).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["comments"][0]["id"], comment_id.as_str());
    let default_max = run
        .spec
        .operation("GET", &comments_path)
        .expect("getComments in the spec")
        .param_default("maxResults")
        .cloned();
    if let Some(default_max) = default_max {
        assert_eq!(
            page["maxResults"], default_max,
            "getComments without maxResults must page with the spec's default size"
        );
    }
    run.send_json(Method::POST, &comments_path, json!({"body": adf("Fire is out.")}), 201).await;
    let second =
        run.call(Method::GET, &comments_path, |r| r.query(&[("startAt", "1"), ("maxResults", "1")]), 200).await;
    assert_eq!(second["startAt"], 1);
    assert_eq!(second["maxResults"], 1);
    assert_eq!(second["total"], 2);
    assert_eq!(second["comments"].as_array().map(Vec::len), Some(1));
    assert_ne!(second["comments"][0]["id"], comment_id.as_str());

    // addAttachment: multipart, XSRF header, 200 with an array
    let attach_path = format!("/rest/api/3/issue/{key}/attachments");
    let attached = run
        .call(
            Method::POST,
            &attach_path,
            |r| r.header("X-Atlassian-Token", "no-check").multipart(attachment_form()),
            200,
        )
        .await;
    let attached = attached.as_array().expect("attachments answer is an array");
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0]["filename"], "hello.txt");
    assert_eq!(attached[0]["size"], b"hello from mailgate\n".len());
    // Without the XSRF header Jira refuses: 403 is declared (no body schema).
    run.call(Method::POST, &attach_path, |r| r.multipart(attachment_form()), 403).await;

    // search/jql over several pages, following nextPageToken to the end.
    for n in 0..6 {
        run.fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let expected_keys = run.keys_in_project("HELP");
    assert_eq!(expected_keys.len(), 7);
    let mut seen: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "search/jql pagination does not end");
        let t = token.take();
        let page = run
            .call(
                Method::GET,
                "/rest/api/3/search/jql",
                |r| {
                    let r =
                        r.query(&[("jql", "project = HELP ORDER BY key"), ("maxResults", "3"), ("fields", "summary")]);
                    match &t {
                        Some(t) => r.query(&[("nextPageToken", t.as_str())]),
                        None => r,
                    }
                },
                200,
            )
            .await;
        let issues = page["issues"].as_array().expect("issues array");
        assert!(issues.len() <= 3, "page larger than maxResults");
        seen.extend(issues.iter().map(|i| str_field(i, "key").to_string()));
        let is_last = page["isLast"].as_bool().expect("isLast is a boolean");
        match page.get("nextPageToken") {
            Some(Value::String(next)) => {
                assert!(!is_last, "nextPageToken on a page with isLast=true");
                token = Some(next.clone());
            }
            None => {
                assert!(is_last, "no nextPageToken but isLast=false");
                break;
            }
            Some(other) => panic!("nextPageToken is not a string: {other}"),
        }
    }
    assert_eq!(pages, 3, "7 issues at 3 per page");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an issue came back twice: {seen:?}");
    seen.sort();
    assert_eq!(seen, expected_keys);

    // Errors.
    let bad = run
        .send_json(
            Method::POST,
            "/rest/api/3/issue",
            json!({"fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"name": "Task"},
                "summary": "Nowhere",
                "description": adf("no such project")
            }}),
            400,
        )
        .await;
    assert!(bad["errors"]["project"].is_string(), "{bad}");

    let bad_jql = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", "project = HELP AND summary ~ fire")]), 400)
        .await;
    assert!(bad_jql["errorMessages"][0].is_string(), "{bad_jql}");

    let missing = run.call(Method::GET, "/rest/api/3/issue/HELP-999", |r| r, 404).await;
    assert!(missing["errorMessages"][0].is_string(), "{missing}");

    let denied = run
        .call_with(
            "wrong-password",
            Method::POST,
            "/rest/api/3/issue",
            |r| {
                r.json(&json!({"fields": {
                    "project": {"key": "HELP"},
                    "issuetype": {"name": "Task"},
                    "summary": "Should not exist"
                }}))
            },
            401,
        )
        .await;
    assert!(denied["errorMessages"][0].is_string(), "{denied}");
    run.call_with("wrong-password", Method::GET, "/rest/api/3/myself", |r| r, 401).await;
    assert_eq!(run.keys_in_project("HELP").len(), 7, "a failed call created an issue");

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getCurrentUser", 200),
            ("getCurrentUser", 401),
            ("createIssue", 201),
            ("createIssue", 400),
            ("createIssue", 401),
            ("getIssue", 200),
            ("getIssue", 404),
            ("addComment", 201),
            ("getComments", 200),
            ("addAttachment", 200),
            ("addAttachment", 403),
            ("searchAndReconsileIssuesUsingJql", 200),
            ("searchAndReconsileIssuesUsingJql", 400),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;

    run.call(Method::GET, "/rest/api/2/myself", |r| r, 200).await;

    // createIssue: on DC the description is a plain (wiki markup) string.
    let created = run
        .send_json(
            Method::POST,
            "/rest/api/2/issue",
            json!({"fields": {
                "project": {"key": "HELP"},
                "issuetype": {"name": "Task"},
                "summary": "VPN down",
                "description": "The VPN is down since *9:00*."
            }}),
            201,
        )
        .await;
    let key = str_field(&created, "key").to_string();
    assert!(key.starts_with("HELP-"), "unexpected key {key}");

    let issue_path = format!("/rest/api/2/issue/{key}");
    let issue = run.call(Method::GET, &issue_path, |r| r, 200).await;
    assert_eq!(issue["fields"]["description"], "The VPN is down since *9:00*.");

    let comments_path = format!("/rest/api/2/issue/{key}/comment");
    let comment =
        run.send_json(Method::POST, &comments_path, json!({"body": "Restarted the concentrator."}), 201).await;
    assert_eq!(comment["body"], "Restarted the concentrator.");
    let page = run.call(Method::GET, &comments_path, |r| r, 200).await;
    assert_eq!(page["total"], 1);

    let attached = run
        .call(
            Method::POST,
            &format!("/rest/api/2/issue/{key}/attachments"),
            |r| r.header("X-Atlassian-Token", "no-check").multipart(attachment_form()),
            200,
        )
        .await;
    assert_eq!(attached[0]["filename"], "hello.txt");

    // search (startAt/maxResults/total paging) to the end.
    for n in 0..6 {
        run.fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let expected_keys = run.keys_in_project("HELP");
    let mut seen: Vec<String> = Vec::new();
    let mut start_at = 0usize;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "search pagination does not end");
        let start = start_at.to_string();
        let page = run
            .call(
                Method::GET,
                "/rest/api/2/search",
                |r| r.query(&[("jql", "project = HELP"), ("startAt", start.as_str()), ("maxResults", "3")]),
                200,
            )
            .await;
        assert_eq!(page["startAt"], start_at);
        assert_eq!(page["maxResults"], 3);
        let total = page["total"].as_u64().expect("total") as usize;
        assert_eq!(total, expected_keys.len());
        let issues = page["issues"].as_array().expect("issues array");
        seen.extend(issues.iter().map(|i| str_field(i, "key").to_string()));
        start_at += issues.len();
        if issues.is_empty() || start_at >= total {
            break;
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, expected_keys);

    // Errors: DC declares 400/404/401 here without a body schema, so the
    // bodies are held to the DC spec's ErrorCollection.
    let bad = run
        .send_json(
            Method::POST,
            "/rest/api/2/issue",
            json!({"fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"name": "Task"},
                "summary": "Nowhere"
            }}),
            400,
        )
        .await;
    assert!(bad["errors"]["project"].is_string(), "{bad}");
    run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", "project = HELP AND summary ~ vpn")]), 400).await;
    run.call(Method::GET, "/rest/api/2/issue/HELP-999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/2/myself", |r| r, 401).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getUser", 200),
            ("getUser", 401),
            ("createIssue", 201),
            ("createIssue", 400),
            ("getIssue", 200),
            ("getIssue", 404),
            ("addComment", 201),
            ("getComments", 200),
            ("addAttachment", 200),
            ("search_1", 200),
            ("search_1", 400),
        ])
    );
}

// ---------------------------------------------------------------------------
// Users, groups, permissions, watchers (platform) and JSM customers/requests
// ---------------------------------------------------------------------------

/// A group name with spaces, as real groups have: the fake's `self` and
/// `nextPage` links must encode it.
const GROUP: &str = "Service Desk Team";
/// Members added on top of the first one, so the group spans three pages of 50.
const EXTRA_MEMBERS: usize = 120;

/// Add `EXTRA_MEMBERS` users to `GROUP`; returns their `id_of(accountId, email)`.
fn fill_group(fake: &FakeJira, id_of: impl Fn(String, String) -> String) -> Vec<String> {
    (0..EXTRA_MEMBERS)
        .map(|n| {
            let email = format!("agent{n:03}@example.test");
            let id = fake.add_user(&email, &format!("Agent {n:03}"));
            fake.add_member(GROUP, &id);
            id_of(id, email)
        })
        .collect()
}

/// A link Jira hands out (`self`, `nextPage`): an absolute URL on the fake,
/// with nothing a URI may not contain.
fn assert_link(run: &Run, link: &Value) -> reqwest::Url {
    let link = link.as_str().unwrap_or_else(|| panic!("link is not a string: {link}"));
    assert!(!link.contains(|c: char| c.is_whitespace() || c == '"'), "link is not a valid URI: {link:?}");
    assert!(link.starts_with(&run.fake.base_url()), "link {link} does not point at the fake");
    reqwest::Url::parse(link).unwrap_or_else(|e| panic!("link {link} is not a URL: {e}"))
}

/// How `walk_group` moves from page to page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Paging {
    /// Request exactly the `nextPage` link of each page.
    NextPage,
    /// Request `startAt` = entries seen so far, as mailgate's client does.
    StartAt,
}

/// Read `getUsersFromGroup` from the first page to the last, checking the
/// paging fields of every page; returns `id_field` of every member in the
/// order received and the number of pages.
async fn walk_group(run: &mut Run, path: &str, id_field: &str, paging: Paging) -> (Vec<String>, usize) {
    let mut seen: Vec<String> = Vec::new();
    let mut next: Option<(String, Vec<(String, String)>)> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "group/member pagination does not end");
        let (req_path, query) = next.take().unwrap_or_else(|| {
            let mut q = vec![("groupname".to_string(), GROUP.to_string())];
            if paging == Paging::StartAt {
                q.extend([("startAt".into(), seen.len().to_string()), ("maxResults".into(), "50".into())]);
            }
            (path.to_string(), q)
        });
        let page = run.call(Method::GET, &req_path, |r| r.query(&query), 200).await;
        let start = page["startAt"].as_u64().expect("startAt is an integer") as usize;
        assert_eq!(start, seen.len(), "page {pages} does not start where the previous one ended");
        let max = page["maxResults"].as_u64().expect("maxResults is an integer") as usize;
        assert!((1..=50).contains(&max), "maxResults {max} outside 1..=50");
        let values = page["values"].as_array().expect("values is an array");
        assert!(values.len() <= max, "page {pages} holds {} > maxResults {max}", values.len());
        assert_eq!(page["total"], EXTRA_MEMBERS + 1, "total");
        assert_link(run, &page["self"]);
        seen.extend(values.iter().map(|u| str_field(u, id_field).to_string()));
        let is_last = page["isLast"].as_bool().expect("isLast is a boolean");
        match page.get("nextPage") {
            Some(link) => {
                assert!(!is_last, "nextPage on a page with isLast=true");
                assert!(!values.is_empty(), "an empty page that is not the last");
                let url = assert_link(run, link);
                if paging == Paging::NextPage {
                    let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                    next = Some((url.path().to_string(), query));
                }
            }
            None => {
                assert!(is_last, "no nextPage but isLast=false");
                break;
            }
        }
    }
    (seen, pages)
}

/// Every member exactly once.
fn assert_members(seen: &[String], expected: &[String]) {
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a member came back twice");
    let mut seen = seen.to_vec();
    let mut expected = expected.to_vec();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn cloud_v3_people_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_group(GROUP);

    // findUsers: a bare array; `query` prefix-matches the email.
    let found = run
        .call(
            Method::GET,
            "/rest/api/3/user/search",
            |r| r.query(&[("query", "alice@example.test"), ("startAt", "0"), ("maxResults", "50")]),
            200,
        )
        .await;
    let found = found.as_array().expect("findUsers answers a bare array");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["accountId"], alice.as_str());
    assert_eq!(found[0]["emailAddress"], "alice@example.test");
    let nobody =
        run.call(Method::GET, "/rest/api/3/user/search", |r| r.query(&[("query", "nobody@example.test")]), 200).await;
    assert_eq!(nobody, json!([]));
    let no_query = run.call(Method::GET, "/rest/api/3/user/search", |r| r, 400).await;
    assert!(no_query["errorMessages"][0].is_string(), "{no_query}");

    // createUser with the body mailgate sends (`products: []`); an existing
    // user with Jira access is answered 201 with that user.
    let new_user = json!({"emailAddress": "bob@example.test", "products": []});
    let created = run.send_json(Method::POST, "/rest/api/3/user", new_user.clone(), 201).await;
    let bob = str_field(&created, "accountId").to_string();
    assert_eq!(created["emailAddress"], "bob@example.test");
    let again = run.send_json(Method::POST, "/rest/api/3/user", new_user, 201).await;
    assert_eq!(again["accountId"], bob.as_str());
    let bad = run
        .send_json(Method::POST, "/rest/api/3/user", json!({"emailAddress": "not-an-email", "products": []}), 400)
        .await;
    assert!(bad["errors"]["emailAddress"].is_string(), "{bad}");

    // addUserToGroup: 201 Group; 400 when already a member; 404 for an
    // unknown group or user.
    let group = run
        .send_json_query(
            Method::POST,
            "/rest/api/3/group/user",
            &[("groupname", GROUP)],
            json!({"accountId": bob}),
            201,
        )
        .await;
    assert_eq!(group["name"], GROUP);
    let dup = run
        .send_json_query(
            Method::POST,
            "/rest/api/3/group/user",
            &[("groupname", GROUP)],
            json!({"accountId": bob}),
            400,
        )
        .await;
    assert!(dup["errorMessages"][0].as_str().is_some_and(|m| m.contains("already")), "{dup}");
    run.send_json_query(
        Method::POST,
        "/rest/api/3/group/user",
        &[("groupname", "no-such-group")],
        json!({"accountId": bob}),
        404,
    )
    .await;
    run.send_json_query(
        Method::POST,
        "/rest/api/3/group/user",
        &[("groupname", GROUP)],
        json!({"accountId": "712020:no-such-user"}),
        404,
    )
    .await;

    // getUsersFromGroup: 121 members over three pages, following nextPage.
    let mut expected = vec![bob.clone()];
    expected.extend(fill_group(&run.fake, |id, _| id));
    let (seen, pages) = walk_group(&mut run, "/rest/api/3/group/member", "accountId", Paging::NextPage).await;
    assert_eq!(pages, 3, "121 members at 50 per page");
    assert_members(&seen, &expected);
    // The default page size is the spec's; larger requests are capped at 50.
    let first = run.call(Method::GET, "/rest/api/3/group/member", |r| r.query(&[("groupname", GROUP)]), 200).await;
    let default_max = run
        .spec
        .operation("GET", "/rest/api/3/group/member")
        .expect("getUsersFromGroup in the spec")
        .param_default("maxResults")
        .cloned();
    assert_eq!(Some(first["maxResults"].clone()), default_max);
    let capped = run
        .call(
            Method::GET,
            "/rest/api/3/group/member",
            |r| r.query(&[("groupname", GROUP), ("startAt", "100"), ("maxResults", "1000")]),
            200,
        )
        .await;
    assert_eq!(capped["maxResults"], 50);
    assert_eq!(capped["values"].as_array().map(Vec::len), Some(EXTRA_MEMBERS + 1 - 100));
    assert_eq!(capped["isLast"], true);
    run.call(Method::GET, "/rest/api/3/group/member", |r| r.query(&[("groupname", "no-such-group")]), 404).await;
    run.call(Method::GET, "/rest/api/3/group/member", |r| r, 400).await;

    // getMyPermissions, one permission denied.
    run.fake.deny_permissions(&["CREATE_ISSUES"]);
    let perms = run
        .call(
            Method::GET,
            "/rest/api/3/mypermissions",
            |r| r.query(&[("permissions", "BROWSE_PROJECTS,CREATE_ISSUES"), ("projectKey", "HELP")]),
            200,
        )
        .await;
    assert_eq!(perms["permissions"]["BROWSE_PROJECTS"]["havePermission"], true);
    assert_eq!(perms["permissions"]["CREATE_ISSUES"]["havePermission"], false);
    run.call(Method::GET, "/rest/api/3/mypermissions", |r| r.query(&[("projectKey", "HELP")]), 400).await;

    // addWatcher: the body is a bare JSON string (the accountId); 204.
    let key = run.fake.seed_issue("HELP", "Watch me");
    let watchers = format!("/rest/api/3/issue/{key}/watchers");
    run.send_json(Method::POST, &watchers, json!(alice), 204).await;
    assert_eq!(run.fake.issue(&key).map(|i| i.watchers), Some(vec![alice.clone()]));
    run.send_json(Method::POST, "/rest/api/3/issue/HELP-999/watchers", json!(alice), 404).await;
    run.send_json(Method::POST, &watchers, json!("712020:no-such-user"), 404).await;
    run.call(Method::POST, &watchers, |r| r.json(&json!({"accountId": alice})), 400).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsers", 200),
            ("findUsers", 400),
            ("createUser", 201),
            ("createUser", 400),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getUsersFromGroup", 400),
            ("getUsersFromGroup", 404),
            ("getMyPermissions", 200),
            ("getMyPermissions", 400),
            ("addWatcher", 204),
            ("addWatcher", 400),
            ("addWatcher", 404),
        ])
    );
}

#[tokio::test]
async fn jsm_answers_conform_to_the_jsm_spec() {
    let mut run = Run::start(jsm()).await;
    assert_eq!(run.spec.base_path, "", "JSM paths are written in full from /rest/servicedeskapi");
    run.fake.add_service_desk("1", "HELP");
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");

    // createCustomer with the body mailgate sends (Cloud: email + displayName).
    let strict = [("strictConflictStatusCode", "true")];
    let carol = run
        .send_json_query(
            Method::POST,
            "/rest/servicedeskapi/customer",
            &strict,
            json!({"email": "carol@customer.test", "displayName": "Carol Customer"}),
            201,
        )
        .await;
    let carol = str_field(&carol, "accountId").to_string();
    // Existing email: 409 with strictConflictStatusCode=true, 400 without.
    let conflict = run
        .send_json_query(
            Method::POST,
            "/rest/servicedeskapi/customer",
            &strict,
            json!({"email": "carol@customer.test", "displayName": "Carol Customer"}),
            409,
        )
        .await;
    assert!(conflict["errorMessage"].is_string(), "{conflict}");
    run.send_json(
        Method::POST,
        "/rest/servicedeskapi/customer",
        json!({"email": "carol@customer.test", "displayName": "Carol Customer"}),
        400,
    )
    .await;
    run.send_json_query(
        Method::POST,
        "/rest/servicedeskapi/customer",
        &strict,
        json!({"email": "not-an-email", "displayName": "Nobody"}),
        400,
    )
    .await;

    // addCustomers: 204; 404 for an unknown service desk; 400 when a
    // customer does not exist (the valid ones are still added).
    run.send_json(Method::POST, "/rest/servicedeskapi/servicedesk/1/customer", json!({"accountIds": [carol]}), 204)
        .await;
    run.send_json(Method::POST, "/rest/servicedeskapi/servicedesk/99/customer", json!({"accountIds": [carol]}), 404)
        .await;
    let dave = run.fake.add_user("dave@customer.test", "Dave");
    run.send_json(
        Method::POST,
        "/rest/servicedeskapi/servicedesk/1/customer",
        json!({"accountIds": [dave, "qm:no-such-customer"]}),
        400,
    )
    .await;
    let customers = run.fake.service_desks().into_iter().find(|d| d.id == "1").map(|d| d.customers);
    assert_eq!(customers, Some(vec![carol.clone(), dave.clone()]), "valid customers are added despite the 400");

    // createCustomerRequest with the body mailgate sends, on behalf of a
    // customer with a participant, and without (the caller is the reporter).
    let request = run
        .send_json(
            Method::POST,
            "/rest/servicedeskapi/request",
            json!({
                "serviceDeskId": "1",
                "requestTypeId": "10",
                "requestFieldValues": {"summary": "Printer on fire", "description": "Floor 3."},
                "raiseOnBehalfOf": carol,
                "requestParticipants": [alice]
            }),
            201,
        )
        .await;
    let key = str_field(&request, "issueKey").to_string();
    assert!(key.starts_with("HELP-"), "{request}");
    assert_eq!(request["reporter"]["accountId"], carol.as_str());
    assert_eq!(request["serviceDeskId"], "1");
    let own = run
        .send_json(
            Method::POST,
            "/rest/servicedeskapi/request",
            json!({
                "serviceDeskId": "1",
                "requestTypeId": "10",
                "requestFieldValues": {"summary": "Raised by the bot", "description": "No customer."}
            }),
            201,
        )
        .await;
    assert!(own["reporter"]["accountId"].is_string(), "{own}");
    let bad = run
        .send_json(
            Method::POST,
            "/rest/servicedeskapi/request",
            json!({"serviceDeskId": "99", "requestTypeId": "10", "requestFieldValues": {"summary": "Nowhere"}}),
            400,
        )
        .await;
    assert!(bad["errorMessage"].is_string(), "{bad}");

    // createRequestComment: public and internal; 400 without `public`;
    // 404 for an unknown request.
    let comments = format!("/rest/servicedeskapi/request/{key}/comment");
    let public = run.send_json(Method::POST, &comments, json!({"body": "We are on it.", "public": true}), 201).await;
    assert_eq!(public["public"], true);
    assert_eq!(public["body"], "We are on it.");
    let internal = run.send_json(Method::POST, &comments, json!({"body": "Agent note.", "public": false}), 201).await;
    assert_eq!(internal["public"], false);
    run.send_json(Method::POST, &comments, json!({"body": "Which audience?"}), 400).await;
    run.send_json(
        Method::POST,
        "/rest/servicedeskapi/request/HELP-999/comment",
        json!({"body": "x", "public": true}),
        404,
    )
    .await;

    // addRequestParticipants: 200 PagedDTOUserDTO; 400 unknown user; 404
    // unknown request.
    let participants = format!("/rest/servicedeskapi/request/{key}/participant");
    let added = run.send_json(Method::POST, &participants, json!({"accountIds": [dave]}), 200).await;
    assert_eq!(added["values"][0]["accountId"], dave.as_str());
    run.send_json(Method::POST, &participants, json!({"accountIds": ["qm:no-such-customer"]}), 400).await;
    run.send_json(
        Method::POST,
        "/rest/servicedeskapi/request/HELP-999/participant",
        json!({"accountIds": [dave]}),
        404,
    )
    .await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("createCustomer", 201),
            ("createCustomer", 400),
            ("createCustomer", 409),
            ("addCustomers", 204),
            ("addCustomers", 400),
            ("addCustomers", 404),
            ("createCustomerRequest", 201),
            ("createCustomerRequest", 400),
            ("createRequestComment", 201),
            ("createRequestComment", 400),
            ("createRequestComment", 404),
            ("addRequestParticipants", 200),
            ("addRequestParticipants", 400),
            ("addRequestParticipants", 404),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_people_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_group(GROUP);

    // findUsers: DC searches with `username` (username, name or email).
    let found = run
        .call(
            Method::GET,
            "/rest/api/2/user/search",
            |r| r.query(&[("username", "alice@example.test"), ("startAt", "0"), ("maxResults", "50")]),
            200,
        )
        .await;
    let found = found.as_array().expect("findUsers answers a bare array");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "alice@example.test");
    run.call(Method::GET, "/rest/api/2/user/search", |r| r, 400).await;

    // createUser with the body mailgate sends on DC; 400 when it exists.
    let new_user = json!({"name": "bob", "emailAddress": "bob@example.test", "displayName": "Bob Builder"});
    let created = run.send_json(Method::POST, "/rest/api/2/user", new_user.clone(), 201).await;
    assert_eq!(created["name"], "bob");
    let exists = run.send_json(Method::POST, "/rest/api/2/user", new_user, 400).await;
    assert!(exists["errors"].as_object().is_some_and(|e| !e.is_empty()), "{exists}");

    // addUserToGroup by username: 201; 400 already a member; 404 unknown group.
    let group = run
        .send_json_query(Method::POST, "/rest/api/2/group/user", &[("groupname", GROUP)], json!({"name": "bob"}), 201)
        .await;
    assert_eq!(group["name"], GROUP);
    run.send_json_query(Method::POST, "/rest/api/2/group/user", &[("groupname", GROUP)], json!({"name": "bob"}), 400)
        .await;
    run.send_json_query(
        Method::POST,
        "/rest/api/2/group/user",
        &[("groupname", "no-such-group")],
        json!({"name": "bob"}),
        404,
    )
    .await;

    // getUsersFromGroup: 121 members, read by startAt (as mailgate does)
    // and by nextPage.
    let mut expected = vec!["bob".to_string()];
    expected.extend(fill_group(&run.fake, |_, email| email));
    for paging in [Paging::StartAt, Paging::NextPage] {
        let (seen, pages) = walk_group(&mut run, "/rest/api/2/group/member", "name", paging).await;
        assert_eq!(pages, 3, "121 members at 50 per page");
        assert_members(&seen, &expected);
    }
    run.call(Method::GET, "/rest/api/2/group/member", |r| r.query(&[("groupname", "no-such-group")]), 404).await;
    // `groupname` is required by DC; leaving it out is off-spec on purpose.
    run.call_off_spec(Method::GET, "/rest/api/2/group/member", |r| r, 400).await;

    // addWatcher by username.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.send_json(Method::POST, &format!("/rest/api/2/issue/{key}/watchers"), json!("bob"), 204).await;
    assert_eq!(run.fake.issue(&key).map(|i| i.watchers), Some(vec!["bob".to_string()]));
    run.send_json(Method::POST, "/rest/api/2/issue/HELP-999/watchers", json!("bob"), 404).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsers", 200),
            ("findUsers", 400),
            ("createUser", 201),
            ("createUser", 400),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getUsersFromGroup", 400),
            ("getUsersFromGroup", 404),
            ("addWatcher_1", 204),
            ("addWatcher_1", 404),
        ])
    );
}

// ---------------------------------------------------------------------------
// Watchers, project roles, single users and the catch-up search
// ---------------------------------------------------------------------------

/// The fields mailgate's notification catch-up asks the search for
/// (`src/notify/catchup.rs`).
const CATCH_UP_FIELDS: &[&str] =
    &["summary", "status", "project", "reporter", "assignee", "created", "updated", "comment"];

/// A JQL date (`yyyy/MM/dd HH:mm`, as the catch-up writes it) `hours` from now.
fn jql_time_from_now(hours: i64) -> String {
    use mailgate::clock::Clock;
    // The fake stamps issues with the system clock too.
    (mailgate::clock::SystemClock.now() + chrono::Duration::hours(hours)).format("%Y/%m/%d %H:%M").to_string()
}

/// The catch-up's JQL: everything updated since `hours` from now.
fn catch_up_jql(hours: i64) -> String {
    format!("updated >= \"{}\" ORDER BY updated ASC", jql_time_from_now(hours))
}

/// Both specs leave `IssueBean.fields` free-form (any value per field id;
/// DC after the override above), so no schema reaches inside it. The fields
/// the catch-up requests are held here to the component schema the spec
/// uses for that field elsewhere: the status, project, user and comment-page
/// schemas; `assignee` may be null (unassigned).
fn catch_up_field_schemas(spec: &Spec) -> Vec<(&'static str, Value)> {
    let (status, project, user, comments) = if std::ptr::eq(spec, cloud_v3()) {
        ("StatusDetails", "ProjectDetails", "UserDetails", "PageOfComments")
    } else {
        ("StatusJsonBean", "ProjectJsonBean", "UserJsonBean", "CommentsWithPaginationJsonBean")
    };
    let component = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let time = json!({"type": "string", "format": "date-time"});
    vec![
        ("summary", json!({"type": "string"})),
        ("status", component(status)),
        ("project", component(project)),
        ("reporter", component(user)),
        ("assignee", json!({"nullable": true, "allOf": [component(user)]})),
        ("created", time.clone()),
        ("updated", time),
        ("comment", component(comments)),
    ]
}

/// Hand-check the `fields` of one search hit that asked for `CATCH_UP_FIELDS`:
/// exactly the requested fields are present, each matches its component
/// schema, timestamps are Jira's, and the comment page is a page of comments.
fn assert_catch_up_fields(spec: &Spec, issue: &Value) {
    assert_eq!(
        spec.doc.pointer("/components/schemas/IssueBean/properties/fields/additionalProperties"),
        Some(&json!({})),
        "{}: IssueBean.fields is typed now; validate it with the spec instead of by hand",
        spec.label
    );
    let key = str_field(issue, "key");
    let fields = issue["fields"].as_object().unwrap_or_else(|| panic!("{key}: `fields` is not an object: {issue}"));
    let got: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = CATCH_UP_FIELDS.iter().copied().collect();
    assert_eq!(got, wanted, "{key}: the search must answer exactly the requested fields");
    let v = spec.validator();
    for (name, schema) in catch_up_field_schemas(spec) {
        let errors = v.validate(&schema, &fields[name]);
        assert!(
            errors.is_empty(),
            "{}: {key} field `{name}` does not match {}:\n  {}\nvalue: {:#}",
            spec.label,
            schema_label(&schema),
            errors.join("\n  "),
            fields[name]
        );
    }
    let jira_time =
        |s: &Value| s.as_str().is_some_and(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok());
    for name in ["created", "updated"] {
        assert!(jira_time(&fields[name]), "{key}: `{name}` is not a Jira timestamp: {}", fields[name]);
    }
    assert!(fields["summary"].as_str().is_some_and(|s| !s.is_empty()), "{key}: empty summary");
    assert!(fields["status"]["name"].is_string(), "{key}: status without a name: {}", fields["status"]);
    assert!(fields["project"]["key"].is_string(), "{key}: project without a key: {}", fields["project"]);
    let page = &fields["comment"];
    let comments = page["comments"].as_array().unwrap_or_else(|| panic!("{key}: no comments array: {page}"));
    assert_eq!(page["total"].as_u64(), Some(comments.len() as u64), "{key}: comment total");
    for c in comments {
        assert!(c["id"].is_string() && jira_time(&c["created"]) && jira_time(&c["updated"]), "{key}: comment {c}");
    }
}

#[tokio::test]
async fn cloud_v3_watchers_roles_users_and_search_fields_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    let bob = run.fake.add_user("bob@example.test", "Bob Builder");
    run.fake.add_group(GROUP);

    // getIssueWatchers: `Watchers` with UserDetails entries.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.fake.add_watcher(&key, &alice);
    run.fake.add_watcher(&key, &bob);
    let watchers = run.call(Method::GET, &format!("/rest/api/3/issue/{key}/watchers"), |r| r, 200).await;
    assert_eq!(watchers["watchCount"], 2);
    assert!(watchers["isWatching"].is_boolean(), "{watchers}");
    assert_link(&run, &watchers["self"]);
    let ids: Vec<&str> =
        watchers["watchers"].as_array().expect("watchers array").iter().map(|u| str_field(u, "accountId")).collect();
    assert_eq!(ids, vec![alice.as_str(), bob.as_str()]);
    assert_eq!(watchers["watchers"][0]["emailAddress"], "alice@example.test");
    let quiet = run.fake.seed_issue("HELP", "Nobody watches");
    let none = run.call(Method::GET, &format!("/rest/api/3/issue/{quiet}/watchers"), |r| r, 200).await;
    assert_eq!((none["watchCount"].clone(), none["watchers"].clone()), (json!(0), json!([])));
    run.call(Method::GET, "/rest/api/3/issue/HELP-999/watchers", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, &format!("/rest/api/3/issue/{key}/watchers"), |r| r, 401).await;

    // getProjectRoles: role name -> URL of the role; getProjectRole: actors.
    run.fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    run.fake.add_role("HELP", "Administrators", &[&bob], &[]);
    let roles = run.call(Method::GET, "/rest/api/3/project/HELP/role", |r| r, 200).await;
    let roles = roles.as_object().expect("getProjectRoles answers an object");
    assert_eq!(roles.keys().collect::<Vec<_>>(), vec!["Administrators", "Developers"]);
    let developers = assert_link(&run, &roles["Developers"]);
    let role_id = developers.path().rsplit('/').next().unwrap_or_default().to_string();
    assert!(role_id.parse::<i64>().is_ok(), "role URL {developers} does not end in an integer id");
    assert_eq!(developers.path(), format!("/rest/api/3/project/HELP/role/{role_id}"));
    run.call(Method::GET, "/rest/api/3/project/NOPE/role", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/3/project/HELP/role", |r| r, 401).await;

    let role = run.call(Method::GET, developers.path(), |r| r, 200).await;
    assert_eq!(role["name"], "Developers");
    assert_eq!(role["id"].as_i64().map(|id| id.to_string()), Some(role_id.clone()));
    assert_link(&run, &role["self"]);
    let actors = role["actors"].as_array().expect("actors array");
    assert_eq!(actors.len(), 2, "{role}");
    let user_actor = actors.iter().find(|a| a["type"] == "atlassian-user-role-actor").expect("a user actor");
    assert_eq!(user_actor["actorUser"]["accountId"], alice.as_str());
    assert_eq!(user_actor["displayName"], "Alice Liddell");
    let group_actor = actors.iter().find(|a| a["type"] == "atlassian-group-role-actor").expect("a group actor");
    assert_eq!(group_actor["actorGroup"]["name"], GROUP);
    run.call(Method::GET, "/rest/api/3/project/HELP/role/99999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, developers.path(), |r| r, 401).await;

    // getUser by accountId: `User`; 404 for an unknown account.
    let user = run.call(Method::GET, "/rest/api/3/user", |r| r.query(&[("accountId", alice.as_str())]), 200).await;
    assert_eq!(user["accountId"], alice.as_str());
    assert_eq!(user["emailAddress"], "alice@example.test");
    let missing =
        run.call(Method::GET, "/rest/api/3/user", |r| r.query(&[("accountId", "712020:no-such-user")]), 404).await;
    assert!(missing["errorMessages"][0].is_string(), "{missing}");
    run.call_with(
        "wrong-password",
        Method::GET,
        "/rest/api/3/user",
        |r| r.query(&[("accountId", alice.as_str())]),
        401,
    )
    .await;

    // search/jql with the catch-up's JQL and field list. A comment makes the
    // comment page non-empty; an assignee-less issue answers `assignee: null`.
    run.send_json(Method::POST, &format!("/rest/api/3/issue/{key}/comment"), json!({"body": adf("Seen.")}), 201).await;
    let fields = CATCH_UP_FIELDS.join(",");
    let jql = catch_up_jql(-1);
    let page = run
        .call(
            Method::GET,
            "/rest/api/3/search/jql",
            |r| r.query(&[("jql", jql.as_str()), ("maxResults", "100"), ("fields", fields.as_str())]),
            200,
        )
        .await;
    assert_eq!(page["isLast"], true);
    let issues = page["issues"].as_array().expect("issues array");
    let mut keys: Vec<&str> = issues.iter().map(|i| str_field(i, "key")).collect();
    keys.sort();
    assert_eq!(keys, vec![key.as_str(), quiet.as_str()], "both issues were updated in the last hour");
    for issue in issues {
        assert_catch_up_fields(run.spec, issue);
    }
    let watched = issues.iter().find(|i| i["key"] == key.as_str()).expect("the watched issue");
    assert_eq!(watched["fields"]["comment"]["total"], 1);
    assert_eq!(watched["fields"]["comment"]["comments"][0]["body"], adf("Seen."));
    assert_eq!(watched["fields"]["assignee"], Value::Null);
    println!(
        "hand-checked search/jql fields {CATCH_UP_FIELDS:?} of {} issues against Cloud v3 components",
        issues.len()
    );

    // `*all` answers every field, the requested ones among them.
    let all = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", jql.as_str()), ("fields", "*all")]), 200)
        .await;
    let all_fields = all["issues"][0]["fields"].as_object().expect("fields");
    for f in CATCH_UP_FIELDS.iter().chain(&["description", "issuetype", "labels", "attachment"]) {
        assert!(all_fields.contains_key(*f), "`*all` lacks `{f}`: {:?}", all_fields.keys().collect::<Vec<_>>());
    }
    // Nothing updated in the future; an invalid date is a JQL error.
    let future = catch_up_jql(24);
    let empty = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", future.as_str()), ("fields", "key")]), 200)
        .await;
    assert_eq!((empty["issues"].clone(), empty["isLast"].clone()), (json!([]), json!(true)));
    assert!(empty.get("nextPageToken").is_none(), "{empty}");
    let bad = run
        .call(
            Method::GET,
            "/rest/api/3/search/jql",
            |r| r.query(&[("jql", "updated >= \"yesterday-ish\""), ("fields", "key")]),
            400,
        )
        .await;
    assert!(bad["errorMessages"][0].is_string(), "{bad}");
    run.call_with("wrong-password", Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", jql.as_str())]), 401)
        .await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 401),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 401),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getProjectRole", 401),
            ("getProjectRole", 404),
            ("getUser", 200),
            ("getUser", 401),
            ("getUser", 404),
            ("addComment", 201),
            ("searchAndReconsileIssuesUsingJql", 200),
            ("searchAndReconsileIssuesUsingJql", 400),
            ("searchAndReconsileIssuesUsingJql", 401),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_watchers_roles_users_and_search_fields_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_user("bob@example.test", "Bob Builder");
    run.fake.add_group(GROUP);

    // getIssueWatchers: DC watchers are users named by username.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.fake.add_watcher(&key, "alice@example.test");
    run.fake.add_watcher(&key, "bob@example.test");
    let watchers = run.call(Method::GET, &format!("/rest/api/2/issue/{key}/watchers"), |r| r, 200).await;
    assert_eq!(watchers["watchCount"], 2);
    let names: Vec<&str> =
        watchers["watchers"].as_array().expect("watchers array").iter().map(|u| str_field(u, "name")).collect();
    assert_eq!(names, vec!["alice@example.test", "bob@example.test"]);
    run.call(Method::GET, "/rest/api/2/issue/HELP-999/watchers", |r| r, 404).await;

    // getProjectRoles / getProjectRole: DC role actors carry no account id;
    // a user actor is named by its username.
    run.fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    let roles = run.call(Method::GET, "/rest/api/2/project/HELP/role", |r| r, 200).await;
    let developers = assert_link(&run, &roles["Developers"]);
    assert!(developers.path().starts_with("/rest/api/2/project/HELP/role/"), "{developers}");
    run.call(Method::GET, "/rest/api/2/project/NOPE/role", |r| r, 404).await;
    let role = run.call(Method::GET, developers.path(), |r| r, 200).await;
    assert_eq!(role["name"], "Developers");
    let actors = role["actors"].as_array().expect("actors array");
    let user_actor = actors.iter().find(|a| a["type"] == "atlassian-user-role-actor").expect("a user actor");
    assert_eq!(user_actor["name"], "alice@example.test");
    assert!(user_actor.get("actorUser").is_none(), "Data Center has no account ids: {user_actor}");
    assert!(actors.iter().any(|a| a["type"] == "atlassian-group-role-actor" && a["name"] == GROUP), "{role}");
    run.call(Method::GET, "/rest/api/2/project/HELP/role/99999", |r| r, 404).await;

    // getUser by username (DC has no accountId parameter).
    let user = run.call(Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "alice@example.test")]), 200).await;
    assert_eq!(user["name"], "alice@example.test");
    assert_eq!(user["emailAddress"], "alice@example.test");
    run.call(Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "nobody")]), 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "nobody")]), 401).await;

    // search with the catch-up's JQL and field list (comment bodies are strings).
    run.send_json(Method::POST, &format!("/rest/api/2/issue/{key}/comment"), json!({"body": "Seen."}), 201).await;
    let fields = CATCH_UP_FIELDS.join(",");
    let jql = catch_up_jql(-1);
    let page = run
        .call(
            Method::GET,
            "/rest/api/2/search",
            |r| r.query(&[("jql", jql.as_str()), ("startAt", "0"), ("maxResults", "100"), ("fields", fields.as_str())]),
            200,
        )
        .await;
    assert_eq!(page["total"], 1);
    let issue = &page["issues"][0];
    assert_eq!(issue["key"], key.as_str());
    assert_catch_up_fields(run.spec, issue);
    assert_eq!(issue["fields"]["comment"]["comments"][0]["body"], "Seen.");
    println!("hand-checked search fields {CATCH_UP_FIELDS:?} against DC 10.3 components");
    let future = catch_up_jql(24);
    let empty = run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", future.as_str())]), 200).await;
    assert_eq!((empty["total"].clone(), empty["issues"].clone()), (json!(0), json!([])));
    run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", "updated >= \"soon\"")]), 400).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getProjectRole", 404),
            ("getUser_1", 200),
            ("getUser_1", 401),
            ("getUser_1", 404),
            ("addComment", 201),
            ("search_1", 200),
            ("search_1", 400),
        ])
    );
}

// ---------------------------------------------------------------------------
// mailgate's own client, recorded on the wire
// ---------------------------------------------------------------------------

/// One HTTP exchange between mailgate's client and the fake.
struct Exchange {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    request_type: Option<String>,
    request_body: Vec<u8>,
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Exchange {
    /// Check the request mailgate built (operation, query string, JSON body
    /// against the request schema) and the fake's answer, against the spec
    /// for the path (`spec_for`).
    fn check(&self) -> Result<Checked, String> {
        let spec = spec_for(&self.path);
        let op = spec.operation(&self.method, &self.path)?;
        op.check_query(&self.query)?;
        if self.request_body.is_empty() {
            if op.op["requestBody"]["required"] == true {
                return Err(format!("{} {}: the spec requires a request body, none sent", self.method, self.path));
            }
        } else {
            let media = self.request_type.as_deref().map(media_type);
            if media.as_deref() != Some("application/json") {
                return Err(format!("{} {}: request body sent as {media:?}", self.method, self.path));
            }
            let body: Value = serde_json::from_slice(&self.request_body)
                .map_err(|e| format!("{} {}: request body is not JSON: {e}", self.method, self.path))?;
            op.check_request(&body)?;
        }
        let answer = if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body)
                .map_err(|e| format!("{} {}: {} answer is not JSON: {e}", self.method, self.path, self.status))?
        };
        op.check_response(self.status, self.content_type.as_deref(), &answer)
    }
}

/// A pass-through proxy in front of the fake that records every exchange,
/// so the requests mailgate's client really builds are what gets checked.
struct Recorder {
    base_url: String,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl Recorder {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the recording proxy");
        let base_url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let log: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let (shared, http) = (log.clone(), reqwest::Client::new());
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (log, http, target) = (shared.clone(), http.clone(), target.clone());
            async move {
                let mut forward = http.request(method.clone(), format!("{target}{uri}"));
                for (name, value) in &headers {
                    if name != HOST && name != CONTENT_LENGTH {
                        forward = forward.header(name, value);
                    }
                }
                let resp = forward.body(body.to_vec()).send().await.expect("forward to the fake");
                let status = resp.status();
                let content_type = resp.headers().get(CONTENT_TYPE).cloned();
                let answer = resp.bytes().await.expect("read the fake's answer");
                let text = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
                let query = reqwest::Url::parse(&format!("{target}{uri}"))
                    .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
                    .unwrap_or_default();
                log.lock().unwrap_or_else(|p| p.into_inner()).push(Exchange {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    query,
                    request_type: text(headers.get(CONTENT_TYPE)),
                    request_body: body.to_vec(),
                    status: status.as_u16(),
                    content_type: text(content_type.as_ref()),
                    body: answer.to_vec(),
                });
                let mut out = axum::response::Response::new(axum::body::Body::from(answer));
                *out.status_mut() = status;
                if let Some(ct) = content_type {
                    out.headers_mut().insert(CONTENT_TYPE, ct);
                }
                out
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url, log }
    }

    /// The client, pointed at the proxy.
    fn client(&self, flavor: JiraFlavor) -> HttpJira {
        let settings = JiraSettings {
            flavor,
            base_url: self.base_url.clone(),
            auth: JiraAuth::Basic { user: USER.into(), secret: SecretString::from(SECRET) },
            timeout_secs: 10,
            max_retries: 0,
            default_reporter: None,
            max_requests_per_sec: 1000.0,
        };
        HttpJira::new(&settings).expect("build mailgate's Jira client")
    }

    /// Check every recorded exchange; returns what was covered.
    fn check_all(&self) -> BTreeSet<(String, u16)> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        assert!(!log.is_empty(), "the client made no calls");
        let mut covered = BTreeSet::new();
        for x in log.iter() {
            let checked = x.check().unwrap_or_else(|e| panic!("mailgate's client, {} {}: {e}", x.method, x.path));
            println!("validated client call {}", checked.line);
            covered.insert((checked.operation_id, checked.status));
        }
        covered
    }
}

#[tokio::test]
async fn mailgate_cloud_client_requests_conform_to_the_cloud_and_jsm_specs() {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    let recorder = Recorder::start(fake.base_url()).await;
    let jira = recorder.client(JiraFlavor::Cloud);
    let alice = fake.add_user("alice@example.test", "Alice Liddell");
    fake.add_group(GROUP);
    fake.add_service_desk("1", "HELP");
    fake.deny_permissions(&["CREATE_ISSUES"]);

    let found = jira.find_user_by_email("alice@example.test").await.expect("find alice");
    assert_eq!(found.and_then(|u| u.account_id), Some(alice.clone()));
    assert_eq!(jira.find_user_by_email("nobody@example.test").await.expect("search"), None);

    let bob = IdentityApi::create_user(&jira, "bob@example.test", "Bob Builder").await.expect("create bob");
    assert!(bob.account_id.is_some(), "{bob:?}");
    jira.add_user_to_group(&bob, GROUP).await.expect("add bob to the group");
    jira.add_user_to_group(&bob, GROUP).await.expect("already a member is success");
    assert!(matches!(jira.add_user_to_group(&bob, "no-such-group").await, Err(JiraError::NotFound(_))));

    let mut expected = vec!["bob@example.test".to_string()];
    expected.extend(fill_group(&fake, |_, email| email));
    let emails = jira.group_member_emails(GROUP).await.expect("group members");
    assert_members(&emails, &expected);

    let perms = jira.my_permissions(Some("HELP"), &["BROWSE_PROJECTS", "CREATE_ISSUES"]).await.expect("perms");
    assert_eq!(perms, vec![("BROWSE_PROJECTS".to_string(), true), ("CREATE_ISSUES".to_string(), false)]);

    let carol = jira.create_customer("carol@customer.test", "Carol Customer").await.expect("create carol");
    let again = jira.create_customer("carol@customer.test", "Carol Customer").await.expect("409, then found");
    assert_eq!(again.account_id, carol.account_id);
    jira.add_customer_to_service_desk("1", &carol).await.expect("add carol to the service desk");
    let carol_id = carol.account_id.clone().expect("carol's accountId");

    let request = NewRequest {
        service_desk: "1".into(),
        request_type: "10".into(),
        summary: "Printer on fire".into(),
        description: "Floor 3.".into(),
        on_behalf_of: Some(carol_id.clone()),
        participants: vec![alice.clone()],
    };
    let created = jira.create_request(&request).await.expect("create the request");
    let own = NewRequest { on_behalf_of: None, participants: Vec::new(), ..request };
    jira.create_request(&own).await.expect("create a request as the caller");
    jira.add_request_comment(&created.key, "We are on it.", true).await.expect("public comment");
    jira.add_request_comment(&created.key, "Agent note.", false).await.expect("internal comment");
    jira.add_watcher(&created.key, &alice).await.expect("add a watcher");
    jira.add_request_participants(&created.key, &[carol_id]).await.expect("add a participant");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("findUsers", 200),
            ("createUser", 201),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getMyPermissions", 200),
            ("createCustomer", 201),
            ("createCustomer", 409),
            ("addCustomers", 204),
            ("createCustomerRequest", 201),
            ("createRequestComment", 201),
            ("addWatcher", 204),
            ("addRequestParticipants", 200),
        ])
    );
    assert_eq!(fake.count_calls("GET /rest/api/3/group/member"), 3, "121 members in pages of 50");
}

#[tokio::test]
async fn mailgate_data_center_client_requests_conform_to_the_dc_spec() {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    let recorder = Recorder::start(fake.base_url()).await;
    let jira = recorder.client(JiraFlavor::Datacenter);
    fake.add_user("alice@example.test", "Alice Liddell");
    fake.add_group(GROUP);

    let found = jira.find_user_by_email("alice@example.test").await.expect("find alice");
    assert_eq!(found.and_then(|u| u.name), Some("alice@example.test".to_string()));
    let bob = IdentityApi::create_user(&jira, "bob@example.test", "Bob Builder").await.expect("create bob");
    assert_eq!(bob.name.as_deref(), Some("bob@example.test"));
    jira.add_user_to_group(&bob, GROUP).await.expect("add bob to the group");
    jira.add_user_to_group(&bob, GROUP).await.expect("already a member is success");

    let mut expected = vec!["bob@example.test".to_string()];
    expected.extend(fill_group(&fake, |_, email| email));
    let emails = jira.group_member_emails(GROUP).await.expect("group members");
    assert_members(&emails, &expected);

    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    jira.add_watcher(&key, "bob@example.test").await.expect("add a watcher");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("findUsers", 200),
            ("createUser", 201),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("getUsersFromGroup", 200),
            ("addWatcher_1", 204),
        ])
    );
    assert_eq!(fake.count_calls("GET /rest/api/2/group/member"), 3, "121 members in pages of 50");
}

/// Issues in HELP so that the catch-up search spans two pages of 100.
const SEARCH_ISSUES: usize = 120;

#[tokio::test]
async fn mailgate_cloud_client_watchers_roles_and_catch_up_search_conform_to_the_cloud_spec() {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    let recorder = Recorder::start(fake.base_url()).await;
    let jira = recorder.client(JiraFlavor::Cloud);
    let alice = fake.add_user("alice@example.test", "Alice Liddell");
    let bob = fake.add_user("bob@example.test", "Bob Builder");
    fake.add_group(GROUP);

    // JiraApi::watchers: getIssueWatchers; unknown issue -> NotFound.
    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    fake.add_watcher(key.as_ref(), &alice);
    fake.add_watcher(key.as_ref(), &bob);
    let watchers = jira.watchers(&key).await.expect("watchers");
    let ids: Vec<Option<String>> = watchers.iter().map(|u| u.account_id.clone()).collect();
    assert_eq!(ids, vec![Some(alice.clone()), Some(bob.clone())]);
    assert_eq!(watchers[0].email.as_deref(), Some("alice@example.test"));
    let missing = IssueKey::parse("HELP-999").expect("issue key");
    assert!(matches!(jira.watchers(&missing).await, Err(JiraError::NotFound(_))));

    // IdentityApi::role_actors: getProjectRoles, getProjectRole, then getUser
    // per user actor (accountId) for the email; groups by name.
    fake.add_role("HELP", "Developers", &[&alice, &bob], &[GROUP]);
    let (emails, groups) = jira.role_actors("HELP", "developers").await.expect("role actors");
    assert_eq!(emails, vec!["alice@example.test".to_string(), "bob@example.test".to_string()]);
    assert_eq!(groups, vec![GROUP.to_string()]);
    assert!(matches!(jira.role_actors("HELP", "Testers").await, Err(JiraError::NotFound(_))));
    assert!(matches!(jira.role_actors("NOPE", "Developers").await, Err(JiraError::NotFound(_))));

    // JiraApi::search_issues as the catch-up calls it, over two pages.
    jira.add_comment(&key, "A comment the catch-up must see.", None).await.expect("comment");
    for n in 1..SEARCH_ISSUES {
        fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let issues = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 1000).await.expect("search");
    assert_eq!(issues.len(), SEARCH_ISSUES);
    let unique: BTreeSet<&str> = issues.iter().map(|i| str_field(i, "key")).collect();
    assert_eq!(unique.len(), SEARCH_ISSUES, "an issue came back twice");
    for issue in &issues {
        assert_catch_up_fields(cloud_v3(), issue);
    }
    let commented = issues.iter().find(|i| i["key"] == key.to_string()).expect("the commented issue");
    assert_eq!(commented["fields"]["comment"]["total"], 1);
    assert_eq!(fake.count_calls("GET /rest/api/3/search/jql"), 2, "120 issues in pages of 100");
    let capped = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 10).await.expect("bounded search");
    assert_eq!(capped.len(), 10);

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getUser", 200),
            ("addComment", 201),
            ("searchAndReconsileIssuesUsingJql", 200),
        ])
    );
}

#[tokio::test]
async fn mailgate_data_center_client_watchers_roles_and_catch_up_search_conform_to_the_dc_spec() {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    let recorder = Recorder::start(fake.base_url()).await;
    let jira = recorder.client(JiraFlavor::Datacenter);
    let alice = fake.add_user("alice@example.test", "Alice Liddell");
    fake.add_group(GROUP);

    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    fake.add_watcher(key.as_ref(), "alice@example.test");
    let watchers = jira.watchers(&key).await.expect("watchers");
    assert_eq!(watchers.len(), 1);
    assert_eq!(watchers[0].name.as_deref(), Some("alice@example.test"));
    assert_eq!(watchers[0].email.as_deref(), Some("alice@example.test"));
    let missing = IssueKey::parse("HELP-999").expect("issue key");
    assert!(matches!(jira.watchers(&missing).await, Err(JiraError::NotFound(_))));

    // role_actors on DC: the user actor is looked up by username.
    fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    let (emails, groups) = jira.role_actors("HELP", "Developers").await.expect("role actors");
    assert_eq!(emails, vec!["alice@example.test".to_string()]);
    assert_eq!(groups, vec![GROUP.to_string()]);
    assert!(matches!(jira.role_actors("NOPE", "Developers").await, Err(JiraError::NotFound(_))));

    jira.add_comment(&key, "A comment the catch-up must see.", None).await.expect("comment");
    for n in 1..SEARCH_ISSUES {
        fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let issues = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 1000).await.expect("search");
    assert_eq!(issues.len(), SEARCH_ISSUES);
    let unique: BTreeSet<&str> = issues.iter().map(|i| str_field(i, "key")).collect();
    assert_eq!(unique.len(), SEARCH_ISSUES, "an issue came back twice");
    for issue in &issues {
        assert_catch_up_fields(data_center(), issue);
    }
    assert_eq!(fake.count_calls("GET /rest/api/2/search"), 2, "120 issues in pages of 100");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getUser_1", 200),
            ("addComment", 201),
            ("search_1", 200),
        ])
    );
}

// ---------------------------------------------------------------------------
// The validator and the lookup must reject wrong shapes (no vacuous passes)
// ---------------------------------------------------------------------------

fn assert_rejects(errors: &[String], path_fragment: &str) {
    assert!(
        errors.iter().any(|e| e.starts_with(path_fragment)),
        "expected an error at {path_fragment}, got {errors:?}"
    );
}

#[test]
fn validator_rejects_wrong_shapes_from_the_spec() {
    let spec = cloud_v3();
    let create = spec.operation("POST", "/rest/api/3/issue").expect("createIssue in the spec");
    assert_eq!(create.id(), "createIssue");
    let schema = &create.op["responses"]["201"]["content"]["application/json"]["schema"];
    let v = spec.validator();

    // The spec's own example and a minimal answer pass.
    let example: Value = serde_json::from_str(
        create.op["responses"]["201"]["content"]["application/json"]["example"]
            .as_str()
            .expect("createIssue 201 example"),
    )
    .expect("example is JSON");
    assert_eq!(v.validate(schema, &example), Vec::<String>::new());
    let good = json!({"id": "10000", "key": "ED-24", "self": "https://x/rest/api/3/issue/10000"});
    assert_eq!(v.validate(schema, &good), Vec::<String>::new());

    // Wrong types, an unknown property, a nested wrong type.
    assert_rejects(&v.validate(schema, &json!({"id": "10000", "key": 24})), "$.key:");
    assert_rejects(&v.validate(schema, &json!({"id": 10000, "key": "ED-24"})), "$.id:");
    assert_rejects(&v.validate(schema, &json!({"id": "1", "key": "ED-1", "total": 1})), "$.total:");
    assert_rejects(
        &v.validate(schema, &json!({"id": "1", "key": "ED-1", "transition": {"status": "200"}})),
        "$.transition.status:",
    );
    assert_rejects(&v.validate(schema, &json!([good])), "$:");
    // Missing `key` is not a schema error: the spec's CreatedIssue has no
    // `required` list, which is why the conformance test checks `key` itself.
    assert!(spec.doc["components"]["schemas"]["CreatedIssue"]["required"].is_null());

    // check_response: a body missing `key` with a wrong-typed `id` fails.
    let err =
        create.check_response(201, Some("application/json"), &json!({"id": 1})).expect_err("wrong id type must fail");
    assert!(err.contains("$.id"), "{err}");

    // Search results: `total` is not part of SearchAndReconcileResults, and a
    // wrong type deep inside an issue is reported with its path.
    let search = spec.operation("GET", "/rest/api/3/search/jql").expect("search/jql in the spec");
    let err = search
        .check_response(
            200,
            Some("application/json"),
            &json!({"issues": [{"id": "1", "key": "A-1"}, {"id": "2", "key": 2}], "isLast": "yes", "total": 2}),
        )
        .expect_err("bad search body must fail");
    for p in ["$.issues[1].key", "$.isLast", "$.total"] {
        assert!(err.contains(p), "missing error at {p}: {err}");
    }

    // Undeclared status, undeclared media type, error body with a foreign shape.
    let err =
        create.check_response(200, Some("application/json"), &good).expect_err("createIssue does not declare 200");
    assert!(err.contains("declares only"), "{err}");
    assert!(create.check_response(201, Some("text/html"), &good).is_err());
    let get_issue = spec.operation("GET", "/rest/api/3/issue/HELP-1").expect("getIssue in the spec");
    assert_eq!(get_issue.id(), "getIssue");
    let err = get_issue
        .check_response(404, Some("application/json"), &json!({"message": "nope"}))
        .expect_err("a 404 body that is not an ErrorCollection must fail");
    assert!(err.contains("$.message"), "{err}");
    let err = get_issue
        .check_response(404, Some("application/json"), &json!({"errorMessages": ["x"], "errors": {"key": 1}}))
        .expect_err("ErrorCollection.errors values are strings");
    assert!(err.contains("$.errors.key"), "{err}");

    // Path lookup: literal segments beat templates; unknown paths fail.
    assert_eq!(spec.operation("GET", "/rest/api/3/issue/HELP-1/comment").expect("getComments").id(), "getComments");
    assert!(spec.operation("GET", "/rest/api/3/no/such/thing").is_err());
    assert!(spec.operation("DELETE", "/rest/api/3/myself").is_err());
}

#[test]
fn validator_handles_every_supported_keyword() {
    let doc = json!({"components": {"schemas": {
        "Leaf": {"type": "object", "required": ["name"], "additionalProperties": false,
                 "properties": {"name": {"type": "string"},
                                "kind": {"type": "string", "enum": ["a", "b"]},
                                "note": {"type": "string", "nullable": true}}},
        "Tree": {"type": "object",
                 "properties": {"leaves": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}},
                                "count": {"type": "integer"},
                                "ratio": {"type": "number"},
                                "ok": {"type": "boolean"},
                                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                                "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                                "both": {"allOf": [{"$ref": "#/components/schemas/Leaf"},
                                                   {"type": "object", "properties": {"kind": {"enum": ["a"]}}}]},
                                "broken": {"$ref": "#/components/schemas/Missing"}}}
    }}});
    let v = Validator::new(&doc);
    let tree = json!({"$ref": "#/components/schemas/Tree"});
    let good = json!({
        "leaves": [{"name": "x", "kind": "a", "note": null}, {"name": "y"}],
        "count": 3, "ratio": 0.5, "ok": true, "tags": {"t": "v"},
        "either": 7, "any": false, "both": {"name": "z", "kind": "a"},
        "extra": "allowed: Tree has no additionalProperties"
    });
    assert_eq!(v.validate(&tree, &good), Vec::<String>::new());

    let cases = [
        (json!({"leaves": [{"name": "x"}, {}]}), "$.leaves[1]: missing required property `name`"),
        (json!({"leaves": [{"name": "x", "colour": "red"}]}), "$.leaves[0].colour:"),
        (json!({"leaves": [{"name": "x", "kind": "c"}]}), "$.leaves[0].kind:"),
        (json!({"leaves": [{"name": null}]}), "$.leaves[0].name: expected string, found null"),
        (json!({"leaves": {"name": "x"}}), "$.leaves: expected array"),
        (json!({"count": 1.5}), "$.count: expected integer"),
        (json!({"ratio": "1"}), "$.ratio: expected number"),
        (json!({"ok": 1}), "$.ok: expected boolean"),
        (json!({"tags": {"t": 1}}), "$.tags.t:"),
        (json!({"tags": {"16x16": 1}}), "$.tags[\"16x16\"]:"),
        (json!({"either": true}), "$.either: must match exactly one oneOf"),
        (json!({"any": 1}), "$.any: matches none"),
        (json!({"both": {"name": "z", "kind": "b"}}), "$.both.kind:"),
        (json!({"both": {"kind": "a"}}), "$.both: missing required property `name`"),
        (json!({"broken": 1}), "$.broken: unresolvable $ref"),
        (json!("tree"), "$: expected object"),
    ];
    for (value, expected) in cases {
        let errors = v.validate(&tree, &value);
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "{value}: expected an error starting with {expected:?}, got {errors:?}"
        );
    }
    // oneOf with two matching alternatives is also an error.
    let ambiguous = json!({"oneOf": [{"type": "number"}, {"type": "integer"}]});
    assert!(!v.validate(&ambiguous, &json!(1)).is_empty());
    assert!(v.validate(&ambiguous, &json!(1.5)).is_empty());
    // Boolean schemas, as used by additionalProperties.
    assert!(v.validate(&json!(false), &json!(1)).len() == 1);
    assert!(v.validate(&json!(true), &json!(1)).is_empty());
}

#[test]
fn data_center_spec_overrides_are_narrow() {
    let spec = data_center();
    assert_eq!(spec.base_path, "/rest");
    let attach = spec.operation("POST", "/rest/api/2/issue/HELP-1/attachments").expect("DC addAttachment");
    // After the override the answer must be an array; a single object fails.
    let one = json!({"id": "1", "filename": "a.txt", "size": 1});
    assert!(attach.check_response(200, Some("application/json"), &one).is_err());
    assert!(attach.check_response(200, Some("application/json"), &json!([one])).is_ok());
    let bad_item = json!([{"id": 1, "size": "big"}]);
    let err = attach.check_response(200, Some("application/json"), &bad_item).expect_err("wrong item types must fail");
    assert!(err.contains("$[0].id") && err.contains("$[0].size"), "{err}");
    // IssueBean is still checked outside `fields`.
    let get_issue = spec.operation("GET", "/rest/api/2/issue/HELP-1").expect("DC getIssue");
    let err = get_issue
        .check_response(200, Some("application/json"), &json!({"id": 1, "key": "HELP-1", "fields": {"summary": "s"}}))
        .expect_err("id must be a string");
    assert!(err.contains("$.id"), "{err}");
    assert!(
        get_issue
            .check_response(200, Some("application/json"), &json!({"id": "1", "key": "HELP-1", "fields": []}),)
            .is_err(),
        "fields must still be an object"
    );

    // findUsers: an array of UserBean; a single user object fails.
    let find = spec.operation("GET", "/rest/api/2/user/search").expect("DC findUsers");
    let user = json!({"name": "bob", "emailAddress": "bob@example.test", "active": true});
    assert!(find.check_response(200, Some("application/json"), &user).is_err());
    assert!(find.check_response(200, Some("application/json"), &json!([user])).is_ok());
    let err = find
        .check_response(200, Some("application/json"), &json!([{"name": 7, "active": "yes"}]))
        .expect_err("wrong UserBean types must fail");
    assert!(err.contains("$[0].name") && err.contains("$[0].active"), "{err}");

    // getUsersFromGroup: `groupname` is a (required) query parameter now ...
    let members = spec.operation("GET", "/rest/api/2/group/member").expect("DC getUsersFromGroup");
    let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(members.check_query(&q(&[("groupname", "g"), ("startAt", "50"), ("maxResults", "50")])), Ok(()));
    let err = members.check_query(&q(&[("startAt", "0")])).expect_err("groupname is required");
    assert!(err.contains("`groupname` is missing"), "{err}");
    assert!(members.check_query(&q(&[("groupname", "g"), ("groupName", "g")])).is_err(), "undeclared parameter");
    // ... and the answer is a page of UserJsonBean, no longer a single user
    // that any object passes.
    let page = json!({"startAt": 0, "maxResults": 50, "total": 1, "isLast": true,
                      "values": [{"name": "bob", "active": true}]});
    assert!(members.check_response(200, Some("application/json"), &page).is_ok());
    for (bad, at) in [
        (json!({"values": {"name": "bob"}}), "$.values"),
        (json!({"values": [{"name": 1}]}), "$.values[0].name"),
        (json!({"isLast": "no", "values": []}), "$.isLast"),
        (json!({"startAt": "0", "values": []}), "$.startAt"),
    ] {
        let err = members.check_response(200, Some("application/json"), &bad).expect_err("bad page must fail");
        assert!(err.contains(at), "{bad}: expected an error at {at}: {err}");
    }

    // getIssueWatchers: WatchersBean now has its properties; wrong types fail.
    let watchers = spec.operation("GET", "/rest/api/2/issue/HELP-1/watchers").expect("DC getIssueWatchers");
    let good = json!({"self": "http://x/rest/api/2/issue/HELP-1/watchers", "isWatching": false, "watchCount": 1,
                      "watchers": [{"name": "bob", "displayName": "Bob", "active": true}]});
    assert!(watchers.check_response(200, Some("application/json"), &good).is_ok());
    for (bad, at) in [
        (json!({"watchers": {"name": "bob"}}), "$.watchers"),
        (json!({"watchers": [{"name": 1, "active": "yes"}]}), "$.watchers[0].name"),
        (json!({"watchCount": "1"}), "$.watchCount"),
        (json!({"isWatching": "no"}), "$.isWatching"),
    ] {
        let err = watchers.check_response(200, Some("application/json"), &bad).expect_err("bad watchers must fail");
        assert!(err.contains(at), "{bad}: expected an error at {at}: {err}");
    }

    // getProjectRoles: a 200 body is validated at all now (role name -> URL).
    let roles = spec.operation("GET", "/rest/api/2/project/HELP/role").expect("DC getProjectRoles");
    let map = json!({"Developers": "http://x/rest/api/2/project/HELP/role/10000"});
    assert!(roles.check_response(200, Some("application/json"), &map).is_ok());
    let err = roles
        .check_response(200, Some("application/json"), &json!({"Developers": {"id": 10000}}))
        .expect_err("role URLs are strings");
    assert!(err.contains("$.Developers"), "{err}");
    assert!(roles.check_response(200, Some("application/json"), &json!([map])).is_err(), "an object, not an array");
    assert!(roles.check_response(200, Some("text/html"), &map).is_err());
}

#[test]
fn query_no_content_and_jsm_checks_reject_wrong_input() {
    let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    // Query strings: undeclared names and wrongly typed values fail.
    let cloud = cloud_v3();
    let members = cloud.operation("GET", "/rest/api/3/group/member").expect("getUsersFromGroup");
    assert_eq!(members.check_query(&q(&[("groupname", "g"), ("includeInactiveUsers", "false")])), Ok(()));
    let err = members.check_query(&q(&[("groupname", "g"), ("startAt", "ten")])).expect_err("startAt is an integer");
    assert!(err.contains("startAt=ten"), "{err}");
    let err =
        members.check_query(&q(&[("includeInactiveUsers", "yes")])).expect_err("includeInactiveUsers is a boolean");
    assert!(err.contains("includeInactiveUsers=yes"), "{err}");
    let search = cloud.operation("GET", "/rest/api/3/user/search").expect("findUsers");
    let err = search.check_query(&q(&[("email", "a@b")])).expect_err("no `email` parameter");
    assert!(err.contains("`email` is not declared"), "{err}");

    // 204: no body allowed, whatever media type the spec lists; a status the
    // operation does not declare still fails.
    let watch = cloud.operation("POST", "/rest/api/3/issue/HELP-1/watchers").expect("addWatcher");
    assert!(watch.check_response(204, None, &Value::Null).is_ok());
    assert!(watch.check_response(204, Some("application/json"), &json!({})).is_err());
    assert!(watch.check_response(200, None, &Value::Null).is_err());
    assert_eq!(watch.check_request(&json!("5b10ac8d82e05b22cc7d4ef5")), Ok(()));
    assert!(watch.check_request(&json!({"accountId": "5b10ac8d82e05b22cc7d4ef5"})).is_err());

    // JSM: user objects are UserDTO (no platform `self`/`accountType`), and
    // errors are ErrorResponse, not the platform's ErrorCollection.
    let jsm = jsm();
    let comment = jsm.operation("POST", "/rest/servicedeskapi/request/HELP-1/comment").expect("createRequestComment");
    let platform_user =
        json!({"accountId": "a", "self": "http://x/rest/api/3/user?accountId=a", "accountType": "atlassian"});
    let err = comment
        .check_response(201, Some("application/json"), &json!({"id": "1", "body": "x", "author": platform_user}))
        .expect_err("a platform User is not a UserDTO");
    assert!(err.contains("$.author.self") && err.contains("$.author.accountType"), "{err}");
    let err = comment
        .check_response(404, Some("application/json"), &json!({"errorMessages": ["x"], "errors": {}}))
        .expect_err("ErrorCollection is not ErrorResponse");
    assert!(err.contains("$.errorMessages"), "{err}");
    assert!(comment.check_request(&json!({"body": "x", "public": "yes"})).is_err());
    let customer = jsm.operation("POST", "/rest/servicedeskapi/customer").expect("createCustomer");
    assert!(customer.check_request(&json!({"email": "a@b", "name": "A"})).is_err(), "CustomerCreateDTO is closed");
    assert!(customer.check_query(&q(&[("strictConflictStatusCode", "yes")])).is_err());
    let request = jsm.operation("POST", "/rest/servicedeskapi/request").expect("createCustomerRequest");
    assert!(request.check_request(&json!({"serviceDeskId": 1})).is_err(), "serviceDeskId is a string");
}
