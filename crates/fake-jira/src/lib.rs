//! An in-process fake of Jira's REST API (Cloud v3 and v2 paths, Data Center
//! v2) for tests and the sandbox. It keeps issues, comments and attachments in
//! memory and answers with Atlassian's shapes: status codes, `ErrorCollection`
//! bodies, `nextPageToken`/`startAt` pagination, `Retry-After` on 429. It can
//! be told to fail the next calls.
//!
//! Issues follow one small workflow (`workflow`: Open → In Progress → Done,
//! and back by a reopen transition whose name a test can change), can be
//! linked (`links`), and serve their attachments' bytes (`files`: Cloud's
//! 303 to a media host, Data Center's `/secure/attachment` servlet). Other
//! users' comment permission follows a simple model (`people::grants`:
//! Jira accounts may comment, portal customers may not, unless a test says
//! otherwise).
//!
//! Jira Cloud's OAuth 2.0 (3LO) is modelled too (`threelo`, off until
//! [`FakeJira::enable_3lo`]): Atlassian's authorization server
//! (`/authorize`, `/oauth/token` with rotating refresh tokens), the API
//! gateway's `/oauth/token/accessible-resources` and every REST route under
//! `/ex/jira/{cloudId}/…` for the bearer tokens it issued, each operation
//! holding the token to the scopes Atlassian's spec names (`scopes`).

mod adf;
mod clock;
mod entities;
mod fields;
mod files;
mod jql;
mod links;
mod model;
mod people;
mod routes;
mod scopes;
mod search;
mod strict;
mod threelo;
mod wire;
mod workflow;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use fields::CustomFieldKind;
pub use links::FakeLink;
pub use model::{FakeAttachment, FakeComment, FakeIssue};
pub use people::{FakeRequest, FakeRole, FakeServiceDesk, FakeUser};
pub use scopes::{SCOPE_RULES, ScopeRule};
pub use strict::{HiddenEmailSearch, Strictness};

/// A failure the fake injects into upcoming calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (500, 503, …) before doing anything.
    Status(u16),
    /// 429 with `Retry-After: secs`, before doing anything.
    RateLimit { retry_after_secs: u64 },
    /// 429 with `Retry-After` as an HTTP date this many seconds ahead of
    /// the answer's `Date` header (RFC 9110 §10.2.3 allows either form).
    RateLimitDate { retry_after_secs: u64 },
    /// Do the work, then hold the answer this long (a client timeout after
    /// the effect: the ambiguous case).
    SlowAfterEffect(Duration),
    /// Do the work, then answer with this status (a 504 from a proxy, a
    /// 500 after the commit): the answer is lost after the effect.
    StatusAfterEffect(u16),
}

