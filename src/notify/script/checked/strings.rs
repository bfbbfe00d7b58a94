//! Checked string functions: the size of the result is known (and asked of
//! the [`Budget`]) before any byte of it is allocated. Same results as
//! rhai's own (`string_more`), except where those never return.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FuncRegistration, INT, ImmutableString, NativeCallContext};

use super::super::budget::{Budget, Refusal};

type Done = Result<(), Refusal>;

pub(super) fn register(engine: &mut Engine, budget: &Arc<Budget>) {
    let b = budget.clone();
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, ch: char| -> Done {
        pad(&b, s, len, &ch.to_string())
    });
    let b = budget.clone();
    engine.register_fn("pad", move |s: &mut ImmutableString, len: INT, padding: ImmutableString| -> Done {
        pad(&b, s, len, &padding)
    });

    let b = budget.clone();
    engine.register_fn("replace", move |s: &mut ImmutableString, find: ImmutableString, with: ImmutableString| {
        replace(&b, s, &find, &with)
    });
    let b = budget.clone();
    engine.register_fn("replace", move |s: &mut ImmutableString, find: ImmutableString, with: char| {
        replace(&b, s, &find, &with.to_string())
    });
    let b = budget.clone();
    engine.register_fn("replace", move |s: &mut ImmutableString, find: char, with: ImmutableString| {
        replace(&b, s, &find.to_string(), &with)
    });
    let b = budget.clone();
    engine.register_fn("replace", move |s: &mut ImmutableString, find: char, with: char| {
        replace(&b, s, &find.to_string(), &with.to_string())
    });

    // A string and a value that is not a string (`"k" + i`): the value's
    // text can be as long as a string. (Two strings, or a string and a
    // character, go to rhai's built-in operator, which checks first.)
    let b = budget.clone();
    engine.register_fn("+", move |ctx: NativeCallContext, s: ImmutableString, item: Dynamic| {
        let text = text_of(&ctx, item)?;
        joined(&b, &s, &text)
    });
    let b = budget.clone();
    engine.register_fn("+", move |ctx: NativeCallContext, item: Dynamic, s: ImmutableString| {
        let text = text_of(&ctx, item)?;
        joined(&b, &text, &s)
    });
    for name in ["+=", "append"] {
        let b = budget.clone();
        engine.register_fn(name, move |ctx: NativeCallContext, s: &mut ImmutableString, item: Dynamic| -> Done {
            let text = text_of(&ctx, item)?;
            *s = joined(&b, s, &text)?;
            Ok(())
        });
    }

    // `split` and `to_chars` read their string: pure, so they work on the
    // (constant) event's strings too.
    let pure = |name: &str| FuncRegistration::new(name).with_purity(true);
    let b = budget.clone();
    pure("split").register_into_engine(engine, move |s: &mut ImmutableString| {
        if s.is_empty() {
            return Ok(vec![s.clone().into()]);
        }
        pieces(&b, s, s.split_whitespace().count(), || s.split_whitespace())
    });
    let b = budget.clone();
    pure("split").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: ImmutableString| {
        split(&b, s, &delimiter, None, false)
    });
    let b = budget.clone();
    pure("split").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: char| {
        split(&b, s, &delimiter.to_string(), None, false)
    });
    let b = budget.clone();
    pure("split").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: ImmutableString, n: INT| {
        split(&b, s, &delimiter, Some(n), false)
    });
    let b = budget.clone();
    pure("split").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: char, n: INT| {
        split(&b, s, &delimiter.to_string(), Some(n), false)
    });
    let b = budget.clone();
    pure("split_rev").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: ImmutableString| {
        split(&b, s, &delimiter, None, true)
    });
    let b = budget.clone();
    pure("split_rev").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: char| {
        split(&b, s, &delimiter.to_string(), None, true)
    });
    let b = budget.clone();
    pure("split_rev")
        .register_into_engine(engine, move |s: &mut ImmutableString, delimiter: ImmutableString, n: INT| {
            split(&b, s, &delimiter, Some(n), true)
        });
    let b = budget.clone();
    pure("split_rev").register_into_engine(engine, move |s: &mut ImmutableString, delimiter: char, n: INT| {
        split(&b, s, &delimiter.to_string(), Some(n), true)
    });
    let b = budget.clone();
    pure("to_chars").register_into_engine(engine, move |s: &mut ImmutableString| -> Result<Array, Refusal> {
        b.array(s.chars().count(), 0)?;
        Ok(s.chars().map(Dynamic::from).collect())
    });
}

