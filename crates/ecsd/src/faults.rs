//! Fault injection: make operations fail, slow down, hang or crash the process on purpose, so
//! users can test how their automation copes with a `FAIL` job.
//!
//! A fault names what it targets (an operation by its job type, a step of that operation's
//! saga, a project, a server; each optional) and what happens there. Faults come from the
//! configuration file at start-up and from the admin API (`/ecsd-admin/v1/faults`), where a
//! caller can only create, see and clear faults of its own project. On a store of its own
//! (SQLite) a node keeps them in memory: a restart clears those created through the API. On a
//! store the nodes share (PostgreSQL) they live in the database, so that a fault added through
//! one node fires on all; see `faults_shared.rs` for how each node keeps up with them.

use async_trait::async_trait;
use ecs_model::Error;
use ecs_saga::{Hook, HookAction, StepError, StepSite};
use ecs_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens when a fault matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultAction {
    /// The step fails with `error_code` / `message`; the operation unwinds and its job FAILs.
    Fail,
    /// The step starts `delay_ms` later.
    Delay,
    /// The step waits until the fault is cleared.
    Hang,
    /// The process aborts right after the step has succeeded (crash-recovery tests).
    Crash,
}

/// A fault as requested (admin API body, `[[faults]]` in the configuration file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// A job type: `reinstallOs`, `changeOs`, `createServer`, `deleteServer`, `startServer`,
    /// `stopServer`, `rebootServer`, `resizeServer`. Absent: every operation.
    #[serde(default)]
    pub operation: Option<String>,
    /// A step of the operation's saga (e.g. `create_disk`). Absent: every step.
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub server_id: Option<String>,
    pub action: FaultAction,
    /// For `fail`: the job's `error_code` (default `Ecs.1000`).
    #[serde(default)]
    pub error_code: Option<String>,
    /// For `fail`: the job's `fail_reason`.
    #[serde(default)]
    pub message: Option<String>,
    /// For `delay`.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// How many times it fires before it clears itself. Absent: until cleared.
    #[serde(default)]
    pub times: Option<u32>,
}

/// A fault in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub id: String,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many times it has fired.
    pub hits: u32,
}

impl FaultSpec {
    /// Checks the fields; `Ecs.0005` naming what is wrong.
    pub fn validate(&self) -> Result<(), Error> {
        let operations = crate::sagas::operations();
        if let Some(op) = &self.operation {
            let Some((_, steps)) = operations.iter().find(|(o, _)| o == op) else {
                let names: Vec<&str> = operations.iter().map(|(o, _)| *o).collect();
                return Err(Error::invalid(format!("operation {op:?} is not one of {}.", names.join(", "))));
            };
            if let Some(step) = &self.step {
                if !steps.contains(&step.as_str()) {
                    return Err(Error::invalid(format!(
                        "{op} has no step {step:?}; its steps are {}.",
                        steps.join(", ")
                    )));
                }
            }
        } else if let Some(step) = &self.step {
            if !operations.iter().any(|(_, steps)| steps.contains(&step.as_str())) {
                return Err(Error::invalid(format!("no operation has a step {step:?}.")));
            }
        }
        if let Some(code) = &self.error_code {
            let ok = code.split_once('.').is_some_and(|(a, n)| {
                !a.is_empty()
                    && a.chars().all(|c| c.is_ascii_alphabetic())
                    && n.len() == 4
                    && n.chars().all(|c| c.is_ascii_digit())
            });
            if !ok {
                return Err(Error::invalid(format!("error_code {code:?} must look like Ecs.0123.")));
            }
        }
        if self.message.as_ref().is_some_and(|m| m.len() > 1024) {
            return Err(Error::invalid("message must be at most 1024 characters."));
        }
        match self.action {
            FaultAction::Delay if self.delay_ms.is_none() => Err(Error::invalid("a delay fault needs delay_ms.")),
            _ if self.delay_ms.is_some_and(|d| d > 3_600_000) => {
                Err(Error::invalid("delay_ms must be at most one hour."))
            }
            _ if self.times == Some(0) => Err(Error::invalid("times must be at least 1.")),
            _ => Ok(()),
        }
    }
}

