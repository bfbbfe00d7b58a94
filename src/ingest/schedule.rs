//! Which claimed mails may be worked on now. Mails that share an ordering
//! key (a Message-ID of their thread, an issue key, the sender) run one after
//! the other in claim (arrival) order; all others run side by side.

use std::collections::VecDeque;

/// Claimed items, running or held back behind an earlier one.
pub(crate) struct Schedule<T> {
    running: Vec<(i64, Vec<String>)>,
    held: VecDeque<(i64, Vec<String>, T)>,
    /// Keys of mails that ended this pass still pending (a retry, a hold):
    /// what shares them does not start in this pass.
    parked: Vec<String>,
}

impl<T> Schedule<T> {
    pub(crate) fn new() -> Self {
        Self { running: Vec::new(), held: VecDeque::new(), parked: Vec::new() }
    }

    /// Running and held items together.
    pub(crate) fn len(&self) -> usize {
        self.running.len() + self.held.len()
    }

    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    /// Add a claimed item; items must be pushed in arrival order.
    pub(crate) fn push(&mut self, id: i64, keys: Vec<String>, item: T) {
        self.held.push_back((id, keys, item));
    }

    /// Start what may start now, in order, at most `room` items: an item
    /// waits while a running item or an earlier held one shares a key.
    pub(crate) fn start(&mut self, room: usize) -> Vec<T> {
        let mut started = Vec::new();
        let mut blocked: Vec<String> = self.parked.clone();
        let mut i = 0;
        while i < self.held.len() && started.len() < room {
            let keys = &self.held[i].1;
            let conflict =
                keys.iter().any(|k| blocked.contains(k) || self.running.iter().any(|(_, running)| running.contains(k)));
            if conflict {
                blocked.extend(keys.iter().cloned());
                i += 1;
                continue;
            }
            if let Some((id, keys, item)) = self.held.remove(i) {
                self.running.push((id, keys));
                started.push(item);
            }
        }
        started
    }

    /// A running item is finished; what waited for it may start.
    pub(crate) fn finish(&mut self, id: i64) {
        self.running.retain(|(r, _)| *r != id);
    }

    /// A running item ended unfinished (it waits for a retry or is held):
    /// items sharing its keys stay held for the rest of the pass.
    pub(crate) fn park(&mut self, id: i64) {
        if let Some(pos) = self.running.iter().position(|(r, _)| *r == id) {
            let (_, keys) = self.running.remove(pos);
            self.parked.extend(keys);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shared_keys_run_in_order_others_side_by_side() {
        let mut s = Schedule::new();
        s.push(1, keys(&["mid:a", "from:x"]), 1);
        s.push(2, keys(&["mid:b", "mid:a", "from:y"]), 2); // answers a
        s.push(3, keys(&["mid:c", "from:z"]), 3);
        s.push(4, keys(&["mid:d", "mid:b", "from:w"]), 4); // answers b (held behind 2)
        assert_eq!(s.start(10), vec![1, 3]);
        assert_eq!(s.start(10), Vec::<i32>::new());
        s.finish(1);
        assert_eq!(s.start(10), vec![2]);
        s.finish(2);
        assert_eq!(s.start(10), vec![4]);
        assert_eq!(s.running(), 2);
    }

    #[test]
    fn an_item_left_pending_keeps_what_shares_its_keys_waiting() {
        let mut s = Schedule::new();
        s.push(1, keys(&["mid:a", "from:x"]), 1);
        s.push(2, keys(&["mid:b", "mid:a", "from:y"]), 2); // answers a
        s.push(3, keys(&["mid:c", "from:z"]), 3);
        assert_eq!(s.start(10), vec![1, 3]);
        s.park(1);
        s.finish(3);
        assert_eq!(s.start(10), Vec::<i32>::new(), "the reply waits for its parent's retry");
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn room_is_respected_and_order_kept() {
        let mut s = Schedule::new();
        for i in 0..5 {
            s.push(i, keys(&[&format!("mid:{i}")]), i);
        }
        assert_eq!(s.start(2), vec![0, 1]);
        assert_eq!(s.len(), 5);
        s.finish(0);
        assert_eq!(s.start(1), vec![2]);
    }

    #[test]
    fn a_later_item_never_overtakes_an_earlier_held_one_with_the_same_key() {
        let mut s = Schedule::new();
        s.push(1, keys(&["issue:HELP-1"]), 1);
        s.push(2, keys(&["issue:HELP-1", "from:a"]), 2);
        s.push(3, keys(&["from:a"]), 3);
        assert_eq!(s.start(10), vec![1]);
        s.finish(1);
        assert_eq!(s.start(10), vec![2]);
        s.finish(2);
        assert_eq!(s.start(10), vec![3]);
    }
}
