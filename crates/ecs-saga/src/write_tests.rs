//! Engine tests of the writes steps hand to the executor ([`crate::StepWrite`]): committed
//! with the step's record, once, and never for an action that failed.

use super::*;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// One durable write: the events and the outcome it carried, and whether a step's own write
/// went with them.
type Entry = (Vec<StepEvent>, Option<Outcome>, bool);

/// A log that keeps every write it takes, as one entry each, and the saga's effects, which only
/// a committed [`Effect`] applies.
#[derive(Default)]
struct Ledger {
    writes: Mutex<Vec<Entry>>,
    applied: Mutex<BTreeSet<String>>,
    /// How many more commits fail as a busy database would.
    failing_commits: Mutex<u32>,
}

impl Ledger {
    fn writes(&self) -> Vec<Entry> {
        self.writes.lock().unwrap().clone()
    }
    fn applied(&self) -> Vec<String> {
        self.applied.lock().unwrap().iter().cloned().collect()
    }
    fn outcome(&self) -> Option<Outcome> {
        self.writes().into_iter().find_map(|(_, o, _)| o)
    }
}

/// The log side of the ledger.
struct LedgerLog(Arc<Ledger>);

#[async_trait]
impl SagaLog for LedgerLog {
    async fn append(&self, _: &str, _: i64, e: &[StepEvent]) -> Result<(), LogError> {
        self.0.writes.lock().unwrap().push((e.to_vec(), None, false));
        Ok(())
    }
    async fn finish(&self, _: &str, _: i64, o: &Outcome) -> Result<(), LogError> {
        self.0.writes.lock().unwrap().push((vec![], Some(o.clone()), false));
        Ok(())
    }
    async fn append_and_finish(&self, _: &str, _: i64, e: &[StepEvent], o: &Outcome) -> Result<(), LogError> {
        self.0.writes.lock().unwrap().push((e.to_vec(), Some(o.clone()), false));
        Ok(())
    }
    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        Ok(vec![])
    }
    async fn load(&self, _: &str) -> Result<Option<SagaRecord>, LogError> {
        Ok(None)
    }
}

/// A step's write: adds or removes one effect, with the log's record, in one entry.
struct Effect {
    ledger: Arc<Ledger>,
    add: Option<&'static str>,
    remove: Option<&'static str>,
}

#[async_trait]
impl StepWrite for Effect {
    async fn commit(&self, log: LogWrite) -> Result<(), LogError> {
        {
            let mut failing = self.ledger.failing_commits.lock().unwrap();
            if *failing > 0 {
                *failing -= 1;
                return Err(LogError::Failed("database is locked".into()));
            }
        }
        let mut applied = self.ledger.applied.lock().unwrap();
        if let Some(a) = self.add {
            applied.insert(a.to_string());
        }
        if let Some(r) = self.remove {
            applied.remove(r);
        }
        self.ledger.writes.lock().unwrap().push((log.events, log.outcome, true));
        Ok(())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Params {
    /// The step (by position) that hands its write in and then fails.
    fail_at: Option<usize>,
}

/// Three steps: the first and last hand a write in, the middle one writes nothing.
struct Handed;

fn effect(cx: &StepCx<'_, Handed>, add: Option<&'static str>, remove: Option<&'static str>) {
    cx.write_with_log(Effect { ledger: cx.ctx.clone(), add, remove });
}

fn fails(cx: &StepCx<'_, Handed>, step: usize) -> Result<(), StepError> {
    match cx.params.fail_at == Some(step) {
        true => Err(StepError::new("Ecs.9999", format!("injected at {step}"))),
        false => Ok(()),
    }
}

impl Saga for Handed {
    type Ctx = Arc<Ledger>;
    type Params = Params;
    const KIND: &'static str = "handed";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "add_a",
            forward: |cx| {
                Box::pin(async move {
                    effect(cx, Some("a"), None);
                    fails(cx, 0)?;
                    Ok(Value::Null)
                })
            },
            undo: Some(|cx| {
                Box::pin(async move {
                    effect(cx, None, Some("a"));
                    Ok(())
                })
            }),
        },
        Step { name: "nothing", forward: |cx| Box::pin(async move { fails(cx, 1).map(|()| Value::Null) }), undo: None },
        Step {
            name: "add_b",
            forward: |cx| {
                Box::pin(async move {
                    effect(cx, Some("b"), None);
                    fails(cx, 2)?;
                    Ok(Value::from("b"))
                })
            },
            undo: None,
        },
    ];

