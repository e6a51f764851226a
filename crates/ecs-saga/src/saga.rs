//! What a saga is: the trait each long operation implements, its step context and typed keys.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::marker::PhantomData;

/// Why a step failed: a wire error code (`Ecs.XXXX`) and a message a person understands. This is
/// what a failed job shows as `error_code` and `fail_reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StepError {
    pub code: String,
    pub message: String,
    /// The host ran out of space: the step did not fail for a reason of its own, so the
    /// executor waits and runs it again rather than unwinding (which needs space too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_space: bool,
}

impl StepError {
    /// A step error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        StepError { code: code.into(), message: message.into(), no_space: false }
    }

    /// A step that could not run because the host is out of space (a full disk).
    pub fn no_space(code: impl Into<String>, message: impl Into<String>) -> Self {
        StepError { no_space: true, ..StepError::new(code, message) }
    }
}

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
            .ok_or_else(|| StepError::new("Ecs.1000", format!("internal: no output from step {}", key.name)))?;
        serde_json::from_value(v.clone())
            .map_err(|e| StepError::new("Ecs.1000", format!("internal: output of step {}: {e}", key.name)))
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
}

/// A long operation as a list of idempotent steps.
///
/// `forward(i)` performs step `i` and returns its output (stored in the log, readable by later
/// steps through a [`Key`] named after step `i`). `undo(i)` reverses it and must succeed when the
/// step never ran or only partly ran. Steps from `NO_RETURN` on are past the point of no
/// return: a failure there is retried, never unwound, so the irreversible work (deleting the
/// old disk) belongs there, last.
#[async_trait]
pub trait Saga: Send + Sync + 'static {
    type Ctx: Send + Sync + 'static;
    type Params: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The name the log records, unique among registered sagas.
    const KIND: &'static str;
    /// Step names, in order.
    const STEPS: &'static [&'static str];
    /// First step that is never unwound.
    const NO_RETURN: usize = usize::MAX;

    /// Runs step `step`.
    async fn forward(step: usize, cx: &StepCx<'_, Self>) -> Result<Value, StepError>;
    /// Undoes step `step`.
    async fn undo(step: usize, cx: &StepCx<'_, Self>) -> Result<(), StepError>;
}
