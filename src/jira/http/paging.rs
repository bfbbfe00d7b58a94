//! Every paging loop stops when a page does not advance: no item it has not
//! seen already, the same `startAt` or `nextPageToken` as before, or the
//! total reached. A server that answers `isLast: false` forever with the
//! same page (seen in the field: 691 calls in 30 s) costs two calls, not
//! an endless loop.

use std::collections::HashSet;

/// Hard bound on pages per listing, whatever the server says.
pub(super) const MAX_PAGES: usize = 1000;

#[derive(Debug, Default)]
pub(super) struct Progress {
    seen: HashSet<String>,
    cursors: HashSet<String>,
    pages: usize,
}

impl Progress {
    /// Record one page: its cursor (`startAt`, `nextPageToken`) and the ids
    /// of its items. `false` when the page brought nothing new, repeated a
    /// cursor, or the page bound is reached: the loop must stop.
    pub(super) fn advanced<I: IntoIterator<Item = String>>(&mut self, cursor: &str, ids: I) -> bool {
        self.pages += 1;
        let new_cursor = self.cursors.insert(cursor.to_string());
        let (mut any, mut new_items) = (false, false);
        for id in ids {
            any = true;
            new_items |= self.seen.insert(id);
        }
        if !any {
            return false;
        }
        if !(new_cursor && new_items) || self.pages >= MAX_PAGES {
            tracing::warn!(pages = self.pages, new_cursor, new_items, "Jira paging stopped: the page did not advance");
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn a_page_that_repeats_its_cursor_or_items_stops_the_loop() {
        let mut p = Progress::default();
        assert!(p.advanced("0", ["a".to_string(), "b".to_string()]));
        assert!(p.advanced("2", ["c".to_string()]));
        assert!(!p.advanced("2", ["d".to_string()]), "same cursor");
        let mut p = Progress::default();
        assert!(p.advanced("0", ["a".to_string()]));
        assert!(!p.advanced("1", ["a".to_string()]), "no new item");
        let mut p = Progress::default();
        assert!(!p.advanced("0", Vec::<String>::new()), "an empty page");
    }
}
