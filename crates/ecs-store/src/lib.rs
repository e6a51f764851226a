//! Persistence for ecsd behind one trait, [`Store`], so that the embedded SQLite store
//! ([`SqliteStore`]) and a PostgreSQL store that several nodes can share ([`PgStore`]) are
//! interchangeable. One conformance suite (`conformance/`) runs the same assertions on both.
//!
//! Method names read resource first (`server_get`, `keypair_list`). Every write that starts an
//! operation goes through [`Store::begin`], which takes the server's lock (a compare-and-swap on
//! its generation), records the job and the saga, and allocates addresses, all in one
//! transaction: a request either leaves all of that behind or none of it. The store also is the
//! saga log ([`ecs_saga::SagaLog`]); a saga's id is its job's id, so finishing a saga finishes
//! its job in the same transaction.

pub mod cluster;
#[cfg(test)]
mod conformance;
mod filter;
pub mod observe;
#[cfg(any(test, feature = "test-cluster"))]
pub mod pg_cluster;
pub mod postgres;
mod rules;
mod seen;
mod shared;
pub mod sqlite;
mod trace;

pub use filter::{ServerFilter, ServerPage};
pub use postgres::PgStore;
pub use seen::Seen;
pub use shared::{SharedFault, SimKind, NOT_SHARED};
pub use sqlite::SqliteStore;
pub use trace::{LoggedEvent, TraceQuery, TraceRecord};

use async_trait::async_trait;
use ecs_model::image::Image;
use ecs_model::job::Job;
use ecs_model::keypair::Keypair;
use ecs_model::network::{Subnet, Vpc};
use ecs_model::port::Port;
use ecs_model::quota::{Quotas, Usage};
use ecs_model::security_group::{SecurityGroup, SecurityGroupRule};
use ecs_model::server::Server;
use ecs_model::server_group::ServerGroup;
use ecs_model::volume::Volume;
use ecs_saga::{SagaLog, SagaRecord};

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A compare-and-swap lost (someone else changed the row first), or a unique key is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// No private address is left in the subnet.
    #[error("subnet {0} has no free address")]
    AddressesExhausted(String),
    /// The fixed address a new server asks for is another server's.
    #[error("address {0} is in use")]
    AddressInUse(String),
    /// The disk holding the database is full. Nothing of the write was kept; the same write
    /// succeeds once space is freed.
    #[error("no space left for the database: {0}")]
    Full(String),
    /// The database is damaged (a page that does not parse, a file that is not a database) or
    /// is not this data directory's.
    #[error("the database is damaged: {0}")]
    Damaged(String),
    /// Inserting the servers (or changing their flavors) would take their project past its
    /// quota (the message says which); nothing was written.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The host a server was placed on is down or has no room left for it (the message says
    /// which); nothing was written. Placement chooses again.
    #[error("{0}")]
    HostFull(String),
    /// A saga step's write was refused: the saga is held with a newer epoch now (another node
    /// adopted it). Nothing was written.
    #[error("saga {0} is held by another node now")]
    Fenced(String),
    /// The database failed otherwise (I/O, a stopped writer).
    #[error("database: {0}")]
    Backend(String),
}

