//! Servers: addresses, the compare-and-swap, lists, volumes, quotas.

use super::{create, reinstall_of, server, warm_up, Backend};
use crate::{AlsoRead, Begin, ServerFilter, ServerWith, StoreError, VolumeSwap};
use ecs_model::job::{job_type, Job, JobStatus};
use ecs_model::quota::Quotas;
use ecs_model::server::Server;
use ecs_model::volume::Volume;
use ecs_saga::{SagaRecord, StepEvent};

pub(super) async fn addresses_are_unique_and_reused_after_delete(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b", "c"]).await;
    let ips: Vec<_> = made.iter().map(|s| s.network.ip.clone()).collect();
    assert_eq!(ips, vec!["192.168.0.2", "192.168.0.3", "192.168.0.4"]);
    st.server_delete("p1", &made[2].id).await.unwrap();
    let again = create(&*st, "p1", &["d"]).await;
    assert_eq!(again[0].network.ip, "192.168.0.4");
    assert_eq!(st.subnet_used(&made[0].network.subnet_id).await.unwrap(), 3);
}

pub(super) async fn update_is_a_compare_and_swap_on_generation(b: &dyn Backend) {
    let st = b.open().await;
    let s = create(&*st, "p1", &["a"]).await.remove(0);
    let mut first = s.clone();
    first.name = "first".into();
    let won = st.server_update(first).await.unwrap();
    assert_eq!(won.generation, s.generation + 1);
    let mut second = s.clone();
    second.name = "second".into();
    assert!(matches!(st.server_update(second).await, Err(StoreError::Conflict(_))));
    let got = st.server_get("p1", &s.id).await.unwrap().unwrap();
    assert_eq!(got.server.name, "first");
    assert_eq!(st.server_only("p1", &s.id).await.unwrap().unwrap().generation, won.generation);
    assert_eq!(st.server_only("p2", &s.id).await.unwrap(), None, "another project's server is missing");
}

pub(super) async fn a_begin_that_loses_its_cas_writes_nothing(b: &dyn Backend) {
    let st = b.open().await;
    let s = create(&*st, "p1", &["a"]).await.remove(0);
    let mut stale = s.clone();
    stale.generation = 99;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let newcomer = server("p1", &subnet.id, "new");
    let job = Job::new("p1", job_type::REINSTALL_OS, None, Some(&s.id), 0);
    let saga = SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({}));
    let r = st
        .begin(Begin {
            update_servers: vec![stale],
            insert_servers: vec![newcomer.clone()],
            jobs: vec![job.clone()],
            sagas: vec![saga],
            ..Default::default()
        })
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert!(st.job_get("p1", &job.id).await.unwrap().is_none());
    assert!(st.unfinished().await.unwrap().is_empty());
    assert_eq!(st.server_only("p1", &newcomer.id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 1, "no address kept for the refused server");
}

/// What a reinstall, a stop or a start of one server records: the server's swap, its job and
/// its saga (with its first step started, or with no event yet), all or nothing.
pub(super) async fn a_one_server_begin_writes_its_job_and_saga_only_with_its_swap(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    let job_of = |b: &Begin| b.jobs[0].clone();
    let mut a = made[0].clone();
    a.name = "a2".into();
    let first = reinstall_of(&a, true);
    let job_a = job_of(&first);
    st.begin(first).await.unwrap();
    let second = reinstall_of(&made[1], false);
    let job_b = job_of(&second);
    st.begin(second).await.unwrap();
    // The same server again, with the generation it had before the first swap: refused.
    let again = reinstall_of(&a, true);
    let job_c = job_of(&again);
    let r = st.begin(again).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");

    let now = st.server_only("p1", &made[0].id).await.unwrap().unwrap();
    assert_eq!((now.name.as_str(), now.generation), ("a2", made[0].generation + 1));
    assert_eq!(st.job_get("p1", &job_a.id).await.unwrap().unwrap().0.status, JobStatus::Running);
    assert_eq!(st.job_get("p1", &job_b.id).await.unwrap().unwrap().0.status, JobStatus::Init);
    assert!(st.job_get("p1", &job_c.id).await.unwrap().is_none(), "the refused job is not recorded");
    let open = st.unfinished().await.unwrap();
    assert_eq!(open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [job_a.id.as_str(), job_b.id.as_str()]);
    assert_eq!(open[0].events, [StepEvent::Started { step: "stop_server".into() }]);
    assert_eq!(open[0].params, serde_json::json!({"server": made[0].id}));
    assert!(open[1].events.is_empty());
    // The next event of the first saga is numbered after the one its record brought.
    st.append(&job_a.id, 0, &[StepEvent::Succeeded { step: "stop_server".into(), output: serde_json::json!(1) }])
        .await
        .unwrap();
    assert_eq!(st.load(&job_a.id).await.unwrap().unwrap().events.len(), 2);
}

