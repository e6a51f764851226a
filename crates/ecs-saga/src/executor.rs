//! Runs sagas: forward through the steps, undo on failure, resume from the log after a crash.

use crate::log::{LogError, LogWrite, Outcome, SagaLog, SagaRecord, StepEvent, StepId, StepWrite};
use crate::saga::{Outputs, PendingWrite, Saga, StepCx, StepError, INTERNAL};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tracing::Instrument;

/// What a [`Hook`] asks the executor to do before a step (fault injection lives behind this).
#[derive(Debug, Clone, PartialEq)]
pub enum HookAction {
    /// Run the step normally.
    Proceed,
    /// Wait this long, then run the step.
    Delay(Duration),
    /// Fail the step with this error without running it.
    Fail(StepError),
}

/// Where a step runs, as a [`Hook`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct StepSite<'a> {
    /// The saga's kind.
    pub kind: &'static str,
    /// The operation (job type) the saga carries out, as the saga itself declares it.
    pub operation: &'static str,
    pub saga_id: &'a str,
    /// The saga's parameters, as recorded.
    pub params: &'a Value,
    pub step: &'static str,
}

/// Called before every forward step; lets the application inject delays and failures.
#[async_trait]
pub trait Hook: Send + Sync {
    async fn before_step(&self, at: &StepSite<'_>) -> HookAction;
    /// Called once a forward step's success is in the log (crash-after-step injection).
    async fn after_step(&self, _at: &StepSite<'_>) {}
}

/// A saga's parameters, decoded once per run (type-erased; each runner knows the type).
type AnyParams = dyn std::any::Any + Send + Sync;

/// Decides, before every action of a saga, whether this process may still act for it. A node
/// of a cluster holds its sagas through a lease it renews; while the lease is in doubt (the node
/// could not renew it for most of its term) it must not call drivers, and once it learns that
/// another node adopted a saga it must drop it.
#[async_trait]
pub trait Fence: Send + Sync {
    /// Waits while this node's lease is in doubt; then true when the saga, held at `epoch`, is
    /// still this node's. `seen` belongs to the run: the fence keeps in it what it has checked
    /// already (for example how many lapses of the lease the run has been checked after), so
    /// that the common case costs no database round trip.
    async fn may_act(&self, saga_id: &str, epoch: i64, seen: &mut u64) -> bool;
}

/// The saga a step's action runs for, and the epoch it is held with: set for the action's
/// future (a task-local), so that the stores the action writes through can fence those
/// writes as they fence the log's, without every step passing it along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub saga_id: String,
    pub epoch: i64,
}

tokio::task_local! {
    static HOLD: Hold;
}

/// The hold of the step action being run on this task, if any.
pub fn current_hold() -> Option<Hold> {
    HOLD.try_with(Hold::clone).ok()
}

/// Why a run stopped without an outcome: the saga is another node's now. Nothing more is
/// written for it here.
#[derive(Debug)]
struct Dropped;

/// The type-erased form of a registered saga, so that one executor runs every kind.
#[async_trait]
trait Runner<C>: Send + Sync {
    fn kind(&self) -> &'static str;
    fn version(&self) -> u32;
    /// Step names, in order.
    fn steps(&self) -> &[&'static str];
    fn no_return(&self) -> usize;
    fn positional_layout(&self, version: u32) -> Option<&'static [&'static str]>;
    fn parse(&self, params: &Value) -> Result<Box<AnyParams>, StepError>;
    fn operation(&self, params: &AnyParams) -> &'static str;
    async fn forward(&self, at: At<'_, C>, step: usize) -> Result<Value, StepError>;
    async fn undo(&self, at: At<'_, C>, step: usize) -> Result<(), StepError>;
}

/// What an action runs with, besides its step: the context, the saga's decoded parameters, its
/// id, the outputs so far and the slot of the write it may hand back.
struct At<'a, C> {
    ctx: &'a C,
    params: &'a AnyParams,
    id: &'a str,
    outputs: &'a Outputs,
    write: &'a PendingWrite,
}

impl<C> Clone for At<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C> Copy for At<'_, C> {}

struct Typed<S> {
    names: Vec<&'static str>,
    no_return: usize,
    _s: std::marker::PhantomData<fn() -> S>,
}

impl<S: Saga> Typed<S> {
    /// # Panics
    /// If the saga's table names a step twice or its point of no return is not one of its
    /// steps: a mistake in the saga's definition, which the first test that registers it shows.
    fn new() -> Self {
        let names: Vec<&'static str> = S::STEPS.iter().map(|s| s.name).collect();
        let unique: HashSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "saga {}: a step name is used twice", S::KIND);
        let no_return = match S::NO_RETURN {
            None => usize::MAX,
            Some(n) => names
                .iter()
                .position(|s| *s == n)
                .unwrap_or_else(|| panic!("saga {}: NO_RETURN names no step: {n}", S::KIND)),
        };
        Typed { names, no_return, _s: std::marker::PhantomData }
    }
}

fn bad_params(e: serde_json::Error) -> StepError {
    StepError::engine(INTERNAL, format!("the saga's parameters do not decode: {e}"))
}

fn typed<S: Saga>(params: &AnyParams) -> Result<&S::Params, StepError> {
    params
        .downcast_ref::<S::Params>()
        .ok_or_else(|| StepError::engine(INTERNAL, "the saga's parameters are of another type"))
}

#[async_trait]
impl<S: Saga> Runner<S::Ctx> for Typed<S> {
    fn kind(&self) -> &'static str {
        S::KIND
    }
    fn version(&self) -> u32 {
        S::VERSION
    }
    fn steps(&self) -> &[&'static str] {
        &self.names
    }
    fn no_return(&self) -> usize {
        self.no_return
    }
    fn positional_layout(&self, version: u32) -> Option<&'static [&'static str]> {
        S::positional_layout(version)
    }
    fn parse(&self, params: &Value) -> Result<Box<AnyParams>, StepError> {
        Ok(Box::new(S::Params::deserialize(params).map_err(bad_params)?))
    }
    fn operation(&self, params: &AnyParams) -> &'static str {
        typed::<S>(params).map(S::operation).unwrap_or("unknown")
    }
    async fn forward(&self, at: At<'_, S::Ctx>, step: usize) -> Result<Value, StepError> {
        let params = typed::<S>(at.params)?;
        let cx = StepCx { ctx: at.ctx, params, saga_id: at.id, outputs: at.outputs, write: at.write };
        (S::STEPS[step].forward)(&cx).await
    }
    async fn undo(&self, at: At<'_, S::Ctx>, step: usize) -> Result<(), StepError> {
        let params = typed::<S>(at.params)?;
        let cx = StepCx { ctx: at.ctx, params, saga_id: at.id, outputs: at.outputs, write: at.write };
        match S::STEPS[step].undo {
            Some(undo) => undo(&cx).await,
            None => Ok(()),
        }
    }
}

