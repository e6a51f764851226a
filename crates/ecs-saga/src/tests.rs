//! Engine tests over an in-memory log and a toy saga whose effects are visible in a set.

use super::*;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct MemLog {
    /// The epoch each saga is held with; a write with another is fenced, as a shared log does.
    epochs: Mutex<HashMap<String, i64>>,
    events: Mutex<HashMap<String, Vec<StepEvent>>>,
    kinds: Mutex<HashMap<String, (String, u32, Value)>>,
    outcomes: Mutex<HashMap<String, Outcome>>,
}

impl MemLog {
    fn create(&self, rec: &SagaRecord) {
        self.outcomes.lock().unwrap().remove(&rec.id);
        self.kinds.lock().unwrap().insert(rec.id.clone(), (rec.kind.clone(), rec.version, rec.params.clone()));
        self.events.lock().unwrap().insert(rec.id.clone(), vec![]);
    }
    /// Another node adopts the saga: its epoch goes up by one.
    fn adopt(&self, id: &str) {
        *self.epochs.lock().unwrap().entry(id.to_string()).or_default() += 1;
    }
    fn check(&self, id: &str, epoch: i64) -> Result<(), LogError> {
        match self.epochs.lock().unwrap().get(id).copied().unwrap_or(0) {
            held if held == epoch => Ok(()),
            _ => Err(LogError::Fenced(id.to_string())),
        }
    }
    fn outcome(&self, id: &str) -> Option<Outcome> {
        self.outcomes.lock().unwrap().get(id).cloned()
    }
}

#[async_trait]
impl SagaLog for MemLog {
    async fn append(&self, id: &str, epoch: i64, e: &[StepEvent]) -> Result<(), LogError> {
        self.check(id, epoch)?;
        self.events.lock().unwrap().entry(id.to_string()).or_default().extend_from_slice(e);
        Ok(())
    }
    async fn finish(&self, id: &str, epoch: i64, o: &Outcome) -> Result<(), LogError> {
        self.check(id, epoch)?;
        self.outcomes.lock().unwrap().insert(id.to_string(), o.clone());
        Ok(())
    }
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        let ids: Vec<String> = self.kinds.lock().unwrap().keys().cloned().collect();
        Ok(ids.iter().filter_map(|id| self.record(id)).collect())
    }
    async fn load(&self, id: &str) -> Result<Option<SagaRecord>, LogError> {
        Ok(self.record(id))
    }
}

impl MemLog {
    /// The saga `id` as the log holds it, if it has not finished.
    fn record(&self, id: &str) -> Option<SagaRecord> {
        if self.outcomes.lock().unwrap().contains_key(id) {
            return None;
        }
        let (kind, version, params) = self.kinds.lock().unwrap().get(id).cloned()?;
        Some(SagaRecord {
            id: id.to_string(),
            kind,
            version,
            params,
            events: self.events.lock().unwrap().get(id).cloned().unwrap_or_default(),
            epoch: self.epochs.lock().unwrap().get(id).copied().unwrap_or(0),
            host: None,
        })
    }
}

/// The world the toy saga acts on: a set of "resources" and a counter of id allocations.
#[derive(Default)]
struct World {
    resources: Mutex<BTreeSet<String>>,
    allocations: Mutex<u32>,
    /// How many more times step 1's forward, and its undo, find the disk full.
    full_forward: Mutex<u32>,
    full_undo: Mutex<u32>,
    /// Sagas of [`Slow`] in their step now, and the most there ever were.
    active: Mutex<(u32, u32)>,
}

