//! The rules a security-group rule must follow (Huawei's VPC API reference): checked before
//! anything is written, each refusal `VPC.0601` naming the field.

use ecs_model::security_group::SecurityGroupRule;
use ecs_model::Error;
use ecs_types::security_groups::CreateSecurityGroupRule;
use ecs_types::Code;
use std::net::IpAddr;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Code::Vpc0601, message)
}

/// Whether `s` is an address or CIDR of the given family (`IPv4` or `IPv6`).
fn cidr_of_family(s: &str, v6: bool) -> bool {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else { return false };
    let max = if ip.is_ipv6() { 128 } else { 32 };
    let len_ok = len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= max));
    len_ok && ip.is_ipv6() == v6
}

/// The rule a create request describes, or why it may not be made.
pub fn checked(project_id: &str, group_id: &str, r: &CreateSecurityGroupRule) -> Result<SecurityGroupRule, Error> {
    let direction = r.direction.as_deref().ok_or_else(|| invalid("direction is required (ingress or egress)."))?;
    if direction != "ingress" && direction != "egress" {
        return Err(invalid(format!("direction {direction:?} is invalid: ingress or egress.")));
    }
    let ethertype = r.ethertype.as_deref().unwrap_or("IPv4");
    let v6 = match ethertype {
        "IPv4" => false,
        "IPv6" => true,
        e => return Err(invalid(format!("ethertype {e:?} is invalid: IPv4 or IPv6."))),
    };
    let protocol = r.protocol.as_deref().filter(|p| !p.is_empty()).map(str::to_ascii_lowercase);
    if let Some(p) = &protocol {
        let known = matches!(p.as_str(), "tcp" | "udp" | "icmp" | "icmpv6");
        if !known && p.parse::<u8>().is_err() {
            return Err(invalid(format!("protocol {p:?} is invalid: tcp, udp, icmp, icmpv6 or a number 0-255.")));
        }
    }
    let (min, max) = (r.port_range_min, r.port_range_max);
    match protocol.as_deref() {
        Some("tcp" | "udp") => {
            if min.is_some() != max.is_some() {
                return Err(invalid("port_range_min and port_range_max are given together for tcp and udp."));
            }
            if let (Some(lo), Some(hi)) = (min, max) {
                if !(1..=65535).contains(&lo) || !(1..=65535).contains(&hi) || lo > hi {
                    return Err(invalid(format!(
                        "port range {lo}-{hi} is invalid: 1-65535, port_range_min not above port_range_max."
                    )));
                }
            }
        }
        // For ICMP the two fields are the type and the code.
        Some("icmp" | "icmpv6") => {
            if min.is_some_and(|t| !(0..=255).contains(&t)) || max.is_some_and(|c| !(0..=255).contains(&c)) {
                return Err(invalid("for icmp, port_range_min (the type) and port_range_max (the code) are 0-255."));
            }
        }
        _ => {
            if min.is_some() || max.is_some() {
                return Err(invalid("port_range_min and port_range_max need protocol tcp, udp or icmp."));
            }
        }
    }
    let prefix = r.remote_ip_prefix.as_deref().filter(|p| !p.is_empty());
    let remote_group = r.remote_group_id.as_deref().filter(|g| !g.is_empty());
    if prefix.is_some() && remote_group.is_some() {
        return Err(invalid("remote_ip_prefix and remote_group_id cannot both be given."));
    }
    if r.remote_address_group_id.as_deref().is_some_and(|a| !a.is_empty()) {
        return Err(invalid("remote_address_group_id is not supported: IP address groups do not exist here."));
    }
    if let Some(p) = prefix {
        if !cidr_of_family(p, v6) {
            return Err(invalid(format!("remote_ip_prefix {p:?} is not an {ethertype} address or CIDR.")));
        }
    }
    if let Some(g) = remote_group {
        if !ecs_model::ids::is_uuid(g) {
            return Err(invalid(format!("remote_group_id {g:?} is not a security group id.")));
        }
    }
    let description = r.description.clone().unwrap_or_default();
    if description.chars().count() > 255 || description.contains(['<', '>']) {
        return Err(invalid("description is at most 255 characters, without '<' or '>'."));
    }
    Ok(SecurityGroupRule {
        id: ecs_model::new_uuid(),
        project_id: project_id.to_string(),
        security_group_id: group_id.to_string(),
        direction: direction.to_string(),
        ethertype: ethertype.to_string(),
        protocol,
        port_range_min: min,
        port_range_max: max,
        remote_ip_prefix: prefix.map(str::to_string),
        remote_group_id: remote_group.map(str::to_string),
        description,
        created_ms: ecs_model::timefmt::now_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(f: impl FnOnce(&mut CreateSecurityGroupRule)) -> Result<SecurityGroupRule, Error> {
        let mut r = CreateSecurityGroupRule {
            security_group_id: Some("g".into()),
            description: None,
            direction: Some("ingress".into()),
            ethertype: None,
            protocol: Some("tcp".into()),
            port_range_min: Some(22),
            port_range_max: Some(22),
            remote_ip_prefix: Some("0.0.0.0/0".into()),
            remote_group_id: None,
            remote_address_group_id: None,
        };
        f(&mut r);
        checked("p", "g", &r)
    }

    #[test]
    fn a_plain_ssh_rule_is_accepted_as_ipv4() {
        let r = rule(|_| {}).unwrap();
        assert_eq!((r.ethertype.as_str(), r.protocol.as_deref(), r.port_range_min), ("IPv4", Some("tcp"), Some(22)));
    }

    #[test]
    fn each_broken_field_is_refused_with_vpc_0601() {
        type Change = Box<dyn FnOnce(&mut CreateSecurityGroupRule)>;
        let cases: Vec<Change> = vec![
            Box::new(|r| r.direction = None),
            Box::new(|r| r.direction = Some("in".into())),
            Box::new(|r| r.ethertype = Some("ipv5".into())),
            Box::new(|r| r.protocol = Some("sctp-ish".into())),
            Box::new(|r| r.port_range_min = Some(0)),
            Box::new(|r| r.port_range_max = Some(10)),
            Box::new(|r| r.port_range_max = None),
            Box::new(|r| r.protocol = None),
            Box::new(|r| r.remote_ip_prefix = Some("::/0".into())),
            Box::new(|r| r.remote_ip_prefix = Some("10.0.0.0/33".into())),
            Box::new(|r| r.remote_group_id = Some(ecs_model::new_uuid())),
            Box::new(|r| r.description = Some("<script>".into())),
        ];
        for (i, f) in cases.into_iter().enumerate() {
            let e = rule(f).expect_err(&format!("case {i} was accepted"));
            assert_eq!(e.code, Code::Vpc0601, "case {i}: {}", e.message);
        }
    }

    #[test]
    fn icmp_takes_a_type_and_code_and_ipv6_an_ipv6_prefix() {
        let r = rule(|r| {
            r.protocol = Some("icmp".into());
            r.port_range_min = Some(8);
            r.port_range_max = Some(0);
        });
        assert!(r.is_ok());
        let r = rule(|r| {
            r.ethertype = Some("IPv6".into());
            r.remote_ip_prefix = Some("::/0".into());
        });
        assert!(r.is_ok());
    }
}