/// Builds an [`Executor`] with its registered saga kinds.
pub struct ExecutorBuilder<C> {
    log: Arc<dyn SagaLog>,
    ctx: Arc<C>,
    kinds: HashMap<&'static str, Arc<dyn Runner<C>>>,
    hook: Option<Arc<dyn Hook>>,
    fence: Option<Arc<dyn Fence>>,
    attempts: u32,
    backoff: Duration,
    twice: bool,
    max_running: usize,
}

/// Sagas that run their steps at once in one process, unless the builder says otherwise.
pub const DEFAULT_MAX_RUNNING: usize = 1024;

impl<C: Send + Sync + 'static> ExecutorBuilder<C> {
    /// Runs every forward action twice in a row and fails the step if the two outputs differ:
    /// the test of idempotency that every saga's tests use.
    pub fn run_steps_twice(mut self, on: bool) -> Self {
        self.twice = on;
        self
    }

    /// Registers a saga kind.
    pub fn register<S: Saga<Ctx = C>>(mut self) -> Self {
        self.kinds.insert(S::KIND, Arc::new(Typed::<S>::new()));
        self
    }

    /// Installs the hook called before each step.
    pub fn hook(mut self, hook: Arc<dyn Hook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Installs the fence asked before each action (nodes of a cluster).
    pub fn fence(mut self, fence: Arc<dyn Fence>) -> Self {
        self.fence = Some(fence);
        self
    }

    /// How often an undo (or a step past the point of no return) is tried before the saga is
    /// declared stuck, and the first pause between tries (doubled each time).
    pub fn retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// How many sagas run at once (at least one). The others wait in their order of start,
    /// each as its record only: no span, no decoded parameters, no step's memory. A backlog
    /// released at once (tens of thousands of jobs a fault held, or found unfinished at
    /// start-up) then runs as a queue instead of all together, which took 22 KB per saga and
    /// left the process's memory high after it was over. No step waits for another saga,
    /// so a bound cannot deadlock.
    pub fn max_running(mut self, n: usize) -> Self {
        self.max_running = n.max(1);
        self
    }

    /// Finishes the executor.
    pub fn build(self) -> Executor<C> {
        Executor {
            inner: Arc::new(Inner {
                log: self.log,
                ctx: self.ctx,
                kinds: self.kinds,
                hook: self.hook,
                fence: self.fence,
                attempts: self.attempts,
                backoff: self.backoff,
                turns: Mutex::new(Turns::default()),
                max_running: self.max_running,
                idle: Notify::new(),
                twice: self.twice,
            }),
        }
    }
}

