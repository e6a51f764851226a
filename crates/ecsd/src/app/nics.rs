//! NICs added to and removed from a server after its create: the ECS batch calls
//! (`/v1 .../nics`, `.../nics/delete`), Nova's attach, and how many more a server can take.
//!
//! A request is checked in the order a user can act on: the body (`Ecs.0005`), the server
//! (`Ecs.0114`) and its state (`Ecs.0605`, `Ecs.0100`), then each NIC against the server
//! (its subnet, its VPC, its address, the NIC limit). The new NICs, their addresses and ports,
//! the job and the saga are written by one `begin`: a refused request leaves nothing.

use super::{begin, internal, server_of};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{add_nics, delete_nics, SagaParams};
use ecs_model::job::{job_type, Job};
use ecs_model::network::Subnet;
use ecs_model::server::{Server, ServerNic};
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::{Begin, NicRef};
use ecs_types::nics::*;
use ecs_types::Code;

/// How many NICs can be added to a server besides its primary one (inferred: Huawei's limit
/// depends on the flavor; this is what the QEMU driver has hot-plug ports for).
pub const MAX_ADDED_NICS: usize = 4;

/// One NIC a request asks for: its subnet and, optionally, its fixed address.
#[derive(Debug, Clone)]
pub struct WantedNic {
    pub subnet_id: String,
    pub ip: Option<String>,
    pub security_groups: Vec<String>,
}

fn check_ip(ip: &str) -> Result<(), Error> {
    ip.parse::<std::net::Ipv4Addr>()
        .map(drop)
        .map_err(|_| Error::invalid(format!("ip_address {ip:?} is not an IPv4 address.")))
}

/// The field rules of a batch add (no store access).
fn wanted_of(body: AddNicsBody) -> Result<Vec<WantedNic>, Error> {
    let nics = body.nics.filter(|n| !n.is_empty()).ok_or_else(|| Error::invalid("nics is required."))?;
    let mut out = Vec::with_capacity(nics.len());
    for (i, n) in nics.into_iter().enumerate() {
        if n.port_id.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(Error::invalid(format!(
                "nics[{i}].port_id is not supported: every port here is a server's own; give subnet_id."
            )));
        }
        let subnet_id = n
            .subnet_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid(format!("nics[{i}].subnet_id is required.")))?;
        if n.ipv6_enable == Some(true) || n.ipv6_bandwidth.is_some() {
            return Err(Error::invalid(format!("nics[{i}]: IPv6 is not offered; ipv6_enable must be false.")));
        }
        if n.efi_enable == Some(true) {
            return Err(Error::invalid(format!("nics[{i}]: vRoCE NICs are not offered; efi_enable must be false.")));
        }
        let ip = n.ip_address.filter(|a| !a.is_empty());
        if let Some(ip) = &ip {
            check_ip(ip)?;
        }
        let mut groups = Vec::new();
        for g in n.security_groups.unwrap_or_default() {
            let id =
                g.id.filter(|g| !g.is_empty())
                    .ok_or_else(|| Error::invalid(format!("nics[{i}].security_groups[].id is required.")))?;
            groups.push(id);
        }
        out.push(WantedNic { subnet_id, ip, security_groups: groups });
    }
    Ok(out)
}

/// A MAC for an added NIC, from its port id: in OpenStack's `fa:16:3e` range like the primary
/// NIC's, and different from the NICs of other subnets, whose addresses may share an index.
pub fn mac_for_port(port_id: &str) -> String {
    let hex: String = port_id.chars().filter(char::is_ascii_hexdigit).take(6).collect();
    let b = |i: usize| hex.get(i..i + 2).unwrap_or("00").to_ascii_lowercase();
    format!("fa:16:3e:{}:{}:{}", b(0), b(2), b(4))
}

