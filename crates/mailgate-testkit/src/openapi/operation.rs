//! Checking one request or answer against the operation the spec declares.

use serde_json::{Value, json};

use super::spec::{Checked, Operation, media_type, schema_label};

impl Operation<'_> {
    pub fn id(&self) -> String {
        self.op["operationId"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("{} {}", self.method, self.template))
    }

    pub fn declared_statuses(&self) -> Vec<String> {
        self.op["responses"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default()
    }

    /// The declared parameters, `$ref`s resolved.
    pub fn parameters(&self) -> Vec<&Value> {
        let validator = self.spec.validator();
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| p.get("$ref").and_then(|r| validator.resolve(r).ok()).unwrap_or(p)).collect())
            .unwrap_or_default()
    }

    /// The declared default of a query/path parameter, if the spec gives one.
    pub fn param_default(&self, name: &str) -> Option<&Value> {
        self.parameters().into_iter().find_map(|p| (p["name"] == name).then(|| p["schema"].get("default"))?)
    }

    /// Check the query string of a request against the declared parameters:
    /// every parameter sent is declared `in: query`, scalar values parse as
    /// the declared type, required query parameters are present, and every
    /// declared path parameter occurs in the path template (a spec that
    /// declares a query parameter `in: path` fails here).
    pub fn check_query(&self, query: &[(String, String)]) -> Result<(), String> {
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
    pub fn check_request(&self, body: &Value) -> Result<(), String> {
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
    pub fn check_response(&self, status: u16, content_type: Option<&str>, body: &Value) -> Result<Checked, String> {
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
        // A success or redirect without a body (linkIssues 201, a 303 to a
        // download URL): nothing to validate when the operation declares no
        // body for it, or only the anything-schema `{}`; a body would still
        // have to match.
        let declares_no_body =
            content.is_none_or(|c| c.values().all(|m| m.get("schema").is_none_or(|s| *s == json!({}))));
        if status < 400 && body.is_null() && declares_no_body {
            return Ok(Checked {
                operation_id: self.id(),
                status,
                line: format!(
                    "[{}] {} {} ({}) {status} (declared as {declared_as}) -> no body",
                    self.spec.label,
                    self.method,
                    self.template,
                    self.id()
                ),
            });
        }
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
