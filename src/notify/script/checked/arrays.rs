//! Checked array functions that call back into the script: `map`,
//! `filter` and `zip` check the result as it grows (rhai checks it only
//! when complete, after 10,000 padded strings were made), and `sort`,
//! `order` and `dedup` with a comparer pass its errors on (rhai's ignore
//! them, so a failing or timed-out comparer "succeeds"). Every loop looks
//! at the deadline.

use std::cmp::Ordering;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, INT, NativeCallContext, Position};

use super::super::budget::{Budget, Refusal, Sizes};

type Built = Result<Array, Refusal>;

pub(super) fn register(engine: &mut Engine, budget: &Arc<Budget>) {
    let pure = |name: &str| FuncRegistration::new(name).with_purity(true);
    let b = budget.clone();
    pure("map").register_into_engine(engine, move |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Built {
        let mut out = Grown::new(&b, a.len());
        for (i, item) in a.iter_mut().enumerate() {
            out.push(call_on_item(&ctx, &f, "map", item, i)?)?;
        }
        Ok(out.items)
    });
    let b = budget.clone();
    pure("filter").register_into_engine(engine, move |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Built {
        let mut out = Grown::new(&b, 0);
        for (i, item) in a.iter_mut().enumerate() {
            if call_on_item(&ctx, &f, "filter", item, i)?.as_bool().unwrap_or(false) {
                out.push(item.clone())?;
            }
        }
        Ok(out.items)
    });
    let b = budget.clone();
    pure("zip").register_into_engine(
        engine,
        move |ctx: NativeCallContext, a: &mut Array, other: Array, f: FnPtr| -> Built {
            let mut out = Grown::new(&b, a.len().min(other.len()));
            for (i, (x, y)) in a.iter().zip(other).enumerate() {
                let index = Dynamic::from(INT::try_from(i).unwrap_or(INT::MAX));
                let value = f
                    .call_raw(&ctx, None, [x.clone(), y.clone()])
                    .or_else(|e| retry_with(e, &f, || f.call_raw(&ctx, None, [x.clone(), y.clone(), index.clone()])))
                    .map_err(|e| in_call("zip", &ctx, e))?;
                out.push(value)?;
            }
            Ok(out.items)
        },
    );

    for name in ["sort", "sort_by"] {
        let b = budget.clone();
        engine.register_fn(name, move |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<(), Refusal> {
            sort(&b, &ctx, a, &f)
        });
    }
    for name in ["order", "order_by"] {
        let b = budget.clone();
        pure(name).register_into_engine(engine, move |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Built {
            b.charge(Sizes::of_items(a).bytes())?;
            let mut copy = a.clone();
            sort(&b, &ctx, &mut copy, &f)?;
            Ok(copy)
        });
    }
    let b = budget.clone();
    engine.register_fn("dedup", move |ctx: NativeCallContext, a: &mut Array, f: FnPtr| -> Result<(), Refusal> {
        // Decide first, then remove: an error leaves the array as it was.
        let mut keep = vec![false; a.len()];
        let mut last: Option<usize> = None;
        for i in 0..a.len() {
            b.check_time()?;
            let duplicate = match last {
                Some(l) => is_true(f.call_raw(&ctx, None, [a[l].clone(), a[i].clone()]), "dedup", &ctx)?,
                None => false,
            };
            if !duplicate {
                keep[i] = true;
                last = Some(i);
            }
        }
        let mut flags = keep.into_iter();
        a.retain(|_| flags.next().unwrap_or(true));
        Ok(())
    });
}

/// A result array checked and charged element by element.
struct Grown<'a> {
    budget: &'a Budget,
    items: Array,
    sizes: Sizes,
}

impl<'a> Grown<'a> {
    fn new(budget: &'a Budget, capacity: usize) -> Self {
        Self { budget, items: Array::with_capacity(capacity.min(1024)), sizes: Sizes::default() }
    }

    fn push(&mut self, value: Dynamic) -> Result<(), Refusal> {
        let before = self.sizes.bytes();
        self.sizes.add_element(&value);
        self.budget.within_sizes(self.sizes)?;
        self.budget.charge(self.sizes.bytes().saturating_sub(before))?;
        self.items.push(value);
        Ok(())
    }
}