/// Counts a "disk full" down: true while the disk is still full.
fn still_full(n: &Mutex<u32>) -> bool {
    let mut n = n.lock().unwrap();
    let full = *n > 0;
    *n = n.saturating_sub(1);
    full
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Params {
    fail_at: Option<usize>,
    undo_fails: bool,
}

struct Toy;
const NAME: Key<String> = Key::new("alloc_name");

/// "No space left" while the counter says the disk is still full.
fn full(counter: &Mutex<u32>) -> Result<(), StepError> {
    if still_full(counter) {
        return Err(StepError::new("Ecs.1000", "no space left on device").no_space());
    }
    Ok(())
}

fn injected(cx: &StepCx<'_, Toy>, step: usize) -> Result<(), StepError> {
    if cx.params.fail_at == Some(step) {
        return Err(StepError::new("Ecs.9999", format!("injected at {step}")));
    }
    Ok(())
}

async fn alloc_name(cx: &StepCx<'_, Toy>) -> Result<Value, StepError> {
    injected(cx, 0)?;
    let mut n = cx.ctx.allocations.lock().unwrap();
    *n += 1;
    Ok(json!(format!("res-{n}")))
}

/// Steps 1 and 2 create a resource named after the allocated name.
async fn create(cx: &StepCx<'_, Toy>, step: usize) -> Result<Value, StepError> {
    if step == 1 {
        full(&cx.ctx.full_forward)?;
    }
    injected(cx, step)?;
    let name = cx.outputs.get(&NAME)?;
    cx.ctx.resources.lock().unwrap().insert(format!("{name}-{step}"));
    Ok(Value::Null)
}

async fn uncreate(cx: &StepCx<'_, Toy>, step: usize) -> Result<(), StepError> {
    if cx.params.undo_fails {
        return Err(StepError::new("Ecs.1000", "undo broken"));
    }
    if step == 1 {
        full(&cx.ctx.full_undo)?;
    }
    if let Some(name) = cx.outputs.try_get(&NAME) {
        cx.ctx.resources.lock().unwrap().remove(&format!("{name}-{step}"));
    }
    Ok(())
}

async fn delete_old(cx: &StepCx<'_, Toy>) -> Result<Value, StepError> {
    injected(cx, 3)?;
    cx.ctx.resources.lock().unwrap().remove("old");
    Ok(Value::Null)
}

async fn nothing(cx: &StepCx<'_, Toy>) -> Result<(), StepError> {
    if cx.params.undo_fails {
        return Err(StepError::new("Ecs.1000", "undo broken"));
    }
    Ok(())
}

impl Saga for Toy {
    type Ctx = World;
    type Params = Params;
    const KIND: &'static str = "toy";
    const VERSION: u32 = 2;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "alloc_name", forward: |cx| Box::pin(alloc_name(cx)), undo: Some(|cx| Box::pin(nothing(cx))) },
        Step { name: "create_a", forward: |cx| Box::pin(create(cx, 1)), undo: Some(|cx| Box::pin(uncreate(cx, 1))) },
        Step { name: "create_b", forward: |cx| Box::pin(create(cx, 2)), undo: Some(|cx| Box::pin(uncreate(cx, 2))) },
        Step { name: "delete_old", forward: |cx| Box::pin(delete_old(cx)), undo: None },
    ];
    const NO_RETURN: Option<&'static str> = Some("delete_old");

    fn operation(_: &Params) -> &'static str {
        "toyOperation"
    }

    /// Version 1 had the same steps, logged by position.
    fn positional_layout(version: u32) -> Option<&'static [&'static str]> {
        (version == 1).then_some(&["alloc_name", "create_a", "create_b", "delete_old"][..])
    }
}

/// A saga of one step that takes a while, counting how many run it at once.
struct Slow;

async fn slow_step(cx: &StepCx<'_, Slow>) -> Result<Value, StepError> {
    {
        let mut a = cx.ctx.active.lock().unwrap();
        a.0 += 1;
        a.1 = a.1.max(a.0);
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    cx.ctx.active.lock().unwrap().0 -= 1;
    Ok(Value::Null)
}

impl Saga for Slow {
    type Ctx = World;
    type Params = Params;
    const KIND: &'static str = "slow";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[Step { name: "wait", forward: |cx| Box::pin(slow_step(cx)), undo: None }];
    const NO_RETURN: Option<&'static str> = None;

    fn operation(_: &Params) -> &'static str {
        "slowOperation"
    }
}

#[tokio::test]
async fn no_more_sagas_run_at_once_than_the_executor_allows_and_the_rest_wait_their_turn() {
    let log = Arc::new(MemLog::default());
    let world = Arc::new(World::default());
    let ex = Executor::builder(log.clone(), world.clone()).register::<Slow>().max_running(3).build();
    let params = serde_json::to_value(Params { fail_at: None, undo_fails: false }).unwrap();
    for i in 0..12 {
        let rec = SagaRecord::new(format!("slow-{i}"), Slow::KIND, Slow::VERSION, params.clone());
        log.create(&rec);
        assert!(ex.start(rec));
    }
    // A waiting saga counts as running here: it cannot be started a second time meanwhile.
    assert_eq!(ex.running(), 12);
    assert!(!ex.start(SagaRecord::new("slow-11", Slow::KIND, Slow::VERSION, params.clone())));
    ex.wait_idle().await;
    for i in 0..12 {
        assert_eq!(log.outcome(&format!("slow-{i}")), Some(Outcome::Succeeded), "slow-{i}");
    }
    assert_eq!(world.active.lock().unwrap().1, 3, "at most 3 at once, and the bound was reached");
}