/// Checks each wanted NIC against the server and builds it (address still to be assigned
/// unless fixed).
fn new_nics(s: &Server, wanted: &[WantedNic], subnets: &[Subnet]) -> Result<Vec<ServerNic>, Error> {
    if s.extra_nics.len() + wanted.len() > MAX_ADDED_NICS {
        return Err(Error::invalid(format!(
            "server {} has {} added NICs; at most {MAX_ADDED_NICS} can be added besides the primary one.",
            s.id,
            s.extra_nics.len()
        )));
    }
    let mut out: Vec<ServerNic> = Vec::with_capacity(wanted.len());
    for w in wanted {
        let subnet = subnets
            .iter()
            .find(|n| n.id == w.subnet_id)
            .ok_or_else(|| Error::invalid(format!("subnet {} does not exist.", w.subnet_id)))?;
        if subnet.vpc_id != s.network.vpc_id {
            return Err(Error::invalid(format!(
                "subnet {} is in VPC {}, not in the server's VPC {}: a NIC must be in the server's VPC.",
                subnet.id, subnet.vpc_id, s.network.vpc_id
            )));
        }
        if let Some(ip) = &w.ip {
            if ecs_model::network::host_index(&subnet.cidr, ip).is_none() {
                return Err(Error::invalid(format!(
                    "ip_address {ip} is not an assignable address of subnet {} ({}).",
                    subnet.id, subnet.cidr
                )));
            }
            if s.nics().chain(&out).any(|n| n.subnet_id == subnet.id && &n.ip == ip) {
                return Err(Error::invalid(format!("The IP address {ip} is already in use.")));
            }
        }
        if let Some(g) = w.security_groups.iter().find(|g| !s.security_groups.contains(g)) {
            return Err(Error::invalid(format!(
                "security group {g} is not one of the server's: an added NIC has its server's security groups."
            )));
        }
        let port_id = ecs_model::new_uuid();
        out.push(ServerNic {
            vpc_id: s.network.vpc_id.clone(),
            subnet_id: subnet.id.clone(),
            ip: w.ip.clone().unwrap_or_default(),
            mac: mac_for_port(&port_id),
            port_id,
        });
    }
    Ok(out)
}