/// The faults in force; the saga executor's hook.
#[derive(Default)]
pub struct Faults {
    /// The faults in force (a node on its own), or this node's copy of the shared ones,
    /// refreshed by [`crate::faults_shared::refresh_loop`].
    pub(crate) list: Mutex<Vec<Fault>>,
    /// Wakes the jobs held by `hang` faults when faults are removed (tens of thousands of held
    /// jobs must not each poll the list).
    pub(crate) removed: tokio::sync::Notify,
    /// The store the nodes share the faults through; `None`: they are this process's.
    pub(crate) shared: Option<Arc<dyn Store>>,
    /// Firings of shared faults without `times` not yet added to their count in the store.
    /// They need no agreement between nodes, so they are counted here and written at the next
    /// refresh: one row updated by every held job at once serialized those jobs on its lock.
    pub(crate) pending_hits: Mutex<std::collections::HashMap<String, i64>>,
}

impl Faults {
    /// Faults kept in `store`, which the nodes share; this node's copy is refreshed in the
    /// background for as long as the returned `Faults` lives.
    pub async fn shared(store: Arc<dyn Store>) -> Result<Arc<Faults>, StoreError> {
        let faults = Arc::new(Faults { shared: Some(store), ..Default::default() });
        faults.refresh().await?;
        tokio::spawn(crate::faults_shared::refresh_loop(Arc::downgrade(&faults)));
        Ok(faults)
    }

    /// Adds a fault (already validated); returns it with its id.
    pub async fn add(&self, spec: FaultSpec) -> Result<Fault, StoreError> {
        self.insert(Fault { id: ecs_model::new_uuid(), spec, hits: 0 }).await
    }

    /// Adds the `index`th fault of the configuration file. Shared, its id is derived from it,
    /// so that the nodes that start with the same file add it once between them.
    pub async fn add_configured(&self, index: usize, spec: FaultSpec) -> Result<Fault, StoreError> {
        let id = match &self.shared {
            Some(_) => crate::faults_shared::configured_id(index, &spec),
            None => ecs_model::new_uuid(),
        };
        self.insert(Fault { id, spec, hits: 0 }).await
    }

    async fn insert(&self, f: Fault) -> Result<Fault, StoreError> {
        match &self.shared {
            Some(store) => {
                store.fault_insert(&crate::faults_shared::to_row(&f)?).await?;
                // In force here at once; the other nodes see it at their next refresh.
                self.refresh().await?;
            }
            None => self.lock().push(f.clone()),
        }
        Ok(f)
    }

    /// Faults of a project (`None`: all). Shared, read from the store, with the hits of every
    /// node.
    pub async fn list(&self, project: Option<&str>) -> Result<Vec<Fault>, StoreError> {
        let all = match &self.shared {
            Some(_) => self.refresh().await?,
            None => self.lock().clone(),
        };
        Ok(all.into_iter().filter(|f| project.is_none() || f.spec.project_id.as_deref() == project).collect())
    }

    /// Removes one fault of a project; false when there is none.
    pub async fn remove(&self, project: &str, id: &str) -> Result<bool, StoreError> {
        let removed = match &self.shared {
            Some(store) => {
                let removed = store.fault_remove(project, id).await?;
                self.refresh().await?;
                removed
            }
            None => {
                let mut l = self.lock();
                let before = l.len();
                l.retain(|f| !(f.id == id && f.spec.project_id.as_deref() == Some(project)));
                l.len() != before
            }
        };
        self.removed.notify_waiters();
        Ok(removed)
    }

    /// Removes every fault of a project; returns how many.
    pub async fn clear(&self, project: &str) -> Result<usize, StoreError> {
        let removed = match &self.shared {
            Some(store) => {
                let n = store.fault_clear(project).await?;
                self.refresh().await?;
                usize::try_from(n).unwrap_or(usize::MAX)
            }
            None => {
                let mut l = self.lock();
                let before = l.len();
                l.retain(|f| f.spec.project_id.as_deref() != Some(project));
                before - l.len()
            }
        };
        self.removed.notify_waiters();
        Ok(removed)
    }

