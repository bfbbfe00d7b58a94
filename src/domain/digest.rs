use std::fmt;

/// A SHA-256 digest in lower-case hex: how an attachment that comes again
/// and again (a signature logo, a tracking pixel) is recognised whatever
/// its name. Upper-case input is accepted, so digests can be pasted from
/// any tool.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256Digest(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a SHA-256 digest (64 hex characters, as `sha256sum` prints)")]
pub struct InvalidDigest(pub String);

impl Sha256Digest {
    pub fn parse(raw: &str) -> Result<Self, InvalidDigest> {
        let s = raw.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidDigest(raw.to_string()));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        use sha2::Digest;
        Self(hex::encode(sha2::Sha256::digest(data)))
    }
}

impl AsRef<str> for Sha256Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_64_hex_characters_kept_in_lower_case() {
        let upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let d = Sha256Digest::parse(upper).expect("valid");
        assert_eq!(d, Sha256Digest::of(b""));
        assert_eq!(d.as_ref(), upper.to_ascii_lowercase());
        assert!(Sha256Digest::parse(&upper[1..]).is_err(), "63 characters");
        assert!(Sha256Digest::parse(&upper.replace('E', "g")).is_err(), "not hex");
    }
}
