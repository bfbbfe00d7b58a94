//! A small OpenAPI 3.0 schema validator.

use serde_json::{Map, Value};

/// Validates JSON values against OpenAPI 3.0 schema objects. Supported:
/// `$ref` (local, e.g. `#/components/schemas/X`), `type`
/// (object/array/string/integer/number/boolean), `properties`, `required`,
/// `items`, `additionalProperties` (boolean or schema; `false` makes unknown
/// properties errors), `allOf`/`oneOf`/`anyOf`, `nullable`, `enum`. Other
/// keywords (`format`, `readOnly`, `example`, `maxLength`, `discriminator`,
/// …) are ignored. Errors carry a JSON path such as `$.issues[0].key`.
pub struct Validator<'a> {
    pub root: &'a Value,
}

/// Guard against `$ref` cycles that do not consume any data.
pub const MAX_DEPTH: usize = 256;

impl<'a> Validator<'a> {
    pub fn new(root: &'a Value) -> Self {
        Self { root }
    }

    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", 0, &mut errors);
        errors
    }

    pub fn resolve(&self, reference: &Value) -> Result<&'a Value, String> {
        let reference = reference.as_str().ok_or_else(|| format!("$ref is not a string: {reference}"))?;
        let pointer =
            reference.strip_prefix('#').ok_or_else(|| format!("only local $ref is supported, got {reference}"))?;
        self.root.pointer(pointer).ok_or_else(|| format!("unresolvable $ref {reference}"))
    }

    pub fn check(&self, schema: &Value, value: &Value, path: &str, depth: usize, errors: &mut Vec<String>) {
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

    pub fn check_object(
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

pub fn type_matches(ty: &str, value: &Value) -> bool {
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

pub fn kind(value: &Value) -> &'static str {
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

pub fn child_path(path: &str, key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!("{path}.{key}") } else { format!("{path}[{key:?}]") }
}
