//! Notification recipients chosen by admin-written rhai scripts.
//!
//! One script per event kind (`issue_created.rhai`, `issue_updated.rhai`,
//! `comment_created.rhai`), `default.rhai` for kinds without their own. All
//! are compiled at load, so a syntax error stops the start with the file and
//! line. A script sees the event as the read-only constant `event` (a map
//! with the field names of [`Event`]; `None` is `()`) and chooses recipients
//! with `add_user(email)`, `add_group(name)`, `add_role(role)`,
//! `remove(email)` and `skip()`, or by returning an array of addresses.
//!
//! `add_user(())` and `remove(())` do nothing (an unknown address), so
//! `add_user(event.assignee?.email)` needs no check; any other non-address
//! is an error. Undefined variables are refused at load (strict variables),
//! and reading a missing map property (`event.reportr`) is a runtime error
//! rather than `()`. Assigning to `event` is a runtime error ("Cannot modify
//! constant event"); the caller's [`Event`] is never changed (the script gets
//! a converted copy). Strings in that copy are cut to half the string-size
//! limit, so a long comment can still be read and transformed.
//!
//! Sandbox: every run gets its own engine (the standard package is built once
//! and shared) on its own thread (a stack sized for the limits, so deep
//! recursion or nesting ends in an error, not a process abort), with
//! operation, call-depth, size and wall-clock limits; `import` and `eval` are
//! refused at load (no module resolver either); `print`/`debug` go to tracing
//! (target `mailgate::script`, at most 100 lines per run). rhai has no file or
//! network access of its own and none is registered.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Engine, EvalAltResult, Module, OptimizationLevel, Scope, Shared};
use serde::Serialize;

use super::event::{Event, EventKind};
use crate::domain::EmailAddress;

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

/// What a script decided. Addresses are trimmed and lower-cased; each list
/// holds each value once, in the order first added. `remove` wins over
/// `add_user` whatever the order (removed addresses are not in `users`, and
/// the caller also drops them from expanded groups). `skip` means nobody is
/// notified; the lists are then empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScriptOutcome {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub removed: Vec<String>,
    pub skip: bool,
}

impl ScriptOutcome {
    /// The recipients used when no script applies: the reporter and the
    /// watchers (those with a known, plausible address).
    pub fn defaults_for(event: &Event) -> Self {
        let mut out = Self::default();
        for person in event.reporter.iter().chain(&event.watchers) {
            if let Some(addr) = person.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()) {
                push_unique(&mut out.users, addr.to_string());
            }
        }
        out
    }

    fn finish(mut self) -> Self {
        if self.skip {
            return Self { skip: true, ..Self::default() };
        }
        self.users.retain(|u| !self.removed.contains(u));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// A syntax error (or a refused construct such as `import`/`eval`) at load.
    #[error("script {script}{}: syntax error: {message}", at_line(*.line))]
    Compile { script: String, line: Option<usize>, message: String },
    /// The script failed while running: `throw`, a type error, a bad address.
    #[error("script {script}{}: {message}", at_line(*.line))]
    Runtime { script: String, line: Option<usize>, message: String },
    /// Operations, call depth, data size or the wall-clock timeout.
    #[error("script {script}: limit exceeded: {message}")]
    Limit { script: String, message: String },
    /// The script returned something other than an array of addresses or nothing.
    #[error("script {script}: unusable return value: {message}")]
    Garbage { script: String, message: String },
    /// The folder or a file could not be read, or a file name is not a known script.
    #[error("script {script}: {message}")]
    Load { script: String, message: String },
}

impl ScriptError {
    /// The script (file) name the error is about.
    pub fn script(&self) -> &str {
        match self {
            Self::Compile { script, .. }
            | Self::Runtime { script, .. }
            | Self::Limit { script, .. }
            | Self::Garbage { script, .. }
            | Self::Load { script, .. } => script,
        }
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

const DEFAULT_NAME: &str = "default";
const KINDS: [EventKind; 3] = [EventKind::IssueCreated, EventKind::IssueUpdated, EventKind::CommentCreated];

struct Compiled {
    /// File name, e.g. `comment_created.rhai`.
    name: String,
    ast: AST,
}

/// The compiled scripts of a folder, ready to run from any thread.
pub struct Scripts {
    /// By file stem: an event kind's name or `default`.
    by_name: HashMap<String, Compiled>,
    limits: ScriptLimits,
    std: Shared<Module>,
}

impl fmt::Debug for Scripts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scripts").field("names", &self.names()).field("limits", &self.limits).finish()
    }
}

