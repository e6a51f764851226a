//! A new address for a server's primary NIC (`change-network-interface`): synchronous, on a
//! stopped server, within the NIC's subnet. The store takes the new address and gives the old
//! one back in the transaction that writes the server, so two changes racing for one address
//! cannot both get it and no address is ever held by nobody.

use super::{begin, internal, server_of};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::timefmt::now_ms;
use ecs_model::Error;
use ecs_store::{Begin, Readdress};
use ecs_types::nics::{ChangeNicBody, ChangedNic};

/// `POST /v1/{project_id}/cloudservers/{server_id}/os-interface/{port_id}/change-network-interface`.
pub async fn change(
    app: &App,
    caller: &Caller,
    server_id: &str,
    port_id: &str,
    body: ChangeNicBody,
) -> Result<ChangedNic, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let s = &row.server;
    if s.network.port_id != port_id {
        let added = s.extra_nics.iter().any(|n| n.port_id == port_id);
        return Err(Error::invalid(if added {
            format!("NIC {port_id} is not the primary NIC of server {server_id}: only the primary NIC's address can be changed.")
        } else {
            format!("NIC {port_id} is not a NIC of server {server_id}.")
        }));
    }
    if body.ipv6_address.as_deref().is_some_and(|a| !a.is_empty())
        || (body.ipv6_address.is_some() && body.ip_address.is_none())
    {
        return Err(Error::invalid("ipv6_address: IPv6 addresses are not supported by this service; give ip_address."));
    }
    let Some(ip) = body.ip_address.as_deref() else {
        return Err(Error::invalid("ip_address is required (empty for any free address of the subnet)."));
    };
    let subnet_id = body
        .subnet_id
        .as_deref()
        .filter(|x| !x.is_empty())
        .ok_or_else(|| Error::invalid("subnet_id is required when the IPv4 address changes."))?;
    if subnet_id != s.network.subnet_id {
        // One subnet per VPC here: another subnet id is none of this VPC's.
        return Err(Error::invalid(format!(
            "subnet [{subnet_id}] is not the NIC's subnet [{}]: an address of another subnet is not supported.",
            s.network.subnet_id
        )));
    }
    if !ip.is_empty() {
        let subnets = app.ctx.store.subnet_list(&caller.project_id).await.map_err(internal)?;
        let cidr = subnets.iter().find(|n| n.id == subnet_id).map(|n| n.cidr.clone()).unwrap_or_default();
        if ecs_model::network::host_index(&cidr, ip).is_none() {
            return Err(Error::invalid(format!(
                "ip_address {ip:?} is not an assignable address of subnet [{subnet_id}] ({cidr})."
            )));
        }
        if ip == s.network.ip {
            return Err(Error::invalid(format!("ip_address {ip} is the NIC's address already.")));
        }
    }
    ecs_model::gates::nic_readdress_allowed(s)?;
    let mut changed = s.clone();
    changed.network.ip = ip.to_string();
    changed.updated_ms = now_ms();
    let b = Begin {
        readdress: vec![Readdress { server_id: s.id.clone(), old_ip: s.network.ip.clone() }],
        update_servers: vec![changed],
        ..Default::default()
    };
    begin(app, b).await?;
    let now = app.ctx.store.server_only(&caller.project_id, server_id).await.map_err(internal)?;
    let new_ip = now.map(|s| s.network.ip).unwrap_or_default();
    Ok(ChangedNic {
        id: port_id.to_string(),
        subnet_id: subnet_id.to_string(),
        ip_address: new_ip,
        ipv6_address: String::new(),
    })
}
