//! mailgate's admin HTTP API served in the test process (no notifier, no
//! webhooks), on a free loopback port; stopped when dropped.

use std::sync::Arc;

use mailgate::clock::Clock;
use mailgate::http::AdminState;
use mailgate::identity::TokenService;
use mailgate::store::Store;
use secrecy::SecretString;
use tokio::sync::watch;

use crate::ADMIN_API_KEY;

pub struct AdminApi {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    _stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl AdminApi {
    /// Serve the admin API over `tokens` and `store` on `clock`, behind the
    /// bearer key [`ADMIN_API_KEY`].
    pub async fn serve(tokens: Arc<TokenService>, store: Store, clock: Arc<dyn Clock>) -> Self {
        let key = SecretString::from(ADMIN_API_KEY.to_string());
        let state = AdminState::new(tokens, store, clock, &key).expect("the test key is long enough");
        let (stop, rx) = watch::channel(false);
        let (addr, server) = mailgate::http::serve("127.0.0.1:0", None, state, rx).await.expect("admin API serves");
        Self { base: format!("http://{addr}"), _stop: stop, server }
    }
}

impl Drop for AdminApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
