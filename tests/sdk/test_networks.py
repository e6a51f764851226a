"""Ports, security groups and rules through the official VPC SDK, and a server's groups
through the ECS SDK's Nova operations."""

import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkvpc.v2 as vpc_v2

from conftest import expect_api_error, show_server, unique

MISSING = "00000000-0000-4000-8000-000000000000"


def _group(vpc, name):
    body = vpc_v2.CreateSecurityGroupRequestBody(security_group=vpc_v2.CreateSecurityGroupOption(name=name))
    return vpc.create_security_group(vpc_v2.CreateSecurityGroupRequest(body=body)).security_group


def _port_id(server):
    addr = next(iter(server.addresses.values()))[0]
    return addr.os_ext_ip_sport_id


def test_a_servers_port_resolves_and_lists_by_device(ecs, vpc, factory, network):
    sid = factory.server()
    server = show_server(ecs, sid)
    port = vpc.show_port(vpc_v2.ShowPortRequest(port_id=_port_id(server))).port
    assert port.device_id == sid
    assert port.network_id == network.subnet_id
    assert port.status == "ACTIVE" and port.admin_state_up is True
    assert port.security_groups == [g.id for g in server.security_groups]
    listed = vpc.list_ports(vpc_v2.ListPortsRequest(device_id=sid, limit=100)).ports
    assert [p.id for p in listed] == [port.id]
    interfaces = ecs.list_server_interfaces(ecs_v2.ListServerInterfacesRequest(server_id=sid))
    assert interfaces.interface_attachments[0].port_id == port.id
    nova = ecs.nova_show_server_interface(ecs_v2.NovaShowServerInterfaceRequest(server_id=sid, port_id=port.id))
    assert nova.interface_attachment.port_id == port.id
    assert nova.interface_attachment.mac_addr == port.mac_address
    assert nova.interface_attachment.fixed_ips[0].ip_address == port.fixed_ips[0].ip_address
    expect_api_error(
        lambda: ecs.nova_show_server_interface(ecs_v2.NovaShowServerInterfaceRequest(server_id=sid, port_id=MISSING)),
        404, None)
    expect_api_error(lambda: vpc.show_port(vpc_v2.ShowPortRequest(port_id=MISSING)), 404, "VPC.2501")


def test_port_update_allowed_address_pairs_and_its_refusal(ecs, vpc, factory):
    sid = factory.server()
    port_id = _port_id(show_server(ecs, sid))
    opt = vpc_v2.UpdatePortOption(name="eth0",
                                  allowed_address_pairs=[vpc_v2.AllowedAddressPair(ip_address="1.1.1.1/0")])
    req = vpc_v2.UpdatePortRequest(port_id=port_id, body=vpc_v2.UpdatePortRequestBody(port=opt))
    port = vpc.update_port(req).port
    assert port.name == "eth0" and port.allowed_address_pairs[0].ip_address == "1.1.1.1/0"
    bad = vpc_v2.UpdatePortOption(allowed_address_pairs=[vpc_v2.AllowedAddressPair(ip_address="0.0.0.0/0")])
    req = vpc_v2.UpdatePortRequest(port_id=port_id, body=vpc_v2.UpdatePortRequestBody(port=bad))
    expect_api_error(lambda: vpc.update_port(req), 400, "VPC.2500")
    assert vpc.show_port(vpc_v2.ShowPortRequest(port_id=port_id)).port.allowed_address_pairs[0].ip_address == "1.1.1.1/0"


def test_security_groups_and_rules_lifecycle(vpc):
    groups = vpc.list_security_groups(vpc_v2.ListSecurityGroupsRequest()).security_groups
    default = [g for g in groups if g.name == "default"]
    assert len(default) == 1 and len(default[0].security_group_rules) == 4
    name = unique("sg")
    g = _group(vpc, name)
    assert g.name == name and {r.direction for r in g.security_group_rules} == {"egress"}
    rule = vpc_v2.CreateSecurityGroupRuleOption(security_group_id=g.id, direction="ingress", protocol="tcp",
                                                port_range_min=443, port_range_max=443,
                                                remote_ip_prefix="0.0.0.0/0")
    body = vpc_v2.CreateSecurityGroupRuleRequestBody(security_group_rule=rule)
    created = vpc.create_security_group_rule(vpc_v2.CreateSecurityGroupRuleRequest(body=body)).security_group_rule
    assert created.port_range_min == 443 and created.ethertype == "IPv4"
    expect_api_error(lambda: vpc.create_security_group_rule(vpc_v2.CreateSecurityGroupRuleRequest(body=body)),
                     409, "VPC.0604")
    shown = vpc.show_security_group_rule(vpc_v2.ShowSecurityGroupRuleRequest(security_group_rule_id=created.id))
    assert shown.security_group_rule.id == created.id
    vpc.delete_security_group_rule(vpc_v2.DeleteSecurityGroupRuleRequest(security_group_rule_id=created.id))
    vpc.delete_security_group(vpc_v2.DeleteSecurityGroupRequest(security_group_id=g.id))
    expect_api_error(lambda: vpc.show_security_group(vpc_v2.ShowSecurityGroupRequest(security_group_id=g.id)),
                     404, "VPC.0603")
    expect_api_error(
        lambda: vpc.delete_security_group(vpc_v2.DeleteSecurityGroupRequest(security_group_id=default[0].id)),
        409, "VPC.0602")
    bad = vpc_v2.CreateSecurityGroupRequestBody(security_group=vpc_v2.CreateSecurityGroupOption(name="a b"))
    expect_api_error(lambda: vpc.create_security_group(vpc_v2.CreateSecurityGroupRequest(body=bad)), 400, "VPC.0601")


def test_nova_associates_lists_and_disassociates_a_group(ecs, vpc, factory):
    sid = factory.server()
    g = _group(vpc, unique("nova"))
    add = ecs_v2.NovaAssociateSecurityGroupRequestBody(add_security_group=ecs_v2.NovaAddSecurityGroupOption(name=g.name))
    ecs.nova_associate_security_group(ecs_v2.NovaAssociateSecurityGroupRequest(server_id=sid, body=add))
    assert g.id in [x.id for x in show_server(ecs, sid).security_groups]
    listed = ecs.nova_list_server_security_groups(ecs_v2.NovaListServerSecurityGroupsRequest(server_id=sid))
    assert {x.name for x in listed.security_groups} == {"default", g.name}
    expect_api_error(lambda: ecs.nova_associate_security_group(
        ecs_v2.NovaAssociateSecurityGroupRequest(server_id=sid, body=add)), 400)
    rm = ecs_v2.NovaDisassociateSecurityGroupRequestBody(
        remove_security_group=ecs_v2.NovaRemoveSecurityGroupOption(name=g.id))
    ecs.nova_disassociate_security_group(ecs_v2.NovaDisassociateSecurityGroupRequest(server_id=sid, body=rm))
    assert g.id not in [x.id for x in show_server(ecs, sid).security_groups]
    unknown = ecs_v2.NovaAssociateSecurityGroupRequestBody(
        add_security_group=ecs_v2.NovaAddSecurityGroupOption(name=unique("none")))
    expect_api_error(lambda: ecs.nova_associate_security_group(
        ecs_v2.NovaAssociateSecurityGroupRequest(server_id=sid, body=unknown)), 404)