/// The text of a value as `print` and `+` show it.
fn text_of(ctx: &NativeCallContext, item: Dynamic) -> Result<ImmutableString, Refusal> {
    if item.is_string() {
        return item.into_immutable_string().map_err(|t| format!("not a string: {t}").into());
    }
    ctx.call_native_fn::<ImmutableString>("to_string", (item,))
}

fn joined(budget: &Budget, a: &ImmutableString, b: &ImmutableString) -> Result<ImmutableString, Refusal> {
    if b.is_empty() {
        return Ok(a.clone());
    }
    if a.is_empty() {
        return Ok(b.clone());
    }
    budget.string(a.len().saturating_add(b.len()))?;
    let mut out = String::with_capacity(a.len() + b.len());
    out.push_str(a);
    out.push_str(b);
    Ok(out.into())
}

/// Pad `s` to `len` characters with whole copies of `padding`, the last
/// one cut. Unlike rhai's, an empty padding does nothing (rhai's loops
/// forever).
fn pad(budget: &Budget, s: &mut ImmutableString, len: INT, padding: &str) -> Done {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    // A character is at least a byte: refuse a huge `len` before counting.
    budget.string_fits(len)?;
    let have = s.chars().count();
    let padding_chars = padding.chars().count();
    if len <= have || padding_chars == 0 {
        return Ok(());
    }
    let missing = len - have;
    let (whole, rest) = (missing / padding_chars, missing % padding_chars);
    let tail: usize = padding.chars().take(rest).map(char::len_utf8).sum();
    let added = whole.saturating_mul(padding.len()).saturating_add(tail);
    budget.string(s.len().saturating_add(added))?;
    let mut out = String::with_capacity(s.len() + added);
    out.push_str(s);
    for _ in 0..whole {
        out.push_str(padding);
    }
    out.extend(padding.chars().take(rest));
    *s = out.into();
    Ok(())
}

/// Replace every `find` in `s` by `with`; the result's length is counted
/// first (Rust's `replace` with an empty `find` inserts at every character
/// boundary).
fn replace(budget: &Budget, s: &mut ImmutableString, find: &str, with: &str) -> Done {
    if s.is_empty() {
        return Ok(());
    }
    let hits = if find.is_empty() { s.chars().count() + 1 } else { s.matches(find).count() };
    if hits == 0 {
        return Ok(());
    }
    let len = (s.len() - hits * find.len()).saturating_add(hits.saturating_mul(with.len()));
    budget.string(len)?;
    *s = s.replace(find, with).into();
    Ok(())
}

/// `split`/`split_rev` by a delimiter, into at most `n` pieces when given.
fn split(budget: &Budget, s: &ImmutableString, delimiter: &str, n: Option<INT>, rev: bool) -> Result<Array, Refusal> {
    let whole = || Ok(vec![Dynamic::from(s.clone())]);
    if s.is_empty() || (!delimiter.is_empty() && !s.contains(delimiter)) {
        return whole();
    }
    let all = if delimiter.is_empty() { s.chars().count() + 2 } else { s.matches(delimiter).count() + 1 };
    match n {
        Some(n) if n <= 1 => whole(),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let count = all.min(n);
            if rev {
                pieces(budget, s, count, || s.rsplitn(n, delimiter))
            } else {
                pieces(budget, s, count, || s.splitn(n, delimiter))
            }
        }
        None if rev => pieces(budget, s, all, || s.rsplit(delimiter)),
        None => pieces(budget, s, all, || s.split(delimiter)),
    }
}

/// Collect `count` pieces of `s` once the budget allows them (each piece
/// a new string: at most the whole of `s` in all).
fn pieces<'a, I: Iterator<Item = &'a str>>(
    budget: &Budget,
    s: &ImmutableString,
    count: usize,
    iter: impl FnOnce() -> I,
) -> Result<Array, Refusal> {
    budget.array(count, s.len())?;
    Ok(iter().map(|piece| Dynamic::from(ImmutableString::from(piece))).collect())
}