#[tokio::test]
async fn a_saga_that_waited_for_its_turn_runs_as_the_log_has_it_then_with_the_epoch_it_was_started_with() {
    let log = Arc::new(MemLog::default());
    let world = Arc::new(World::default());
    world.resources.lock().unwrap().insert("old".into());
    let ex = Executor::builder(log.clone(), world.clone()).register::<Slow>().register::<Toy>().max_running(1).build();
    let slow = SagaRecord::new(
        "slow",
        Slow::KIND,
        Slow::VERSION,
        serde_json::to_value(Params { fail_at: None, undo_fails: false }).unwrap(),
    );
    log.create(&slow);
    assert!(ex.start(slow));
    // Three sagas wait behind it. What they were started with is not what runs: each is read
    // again from the log when its turn comes.
    for id in ["runs", "finished", "adopted"] {
        log.create(&record(id, None, false));
        assert!(ex.start(record(id, Some(0), false)));
    }
    assert_eq!(ex.running(), 4);
    log.outcomes.lock().unwrap().insert("finished".into(), Outcome::Succeeded);
    log.adopt("adopted");
    ex.wait_idle().await;
    assert_eq!(ex.running(), 0);
    // Run from the log's record (without the failure the start's record asked for).
    assert_eq!(log.outcome("runs"), Some(Outcome::Succeeded));
    assert_eq!(resources(&world), ["res-1-1", "res-1-2"]);
    // Ended elsewhere meanwhile: nothing run, nothing written.
    assert!(log.events.lock().unwrap()["finished"].is_empty());
    // Adopted by another node meanwhile: every write this process tries is fenced, so no step
    // runs and the saga is left to its new owner.
    assert!(log.events.lock().unwrap()["adopted"].is_empty());
    assert_eq!(log.outcome("adopted"), None);
    assert_eq!(*world.allocations.lock().unwrap(), 1, "only one saga allocated a name");
}

/// A log whose reads of one saga fail a number of times before they work.
struct FlakyLoad {
    log: Arc<MemLog>,
    failures: Mutex<u32>,
}

#[async_trait]
impl SagaLog for FlakyLoad {
    async fn append(&self, id: &str, epoch: i64, e: &[StepEvent]) -> Result<(), LogError> {
        self.log.append(id, epoch, e).await
    }
    async fn finish(&self, id: &str, epoch: i64, o: &Outcome) -> Result<(), LogError> {
        self.log.finish(id, epoch, o).await
    }
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        self.log.unfinished().await
    }
    async fn load(&self, id: &str) -> Result<Option<SagaRecord>, LogError> {
        if still_full(&self.failures) {
            return Err(LogError::Failed("database unreachable".into()));
        }
        self.log.load(id).await
    }
}

#[tokio::test]
async fn a_waiting_saga_whose_record_cannot_be_read_is_retried_then_left_in_the_log() {
    for (attempts, failures, runs) in [(3, 2, true), (2, 2, false)] {
        let log = Arc::new(MemLog::default());
        let flaky = Arc::new(FlakyLoad { log: log.clone(), failures: Mutex::new(failures) });
        let world = Arc::new(World::default());
        let ex = Executor::builder(flaky, world.clone())
            .register::<Slow>()
            .register::<Toy>()
            .retries(attempts, std::time::Duration::from_millis(1))
            .max_running(1)
            .build();
        let slow = SagaRecord::new(
            "slow",
            Slow::KIND,
            Slow::VERSION,
            serde_json::to_value(Params { fail_at: None, undo_fails: false }).unwrap(),
        );
        log.create(&slow);
        assert!(ex.start(slow));
        log.create(&record("waits", None, false));
        assert!(ex.start(record("waits", None, false)));
        ex.wait_idle().await;
        assert_eq!(ex.running(), 0, "the slot was given back either way");
        if runs {
            assert_eq!(log.outcome("waits"), Some(Outcome::Succeeded), "read on the third try");
        } else {
            // Not run, and still unfinished in the log: the next recovery resumes it.
            assert_eq!(log.outcome("waits"), None);
            assert!(log.events.lock().unwrap()["waits"].is_empty());
            assert_eq!(log.unfinished().await.unwrap().len(), 1);
        }
    }
}