/// Runs sagas on the tokio runtime. Cheap to clone.
pub struct Executor<C> {
    inner: Arc<Inner<C>>,
}

impl<C> Clone for Executor<C> {
    fn clone(&self) -> Self {
        Executor { inner: self.inner.clone() }
    }
}

struct Inner<C> {
    log: Arc<dyn SagaLog>,
    ctx: Arc<C>,
    kinds: HashMap<&'static str, Arc<dyn Runner<C>>>,
    hook: Option<Arc<dyn Hook>>,
    fence: Option<Arc<dyn Fence>>,
    attempts: u32,
    backoff: Duration,
    turns: Mutex<Turns>,
    /// How many sagas may run their steps at once ([`ExecutorBuilder::max_running`]).
    max_running: usize,
    idle: Notify,
    twice: bool,
}

impl<C: Send + Sync + 'static> Executor<C> {
    /// Starts building an executor over a log and a shared context.
    pub fn builder(log: Arc<dyn SagaLog>, ctx: Arc<C>) -> ExecutorBuilder<C> {
        ExecutorBuilder {
            log,
            ctx,
            kinds: HashMap::new(),
            hook: None,
            fence: None,
            attempts: 5,
            backoff: Duration::from_millis(50),
            twice: false,
            max_running: DEFAULT_MAX_RUNNING,
        }
    }

    /// The shared context sagas run with.
    pub fn ctx(&self) -> &Arc<C> {
        &self.inner.ctx
    }

    /// Runs a saga (already recorded in the log) in the background, or queues it behind the
    /// others when [`ExecutorBuilder::max_running`] sagas run already. Returns false when a saga
    /// with this id is already running or waiting here.
    pub fn start(&self, record: SagaRecord) -> bool {
        let mut turns = self.inner.turns();
        if !turns.ids.insert(record.id.clone()) {
            return false;
        }
        // The id counts among the waiting or the running from here: running are those not waiting.
        if turns.running() <= self.inner.max_running {
            drop(turns);
            // The saga's span is under the one it was started in (the request that accepted it).
            spawn_turn(self.inner.clone(), Turn::Now(record, tracing::Span::current()));
        } else {
            // A waiting saga costs its id and epoch only: no task, no span (the log's span
            // registry keeps a slot for every span ever open at once, for good), no record. A
            // released backlog of 65,000 jobs held a task and a record each, hundreds of MB.
            turns.waiting.push_back(Queued { id: record.id, epoch: record.epoch, host: record.host });
        }
        true
    }

    /// Loads every unfinished saga from the log and resumes it. Returns how many were resumed.
    pub async fn recover(&self) -> Result<usize, LogError> {
        let records = self.inner.log.unfinished().await?;
        let n = records.len();
        for r in records {
            tracing::info!(saga = %r.id, kind = %r.kind, events = r.events.len(), "resuming saga");
            self.start(r);
        }
        Ok(n)
    }

    /// Number of sagas running in this process, or waiting for their turn.
    pub fn running(&self) -> usize {
        self.inner.turns().ids.len()
    }

    /// Whether a saga has a live task in this process (a cluster node does not claim its own
    /// running sagas again).
    pub fn is_running(&self, saga_id: &str) -> bool {
        self.inner.turns().ids.contains(saga_id)
    }

    /// Waits until no saga runs (tests and orderly shutdown).
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.running() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The sagas started in this process and not ended yet.
#[derive(Default)]
struct Turns {
    /// Their ids (running, or waiting for a slot): a saga is never run twice at once in this
    /// process.
    ids: HashSet<String>,
    /// Those waiting for a slot, in the order they were started; the others are running.
    waiting: VecDeque<Queued>,
}

