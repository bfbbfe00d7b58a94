//! RS256 JSON Web Tokens (RFC 7515/7519) for the RFC 7523 JWT bearer grant:
//! service account keys (generated with `openssl genpkey`, PKCS#8 PEM like
//! Google's key files), signing (for tests) and verification (ring).

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// A new RSA-2048 private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub fn generate_private_key() -> String {
    let out = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("openssl runs (it also makes Dovecot's certificate)");
    assert!(out.status.success(), "openssl genpkey failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("PEM is ASCII")
}

/// The DER bytes inside a PEM block.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body: String =
        pem.lines().map(str::trim).filter(|l| !l.starts_with("-----") && !l.is_empty()).collect::<Vec<_>>().concat();
    STANDARD.decode(body).ok()
}

fn key_pair(pem: &str) -> ring::signature::RsaKeyPair {
    let der = pem_to_der(pem).expect("private key PEM");
    ring::signature::RsaKeyPair::from_pkcs8(&der).expect("PKCS#8 RSA private key")
}

/// The DER `RSAPublicKey` of a PKCS#8 private key.
pub fn public_key_der(private_pem: &str) -> Vec<u8> {
    key_pair(private_pem).public().as_ref().to_vec()
}

/// `header.payload.signature`, RS256, signed with a PKCS#8 PEM key.
pub fn sign(private_pem: &str, header: &Value, claims: &Value) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let kp = key_pair(private_pem);
    let mut sig = vec![0u8; kp.public().modulus_len()];
    kp.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
        .expect("RS256 signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// An RFC 7523 assertion from a service account key file (the JSON that
/// [`OAuthServer::add_service_account`](super::OAuthServer::add_service_account)
/// returns), as Google's client libraries build it: `iss` the account, `aud`
/// the key file's `token_uri`, `iat` now, `exp` an hour later, `scope`, and
/// `sub` when impersonating a user.
pub fn service_account_assertion(key_file_json: &str, scope: &str, sub: Option<&str>) -> String {
    let key: Value = serde_json::from_str(key_file_json).expect("service account key JSON");
    let iat = super::unix_now();
    let mut claims = json!({
        "iss": key["client_email"],
        "aud": key["token_uri"],
        "scope": scope,
        "iat": iat,
        "exp": iat + 3600,
    });
    if let Some(sub) = sub {
        claims["sub"] = json!(sub);
    }
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key["private_key_id"]});
    sign(key["private_key"].as_str().expect("private_key"), &header, &claims)
}

/// A decoded JWT whose signature is still to be checked.
pub struct Parsed {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

/// Split and decode `header.payload.signature`; `None` when malformed.
pub fn parse(jwt: &str) -> Option<Parsed> {
    let mut parts = jwt.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    Some(Parsed { header, claims, signing_input: format!("{h}.{p}"), signature })
}

impl Parsed {
    /// RS256 with this DER `RSAPublicKey`.
    pub fn verify(&self, public_key: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .is_ok()
    }
}
