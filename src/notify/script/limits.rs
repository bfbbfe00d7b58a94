//! The sandbox limits of a script run, and the stack they need.

use std::time::Duration;

/// Sandbox limits for one script run. As in rhai, `0` means "unlimited" for
/// operations and sizes (and `Duration::ZERO` for the timeout); for call
/// levels it means "no script function calls".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    /// Bytes a run may create through the functions that can grow data
    /// (`pad`, `replace`, `split`, `map`, …: see `checked.rs`), counted
    /// before they allocate and never given back, so a bound on what the
    /// run can hold through them. The string, array and map limits are
    /// also held under it, even when they are off (`0`).
    pub max_memory_bytes: usize,
    pub timeout: Duration,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            max_operations: 100_000,
            max_call_levels: 32,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_memory_bytes: 64 << 20,
            timeout: Duration::from_secs(1),
        }
    }
}

/// Rough bytes of one array element (a `Dynamic`) and of one map entry
/// (key, value and tree overhead), to turn the memory cap into counts.
pub(super) const ELEMENT_BYTES: usize = 16;
pub(super) const ENTRY_BYTES: usize = 64;

impl ScriptLimits {
    /// The string, array and map limits the engine enforces: as configured,
    /// but never above what the memory cap allows (`0` = unlimited). rhai
    /// does not count map keys, and a key can be as long as a string, so
    /// a map gets as many entries as full-length keys fit in the cap
    /// (1,000 with the defaults).
    pub(super) fn effective(&self) -> Self {
        let cap = self.max_memory_bytes;
        let within = |limit: usize, per_item: usize| match (limit, cap) {
            (_, 0) => limit,
            (0, cap) => (cap / per_item).max(1),
            (limit, cap) => limit.min((cap / per_item).max(1)),
        };
        let max_string_size = within(self.max_string_size, 1);
        Self {
            max_string_size,
            max_array_size: within(self.max_array_size, ELEMENT_BYTES),
            max_map_size: within(self.max_map_size, ENTRY_BYTES.saturating_add(max_string_size)),
            ..*self
        }
    }
}

/// Stack of the thread a script runs on: a base, plus a generous amount per
/// allowed call level and per possible level of nested data (bounded by the
/// array and map size limits); capped, and the cap when a limit is off. Only
/// the pages used are committed.
const STACK_BASE: usize = 8 << 20;
const STACK_PER_CALL_LEVEL: usize = 256 << 10;
const STACK_PER_DATA_LEVEL: usize = 8 << 10;
const STACK_MAX: usize = 1 << 30;

pub(super) fn stack_size(limits: &ScriptLimits) -> usize {
    if limits.max_array_size == 0 || limits.max_map_size == 0 {
        return STACK_MAX;
    }
    let data_levels = limits.max_array_size.saturating_add(limits.max_map_size);
    STACK_BASE
        .saturating_add(limits.max_call_levels.saturating_mul(STACK_PER_CALL_LEVEL))
        .saturating_add(data_levels.saturating_mul(STACK_PER_DATA_LEVEL))
        .min(STACK_MAX)
}
