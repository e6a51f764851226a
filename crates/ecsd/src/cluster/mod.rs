//! This process as a node: its name and what it offers as a compute host ([`Node`]), and, on
//! a store several nodes share, its membership ([`membership`]): the lease it renews, the
//! sagas it claims, and the fence that keeps it from acting for a saga another node adopted.

pub mod membership;
pub mod placement;

use async_trait::async_trait;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use membership::Membership;

/// What this node is, as the rest of the service needs it.
pub struct Node {
    /// Its name among the nodes of the database, and the host servers placed on it show
    /// (`OS-EXT-SRV-ATTR:host`).
    pub name: String,
    /// What it offers to placement.
    pub vcpus: i64,
    pub memory_mib: i64,
    /// Whether its driver's VMs live on this host only (QEMU processes, a local journal), so
    /// that only this node can run a saga that acts on them.
    pub host_bound: bool,
    /// The term of its lease on a shared store, and how often it renews it.
    pub lease: Duration,
    pub heartbeat: Duration,
    /// Its membership, once it has joined a shared store (set by `serve`).
    pub membership: OnceLock<Arc<Membership>>,
}

/// Nova counts a service down after 60 s of missed 10 s heartbeats; ecsd's defaults are
/// shorter, so that a dead node's operations are adopted within half a minute.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

impl Node {
    /// A node of `name` offering `vcpus` and `memory_mib`, with the default lease.
    pub fn new(name: impl Into<String>, vcpus: i64, memory_mib: i64, host_bound: bool) -> Node {
        Node {
            name: name.into(),
            vcpus,
            memory_mib,
            host_bound,
            lease: DEFAULT_LEASE,
            heartbeat: DEFAULT_HEARTBEAT,
            membership: OnceLock::new(),
        }
    }

    /// Whether the host of a server is down: its node's lease has run out, and only that node
    /// can act on the server's VM. Servers of a driver whose state the nodes share are never on
    /// a down host: any node acts for them.
    pub fn host_down(&self, host: Option<&str>) -> bool {
        match (host, self.membership.get()) {
            (Some(h), Some(m)) if self.host_bound && h != self.name => m.is_down(h),
            _ => false,
        }
    }

    /// Whether this node runs a saga recorded for `host` (`None`: any node may).
    pub fn runs_here(&self, host: Option<&str>) -> bool {
        host.is_none_or(|h| h == self.name)
    }

    /// The machine's host name: the default node name.
    pub fn default_name() -> String {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "ecsd".to_string())
    }

    /// What the machine offers by default: for a driver whose VMs are real, its cores four
    /// times over and its memory once (the first overcommit ratios of Nova's scheduler); for
    /// the simulated driver, whose VMs take nothing, as good as unlimited.
    pub fn default_capacity(real_vms: bool) -> (i64, i64) {
        if !real_vms {
            return (UNLIMITED, UNLIMITED);
        }
        let cores = std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1);
        (cores * 4, machine_memory_mib().unwrap_or(1024))
    }
}

/// The capacity of a simulated host: far beyond any test or benchmark.
pub const UNLIMITED: i64 = 1 << 40;

/// The machine's memory, from `/proc/meminfo`.
fn machine_memory_mib() -> Option<i64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// The executor's fence: the membership's once the node has joined a shared store; before
/// that (and on a store only this process opens) every saga is this node's.
#[async_trait]
impl ecs_saga::Fence for Node {
    async fn may_act(&self, saga_id: &str, epoch: i64, seen: &mut u64) -> bool {
        match self.membership.get() {
            Some(m) => m.may_act(saga_id, epoch, seen).await,
            None => true,
        }
    }
}
