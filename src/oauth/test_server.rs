//! A scripted HTTP server on loopback for the unit tests: each request is
//! recorded and answered with the next queued (status, JSON) answer
//! (500 when the queue is empty).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub content_type: String,
    pub authorization: Option<String>,
    pub body: String,
}

impl Recorded {
    /// The form body as a map.
    pub fn form(&self) -> HashMap<String, String> {
        reqwest::Url::parse(&format!("http://x/?{}", self.body))
            .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    answers: VecDeque<(u16, String)>,
    requests: Vec<Recorded>,
    /// When set, each answer waits for a permit (the test acts in between).
    hold: Option<Arc<tokio::sync::Semaphore>>,
}

#[derive(Clone)]
pub struct TestServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl TestServer {
    pub async fn start() -> Self {
        crate::telemetry::install_crypto_provider();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                let hold = {
                    let mut st = s.lock().expect("state");
                    st.requests.push(Recorded {
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        content_type: header("content-type").unwrap_or_default(),
                        authorization: header("authorization"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    st.hold.clone()
                };
                if let Some(sem) = hold
                    && let Ok(permit) = sem.acquire().await
                {
                    permit.forget();
                }
                let (status, body) = s.lock().expect("state").answers.pop_front().unwrap_or((500, "{}".into()));
                (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body)
            }
        };
        let app = axum::Router::new().fallback(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state }
    }

    pub fn answer(&self, status: u16, json: serde_json::Value) -> &Self {
        self.state.lock().expect("state").answers.push_back((status, json.to_string()));
        self
    }

    /// From now on each answer waits for a permit of the returned semaphore.
    pub fn hold(&self) -> Arc<tokio::sync::Semaphore> {
        let sem = Arc::new(tokio::sync::Semaphore::new(0));
        self.state.lock().expect("state").hold = Some(sem.clone());
        sem
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("state").requests.clone()
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }
}