#[derive(Debug, Clone)]
pub(crate) struct PendingFault {
    pub fault: Fault,
    pub remaining: u32,
    /// Only calls whose `METHOD path` contains this text.
    pub filter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeAuth {
    Basic { user: String, secret: String },
    Bearer(String),
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub auth: Vec<FakeAuth>,
    pub projects: Vec<String>,
    pub issues: Vec<FakeIssue>,
    pub next_issue_id: u64,
    pub next_comment_id: u64,
    pub next_attachment_id: u64,
    pub faults: Vec<PendingFault>,
    pub calls: Vec<String>,
    /// Authenticated calls with the credentials that were accepted.
    pub calls_by: Vec<(String, Option<FakeAuth>)>,
    /// The base URL of `self` links: the fake's own origin, or through the
    /// 3LO gateway (`{origin}/ex/jira/{cloudId}`) while a gateway call is
    /// answered.
    pub base_url: String,
    /// The fake's own origin (the site, and the media host).
    pub origin_url: String,
    /// Jira Cloud 3LO, once enabled.
    pub threelo: Option<threelo::ThreeLo>,
    pub users: Vec<FakeUser>,
    pub next_user_id: u64,
    pub groups: Vec<String>,
    pub service_desks: Vec<FakeServiceDesk>,
    pub denied_permissions: Vec<String>,
    pub roles: Vec<FakeRole>,
    /// Fail this share of all calls (percent), cycling through the faults.
    pub random_faults: Option<RandomFaults>,
    /// Every call waits this long before it is answered (benchmarks).
    pub latency: Duration,
    /// Misbehaving server: paged listings (group members, issue search)
    /// answer the first page again whatever cursor is asked for, with
    /// `isLast: false` forever.
    pub pages_do_not_advance: bool,
    /// Atlassian's documented limits (all on unless a test turns one off).
    pub strict: Strictness,
    /// The API user's `timeZone` and its offset east of UTC in minutes:
    /// JQL dates without a zone are read in it.
    pub time_zone: (String, i32),
    /// Issue links (`links`).
    pub links: Vec<FakeLink>,
    pub next_link_id: u64,
    /// The name of the workflow's transition from Done back to Open.
    pub reopen_name: String,
    /// ADD_COMMENTS overrides: (project, account id or username, allowed).
    pub comment_grants: Vec<(String, String, bool)>,
    /// Priorities, components, versions, custom fields (see `fields`).
    pub catalog: fields::Catalog,
}

#[derive(Debug, Clone)]
pub(crate) struct RandomFaults {
    pub percent: u64,
    pub faults: Vec<Fault>,
    pub rng: u64,
    pub next: usize,
}

/// A running fake Jira. Dropping it stops the server.
pub struct FakeJira {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeJira {
    /// Start on a free loopback port. `projects` are the project keys that
    /// exist; credentials in `auth` are accepted.
    pub async fn start(projects: &[&str], auth: Vec<FakeAuth>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            auth,
            projects: projects.iter().map(|p| p.to_string()).collect(),
            next_issue_id: 10000,
            next_comment_id: 20000,
            next_attachment_id: 30000,
            base_url: format!("http://{addr}"),
            origin_url: format!("http://{addr}"),
            time_zone: ("Etc/UTC".into(), 0),
            next_link_id: 10_000,
            reopen_name: workflow::DEFAULT_REOPEN.to_string(),
            ..Default::default()
        }));
        let app = routes::router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self { addr, state, shutdown: Some(tx) })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fail the next `times` calls (optionally only those whose `METHOD /path`
    /// contains `filter`, e.g. `"POST /rest/api/3/issue"`; a trailing `$`
    /// asks for an exact match).
    pub fn fail_next(&self, times: u32, fault: Fault, filter: Option<&str>) {
        self.lock().faults.push(PendingFault { fault, remaining: times, filter: filter.map(String::from) });
    }

    /// Drop every pending injected fault (targeted and random).
    pub fn clear_faults(&self) {
        let mut st = self.lock();
        st.faults.clear();
        st.random_faults = None;
    }

    /// Fail about `percent` % of all calls, in a repeatable pseudo-random
    /// pattern from `seed`, with the given faults in turn.
    pub fn fail_share(&self, percent: u64, faults: Vec<Fault>, seed: u64) {
        self.lock().random_faults = Some(RandomFaults { percent: percent.min(100), faults, rng: seed | 1, next: 0 });
    }

    /// Replace the accepted credentials (e.g. revoke a token).
    /// Answer every call after this delay, like a Jira across a network.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Misbehave: every paged listing (group members, `search/jql`,
    /// `search`) repeats its first page, never `isLast: true`. Not a
    /// documented Jira behaviour; a broken server or proxy, on demand
    /// (issue 11: 691 calls in 30 s against such a server).
    pub fn pages_do_not_advance(&self, on: bool) {
        self.lock().pages_do_not_advance = on;
    }

    /// Change the strict behaviours (see [`Strictness`] for their sources).
    pub fn set_strictness(&self, strict: Strictness) {
        self.lock().strict = strict;
    }

    /// The API user's time zone (`timeZone` of `/myself`) and its offset
    /// east of UTC in minutes (fixed: the fake knows no daylight saving).
    pub fn set_user_time_zone(&self, name: &str, offset_min: i32) {
        self.lock().time_zone = (name.to_string(), offset_min);
    }

    /// How long search takes to see a write (0: at once).
    pub fn set_search_lag(&self, lag: Duration) {
        self.lock().strict.search_lag = lag;
    }

    pub fn set_auth(&self, auth: Vec<FakeAuth>) {
        self.lock().auth = auth;
    }

    /// How many issues and comments exist (cheap: nothing is copied).
    pub fn counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.issues.len(), st.issues.iter().map(|i| i.comments.len()).sum())
    }

    /// Each issue's summary and `created` timestamp (milliseconds).
    pub fn created_times(&self) -> Vec<(String, Option<i64>)> {
        self.lock().issues.iter().map(|i| (i.summary.clone(), model::parse_jira_time(&i.created))).collect()
    }

    pub fn issues(&self) -> Vec<FakeIssue> {
        self.lock().issues.clone()
    }

    pub fn issue(&self, key: &str) -> Option<FakeIssue> {
        self.lock().issues.iter().find(|i| i.key == key).cloned()
    }

    /// Every call received so far, as `METHOD /path`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Calls starting with `prefix` that authenticated as `auth`.
    pub fn count_calls_by(&self, prefix: &str, auth: &FakeAuth) -> usize {
        self.lock().calls_by.iter().filter(|(c, a)| c.starts_with(prefix) && a.as_ref() == Some(auth)).count()
    }

    /// Number of calls whose `METHOD /path` starts with `prefix`.
    pub fn count_calls(&self, prefix: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.starts_with(prefix)).count()
    }

    /// Add an existing Jira user; returns its accountId.
    pub fn add_user(&self, email: &str, display_name: &str) -> String {
        people::new_user(&mut self.lock(), email, display_name, "atlassian").account_id
    }

    /// Add a group (empty).
    pub fn add_group(&self, name: &str) {
        let mut st = self.lock();
        if !st.groups.iter().any(|g| g == name) {
            st.groups.push(name.to_string());
        }
    }

    /// Hide a user's email (profile visibility): no user object carries it.
    pub fn hide_email(&self, account_id: &str) {
        if let Some(u) = self.lock().users.iter_mut().find(|u| u.account_id == account_id) {
            u.email_hidden = true;
        }
    }

    /// Add a JSM portal customer (no Jira access); returns its accountId.
    pub fn add_customer(&self, email: &str, display_name: &str) -> String {
        people::new_user(&mut self.lock(), email, display_name, "customer").account_id
    }

    /// Put a user in a group.
    pub fn add_member(&self, group: &str, account_id: &str) {
        let mut st = self.lock();
        if let Some(u) = st.users.iter_mut().find(|u| u.account_id == account_id) {
            u.groups.push(group.to_string());
        }
    }

    /// Add a JSM service desk for a project.
    pub fn add_service_desk(&self, id: &str, project: &str) {
        self.lock().service_desks.push(FakeServiceDesk {
            id: id.into(),
            project: project.into(),
            customers: Vec::new(),
        });
    }

    /// Add a project role with user (account id) and group actors.
    pub fn add_role(&self, project: &str, name: &str, users: &[&str], groups: &[&str]) {
        let mut st = self.lock();
        let id = (10_000 + st.roles.len() + 1).to_string();
        st.roles.push(FakeRole {
            project: project.into(),
            id,
            name: name.into(),
            users: users.iter().map(|u| u.to_string()).collect(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        });
    }

    /// Make `mypermissions` answer `havePermission: false` for these keys.
    pub fn deny_permissions(&self, keys: &[&str]) {
        self.lock().denied_permissions = keys.iter().map(|k| k.to_string()).collect();
    }

    /// Make a user watch an issue.
    pub fn add_watcher(&self, key: &str, account_id: &str) {
        if let Some(i) = self.lock().issues.iter_mut().find(|i| i.key == key) {
            i.watchers.push(account_id.to_string());
        }
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.lock().users.clone()
    }

    pub fn service_desks(&self) -> Vec<FakeServiceDesk> {
        self.lock().service_desks.clone()
    }

    /// An agent's comment written in Jira (test set-up): `public: false` is
    /// a JSM internal note. Returns the comment's id.
    pub fn add_agent_comment(&self, key: &str, text: &str, public: bool) -> Option<String> {
        let mut st = self.lock();
        st.next_comment_id += 1;
        let id = st.next_comment_id.to_string();
        let created = model::jira_time(st.next_comment_id);
        let issue = st.issues.iter_mut().find(|i| i.key == key)?;
        let body = serde_json::json!(text);
        let c = model::FakeComment {
            id: id.clone(),
            body,
            created: created.clone(),
            public: Some(public),
            properties: Vec::new(),
        };
        issue.touch(created);
        issue.comments.push(c);
        Some(id)
    }

    /// Turn on Jira Cloud OAuth 2.0 (3LO) for one app (see `threelo`);
    /// returns the site's cloud id. Calling it again starts over.
    pub fn enable_3lo(&self, client_id: &str, client_secret: &str) -> String {
        let cloud_id = format!("3f2c9a1e-5b7d-4e8f-9a0b-{:012x}", u64::from(self.addr.port()) * 7919);
        self.lock().threelo = Some(threelo::ThreeLo::new(client_id, client_secret, cloud_id.clone()));
        cloud_id
    }

    fn with_3lo<T>(&self, f: impl FnOnce(&mut threelo::ThreeLo) -> T) -> T {
        let mut st = self.lock();
        f(st.threelo.as_mut().expect("call enable_3lo first"))
    }

    /// A refresh token as if the user had consented with these
    /// (space-separated) scopes, `offline_access` implied.
    pub fn issue_3lo_refresh_token(&self, scope: &str) -> String {
        let scope = if scope.split_whitespace().any(|s| s == "offline_access") {
            scope.to_string()
        } else {
            format!("{scope} offline_access")
        };
        self.with_3lo(|t| t.issue_refresh(scope.trim()))
    }

    /// A valid 3LO access token with these scopes (test set-up).
    pub fn issue_3lo_access_token(&self, scope: &str) -> String {
        self.with_3lo(|t| t.issue_access(scope))
    }

    /// `expires_in` of 3LO access tokens issued from now on (default 3600 s).
    pub fn set_3lo_access_lifetime(&self, lifetime: Duration) {
        self.with_3lo(|t| t.access_lifetime = lifetime);
    }

    /// Every 3LO access token issued so far expires (the gateway answers 401).
    pub fn expire_3lo_access_tokens(&self) {
        self.with_3lo(threelo::ThreeLo::expire_access);
    }

    /// The user removed the app: access tokens stop working and every
    /// refresh token answers 403 `invalid_grant`.
    pub fn revoke_3lo(&self) {
        self.with_3lo(threelo::ThreeLo::revoke);
    }

    /// How many `refresh_token` grant requests reached `/oauth/token`
    /// (refused ones too).
    pub fn count_3lo_refreshes(&self) -> usize {
        self.with_3lo(|t| t.refreshes)
    }

    /// Create an issue directly (test set-up).
    pub fn seed_issue(&self, project: &str, summary: &str) -> String {
        let mut st = self.lock();
        model::insert_issue(&mut st, project, summary, serde_json::Value::Null, "Task", Vec::new(), Default::default())
    }
}

impl Drop for FakeJira {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
