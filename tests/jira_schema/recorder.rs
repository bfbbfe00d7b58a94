//! mailgate's own client, recorded on the wire: a recording proxy between
//! `HttpJira` and the fake.

use super::*;

/// One HTTP exchange between mailgate's client and the fake.
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub request_type: Option<String>,
    pub request_body: Vec<u8>,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Exchange {
    /// Check the request mailgate built (operation, query string, JSON body
    /// against the request schema) and the fake's answer, against the spec
    /// for the path (`spec_for`).
    pub fn check(&self) -> Result<Checked, String> {
        let spec = spec_for(&self.path);
        let op = spec.operation(&self.method, &self.path)?;
        op.check_query(&self.query)?;
        if self.request_body.is_empty() {
            if op.op["requestBody"]["required"] == true {
                return Err(format!("{} {}: the spec requires a request body, none sent", self.method, self.path));
            }
        } else {
            let media = self.request_type.as_deref().map(media_type);
            if media.as_deref() != Some("application/json") {
                return Err(format!("{} {}: request body sent as {media:?}", self.method, self.path));
            }
            let body: Value = serde_json::from_slice(&self.request_body)
                .map_err(|e| format!("{} {}: request body is not JSON: {e}", self.method, self.path))?;
            op.check_request(&body)?;
        }
        let answer = if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body)
                .map_err(|e| format!("{} {}: {} answer is not JSON: {e}", self.method, self.path, self.status))?
        };
        op.check_response(self.status, self.content_type.as_deref(), &answer)
    }
}

/// A pass-through proxy in front of the fake that records every exchange,
/// so the requests mailgate's client really builds are what gets checked.
pub struct Recorder {
    pub base_url: String,
    pub log: Arc<Mutex<Vec<Exchange>>>,
}

impl Recorder {
    pub async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the recording proxy");
        let base_url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let log: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        // A redirect goes back to the client as it is (getAttachmentContent's
        // 303), so the client's own redirect handling is what gets exercised.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client");
        let shared = log.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (log, http, target) = (shared.clone(), http.clone(), target.clone());
            async move {
                let mut forward = http.request(method.clone(), format!("{target}{uri}"));
                for (name, value) in &headers {
                    if name != HOST && name != CONTENT_LENGTH {
                        forward = forward.header(name, value);
                    }
                }
                let resp = forward.body(body.to_vec()).send().await.expect("forward to the fake");
                let status = resp.status();
                let content_type = resp.headers().get(CONTENT_TYPE).cloned();
                let location = resp.headers().get(LOCATION).cloned();
                let answer = resp.bytes().await.expect("read the fake's answer");
                let text = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
                let query = reqwest::Url::parse(&format!("{target}{uri}"))
                    .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
                    .unwrap_or_default();
                log.lock().unwrap_or_else(|p| p.into_inner()).push(Exchange {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    query,
                    request_type: text(headers.get(CONTENT_TYPE)),
                    request_body: body.to_vec(),
                    status: status.as_u16(),
                    content_type: text(content_type.as_ref()),
                    body: answer.to_vec(),
                });
                let mut out = axum::response::Response::new(axum::body::Body::from(answer));
                *out.status_mut() = status;
                if let Some(ct) = content_type {
                    out.headers_mut().insert(CONTENT_TYPE, ct);
                }
                if let Some(l) = location {
                    out.headers_mut().insert(LOCATION, l);
                }
                out
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url, log }
    }

    /// The client, pointed at the proxy.
    pub fn client(&self, flavor: JiraFlavor) -> HttpJira {
        let settings = JiraSettings {
            flavor,
            base_url: self.base_url.clone(),
            auth: JiraAuth::Basic { user: USER.into(), secret: SecretString::from(SECRET) },
            timeout_secs: 10,
            max_retries: 0,
            default_reporter: None,
            max_requests_per_sec: 1000.0,
        };
        HttpJira::new(&settings).expect("build mailgate's Jira client")
    }

    /// Calls outside the REST APIs (`/rest/...`), which no spec describes
    /// (Data Center's `/secure/attachment/...` download), as `METHOD path status`.
    pub fn non_api_calls(&self) -> Vec<String> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().filter(|x| !is_api(x)).map(|x| format!("{} {} {}", x.method, x.path, x.status)).collect()
    }

    /// Check every recorded REST exchange; returns what was covered. Calls
    /// outside the REST APIs are left to [`non_api_calls`](Self::non_api_calls).
    pub fn check_all(&self) -> BTreeSet<(String, u16)> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        assert!(!log.is_empty(), "the client made no calls");
        let mut covered = BTreeSet::new();
        for x in log.iter().filter(|x| is_api(x)) {
            let checked = x.check().unwrap_or_else(|e| panic!("mailgate's client, {} {}: {e}", x.method, x.path));
            println!("validated client call {}", checked.line);
            covered.insert((checked.operation_id, checked.status));
        }
        covered
    }
}

fn is_api(x: &Exchange) -> bool {
    x.path.starts_with("/rest/")
}

/// The fake Jira (HELP) with Alice and `GROUP`, the recorder in front of it,
/// and mailgate's `flavor` client talking through the recorder; Alice's id last.
pub async fn recorded(flavor: JiraFlavor) -> (FakeJira, Recorder, HttpJira, String) {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    // Shape checks: search sees what the test just wrote (lag: strict.rs).
    fake.set_search_lag(std::time::Duration::ZERO);
    let recorder = Recorder::start(fake.base_url()).await;
    let jira = recorder.client(flavor);
    let alice = fake.add_user("alice@example.test", "Alice Liddell");
    fake.add_group(GROUP);
    (fake, recorder, jira, alice)
}