fn setup() -> (Arc<MemLog>, Arc<World>, Executor<World>) {
    let log = Arc::new(MemLog::default());
    let world = Arc::new(World::default());
    world.resources.lock().unwrap().insert("old".into());
    let ex = Executor::builder(log.clone(), world.clone())
        .register::<Toy>()
        .retries(2, std::time::Duration::from_millis(1))
        .build();
    (log, world, ex)
}

fn record(id: &str, fail_at: Option<usize>, undo_fails: bool) -> SagaRecord {
    SagaRecord::new(id, Toy::KIND, Toy::VERSION, serde_json::to_value(Params { fail_at, undo_fails }).unwrap())
}

fn resources(w: &World) -> Vec<String> {
    w.resources.lock().unwrap().iter().cloned().collect()
}

#[tokio::test]
async fn a_saga_runs_every_step_and_succeeds() {
    let (log, world, ex) = setup();
    let rec = record("s1", None, false);
    log.create(&rec);
    assert!(ex.start(rec));
    ex.wait_idle().await;
    assert_eq!(log.outcome("s1"), Some(Outcome::Succeeded));
    assert_eq!(resources(&world), vec!["res-1-1", "res-1-2"]);
}

#[tokio::test]
async fn each_start_is_logged_once_whether_or_not_the_record_brought_the_first() {
    for prelogged in [false, true] {
        let (log, _world, ex) = setup();
        let mut rec = record("s1", None, false);
        log.create(&rec);
        if prelogged {
            rec.events.push(StepEvent::Started { step: "alloc_name".into() });
            log.events.lock().unwrap().insert("s1".into(), rec.events.clone());
        }
        ex.start(rec);
        ex.wait_idle().await;
        let events = log.events.lock().unwrap()["s1"].clone();
        let steps = Toy::STEPS.len();
        for step in Toy::STEPS {
            let starts = events.iter().filter(|e| **e == StepEvent::Started { step: step.name.into() }).count();
            assert_eq!(starts, 1, "step {} (prelogged {prelogged}): {events:?}", step.name);
        }
        assert_eq!(events.len(), 2 * steps, "{events:?}");
        assert_eq!(log.outcome("s1"), Some(Outcome::Succeeded));
    }
}

#[tokio::test]
async fn a_failure_at_each_step_unwinds_to_the_start() {
    for fail_at in 0..3 {
        let (log, world, ex) = setup();
        let rec = record("s", Some(fail_at), false);
        log.create(&rec);
        ex.start(rec);
        ex.wait_idle().await;
        match log.outcome("s") {
            Some(Outcome::Failed(e)) => assert_eq!(e.code.as_deref(), Some("Ecs.9999")),
            other => panic!("fail_at {fail_at}: {other:?}"),
        }
        // Nothing created survives, and the "old" resource (deleted only past the point of no
        // return) is still there.
        assert_eq!(resources(&world), vec!["old"], "fail_at {fail_at}");
    }
}

#[tokio::test]
async fn a_failure_past_the_point_of_no_return_is_stuck_not_unwound() {
    let (log, world, ex) = setup();
    let rec = record("s", Some(3), false);
    log.create(&rec);
    ex.start(rec);
    ex.wait_idle().await;
    assert!(matches!(log.outcome("s"), Some(Outcome::Stuck(_))));
    assert_eq!(resources(&world), vec!["old", "res-1-1", "res-1-2"]);
}

