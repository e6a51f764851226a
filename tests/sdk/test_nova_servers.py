"""The Nova server API through the official SDK's Nova operations: create, show, list, delete,
version discovery, flavor extra specs; and ECS's ShowFlavorCapacity."""

import time

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import DEFAULT_FLAVOR, expect_api_error, show_server, unique


def _wait_status(ecs, server_id, status, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        s = ecs.nova_show_server(ecs_v2.NovaShowServerRequest(server_id=server_id)).server
        if s.status == status:
            return s
        assert time.monotonic() < deadline, f"{server_id} still {s.status}"
        time.sleep(0.05)


def _nova_create(ecs, **option):
    body = ecs_v2.NovaCreateServersRequestBody(server=ecs_v2.NovaCreateServersOption(**option))
    return ecs.nova_create_servers(ecs_v2.NovaCreateServersRequest(body=body))


def test_nova_create_show_list_delete(ecs, factory, images, network):
    image_id = images.no_cloud_init[0][0]
    kp = factory.keypair()
    name = unique("nova")
    bdm = [ecs_v2.NovaServerBlockDeviceMapping(boot_index="0", source_type="image", destination_type="volume",
                                               uuid=image_id, volume_size=45, volume_type="SSD")]
    resp = _nova_create(ecs, name=name, image_ref=image_id, flavor_ref=DEFAULT_FLAVOR, key_name=kp.name,
                        networks=[ecs_v2.NovaServerNetwork(uuid=network.subnet_id)], block_device_mapping_v2=bdm,
                        metadata={"role": "web"})
    sid = resp.server.id
    factory.servers.append(sid)
    assert resp.server.security_groups[0].name == "default"

    s = _wait_status(ecs, sid, "ACTIVE")
    assert s.name == name and s.key_name == kp.name and s.metadata == {**s.metadata, "role": "web"}
    assert s.flavor.id == DEFAULT_FLAVOR and isinstance(s.flavor.vcpus, int)
    assert s.image.id == image_id
    assert s.os_ext_st_svm_state == "active" and s.os_ext_st_spower_state == 1
    ecs_view = show_server(ecs, sid)
    nova_ips = [a.addr for addrs in s.addresses.values() for a in addrs]
    ecs_ips = [a.addr for addrs in ecs_view.addresses.values() for a in addrs]
    assert nova_ips == ecs_ips and nova_ips
    assert [v.id for v in s.os_extended_volumesvolumes_attached] == \
        [v.id for v in ecs_view.os_extended_volumesvolumes_attached]

    listed = ecs.nova_list_servers(ecs_v2.NovaListServersRequest(name=name)).servers
    assert [x.id for x in listed] == [sid]
    detailed = ecs.nova_list_servers_details(ecs_v2.NovaListServersDetailsRequest(name=name, limit=5)).servers
    assert [x.id for x in detailed] == [sid] and detailed[0].status == "ACTIVE"

    ecs.nova_delete_server(ecs_v2.NovaDeleteServerRequest(server_id=sid))
    deadline = time.monotonic() + 30
    while ecs.nova_list_servers(ecs_v2.NovaListServersRequest(name=name)).servers:
        assert time.monotonic() < deadline, "the server was not deleted"
        time.sleep(0.05)
    expect_api_error(lambda: ecs.nova_show_server(ecs_v2.NovaShowServerRequest(server_id=sid)), 404)


def test_nova_errors_are_nova_shaped(ecs, images):
    image_id = images.no_cloud_init[0][0]
    e = expect_api_error(lambda: _nova_create(ecs, name="bad", image_ref=image_id, flavor_ref="no.such"), 400)
    assert e.error_msg
    expect_api_error(lambda: _nova_create(ecs, name="bad", image_ref=image_id, flavor_ref=DEFAULT_FLAVOR,
                                          security_groups=[ecs_v2.NovaServerSecurityGroup(name="nonesuch")]), 404)
    expect_api_error(lambda: ecs.nova_delete_server(
        ecs_v2.NovaDeleteServerRequest(server_id="2b7d1c29-0f3e-4c7a-9e1a-000000000000")), 404)
    expect_api_error(lambda: ecs.nova_list_servers(ecs_v2.NovaListServersRequest(status="NAPPING")), 400)


def test_nova_versions_and_extra_specs(ecs):
    versions = ecs.nova_list_versions(ecs_v2.NovaListVersionsRequest()).versions
    assert {v.id for v in versions} == {"v2.0", "v2.1"}
    current = ecs.nova_show_version(ecs_v2.NovaShowVersionRequest(api_version="v2.1")).version
    assert current.status == "CURRENT" and current.min_version == "2.1" and current.version
    specs = ecs.nova_show_flavor_extra_specs(ecs_v2.NovaShowFlavorExtraSpecsRequest(flavor_id=DEFAULT_FLAVOR))
    flavors = {f.id: f for f in ecs.list_flavors(ecs_v2.ListFlavorsRequest()).flavors}
    assert specs.extra_specs["ecs:performancetype"] == flavors[DEFAULT_FLAVOR].os_extra_specs.ecsperformancetype
    expect_api_error(lambda: ecs.nova_show_flavor_extra_specs(
        ecs_v2.NovaShowFlavorExtraSpecsRequest(flavor_id="no.such")), 404)


def test_flavor_capacity(ecs):
    resp = ecs.show_flavor_capacity(ecs_v2.ShowFlavorCapacityRequest(flavor_id=DEFAULT_FLAVOR, count="3"))
    zones = ecs.list_server_az_info(ecs_v2.ListServerAzInfoRequest()).availability_zones
    assert [r.availability_zone for r in resp.resources] == [z.availability_zone_id for z in zones]
    assert [r.prefer for r in resp.resources] == [True] + [False] * (len(zones) - 1)
    expect_api_error(lambda: ecs.show_flavor_capacity(ecs_v2.ShowFlavorCapacityRequest(flavor_id="no.such")),
                     400, "Ecs.0019")


def test_flavor_sell_policies(ecs):
    resp = ecs.list_flavor_sell_policies(ecs_v2.ListFlavorSellPoliciesRequest(flavor_id=DEFAULT_FLAVOR))
    zones = ecs.list_server_az_info(ecs_v2.ListServerAzInfoRequest()).availability_zones
    assert resp.count == len(zones) == len(resp.sell_policies)
    assert {p.sell_mode for p in resp.sell_policies} == {"postPaid"}
    assert {p.sell_status for p in resp.sell_policies} == {"available"}
    none = ecs.list_flavor_sell_policies(ecs_v2.ListFlavorSellPoliciesRequest(sell_mode="spot"))
    assert none.count == 0 and not none.sell_policies
    expect_api_error(lambda: ecs.list_flavor_sell_policies(
        ecs_v2.ListFlavorSellPoliciesRequest(sell_status="gone")), 400, "Ecs.0005")
