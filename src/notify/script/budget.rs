//! The memory and time budget of one script run, consulted by the checked
//! functions (`checked.rs`) *before* they allocate or loop.
//!
//! rhai checks sizes only after a native function has returned, and the
//! timeout only between operations; one `s.replace("a", s)` on a 64 KB
//! string asks for 4 GB before either check runs. The checked functions
//! compute the size of their result first and ask the budget, which
//! refuses when it is over a size limit, when the run's bytes would pass
//! the memory cap, or when the deadline has passed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult, Position};

use super::ScriptLimits;
use super::limits::{ELEMENT_BYTES, ENTRY_BYTES};

/// The `what` of the error when the memory cap is reached; `classify`
/// turns it into "more than N bytes of memory".
pub(super) const MEMORY: &str = "memory";

pub(super) type Refusal = Box<EvalAltResult>;

#[derive(Debug)]
pub(super) struct Budget {
    /// The effective limits (size limits held under the memory cap).
    limits: ScriptLimits,
    deadline: Option<Instant>,
    /// Bytes created so far by the checked functions.
    used: AtomicUsize,
}

impl Budget {
    pub(super) fn new(limits: &ScriptLimits) -> Self {
        let deadline = (!limits.timeout.is_zero()).then(|| Instant::now() + limits.timeout);
        Self { limits: limits.effective(), deadline, used: AtomicUsize::new(0) }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Refuse once the deadline has passed; called in every loop of a
    /// checked function, so that a long native call ends near the timeout.
    pub(super) fn check_time(&self) -> Result<(), Refusal> {
        match self.deadline {
            Some(d) if Instant::now() >= d => {
                Err(EvalAltResult::ErrorTerminated("timeout".into(), Position::NONE).into())
            }
            _ => Ok(()),
        }
    }

    /// Count `bytes` against the memory cap, or refuse (nothing counted).
    pub(super) fn charge(&self, bytes: usize) -> Result<(), Refusal> {
        self.check_time()?;
        let cap = self.limits.max_memory_bytes;
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let new = used.saturating_add(bytes);
            if cap > 0 && new > cap {
                return Err(too_large(MEMORY));
            }
            match self.used.compare_exchange_weak(used, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(now) => used = now,
            }
        }
    }

    /// A string of `bytes` is about to be made.
    pub(super) fn string(&self, bytes: usize) -> Result<(), Refusal> {
        self.string_fits(bytes)?;
        self.charge(bytes)
    }

    /// Whether a string of `bytes` is within the string limit (nothing
    /// counted).
    pub(super) fn string_fits(&self, bytes: usize) -> Result<(), Refusal> {
        let max = self.limits.max_string_size;
        if max > 0 && bytes > max {
            return Err(too_large("Length of string"));
        }
        Ok(())
    }

    /// An array of `items` elements (their own data `bytes` apart) is about
    /// to be made.
    pub(super) fn array(&self, items: usize, bytes: usize) -> Result<(), Refusal> {
        let max = self.limits.max_array_size;
        if max > 0 && items > max {
            return Err(too_large("Size of array"));
        }
        self.charge(items.saturating_mul(ELEMENT_BYTES).saturating_add(bytes))
    }

    /// Check a result being built element by element (`map`, `filter`,
    /// `zip`): its nested sizes so far, against the size limits. Charging
    /// is left to the caller, per element, so the total work stays linear.
    pub(super) fn within_sizes(&self, sizes: Sizes) -> Result<(), Refusal> {
        let l = &self.limits;
        let over = |n: usize, max: usize| max > 0 && n > max;
        if over(sizes.string_bytes, l.max_string_size) {
            return Err(too_large("Length of string"));
        }
        if over(sizes.array_items, l.max_array_size) {
            return Err(too_large("Size of array"));
        }
        if over(sizes.map_entries, l.max_map_size) {
            return Err(too_large("Size of object map"));
        }
        Ok(())
    }
}

fn too_large(what: &str) -> Refusal {
    EvalAltResult::ErrorDataTooLarge(what.into(), Position::NONE).into()
}

/// Nested sizes of a value, counted as rhai counts them (array elements,
/// map entries, string bytes, all levels added up), plus map key bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Sizes {
    pub array_items: usize,
    pub map_entries: usize,
    pub string_bytes: usize,
}

impl Sizes {
    pub(super) fn of_items(items: &[Dynamic]) -> Self {
        let mut sizes = Self::default();
        items.iter().for_each(|v| sizes.add_element(v));
        sizes
    }

    /// Add `value` as one more element of an array.
    pub(super) fn add_element(&mut self, value: &Dynamic) {
        self.array_items = self.array_items.saturating_add(1);
        self.add(value);
    }

    fn add(&mut self, value: &Dynamic) {
        if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
            self.string_bytes = self.string_bytes.saturating_add(s.len());
        } else if let Some(items) = value.read_lock::<rhai::Array>() {
            items.iter().for_each(|v| self.add_element(v));
        } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
            self.array_items = self.array_items.saturating_add(blob.len());
        } else if let Some(map) = value.read_lock::<rhai::Map>() {
            for (k, v) in map.iter() {
                self.map_entries = self.map_entries.saturating_add(1);
                self.string_bytes = self.string_bytes.saturating_add(k.len());
                self.add(v);
            }
        }
    }

    /// Approximate heap bytes of a value of these sizes.
    pub(super) fn bytes(&self) -> usize {
        self.string_bytes
            .saturating_add(self.array_items.saturating_mul(ELEMENT_BYTES))
            .saturating_add(self.map_entries.saturating_mul(ENTRY_BYTES))
    }
}
