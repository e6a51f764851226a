//! Ports (VPC API v1) and server interfaces. A port is its server's NIC: the address, MAC and
//! subnet come from the server, its security groups are the server's, and the rest (name,
//! allowed address pairs, DHCP options) is the port row's.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::network::Subnet;
use ecs_model::port::{AddressPair, DhcpOpt, Port};
use ecs_model::server::{Server, ServerNic};
use ecs_model::state::VmState;
use ecs_model::Error;
use ecs_store::StoreError;
use ecs_types::ports::*;
use ecs_types::Code;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::Vpc2500, message)
}

fn missing(id: &str) -> Error {
    Error::new(Code::Vpc2501, format!("Port {id} does not exist."))
}

/// A port and the server it belongs to; a port whose server is gone is gone too.
async fn port_of(app: &App, caller: &Caller, id: &str) -> Result<(Port, Server), Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(missing(id));
    }
    let port = app.ctx.store.port_get(&caller.project_id, id).await.map_err(internal)?.ok_or_else(|| missing(id))?;
    let server = app
        .ctx
        .store
        .server_only(&caller.project_id, &port.server_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| missing(id))?;
    Ok((port, server))
}

pub(crate) async fn subnets(app: &App, caller: &Caller) -> Result<Vec<Subnet>, Error> {
    app.ctx.store.subnet_list(&caller.project_id).await.map_err(internal)
}

/// The wire view of a port.
pub fn view(p: &Port, s: &Server, subnets: &[Subnet]) -> PortView {
    // The server's NIC this port is (the primary one for a port the server does not list,
    // which only a port written by an older release could be).
    let nic = s.nic(&p.id).unwrap_or(&s.network);
    let primary = nic.port_id == s.network.port_id;
    let subnet = subnets.iter().find(|n| n.id == nic.subnet_id);
    let neutron_subnet = subnet.map(|n| n.neutron_subnet_id.clone()).unwrap_or_default();
    PortView {
        id: p.id.clone(),
        name: p.name.clone(),
        network_id: nic.subnet_id.clone(),
        admin_state_up: true,
        mac_address: nic.mac.clone(),
        fixed_ips: vec![FixedIp { subnet_id: neutron_subnet, ip_address: nic.ip.clone() }],
        device_id: s.id.clone(),
        device_owner: format!("compute:{}", s.availability_zone),
        tenant_id: s.project_id.clone(),
        status: if s.vm_state == VmState::Active { "ACTIVE" } else { "DOWN" }.to_string(),
        security_groups: s.security_groups.clone(),
        allowed_address_pairs: p
            .allowed_address_pairs
            .iter()
            .map(|a| AddressPairView {
                ip_address: a.ip_address.clone(),
                mac_address: a.mac_address.clone().unwrap_or_else(|| nic.mac.clone()),
            })
            .collect(),
        extra_dhcp_opts: p
            .extra_dhcp_opts
            .iter()
            .map(|o| DhcpOptView { opt_name: o.opt_name.clone(), opt_value: o.opt_value.clone() })
            .collect(),
        binding_vnic_type: "normal".into(),
        binding_host_id: "ecsd".into(),
        binding_profile: Default::default(),
        binding_vif_details: VifDetails { primary_interface: primary, port_filter: true, ovs_hybrid_plug: false },
        dns_name: s.hostname.clone(),
        dns_assignment: vec![DnsAssignment {
            hostname: s.hostname.clone(),
            ip_address: nic.ip.clone(),
            fqdn: format!("{}.{}.compute.internal.", s.hostname, s.availability_zone),
        }],
        instance_id: s.id.clone(),
        instance_type: "ecs".into(),
        port_security_enabled: true,
        zone_id: s.availability_zone.clone(),
        enable_efi: false,
        ipv6_bandwidth_id: String::new(),
    }
}

/// `GET /v1/{project_id}/ports/{port_id}`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<PortEnvelope, Error> {
    let (p, s) = port_of(app, caller, id).await?;
    Ok(PortEnvelope { port: view(&p, &s, &subnets(app, caller).await?) })
}

