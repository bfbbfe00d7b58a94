//! The fake's 3LO scope table (`fake_jira::SCOPE_RULES`, what its gateway
//! demands of a bearer token) against the `x-atlassian-oauth2-scopes` of
//! each operation in Atlassian's Cloud v3 and JSM specs.

use super::*;

#[test]
fn the_3lo_scope_table_matches_the_specs() {
    let mut checked = 0;
    for rule in mailgate_testkit::fake_jira::SCOPE_RULES {
        let spec = if rule.path.starts_with("/rest/servicedeskapi/") { jsm() } else { cloud_v3() };
        let op = &spec.doc["paths"][rule.path][rule.method.to_lowercase()];
        assert!(op.is_object(), "{} {} is not an operation of {}", rule.method, rule.path, spec.label);
        let declared = |state: &str| -> Vec<String> {
            op["x-atlassian-oauth2-scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["state"] == state)
                .flat_map(|s| s["scopes"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let ours = |set: &[&str]| set.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(ours(rule.classic), declared("Current"), "{} {}: classic scopes", rule.method, rule.path);
        assert_eq!(ours(rule.granular), declared("Beta"), "{} {}: granular scopes", rule.method, rule.path);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} rules");
}