/// Accepts NICs for a server and starts the saga that plugs them; returns the job id and the
/// NICs as recorded (with their addresses).
pub async fn start_add(
    app: &App,
    caller: &Caller,
    server_id: &str,
    wanted: &[WantedNic],
) -> Result<(String, Vec<ServerNic>), Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::nic_change_allowed(&row.server)?;
    let subnets = super::ports::subnets(app, caller).await?;
    let added = new_nics(&row.server, wanted, &subnets)?;
    let now = now_ms();
    let mut s = row.server.clone();
    s.extra_nics.extend(added.iter().cloned());
    s.task_state = Some(TaskState::AttachingInterface);
    s.updated_ms = now;
    let job = Job::new(&caller.project_id, job_type::ADD_NICS, None, Some(server_id), now);
    let params = add_nics::Params {
        project_id: caller.project_id.clone(),
        server_id: server_id.to_string(),
        nics: added.iter().map(|n| ecs_driver::VmNic { id: n.port_id.clone(), mac: n.mac.clone() }).collect(),
    };
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        attach_nics: added
            .iter()
            .map(|n| NicRef { server_id: server_id.to_string(), port_id: n.port_id.clone() })
            .collect(),
        update_servers: vec![s],
        ..Default::default()
    };
    begin(app, b).await?;
    // The addresses the store gave, as written with the job.
    let written = app.ctx.store.server_only(&caller.project_id, server_id).await.map_err(internal)?;
    let recorded = added
        .iter()
        .map(|n| written.as_ref().and_then(|w| w.nic(&n.port_id)).cloned().unwrap_or_else(|| n.clone()))
        .collect();
    Ok((job.id, recorded))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics`: returns the job id.
pub async fn add(app: &App, caller: &Caller, server_id: &str, body: AddNicsBody) -> Result<String, Error> {
    let wanted = wanted_of(body)?;
    Ok(start_add(app, caller, server_id, &wanted).await?.0)
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/nics/delete`: returns the job id.
pub async fn delete(app: &App, caller: &Caller, server_id: &str, body: DeleteNicsBody) -> Result<String, Error> {
    let asked = body.nics.filter(|n| !n.is_empty()).ok_or_else(|| Error::invalid("nics is required."))?;
    let mut ids: Vec<String> = Vec::with_capacity(asked.len());
    for (i, n) in asked.into_iter().enumerate() {
        let id = n.id.filter(|x| !x.is_empty()).ok_or_else(|| Error::invalid(format!("nics[{i}].id is required.")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::nic_change_allowed(&row.server)?;
    let s = &row.server;
    let mut gone = Vec::with_capacity(ids.len());
    for id in &ids {
        if *id == s.network.port_id {
            // Huawei answers the primary NIC with a 403 (the code is inferred).
            return Err(Error::new(
                Code::Ecs0003,
                format!("NIC {id} is the primary NIC of server {}: the primary NIC cannot be deleted.", s.id),
            ));
        }
        let nic = s
            .extra_nics
            .iter()
            .find(|n| &n.port_id == id)
            .ok_or_else(|| Error::invalid(format!("NIC {id} is not a NIC of server {}.", s.id)))?;
        gone.push(ecs_driver::VmNic { id: nic.port_id.clone(), mac: nic.mac.clone() });
    }
    let now = now_ms();
    let mut s = s.clone();
    s.task_state = Some(TaskState::DetachingInterface);
    s.updated_ms = now;
    let job = Job::new(&caller.project_id, job_type::DELETE_NICS, None, Some(server_id), now);
    let params =
        delete_nics::Params { project_id: caller.project_id.clone(), server_id: server_id.to_string(), nics: gone };
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        update_servers: vec![s],
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(job.id)
}

/// An ECS-coded refusal in Nova's shapes: missing server `itemNotFound`, a server that cannot
/// take it now `conflictingRequest` (Nova's 409 for an instance in the wrong state), anything
/// else `badRequest`.
fn nova_error(e: Error) -> Error {
    match e.code {
        Code::Ecs0114 => Error::new(Code::NovaNotFound, e.message),
        Code::Ecs0100 | Code::Ecs0605 => Error::new(Code::NovaConflict, e.message),
        Code::Ecs0005 | Code::Ecs0003 => Error::new(Code::NovaBadRequest, e.message),
        _ => e,
    }
}

/// Nova `POST /v2.1/{project_id}/servers/{server_id}/os-interface`: one NIC on `net_id` (the
/// subnet), answered at once with the port; the plug itself is the job's (`batchAddServerNics`).
pub async fn nova_attach(
    app: &App,
    caller: &Caller,
    server_id: &str,
    body: NovaAttachBody,
) -> Result<NovaAttached, Error> {
    let bad = |m: String| Error::new(Code::NovaBadRequest, m);
    let o = body.interface_attachment.ok_or_else(|| bad("interfaceAttachment is required.".into()))?;
    if o.port_id.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(bad("port_id is not supported: every port here is a server's own; give net_id.".into()));
    }
    let net = o.net_id.filter(|n| !n.is_empty()).ok_or_else(|| bad("net_id is required.".into()))?;
    let fixed = o.fixed_ips.unwrap_or_default();
    if fixed.len() > 1 {
        return Err(bad("fixed_ips takes at most one address.".into()));
    }
    let ip = fixed.into_iter().next().and_then(|f| f.ip_address).filter(|a| !a.is_empty());
    if let Some(ip) = &ip {
        check_ip(ip).map_err(nova_error)?;
    }
    if !ecs_model::ids::is_uuid(server_id) {
        return Err(Error::new(Code::NovaNotFound, format!("Instance {server_id} could not be found.")));
    }
    let wanted = [WantedNic { subnet_id: net, ip, security_groups: vec![] }];
    let (_, nics) = start_add(app, caller, server_id, &wanted).await.map_err(nova_error)?;
    let n = nics.into_iter().next().ok_or_else(|| Error::internal("the attached NIC was not recorded"))?;
    let subnets = super::ports::subnets(app, caller).await?;
    let server = app.ctx.store.server_only(&caller.project_id, server_id).await.map_err(internal)?;
    let running = server.is_some_and(|s| s.vm_state == VmState::Active);
    let i = super::ports::interface_of(&n, running, &subnets);
    Ok(NovaAttached {
        interface_attachment: NovaInterfaceDetail {
            fixed_ips: i.fixed_ips,
            mac_addr: i.mac_addr,
            net_id: i.net_id,
            port_id: i.port_id,
            port_state: i.port_state,
        },
    })
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-interface_extension`: how many more NICs
/// (and data disks) the server can take, and its NICs.
pub async fn attachable(app: &App, caller: &Caller, server_id: &str) -> Result<AttachableNics, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let disks = super::volumes::block_devices(app, caller, server_id).await?.attachable_quantity;
    let subnets = super::ports::subnets(app, caller).await?;
    let s = &row.server;
    let running = s.vm_state == VmState::Active;
    Ok(AttachableNics {
        attachable_quantity: AttachableNicQuantity {
            free_nic: (MAX_ADDED_NICS.saturating_sub(s.extra_nics.len())) as i64,
            free_efi_nic: 0,
            free_scsi: disks.free_scsi,
            free_blk: disks.free_blk,
            free_disk: disks.free_disk,
        },
        interface_attachments: s.nics().map(|n| super::ports::interface_of(n, running, &subnets)).collect(),
    })
}

/// `PUT /v1/{project_id}/cloudservers/nics/{nic_id}`: associates a virtual IP with a NIC (an
/// address of the NIC's subnet, added to its port's allowed address pairs), or, with an empty
/// `subnet_id` and `ip_address`, disassociates the NIC's virtual IPs (the pairs that are single
/// addresses of its subnet). The address is not reserved in the subnet (inferred: Huawei's
/// virtual IP is a port of its own, which ecsd does not model).
pub async fn virtual_ip(
    app: &App,
    caller: &Caller,
    nic_id: &str,
    body: VirtualIpBody,
) -> Result<VirtualIpAnswer, Error> {
    let o = body.nic.ok_or_else(|| Error::invalid("nic is required."))?;
    let subnet_id = o.subnet_id.unwrap_or_default();
    let ip = o.ip_address.unwrap_or_default();
    let missing = || Error::invalid(format!("NIC {nic_id} does not exist."));
    if !ecs_model::ids::is_uuid(nic_id) {
        return Err(missing());
    }
    let mut port = app.ctx.store.port_get(&caller.project_id, nic_id).await.map_err(internal)?.ok_or_else(missing)?;
    let server =
        app.ctx.store.server_only(&caller.project_id, &port.server_id).await.map_err(internal)?.ok_or_else(missing)?;
    gates::update_allowed(&server)?;
    let nic = server.nic(nic_id).ok_or_else(missing)?.clone();
    let subnets = super::ports::subnets(app, caller).await?;
    let cidr = subnets.iter().find(|n| n.id == nic.subnet_id).map(|n| n.cidr.clone()).unwrap_or_default();
    match (subnet_id.is_empty(), ip.is_empty()) {
        (true, true) => {
            port.allowed_address_pairs.retain(|a| ecs_model::network::host_index(&cidr, &a.ip_address).is_none());
        }
        (false, false) => {
            if subnet_id != nic.subnet_id {
                return Err(Error::invalid(format!("subnet_id {subnet_id} is not the subnet of NIC {nic_id}.")));
            }
            check_ip(&ip)?;
            if ecs_model::network::host_index(&cidr, &ip).is_none() {
                return Err(Error::invalid(format!(
                    "ip_address {ip} is not an assignable address of subnet {subnet_id} ({cidr})."
                )));
            }
            if server.nics().any(|n| n.ip == ip) {
                return Err(Error::invalid(format!("ip_address {ip} is an address of the server's NICs.")));
            }
            if !port.allowed_address_pairs.iter().any(|a| a.ip_address == ip) {
                port.allowed_address_pairs.push(ecs_model::port::AddressPair { ip_address: ip, mac_address: None });
            }
        }
        _ => {
            return Err(Error::invalid(
                "subnet_id and ip_address are both required to associate, and both empty to disassociate.",
            ))
        }
    }
    app.ctx.store.port_update(port).await.map_err(|e| match e {
        ecs_store::StoreError::NotFound(_) => missing(),
        e => internal(e),
    })?;
    Ok(VirtualIpAnswer { port_id: nic_id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_of_added_nics_come_from_their_port_and_stay_in_the_openstack_range() {
        assert_eq!(mac_for_port("0a1B2c3d-0000-4000-8000-000000000000"), "fa:16:3e:0a:1b:2c");
        assert_ne!(mac_for_port(&ecs_model::new_uuid()), mac_for_port("ffffff00-0000-4000-8000-000000000000"));
    }

    #[test]
    fn a_batch_add_needs_subnets_and_refuses_what_is_not_offered() {
        let parse = |v: serde_json::Value| wanted_of(serde_json::from_value(v).unwrap()).map_err(|e| e.message);
        assert!(parse(serde_json::json!({"nics": []})).unwrap_err().contains("nics is required"));
        assert!(parse(serde_json::json!({"nics": [{}]})).unwrap_err().contains("subnet_id is required"));
        assert!(parse(serde_json::json!({"nics": [{"port_id": "x"}]})).unwrap_err().contains("port_id"));
        assert!(parse(serde_json::json!({"nics": [{"subnet_id": "s", "ipv6_enable": true}]})).is_err());
        assert!(parse(serde_json::json!({"nics": [{"subnet_id": "s", "ip_address": "nope"}]})).is_err());
        let ok = parse(serde_json::json!({"nics": [{"subnet_id": "s", "ip_address": "192.168.0.9",
            "security_groups": [{"id": "g"}]}]}))
        .unwrap();
        assert_eq!((ok[0].ip.as_deref(), ok[0].security_groups.len()), (Some("192.168.0.9"), 1));
    }
}