impl Turns {
    /// How many sagas are running their steps.
    fn running(&self) -> usize {
        self.ids.len() - self.waiting.len()
    }
}

/// A saga waiting for its turn: what its record cannot tell when it is read again.
struct Queued {
    id: String,
    /// The epoch this process holds the saga with; the log may hold a newer one by the time
    /// the turn comes (another node adopted it), and then every write of this run is fenced.
    epoch: i64,
    host: Option<String>,
}

/// A saga given a slot: with its record at hand, or one that waited and is read again.
enum Turn {
    Now(SagaRecord, tracing::Span),
    Waited(Queued),
}

/// Runs a saga that has a slot on a task of its own. The slot passes to the next waiting saga
/// when the run ends, however it ends ([`Slot`]'s drop).
fn spawn_turn<C: Send + Sync + 'static>(inner: Arc<Inner<C>>, turn: Turn) {
    let id = match &turn {
        Turn::Now(rec, _) => rec.id.clone(),
        Turn::Waited(q) => q.id.clone(),
    };
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        // From a slot's drop while the runtime shuts down: the saga stays in the log, and the
        // next start resumes it.
        tracing::warn!(saga = %id, "no runtime to run the saga on; left in the log for the next start");
        return;
    };
    let task = async move {
        let slot = Slot { inner, id };
        let (record, parent) = match turn {
            Turn::Now(record, parent) => (record, parent),
            Turn::Waited(q) => match slot.inner.load_waited(q).await {
                Some(record) => (record, tracing::Span::none()),
                None => return,
            },
        };
        // Every line a saga's steps log carries its job (a saga's id is its job's) and kind.
        let span = tracing::info_span!(parent: &parent, "saga", job_id = %record.id, saga = %record.kind);
        drop(parent);
        slot.inner.run(record).instrument(span).await;
    };
    rt.spawn(task);
}

/// A running saga's slot. Dropped when the run ends (or its task is dropped or panics): the
/// saga is no longer running here, and the next waiting saga, if any, takes the slot.
struct Slot<C: Send + Sync + 'static> {
    inner: Arc<Inner<C>>,
    id: String,
}

impl<C: Send + Sync + 'static> Drop for Slot<C> {
    fn drop(&mut self) {
        let next = {
            let mut turns = self.inner.turns();
            // The next waiting saga, if any, takes this one's place among the running.
            turns.ids.remove(&self.id);
            let next = turns.waiting.pop_front();
            if turns.ids.is_empty() {
                self.inner.idle.notify_waiters();
            }
            next
        };
        if let Some(q) = next {
            spawn_turn(self.inner.clone(), Turn::Waited(q));
        }
    }
}

/// The saga being run: its kind, its record, its decoded parameters and its operation.
struct Run<'a, C> {
    runner: &'a dyn Runner<C>,
    rec: &'a SagaRecord,
    params: &'a AnyParams,
    operation: &'static str,
    /// The fence's memory for this run ([`Fence::may_act`]).
    seen: std::sync::atomic::AtomicU64,
}

impl<C> Run<'_, C> {
    fn site(&self, step: usize) -> StepSite<'_> {
        StepSite {
            kind: self.runner.kind(),
            operation: self.operation,
            saga_id: &self.rec.id,
            params: &self.rec.params,
            step: self.runner.steps()[step],
        }
    }

    /// How the log names step `i`.
    fn id(&self, i: usize) -> StepId {
        StepId::from(self.runner.steps()[i])
    }
}

