//! Nodes sharing one database: leases, claims of sagas whose holder died, the fence on every
//! saga write, and the placement check. Each test opens several stores on one database, one
//! per node, as several processes would.

use super::PgStore;
use crate::cluster::{Cluster as _, Member, NodeSpec, Renewal};
use crate::pg_cluster::Cluster;
use crate::{Begin, Store, StoreError};
use ecs_model::job::{job_type, Job};
use ecs_saga::{LogError, Outcome, SagaLog as _, SagaRecord, StepEvent};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(300);

fn spec(name: &str) -> NodeSpec {
    NodeSpec { name: name.into(), address: format!("http://{name}"), vcpus: 4, memory_mib: 8192 }
}

/// Stores on one fresh database, one per name, each joined with `lease`.
async fn nodes(names: &[&str], lease: Duration) -> Option<(String, Vec<(PgStore, Member)>)> {
    let cluster = Cluster::shared()?;
    let url = cluster.fresh_database();
    let mut out = Vec::new();
    for n in names {
        let st = PgStore::open_with(&url, 2).await.unwrap();
        let m = st.node_join(&spec(n), lease).await.unwrap();
        out.push((st, m));
    }
    Some((url, out))
}

/// Records a reinstall saga (and its job) through `st`, held by whoever `st` joined as.
async fn record(st: &PgStore, host: Option<&str>) -> String {
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some("srv"), 5);
    let mut saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    saga.events.push(StepEvent::Started { step: "stop_server".into() });
    saga.host = host.map(str::to_string);
    st.begin(Begin { jobs: vec![job.clone()], sagas: vec![saga], ..Default::default() }).await.unwrap();
    job.id
}

fn ok_event(step: &'static str) -> [StepEvent; 1] {
    [StepEvent::Succeeded { step: step.into(), output: serde_json::json!(null) }]
}

#[tokio::test]
async fn a_node_that_joins_again_takes_the_next_incarnation_and_the_old_one_cannot_renew() {
    let Some((url, mut n)) = nodes(&["a"], LONG).await else { return };
    let (first, old) = n.remove(0);
    assert_eq!(old.incarnation, 1);
    let again = PgStore::open_with(&url, 2).await.unwrap();
    let new = again.node_join(&spec("a"), LONG).await.unwrap();
    assert_eq!(new.incarnation, 2);
    assert_eq!(first.node_renew(&old, LONG).await.unwrap(), Renewal::Replaced);
    assert_eq!(again.node_renew(&new, LONG).await.unwrap(), Renewal::Renewed);
    let list = again.node_list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].live && list[0].incarnation == 2, "{list:?}");
}

#[tokio::test]
async fn a_live_nodes_sagas_are_not_claimed_and_a_dead_ones_are_claimed_once_with_the_next_epoch() {
    let Some((_, n)) = nodes(&["a", "b", "c"], SHORT).await else { return };
    let ((a, ma), (b, mb), (c, mc)) = (&n[0], &n[1], &n[2]);
    let id = record(a, None).await;
    // b and c renew; a does not (it "died") and its lease runs out.
    assert!(b.saga_claim(mb, 10).await.unwrap().is_empty(), "a is alive: nothing to adopt");
    tokio::time::sleep(SHORT + Duration::from_millis(200)).await;
    b.node_renew(mb, LONG).await.unwrap();
    c.node_renew(mc, LONG).await.unwrap();
    let (got_b, got_c) = tokio::join!(b.saga_claim(mb, 10), c.saga_claim(mc, 10));
    let (got_b, got_c) = (got_b.unwrap(), got_c.unwrap());
    assert_eq!(got_b.len() + got_c.len(), 1, "claimed once: {got_b:?} {got_c:?}");
    let (winner, wm, rec) = if got_b.is_empty() { (c, mc, &got_c[0]) } else { (b, mb, &got_b[0]) };
    assert_eq!((rec.id.as_str(), rec.epoch), (id.as_str(), 1));
    assert_eq!(rec.events, [StepEvent::Started { step: "stop_server".into() }], "with its log");

    // The stale holder's writes are fenced; the adopter's go in, named after it.
    match a.append(&id, 0, &ok_event("stop_server")).await {
        Err(LogError::Fenced(s)) => assert_eq!(s, id),
        other => panic!("{other:?}"),
    }
    assert!(matches!(a.finish(&id, 0, &Outcome::Succeeded).await, Err(LogError::Fenced(_))));
    // So are its steps' other writes (a server's state), in their own transaction.
    let stale = Begin { fence: Some(ecs_saga::Hold { saga_id: id.clone(), epoch: 0 }), ..Default::default() };
    assert!(matches!(a.begin(stale).await, Err(StoreError::Fenced(s)) if s == id));
    // And so is a step's record written with the step's changes.
    let log =
        ecs_saga::LogWrite { saga_id: id.clone(), epoch: 0, events: ok_event("stop_server").to_vec(), outcome: None };
    let stale = Begin { log: Some(log), ..Default::default() };
    assert!(matches!(a.begin(stale).await, Err(StoreError::Fenced(s)) if s == id));
    let held = Begin { fence: Some(ecs_saga::Hold { saga_id: id.clone(), epoch: 1 }), ..Default::default() };
    a.begin(held).await.expect("the holder's epoch passes the fence");
    winner.append(&id, 1, &ok_event("stop_server")).await.unwrap();
    assert_eq!(winner.saga_epoch(&id).await.unwrap(), Some((1, false)));
    winner.finish(&id, 1, &Outcome::Succeeded).await.unwrap();
    assert_eq!(winner.saga_epoch(&id).await.unwrap(), Some((1, true)));
    let _ = ma;
    let writers = event_writers(winner, &id).await;
    assert_eq!(writers, [("a".to_string(), 0), (wm.name.clone(), 1)], "who wrote each event");
}

