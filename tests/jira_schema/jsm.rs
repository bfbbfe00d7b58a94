//! JSM customers, organizations and requests answers of the fake.

use super::*;

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
