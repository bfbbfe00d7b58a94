//! `mailgate oauth login | set-secret | status`.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};

use crate::cli::{Format, GrantTarget, OAuthCommand};
use crate::clock::{Clock, SystemClock};
use crate::config::{Flow, Settings};
use crate::context::load_cipher;
use crate::oauth::endpoint::{TokenAnswer, TokenEndpoint, http_client};
use crate::oauth::login::{self, device, jira};
use crate::oauth::{
    GrantStatus, JIRA_GRANT, OAuthClient, ProviderKind, SMTP_GRANT, SecretSource, ServiceAccountKey, configured_grants,
    grant_statuses, jwt_assertion, mailbox_grant, target_flag,
};
use crate::secrets::TokenCipher;
use crate::store::{Store, secret_aad};

pub async fn run(settings: &Settings, cmd: OAuthCommand) -> anyhow::Result<()> {
    match cmd {
        OAuthCommand::Login { target, device, timeout_secs } => login(settings, &target, device, timeout_secs).await,
        OAuthCommand::SetSecret { target } => set_secret(settings, &target).await,
        OAuthCommand::Status { format } => status(settings, format).await,
    }
}

/// The grant the flags name, with its client.
fn resolve(settings: &Settings, target: &GrantTarget) -> anyhow::Result<(String, OAuthClient)> {
    let name = match (&target.mailbox, target.smtp) {
        (Some(mb), _) => mailbox_grant(mb),
        (None, true) => SMTP_GRANT.to_string(),
        (None, false) => JIRA_GRANT.to_string(),
    };
    configured_grants(settings).into_iter().find(|(g, _)| *g == name).ok_or_else(|| {
        anyhow!("{name} does not use OAuth 2.0 in the configuration (auth = {{ kind = \"oauth2\", … }})")
    })
}

fn cipher(settings: &Settings) -> anyhow::Result<TokenCipher> {
    load_cipher(settings)?.ok_or_else(|| {
        anyhow!("a master key is needed to store the grant encrypted: set MAILGATE_MASTER_KEY or [secrets] master_key_file (mailgate token gen-key)")
    })
}

async fn login(settings: &Settings, target: &GrantTarget, use_device: bool, timeout_secs: u64) -> anyhow::Result<()> {
    let (grant, client) = resolve(settings, target)?;
    if client.flow != Flow::RefreshToken {
        bail!(
            "{grant} uses flow \"{}\", which needs no login: give it its secret or key in the configuration or with \
             `mailgate oauth set-secret {}`",
            client.flow.as_str(),
            target_flag(&grant)
        );
    }
    let cipher = cipher(settings)?;
    let store = Store::connect(&settings.database.url).await?;
    let http = http_client(client.timeout_secs)?;
    let secret = client.secret(&grant, &store, Some(&cipher)).await?;
    let token = TokenEndpoint::new(http.clone(), client.token_url.clone(), client.body);
    let timeout = Duration::from_secs(timeout_secs);
    let answer = if use_device {
        device_login(&grant, &client, &http, &token, secret.as_ref(), timeout).await?
    } else {
        browser_login(&grant, &client, &token, secret.as_ref(), timeout).await?
    };
    let cloud_id = if client.provider == ProviderKind::Atlassian {
        let api = client.api_url.as_deref().unwrap_or("https://api.atlassian.com");
        let sites = jira::accessible_resources(&http, api, &answer.access_token).await?;
        let site = jira::choose_site(&sites, client.cloud_id.as_deref(), &settings.jira.base_url)?;
        println!("Jira site: {} ({}), cloud id {}", site.name, site.url, site.id);
        Some(site.id)
    } else {
        None
    };
    let now = SystemClock.now_ms();
    login::store_login(&store, &cipher, &grant, client.provider, &answer, cloud_id.as_deref(), now).await?;
    println!("{grant}: logged in; the refresh token is stored encrypted");
    let statuses = grant_statuses(&store, &[(grant, client)], now).await?;
    print_table(&statuses);
    store.close().await;
    Ok(())
}