    fn operation(_: &Params) -> &'static str {
        "handedOperation"
    }
}

fn run(fail_at: Option<usize>, failing_commits: u32, twice: bool) -> (Arc<Ledger>, Executor<Arc<Ledger>>) {
    let ledger = Arc::new(Ledger { failing_commits: Mutex::new(failing_commits), ..Default::default() });
    let ex = Executor::builder(Arc::new(LedgerLog(ledger.clone())), Arc::new(ledger.clone()))
        .register::<Handed>()
        .run_steps_twice(twice)
        .retries(2, std::time::Duration::from_millis(1))
        .build();
    let mut rec =
        SagaRecord::new("h", Handed::KIND, Handed::VERSION, serde_json::to_value(Params { fail_at }).unwrap());
    rec.events.push(StepEvent::Started { step: "add_a".into() });
    assert!(ex.start(rec));
    (ledger, ex)
}

fn succeeded(step: &'static str, output: Value) -> StepEvent {
    StepEvent::Succeeded { step: step.into(), output }
}

fn started(step: &'static str) -> StepEvent {
    StepEvent::Started { step: step.into() }
}

#[tokio::test]
async fn a_handed_write_is_committed_once_with_its_steps_record_and_the_last_with_the_end() {
    for twice in [false, true] {
        let (ledger, ex) = run(None, 0, twice);
        ex.wait_idle().await;
        assert_eq!(
            ledger.writes(),
            vec![
                (vec![succeeded("add_a", Value::Null), started("nothing")], None, true),
                (vec![succeeded("nothing", Value::Null), started("add_b")], None, false),
                (vec![succeeded("add_b", Value::from("b"))], Some(Outcome::Succeeded), true),
            ],
            "three durable writes for three steps and the end (run twice: {twice})"
        );
        assert_eq!(ledger.applied(), ["a", "b"]);
    }
}

#[tokio::test]
async fn a_write_handed_in_by_an_action_that_then_failed_is_never_made() {
    for fail_at in 0..3 {
        let (ledger, ex) = run(Some(fail_at), 0, false);
        ex.wait_idle().await;
        let Some(Outcome::Failed(e)) = ledger.outcome() else { panic!("fail_at {fail_at}: {:?}", ledger.writes()) };
        assert_eq!(e.code.as_deref(), Some("Ecs.9999"));
        // The failed step's write was dropped; `add_a`'s, when it was made, was undone by the
        // write its undo handed in, itself recorded with the undo's end.
        assert!(ledger.applied().is_empty(), "fail_at {fail_at}: {:?}", ledger.applied());
        let undone = ledger
            .writes()
            .into_iter()
            .filter(|(e, _, _)| e.contains(&StepEvent::UndoFinished { step: "add_a".into() }));
        assert_eq!(undone.map(|(_, _, handed)| handed).collect::<Vec<_>>(), [true], "fail_at {fail_at}");
    }
}

#[tokio::test]
async fn a_commit_that_fails_for_a_passing_reason_is_tried_again_and_applied_once() {
    let (ledger, ex) = run(None, 3, false);
    ex.wait_idle().await;
    assert_eq!(ledger.outcome(), Some(Outcome::Succeeded));
    assert_eq!(ledger.applied(), ["a", "b"]);
    assert_eq!(ledger.writes().iter().filter(|(_, _, handed)| *handed).count(), 2, "{:?}", ledger.writes());
}