#[tokio::test]
async fn many_nodes_claiming_a_dead_ones_sagas_at_once_take_each_exactly_once() {
    // Claims racing on the same rows: every round, the survivors all claim together, and
    // a saga two of them took would run twice. One claim committing while another waits on
    // its row lock is the interleaving a lone pair of claims hits only sometimes, so this
    // makes it often: three nodes die in turn, each leaving sixteen sagas.
    let Some((url, live)) = nodes(&["n1", "n2", "n3", "n4", "n5"], LONG).await else { return };
    for trial in 0..3 {
        let dead = PgStore::open_with(&url, 2).await.unwrap();
        dead.node_join(&spec(&format!("dead{trial}")), SHORT).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..16 {
            ids.push(record(&dead, None).await);
        }
        tokio::time::sleep(SHORT + Duration::from_millis(200)).await;
        let mut claimed: Vec<(String, String, i64)> = Vec::new();
        for _round in 0..4 {
            let claims = live.iter().map(|(st, m)| async move { (m.name.clone(), st.saga_claim(m, 2).await) });
            for (who, got) in futures_util::future::join_all(claims).await {
                claimed.extend(got.unwrap().into_iter().map(|r| (r.id, who.clone(), r.epoch)));
            }
        }
        let mut seen: Vec<&str> = claimed.iter().map(|(id, _, _)| id.as_str()).collect();
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        assert_eq!(before, seen.len(), "trial {trial}: a saga was claimed twice: {claimed:?}");
        assert!(claimed.iter().all(|(_, _, epoch)| *epoch == 1), "trial {trial}: adopted once: {claimed:?}");
        assert_eq!(seen.len(), ids.len(), "trial {trial}: four rounds of five claims of two adopt all sixteen");
    }
}