/// Everything a request writes when it starts an operation, applied atomically.
#[derive(Debug, Default, Clone)]
pub struct Begin {
    /// Servers whose state changes: each must still have the `generation` it carries.
    pub update_servers: Vec<Server>,
    /// New servers; the store assigns their address (`network.ip`, `network.mac`).
    pub insert_servers: Vec<Server>,
    pub insert_volumes: Vec<Volume>,
    /// Volumes taken by the operation: each row is written only if it is still exactly as the
    /// request read it (`from`), `Conflict` otherwise, so that two requests cannot both take
    /// one volume (attach it, detach it, delete it).
    pub swap_volumes: Vec<VolumeSwap>,
    pub jobs: Vec<Job>,
    pub sagas: Vec<SagaRecord>,
    /// The quotas of the project of `insert_servers` (or of `update_servers`), checked against
    /// its usage in the same transaction that writes them, so that two creates or resizes
    /// racing for the last of a quota cannot both pass. An updated server counts for what its
    /// `flavor_id` adds to the one stored. `None`: no check.
    pub quota: Option<Quotas>,
    /// The saga whose step writes this, with the epoch it holds it at: a store several nodes
    /// share checks it first, in the same transaction, and refuses the write (`Fenced`) when
    /// the saga has been adopted since. `None`: a request's write, or a store only one
    /// process opens.
    pub fence: Option<ecs_saga::Hold>,
    /// NICs added to servers of `update_servers`: each names a server and one of its
    /// `extra_nics` by port id. The store gives that NIC its address (the one it carries in
    /// `ip`, or the next free one of its subnet when `ip` is empty) and a port row, before the
    /// server is written. An address another NIC holds is `AddressInUse`, a full subnet
    /// `AddressesExhausted`.
    pub attach_nics: Vec<NicRef>,
    /// NICs removed: their port rows and addresses are deleted (whatever the server's record
    /// says; missing ones are skipped, so a replayed release is harmless).
    pub release_nics: Vec<NicRelease>,
    /// Servers of `update_servers` whose primary NIC changes address: the store takes the
    /// address the server carries in `network.ip` (or the next free one of its subnet when it
    /// is empty), writes it there, and gives the old one back, before the server is written.
    /// An address another NIC holds is `AddressInUse`, a full subnet `AddressesExhausted`.
    pub readdress: Vec<Readdress>,
    /// Volumes deleted (by id; a missing one is skipped).
    pub delete_volumes: Vec<String>,
    /// A saga step's record, written in the same transaction as the step's changes above
    /// ([`ecs_saga::StepWrite`]): its events appended, and the saga finished when it carries
    /// an outcome. A store several nodes share checks its epoch as it checks `fence`.
    pub log: Option<ecs_saga::LogWrite>,
}

/// A primary NIC's old address, given back when it takes a new one (see [`Begin::readdress`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readdress {
    pub server_id: String,
    pub old_ip: String,
}

/// One of a server's added NICs, by its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicRef {
    pub server_id: String,
    pub port_id: String,
}

/// An added NIC whose port and address go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicRelease {
    pub project_id: String,
    pub server_id: String,
    pub port_id: String,
    pub subnet_id: String,
    pub ip: String,
}

/// A volume row replaced by another only if it is still as it was read (see [`Begin`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSwap {
    pub from: Volume,
    pub to: Volume,
}

/// A server with its attached volumes, as most readers want it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRow {
    pub server: Server,
    pub volumes: Vec<Volume>,
}

/// The order of a server's volumes in every store: the system disk first, then the data disks
/// by boot index, unbootable ones last, each in the order they were made.
pub(crate) fn sort_volumes(v: &mut [Volume]) {
    v.sort_by_key(|v| (v.boot_index.map(|b| if b < 0 { i64::MAX } else { b }), v.created_ms));
}

/// What a request about one server reads along with it ([`Store::server_get_with`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlsoRead<'a> {
    /// A key pair of the server's project, by name.
    pub keypair: Option<&'a str>,
    /// An image, by id.
    pub image: Option<&'a str>,
    /// The server's own image, when `image` is not given.
    pub own_image: bool,
    /// The names of the server's security groups (what its detail shows).
    pub group_names: bool,
    /// What the read saw ([`ServerWith::seen`]), where the store can tell later whether it
    /// changed.
    pub seen: bool,
}

/// A server and what was read with it; nothing else is read when the server is not there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerWith {
    pub row: Option<ServerRow>,
    pub keypair: Option<Keypair>,
    pub image: Option<Image>,
    /// With [`AlsoRead::group_names`], the name of each of the server's security groups by id;
    /// a group that is not there has no entry.
    pub group_names: std::collections::HashMap<String, String>,
    /// With [`AlsoRead::seen`], on a store that can tell: what the read was made of, for
    /// [`Store::unchanged_since`].
    pub seen: Option<Seen>,
}

/// The persistence interface of ecsd.
#[async_trait]
pub trait Store: SagaLog + Send + Sync {
    /// Node membership and saga claims, when several processes can share this store; `None`
    /// for a store only one process opens (SQLite).
    fn cluster(&self) -> Option<&dyn cluster::Cluster> {
        None
    }

    // --- key pairs
    /// Inserts a key pair; `Conflict` when the name is taken in the project. Returns it with its id.
    async fn keypair_insert(&self, kp: Keypair) -> Result<Keypair, StoreError>;
    async fn keypair_get(&self, project_id: &str, name: &str) -> Result<Option<Keypair>, StoreError>;
    /// Key pairs of a project by name, after `marker` (a name), at most `limit`.
    async fn keypair_list(
        &self,
        project_id: &str,
        limit: Option<usize>,
        marker: Option<&str>,
    ) -> Result<Vec<Keypair>, StoreError>;
    /// Deletes a key pair; false when there was none.
    async fn keypair_delete(&self, project_id: &str, name: &str) -> Result<bool, StoreError>;

