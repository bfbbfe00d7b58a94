//! Atlassian's spec documents (`../shared/jira-openapi/`), their known
//! defects, and looking up the operation a request path belongs to.

use std::sync::OnceLock;

use serde_json::Value;

use super::validator::Validator;

const SPEC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/jira-openapi");
const CLOUD_V3_FILE: &str = "jira-cloud-platform-v3.swagger-v3.v3.json";
const DC_FILE: &str = "jira-software-dc-10.3.swagger.v3.json";
const JSM_FILE: &str = "jira-service-management-cloud.swagger.v3.json";

/// A place where a spec document is known to contradict the real service.
/// The test asserts the spec still says `declared` there (ignoring
/// `description`/`example`), so an updated spec makes the override fail loudly
/// instead of silently hiding something.
pub struct KnownDefect {
    pub pointer: &'static str,
    pub declared: &'static str,
    pub replacement: &'static str,
    pub why: &'static str,
}

/// Jira Software DC 10.3 defects (see API-NOTES.md §5, "Known defects").
pub const DC_DEFECTS: &[KnownDefect] = &[
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
    KnownDefect {
        pointer: "/paths/~1api~12~1user~1permission~1search/get/responses/200/content/application~1json/schema",
        declared: r##"{"$ref":"#/components/schemas/UserBean"}"##,
        replacement: r##"{"type":"array","items":{"$ref":"#/components/schemas/UserBean"}}"##,
        why: "findUsersWithAllPermissions answers a JSON array of users (\"Returns a list of active users\"); \
              the DC spec declares the item schema instead of an array",
    },
    KnownDefect {
        pointer: "/components/schemas/AttachmentBean",
        declared: r#"{"type":"object","xml":{"name":"attachment"}}"#,
        replacement: r##"{"type":"object","xml":{"name":"attachment"},"required":["id","filename","size","content"],
            "properties":{
            "self":{"type":"string","format":"uri"},
            "id":{"type":"string"},
            "filename":{"type":"string"},
            "author":{"$ref":"#/components/schemas/UserJsonBean"},
            "created":{"type":"string","format":"date-time"},
            "size":{"type":"integer","format":"int64"},
            "mimeType":{"type":"string"},
            "properties":{"type":"object"},
            "content":{"type":"string","format":"uri"},
            "thumbnail":{"type":"string","format":"uri"}}}"##,
        why: "getAttachment (the only user of AttachmentBean) answers the attachment's metadata \
              \"including the URI of the actual attached file\": the fields of the spec's own \
              AttachmentJsonBean (issue `attachment` entries) plus `properties`; the DC spec declares \
              AttachmentBean as a bare object, which every answer would pass vacuously",
    },
];

pub struct Spec {
    pub label: &'static str,
    pub file: &'static str,
    pub doc: Value,
    /// Path part of `servers[0].url` (`""` for Cloud, `"/rest"` for DC).
    pub base_path: String,
}

pub fn strip_annotations(v: &Value) -> Value {
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

pub fn load_spec(file: &'static str, label: &'static str, defects: &[KnownDefect]) -> Spec {
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

pub fn cloud_v3() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(CLOUD_V3_FILE, "Cloud v3", &[]))
}

pub fn data_center() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(DC_FILE, "DC 10.3", DC_DEFECTS))
}

/// Jira Service Management Cloud. Its server URL has no path and its paths
/// are written in full (`/rest/servicedeskapi/...`), so the base path is "".
pub fn jsm() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| load_spec(JSM_FILE, "JSM Cloud", &[]))
}

/// The spec that describes a request path the way mailgate uses it: JSM
/// for `/rest/servicedeskapi`, Cloud v3 for `/rest/api/3`, Data Center for
/// `/rest/api/2` (mailgate speaks v2 only to Data Center).
pub fn spec_for(path: &str) -> &'static Spec {
    if path.starts_with("/rest/servicedeskapi/") {
        jsm()
    } else if path.starts_with("/rest/api/3/") {
        cloud_v3()
    } else {
        data_center()
    }
}

pub struct Operation<'s> {
    pub spec: &'s Spec,
    pub method: String,
    pub template: String,
    pub op: &'s Value,
}

/// What one conformance check covered.
#[derive(Debug)]
pub struct Checked {
    pub operation_id: String,
    pub status: u16,
    pub line: String,
}

impl Spec {
    /// The operation the spec declares for `method` on a concrete request
    /// path (e.g. `/rest/api/3/issue/HELP-1`). Literal segments win over
    /// `{templated}` ones, as OpenAPI requires.
    pub fn operation(&self, method: &str, request_path: &str) -> Result<Operation<'_>, String> {
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

    pub fn validator(&self) -> Validator<'_> {
        Validator::new(&self.doc)
    }
}

pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

pub fn schema_label(schema: &Value) -> String {
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
