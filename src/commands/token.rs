//! `mailgate token …` and `mailgate doctor`.

use std::io::Read;
use std::sync::Arc;

use secrecy::SecretString;

use crate::cli::{Format, TokenCommand};
use crate::clock::SystemClock;
use crate::config::{SenderPolicy, Settings};
use crate::context::token_service;
use crate::domain::JiraLogin;
use crate::identity::{TokenService, TokenStatus};
use crate::secrets::TokenCipher;
use crate::store::Store;

async fn service(settings: &Settings) -> anyhow::Result<TokenService> {
    let store = Store::connect(&settings.database.url).await?;
    Ok(token_service(settings, store, Arc::new(SystemClock))?)
}

pub fn print_status(s: &TokenStatus, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(s)?),
        Format::Text => {
            let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            println!("state:         {}", serde_json::to_value(s.state)?.as_str().unwrap_or("-"));
            println!("user:          {}", v(&s.user));
            println!("set on:        {}", v(&s.set_on));
            println!("expires on:    {}", v(&s.expires_on));
            println!("days left:     {}", s.days_left.map(|d| d.to_string()).unwrap_or_else(|| "-".into()));
            println!("last verified: {}", v(&s.last_verified));
            println!("last failure:  {} {}", v(&s.last_failure_at), s.last_failure.as_deref().unwrap_or(""));
        }
    }
    Ok(())
}

pub async fn run(settings: &Settings, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::GenKey => {
            use secrecy::ExposeSecret;
            println!("{}", TokenCipher::generate_key_hex().expose_secret());
            Ok(())
        }
        TokenCommand::Set { user, expires } => {
            let user = JiraLogin::parse(&user).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            let mut token = String::new();
            std::io::stdin().read_to_string(&mut token)?;
            let token = SecretString::from(token.trim().to_string());
            let tokens = service(settings).await?;
            let status = tokens.set(&user, &token, expires).await?;
            println!("token stored encrypted for {}", status.user.as_deref().unwrap_or("-"));
            print_status(&status, Format::Text)
        }
        TokenCommand::Status { format } => print_status(&service(settings).await?.status().await?, format),
        TokenCommand::Verify => {
            let tokens = service(settings).await?;
            let who = tokens.verify().await?;
            println!("the token works: authenticated as {who}");
            Ok(())
        }
        TokenCommand::Clear => {
            let removed = service(settings).await?.clear().await?;
            println!("{}", if removed { "token removed" } else { "no token was stored" });
            Ok(())
        }
        TokenCommand::RotateKey { new_key_file } => {
            let env =
                std::env::var("MAILGATE_NEW_MASTER_KEY").ok().filter(|v| !v.trim().is_empty()).map(SecretString::from);
            let new_key = TokenCipher::load(env, new_key_file.as_deref().and_then(|p| p.to_str()))?;
            let tokens = service(settings).await?;
            if tokens.rotate_key(&new_key).await? {
                println!("token re-encrypted under key {}; use the new key from now on", new_key.key_id());
            } else {
                println!("no token stored; nothing to re-encrypt");
            }
            // OAuth 2.0 refresh tokens and secrets are under the same key.
            if let Some(old) = crate::context::load_cipher(settings)? {
                use crate::clock::Clock;
                let store = Store::connect(&settings.database.url).await?;
                let n = crate::oauth::rekey_grants(&store, &old, &new_key, SystemClock.now_ms()).await?;
                if n > 0 {
                    println!("{n} OAuth grant(s) re-encrypted under key {}", new_key.key_id());
                }
            }
            Ok(())
        }
    }
}