    // --- images
    /// Inserts or replaces an image.
    async fn image_put(&self, image: Image) -> Result<(), StoreError>;
    async fn image_get(&self, id: &str) -> Result<Option<Image>, StoreError>;
    async fn image_list(&self) -> Result<Vec<Image>, StoreError>;

    // --- networks
    /// The project's default VPC and subnet, created on first use.
    async fn network_default(&self, project_id: &str) -> Result<(Vpc, Subnet), StoreError>;
    async fn vpc_list(&self, project_id: &str) -> Result<Vec<Vpc>, StoreError>;
    async fn subnet_list(&self, project_id: &str) -> Result<Vec<Subnet>, StoreError>;
    /// How many addresses of a subnet are allocated.
    async fn subnet_used(&self, subnet_id: &str) -> Result<i64, StoreError>;

    // --- servers and volumes
    async fn server_get(&self, project_id: &str, id: &str) -> Result<Option<ServerRow>, StoreError>;
    /// A server with the key pair and the image a request about it names. A database server
    /// answers all of it in one statement (one round trip, one parse and plan instead of four);
    /// SQLite reads them in one snapshot; this default reads them one after the other.
    async fn server_get_with(&self, project_id: &str, id: &str, also: AlsoRead<'_>) -> Result<ServerWith, StoreError> {
        let Some(row) = self.server_get(project_id, id).await? else {
            return Ok(ServerWith::default());
        };
        let keypair = match also.keypair {
            Some(name) => self.keypair_get(project_id, name).await?,
            None => None,
        };
        let image_id = also.image.or(also.own_image.then_some(row.server.image_id.as_str()));
        let image = match image_id {
            Some(id) => self.image_get(id).await?,
            None => None,
        };
        let mut group_names = std::collections::HashMap::new();
        for g in row.server.security_groups.iter().filter(|_| also.group_names) {
            if let Some(group) = self.security_group_get(project_id, g).await? {
                group_names.insert(group.id, group.name);
            }
        }
        Ok(ServerWith { row: Some(row), keypair, image, group_names, seen: None })
    }
    /// Whether nothing that the read which gave `seen` was made of has been written since: a
    /// `false` may be a change or only a write near it, never the reverse. A store that other
    /// processes write to cannot tell, and says `false`.
    fn unchanged_since(&self, _seen: &Seen) -> bool {
        false
    }
    /// The server alone, without its volumes (read-modify-write of its state).
    async fn server_only(&self, project_id: &str, id: &str) -> Result<Option<Server>, StoreError>;
    async fn server_list(&self, project_id: &str, filter: &ServerFilter) -> Result<ServerPage, StoreError>;
    /// The count and the ids of the page [`Store::server_list`] would give, in its order, for
    /// a caller that keeps servers' details rendered (see [`Store::unchanged_since`]) and reads
    /// only those it does not hold. `None` where the store cannot tell whether a kept detail is
    /// current, or the filter's matches depend on what a write may change
    /// ([`ServerFilter::membership_is_fixed`]): the caller lists with `server_list`.
    async fn server_list_ids(
        &self,
        _project_id: &str,
        _filter: &ServerFilter,
    ) -> Result<Option<(i64, Vec<String>)>, StoreError> {
        Ok(None)
    }
    /// `(project_id, id)` of every server whose API status is `status`, across projects: a scan
    /// of one column, for start-up checks that must not decode every server.
    async fn server_ids_with_status(&self, status: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Compare-and-swap: writes `server` if the stored generation equals `server.generation`,
    /// and returns it with the generation bumped. `Conflict` otherwise.
    async fn server_update(&self, server: Server) -> Result<Server, StoreError>;
    /// Removes a server and its address; volume rows still attached to it are deleted, except
    /// data disks that do not go with their server (`delete_on_termination` false), which are
    /// detached and stay, as disks of their own.
    async fn server_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError>;
    /// Inserts or replaces a volume row.
    async fn volume_put(&self, volume: Volume) -> Result<(), StoreError>;
    async fn volume_get(&self, id: &str) -> Result<Option<Volume>, StoreError>;
    async fn volume_delete(&self, id: &str) -> Result<(), StoreError>;
    /// Every volume (invariant checks, garbage collection).
    async fn volume_list(&self) -> Result<Vec<Volume>, StoreError>;

    // --- quotas and volumes (create with data disks, the disk service's read side)
    /// What a project's servers use: their number, vCPUs and memory (by their flavors).
    async fn project_usage(&self, project_id: &str) -> Result<Usage, StoreError>;
    /// Every volume of a project, attached or not, oldest first.
    async fn volume_list_project(&self, project_id: &str) -> Result<Vec<Volume>, StoreError>;

    // --- operations and jobs
    /// Applies a [`Begin`] atomically; returns the inserted servers with their addresses.
    async fn begin(&self, begin: Begin) -> Result<Vec<Server>, StoreError>;
    /// A job and its sub-jobs.
    async fn job_get(&self, project_id: &str, id: &str) -> Result<Option<(Job, Vec<Job>)>, StoreError>;
    /// Deletes finished jobs (and their saga logs) that ended before `before_ms`.
    async fn job_expire(&self, before_ms: i64) -> Result<u64, StoreError>;
    /// The saga log entries of the given sagas (a job's and its sub-jobs'), each saga's in
    /// order, with when each was written. Unknown ids have none.
    async fn saga_events(&self, saga_ids: &[String]) -> Result<Vec<LoggedEvent>, StoreError>;

    // --- the audit trail
    /// Records traces, all in one write.
    async fn trace_insert(&self, traces: Vec<TraceRecord>) -> Result<(), StoreError>;
    /// A page of a project's traces, newest first, and whether more follow it.
    async fn trace_list(&self, query: &TraceQuery) -> Result<(Vec<TraceRecord>, bool), StoreError>;
    /// Deletes the traces recorded before `before_ms`.
    async fn trace_expire(&self, before_ms: i64) -> Result<u64, StoreError>;
    /// How many servers of every project have each status (the metrics' `ecsd_servers`).
    async fn server_status_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    // --- ports and security groups
    /// A port of the project by id. Every server has one, written with the server by
    /// [`Store::begin`] and removed with it by [`Store::server_delete`].
    async fn port_get(&self, project_id: &str, id: &str) -> Result<Option<Port>, StoreError>;
    /// Every port of the project, by id.
    async fn port_list(&self, project_id: &str) -> Result<Vec<Port>, StoreError>;
    /// Replaces a port's mutable attributes; `NotFound` when it is gone.
    async fn port_update(&self, port: Port) -> Result<(), StoreError>;
    /// [`Store::server_update`] of a server whose security groups changed: in the same
    /// transaction every group it names must exist in its project (`NotFound` otherwise), so
    /// that a group deleted meanwhile is never left referenced.
    async fn server_update_security_groups(&self, server: Server) -> Result<Server, StoreError>;
    /// Inserts a group with its first rules.
    async fn security_group_insert(
        &self,
        group: SecurityGroup,
        rules: Vec<SecurityGroupRule>,
    ) -> Result<(), StoreError>;
    async fn security_group_get(&self, project_id: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError>;
    /// The project's groups in creation order (the default group first).
    async fn security_group_list(&self, project_id: &str) -> Result<Vec<SecurityGroup>, StoreError>;
    /// Deletes a group and its rules. `NotFound` when there is none; `Conflict` (with the
    /// reason) for the default group, a group a server uses, or one another group's rule names.
    async fn security_group_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError>;
    /// The project's rules in creation order, or those of one group.
    async fn security_group_rules(
        &self,
        project_id: &str,
        group_id: Option<&str>,
    ) -> Result<Vec<SecurityGroupRule>, StoreError>;
    /// Inserts a rule. `NotFound` when its group or remote group is not the project's;
    /// `Conflict` when the group has a rule for the same traffic.
    async fn security_group_rule_insert(&self, rule: SecurityGroupRule) -> Result<(), StoreError>;
    /// Deletes a rule; false when there was none.
    async fn security_group_rule_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError>;

    // --- server groups and scheduled deletion
    //
    // A new server whose `server_group` is set joins that group in the transaction of its
    // [`Store::begin`]: the group must be the project's (`NotFound` otherwise) and have room
    // for it (`QuotaExceeded`); in an anti-affinity group, once the store knows more than one
    // host, its host must hold no other member (`HostFull`, so that placement chooses again).
    // A deleted server leaves its group with it.

    /// Inserts a group; `QuotaExceeded` when the project has `max` groups already, counted in
    /// the same transaction.
    async fn server_group_insert(&self, group: ServerGroup, max: i64) -> Result<(), StoreError>;
    /// A group of the project, with its members in the order they joined.
    async fn server_group_get(&self, project_id: &str, id: &str) -> Result<Option<ServerGroup>, StoreError>;
    /// The project's groups, oldest first, with their members.
    async fn server_group_list(&self, project_id: &str) -> Result<Vec<ServerGroup>, StoreError>;
    /// Deletes a group; its members leave it and stay. False when there was none.
    async fn server_group_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Adds servers to a group, all or none: `NotFound` (naming it) when the group or a server
    /// is not the project's; `Conflict` (with the reason) when a server is in a group already
    /// or named twice, or (anti-affinity, more than one host) its host holds another member;
    /// `QuotaExceeded` when the group would have more than its members' limit.
    async fn server_group_add(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError>;
    /// Removes servers from a group, all or none: `NotFound` when the group is not the
    /// project's; `Conflict` when a server is not one of its members.
    async fn server_group_remove(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError>;
    /// The servers with a scheduled deletion time, earliest first, at most `limit`, across
    /// projects: `(project_id, server_id, at_ms)`.
    async fn server_deadlines(&self, limit: i64) -> Result<Vec<(String, String, i64)>, StoreError>;

    // --- state shared by the nodes of one database
    //
    // What a node on SQLite keeps in its own process or data directory (the simulated driver's
    // disks and VMs, the faults in force, the token secret, the bootstrap account) and the
    // nodes of one PostgreSQL database must agree on. A store that is not shared (SQLite) keeps
    // the defaults below: `shared` is false and every method fails with [`NOT_SHARED`], and
    // ecsd keeps that state per node as it always has.

    /// Whether several nodes may use this store at once, and so keep the state above in it.
    fn shared(&self) -> bool {
        false
    }
    /// A simulated disk's or VM's record (its JSON body).
    async fn sim_record_get(&self, _kind: SimKind, _id: &str) -> Result<Option<String>, StoreError> {
        Err(not_shared())
    }
    /// Inserts or replaces a simulated disk's or VM's record.
    async fn sim_record_put(&self, _kind: SimKind, _id: &str, _body: &str) -> Result<(), StoreError> {
        Err(not_shared())
    }
    /// Removes a record; false when there was none.
    async fn sim_record_delete(&self, _kind: SimKind, _id: &str) -> Result<bool, StoreError> {
        Err(not_shared())
    }
    /// Every record of a kind as `(id, body)`, by id (disk listings, invariant checks).
    async fn sim_record_list(&self, _kind: SimKind) -> Result<Vec<(String, String)>, StoreError> {
        Err(not_shared())
    }
    /// Adds a fault; one whose id is there already is left as it is (so that every node can add
    /// the faults of its configuration file under ids derived from them).
    async fn fault_insert(&self, _fault: &SharedFault) -> Result<(), StoreError> {
        Err(not_shared())
    }
    /// Every fault in force, oldest first (the first that matches a step fires).
    async fn fault_list(&self) -> Result<Vec<SharedFault>, StoreError> {
        Err(not_shared())
    }
    /// Removes one fault of a project; false when there is none.
    async fn fault_remove(&self, _project_id: &str, _id: &str) -> Result<bool, StoreError> {
        Err(not_shared())
    }
    /// Removes every fault of a project; how many.
    async fn fault_clear(&self, _project_id: &str) -> Result<u64, StoreError> {
        Err(not_shared())
    }
    /// Counts one firing of a fault, atomically across nodes: the fault with its new count, or
    /// `None` when it is gone or its `times` are used up (another node fired it last). A fault
    /// whose `times` this firing uses up is removed in the same transaction.
    async fn fault_hit(&self, _id: &str) -> Result<Option<SharedFault>, StoreError> {
        Err(not_shared())
    }
    /// Adds `n` firings to a fault's count (of a fault without `times`, whose firings need no
    /// agreement between nodes and are counted in batches); a fault that is gone is no error.
    async fn fault_add_hits(&self, _id: &str, _n: i64) -> Result<(), StoreError> {
        Err(not_shared())
    }
    /// A setting, if one was written.
    async fn setting_get(&self, _key: &str) -> Result<Option<String>, StoreError> {
        Err(not_shared())
    }
    /// Writes `value` under `key` unless a value is there already, and returns the value that
    /// is: the first node to write wins, and every node reads back the same.
    async fn setting_init(&self, _key: &str, _value: &str) -> Result<String, StoreError> {
        Err(not_shared())
    }
}

fn not_shared() -> StoreError {
    StoreError::Backend(NOT_SHARED.into())
}
