//! Finding what a lost answer made, on what Jira guarantees: a project's
//! keys are allocated in increasing order, and reading an issue by key is
//! consistent (search is not, and does not see entity properties). Before
//! a create, the highest key number known in the project (the floor) is
//! committed with the posting mark; a resumed create reads the keys above
//! it, a window at a time, and looks for the mail's Message-ID in each
//! issue's `mailgate` property.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Pipeline;
use crate::domain::IssueKey;
use crate::jira::{JiraError, ProbedIssue};
use crate::store::InboundRow;

/// At most this many windows are read (Cloud: 5,000 keys above the floor).
const MAX_WINDOWS: u64 = 50;

/// What one window of keys says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scan {
    /// The issue the earlier attempt made.
    Found(IssueKey),
    /// Keys go on past this window: read the next.
    Next,
    /// The project's keys end inside this window without the mail: no
    /// earlier attempt created it.
    NotCreated,
}

/// Judge one window `from .. from + width` of a project's keys.
pub(super) fn scan(
    window: &[ProbedIssue],
    project: &str,
    from: u64,
    width: u64,
    ours: impl Fn(&ProbedIssue) -> bool,
) -> Scan {
    if let Some(hit) = window.iter().find(|p| ours(p)) {
        return Scan::Found(hit.key.clone());
    }
    let last = from + width - 1;
    // Jira answers a moved issue's old key with its new key: only keys
    // still in the window say where the project's keys stand.
    if window.iter().any(|p| p.key.project() == project && p.key.number() == last) {
        Scan::Next
    } else {
        Scan::NotCreated
    }
}

/// The highest issue number this process has seen per project (answers
/// to its own creates), seeded from the store.
#[derive(Debug, Default)]
pub(super) struct KeyFloors {
    known: Mutex<HashMap<String, u64>>,
}

impl KeyFloors {
    fn get(&self, project: &str) -> Option<u64> {
        self.known.lock().ok()?.get(project).copied()
    }

    /// An issue exists with this key: later creates are numbered above it.
    pub(super) fn saw(&self, key: &IssueKey) {
        if let Ok(mut known) = self.known.lock() {
            let entry = known.entry(key.project().to_string()).or_default();
            *entry = (*entry).max(key.number());
        }
    }
}

impl Pipeline {
    /// A lower bound of the key Jira gives the next issue in `project`:
    /// what this process has seen, else the store's latest keys, else
    /// search (lagging, so lower still), else 0.
    pub(super) async fn key_floor(&self, project: &str) -> u64 {
        if let Some(known) = self.floors.get(project) {
            return known;
        }
        let stored = match self.store.highest_issue_number(project).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the store's latest issue keys");
                None
            }
        };
        let floor = match stored {
            Some(n) => n,
            None => match self.jira.highest_key_number(project).await {
                Ok(n) => n.unwrap_or(0),
                Err(e) => {
                    tracing::warn!(error = %e, "could not search the project's highest key; floor 0");
                    0
                }
            },
        };
        if let Ok(key) = IssueKey::in_project(project, floor.max(1)) {
            self.floors.saw(&key);
        }
        floor
    }

    /// A create's key floor: the row's own, kept from its first attempt,
    /// else a new one, answered second as well: it must be committed
    /// before the create.
    pub(super) async fn create_floor(&self, row: &InboundRow, project: &str) -> (u64, Option<u64>) {
        match row.post_floor {
            Some(floor) => (floor, None),
            None => {
                let floor = self.key_floor(project).await;
                (floor, Some(floor))
            }
        }
    }

    /// The issue an earlier attempt created for this mail (`ours`), read key
    /// by key above the floor.
    pub(super) async fn find_created(
        &self,
        project: &str,
        floor: u64,
        ours: impl Fn(&ProbedIssue) -> bool,
    ) -> Result<Option<IssueKey>, JiraError> {
        let width = self.jira.read_window().max(1) as u64;
        let mut from = floor + 1;
        for _ in 0..MAX_WINDOWS {
            let keys: Vec<IssueKey> =
                (from..from + width).filter_map(|n| IssueKey::in_project(project, n).ok()).collect();
            let window = self.jira.read_issues(&keys).await?;
            for seen in &window {
                self.floors.saw(&seen.key);
            }
            match scan(&window, project, from, width, &ours) {
                Scan::Found(key) => return Ok(Some(key)),
                Scan::NotCreated => return Ok(None),
                Scan::Next => from += width,
            }
        }
        tracing::warn!(project, floor, "no end of the project's keys within the resume's reach");
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probed(key: &str, mid: Option<&str>) -> ProbedIssue {
        ProbedIssue { key: IssueKey::parse(key).expect("key"), message_id: mid.map(String::from), summary: "s".into() }
    }

    #[test]
    fn a_window_finds_the_mail_or_says_whether_keys_go_on() {
        let mid = |p: &ProbedIssue| p.message_id.as_deref() == Some("a@b");
        let found = [probed("HELP-11", None), probed("HELP-12", Some("a@b"))];
        assert_eq!(scan(&found, "HELP", 11, 10, mid), Scan::Found(IssueKey::parse("HELP-12").expect("key")));
        // Keys up to the window's end exist: the next window may hold it.
        let full = [probed("HELP-11", None), probed("HELP-20", Some("other@b"))];
        assert_eq!(scan(&full, "HELP", 11, 10, mid), Scan::Next);
        // The keys stop inside the window (a gap of deleted issues before is fine).
        let ends = [probed("HELP-13", None), probed("HELP-15", None)];
        assert_eq!(scan(&ends, "HELP", 11, 10, mid), Scan::NotCreated);
        assert_eq!(scan(&[], "HELP", 11, 10, mid), Scan::NotCreated);
        // A moved issue answers with its new key: it does not extend the window.
        assert_eq!(scan(&[probed("OTHER-20", None)], "HELP", 11, 10, mid), Scan::NotCreated);
    }
}
