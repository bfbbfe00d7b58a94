use std::fmt;

/// An RFC 5322 Message-ID without angle brackets; the deduplication key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a valid Message-ID")]
pub struct InvalidMessageId(pub String);

impl MessageId {
    pub fn parse(raw: &str) -> Result<Self, InvalidMessageId> {
        let s = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
        if s.is_empty()
            || s.len() > 998
            || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(InvalidMessageId(raw.to_string()));
        }
        Ok(Self(s.to_string()))
    }

    /// A Message-ID for mail that came without one: derived from the raw
    /// bytes so the same mail always gets the same id.
    pub fn synthetic(raw: &[u8]) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(raw);
        Self(format!("{}@mailgate.invalid", hex::encode(&digest[..16])))
    }

    /// The id a mail gets when it reuses another mail's Message-ID with
    /// different content (`digest`: hex of that content): stable for the
    /// same mail, distinct from the first.
    pub fn reused(&self, digest: &str) -> Self {
        let tag: String = digest.chars().take(16).collect();
        match self.0.rsplit_once('@') {
            Some((local, domain)) => Self(format!("{local}.reused-{tag}@{domain}")),
            None => Self(format!("{}.reused-{tag}", self.0)),
        }
    }

    /// The id in angle brackets, as it goes into a header.
    pub fn bracketed(&self) -> String {
        format!("<{}>", self.0)
    }
}

impl AsRef<str> for MessageId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_stripped() {
        let id = MessageId::parse("<abc@host>").expect("valid");
        assert_eq!(id.as_ref(), "abc@host");
        assert_eq!(id.bracketed(), "<abc@host>");
    }

    #[test]
    fn synthetic_ids_are_stable() {
        assert_eq!(MessageId::synthetic(b"x"), MessageId::synthetic(b"x"));
        assert_ne!(MessageId::synthetic(b"x"), MessageId::synthetic(b"y"));
    }

    #[test]
    fn spaces_are_rejected() {
        assert!(MessageId::parse("a b@c").is_err());
        assert!(MessageId::parse("<>").is_err());
    }
}