/// Call `f` for an array element as rhai does: bound to `this`, else with
/// the element, else with the element and its index.
fn call_on_item(
    ctx: &NativeCallContext,
    f: &FnPtr,
    caller: &str,
    item: &mut Dynamic,
    i: usize,
) -> Result<Dynamic, Refusal> {
    let index = Dynamic::from(INT::try_from(i).unwrap_or(INT::MAX));
    f.call_raw(ctx, Some(item), [])
        .or_else(|e| retry_with(e, f, || f.call_raw(ctx, None, [item.clone()])))
        .or_else(|e| retry_with(e, f, || f.call_raw(ctx, None, [item.clone(), index.clone()])))
        .map_err(|e| in_call(caller, ctx, e))
}

/// Try the next way of calling `f` only when `f` was not found with the
/// previous arguments; any other error is the result.
fn retry_with(err: Refusal, f: &FnPtr, next: impl FnOnce() -> Result<Dynamic, Refusal>) -> Result<Dynamic, Refusal> {
    match *err {
        EvalAltResult::ErrorFunctionNotFound(ref sig, _) if sig.starts_with(f.fn_name()) => next(),
        _ => Err(err),
    }
}

fn in_call(caller: &str, ctx: &NativeCallContext, err: Refusal) -> Refusal {
    let source = ctx.call_source().unwrap_or("").to_string();
    EvalAltResult::ErrorInFunctionCall(caller.into(), source, err, Position::NONE).into()
}

fn is_true(result: Result<Dynamic, Refusal>, caller: &str, ctx: &NativeCallContext) -> Result<bool, Refusal> {
    let value = result.map_err(|e| in_call(caller, ctx, e))?;
    value.as_bool().map_err(|t| runtime(format!("{caller}: the comparer returned a {t}, not a bool")))
}

fn runtime(message: String) -> Refusal {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// A stable merge sort whose comparer may fail: the first error ends it
/// and leaves the array as it was. The comparer returns a number (its
/// sign is the order) or a bool (`true`: the first goes first).
fn sort(budget: &Budget, ctx: &NativeCallContext, a: &mut Array, f: &FnPtr) -> Result<(), Refusal> {
    if a.len() <= 1 {
        return Ok(());
    }
    let mut compare = |x: usize, y: usize| -> Result<Ordering, Refusal> {
        budget.check_time()?;
        let v = f.call_raw(ctx, None, [a[x].clone(), a[y].clone()]).map_err(|e| in_call("sort", ctx, e))?;
        if let Ok(n) = v.as_int() {
            return Ok(n.cmp(&0));
        }
        match v.as_bool() {
            Ok(true) => Ok(Ordering::Less),
            Ok(false) => Ok(Ordering::Greater),
            Err(t) => Err(runtime(format!("sort: the comparer returned a {t}, not a number"))),
        }
    };
    let order = merge_sort(a.len(), &mut compare)?;
    let mut taken: Vec<Dynamic> = std::mem::take(a);
    *a = order.into_iter().map(|i| std::mem::take(&mut taken[i])).collect();
    Ok(())
}

/// The indices `0..n` in sorted order (bottom-up merge sort, stable).
fn merge_sort(
    n: usize,
    compare: &mut impl FnMut(usize, usize) -> Result<Ordering, Refusal>,
) -> Result<Vec<usize>, Refusal> {
    let mut src: Vec<usize> = (0..n).collect();
    let mut dst: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        dst.clear();
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                if compare(src[j], src[i])? == Ordering::Less {
                    dst.push(src[j]);
                    j += 1;
                } else {
                    dst.push(src[i]);
                    i += 1;
                }
            }
            dst.extend_from_slice(&src[i..mid]);
            dst.extend_from_slice(&src[j..end]);
            start = end;
        }
        std::mem::swap(&mut src, &mut dst);
        width *= 2;
    }
    Ok(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sort_is_stable_and_sorts() {
        let keys = [3, 1, 2, 1, 3, 0, 2];
        let order = merge_sort(keys.len(), &mut |x, y| Ok(keys[x].cmp(&keys[y]))).expect("sorts");
        assert_eq!(order, [5, 1, 3, 2, 6, 0, 4]);
    }
}
