//! Who the workaround token belongs to: an Atlassian account email (Cloud)
//! or a Data Center username, which is not an email (`jdoe`). A username
//! is kept and sent exactly as given; an email is lower-cased as
//! `EmailAddress` does.

use std::fmt;

use super::EmailAddress;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JiraLogin {
    Email(EmailAddress),
    /// A Data Center username, as given (trimmed).
    Username(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is neither an email address nor a Jira user name")]
pub struct InvalidLogin(pub String);

impl JiraLogin {
    pub fn parse(raw: &str) -> Result<Self, InvalidLogin> {
        let s = raw.trim();
        if s.contains('@')
            && let Ok(e) = EmailAddress::parse(s)
        {
            return Ok(Self::Email(e));
        }
        // DC user names: no blanks or control characters, at most 255.
        if s.is_empty() || s.chars().count() > 255 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidLogin(raw.to_string()));
        }
        Ok(Self::Username(s.to_string()))
    }
}

impl AsRef<str> for JiraLogin {
    fn as_ref(&self) -> &str {
        match self {
            Self::Email(e) => e.as_ref(),
            Self::Username(u) => u,
        }
    }
}

impl fmt::Display for JiraLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_ref())
    }
}

impl From<&EmailAddress> for JiraLogin {
    fn from(e: &EmailAddress) -> Self {
        Self::Email(e.clone())
    }
}

impl From<&JiraLogin> for JiraLogin {
    fn from(l: &JiraLogin) -> Self {
        l.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_center_username_is_kept_as_given() {
        assert_eq!(JiraLogin::parse(" jdoe ").map(|l| l.to_string()), Ok("jdoe".to_string()));
        assert_eq!(JiraLogin::parse("J.Doe").map(|l| l.to_string()), Ok("J.Doe".to_string()));
        assert_eq!(JiraLogin::parse("Bot@Example.com").map(|l| l.to_string()), Ok("bot@example.com".to_string()));
        assert!(JiraLogin::parse("").is_err());
        assert!(JiraLogin::parse("j doe").is_err());
    }
}
