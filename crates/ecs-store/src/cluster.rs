//! What a store offers when several ecsd nodes share it: node membership with leases kept in
//! the database's time, claims of sagas with a fencing epoch, and the hosts that placement
//! chooses among. Only a store several processes can open has it ([`crate::Store::cluster`]).

use async_trait::async_trait;
use ecs_saga::SagaRecord;
use std::time::Duration;

use crate::StoreError;

/// A node as it joins: its name, where it answers, and what it offers to placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    /// The URL its API answers on (for operators and the node list; nothing routes by it).
    pub address: String,
    pub vcpus: i64,
    pub memory_mib: i64,
}

/// A node as the database sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub name: String,
    pub incarnation: i64,
    pub address: String,
    /// Its lease has not run out (by the database's clock).
    pub live: bool,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    pub vcpus: i64,
    pub memory_mib: i64,
    /// What the servers placed on it take (by their flavors).
    pub used_vcpus: i64,
    pub used_memory_mib: i64,
}

impl NodeRow {
    pub fn free_vcpus(&self) -> i64 {
        self.vcpus - self.used_vcpus
    }
    pub fn free_memory_mib(&self) -> i64 {
        self.memory_mib - self.used_memory_mib
    }
}

/// This process's membership: the name it joined under and the incarnation it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub incarnation: i64,
}

/// What renewing a lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// The lease runs for another term.
    Renewed,
    /// A newer incarnation joined under this node's name: this process has been replaced and
    /// must stop acting as the node.
    Replaced,
}

/// Node membership and saga ownership for a store shared by several nodes.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Joins as `node`: creates its row or, when the name is known (the same node started
    /// again), takes the next incarnation; its lease runs for `lease` from now. Sagas written
    /// from then on are held by this member.
    async fn node_join(&self, node: &NodeSpec, lease: Duration) -> Result<Member, StoreError>;
    /// Renews the member's lease for `lease` from now.
    async fn node_renew(&self, member: &Member, lease: Duration) -> Result<Renewal, StoreError>;
    /// Ends the member's lease now (an orderly stop), so that other nodes adopt at once what
    /// it held and any node may run.
    async fn node_leave(&self, member: &Member) -> Result<(), StoreError>;
    /// Every node, by name, with its usage.
    async fn node_list(&self) -> Result<Vec<NodeRow>, StoreError>;
    /// Claims, for `member`, up to `limit` unfinished sagas it may run: those whose holder's
    /// lease has run out (or that no node holds) and that need no host or need this one; and
    /// its own from an earlier incarnation, or recorded for it by another node. Each claim adds
    /// one to the saga's epoch, in one statement that skips rows another claimer has locked.
    /// Returns the claimed sagas with their logs and new epochs.
    async fn saga_claim(&self, member: &Member, limit: i64) -> Result<Vec<SagaRecord>, StoreError>;
    /// The epoch a saga is held with now, and whether it has finished; `None` when it is gone.
    async fn saga_epoch(&self, saga_id: &str) -> Result<Option<(i64, bool)>, StoreError>;
}

/// Chooses the live node with the most free memory that has `vcpus` and `memory_mib` free
/// (spreading servers, as a scheduler weighing free RAM does); `None` when none has.
pub fn place(nodes: &[NodeRow], vcpus: i64, memory_mib: i64, avoid: &[String]) -> Option<String> {
    nodes
        .iter()
        .filter(|n| n.live && n.free_vcpus() >= vcpus && n.free_memory_mib() >= memory_mib)
        .filter(|n| !avoid.contains(&n.name))
        .max_by(|a, b| a.free_memory_mib().cmp(&b.free_memory_mib()).then_with(|| b.name.cmp(&a.name)))
        .map(|n| n.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, live: bool, free_vcpus: i64, free_mib: i64) -> NodeRow {
        NodeRow {
            name: name.into(),
            incarnation: 1,
            address: String::new(),
            live,
            heartbeat_age_ms: 0,
            vcpus: 64,
            memory_mib: 65536,
            used_vcpus: 64 - free_vcpus,
            used_memory_mib: 65536 - free_mib,
        }
    }

    #[test]
    fn placement_takes_the_live_node_with_most_free_memory_that_fits() {
        let nodes = [node("a", true, 8, 4096), node("b", true, 2, 8192), node("c", false, 64, 65536)];
        assert_eq!(place(&nodes, 1, 1024, &[]).as_deref(), Some("b"), "most free memory, dead c skipped");
        assert_eq!(place(&nodes, 4, 1024, &[]).as_deref(), Some("a"), "b has too few vCPUs");
        assert_eq!(place(&nodes, 1, 1024, &["b".into()]).as_deref(), Some("a"), "b avoided");
        assert_eq!(place(&nodes, 16, 1024, &[]), None, "nothing live fits");
    }
}
