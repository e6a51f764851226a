//! Choosing the compute host of each new server. On a store several nodes share, among the
//! live nodes with room for its flavor (the most free memory first, so that servers spread);
//! the store checks the choice again in the transaction that writes it, and a choice that no
//! longer fits (another create took the room, the host died) is made again. On a store only
//! this node opens, every server is this node's.

use super::Node;
use ecs_model::server::Server;
use ecs_store::cluster::{place, NodeRow};
use ecs_store::{Store, StoreError};

/// Why no host was found.
#[derive(Debug)]
pub enum NoHost {
    /// No live node has room for this flavor (the message says what was asked).
    Full(String),
    Store(StoreError),
}

/// Sets `host` on every server of `servers` that has none.
pub async fn place_all(store: &dyn Store, node: &Node, servers: &mut [Server]) -> Result<(), NoHost> {
    // Most operations place nothing: no read of the nodes for them.
    if servers.iter().all(|s| s.host.is_some()) {
        return Ok(());
    }
    let Some(cluster) = store.cluster() else {
        for s in servers.iter_mut().filter(|s| s.host.is_none()) {
            s.host = Some(node.name.clone());
        }
        return Ok(());
    };
    let mut nodes: Vec<NodeRow> = cluster.node_list().await.map_err(NoHost::Store)?;
    for s in servers.iter_mut().filter(|s| s.host.is_none()) {
        let (vcpus, mib) = ecs_model::flavor::find(&s.flavor_id).map(|f| (f.vcpus, f.ram_mb)).unwrap_or((0, 0));
        let Some(host) = place(&nodes, vcpus, mib, &[]) else {
            return Err(NoHost::Full(format!(
                "No compute host has {vcpus} vCPUs and {mib} MiB of memory free for flavor {}.",
                s.flavor_id
            )));
        };
        // Count it at once, so that the servers of one request spread as they would one by one.
        if let Some(n) = nodes.iter_mut().find(|n| n.name == host) {
            n.used_vcpus += vcpus;
            n.used_memory_mib += mib;
        }
        s.host = Some(host);
    }
    Ok(())
}