#[tokio::test]
async fn a_step_that_finds_the_disk_full_waits_for_space_instead_of_failing() {
    let (log, world, ex) = setup();
    // More "disk full" answers than the executor's two tries: only waiting gets through.
    *world.full_forward.lock().unwrap() = 4;
    let rec = record("s", None, false);
    log.create(&rec);
    ex.start(rec);
    ex.wait_idle().await;
    assert_eq!(log.outcome("s"), Some(Outcome::Succeeded));
    assert_eq!(resources(&world), vec!["res-1-1", "res-1-2"]);
    let events = log.events.lock().unwrap()["s"].clone();
    assert!(
        !events.iter().any(|e| matches!(e, StepEvent::Failed { .. } | StepEvent::UndoStarted { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_undo_that_finds_the_disk_full_waits_and_the_saga_still_fails_cleanly() {
    let (log, world, ex) = setup();
    *world.full_undo.lock().unwrap() = 4;
    let rec = record("s", Some(2), false);
    log.create(&rec);
    ex.start(rec);
    ex.wait_idle().await;
    assert!(matches!(log.outcome("s"), Some(Outcome::Failed(e)) if e.code.as_deref() == Some("Ecs.9999")));
    assert_eq!(resources(&world), vec!["old"]);
}

#[tokio::test]
async fn a_failing_undo_marks_the_saga_stuck() {
    let (log, _world, ex) = setup();
    let rec = record("s", Some(2), true);
    log.create(&rec);
    ex.start(rec);
    ex.wait_idle().await;
    assert!(matches!(log.outcome("s"), Some(Outcome::Stuck(e)) if e.message == "undo broken"));
}

#[tokio::test]
async fn recovery_resumes_after_each_crash_point_and_reuses_logged_ids() {
    // Run once to completion to learn the full event sequence, then for every prefix of it
    // (a crash after k events) recover on a fresh world and check the end state is the same.
    let (log, _world, ex) = setup();
    let rec = record("s", None, false);
    log.create(&rec);
    ex.start(rec.clone());
    ex.wait_idle().await;
    let full = log.events.lock().unwrap()["s"].clone();
    for k in 0..full.len() {
        let (log2, world2, ex2) = setup();
        log2.create(&rec);
        log2.events.lock().unwrap().insert("s".into(), full[..k].to_vec());
        // Replay the effects the crashed run had already made (the world is durable too).
        for e in &full[..k] {
            if let StepEvent::Succeeded { step, .. } = e {
                match step.to_string().as_str() {
                    "alloc_name" => *world2.allocations.lock().unwrap() = 1,
                    "create_a" => drop(world2.resources.lock().unwrap().insert("res-1-1".into())),
                    "create_b" => drop(world2.resources.lock().unwrap().insert("res-1-2".into())),
                    _ => {}
                }
            }
        }
        assert_eq!(ex2.recover().await.unwrap(), 1);
        ex2.wait_idle().await;
        assert_eq!(log2.outcome("s"), Some(Outcome::Succeeded), "crash after {k} events");
        let got = resources(&world2);
        // A crash between allocating and logging the name may allocate a second one; what
        // matters is that exactly one name's resources exist and "old" is gone.
        assert_eq!(got.len(), 2, "crash after {k}: {got:?}");
        assert!(!got.contains(&"old".to_string()));
        let first = got[0].rsplit_once('-').unwrap().0.to_string();
        assert!(got.iter().all(|r| r.starts_with(&first)), "crash after {k}: {got:?}");
    }
}

#[tokio::test]
async fn the_same_saga_is_not_started_twice() {
    let (log, _world, ex) = setup();
    let rec = record("dup", None, false);
    log.create(&rec);
    let first = ex.start(rec.clone());
    let second = ex.start(rec);
    assert!(first);
    assert!(!second);
    ex.wait_idle().await;
}

/// The log of a saga started by the release before steps were named: version 1, steps by
/// position, crashed after its first two steps (as that release's store holds it).
fn version_1_log() -> Vec<StepEvent> {
    let text = r#"[
        {"event":"started","step":0},
        {"event":"succeeded","step":0,"output":"res-1"},
        {"event":"started","step":1},
        {"event":"succeeded","step":1,"output":null},
        {"event":"started","step":2}
    ]"#;
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_log_of_the_positional_layout_is_replayed_by_name() {
    let (log, world, ex) = setup();
    let mut rec = record("old", None, false);
    rec.version = 1;
    rec.events = version_1_log();
    log.create(&rec);
    log.events.lock().unwrap().insert("old".into(), rec.events.clone());
    // What the crashed run had done: the name allocated, the first resource made.
    *world.allocations.lock().unwrap() = 1;
    world.resources.lock().unwrap().insert("res-1-1".into());
    assert_eq!(ex.recover().await.unwrap(), 1);
    ex.wait_idle().await;
    assert_eq!(log.outcome("old"), Some(Outcome::Succeeded));
    // The logged name was reused, and the steps already done were not run again.
    assert_eq!(resources(&world), vec!["res-1-1", "res-1-2"]);
    assert_eq!(*world.allocations.lock().unwrap(), 1);
    let events = log.events.lock().unwrap()["old"].clone();
    let written: Vec<String> = events[5..].iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    assert!(
        written.iter().all(|e| e.contains(r#""step":"create_b""#) || e.contains(r#""step":"delete_old""#)),
        "{written:?}"
    );
}

#[tokio::test]
async fn a_log_this_release_cannot_read_is_left_alone_not_misreplayed() {
    let cases: [(&str, u32, Vec<StepEvent>); 3] = [
        // Written by a newer release.
        ("newer", 3, vec![StepEvent::Started { step: "alloc_name".into() }]),
        // Positions, at a version without a positional layout.
        ("positions", 2, version_1_log()),
        // A step this release does not have (renamed or removed since).
        ("renamed", 2, vec![StepEvent::Started { step: "create_c".into() }]),
    ];
    for (id, version, events) in cases {
        let (log, world, ex) = setup();
        let mut rec = record(id, None, false);
        rec.version = version;
        rec.events = events.clone();
        log.create(&rec);
        log.events.lock().unwrap().insert(id.into(), events.clone());
        ex.recover().await.unwrap();
        ex.wait_idle().await;
        assert_eq!(log.outcome(id), None, "{id}: left unfinished for the release that can read it");
        assert_eq!(log.events.lock().unwrap()[id], events, "{id}: nothing appended");
        assert_eq!(resources(&world), vec!["old"], "{id}: no step ran");
    }
}

/// A fence that answers what it is told, and counts how often it was asked.
#[derive(Default)]
struct Gate {
    ours: std::sync::atomic::AtomicBool,
    asked: std::sync::atomic::AtomicU32,
}

#[async_trait]
impl Fence for Gate {
    async fn may_act(&self, _: &str, _: i64, _: &mut u64) -> bool {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.ours.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_saga_adopted_elsewhere_is_dropped_at_its_next_write_and_never_written_again() {
    // The step after `alloc_name` is held, the saga is adopted meanwhile (its epoch goes up),
    // then the step is let go: its success is refused, and the run stops without an outcome.
    let log = Arc::new(MemLog::default());
    let world = Arc::new(World::default());
    let held = Arc::new(tokio::sync::Semaphore::new(0));
    struct HoldCreateA(Arc<tokio::sync::Semaphore>);
    #[async_trait]
    impl Hook for HoldCreateA {
        async fn before_step(&self, at: &StepSite<'_>) -> HookAction {
            if at.step == "create_a" {
                let _ = self.0.acquire().await.map(|p| p.forget());
            }
            HookAction::Proceed
        }
    }
    let ex = Executor::builder(log.clone(), world.clone())
        .register::<Toy>()
        .hook(Arc::new(HoldCreateA(held.clone())))
        .build();
    let rec = record("s1", None, false);
    log.create(&rec);
    assert!(ex.start(rec));
    while log.events.lock().unwrap()["s1"].len() < 2 {
        tokio::task::yield_now().await;
    }
    log.adopt("s1");
    let before = log.events.lock().unwrap()["s1"].clone();
    held.add_permits(1);
    ex.wait_idle().await;
    assert_eq!(log.events.lock().unwrap()["s1"], before, "nothing written after the adoption");
    assert_eq!(log.outcome("s1"), None, "the adopter finishes it, not the stale node");
    assert_eq!(ex.running(), 0, "the stale run is gone");
}

#[tokio::test]
async fn a_fence_that_says_the_saga_is_not_ours_stops_it_before_any_action_runs() {
    let log = Arc::new(MemLog::default());
    let world = Arc::new(World::default());
    let gate = Arc::new(Gate::default());
    let ex = Executor::builder(log.clone(), world.clone()).register::<Toy>().fence(gate.clone()).build();
    let rec = record("s1", None, false);
    log.create(&rec);
    assert!(ex.start(rec));
    ex.wait_idle().await;
    assert_eq!(*world.allocations.lock().unwrap(), 0, "the first action never ran");
    assert_eq!(log.outcome("s1"), None);
    assert_eq!(gate.asked.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The same saga, when the fence lets it: it is asked before each of the four steps.
    gate.ours.store(true, std::sync::atomic::Ordering::SeqCst);
    let rec = record("s2", None, false);
    log.create(&rec);
    assert!(ex.start(rec));
    ex.wait_idle().await;
    assert_eq!(log.outcome("s2"), Some(Outcome::Succeeded));
    assert_eq!(gate.asked.load(std::sync::atomic::Ordering::SeqCst), 1 + 4);
}
