//! Engine tests over an in-memory log and a toy saga whose effects are visible in a set.

use super::*;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct MemLog {
    events: Mutex<HashMap<String, Vec<StepEvent>>>,
    kinds: Mutex<HashMap<String, (String, Value)>>,
    outcomes: Mutex<HashMap<String, Outcome>>,
}

impl MemLog {
    fn create(&self, rec: &SagaRecord) {
        self.kinds.lock().unwrap().insert(rec.id.clone(), (rec.kind.clone(), rec.params.clone()));
        self.events.lock().unwrap().insert(rec.id.clone(), vec![]);
    }
    fn outcome(&self, id: &str) -> Option<Outcome> {
        self.outcomes.lock().unwrap().get(id).cloned()
    }
}

#[async_trait]
impl SagaLog for MemLog {
    async fn append(&self, id: &str, e: &[StepEvent]) -> Result<(), LogError> {
        self.events.lock().unwrap().entry(id.to_string()).or_default().extend_from_slice(e);
        Ok(())
    }
    async fn finish(&self, id: &str, o: &Outcome) -> Result<(), LogError> {
        self.outcomes.lock().unwrap().insert(id.to_string(), o.clone());
        Ok(())
    }
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        let outcomes = self.outcomes.lock().unwrap();
        let kinds = self.kinds.lock().unwrap();
        let events = self.events.lock().unwrap();
        Ok(kinds
            .iter()
            .filter(|(id, _)| !outcomes.contains_key(*id))
            .map(|(id, (k, p))| SagaRecord {
                id: id.clone(),
                kind: k.clone(),
                params: p.clone(),
                events: events.get(id).cloned().unwrap_or_default(),
            })
            .collect())
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

#[async_trait]
impl Saga for Toy {
    type Ctx = World;
    type Params = Params;
    const KIND: &'static str = "toy";
    const STEPS: &'static [&'static str] = &["alloc_name", "create_a", "create_b", "delete_old"];
    const NO_RETURN: usize = 3;

    async fn forward(step: usize, cx: &StepCx<'_, Self>) -> Result<Value, StepError> {
        if step == 1 && still_full(&cx.ctx.full_forward) {
            return Err(StepError::no_space("Ecs.1000", "no space left on device"));
        }
        if cx.params.fail_at == Some(step) {
            return Err(StepError::new("Ecs.9999", format!("injected at {step}")));
        }
        match step {
            0 => {
                let mut n = cx.ctx.allocations.lock().unwrap();
                *n += 1;
                Ok(json!(format!("res-{n}")))
            }
            1 | 2 => {
                let name = cx.outputs.get(&NAME)?;
                cx.ctx.resources.lock().unwrap().insert(format!("{name}-{step}"));
                Ok(Value::Null)
            }
            _ => {
                cx.ctx.resources.lock().unwrap().remove("old");
                Ok(Value::Null)
            }
        }
    }

    async fn undo(step: usize, cx: &StepCx<'_, Self>) -> Result<(), StepError> {
        if cx.params.undo_fails {
            return Err(StepError::new("Ecs.1000", "undo broken"));
        }
        if step == 1 && still_full(&cx.ctx.full_undo) {
            return Err(StepError::no_space("Ecs.1000", "no space left on device"));
        }
        if let (1 | 2, Some(name)) = (step, cx.outputs.try_get(&NAME)) {
            cx.ctx.resources.lock().unwrap().remove(&format!("{name}-{step}"));
        }
        Ok(())
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
    SagaRecord::new(id, Toy::KIND, serde_json::to_value(Params { fail_at, undo_fails }).unwrap())
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
            rec.events.push(StepEvent::Started { step: 0 });
            log.events.lock().unwrap().insert("s1".into(), rec.events.clone());
        }
        ex.start(rec);
        ex.wait_idle().await;
        let events = log.events.lock().unwrap()["s1"].clone();
        let steps = Toy::STEPS.len();
        for i in 0..steps {
            let starts = events.iter().filter(|e| **e == StepEvent::Started { step: i }).count();
            assert_eq!(starts, 1, "step {i} (prelogged {prelogged}): {events:?}");
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
            Some(Outcome::Failed(e)) => assert_eq!(e.code, "Ecs.9999"),
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
    assert!(matches!(log.outcome("s"), Some(Outcome::Failed(e)) if e.code == "Ecs.9999"));
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
            if let StepEvent::Succeeded { step: 0, .. } = e {
                *world2.allocations.lock().unwrap() = 1;
            }
            if let StepEvent::Succeeded { step: s @ (1 | 2), .. } = e {
                world2.resources.lock().unwrap().insert(format!("res-1-{s}"));
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