/// Where a saga stands, rebuilt from its log.
struct Replay {
    outputs: Outputs,
    /// Steps whose forward action succeeded and has not been undone.
    done: Vec<bool>,
    /// The failure that started the unwind, if any.
    failure: Option<StepError>,
    /// The step that failed (its own undo also runs: it may have half-happened).
    failed_step: Option<usize>,
    undone: Vec<bool>,
    /// The step of the last event, when that event is a `Started`.
    last_started: Option<usize>,
}

/// Finds the step a log entry names in the saga's current table. A log of a version this
/// release does not know, or naming a step it does not have, is refused: running a step other
/// than the one the log meant (an older release's third step is not necessarily ours) could
/// delete a disk that is still in use.
fn resolve<C>(runner: &dyn Runner<C>, rec: &SagaRecord, id: &StepId) -> Result<usize, String> {
    let name: &str = match id {
        StepId::Name(n) => n,
        StepId::Position(i) => {
            let layout = runner.positional_layout(rec.version).ok_or_else(|| {
                format!("its log records step #{i} by position, which version {} of the saga does not", rec.version)
            })?;
            layout
                .get(*i)
                .ok_or_else(|| format!("its log names step #{i}, which version {} does not have", rec.version))?
        }
    };
    runner.steps().iter().position(|s| *s == name).ok_or_else(|| {
        format!("its log names step {name:?}, which this release's version {} does not have", runner.version())
    })
}

fn replay<C>(runner: &dyn Runner<C>, rec: &SagaRecord) -> Result<Replay, String> {
    if rec.version > runner.version() {
        return Err(format!(
            "it was written by a newer release (version {} of the saga; this release has {})",
            rec.version,
            runner.version()
        ));
    }
    let steps = runner.steps();
    let mut r = Replay {
        outputs: Outputs::default(),
        done: vec![false; steps.len()],
        failure: None,
        failed_step: None,
        undone: vec![false; steps.len()],
        last_started: None,
    };
    for e in &rec.events {
        let i = resolve(runner, rec, e.step())?;
        r.last_started = None;
        match e {
            StepEvent::Started { .. } => r.last_started = Some(i),
            StepEvent::UndoStarted { .. } => {}
            StepEvent::Succeeded { output, .. } => {
                r.done[i] = true;
                r.outputs.insert(steps[i], output.clone());
            }
            StepEvent::Failed { error, .. } => {
                r.failure = Some(error.clone());
                r.failed_step = Some(i);
            }
            StepEvent::UndoFinished { .. } => r.undone[i] = true,
        }
    }
    Ok(r)
}

