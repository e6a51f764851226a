//! The store conformance suite: every assertion about what a [`Store`] does, written once
//! against `dyn Store` and run on both SQLite and PostgreSQL.
//!
//! Each suite function takes a [`Backend`], which opens the store under test on one database
//! (again, for the tests that reopen it). The [`conformance!`] list below makes one test per
//! function and backend: `conformance::on_sqlite::NAME` always runs;
//! `conformance::on_postgres::NAME` runs on the test binary's throwaway cluster
//! ([`crate::pg_cluster`]), and returns at once, having printed why, where PostgreSQL is not
//! installed (unless `ECSD_REQUIRE_POSTGRES=1`).
//!
//! Tests of what only one backend has (SQLite's file header and damaged pages, `inspect`,
//! PostgreSQL's schema history) stay beside that backend.

mod catalog;
mod jobs;
mod networks;
mod nics;
mod seen;
mod server_groups;
mod servers;
mod shared;
mod traces;

use crate::{Begin, PgStore, SqliteStore, Store};
use ecs_model::server::{Server, ServerNic};
use ecs_model::state::{TaskState, VmState};
use std::sync::Arc;

/// Where the store under test keeps its data.
#[async_trait::async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Opens the store on this backend's database: the same one at every call, so a test can
    /// drop the store and open it again.
    async fn open(&self) -> Arc<dyn Store>;
}

/// A SQLite database file in a temporary directory.
pub(crate) struct Sqlite(tempfile::TempDir);

#[async_trait::async_trait]
impl Backend for Sqlite {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(self.0.path().join("ecsd.db")).expect("the SQLite store opens"))
    }
}

/// A new database in the test binary's PostgreSQL cluster.
pub(crate) struct Postgres(String);

#[async_trait::async_trait]
impl Backend for Postgres {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(PgStore::open(&self.0).await.expect("the PostgreSQL store opens"))
    }
}

pub(crate) use servers::volume;

pub(crate) fn sqlite() -> Sqlite {
    Sqlite(tempfile::tempdir().expect("a temporary directory"))
}

/// A fresh database, or `None` where PostgreSQL is not installed (and not required).
pub(crate) fn postgres() -> Option<Postgres> {
    crate::pg_cluster::Cluster::shared().map(|c| Postgres(c.fresh_database()))
}

/// A server of `project` in `subnet`, as a create request builds it.
pub(crate) fn server(project: &str, subnet: &str, name: &str) -> Server {
    Server {
        id: ecs_model::new_uuid(),
        project_id: project.into(),
        user_id: "u".into(),
        name: name.into(),
        description: String::new(),
        hostname: name.into(),
        vm_state: VmState::Building,
        task_state: Some(TaskState::Scheduling),
        image_id: "img".into(),
        flavor_id: "s6.small.1".into(),
        key_name: None,
        admin_pass_hash: None,
        pending_password_hash: None,
        user_data: None,
        metadata: Default::default(),
        network: ServerNic {
            vpc_id: "v".into(),
            subnet_id: subnet.into(),
            ip: String::new(),
            mac: String::new(),
            port_id: ecs_model::new_uuid(),
        },
        availability_zone: "az1".into(),
        security_groups: vec![],
        tags: vec![],
        locked: false,
        created_ms: 0,
        updated_ms: 0,
        launched_ms: None,
        os_change_failed: false,
        fault: None,
        launch_index: 0,
        reservation_id: "r-1".into(),
        generation: 1,
        enterprise_project_id: "0".into(),
        server_group: None,
        host: None,
        extra_nics: Vec::new(),
        auto_terminate_ms: None,
    }
}

/// Creates servers named `names` in the project's default network; they come back with their
/// addresses.
pub(crate) async fn create(st: &dyn Store, project: &str, names: &[&str]) -> Vec<Server> {
    let (_, subnet) = st.network_default(project).await.expect("the default network");
    let servers = names.iter().map(|n| server(project, &subnet.id, n)).collect();
    st.begin(Begin { insert_servers: servers, ..Default::default() }).await.expect("the servers are created")
}

