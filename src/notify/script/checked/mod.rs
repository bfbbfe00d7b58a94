//! Size-checked replacements of the rhai functions that can make data far
//! larger than their arguments or loop over script callbacks. Registered
//! on the engine, they shadow the standard package's functions of the same
//! name and argument types.
//!
//! Left to rhai, because their result is bounded by what they are given
//! (each value is already within the size limits) or rhai checks before it
//! allocates: `+`/`+=` of strings (the built-in operator checks the sum
//! first), `sub_string`, `crop`, `to_upper`/`to_lower`, `trim`, `keys`,
//! `values`, `to_string`/`to_debug`, array `pad` and `blob(n)` (checked
//! first by rhai), `push`/`append`/`+` of arrays (checked right after, at
//! most twice the array limit), and the callbacks that return a bool or
//! one value (`all`, `some`, `find`, `index_of`, `retain`, `drain`,
//! `reduce`: rhai passes their errors on).

mod arrays;
mod strings;

use std::sync::Arc;

use rhai::Engine;

use super::budget::Budget;

pub(super) fn register(engine: &mut Engine, budget: &Arc<Budget>) {
    strings::register(engine, budget);
    arrays::register(engine, budget);
}
