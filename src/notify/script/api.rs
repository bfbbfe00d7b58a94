//! What a script can call (`add_user`, `add_group`, `add_role`, `remove`,
//! `skip`) and what it may return.

use std::sync::{Arc, Mutex, PoisonError};

use rhai::{Dynamic, Engine, EvalAltResult};

use super::{ScriptError, ScriptOutcome};
use crate::domain::EmailAddress;

type RhaiResult = Result<(), Box<EvalAltResult>>;

pub(super) fn register_api(engine: &mut Engine, state: &Arc<Mutex<ScriptOutcome>>) {
    fn with(state: &Arc<Mutex<ScriptOutcome>>, f: impl FnOnce(&mut ScriptOutcome)) {
        f(&mut state.lock().unwrap_or_else(PoisonError::into_inner));
    }
    let s = state.clone();
    engine.register_fn("add_user", move |v: Dynamic| -> RhaiResult {
        if let Some(addr) = email_arg("add_user", v)? {
            with(&s, |o| push_unique(&mut o.users, addr));
        }
        Ok(())
    });
    let s = state.clone();
    engine.register_fn("remove", move |v: Dynamic| -> RhaiResult {
        if let Some(addr) = email_arg("remove", v)? {
            with(&s, |o| push_unique(&mut o.removed, addr));
        }
        Ok(())
    });
    let s = state.clone();
    engine.register_fn("add_group", move |v: Dynamic| -> RhaiResult {
        let name = name_arg("add_group", v)?;
        with(&s, |o| push_unique(&mut o.groups, name));
        Ok(())
    });
    let s = state.clone();
    engine.register_fn("add_role", move |v: Dynamic| -> RhaiResult {
        let name = name_arg("add_role", v)?;
        with(&s, |o| push_unique(&mut o.roles, name));
        Ok(())
    });
    let s = state.clone();
    engine.register_fn("skip", move || with(&s, |o| o.skip = true));
}

/// An address argument: a plausible email (normalised), or `()` (an unknown
/// address: nothing to do).
fn email_arg(function: &str, v: Dynamic) -> Result<Option<String>, String> {
    if v.is_unit() {
        return Ok(None);
    }
    let Some(s) = v.clone().try_cast::<rhai::ImmutableString>() else {
        return Err(format!("{function}: expected an email address (string), got {}", v.type_name()));
    };
    match EmailAddress::parse(&s) {
        Ok(addr) => Ok(Some(addr.to_string())),
        Err(e) => Err(format!("{function}: {e}")),
    }
}

/// A group or role name: a non-empty string, trimmed.
fn name_arg(function: &str, v: Dynamic) -> Result<String, String> {
    match v.clone().try_cast::<rhai::ImmutableString>() {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(_) => Err(format!("{function}: empty name")),
        None => Err(format!("{function}: expected a name (string), got {}", v.type_name())),
    }
}

/// The script's value: nothing, or an array of addresses (added as users;
/// `()` items are skipped). Anything else is garbage.
pub(super) fn take_returned(script: &str, value: Dynamic, outcome: &mut ScriptOutcome) -> Result<(), ScriptError> {
    let garbage = |message: String| ScriptError::Garbage { script: script.into(), message };
    if value.is_unit() {
        return Ok(());
    }
    let type_name = value.type_name();
    let Some(items) = value.try_cast::<rhai::Array>() else {
        return Err(garbage(format!("returned a {type_name}; expected an array of email addresses or nothing")));
    };
    for (i, item) in items.into_iter().enumerate() {
        match email_arg("returned array", item) {
            Ok(Some(addr)) => push_unique(&mut outcome.users, addr),
            Ok(None) => {}
            Err(e) => return Err(garbage(format!("item {i}: {e}"))),
        }
    }
    Ok(())
}

pub(super) fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}
