//! The SASL exchange of IMAP `AUTHENTICATE` with an OAuth 2.0 access token.

/// A SASL initial response sent once; an error challenge gets an empty
/// answer, after which the server says NO (RFC 7628 §3.2.3, Google's XOAUTH2).
pub(super) struct Sasl {
    first: Option<String>,
}

impl Sasl {
    pub(super) fn new(response: String) -> Self {
        Self { first: Some(response) }
    }
}

impl async_imap::Authenticator for Sasl {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        self.first.take().unwrap_or_default()
    }
}