/// What a reinstall of `server` (as it carries it, generation included) records: its swap, its
/// job and its saga, with the saga's first step started when `started`.
pub(crate) fn reinstall_of(server: &Server, started: bool) -> Begin {
    let job = ecs_model::job::Job::new("p1", ecs_model::job::job_type::REINSTALL_OS, None, Some(&server.id), 0);
    let mut saga =
        ecs_saga::SagaRecord::new(job.id.clone(), "reinstall_os", 2, serde_json::json!({"server": server.id}));
    if started {
        saga.events.push(ecs_saga::StepEvent::Started { step: "stop_server".into() });
    }
    Begin { update_servers: vec![server.clone()], jobs: vec![job], sagas: vec![saga], ..Default::default() }
}

/// Has the store open `n` connections (where it pools them) before a race, so that the
/// racers start together instead of one after the other as their connections come up.
pub(crate) async fn warm_up(st: &std::sync::Arc<dyn crate::Store>, n: usize) {
    let readers: Vec<_> = (0..n)
        .map(|_| {
            let st = st.clone();
            tokio::spawn(async move { st.project_usage("warm-up").await })
        })
        .collect();
    for r in readers {
        r.await.unwrap().unwrap();
    }
}

/// One test per suite function and backend.
macro_rules! conformance {
    ($($area:ident :: $test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$area::$test(&super::sqlite()).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(backend) = super::postgres() else { return };
                    super::$area::$test(&backend).await
                }
            )*
        }
    };
}

conformance! {
    servers::addresses_are_unique_and_reused_after_delete,
    servers::update_is_a_compare_and_swap_on_generation,
    servers::a_begin_that_loses_its_cas_writes_nothing,
    servers::a_one_server_begin_writes_its_job_and_saga_only_with_its_swap,
    servers::concurrent_one_server_begins_win_once_per_server,
    servers::concurrent_cas_writers_exactly_one_wins,
    servers::concurrent_creates_get_distinct_addresses,
    servers::a_fixed_address_goes_to_exactly_one_server,
    servers::list_filters_and_both_paginations,
    servers::list_filters_on_tags_and_reservations,
    servers::volumes_follow_their_server,
    servers::a_server_is_read_with_its_key_pair_and_image,
    servers::concurrent_volume_swaps_exactly_one_wins,
    servers::servers_by_status_and_project_usage,
    servers::a_create_past_the_quota_writes_nothing,
    servers::two_creates_at_the_quota_edge_exactly_one_wins,
    servers::resizes_at_the_quota_edge_exactly_one_wins,
    jobs::a_saga_recorded_as_started_makes_its_job_running_and_keeps_its_events,
    jobs::the_saga_log_drives_the_job_and_survives_reopening,
    jobs::one_unfinished_saga_is_read_by_its_id,
    jobs::a_batch_job_lists_its_sub_jobs_in_order,
    jobs::finished_jobs_expire_with_their_sagas,
    jobs::a_steps_record_lands_with_its_changes_or_not_at_all,
    jobs::the_last_events_and_the_end_are_recorded_together,
    catalog::keypair_names_are_unique_per_project,
    catalog::keypairs_page_by_name,
    catalog::images_are_replaced_by_id,
    catalog::concurrent_first_requests_make_one_default_network,
    networks::a_project_gets_its_default_group_with_its_network_and_each_server_a_port,
    networks::a_create_naming_a_group_deleted_meanwhile_writes_nothing,
    networks::a_group_in_use_or_the_default_one_is_not_deleted,
    networks::a_rule_must_name_groups_of_its_project_and_not_repeat_one,
    networks::ports_are_updated_in_place,
    networks::a_server_is_read_with_its_group_names,
    seen::a_read_is_unchanged_until_what_it_was_made_of_is_written,
    seen::a_lists_ids_are_its_page,
    nics::an_added_nic_gets_an_address_and_a_port_and_gives_both_back,
    nics::a_primary_nic_takes_a_new_address_and_gives_the_old_back,
    shared::sim_records_written_by_one_node_are_read_by_another,
    shared::faults_are_kept_in_order_and_removed_per_project,
    shared::a_fault_fires_at_most_its_times_across_nodes,
    shared::the_first_setting_written_wins,
    server_groups::groups_are_counted_per_project_and_keep_their_members_in_order,
    server_groups::a_group_takes_its_members_limit,
    server_groups::anti_affinity_members_need_distinct_hosts_once_there_are_two,
    server_groups::deadlines_are_read_earliest_first,
    traces::traces_are_listed_newest_first_per_project_filtered_paged_and_expired,
    traces::saga_events_are_read_back_in_order_with_their_times,
}
