//! Security groups and their rules, as ecsd keeps them (the wire form is in
//! `ecs_types::security_groups`).

use serde::{Deserialize, Serialize};

/// The name of the group every project gets with its default network.
pub const DEFAULT_NAME: &str = "default";

/// A security group of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub project_id: String,
    /// Empty when the group was created without one (the VPC API allows it).
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub enterprise_project_id: String,
    pub created_ms: i64,
}

/// One rule of a security group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    pub id: String,
    pub project_id: String,
    pub security_group_id: String,
    /// `ingress` or `egress`.
    pub direction: String,
    /// `IPv4` or `IPv6`.
    pub ethertype: String,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number; `None` is any protocol.
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub description: String,
    pub created_ms: i64,
}

impl SecurityGroupRule {
    /// A rule with no protocol, ports or remote: everything in `direction` for `ethertype`.
    fn open(project_id: &str, group_id: &str, direction: &str, ethertype: &str, now: i64) -> Self {
        SecurityGroupRule {
            id: crate::new_uuid(),
            project_id: project_id.to_string(),
            security_group_id: group_id.to_string(),
            direction: direction.to_string(),
            ethertype: ethertype.to_string(),
            protocol: None,
            port_range_min: None,
            port_range_max: None,
            remote_ip_prefix: None,
            remote_group_id: None,
            description: String::new(),
            created_ms: now,
        }
    }

    /// Whether two rules allow the same traffic (ids, descriptions and times aside): the
    /// VPC API refuses a rule that repeats one the group has.
    pub fn same_traffic(&self, other: &SecurityGroupRule) -> bool {
        self.direction == other.direction
            && self.ethertype.eq_ignore_ascii_case(&other.ethertype)
            && self.protocol == other.protocol
            && self.port_range_min == other.port_range_min
            && self.port_range_max == other.port_range_max
            && self.remote_ip_prefix == other.remote_ip_prefix
            && self.remote_group_id == other.remote_group_id
    }
}

/// The rules a group created through the API starts with: all outbound traffic, IPv4 and
/// IPv6, and nothing inbound (Neutron's and Huawei's behaviour).
pub fn egress_rules(project_id: &str, group_id: &str, now: i64) -> Vec<SecurityGroupRule> {
    ["IPv4", "IPv6"].iter().map(|e| SecurityGroupRule::open(project_id, group_id, "egress", e, now)).collect()
}

/// The rules of a project's default group: all outbound traffic, and inbound traffic from
/// members of the group itself, for IPv4 and IPv6.
pub fn default_rules(project_id: &str, group_id: &str, now: i64) -> Vec<SecurityGroupRule> {
    let mut rules = egress_rules(project_id, group_id, now);
    for e in ["IPv4", "IPv6"] {
        let mut r = SecurityGroupRule::open(project_id, group_id, "ingress", e, now);
        r.remote_group_id = Some(group_id.to_string());
        rules.push(r);
    }
    rules
}

/// A project's default group, in `vpc_id`.
pub fn default_group(project_id: &str, vpc_id: &str, now: i64) -> SecurityGroup {
    SecurityGroup {
        id: crate::new_uuid(),
        project_id: project_id.to_string(),
        vpc_id: vpc_id.to_string(),
        name: DEFAULT_NAME.to_string(),
        description: "Default security group".to_string(),
        enterprise_project_id: "0".to_string(),
        created_ms: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_group_admits_its_members_and_lets_everything_out() {
        let rules = default_rules("p", "g", 1);
        assert_eq!(rules.len(), 4);
        assert_eq!(rules.iter().filter(|r| r.direction == "egress" && r.remote_group_id.is_none()).count(), 2);
        assert!(rules.iter().filter(|r| r.direction == "ingress").all(|r| r.remote_group_id.as_deref() == Some("g")));
        assert!(!rules[0].same_traffic(&rules[1]), "IPv4 and IPv6 rules differ");
        assert!(rules[0].same_traffic(&egress_rules("p", "g", 2)[0]));
    }
}