/// Many one-server acceptances at once (which a database server commits in shared
/// transactions): of two for the same server exactly one wins, and the winners' jobs and sagas
/// are all there, the losers' none.
pub(super) async fn concurrent_one_server_begins_win_once_per_server(b: &dyn Backend) {
    let st = b.open().await;
    let names: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
    let made = create(&*st, "p1", &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    warm_up(&st, 8).await;
    let mut racers = vec![];
    for s in made.iter().chain(made.iter()) {
        let st = st.clone();
        let s = s.clone();
        racers.push(tokio::spawn(async move {
            let b = reinstall_of(&s, true);
            let job = b.jobs[0].id.clone();
            (s.id, job, st.begin(b).await)
        }));
    }
    let mut won: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut lost = vec![];
    for r in racers {
        let (server, job, r) = r.await.unwrap();
        match r {
            Ok(_) => won.entry(server).or_default().push(job),
            Err(StoreError::Conflict(_)) => lost.push(job),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won.len(), made.len(), "every server has a winner");
    assert!(won.values().all(|jobs| jobs.len() == 1), "and only one: {won:?}");
    assert_eq!(lost.len(), made.len());
    for job in won.values().flatten() {
        assert_eq!(st.job_get("p1", job).await.unwrap().unwrap().0.status, JobStatus::Running);
    }
    for job in &lost {
        assert!(st.job_get("p1", job).await.unwrap().is_none(), "a loser's job is not recorded");
    }
    assert_eq!(st.unfinished().await.unwrap().len(), made.len());
    for s in &made {
        assert_eq!(st.server_only("p1", &s.id).await.unwrap().unwrap().generation, s.generation + 1);
    }
}

pub(super) async fn concurrent_cas_writers_exactly_one_wins(b: &dyn Backend) {
    let st = b.open().await;
    let s = create(&*st, "p1", &["a"]).await.remove(0);
    warm_up(&st, 16).await;
    let mut handles = vec![];
    for i in 0..16 {
        let st = st.clone();
        let mut mine = s.clone();
        mine.name = format!("w{i}");
        handles.push(tokio::spawn(async move { st.server_update(mine).await.is_ok() }));
    }
    let mut wins = 0;
    for h in handles {
        wins += h.await.unwrap() as usize;
    }
    assert_eq!(wins, 1);
}

/// Creates racing in one subnet each get an address of their own; none is refused for it.
pub(super) async fn concurrent_creates_get_distinct_addresses(b: &dyn Backend) {
    let st = b.open().await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    warm_up(&st, 12).await;
    let mut handles = vec![];
    for i in 0..12 {
        let st = st.clone();
        let s = server("p1", &subnet.id, &format!("s{i}"));
        handles
            .push(tokio::spawn(async move { st.begin(Begin { insert_servers: vec![s], ..Default::default() }).await }));
    }
    let mut ips = Vec::new();
    for h in handles {
        let made = h.await.unwrap().expect("every create succeeds");
        ips.push(made[0].network.ip.clone());
    }
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 12, "{ips:?}");
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 12);
}

/// A fixed address is given to the one server that asks for it first; racing for it, exactly
/// one create wins and the others write nothing; automatic allocation then skips it.
pub(super) async fn a_fixed_address_goes_to_exactly_one_server(b: &dyn Backend) {
    let st = b.open().await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    warm_up(&st, 6).await;
    let mut handles = vec![];
    for i in 0..6 {
        let st = st.clone();
        let mut s = server("p1", &subnet.id, &format!("fixed{i}"));
        s.network.ip = "192.168.0.3".into();
        handles
            .push(tokio::spawn(async move { st.begin(Begin { insert_servers: vec![s], ..Default::default() }).await }));
    }
    let mut won = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Ok(made) => won.push(made[0].clone()),
            Err(StoreError::AddressInUse(ip)) => assert_eq!(ip, "192.168.0.3"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one server gets the address");
    assert_eq!(won[0].network.ip, "192.168.0.3");
    assert_eq!(st.server_list("p1", &ServerFilter::default()).await.unwrap().count, 1, "the losers wrote nothing");
    let auto = create(&*st, "p1", &["a", "b"]).await;
    let ips: Vec<_> = auto.iter().map(|s| s.network.ip.as_str()).collect();
    assert!(!ips.contains(&"192.168.0.3"), "{ips:?}");
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 3);
}

