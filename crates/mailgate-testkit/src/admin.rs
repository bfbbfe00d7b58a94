//! mailgate's admin HTTP API served in the test process (no notifier, no
//! webhooks), on a free loopback port; stopped when dropped.

use std::sync::Arc;

use mailgate::clock::Clock;
use mailgate::http::AdminState;
use mailgate::identity::TokenService;
use mailgate::store::Store;
use secrecy::SecretString;
use tokio::sync::watch;

pub struct AdminApi {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    _stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl AdminApi {
    /// Serve the admin API over `tokens` and `store` on `clock`, behind the
    /// bearer key `api_key`.
    pub async fn serve(tokens: Arc<TokenService>, store: Store, clock: Arc<dyn Clock>, api_key: &str) -> Self {
        let state = AdminState {
            tokens,
            store,
            clock,
            api_key: Arc::new(SecretString::from(api_key.to_string())),
            notifier: None,
            webhook_secret: None,
        };
        let (stop, rx) = watch::channel(false);
        let (addr, server) = mailgate::http::serve("127.0.0.1:0", state, rx).await.expect("admin API serves");
        Self { base: format!("http://{addr}"), _stop: stop, server }
    }
}

impl Drop for AdminApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