/// What each permission is needed for, given the configuration.
pub fn needed_permissions(settings: &Settings) -> Vec<(Option<String>, &'static str, &'static str)> {
    let targets: Vec<_> =
        settings.routing.rules.iter().map(|r| &r.target).chain(std::iter::once(&settings.routing.default)).collect();
    let mut out: Vec<(Option<String>, &'static str, &'static str)> = Vec::new();
    if targets.iter().any(|t| t.sender_policy.is_some() || t.cc_watchers) {
        out.push((None, "USER_PICKER", "look up senders by email (Browse users and groups)"));
    }
    if targets.iter().any(|t| matches!(t.sender_policy, Some(SenderPolicy::CreateUser | SenderPolicy::CreateCustomer)))
    {
        out.push((None, "ADMINISTER", "create users and customers (Administer Jira)"));
    }
    let mut projects: Vec<String> = targets.iter().map(|t| t.project.to_string()).collect();
    projects.sort();
    projects.dedup();
    for p in projects {
        for (perm, why) in [
            ("BROWSE_PROJECTS", "see the project"),
            ("CREATE_ISSUES", "create issues from mail"),
            ("ADD_COMMENTS", "add replies as comments"),
            ("CREATE_ATTACHMENTS", "upload attachments"),
        ] {
            out.push((Some(p.clone()), perm, why));
        }
        let reporter = targets.iter().any(|t| t.project.as_ref() == p && t.sender_policy.is_some())
            || settings.jira.default_reporter.is_some();
        if reporter {
            out.push((Some(p.clone()), "MODIFY_REPORTER", "file issues for the sender (Modify Reporter)"));
        }
        if targets.iter().any(|t| t.project.as_ref() == p && t.cc_watchers) {
            out.push((Some(p.clone()), "MANAGE_WATCHERS", "add Cc'd people as watchers"));
        }
    }
    out
}

/// `mailgate doctor`: returns false when something is missing.
pub async fn doctor(settings: &Settings) -> anyhow::Result<bool> {
    let tokens = service(settings).await?;
    let (client, _) = tokens.client().await.map_err(|e| anyhow::anyhow!("cannot check permissions: {e}"))?;
    let needed = needed_permissions(settings);
    let mut all_ok = true;
    println!("{:<10} {:<20} {:<8} needed to", "scope", "permission", "status");
    let mut scopes: Vec<Option<String>> = needed.iter().map(|(s, _, _)| s.clone()).collect();
    scopes.dedup();
    for scope in scopes {
        let perms: Vec<&str> = needed.iter().filter(|(s, _, _)| *s == scope).map(|(_, p, _)| *p).collect();
        let have = client.my_permissions(scope.as_deref(), &perms).await?;
        for (perm, ok) in have {
            let why = needed.iter().find(|(s, p, _)| *s == scope && *p == perm).map(|(_, _, w)| *w).unwrap_or("");
            all_ok &= ok;
            println!(
                "{:<10} {:<20} {:<8} {why}",
                scope.as_deref().unwrap_or("global"),
                perm,
                if ok { "ok" } else { "MISSING" }
            );
        }
    }
    println!("{}", if all_ok { "\nall needed permissions are granted" } else { "\nsome permissions are missing" });
    Ok(all_ok)
}

/// `mailgate script test SCRIPT --event event.json`: the recipients SCRIPT
/// gives for the event, run with the limits of the config file (as `run`
/// would run it; the built-in limits when there is no config file). Groups
/// are expanded when the config has a working token; otherwise they are
/// listed by name.
pub async fn script_test(
    config: &std::path::Path,
    script: &std::path::Path,
    event: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::notify::event::Event;
    use crate::notify::script::{ScriptLimits, Scripts};
    let source = std::fs::read_to_string(script).map_err(|e| anyhow::anyhow!("{}: {e}", script.display()))?;
    let event: Event =
        serde_json::from_str(&std::fs::read_to_string(event).map_err(|e| anyhow::anyhow!("{}: {e}", event.display()))?)
            .map_err(|e| anyhow::anyhow!("the event file is not an event: {e}"))?;
    // A config that exists but does not load is an error: testing with
    // other limits than the service's would mislead.
    let settings = if config.exists() { Some(Settings::load(config)?) } else { None };
    let limits = match &settings {
        Some(s) => crate::startup::script_limits(s),
        None => {
            eprintln!("no config file {}: the built-in script limits apply", config.display());
            ScriptLimits::default()
        }
    };
    let scripts = Scripts::from_sources([("default.rhai", source)], limits)?;
    let outcome = tokio::task::spawn_blocking(move || scripts.recipients(&event)).await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            println!("{}", serde_json::json!({"error": e.to_string(), "fallback": "reporter and watchers"}));
            anyhow::bail!("the script failed: {e}");
        }
    };
    let mut expanded = serde_json::Map::new();
    if !outcome.groups.is_empty()
        && let Some(settings) = &settings
        && let Ok(tokens) = service(settings).await
        && let Ok((client, _)) = tokens.client().await
    {
        for g in &outcome.groups {
            match client.group_member_emails(g).await {
                Ok(members) => {
                    expanded.insert(g.clone(), serde_json::json!(members));
                }
                Err(e) => eprintln!("group {g}: {e}"),
            }
        }
    }
    let mut report = serde_json::to_value(&outcome)?;
    report["group_members"] = serde_json::Value::Object(expanded);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
