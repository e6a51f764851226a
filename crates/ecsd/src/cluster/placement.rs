//! Choosing the compute host of each new server. On a store several nodes share, among the
//! live nodes with room for its flavor (the most free memory first, so that servers spread);
//! the store checks the choice again in the transaction that writes it, and a choice that no
//! longer fits (another create took the room, the host died) is made again. A server that
//! joins an anti-affinity server group avoids the hosts of the group's members once there is
//! more than one node (the store checks that again too). On a store only this node opens, every
//! server is this node's.

use super::Node;
use ecs_model::server::Server;
use ecs_store::cluster::{place, NodeRow};
use ecs_store::{Store, StoreError};
use std::collections::HashMap;

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
    // Hosts that already run a member of each anti-affinity group the new servers join, the
    // hosts chosen for earlier servers of this request included.
    let mut taken: HashMap<String, Vec<String>> = HashMap::new();
    for s in servers.iter_mut().filter(|s| s.host.is_none()) {
        let (vcpus, mib) = ecs_model::flavor::find(&s.flavor_id).map(|f| (f.vcpus, f.ram_mb)).unwrap_or((0, 0));
        let avoid = match &s.server_group {
            // With one host there is no other to choose: members share it (see the wire notes).
            Some(g) if nodes.len() > 1 => {
                if !taken.contains_key(g) {
                    let hosts = anti_affinity_hosts(store, &s.project_id, g).await?;
                    taken.insert(g.clone(), hosts);
                }
                taken.get(g).cloned().unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let Some(host) = place(&nodes, vcpus, mib, &avoid) else {
            if !avoid.is_empty() && place(&nodes, vcpus, mib, &[]).is_some() {
                return Err(NoHost::Full(format!(
                    "No valid host was found: every compute host with room for flavor {} already runs a member \
                     of the anti-affinity server group {}.",
                    s.flavor_id,
                    s.server_group.as_deref().unwrap_or_default()
                )));
            }
            return Err(NoHost::Full(format!(
                "No compute host has {vcpus} vCPUs and {mib} MiB of memory free for flavor {}.",
                s.flavor_id
            )));
        };
        if let Some(hosts) = s.server_group.as_ref().and_then(|g| taken.get_mut(g)) {
            hosts.push(host.clone());
        }
        // Count it at once, so that the servers of one request spread as they would one by one.
        if let Some(n) = nodes.iter_mut().find(|n| n.name == host) {
            n.used_vcpus += vcpus;
            n.used_memory_mib += mib;
        }
        s.host = Some(host);
    }
    Ok(())
}

/// The hosts of the members of group `group_id` when it is an anti-affinity group (none for a
/// group of another policy, or one that does not exist: the store refuses that one).
async fn anti_affinity_hosts(store: &dyn Store, project_id: &str, group_id: &str) -> Result<Vec<String>, NoHost> {
    let Some(g) = store.server_group_get(project_id, group_id).await.map_err(NoHost::Store)? else {
        return Ok(Vec::new());
    };
    if !g.anti_affinity() {
        return Ok(Vec::new());
    }
    let mut hosts = Vec::with_capacity(g.members.len());
    for id in &g.members {
        if let Some(h) = store.server_only(project_id, id).await.map_err(NoHost::Store)?.and_then(|m| m.host) {
            hosts.push(h);
        }
    }
    Ok(hosts)
}
