use std::fmt;

/// A Jira project key such as `HELP` (upper-case letter, then letters,
/// digits or underscores).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ProjectKey(String);

/// A Jira issue key such as `HELP-42`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct IssueKey(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a valid Jira key")]
pub struct InvalidKey(pub String);

fn valid_project(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 255
}

impl ProjectKey {
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let s = raw.trim();
        if valid_project(s) { Ok(Self(s.to_string())) } else { Err(InvalidKey(raw.to_string())) }
    }
}

impl IssueKey {
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let s = raw.trim();
        let bad = || InvalidKey(raw.to_string());
        let (project, number) = s.rsplit_once('-').ok_or_else(bad)?;
        let number_ok = !number.is_empty()
            && number.len() <= 18
            && number.chars().all(|c| c.is_ascii_digit())
            && !number.starts_with('0');
        if valid_project(project) && number_ok { Ok(Self(s.to_string())) } else { Err(bad()) }
    }

    pub fn project(&self) -> &str {
        self.0.rsplit_once('-').map(|(p, _)| p).unwrap_or("")
    }

    /// The issue's number in its project (`42` for `HELP-42`).
    pub fn number(&self) -> u64 {
        self.0.rsplit_once('-').and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
    }

    /// The key numbered `number` in `project` (a valid project key and a
    /// number from 1 give a valid key).
    pub fn in_project(project: &str, number: u64) -> Result<Self, InvalidKey> {
        Self::parse(&format!("{project}-{number}"))
    }

    /// Every issue key in a subject, in order. Keys must stand alone
    /// (not inside a longer word) and are matched case-sensitively, as Jira
    /// writes them.
    pub fn find_all(text: &str) -> Vec<IssueKey> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let boundary_before = i == 0 || !is_key_char(bytes[i - 1]);
            if boundary_before && bytes[i].is_ascii_uppercase() {
                let start = i;
                let mut j = i;
                while j < bytes.len()
                    && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit() || bytes[j] == b'_')
                {
                    j += 1;
                }
                if j < bytes.len() && bytes[j] == b'-' {
                    let mut k = j + 1;
                    while k < bytes.len() && bytes[k].is_ascii_digit() {
                        k += 1;
                    }
                    let boundary_after = k == bytes.len() || !is_key_char(bytes[k]);
                    if k > j + 1 && boundary_after {
                        if let Some(key) = text.get(start..k).and_then(|s| IssueKey::parse(s).ok()) {
                            out.push(key);
                        }
                        i = k;
                        continue;
                    }
                }
                i = j.max(i + 1);
                continue;
            }
            i += 1;
        }
        out
    }
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl AsRef<str> for ProjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl AsRef<str> for IssueKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for IssueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ProjectKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_subjects() {
        let keys: Vec<String> =
            IssueKey::find_all("Re: [HELP-12] printer (see OPS_2-7)").into_iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, vec!["HELP-12", "OPS_2-7"]);
    }

    #[test]
    fn keys_inside_words_or_with_leading_zero_are_not_keys() {
        assert!(IssueKey::find_all("xHELP-12 HELP-12x ab-12 HELP-012").is_empty());
    }

    #[test]
    fn project_of_a_key() {
        let k = IssueKey::parse("ABC-123").expect("valid");
        assert_eq!(k.project(), "ABC");
    }
}