impl<C: Send + Sync + 'static> Inner<C> {
    /// The sagas started here (a panic elsewhere does not make them unreadable).
    fn turns(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.turns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads again the record of a saga whose turn has come, as the log has it now, held with
    /// the epoch it was started with. `None` when there is nothing to run: the saga has ended
    /// meanwhile (another node adopted and finished it), or the log could not be read after
    /// the usual retries, in which case the saga stays unfinished in the log for the next
    /// recovery or adoption.
    async fn load_waited(&self, q: Queued) -> Option<SagaRecord> {
        // The same pauses as a step's retries.
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
            match self.log.load(&q.id).await {
                Ok(Some(mut record)) => {
                    record.epoch = q.epoch;
                    record.host = q.host;
                    return Some(record);
                }
                Ok(None) => {
                    tracing::info!(saga = %q.id, "the saga ended while it waited for its turn here");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(saga = %q.id, error = %e, attempt = attempt + 1, "could not read a saga whose turn came");
                }
            }
        }
        tracing::error!(saga = %q.id, attempts = self.attempts,
            "could not read a saga whose turn came; it stays in the log, to be resumed at the next start");
        None
    }

    async fn run(&self, record: SagaRecord) {
        if let Err(Dropped) = self.run_held(&record).await {
            tracing::warn!(saga = %record.id, epoch = record.epoch,
                "another node adopted this saga while this one could not renew its lease; dropped here");
        }
    }

    /// Runs a saga to its outcome, or until the fence says it is not this node's any more.
    async fn run_held(&self, record: &SagaRecord) -> Result<(), Dropped> {
        let Some(runner) = self.kinds.get(record.kind.as_str()).cloned() else {
            tracing::error!(saga = %record.id, kind = %record.kind, "unknown saga kind; left in the log");
            return Ok(());
        };
        // A log this release cannot read is left as it is, for the release that wrote it.
        let mut st = match replay(&*runner, record) {
            Ok(st) => st,
            Err(why) => {
                tracing::error!(saga = %record.id, kind = %record.kind, version = record.version,
                    "saga not resumed: {why}; finish it with the release that started it");
                return Ok(());
            }
        };
        let steps = runner.steps();
        // Decoded once for the whole run rather than at every step. Parameters that do not
        // decode cannot run forward or back: an operator must look.
        let parsed = match runner.parse(&record.params) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(saga = %record.id, error = %e, "saga parameters do not decode");
                return self.finish(record, Outcome::Stuck(e)).await;
            }
        };
        let operation = runner.operation(&*parsed);
        let run = Run { runner: &*runner, rec: record, params: &*parsed, operation, seen: Default::default() };
        if st.failure.is_none() {
            // Whether the step about to run has its `Started` in the log already: written with
            // the previous step's success, or, for the first step, with the saga's own record
            // (the request that accepted the operation logs it in its transaction).
            let first = (0..steps.len()).find(|&i| !st.done[i]);
            let mut started = first.is_some() && st.last_started == first;
            for i in 0..steps.len() {
                if st.done[i] {
                    continue;
                }
                let next = (i + 1..steps.len()).find(|&j| !st.done[j]);
                let span = tracing::info_span!("step", step = steps[i]);
                let result = self.forward_step(&run, &mut st, i, started, next).instrument(span).await?;
                started = next == Some(i + 1) && result.is_ok();
                match result {
                    // The last step's success was recorded with the saga's end (said here,
                    // in the saga's span rather than the step's).
                    Ok(()) if next.is_none() => {
                        trace_outcome(&Outcome::Succeeded);
                        return Ok(());
                    }
                    Ok(()) => {}
                    Err(e) if i >= runner.no_return() => {
                        // Past the point of no return the saga cannot go back; after retries
                        // are exhausted it is stuck rather than wrongly reported as failed.
                        return self.finish(record, Outcome::Stuck(e)).await;
                    }
                    Err(e) => {
                        st.failure = Some(e);
                        st.failed_step = Some(i);
                        break;
                    }
                }
            }
            if st.failure.is_none() {
                return self.finish(record, Outcome::Succeeded).await;
            }
        }
        // Unwind: the failed step first (it may have partly happened), then every completed
        // step in reverse order. Undo actions tolerate "never happened".
        let failed = st.failed_step.unwrap_or(0);
        for i in (0..=failed.min(steps.len().saturating_sub(1))).rev() {
            if st.undone[i] || (!st.done[i] && i != failed) {
                continue;
            }
            let span = tracing::info_span!("undo", step = steps[i]);
            if let Err(e) = self.undo_step(&run, &st, i).instrument(span).await? {
                return self.finish(record, Outcome::Stuck(e)).await;
            }
            st.undone[i] = true;
            st.outputs.remove(steps[i]);
        }
        let failure = st.failure.unwrap_or_else(|| StepError::engine(INTERNAL, "unwound without a recorded failure"));
        self.finish(record, Outcome::Failed(failure)).await
    }

    /// Asks the fence, if there is one, whether this node may still act for the saga.
    async fn fenced(&self, run: &Run<'_, C>) -> Result<(), Dropped> {
        let Some(fence) = &self.fence else { return Ok(()) };
        let mut seen = run.seen.load(std::sync::atomic::Ordering::Relaxed);
        let ours = fence.may_act(&run.rec.id, run.rec.epoch, &mut seen).await;
        run.seen.store(seen, std::sync::atomic::Ordering::Relaxed);
        if ours {
            Ok(())
        } else {
            Err(Dropped)
        }
    }

    async fn forward_step(
        &self,
        run: &Run<'_, C>,
        st: &mut Replay,
        i: usize,
        started: bool,
        next: Option<usize>,
    ) -> Result<Result<(), StepError>, Dropped> {
        let (runner, rec, params) = (run.runner, run.rec, run.params);
        let name = runner.steps()[i];
        let site = run.site(i);
        let tries = if i >= runner.no_return() { self.attempts } else { 1 };
        let mut last = None;
        for attempt in 0..tries {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
            if attempt > 0 || !started {
                self.append(rec, &[StepEvent::Started { step: run.id(i) }]).await?;
            }
            if let Some(hook) = &self.hook {
                match hook.before_step(&site).await {
                    HookAction::Proceed => {}
                    HookAction::Delay(d) => tokio::time::sleep(d).await,
                    HookAction::Fail(e) => {
                        self.append(rec, &[StepEvent::Failed { step: run.id(i), error: e.clone() }]).await?;
                        return Ok(Err(e));
                    }
                }
            }
            // Last thing before the action: a node whose lease lapsed (a long pause) must not
            // call a driver for a saga another node may be running now.
            self.fenced(run).await?;
            let pending = PendingWrite::default();
            let at = At { ctx: &*self.ctx, params, id: &rec.id, outputs: &st.outputs, write: &pending };
            let result = self
                .until_space(&rec.id, name, || async {
                    // A write handed in by a try that failed is not made.
                    drop(pending.take());
                    let hold = Hold { saga_id: rec.id.clone(), epoch: rec.epoch };
                    let first = HOLD.scope(hold.clone(), runner.forward(at, i)).await;
                    match first {
                        Ok(first) if self.twice => match HOLD.scope(hold, runner.forward(at, i)).await {
                            Ok(second) if second == first => Ok(second),
                            Ok(second) => Err(StepError::engine(
                                INTERNAL,
                                format!("step {name} is not idempotent: {first} then {second}"),
                            )),
                            Err(e) if e.no_space => Err(e),
                            Err(e) => {
                                Err(StepError::engine(INTERNAL, format!("step {name} failed when repeated: {e}")))
                            }
                        },
                        other => other,
                    }
                })
                .await;
            match result {
                Ok(output) => {
                    // The next step's start goes in the same write: the log is still complete
                    // at every point a crash can hit (a `Started` only says "may have begun").
                    // So do the step's own write, if it handed one in, and the saga's end when
                    // no step is left: one durable write for all of it.
                    let mut events = vec![StepEvent::Succeeded { step: run.id(i), output: output.clone() }];
                    if let Some(n) = next.filter(|&n| n == i + 1) {
                        events.push(StepEvent::Started { step: run.id(n) });
                    }
                    let outcome = next.is_none().then_some(Outcome::Succeeded);
                    self.record(rec, events, outcome, pending.take()).await?;
                    tracing::debug!(attempt = attempt + 1, "step succeeded");
                    st.done[i] = true;
                    st.outputs.insert(name, output);
                    if let Some(hook) = &self.hook {
                        hook.after_step(&site).await;
                    }
                    return Ok(Ok(()));
                }
                Err(e) => {
                    tracing::warn!(saga = %rec.id, step = name, error = %e, "saga step failed");
                    last = Some(e);
                }
            }
        }
        let e = last.unwrap_or_else(|| StepError::engine(INTERNAL, format!("step {name} was not tried")));
        if i < runner.no_return() {
            self.append(rec, &[StepEvent::Failed { step: run.id(i), error: e.clone() }]).await?;
        }
        Ok(Err(e))
    }

    async fn undo_step(&self, run: &Run<'_, C>, st: &Replay, i: usize) -> Result<Result<(), StepError>, Dropped> {
        let (runner, rec, params) = (run.runner, run.rec, run.params);
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
            self.append(rec, &[StepEvent::UndoStarted { step: run.id(i) }]).await?;
            self.fenced(run).await?;
            let name = runner.steps()[i];
            let pending = PendingWrite::default();
            let at = At { ctx: &*self.ctx, params, id: &rec.id, outputs: &st.outputs, write: &pending };
            let hold = || Hold { saga_id: rec.id.clone(), epoch: rec.epoch };
            let undo = || {
                drop(pending.take());
                HOLD.scope(hold(), runner.undo(at, i))
            };
            match self.until_space(&rec.id, name, undo).await {
                Ok(()) => {
                    self.record(rec, vec![StepEvent::UndoFinished { step: run.id(i) }], None, pending.take()).await?;
                    return Ok(Ok(()));
                }
                Err(e) => {
                    tracing::warn!(saga = %rec.id, step = runner.steps()[i], error = %e, "undo failed");
                    last = Some(e);
                }
            }
        }
        Ok(Err(last.unwrap_or_else(|| StepError::engine(INTERNAL, "an undo was not tried"))))
    }

    /// Runs an action (a step's forward or undo) again and again while it fails for want of
    /// space, pausing longer each time (up to 5 s). A full disk is the host's condition, not
    /// the operation's failure: unwinding would need the same space, and the saga carries on
    /// by itself once space is freed. Actions are idempotent, so running one again is safe.
    async fn until_space<T, F, Fut>(&self, id: &str, step: &str, mut action: F) -> Result<T, StepError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StepError>>,
    {
        let mut pause = Duration::from_millis(50);
        let mut waited = false;
        loop {
            match action().await {
                Err(e) if e.no_space => {
                    if !waited {
                        tracing::error!(saga = %id, step, error = %e, "no space left; the step waits for space");
                        waited = true;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                other => {
                    if waited {
                        tracing::info!(saga = %id, step, "space is available again; the step went on");
                    }
                    return other;
                }
            }
        }
    }

    /// Appends to the log, retrying until it works: running the next action without the
    /// record of the last one on disk would break recovery, so the saga waits instead. A
    /// fenced write is never retried: the saga is another node's.
    async fn append(&self, rec: &SagaRecord, events: &[StepEvent]) -> Result<(), Dropped> {
        self.record(rec, events.to_vec(), None, None).await
    }

    /// Appends `events`, records the saga's `outcome` when there is one, and commits the
    /// action's own `write` when it handed one in: in one durable write, retried like
    /// [`Inner::append`].
    async fn record(
        &self,
        rec: &SagaRecord,
        events: Vec<StepEvent>,
        outcome: Option<Outcome>,
        write: Option<Box<dyn StepWrite>>,
    ) -> Result<(), Dropped> {
        let mut pause = Duration::from_millis(10);
        loop {
            let written = match (&write, &outcome) {
                (Some(w), _) => {
                    let log = LogWrite {
                        saga_id: rec.id.clone(),
                        epoch: rec.epoch,
                        events: events.clone(),
                        outcome: outcome.clone(),
                    };
                    w.commit(log).await
                }
                (None, Some(o)) => self.log.append_and_finish(&rec.id, rec.epoch, &events, o).await,
                (None, None) => self.log.append(&rec.id, rec.epoch, &events).await,
            };
            match written {
                Ok(()) => return Ok(()),
                Err(LogError::Fenced(_)) => return Err(Dropped),
                Err(e) => {
                    tracing::error!(saga = %rec.id, error = %e, "saga log append failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn finish(&self, rec: &SagaRecord, outcome: Outcome) -> Result<(), Dropped> {
        trace_outcome(&outcome);
        let mut pause = Duration::from_millis(10);
        loop {
            match self.log.finish(&rec.id, rec.epoch, &outcome).await {
                Ok(()) => return Ok(()),
                Err(LogError::Fenced(_)) => return Err(Dropped),
                Err(e) => {
                    tracing::error!(saga = %rec.id, error = %e, "saga log finish failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Says how a saga ended, in its span.
fn trace_outcome(outcome: &Outcome) {
    match outcome {
        Outcome::Succeeded => tracing::debug!(outcome = "succeeded", "saga finished"),
        Outcome::Failed(e) => {
            tracing::debug!(outcome = "failed", code = e.code.as_deref().unwrap_or_default(), "saga finished")
        }
        Outcome::Stuck(e) => {
            tracing::warn!(outcome = "stuck", code = e.code.as_deref().unwrap_or_default(), "saga finished")
        }
    }
}
