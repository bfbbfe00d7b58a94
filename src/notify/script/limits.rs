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
            timeout: Duration::from_secs(1),
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
