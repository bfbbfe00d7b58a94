//! The validator and the lookup must reject wrong shapes (no vacuous passes).

use super::*;

pub fn assert_rejects(errors: &[String], path_fragment: &str) {
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

    // A success or redirect without a body passes only where the spec
    // declares none (or `{}`): a body there, or no body where a schema is
    // declared, still fails.
    let dc_link = data_center().operation("POST", "/rest/api/2/issueLink").expect("linkIssues");
    assert!(dc_link.check_response(201, None, &Value::Null).is_ok());
    assert!(dc_link.check_response(201, Some("application/json"), &json!({"id": "1"})).is_err());
    let content = cloud.operation("GET", "/rest/api/3/attachment/content/1").expect("getAttachmentContent");
    assert!(content.check_response(303, None, &Value::Null).is_ok());
    assert!(content.check_response(302, None, &Value::Null).is_err(), "302 is not declared");
    let transitions = cloud.operation("GET", "/rest/api/3/issue/HELP-1/transitions").expect("getTransitions");
    assert!(transitions.check_response(200, None, &Value::Null).is_err(), "Transitions is declared");

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
