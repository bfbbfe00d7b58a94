//! Jira Cloud 3LO: which site (cloud id) the grant is for, from
//! `GET {api_url}/oauth/token/accessible-resources`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::LoginError;
use crate::oauth::OAuthError;
use crate::oauth::endpoint::{network_message, parse_answer};

/// A site the grant may reach.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Site {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The sites the access token may reach.
pub async fn accessible_resources(
    http: &reqwest::Client,
    api_url: &str,
    access_token: &SecretString,
) -> Result<Vec<Site>, LoginError> {
    let url = format!("{}/oauth/token/accessible-resources", api_url.trim_end_matches('/'));
    let answer = http
        .get(&url)
        .bearer_auth(access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            LoginError::OAuth(OAuthError::Unavailable(format!("accessible-resources: {}", network_message(&e))))
        })?;
    let status = answer.status().as_u16();
    let body = answer.bytes().await.map_err(|e| {
        LoginError::OAuth(OAuthError::Unavailable(format!("accessible-resources: {}", network_message(&e))))
    })?;
    let json = parse_answer(status, &body, &[access_token.expose_secret()])
        .map_err(|e| LoginError::Site(format!("accessible-resources failed: {e:?}")))?;
    serde_json::from_value(json).map_err(|e| LoginError::Site(format!("unexpected accessible-resources answer: {e}")))
}

fn same_site(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// The site of the configured `cloud_id`, else the one at `base_url`
/// (`[jira] base_url`), else the only one.
pub fn choose_site(sites: &[Site], cloud_id: Option<&str>, base_url: &str) -> Result<Site, LoginError> {
    let listed =
        || sites.iter().map(|s| format!("{} ({}, cloud id {})", s.name, s.url, s.id)).collect::<Vec<_>>().join("; ");
    if let Some(id) = cloud_id {
        return sites.iter().find(|s| s.id == id).cloned().ok_or_else(|| {
            LoginError::Site(format!(
                "the grant does not reach cloud id {id} (jira.auth.cloud_id); it reaches: {}",
                listed()
            ))
        });
    }
    if let Some(s) = sites.iter().find(|s| same_site(&s.url, base_url)) {
        return Ok(s.clone());
    }
    match sites {
        [only] => Ok(only.clone()),
        [] => Err(LoginError::Site("the grant reaches no site: was the app authorized for one?".into())),
        _ => Err(LoginError::Site(format!(
            "the grant reaches several sites and none is at {base_url}: set jira.auth.cloud_id to one of: {}",
            listed()
        ))),
    }
}
