//! VPCs, subnets and private IP allocation.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// A VPC of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub cidr: String,
    pub created_ms: i64,
}

/// A subnet of a VPC; servers get their private address from its CIDR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub project_id: String,
    pub vpc_id: String,
    pub name: String,
    pub cidr: String,
    pub gateway_ip: String,
    pub availability_zone: String,
    pub neutron_network_id: String,
    pub neutron_subnet_id: String,
    pub created_ms: i64,
}

/// The availability zone ecsd reports.
pub const DEFAULT_AZ: &str = "az1";
/// The default VPC's CIDR (a /16 gives room for 65k servers per project).
pub const DEFAULT_CIDR: &str = "192.168.0.0/16";

/// A project's default VPC and subnet, made on its first request: new ids, [`DEFAULT_CIDR`],
/// its gateway, [`DEFAULT_AZ`].
pub fn default_network(project_id: &str, now_ms: i64) -> (Vpc, Subnet) {
    let vpc = Vpc {
        id: crate::new_uuid(),
        project_id: project_id.to_string(),
        name: "vpc-default".into(),
        cidr: DEFAULT_CIDR.into(),
        created_ms: now_ms,
    };
    let subnet = Subnet {
        id: crate::new_uuid(),
        project_id: project_id.to_string(),
        vpc_id: vpc.id.clone(),
        name: "subnet-default".into(),
        cidr: DEFAULT_CIDR.into(),
        gateway_ip: gateway(DEFAULT_CIDR).map(|g| g.to_string()).unwrap_or_default(),
        availability_zone: DEFAULT_AZ.into(),
        neutron_network_id: crate::new_uuid(),
        neutron_subnet_id: crate::new_uuid(),
        created_ms: now_ms,
    };
    (vpc, subnet)
}

/// Parses `a.b.c.d/n`.
pub fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    if len > 30 {
        return None;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(addr) & mask, len))
}

/// The `n`-th assignable host address of a subnet, skipping the network address, the gateway
/// (`.1`) and the broadcast address, as Huawei reserves them. `None` past the end.
pub fn host_address(cidr: &str, n: u32) -> Option<Ipv4Addr> {
    let (base, len) = parse_cidr(cidr)?;
    let size = 1u64 << (32 - len);
    // .0 network, .1 gateway, last = broadcast
    let first = 2u64;
    let idx = first + n as u64;
    if idx >= size - 1 {
        return None;
    }
    Some(Ipv4Addr::from(base + idx as u32))
}

/// The position of `ip` among a subnet's assignable addresses: the inverse of
/// [`host_address`]. `None` when the address is outside the subnet or reserved.
pub fn host_index(cidr: &str, ip: &str) -> Option<u32> {
    let (base, _) = parse_cidr(cidr)?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let n = u32::from(ip).checked_sub(base)?.checked_sub(2)?;
    (host_address(cidr, n) == Some(ip)).then_some(n)
}

/// The gateway (`.1`) of a subnet.
pub fn gateway(cidr: &str) -> Option<Ipv4Addr> {
    let (base, _) = parse_cidr(cidr)?;
    Some(Ipv4Addr::from(base + 1))
}

/// A MAC address in OpenStack's `fa:16:3e` range, derived from a host index so that it is
/// unique within a subnet.
pub fn mac_for(n: u32) -> String {
    format!("fa:16:3e:{:02x}:{:02x}:{:02x}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_skip_reserved_ones() {
        assert_eq!(host_address("192.168.0.0/24", 0), Some(Ipv4Addr::new(192, 168, 0, 2)));
        assert_eq!(host_address("192.168.0.0/24", 252), Some(Ipv4Addr::new(192, 168, 0, 254)));
        assert_eq!(host_address("192.168.0.0/24", 253), None);
        assert_eq!(host_address("192.168.0.0/16", 300), Some(Ipv4Addr::new(192, 168, 1, 46)));
        assert_eq!(gateway("10.1.2.0/24"), Some(Ipv4Addr::new(10, 1, 2, 1)));
        assert_eq!(parse_cidr("bad"), None);
        assert_eq!(host_index("192.168.0.0/16", "192.168.1.46"), Some(300));
        assert_eq!(host_index("192.168.0.0/24", "192.168.0.2"), Some(0));
        // network, gateway, broadcast and outside addresses have no position
        for ip in ["192.168.0.0", "192.168.0.1", "192.168.0.255", "10.0.0.2", "not an ip"] {
            assert_eq!(host_index("192.168.0.0/24", ip), None, "{ip}");
        }
    }

    #[test]
    fn macs_are_distinct_per_index() {
        assert_eq!(mac_for(1), "fa:16:3e:00:00:01");
        assert_ne!(mac_for(256), mac_for(1));
    }
}