async fn browser_login(
    grant: &str,
    client: &OAuthClient,
    token: &TokenEndpoint,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> anyhow::Result<TokenAnswer> {
    let loopback = login::Loopback::bind(client.redirect_url.as_deref())
        .await
        .context("cannot listen for the redirect (redirect_url)")?;
    let redirect = loopback.redirect_uri().to_string();
    let pkce = login::pkce()?;
    let state = login::random_b64(16)?;
    let url = login::authorize_url(client, &redirect, &state, &pkce.challenge)?;
    println!(
        "Open this address in a browser and log in (waiting {} s for the redirect to {redirect}):\n\n  {url}\n",
        timeout.as_secs()
    );
    println!(
        "On a server without a browser, forward the port first (ssh -L {0}:127.0.0.1:{0} …) or use --device.",
        reqwest::Url::parse(&redirect).ok().and_then(|u| u.port()).unwrap_or_default()
    );
    let code = loopback.wait(&state, timeout).await?;
    let params = login::code_params(client, &code, &pkce.verifier, &redirect, secret);
    Ok(login::exchange_code(token, grant, &params).await?)
}

async fn device_login(
    grant: &str,
    client: &OAuthClient,
    http: &reqwest::Client,
    token: &TokenEndpoint,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> anyhow::Result<TokenAnswer> {
    let Some(url) = &client.device_url else {
        if client.provider == ProviderKind::Atlassian {
            bail!("Atlassian offers no device flow: log in in a browser (over SSH, forward the redirect's port)");
        }
        bail!("no device_url for {grant}: set it in the configuration, or log in in a browser");
    };
    let endpoint = TokenEndpoint::new(http.clone(), url.clone(), client.body);
    let start = device::start(&endpoint, grant, client, secret).await?;
    println!("To log in, open {} and enter the code {}", start.verification_uri, start.user_code);
    if let Some(complete) = &start.verification_uri_complete {
        println!("(or open {complete})");
    }
    println!("Waiting for the approval ({} s at most)…", start.expires_in.min(timeout.as_secs()));
    let poll = device::poll(token, grant, client, &start, secret, Duration::from_secs(1));
    tokio::time::timeout(timeout, poll)
        .await
        .map_err(|_| login::LoginError::Timeout(timeout.as_secs()))?
        .map_err(Into::into)
}

async fn set_secret(settings: &Settings, target: &GrantTarget) -> anyhow::Result<()> {
    let (grant, client) = resolve(settings, target)?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let secret = SecretString::from(text.trim().to_string());
    if secret.expose_secret().is_empty() {
        bail!("nothing on standard input");
    }
    if client.flow == Flow::ServiceAccount {
        // Refuse a key that cannot sign before storing it.
        let key = ServiceAccountKey::parse(&grant, secret.expose_secret())?;
        jwt_assertion(&grant, &key, "check", "check", None, 0)?;
        println!("service account {}", key.client_email);
    }
    let cipher = cipher(settings)?;
    let store = Store::connect(&settings.database.url).await?;
    let blob = cipher.encrypt(&secret, &secret_aad(&grant));
    store.put_oauth_secret(&grant, blob, cipher.key_id(), SystemClock.now_ms()).await?;
    println!("{grant}: secret stored encrypted");
    let from_config = match client.flow {
        Flow::ServiceAccount => client.key_file.is_some(),
        _ => !matches!(client.client_secret, SecretSource::Stored),
    };
    if from_config {
        println!("note: the configuration gives {grant} a secret or key file too, and that one is used");
    }
    store.close().await;
    Ok(())
}

async fn status(settings: &Settings, format: Format) -> anyhow::Result<()> {
    let grants = configured_grants(settings);
    let store = Store::connect(&settings.database.url).await?;
    let statuses = grant_statuses(&store, &grants, SystemClock.now_ms()).await?;
    store.close().await;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&statuses)?),
        Format::Text if statuses.is_empty() => println!("no mailbox, SMTP or Jira uses OAuth 2.0 in the configuration"),
        Format::Text => print_table(&statuses),
    }
    Ok(())
}

fn print_table(rows: &[GrantStatus]) {
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!(
        "{:<20} {:<10} {:<18} {:<14} {:<26} {:<8} {:<7} LAST ERROR",
        "GRANT", "PROVIDER", "FLOW", "STATE", "ACCESS TOKEN EXPIRES", "REFRESH", "SECRET"
    );
    for r in rows {
        println!(
            "{:<20} {:<10} {:<18} {:<14} {:<26} {:<8} {:<7} {}",
            r.grant,
            r.provider,
            r.flow,
            r.state,
            dash(&r.access_expires),
            yes(r.refresh_token_stored),
            yes(r.secret_stored),
            r.last_error.as_deref().unwrap_or("-")
        );
        if let Some(exp) = &r.refresh_expires {
            println!("{:<20} refresh token expires {exp}", "");
        }
        if let Some(id) = &r.cloud_id {
            println!("{:<20} Jira cloud id {id}", "");
        }
    }
}
