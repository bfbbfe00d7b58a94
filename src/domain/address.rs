use std::fmt;

/// A syntactically plausible email address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid email address")]
pub struct InvalidEmail(pub String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
        let bad = || InvalidEmail(raw.to_string());
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.is_empty()
            || s.len() > 320
            || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or("")
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lowercased_and_unbracketed() {
        let a = EmailAddress::parse(" <Alice@Example.TEST> ").expect("valid");
        assert_eq!(a.as_ref(), "alice@example.test");
        assert_eq!(a.domain(), "example.test");
        assert_eq!(a.local_part(), "alice");
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["", "alice", "@x", "a@", "a b@c.d", "a@.x", "a,b@c"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
