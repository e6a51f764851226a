//! The durable saga log: what is recorded, and the trait a store implements to record it.

use crate::saga::StepError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of a saga's log. The sequence of entries is both the record of what happened and
/// what recovery replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StepEvent {
    Started { step: usize },
    Succeeded { step: usize, output: Value },
    Failed { step: usize, error: StepError },
    UndoStarted { step: usize },
    UndoFinished { step: usize },
}

/// How a saga ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Every step succeeded.
    Succeeded,
    /// A step failed and every completed step was undone.
    Failed(StepError),
    /// An undo (or a step past the point of no return) kept failing; an operator must look.
    Stuck(StepError),
}

/// A saga as stored: created in the same transaction as the request that starts it.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaRecord {
    pub id: String,
    pub kind: String,
    pub params: Value,
    pub events: Vec<StepEvent>,
}

impl SagaRecord {
    /// A saga that has not run yet.
    pub fn new(id: impl Into<String>, kind: &str, params: Value) -> Self {
        SagaRecord { id: id.into(), kind: kind.to_string(), params, events: Vec::new() }
    }
}

/// A failure of the log itself (the database is unreachable, the disk is full).
#[derive(Debug, Clone, thiserror::Error)]
#[error("saga log: {0}")]
pub struct LogError(pub String);

/// Durable storage for saga logs. `append` and `finish` must be on stable storage when they
/// return: the executor relies on it before running the next action.
#[async_trait]
pub trait SagaLog: Send + Sync {
    /// Appends events to a saga's log, in order and all at once: the executor records a step's
    /// success together with the next step's start, one durable write instead of two.
    async fn append(&self, saga_id: &str, events: &[StepEvent]) -> Result<(), LogError>;
    /// Records the end of a saga.
    async fn finish(&self, saga_id: &str, outcome: &Outcome) -> Result<(), LogError>;
    /// Every saga that has not finished, with its events in order.
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError>;
}
