//! Driving the fake over HTTP: one `Run` per spec, checking every answer.

use super::*;

pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
}

pub struct Run {
    pub spec: &'static Spec,
    pub fake: FakeJira,
    pub http: reqwest::Client,
    pub checked: Vec<Checked>,
}

impl Run {
    pub async fn start(spec: &'static Spec) -> Self {
        mailgate::telemetry::install_crypto_provider();
        let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
            .await
            .expect("start the fake Jira");
        // Shape checks: search must see what the test just wrote. The lag
        // itself is checked in strict.rs.
        fake.set_search_lag(std::time::Duration::ZERO);
        // Redirects are answers to check (getAttachmentContent's 303), not to follow.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client");
        Self { spec, fake, http, checked: Vec::new() }
    }

    /// Send `method path` (query and body added by `build`) with the given
    /// password, require `expected`, and check the answer against the spec.
    /// The query string must be one the spec accepts (see `check_query`).
    pub async fn call_with(
        &mut self,
        secret: &str,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.exchange(secret, method, path, build, expected, true).await
    }

    /// Like `call`, for a request that is deliberately off-spec (e.g. a
    /// required query parameter left out to provoke a 400): only the answer
    /// is checked.
    pub async fn call_off_spec(
        &mut self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.exchange(SECRET, method, path, build, expected, false).await
    }

    pub async fn exchange(
        &mut self,
        secret: &str,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
        check_query: bool,
    ) -> Value {
        let url = format!("{}{path}", self.fake.base_url());
        let request = build(self.http.request(method.clone(), url).basic_auth(USER, Some(secret)));
        let (client, request) = request.build_split();
        let request = request.unwrap_or_else(|e| panic!("{method} {path}: cannot build the request: {e}"));
        if check_query {
            let query: Vec<(String, String)> =
                request.url().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            self.spec
                .operation(method.as_str(), path)
                .and_then(|op| op.check_query(&query))
                .unwrap_or_else(|e| panic!("the test's own request is off-spec: {e}"));
        }
        let resp = client.execute(request).await.expect("HTTP call to the fake Jira");
        let status = resp.status().as_u16();
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp.bytes().await.expect("read the fake's answer");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!("{method} {path}: {status} answer is not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        let answer = Answer { status, content_type, body };
        assert_eq!(answer.status, expected, "{method} {path}: unexpected status; body {}", answer.body);
        let op = self.spec.operation(method.as_str(), path).unwrap_or_else(|e| panic!("{e}"));
        let checked = op
            .check_response(answer.status, answer.content_type.as_deref(), &answer.body)
            .unwrap_or_else(|e| panic!("{e}"));
        self.checked.push(checked);
        answer.body
    }

    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        self.call_with(SECRET, method, path, build, expected).await
    }

    /// JSON request body, validated against the spec's request schema first.
    pub async fn send_json(&mut self, method: Method, path: &str, body: Value, expected: u16) -> Value {
        self.send_json_query(method, path, &[], body, expected).await
    }

    /// `send_json` with a query string.
    pub async fn send_json_query(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Value,
        expected: u16,
    ) -> Value {
        self.spec
            .operation(method.as_str(), path)
            .and_then(|op| op.check_request(&body))
            .unwrap_or_else(|e| panic!("the test's own request is off-spec: {e}"));
        self.call(method, path, |r| r.query(query).json(&body), expected).await
    }

    pub fn covered(&self) -> BTreeSet<(String, u16)> {
        self.checked.iter().map(|c| (c.operation_id.clone(), c.status)).collect()
    }

    pub fn report(&self) {
        for c in &self.checked {
            println!("validated {}", c.line);
        }
    }

    pub fn keys_in_project(&self, project: &str) -> Vec<String> {
        let mut keys: Vec<String> =
            self.fake.issues().into_iter().filter(|i| i.project == project).map(|i| i.key).collect();
        keys.sort();
        keys
    }
}

pub fn str_field<'v>(v: &'v Value, name: &str) -> &'v str {
    v[name].as_str().unwrap_or_else(|| panic!("`{name}` missing or not a string in {v}"))
}

pub fn adf(text: &str) -> Value {
    json!({
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]
    })
}

pub fn attachment_form() -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(&b"hello from mailgate\n"[..])
        .file_name("hello.txt")
        .mime_str("text/plain")
        .expect("mime type");
    reqwest::multipart::Form::new().part("file", part)
}

pub fn expected_coverage(pairs: &[(&str, u16)]) -> BTreeSet<(String, u16)> {
    pairs.iter().map(|(o, s)| (o.to_string(), *s)).collect()
}
