//! Settings for `replay --dry-run` when there is no config file: a mail can
//! be tried (decoded, classified, planned) before mailgate is set up. Nothing
//! is written anywhere and Jira is never called in a dry run, so the database
//! is in memory and the Jira address is one that cannot resolve.

use super::{ConfigError, Settings};

const DRY_RUN: &str = r#"
[database]
url = "sqlite::memory:"

[jira]
flavor = "cloud"
base_url = "https://jira.invalid"
auth = { kind = "basic", user = "dry-run@mailgate.invalid", secret = "unused" }

[inbound]
reply_marker = "--- Reply above this line. Do not remove this line. ---"

[routing]
default = { project = "HELP", issue_type = "Task", labels = ["email"] }
"#;

impl Settings {
    /// What `replay --dry-run` decides with when no config file exists:
    /// every mail routed to project HELP, the default reply marker.
    pub fn dry_run_defaults() -> Result<Self, ConfigError> {
        Self::from_toml_with_env(DRY_RUN, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dry_run_defaults_are_valid() {
        let s = super::Settings::dry_run_defaults().expect("valid");
        assert_eq!(s.routing.default.project.to_string(), "HELP");
    }
}