    /// Replaces this node's copy with the store's list (shared faults only); wakes the held
    /// jobs when a fault went. Returns the list.
    pub(crate) async fn refresh(&self) -> Result<Vec<Fault>, StoreError> {
        let Some(store) = &self.shared else { return Ok(self.lock().clone()) };
        let pending: Vec<(String, i64)> = std::mem::take(&mut *self.pending()).into_iter().collect();
        for (i, (id, n)) in pending.iter().enumerate() {
            if let Err(e) = store.fault_add_hits(id, *n).await {
                // Kept for the next refresh rather than lost.
                let mut p = self.pending();
                for (id, n) in &pending[i..] {
                    *p.entry(id.clone()).or_default() += n;
                }
                return Err(e);
            }
        }
        let fresh = crate::faults_shared::from_rows(store.fault_list().await?);
        let mut l = self.lock();
        let went = l.iter().any(|old| !fresh.iter().any(|f| f.id == old.id));
        *l = fresh.clone();
        drop(l);
        if went {
            self.removed.notify_waiters();
        }
        Ok(fresh)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, i64>> {
        self.pending_hits.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn exists(&self, id: &str) -> bool {
        self.lock().iter().any(|f| f.id == id)
    }

    /// Finds the first fault matching this step with one of `actions`, counts the hit, and
    /// retires it when its `times` are used up.
    ///
    /// Shared faults are matched against this node's copy, so a step costs no query unless a
    /// fault matches; the hit is then counted in the store, which says whether the fault may
    /// still fire (another node may have used it up since the copy was taken).
    async fn fire(&self, at: &StepSite<'_>, actions: &[FaultAction]) -> Option<Fault> {
        let (op, step) = (at.operation, at.step);
        let project = at.params["project_id"].as_str();
        let server = at.params["server_id"].as_str();
        let matches = |f: &Fault| {
            let s = &f.spec;
            actions.contains(&s.action)
                && s.operation.as_deref().is_none_or(|o| o == op)
                && s.step.as_deref().is_none_or(|st| st == step)
                && s.project_id.as_deref().is_none_or(|p| Some(p) == project)
                && s.server_id.as_deref().is_none_or(|sv| Some(sv) == server)
        };
        let Some(store) = &self.shared else {
            let mut l = self.lock();
            let i = l.iter().position(matches)?;
            l[i].hits += 1;
            let fired = l[i].clone();
            if fired.spec.times.is_some_and(|t| fired.hits >= t) {
                l.remove(i);
                drop(l);
                self.removed.notify_waiters();
            }
            return Some(fired);
        };
        let candidates: Vec<Fault> = self.lock().iter().filter(|f| matches(f)).cloned().collect();
        for f in candidates {
            if f.spec.times.is_none() {
                let mut p = self.pending();
                let n = p.entry(f.id.clone()).or_default();
                *n += 1;
                let hits = f.hits.saturating_add(u32::try_from(*n).unwrap_or(u32::MAX));
                return Some(Fault { hits, ..f });
            }
            if let Some(fired) = self.hit(store.as_ref(), f).await {
                return Some(fired);
            }
        }
        None
    }

    /// Counts a hit of a shared fault in the store: the fault as fired, or `None` when it is
    /// gone or used up by another node (the caller looks further). A fault that is spent (or
    /// that this hit spends) leaves this node's copy at once.
    async fn hit(&self, store: &dyn Store, f: Fault) -> Option<Fault> {
        let counted = match store.fault_hit(&f.id).await {
            Ok(counted) => counted,
            Err(e) => {
                // The step goes ahead as if the fault were not there: a database that cannot
                // count the hit cannot say whether the fault may still fire.
                tracing::warn!(fault = %f.id, error = %e, "could not count an injected fault's hit; skipping it");
                return None;
            }
        };
        let spent = counted.as_ref().is_none_or(|c| c.times.is_some_and(|t| c.hits >= t));
        if spent {
            self.lock().retain(|x| x.id != f.id);
            self.removed.notify_waiters();
        }
        counted.map(|c| Fault { hits: c.hits, ..f })
    }
}

#[async_trait]
impl Hook for Faults {
    async fn before_step(&self, at: &StepSite<'_>) -> HookAction {
        let Some(f) = self.fire(at, &[FaultAction::Fail, FaultAction::Delay, FaultAction::Hang]).await else {
            return HookAction::Proceed;
        };
        let (op, step) = (at.operation, at.step);
        tracing::warn!(saga = at.saga_id, operation = op, step, fault = %f.id, action = ?f.spec.action, "injected fault");
        match f.spec.action {
            FaultAction::Fail => HookAction::Fail(StepError::new(
                f.spec.error_code.clone().unwrap_or_else(|| "Ecs.1000".into()),
                f.spec.message.clone().unwrap_or_else(|| format!("Injected fault: {op} failed at step {step}.")),
            )),
            FaultAction::Delay => HookAction::Delay(Duration::from_millis(f.spec.delay_ms.unwrap_or(0))),
            FaultAction::Hang => {
                loop {
                    // Registered before the check, so a removal in between is not missed.
                    let removed = self.removed.notified();
                    if !self.exists(&f.id) {
                        break;
                    }
                    removed.await;
                }
                HookAction::Proceed
            }
            FaultAction::Crash => HookAction::Proceed,
        }
    }

    async fn after_step(&self, at: &StepSite<'_>) {
        if let Some(f) = self.fire(at, &[FaultAction::Crash]).await {
            tracing::error!(saga = at.saga_id, step = at.step, fault = %f.id, "injected crash after step");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn spec(v: Value) -> FaultSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn specs_are_validated_against_the_real_operations_and_steps() {
        assert!(spec(
            json!({"operation": "reinstallOs", "step": "create_disk", "action": "fail", "error_code": "Ecs.0101"})
        )
        .validate()
        .is_ok());
        for bad in [
            json!({"operation": "rebuild", "action": "fail"}),
            json!({"operation": "reinstallOs", "step": "nope", "action": "fail"}),
            json!({"step": "nope", "action": "fail"}),
            json!({"action": "fail", "error_code": "oops"}),
            json!({"action": "delay"}),
            json!({"action": "fail", "times": 0}),
        ] {
            assert!(spec(bad.clone()).validate().is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<FaultSpec>(json!({"action": "explode"})).is_err());
        assert!(serde_json::from_value::<FaultSpec>(json!({"action": "fail", "colour": 1})).is_err());
    }

    #[tokio::test]
    async fn a_fault_fires_where_it_targets_and_retires_after_its_times() {
        let faults = Faults::default();
        faults
            .add(spec(json!({"operation": "reinstallOs", "step": "create_disk", "project_id": "p1",
                "action": "fail", "error_code": "Ecs.0101", "times": 2})))
            .await
            .unwrap();
        let p1 = json!({"project_id": "p1", "server_id": "s1"});
        let p2 = json!({"project_id": "p2", "server_id": "s1"});
        let at = |operation, params, step| StepSite { kind: "rebuild_os", operation, saga_id: "j", params, step };
        assert_eq!(faults.before_step(&at("reinstallOs", &p1, "inject")).await, HookAction::Proceed);
        assert_eq!(faults.before_step(&at("changeOs", &p1, "create_disk")).await, HookAction::Proceed);
        assert_eq!(faults.before_step(&at("reinstallOs", &p2, "create_disk")).await, HookAction::Proceed);
        for _ in 0..2 {
            match faults.before_step(&at("reinstallOs", &p1, "create_disk")).await {
                HookAction::Fail(e) => assert_eq!(e.code.as_deref(), Some("Ecs.0101")),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(faults.before_step(&at("reinstallOs", &p1, "create_disk")).await, HookAction::Proceed);
        assert!(faults.list(None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_hang_lasts_until_the_fault_is_cleared() {
        let faults = std::sync::Arc::new(Faults::default());
        faults.add(spec(json!({"operation": "startServer", "project_id": "p", "action": "hang"}))).await.unwrap();
        let f2 = faults.clone();
        let started = json!({"project_id": "p", "server_id": "s"});
        let task = tokio::spawn(async move {
            let at =
                StepSite { kind: "power", operation: "startServer", saga_id: "j", params: &started, step: "power" };
            f2.before_step(&at).await
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(!task.is_finished(), "still hanging");
        assert_eq!(faults.clear("p").await.unwrap(), 1);
        assert_eq!(task.await.unwrap(), HookAction::Proceed);
    }

    #[test]
    fn every_operation_a_saga_declares_can_be_targeted() {
        use crate::sagas::power::{Action, Power};
        use ecs_saga::Saga;
        let names: Vec<&str> = crate::sagas::operations().iter().map(|(o, _)| *o).collect();
        let power = |action| crate::sagas::power::Params {
            project_id: "p".into(),
            server_id: "s".into(),
            action,
            prior_vm_state: ecs_model::state::VmState::Active,
            boot_disk: None,
            data_disks: vec![],
            vcpus: 1,
            ram_mb: 1024,
            password_hash: None,
            nics: vec![],
        };
        for action in [Action::Start, Action::Stop { hard: false }, Action::Reboot { hard: true }] {
            assert!(names.contains(&Power::operation(&power(action))), "{action:?}");
        }
        assert!(names.contains(&ecs_model::job::job_type::RESIZE_SERVER));
        use ecs_model::job::job_type as t;
        for op in [
            t::ADD_NICS,
            t::DELETE_NICS,
            t::ATTACH_VOLUME,
            t::DETACH_VOLUME,
            t::CREATE_VOLUME,
            t::BATCH_CREATE_VOLUME,
            t::DELETE_VOLUME,
        ] {
            assert!(names.contains(&op), "{op}");
        }
        assert_eq!(names.len(), 15, "{names:?}");
    }
}