/// `GET /v1/{project_id}/ports`: every filter must match; `fixed_ips` may be repeated.
pub async fn list(app: &App, caller: &Caller, pairs: &[(String, String)]) -> Result<PortList, Error> {
    let q: PortListQuery = super::query::typed(pairs).map_err(|e| invalid(e.message))?;
    let mut fixed: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs.iter().filter(|(k, _)| k == "fixed_ips") {
        let (key, value) = v
            .split_once('=')
            .ok_or_else(|| invalid(format!("fixed_ips {v:?} is invalid: ip_address=<ip> or subnet_id=<id>.")))?;
        if key != "ip_address" && key != "subnet_id" {
            return Err(invalid(format!("{k} {v:?} is invalid: ip_address=<ip> or subnet_id=<id>.")));
        }
        fixed.push((key.to_string(), value.to_string()));
    }
    let subnets = subnets(app, caller).await?;
    let ports = app.ctx.store.port_list(&caller.project_id).await.map_err(internal)?;
    let mut out = Vec::new();
    for p in &ports {
        let Some(s) = app.ctx.store.server_only(&caller.project_id, &p.server_id).await.map_err(internal)? else {
            continue;
        };
        out.push(view(p, &s, &subnets));
    }
    let eq = |want: &Option<String>, v: &str| want.as_deref().is_none_or(|w| w.is_empty() || w == v);
    out.retain(|v| {
        eq(&q.id, &v.id)
            && eq(&q.name, &v.name)
            && eq(&q.network_id, &v.network_id)
            && eq(&q.mac_address, &v.mac_address)
            && eq(&q.device_id, &v.device_id)
            && eq(&q.device_owner, &v.device_owner)
            && eq(&q.status, &v.status)
            && eq(&q.admin_state_up, &v.admin_state_up.to_string())
            && q.security_groups.as_deref().is_none_or(|g| g.is_empty() || v.security_groups.iter().any(|x| x == g))
            && fixed.iter().all(|(k, want)| {
                v.fixed_ips.iter().any(|f| if k == "ip_address" { &f.ip_address == want } else { &f.subnet_id == want })
            })
    });
    if let Some(m) = q.marker.as_deref().filter(|m| !m.is_empty()) {
        let pos = out.iter().position(|v| v.id == m).ok_or_else(|| invalid(format!("marker [{m}] is invalid.")))?;
        out.drain(..=pos);
    }
    if let Some(l) = q.limit.filter(|l| *l > 0) {
        out.truncate(usize::try_from(l).unwrap_or(usize::MAX));
    }
    Ok(PortList { ports: out })
}

/// Whether `s` is an IPv4 or IPv6 address or CIDR.
fn is_ip_or_cidr(s: &str) -> bool {
    let (addr, len) = s.split_once('/').map_or((s, None), |(a, l)| (a, Some(l)));
    match addr.parse::<std::net::IpAddr>() {
        Ok(ip) => len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= if ip.is_ipv6() { 128 } else { 32 })),
        Err(_) => false,
    }
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `PUT /v1/{project_id}/ports/{port_id}`.
pub async fn update(app: &App, caller: &Caller, id: &str, body: UpdatePortBody) -> Result<PortEnvelope, Error> {
    let u = body.port.ok_or_else(|| invalid("request body is illegal: port is required."))?;
    if let Some(n) = &u.name {
        if n.chars().count() > 255 {
            return Err(invalid("name is at most 255 characters."));
        }
    }
    let pairs = match &u.allowed_address_pairs {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for a in list {
                let ip = a
                    .ip_address
                    .as_deref()
                    .ok_or_else(|| invalid("allowed_address_pairs[].ip_address is required."))?;
                // The SDK's documentation: 0.0.0.0/0 is not accepted (1.1.1.1/0, which
                // Terraform sends to turn off the source/destination check, is).
                if !is_ip_or_cidr(ip) || ip == "0.0.0.0/0" {
                    return Err(invalid(format!("allowed_address_pairs ip_address {ip:?} is invalid.")));
                }
                if let Some(m) = &a.mac_address {
                    if !is_mac(m) {
                        return Err(invalid(format!("allowed_address_pairs mac_address {m:?} is invalid.")));
                    }
                }
                out.push(AddressPair { ip_address: ip.to_string(), mac_address: a.mac_address.clone() });
            }
            Some(out)
        }
    };
    let opts = match &u.extra_dhcp_opts {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for o in list {
                let (Some(n), Some(v)) = (&o.opt_name, &o.opt_value) else {
                    return Err(invalid("extra_dhcp_opts[] needs opt_name and opt_value."));
                };
                out.push(DhcpOpt { opt_name: n.clone(), opt_value: v.clone() });
            }
            Some(out)
        }
    };
    let (mut port, server) = port_of(app, caller, id).await?;
    if let Some(groups) = &u.security_groups {
        for g in groups {
            let found = ecs_model::ids::is_uuid(g)
                && app.ctx.store.security_group_get(&caller.project_id, g).await.map_err(internal)?.is_some();
            if !found {
                return Err(invalid(format!("security group {g} does not exist.")));
            }
        }
        set_groups(app, caller, &server.id, groups).await?;
    }
    if let Some(n) = u.name {
        port.name = n;
    }
    if let Some(p) = pairs {
        port.allowed_address_pairs = p;
    }
    if let Some(o) = opts {
        port.extra_dhcp_opts = o;
    }
    app.ctx.store.port_update(port).await.map_err(|e| match e {
        StoreError::NotFound(_) => missing(id),
        e => internal(e),
    })?;
    show(app, caller, id).await
}