impl Scripts {
    /// Compile every `*.rhai` file of `dir` (other files are ignored). A file
    /// whose name is not an event kind or `default` is an error, as is any
    /// syntax error: both are reported with the file name.
    pub fn load(dir: &Path, limits: ScriptLimits) -> Result<Self, ScriptError> {
        let load_err = |script: &Path, e: std::io::Error| ScriptError::Load {
            script: script.display().to_string(),
            message: format!("cannot read: {e}"),
        };
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| load_err(dir, e))? {
            let path = entry.map_err(|e| load_err(dir, e))?.path();
            if path.extension().is_none_or(|ext| ext != "rhai") || !path.is_file() {
                continue;
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let source = std::fs::read_to_string(&path).map_err(|e| load_err(&path, e))?;
            sources.push((name, source));
        }
        sources.sort();
        Self::from_sources(sources, limits)
    }

    /// Compile scripts given as `(name, source)`; the name is the file name
    /// with or without `.rhai` (`"comment_created"`, `"default.rhai"`).
    pub fn from_sources<I, N, S>(sources: I, limits: ScriptLimits) -> Result<Self, ScriptError>
    where
        I: IntoIterator<Item = (N, S)>,
        N: AsRef<str>,
        S: AsRef<str>,
    {
        let std = StandardPackage::new().as_shared_module();
        let engine = sandbox(&std, &limits);
        // `event` is known to the compiler (strict variables), as a plain
        // variable so that the optimizer cannot fold a value into the AST.
        let mut scope = Scope::new();
        scope.push_dynamic("event", Dynamic::UNIT);
        let mut scripts = Self { by_name: HashMap::new(), limits, std: std.clone() };
        for (name, source) in sources {
            let stem = name.as_ref().trim().trim_end_matches(".rhai").to_string();
            let file = format!("{stem}.rhai");
            if stem != DEFAULT_NAME && !KINDS.iter().any(|k| k.as_str() == stem) {
                let known: Vec<String> =
                    KINDS.iter().map(|k| k.as_str()).chain([DEFAULT_NAME]).map(|n| format!("{n}.rhai")).collect();
                return Err(ScriptError::Load {
                    script: file,
                    message: format!("not a known script name; expected one of {}", known.join(", ")),
                });
            }
            if scripts.by_name.contains_key(&stem) {
                return Err(ScriptError::Load { script: file, message: "given twice".into() });
            }
            let ast = engine.compile_with_scope(&scope, source.as_ref()).map_err(|e| ScriptError::Compile {
                script: file.clone(),
                line: e.position().line(),
                message: e.err_type().to_string(),
            })?;
            scripts.by_name.insert(stem, Compiled { name: file, ast });
        }
        Ok(scripts)
    }

    /// The file names of the loaded scripts, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.values().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// The script that runs for `kind`: its own, else `default.rhai`, else none.
    pub fn script_for(&self, kind: EventKind) -> Option<&str> {
        self.compiled_for(kind).map(|c| c.name.as_str())
    }

    pub fn limits(&self) -> &ScriptLimits {
        &self.limits
    }

    fn compiled_for(&self, kind: EventKind) -> Option<&Compiled> {
        self.by_name.get(kind.as_str()).or_else(|| self.by_name.get(DEFAULT_NAME))
    }

