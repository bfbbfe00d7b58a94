//! The rhai engine of the sandbox: settings, `print`/`debug` routing, the
//! event as the script sees it, and rhai errors to [`ScriptError`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::{Engine, EvalAltResult, Module, OptimizationLevel, Shared};

use super::budget::MEMORY;
use super::{ScriptError, ScriptLimits, Scripts};

impl Scripts {
    pub(super) fn classify(&self, script: &str, err: EvalAltResult) -> ScriptError {
        let script = script.to_string();
        let outer_line = err.position().line();
        let (mut inner, function) = innermost(err, None);
        let line = inner.take_position().line().or(outer_line);
        let limit = |message: String| ScriptError::Limit { script: script.clone(), message };
        match inner {
            EvalAltResult::ErrorTooManyOperations(_) => {
                limit(format!("more than {} operations", self.limits.max_operations))
            }
            EvalAltResult::ErrorTerminated(..) => limit(format!("ran longer than {:?}", self.limits.timeout)),
            EvalAltResult::ErrorStackOverflow(_) => {
                limit(format!("more than {} nested function calls", self.limits.max_call_levels))
            }
            EvalAltResult::ErrorDataTooLarge(what, _) if what == MEMORY => {
                limit(format!("more than {} bytes of memory", self.limits.max_memory_bytes))
            }
            EvalAltResult::ErrorDataTooLarge(what, _) => limit(format!("{what} too large")),
            EvalAltResult::ErrorTooManyModules(_) | EvalAltResult::ErrorTooManyVariables(_) => limit(inner.to_string()),
            EvalAltResult::ErrorRuntime(value, _) => {
                let message = match value.clone().try_cast::<rhai::ImmutableString>() {
                    Some(s) => s.to_string(),
                    None => format!("thrown: {value}"),
                };
                ScriptError::Runtime { script, line, message: in_function(message, function) }
            }
            other => ScriptError::Runtime { script, line, message: in_function(other.to_string(), function) },
        }
    }
}

/// The error under any "error in function call" wrappers, and the name of
/// the innermost script function.
fn innermost(err: EvalAltResult, function: Option<String>) -> (EvalAltResult, Option<String>) {
    match err {
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => innermost(*inner, Some(name)),
        EvalAltResult::ErrorInModule(_, inner, _) => innermost(*inner, function),
        other => (other, function),
    }
}

fn in_function(message: String, function: Option<String>) -> String {
    match function {
        Some(f) => format!("{message} (in function {f})"),
        None => message,
    }
}

/// `print`/`debug` lines logged per run; the rest is dropped.
const MAX_OUTPUT_LINES: usize = 100;

pub(super) fn truncate_strings(value: &mut serde_json::Value, max_bytes: usize) {
    match value {
        serde_json::Value::String(s) if s.len() > max_bytes => {
            let mut end = max_bytes;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| truncate_strings(v, max_bytes)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| truncate_strings(v, max_bytes)),
        _ => {}
    }
}

/// `print` and `debug` go to tracing (target `mailgate::script`), at most
/// [`MAX_OUTPUT_LINES`] per run.
pub(super) fn route_output(engine: &mut Engine, script: &str) {
    let lines = Arc::new(AtomicUsize::new(0));
    let allowed = move |lines: &AtomicUsize| {
        let n = lines.fetch_add(1, Ordering::Relaxed);
        if n == MAX_OUTPUT_LINES {
            tracing::info!(target: "mailgate::script", "further print/debug output of this run is dropped");
        }
        n < MAX_OUTPUT_LINES
    };
    let (name, count) = (script.to_string(), lines.clone());
    engine.on_print(move |s| {
        if allowed(&count) {
            tracing::info!(target: "mailgate::script", script = %name, "{s}");
        }
    });
    let (name, count) = (script.to_string(), lines);
    engine.on_debug(move |s, _, pos| {
        if allowed(&count) {
            tracing::debug!(target: "mailgate::script", script = %name, line = pos.line(), "{s}");
        }
    });
}

/// An engine with the sandbox settings; used to compile and (with the
/// script API and the checked functions registered) to run. The size
/// limits are held under the memory cap.
pub(super) fn sandbox(std: &Shared<Module>, limits: &ScriptLimits) -> Engine {
    let limits = limits.effective();
    let mut engine = Engine::new_raw();
    engine.register_global_module(std.clone());
    engine.set_module_resolver(DummyModuleResolver::new());
    engine.set_max_modules(0);
    engine.disable_symbol("eval");
    engine.disable_symbol("import");
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_optimization_level(OptimizationLevel::Simple);
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_expr_depths(64, 32);
    engine
}