/// `(node, epoch)` of each event of a saga, in order.
async fn event_writers(st: &PgStore, id: &str) -> Vec<(String, i64)> {
    let c = st.client().await.unwrap();
    c.query("SELECT node, epoch FROM saga_events WHERE saga_id = $1 ORDER BY seq", &[&id])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn a_saga_bound_to_a_host_waits_for_that_host_and_is_run_by_it() {
    let Some((_, n)) = nodes(&["a", "b", "h"], SHORT).await else { return };
    let ((a, _), (b, mb), (h, mh)) = (&n[0], &n[1], &n[2]);
    // Accepted by a for a server on h: h holds it, not started.
    let id = record(a, Some("h")).await;
    assert!(b.saga_claim(mb, 10).await.unwrap().is_empty());
    let got = h.saga_claim(mh, 10).await.unwrap();
    assert_eq!(got.iter().map(|r| (r.id.as_str(), r.epoch)).collect::<Vec<_>>(), [(id.as_str(), 1)]);
    assert_eq!(got[0].host.as_deref(), Some("h"));
    assert!(h.saga_claim(mh, 10).await.unwrap().is_empty(), "running on h now: not claimed again");
    // h dies: b, alive, still does not take it (only h has the VM).
    tokio::time::sleep(SHORT + Duration::from_millis(200)).await;
    b.node_renew(mb, LONG).await.unwrap();
    assert!(b.saga_claim(mb, 10).await.unwrap().is_empty(), "a host-bound saga waits for its host");
}

#[tokio::test]
async fn a_node_started_again_takes_back_the_sagas_of_its_earlier_incarnation() {
    let Some((url, n)) = nodes(&["a"], LONG).await else { return };
    let (a, ma) = &n[0];
    let id = record(a, None).await;
    assert!(a.saga_claim(ma, 10).await.unwrap().is_empty(), "its own running saga is not claimed again");
    let again = PgStore::open_with(&url, 2).await.unwrap();
    let m2 = again.node_join(&spec("a"), LONG).await.unwrap();
    let got = again.saga_claim(&m2, 10).await.unwrap();
    assert_eq!(got.iter().map(|r| (r.id.as_str(), r.epoch)).collect::<Vec<_>>(), [(id.as_str(), 1)]);
    assert!(matches!(a.append(&id, 0, &ok_event("stop_server")).await, Err(LogError::Fenced(_))));
}

#[tokio::test]
async fn a_node_that_leaves_has_its_sagas_adopted_at_once() {
    let Some((_, n)) = nodes(&["a", "b"], LONG).await else { return };
    let ((a, ma), (b, mb)) = (&n[0], &n[1]);
    let id = record(a, None).await;
    a.node_leave(ma).await.unwrap();
    let got = b.saga_claim(mb, 10).await.unwrap();
    assert_eq!(got.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
}

#[tokio::test]
async fn a_placement_on_a_full_or_dead_host_is_refused_and_writes_nothing() {
    let Some((_, n)) = nodes(&["a", "b"], SHORT).await else { return };
    let ((a, _), (b, mb)) = (&n[0], &n[1]);
    b.node_renew(mb, LONG).await.unwrap();
    let subnet = a.network_default("p1").await.unwrap().1;
    let place = |name: &str, flavor: &str, host: &str| {
        let mut s = crate::conformance::server("p1", &subnet.id, name);
        s.flavor_id = flavor.into();
        s.host = Some(host.into());
        s
    };
    // b offers 4 vCPUs and 8 GiB: two servers of 2 vCPUs fit, a third does not.
    let two = "s6.large.2"; // 2 vCPUs, 4 GiB
    for i in 0..2 {
        let s = place(&format!("s{i}"), two, "b");
        a.begin(Begin { insert_servers: vec![s], ..Default::default() }).await.unwrap();
    }
    let third = place("s2", two, "b");
    match a.begin(Begin { insert_servers: vec![third], ..Default::default() }).await {
        Err(StoreError::HostFull(m)) => assert!(m.contains("host b has 0 vCPUs"), "{m}"),
        other => panic!("{other:?}"),
    }
    let listed = b.node_list().await.unwrap();
    let row = listed.iter().find(|r| r.name == "b").unwrap();
    assert_eq!((row.used_vcpus, row.free_vcpus()), (4, 0));
    // a's lease has run out: it is down for placement.
    tokio::time::sleep(SHORT + Duration::from_millis(200)).await;
    match a.begin(Begin { insert_servers: vec![place("s3", two, "a")], ..Default::default() }).await {
        Err(StoreError::HostFull(m)) => assert!(m.contains("host a is down"), "{m}"),
        other => panic!("{other:?}"),
    }
    let usage = a.project_usage("p1").await.unwrap();
    assert_eq!(usage.instances, 2, "nothing of the refused placements was written");
}

#[tokio::test]
async fn a_node_stalled_inside_a_transaction_holds_its_sagas_no_longer_than_its_lease() {
    // The stalled node's store ends idle transactions after its lease; one opened without the
    // limit shows what it guards against: the locked saga stays out of every claim.
    let Some((url, n)) = nodes(&["live"], LONG).await else { return };
    let (live, ml) = &n[0];
    for (limit, released) in [(Some(SHORT), true), (None, false)] {
        let stalled = PgStore::open_for_node(&url, 2, limit).await.unwrap();
        stalled.node_join(&spec("stalled"), SHORT).await.unwrap();
        let id = record(&stalled, None).await;
        // Stalled in the middle of a log write: the saga's row is held, and nothing more is sent.
        let mut c = stalled.client().await.unwrap();
        let tx = c.transaction().await.unwrap();
        tx.execute("SELECT 1 FROM sagas WHERE id = $1 FOR SHARE", &[&id]).await.unwrap();
        tokio::time::sleep(SHORT * 3).await;
        let got: Vec<String> = live.saga_claim(ml, 10).await.unwrap().into_iter().map(|r| r.id).collect();
        if released {
            assert_eq!(got, std::slice::from_ref(&id), "the lease ran out and the stalled transaction was ended");
            assert!(tx.commit().await.is_err(), "the stalled node finds its transaction gone");
        } else {
            assert!(got.is_empty(), "without the limit the locked saga cannot be adopted: {got:?}");
            tx.rollback().await.unwrap();
            let got: Vec<String> = live.saga_claim(ml, 10).await.unwrap().into_iter().map(|r| r.id).collect();
            assert_eq!(got, [id], "adopted once the lock is gone");
        }
    }
}
