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
        // A quoted local part may hold spaces (RFC 5322 3.4.1 quoted-string):
        // `"john smith"@example.com`.
        let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
        let spaced = |part: &str| part.chars().any(|c| c.is_whitespace() || c == ',');
        if local.is_empty()
            || domain.is_empty()
            || s.len() > 320
            || s.chars().any(char::is_control)
            || (!quoted && spaced(local))
            || spaced(domain)
            || (quoted && local[1..local.len() - 1].contains('"'))
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
        for bad in ["", "alice", "@x", "a@", "a b@c.d", "a@.x", "a,b@c", "\"a\"b\"@c.d", "a@c d.e"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quoted_local_part_may_hold_spaces() {
        let a = EmailAddress::parse("\"John Smith\"@Example.test").expect("valid");
        assert_eq!(a.as_ref(), "\"john smith\"@example.test");
        assert_eq!(a.domain(), "example.test");
    }
}