/// Replaces a server's security groups (compare-and-swap, tried again if another request
/// changed the server meanwhile).
async fn set_groups(app: &App, caller: &Caller, server_id: &str, groups: &[String]) -> Result<(), Error> {
    let mut wanted: Vec<String> = Vec::new();
    for g in groups {
        if !wanted.contains(g) {
            wanted.push(g.clone());
        }
    }
    for _ in 0..3 {
        let Some(mut s) = app.ctx.store.server_only(&caller.project_id, server_id).await.map_err(internal)? else {
            return Err(Error::new(Code::Vpc2501, "The port's server was deleted meanwhile."));
        };
        s.security_groups = wanted.clone();
        s.updated_ms = ecs_model::timefmt::now_ms();
        match app.ctx.store.server_update_security_groups(s).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(StoreError::NotFound(g)) => return Err(invalid(format!("{g} was deleted meanwhile."))),
            Err(e) => return Err(internal(e)),
        }
    }
    Err(invalid("other requests kept changing the port's server; try again."))
}

/// A server's interfaces (ECS and Nova `os-interface`); `nova` picks the Nova not-found shape.
pub async fn interfaces(
    app: &App,
    caller: &Caller,
    server_id: &str,
    nova: bool,
) -> Result<Vec<InterfaceAttachment>, Error> {
    let not_found = || {
        if nova {
            Error::new(Code::NovaNotFound, format!("Instance {server_id} could not be found."))
        } else {
            Error::server_not_found(server_id)
        }
    };
    if !ecs_model::ids::is_uuid(server_id) {
        return Err(not_found());
    }
    let s = app.ctx.store.server_only(&caller.project_id, server_id).await.map_err(internal)?.ok_or_else(not_found)?;
    let subnets = subnets(app, caller).await?;
    let running = s.vm_state == VmState::Active;
    Ok(s.nics().map(|n| interface_of(n, running, &subnets)).collect())
}

/// One NIC of a server as an interface attachment (`running`: whether its server runs).
pub fn interface_of(n: &ServerNic, running: bool, subnets: &[Subnet]) -> InterfaceAttachment {
    let subnet = subnets.iter().find(|x| x.id == n.subnet_id);
    InterfaceAttachment {
        port_state: if running { "ACTIVE" } else { "DOWN" }.to_string(),
        fixed_ips: vec![FixedIp {
            subnet_id: subnet.map(|x| x.neutron_subnet_id.clone()).unwrap_or_default(),
            ip_address: n.ip.clone(),
        }],
        net_id: n.subnet_id.clone(),
        port_id: n.port_id.clone(),
        mac_addr: n.mac.clone(),
        delete_on_termination: true,
    }
}
