//! What a saga is: the trait each long operation implements, its step context and typed keys.

use crate::log::StepWrite;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

/// Why a step failed: what a failed job shows as `error_code` and `fail_reason`, and what only
/// the operator's log should see.
///
/// The engine knows nothing of the application's error codes: a failure it raises itself (a
/// step table out of step with its log, parameters that do not decode) has no `code`, and the
/// application names it when it reports the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {message}{}", code.as_deref().unwrap_or("internal"), detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
pub struct StepError {
    /// The application's wire code (`Ecs.0101`); `None` for a fault of the engine itself.
    pub code: Option<String>,
    /// What the job says: written for the user, never the internals.
    pub message: String,
    /// What went wrong inside (a database or driver error), for the log only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The host ran out of space: the step did not fail for a reason of its own, so the
    /// executor waits and runs it again rather than unwinding (which needs space too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_space: bool,
}

impl StepError {
    /// A failure with the application's code and a message for the user.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        StepError { code: Some(code.into()), message: message.into(), detail: None, no_space: false }
    }

    /// A fault of the engine itself: `message` for the user, `detail` for the log.
    pub fn engine(message: impl Into<String>, detail: impl Into<String>) -> Self {
        StepError { code: None, message: message.into(), detail: Some(detail.into()), no_space: false }
    }

    /// The same failure, with what went wrong inside for the log.
    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        StepError { detail: Some(detail.into()), ..self }
    }

    /// A step that could not run because the host is out of space (a full disk).
    pub fn no_space(self) -> Self {
        StepError { no_space: true, ..self }
    }
}

/// What a job says of a fault of the engine.
pub(crate) const INTERNAL: &str = "A system exception occurred.";

/// A typed reference to the output of the step named `name`.
pub struct Key<T> {
    name: &'static str,
    _t: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// The key of the output of step `name`.
    pub const fn new(name: &'static str) -> Self {
        Key { name, _t: PhantomData }
    }
}

/// Outputs of the steps that have succeeded so far, by step name.
#[derive(Debug, Default, Clone)]
pub struct Outputs {
    map: HashMap<&'static str, Value>,
}

impl Outputs {
    pub(crate) fn insert(&mut self, name: &'static str, v: Value) {
        self.map.insert(name, v);
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.map.remove(name);
    }

    /// The output of an earlier step, or an error if that step has not produced one (a bug in
    /// the saga's step order, reported rather than panicking).
    pub fn get<T: DeserializeOwned>(&self, key: &Key<T>) -> Result<T, StepError> {
        let v = self
            .map
            .get(key.name)
            .ok_or_else(|| StepError::engine(INTERNAL, format!("no output from step {}", key.name)))?;
        serde_json::from_value(v.clone())
            .map_err(|e| StepError::engine(INTERNAL, format!("the output of step {} does not decode: {e}", key.name)))
    }

    /// Like [`Outputs::get`], but `None` when the step has not run (for undo actions, which must
    /// tolerate "never happened").
    pub fn try_get<T: DeserializeOwned>(&self, key: &Key<T>) -> Option<T> {
        self.map.get(key.name).and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// What an action sees: the shared context, the saga's parameters, its id and the outputs of
/// the steps before it.
pub struct StepCx<'a, S: Saga + ?Sized> {
    pub ctx: &'a S::Ctx,
    pub params: &'a S::Params,
    pub saga_id: &'a str,
    pub outputs: &'a Outputs,
    /// The write the action hands to the executor, if any.
    pub(crate) write: &'a PendingWrite,
}

impl<S: Saga + ?Sized> StepCx<'_, S> {
    /// Hands the action's store write to the executor, which commits it in the same
    /// transaction as the log's record of the action's success ([`StepWrite`]). The last write
    /// handed in counts; none is committed when the action fails. The action cannot read the
    /// write back: it is made after the action returns.
    pub fn write_with_log(&self, write: impl StepWrite + 'static) {
        *self.write.lock() = Some(Box::new(write));
    }
}

/// The slot of the write an action hands to the executor.
#[derive(Default)]
pub(crate) struct PendingWrite(std::sync::Mutex<Option<Box<dyn StepWrite>>>);

impl PendingWrite {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn StepWrite>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The write handed in since the last take, if any.
    pub(crate) fn take(&self) -> Option<Box<dyn StepWrite>> {
        self.lock().take()
    }
}

/// What a step action returns: a boxed future borrowing the step's context.
pub type StepFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StepError>> + Send + 'a>>;

/// A step's forward action: performs it and returns its output (stored in the log, readable by
/// later steps through a [`Key`] named after the step).
pub type Forward<S> = for<'a> fn(&'a StepCx<'a, S>) -> StepFuture<'a, Value>;

/// A step's undo action: reverses it, and must succeed when the step never ran or only partly
/// ran.
pub type Undo<S> = for<'a> fn(&'a StepCx<'a, S>) -> StepFuture<'a, ()>;

/// One step of a saga: the name the log records it by, what it does and how it is undone.
pub struct Step<S: Saga + ?Sized> {
    pub name: &'static str,
    pub forward: Forward<S>,
    /// `None`: the step changes nothing that would need undoing.
    pub undo: Option<Undo<S>>,
}

/// A long operation as a table of named, idempotent steps.
///
/// The log records steps by name and each saga record carries the [`Saga::VERSION`] of the
/// table it was written with, so that a release which inserts, removes or reorders steps still
/// replays the logs of the one before it correctly, or refuses them with a clear error, and
/// never runs the wrong step. Steps from [`Saga::NO_RETURN`] on are past the point of no
/// return: a failure there is retried, never unwound, so the irreversible work (deleting the
/// old disk) belongs there, last.
pub trait Saga: Send + Sync + 'static {
    type Ctx: Send + Sync + 'static;
    type Params: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The name the log records, unique among registered sagas.
    const KIND: &'static str;
    /// The version of the step table. Bump it when a step changes what it does (and give the
    /// step a new name): a log of a version this release does not know is refused.
    const VERSION: u32;
    /// The steps, in order.
    const STEPS: &'static [Step<Self>];
    /// The first step that is never unwound, by name.
    const NO_RETURN: Option<&'static str> = None;

    /// The operation (job type) this saga carries out with these parameters, as users name it
    /// (fault injection matches on it).
    fn operation(params: &Self::Params) -> &'static str;

    /// The step names, by position, of an earlier version whose logs recorded steps by
    /// position rather than name (version 1), so that those logs still replay.
    fn positional_layout(_version: u32) -> Option<&'static [&'static str]> {
        None
    }
}
