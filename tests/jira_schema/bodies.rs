//! Mail text with structure (paragraphs, lists, quotes, links, emphasis)
//! as mailgate's client sends it: ADF the strict fake accepts on Cloud,
//! wiki markup on Data Center, and `text_length` counting what Jira counts.

use mailgate::jira::{NewIssue, text_to_adf, text_to_wiki};

use super::*;

const BODY: &str = "From: Ann <ann@c.test>\n\nHi,\nthe **VPN** fails:\n\n* since _Monday_\n  1. client 5.2\n- see https://status.test/vpn\n\n> Earlier mail\n>> older {panel}\n\nThanks";

fn new_issue() -> NewIssue {
    NewIssue {
        project: "HELP".into(),
        issue_type: "Task".into(),
        summary: "VPN fails".into(),
        description: BODY.into(),
        ..NewIssue::default()
    }
}

#[tokio::test]
async fn cloud_bodies_are_structured_adf_the_strict_fake_accepts() {
    let (fake, recorder, jira, _alice) = recorded(JiraFlavor::Cloud).await;

    let created = jira.create_issue(&new_issue()).await.expect("ADF description accepted");
    jira.add_comment(&created.key, BODY, None).await.expect("ADF comment accepted");

    let issue = fake.issue(created.key.as_ref()).expect("stored issue");
    let adf = text_to_adf(BODY);
    assert_eq!(issue.description, adf);
    assert_eq!(issue.comments[0].body, adf);
    let kinds: Vec<&str> =
        adf["content"].as_array().expect("content").iter().filter_map(|n| n["type"].as_str()).collect();
    assert_eq!(kinds, ["paragraph", "paragraph", "bulletList", "blockquote", "paragraph"]);
    assert_eq!(jira.text_length(BODY), adf.to_string().chars().count());
    recorder.check_all();
}

#[tokio::test]
async fn the_strict_fake_refuses_adf_jira_refuses() {
    let (fake, _recorder, jira, _alice) = recorded(JiraFlavor::Cloud).await;
    let key = jira.create_issue(&new_issue()).await.expect("created").key;
    let url = format!("{}/rest/api/3/issue/{key}/comment", fake.base_url());
    let client = reqwest::Client::new();
    for body in [
        json!({"type": "doc", "version": 1, "content": [{"type": "blockquote", "content": [{"type": "blockquote", "content": []}]}]}),
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]}),
        json!({"type": "doc", "version": 1, "content": [{"type": "bulletList", "content": [{"type": "paragraph"}]}]}),
    ] {
        let resp =
            client.post(&url).basic_auth(USER, Some(SECRET)).json(&json!({"body": body})).send().await.expect("sent");
        assert_eq!(resp.status().as_u16(), 400, "{body}");
    }
}

#[tokio::test]
async fn data_center_bodies_are_escaped_wiki_markup() {
    let (fake, recorder, jira, _alice) = recorded(JiraFlavor::Datacenter).await;

    let created = jira.create_issue(&new_issue()).await.expect("wiki description accepted");
    jira.add_comment(&created.key, BODY, None).await.expect("wiki comment accepted");

    let wiki = text_to_wiki(BODY);
    assert_eq!(
        wiki,
        "From: Ann <ann@c.test>\n\nHi,\nthe *VPN* fails:\n\n* since _Monday_\n*# client 5.2\n* see [https://status.test/vpn]\n\n\
         {quote}\nEarlier mail\n\nolder \\{panel\\}\n{quote}\n\nThanks"
    );
    let issue = fake.issue(created.key.as_ref()).expect("stored issue");
    assert_eq!(issue.description, json!(wiki));
    assert_eq!(issue.comments[0].body, json!(wiki));
    assert_eq!(jira.text_length(BODY), wiki.chars().count());
    recorder.check_all();
}
