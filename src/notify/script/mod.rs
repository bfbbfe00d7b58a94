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
//! operation, call-depth, size, memory and wall-clock limits (the functions
//! that can grow data are replaced by checked ones that refuse before they
//! allocate: `checked/`, `budget.rs`); `import` and `eval` are
//! refused at load (no module resolver either); `print`/`debug` go to tracing
//! (target `mailgate::script`, at most 100 lines per run). rhai has no file or
//! network access of its own and none is registered.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, Dynamic, Module, Scope, Shared};
use serde::Serialize;

use super::event::{Event, EventKind};
use crate::domain::EmailAddress;

mod api;
mod budget;
mod checked;
mod engine;
mod limits;

use api::{push_unique, register_api, take_returned};
use budget::Budget;
use engine::{route_output, sandbox, truncate_strings};
pub use limits::ScriptLimits;
use limits::stack_size;

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
    Load { script: String, message: String, source: Option<std::io::Error> },
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
            source: Some(e),
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
                    source: None,
                });
            }
            if scripts.by_name.contains_key(&stem) {
                return Err(ScriptError::Load { script: file, message: "given twice".into(), source: None });
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
        let stack = stack_size(&self.limits.effective());
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
        let budget = Arc::new(Budget::new(&self.limits));
        let mut engine = sandbox(&self.std, &self.limits);
        register_api(&mut engine, &state);
        checked::register(&mut engine, &budget);
        route_output(&mut engine, script);
        if let Some(deadline) = budget.deadline() {
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
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