pub(super) async fn list_filters_and_both_paginations(b: &dyn Backend) {
    let st = b.open().await;
    let names: Vec<String> = (0..12).map(|i| format!("web-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let made = create(&*st, "p1", &refs).await;
    create(&*st, "p1", &["db_1"]).await;
    create(&*st, "p2", &["web-other"]).await;
    let f = |name: Option<&str>, limit, page| ServerFilter {
        name: name.map(Into::into),
        limit,
        page,
        ..Default::default()
    };
    let all = st.server_list("p1", &f(None, 100, 1)).await.unwrap();
    assert_eq!(all.count, 13);
    let web = st.server_list("p1", &f(Some("web"), 5, 1)).await.unwrap();
    assert_eq!(web.count, 12);
    assert_eq!(web.servers.len(), 5);
    assert_eq!(web.servers[0].server.name, "web-11", "newest first");
    let page3 = st.server_list("p1", &f(Some("web"), 5, 3)).await.unwrap();
    assert_eq!(page3.servers.len(), 2);
    // '_' is literal in a name filter, not a wildcard.
    assert_eq!(st.server_list("p1", &f(Some("b_1"), 10, 1)).await.unwrap().count, 1);
    assert_eq!(st.server_list("p1", &f(Some("b%1"), 10, 1)).await.unwrap().count, 0);
    // The case of letters does not matter.
    assert_eq!(st.server_list("p1", &f(Some("WEB"), 10, 1)).await.unwrap().count, 12);
    let mut mf = f(Some("web"), 5, 1);
    mf.marker = Some(web.servers[4].server.id.clone());
    let after = st.server_list("p1", &mf).await.unwrap();
    assert_eq!(after.servers[0].server.name, "web-06");
    assert_eq!(
        (after.count, after.servers.len()),
        (12, 5),
        "the count is of every match, not of those after the marker"
    );
    mf.marker = Some(after.servers[4].server.id.clone());
    let last = st.server_list("p1", &mf).await.unwrap();
    assert_eq!(last.servers.iter().map(|r| r.server.name.as_str()).collect::<Vec<_>>(), ["web-01", "web-00"]);
    let mut by_ip = f(None, 10, 1);
    by_ip.ip_eq = Some(made[0].network.ip.clone());
    assert_eq!(st.server_list("p1", &by_ip).await.unwrap().servers[0].server.id, made[0].id);
    let mut by_ip_part = f(None, 100, 1);
    by_ip_part.ip = Some("192.168.0.1".into());
    // .10 to .14 (web-08 to web-11, and db_1) contain it.
    assert_eq!(st.server_list("p1", &by_ip_part).await.unwrap().count, 5);
    let mut by_id = f(Some("nomatch"), 10, 1);
    by_id.server_ids = Some(vec![made[1].id.clone(), made[2].id.clone()]);
    assert_eq!(st.server_list("p1", &by_id).await.unwrap().count, 2);
    by_id.server_ids = Some(vec![]);
    assert_eq!(st.server_list("p1", &by_id).await.unwrap().count, 0);
    let mut by_flavor = f(None, 10, 1);
    by_flavor.flavor = Some("s6.small.1".into());
    by_flavor.status = Some("BUILD".into());
    assert_eq!(st.server_list("p1", &by_flavor).await.unwrap().count, 13);
    by_flavor.status = Some("ACTIVE".into());
    assert_eq!(st.server_list("p1", &by_flavor).await.unwrap().count, 0);
}

/// Filters on what only the body holds: tags (`key` or `key=value`) and reservation ids.
pub(super) async fn list_filters_on_tags_and_reservations(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b", "c"]).await;
    for (s, tags, res) in [(&made[0], vec!["env=prod", "team"], "r-1"), (&made[1], vec!["env=dev"], "r-2")] {
        let mut s = st.server_only("p1", &s.id).await.unwrap().unwrap();
        s.tags = tags.into_iter().map(String::from).collect();
        s.reservation_id = res.into();
        st.server_update(s).await.unwrap();
    }
    let f = |tags: &[&str], not_tags: &[&str], res: Option<&str>| ServerFilter {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        not_tags: not_tags.iter().map(|t| t.to_string()).collect(),
        reservation_id: res.map(Into::into),
        limit: 10,
        page: 1,
        ..Default::default()
    };
    let names = |p: crate::ServerPage| p.servers.into_iter().map(|r| r.server.name).collect::<Vec<_>>();
    assert_eq!(names(st.server_list("p1", &f(&["env"], &[], None)).await.unwrap()), ["b", "a"]);
    assert_eq!(names(st.server_list("p1", &f(&["env=prod"], &[], None)).await.unwrap()), ["a"]);
    assert_eq!(names(st.server_list("p1", &f(&[], &["env", "team"], None)).await.unwrap()), ["c", "b"]);
    assert_eq!(names(st.server_list("p1", &f(&[], &[], Some("r-2"))).await.unwrap()), ["b"]);
    let mut paged = f(&["env"], &[], None);
    paged.limit = 1;
    paged.page = 2;
    let p = st.server_list("p1", &paged).await.unwrap();
    assert_eq!((p.count, names(p)), (2, vec!["a".to_string()]));
}

pub(crate) fn volume(
    project: &str,
    server: Option<&str>,
    boot_index: Option<i64>,
    delete_on_termination: bool,
) -> Volume {
    Volume {
        id: ecs_model::new_uuid(),
        project_id: project.into(),
        server_id: server.map(Into::into),
        boot_index,
        image_id: Some("img".into()),
        size_gb: 40,
        volume_type: "SSD".into(),
        device: "/dev/vda".into(),
        delete_on_termination,
        created_ms: 0,
        name: None,
        multiattach: false,
        availability_zone: None,
        pending: None,
    }
}

pub(super) async fn volumes_follow_their_server(b: &dyn Backend) {
    let st = b.open().await;
    let s = create(&*st, "p1", &["a"]).await.remove(0);
    let system = volume("p1", Some(&s.id), Some(0), true);
    let mut data = volume("p1", Some(&s.id), Some(1), false);
    data.created_ms = 1;
    st.volume_put(data.clone()).await.unwrap();
    st.volume_put(system.clone()).await.unwrap();
    assert_eq!(
        st.server_get("p1", &s.id).await.unwrap().unwrap().volumes,
        vec![system.clone(), data.clone()],
        "the boot disk first"
    );
    let loose = volume("p1", None, None, true);
    st.volume_put(loose.clone()).await.unwrap();
    assert_eq!(st.volume_list_project("p1").await.unwrap().len(), 3);
    assert!(st.volume_list_project("p2").await.unwrap().is_empty());
    st.server_delete("p1", &s.id).await.unwrap();
    assert!(st.volume_get(&system.id).await.unwrap().is_none());
    let kept = st.volume_get(&data.id).await.unwrap().expect("a data disk that outlives its server");
    assert_eq!((kept.server_id, kept.boot_index), (None, None));
    st.volume_delete(&loose.id).await.unwrap();
    let mut all: Vec<String> = st.volume_list().await.unwrap().into_iter().map(|v| v.id).collect();
    all.sort();
    assert_eq!(all, vec![data.id.clone()]);
}

/// A server read with the key pair and the image a request names: each found, missing, or of
/// another project exactly as when read alone, and nothing at all for a server that is not there.
pub(super) async fn a_server_is_read_with_its_key_pair_and_image(b: &dyn Backend) {
    let st = b.open().await;
    let s = create(&*st, "p1", &["a"]).await.remove(0);
    st.volume_put(volume("p1", Some(&s.id), Some(0), true)).await.unwrap();
    let mut own = ecs_model::image::builtin_images(0).remove(0);
    own.id = s.image_id.clone();
    st.image_put(own.clone()).await.unwrap();
    let mut other = ecs_model::image::builtin_images(0).remove(1);
    other.id = "other-image".into();
    st.image_put(other.clone()).await.unwrap();
    let kp = st.keypair_insert(super::catalog::keypair("p1", "k1")).await.unwrap();
    st.keypair_insert(super::catalog::keypair("p2", "k2")).await.unwrap();

    let alone = st.server_get("p1", &s.id).await.unwrap();
    let all = st
        .server_get_with("p1", &s.id, AlsoRead { keypair: Some("k1"), own_image: true, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(all.row, alone, "the server and its volumes, as read alone");
    assert_eq!(all.row.as_ref().map(|r| r.volumes.len()), Some(1));
    assert_eq!(all.keypair, Some(kp.clone()), "with its id");
    assert_eq!(all.image, Some(own.clone()), "the server's own image");

    let named = st
        .server_get_with(
            "p1",
            &s.id,
            AlsoRead { keypair: Some("k2"), image: Some("other-image"), own_image: true, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(named.keypair, None, "another project's key pair is not found");
    assert_eq!(named.image, Some(other), "a named image wins over the server's own");
    let bare = st.server_get_with("p1", &s.id, AlsoRead::default()).await.unwrap();
    assert_eq!((bare.row.is_some(), bare.keypair, bare.image), (true, None, None));
    let missing =
        st.server_get_with("p1", &s.id, AlsoRead { image: Some("no-such-image"), ..Default::default() }).await.unwrap();
    assert_eq!(missing.image, None);
    let elsewhere = st
        .server_get_with("p2", &s.id, AlsoRead { keypair: Some("k2"), own_image: true, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(elsewhere, ServerWith::default(), "another project's server: nothing is read");
}

/// Requests racing to take one volume (attach it to their server): exactly one swap writes, the
/// others are refused with `Conflict` and write nothing of theirs, their server's update included.
pub(super) async fn concurrent_volume_swaps_exactly_one_wins(b: &dyn Backend) {
    let st = b.open().await;
    let servers = create(&*st, "p1", &["a", "b", "c", "d"]).await;
    let loose = volume("p1", None, None, false);
    st.volume_put(loose.clone()).await.unwrap();
    warm_up(&st, 4).await;
    let mut handles = vec![];
    for s in servers.clone() {
        let st = st.clone();
        let to = Volume { server_id: Some(s.id.clone()), boot_index: Some(-1), ..loose.clone() };
        let swap = VolumeSwap { from: loose.clone(), to };
        let mut busy = s.clone();
        busy.task_state = Some(ecs_model::state::TaskState::AttachingVolume);
        handles.push(tokio::spawn(async move {
            st.begin(Begin { update_servers: vec![busy], swap_volumes: vec![swap], ..Default::default() }).await
        }));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("refused for another reason: {e}"),
        }
    }
    assert_eq!(won, 1);
    let owner = st.volume_get(&loose.id).await.unwrap().unwrap().server_id.expect("taken by the winner");
    for s in servers {
        let now = st.server_only("p1", &s.id).await.unwrap().unwrap();
        let attaching = now.task_state == Some(ecs_model::state::TaskState::AttachingVolume);
        assert_eq!(attaching, s.id == owner, "only the winner's server changed");
    }
    // A swap from a row that is gone is refused as well.
    let gone = volume("p1", None, None, false);
    let r =
        st.begin(Begin { swap_volumes: vec![VolumeSwap { from: gone.clone(), to: gone }], ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

pub(super) async fn servers_by_status_and_project_usage(b: &dyn Backend) {
    let st = b.open().await;
    let made = create(&*st, "p1", &["a", "b"]).await;
    create(&*st, "p2", &["c"]).await;
    let mut s = made[0].clone();
    s.vm_state = ecs_model::state::VmState::Active;
    s.task_state = None;
    st.server_update(s).await.unwrap();
    assert_eq!(st.server_ids_with_status("ACTIVE").await.unwrap(), vec![("p1".to_string(), made[0].id.clone())]);
    assert_eq!(st.server_ids_with_status("BUILD").await.unwrap().len(), 2);
    let flavor = ecs_model::flavor::find("s6.small.1").expect("a catalog flavor");
    assert_eq!(st.project_usage("p1").await.unwrap(), ecs_model::quota::Usage::of(flavor.vcpus, flavor.ram_mb, 2));
    assert_eq!(st.project_usage("p3").await.unwrap(), ecs_model::quota::Usage::default());
}

pub(super) async fn a_create_past_the_quota_writes_nothing(b: &dyn Backend) {
    let st = b.open().await;
    create(&*st, "p1", &["a"]).await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let quota = Quotas { instances: 2, ..Quotas::default() };
    let two = vec![server("p1", &subnet.id, "b"), server("p1", &subnet.id, "c")];
    let r = st.begin(Begin { insert_servers: two.clone(), quota: Some(quota), ..Default::default() }).await;
    assert!(matches!(r, Err(StoreError::QuotaExceeded(ref m)) if m.contains("instances")), "{r:?}");
    assert_eq!(st.server_only("p1", &two[0].id).await.unwrap(), None);
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 1);
    let one = server("p1", &subnet.id, "b");
    st.begin(Begin { insert_servers: vec![one], quota: Some(quota), ..Default::default() }).await.unwrap();
}

/// Creates racing for the last server of a quota: exactly one gets it, the others are refused
/// for the quota (not for a conflict) and leave nothing behind.
pub(super) async fn two_creates_at_the_quota_edge_exactly_one_wins(b: &dyn Backend) {
    let st = b.open().await;
    create(&*st, "p1", &["a", "b"]).await;
    let (_, subnet) = st.network_default("p1").await.unwrap();
    let quota = Quotas { instances: 3, ..Quotas::default() };
    warm_up(&st, 8).await;
    let mut handles = vec![];
    for i in 0..8 {
        let st = st.clone();
        let s = server("p1", &subnet.id, &format!("racer-{i}"));
        handles.push(tokio::spawn(async move {
            st.begin(Begin { insert_servers: vec![s], quota: Some(quota), ..Default::default() }).await
        }));
    }
    let (mut won, mut refused) = (0, 0);
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::QuotaExceeded(_)) => refused += 1,
            Err(e) => panic!("refused for another reason: {e}"),
        }
    }
    assert_eq!((won, refused), (1, 7));
    let all = st.server_list("p1", &ServerFilter { limit: 100, page: 1, ..Default::default() }).await.unwrap();
    assert_eq!(all.count, 3);
    assert_eq!(st.subnet_used(&subnet.id).await.unwrap(), 3);
}

/// Resizes count for what the new flavor adds: past the quota nothing is written; of two
/// racing for the last vCPU exactly one wins, the other is refused for the quota.
pub(super) async fn resizes_at_the_quota_edge_exactly_one_wins(b: &dyn Backend) {
    let st = b.open().await;
    // Two servers of 1 vCPU; a 2-vCPU flavor adds one each, and the quota has room for one.
    let made = create(&*st, "p1", &["a", "b"]).await;
    let quota = Quotas { cores: 3, ..Quotas::default() };
    let resized = |s: &Server| Server { flavor_id: "s6.large.2".into(), ..s.clone() };
    let both = Begin { update_servers: made.iter().map(resized).collect(), quota: Some(quota), ..Default::default() };
    let r = st.begin(both).await;
    assert!(matches!(r, Err(StoreError::QuotaExceeded(ref m)) if m.contains("vCPUs")), "{r:?}");
    for s in &made {
        assert_eq!(st.server_only("p1", &s.id).await.unwrap().as_ref(), Some(s), "nothing written");
    }
    // The same flavor again, or a smaller one, asks for nothing more.
    let same = Begin {
        update_servers: vec![made[0].clone()],
        quota: Some(Quotas { cores: 1, ..quota }),
        ..Default::default()
    };
    st.begin(same).await.unwrap();
    let made: Vec<Server> = {
        let mut v = vec![];
        for s in &made {
            v.push(st.server_only("p1", &s.id).await.unwrap().expect("the server"));
        }
        v
    };
    warm_up(&st, 2).await;
    let mut handles = vec![];
    for s in &made {
        let st = st.clone();
        let b = Begin { update_servers: vec![resized(s)], quota: Some(quota), ..Default::default() };
        handles.push(tokio::spawn(async move { st.begin(b).await }));
    }
    let (mut won, mut refused) = (0, 0);
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::QuotaExceeded(_)) => refused += 1,
            Err(e) => panic!("refused for another reason: {e}"),
        }
    }
    assert_eq!((won, refused), (1, 1));
    assert_eq!(st.project_usage("p1").await.unwrap().cores, 3);
}
