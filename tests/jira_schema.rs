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
//! Run: `cargo test --test jira_schema -- --nocapture` to see what was
//! validated against what.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use mailgate::fake_jira::{FakeAuth, FakeJira};
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};

const SPEC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/jira-openapi");
const CLOUD_V3_FILE: &str = "jira-cloud-platform-v3.swagger-v3.v3.json";
const DC_FILE: &str = "jira-software-dc-10.3.swagger.v3.json";

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

    /// The declared default of a query/path parameter, if the spec gives one.
    fn param_default(&self, name: &str) -> Option<&Value> {
        let validator = self.spec.validator();
        self.op["parameters"].as_array()?.iter().find_map(|p| {
            let p = match p.get("$ref") {
                Some(r) => validator.resolve(r).ok()?,
                None => p,
            };
            (p["name"] == name).then(|| p["schema"].get("default"))?
        })
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
    async fn call_with(
        &mut self,
        secret: &str,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        let url = format!("{}{path}", self.fake.base_url());
        let request = build(self.http.request(method.clone(), url).basic_auth(USER, Some(secret)));
        let resp = request.send().await.expect("HTTP call to the fake Jira");
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
        self.spec
            .operation(method.as_str(), path)
            .and_then(|op| op.check_request(&body))
            .unwrap_or_else(|e| panic!("the test's own request is off-spec: {e}"));
        self.call(method, path, |r| r.json(&body), expected).await
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
}
