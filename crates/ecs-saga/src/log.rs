//! The durable saga log: what is recorded, and the trait a store implements to record it.

use crate::saga::StepError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// One entry of a saga's log. The sequence of entries is both the record of what happened and
/// what recovery replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StepEvent {
    Started { step: StepId },
    Succeeded { step: StepId, output: Value },
    Failed { step: StepId, error: StepError },
    UndoStarted { step: StepId },
    UndoFinished { step: StepId },
}

impl StepEvent {
    /// The step the event is about.
    pub fn step(&self) -> &StepId {
        match self {
            StepEvent::Started { step }
            | StepEvent::Succeeded { step, .. }
            | StepEvent::Failed { step, .. }
            | StepEvent::UndoStarted { step }
            | StepEvent::UndoFinished { step } => step,
        }
    }
}

/// A step as a log names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepId {
    /// The step's name: what every log written since steps were named holds.
    Name(Cow<'static, str>),
    /// The step's position in the saga's step table of the record's version: what logs
    /// written before then (version 1) hold. Replay turns it into a name through
    /// [`crate::Saga::positional_layout`]; nothing writes it any more.
    Position(usize),
}

impl From<&'static str> for StepId {
    fn from(name: &'static str) -> Self {
        StepId::Name(Cow::Borrowed(name))
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepId::Name(n) => f.write_str(n),
            StepId::Position(i) => write!(f, "#{i}"),
        }
    }
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
    /// The version of the saga's step table the record was written with ([`crate::Saga::VERSION`]).
    pub version: u32,
    pub params: Value,
    pub events: Vec<StepEvent>,
    /// The fencing token the saga is held with: 0 when it is first recorded, one more each
    /// time another node (or a new incarnation of its node) adopts it. Every write to its log
    /// names it, and a log shared by several nodes refuses a write with an older one.
    pub epoch: i64,
    /// The compute host whose VMs the saga's steps act on, when only that host can run them
    /// (a driver whose VMs are local processes); `None` when any node can.
    pub host: Option<String>,
}

impl SagaRecord {
    /// A saga of `kind`, at `version` of its step table, that has not run yet.
    pub fn new(id: impl Into<String>, kind: &str, version: u32, params: Value) -> Self {
        SagaRecord { id: id.into(), kind: kind.to_string(), version, params, events: Vec::new(), epoch: 0, host: None }
    }
}

/// Why the log did not take a write.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogError {
    /// The log itself failed (the database is unreachable, the disk is full): the same write
    /// may work later.
    #[error("saga log: {0}")]
    Failed(String),
    /// The saga is held with a newer epoch than the writer's: another node adopted it while
    /// this one could not renew its lease. The writer must drop the saga and never retry.
    #[error("saga {0} is held by another node now")]
    Fenced(String),
}

/// Durable storage for saga logs. `append` and `finish` must be on stable storage when they
/// return: the executor relies on it before running the next action.
///
/// Each write carries the epoch the writer holds the saga with ([`SagaRecord::epoch`]); a log
/// that several processes share checks it in the write's own transaction and answers
/// [`LogError::Fenced`] when the saga has been adopted since.
#[async_trait]
pub trait SagaLog: Send + Sync {
    /// Appends events to a saga's log, in order and all at once: the executor records a step's
    /// success together with the next step's start, one durable write instead of two.
    async fn append(&self, saga_id: &str, epoch: i64, events: &[StepEvent]) -> Result<(), LogError>;
    /// Records the end of a saga.
    async fn finish(&self, saga_id: &str, epoch: i64, outcome: &Outcome) -> Result<(), LogError>;
    /// Appends the last events of a saga and records its end: the executor records the last
    /// step's success and the outcome it makes certain together. A log should do it in one
    /// durable write; this default does it in two, which recovery also reads right (a log
    /// whose every step succeeded is finished as `Succeeded` on resume).
    async fn append_and_finish(
        &self,
        saga_id: &str,
        epoch: i64,
        events: &[StepEvent],
        outcome: &Outcome,
    ) -> Result<(), LogError> {
        self.append(saga_id, epoch, events).await?;
        self.finish(saga_id, epoch, outcome).await
    }
    /// Every saga that has not finished, with its events in order.
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError>;
    /// The saga `saga_id` with its events in order, or `None` once it has finished (or was
    /// never recorded). The executor reads a saga that waited for its turn again when the turn
    /// comes, instead of holding the records of a whole backlog in memory.
    async fn load(&self, saga_id: &str) -> Result<Option<SagaRecord>, LogError>;
}

/// What the executor records of a step when the step's own write goes with it (see
/// [`StepWrite`]): the events to append, and the saga's outcome when the step was its last.
#[derive(Debug, Clone, PartialEq)]
pub struct LogWrite {
    pub saga_id: String,
    /// The epoch the saga is held with: checked in the same transaction as the write.
    pub epoch: i64,
    pub events: Vec<StepEvent>,
    pub outcome: Option<Outcome>,
}

/// A step's write to the application's own store, handed to the executor (through
/// [`crate::StepCx::write_with_log`]) rather than made by the step: the executor commits it in
/// the same transaction as the log's record of the step. A step that changes a server's state
/// and then has its success logged took two durable writes; this takes one, and a crash can
/// no longer fall between the state and its record. The write must be repeatable: the
/// executor commits it again when a commit fails for a reason that may pass (a busy or full
/// disk), and a commit that never happened leaves the step to be run again.
#[async_trait]
pub trait StepWrite: Send + Sync {
    /// Writes the step's change together with `log`, atomically. `Fenced` when the saga is
    /// held with a newer epoch (nothing written); `Failed` when the write may work later.
    async fn commit(&self, log: LogWrite) -> Result<(), LogError>;
}