    /// Run the script for `event.kind` (or `default.rhai`). With neither,
    /// the outcome is [`ScriptOutcome::defaults_for`] (reporter + watchers).
    /// Blocking (up to the timeout): call from a blocking task.
    pub fn recipients(&self, event: &Event) -> Result<ScriptOutcome, ScriptError> {
        let Some(compiled) = self.compiled_for(event.kind) else {
            return Ok(ScriptOutcome::defaults_for(event));
        };
        // rhai recurses on the native stack, per script call level and per
        // level of nested data (printing or comparing an array of arrays…):
        // run on a thread whose stack fits both limits, so a deep script ends
        // in `Limit` (or just works), never in a process abort.
        let stack = stack_size(&self.limits);
        let span = tracing::Span::current();
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("rhai-script".into())
                .stack_size(stack)
                .spawn_scoped(scope, || span.in_scope(|| self.run(compiled, event)));
            match worker {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    Err(ScriptError::Runtime { script: compiled.name.clone(), line: None, message: "panicked".into() })
                }),
                Err(e) => Err(ScriptError::Runtime {
                    script: compiled.name.clone(),
                    line: None,
                    message: format!("cannot start the script thread: {e}"),
                }),
            }
        })
    }

    fn run(&self, compiled: &Compiled, event: &Event) -> Result<ScriptOutcome, ScriptError> {
        let script = compiled.name.as_str();
        let event_value = self.event_value(event).map_err(|message| ScriptError::Runtime {
            script: script.into(),
            line: None,
            message,
        })?;

        let state = Arc::new(Mutex::new(ScriptOutcome::default()));
        let mut engine = sandbox(&self.std, &self.limits);
        register_api(&mut engine, &state);
        route_output(&mut engine, script);
        if !self.limits.timeout.is_zero() {
            let deadline = Instant::now() + self.limits.timeout;
            engine.on_progress(move |ops| (ops % 256 == 0 && Instant::now() >= deadline).then(|| "timeout".into()));
        }

        let mut scope = Scope::new();
        scope.push_constant_dynamic("event", event_value);
        let returned =
            engine.eval_ast_with_scope::<Dynamic>(&mut scope, &compiled.ast).map_err(|e| self.classify(script, *e))?;

        let mut outcome = std::mem::take(&mut *state.lock().unwrap_or_else(PoisonError::into_inner));
        take_returned(script, returned, &mut outcome)?;
        Ok(outcome.finish())
    }

    /// The event as the script sees it. Strings longer than half the string
    /// limit (a long comment or description change) are cut there, so that
    /// a script can still read and transform them within the limit.
    fn event_value(&self, event: &Event) -> Result<Dynamic, String> {
        let mut value = serde_json::to_value(event).map_err(|e| format!("event: {e}"))?;
        if self.limits.max_string_size > 0 {
            truncate_strings(&mut value, self.limits.max_string_size / 2);
        }
        rhai::serde::to_dynamic(&value).map_err(|e| format!("event: {e}"))
    }

    fn classify(&self, script: &str, err: EvalAltResult) -> ScriptError {
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

/// Stack of the thread a script runs on: a base, plus a generous amount per
/// allowed call level and per possible level of nested data (bounded by the
/// array and map size limits); capped, and the cap when a limit is off. Only
/// the pages used are committed.
const STACK_BASE: usize = 8 << 20;
const STACK_PER_CALL_LEVEL: usize = 256 << 10;
const STACK_PER_DATA_LEVEL: usize = 8 << 10;
const STACK_MAX: usize = 1 << 30;

fn stack_size(limits: &ScriptLimits) -> usize {
    if limits.max_array_size == 0 || limits.max_map_size == 0 {
        return STACK_MAX;
    }
    let data_levels = limits.max_array_size.saturating_add(limits.max_map_size);
    STACK_BASE
        .saturating_add(limits.max_call_levels.saturating_mul(STACK_PER_CALL_LEVEL))
        .saturating_add(data_levels.saturating_mul(STACK_PER_DATA_LEVEL))
        .min(STACK_MAX)
}
/// `print`/`debug` lines logged per run; the rest is dropped.
const MAX_OUTPUT_LINES: usize = 100;

fn truncate_strings(value: &mut serde_json::Value, max_bytes: usize) {
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
fn route_output(engine: &mut Engine, script: &str) {
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
/// script API registered) to run.
fn sandbox(std: &Shared<Module>, limits: &ScriptLimits) -> Engine {
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

type RhaiResult = Result<(), Box<EvalAltResult>>;

fn register_api(engine: &mut Engine, state: &Arc<Mutex<ScriptOutcome>>) {
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
fn take_returned(script: &str, value: Dynamic, outcome: &mut ScriptOutcome) -> Result<(), ScriptError> {
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

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests;
