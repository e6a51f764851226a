"""The /v1.1 create (create_servers) with data disks, the v1.1 list, zones, limits, block devices
and the disk service (huaweicloudsdkevs), through the official SDK's request classes."""

import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkevs.v2 as evs_v2
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials

from conftest import (AK, PROJECT_ID, SK, _http_config, delete_servers, expect_api_error, show_server, unique,
                      wait_job_success)


@pytest.fixture(scope="module")
def evs(ecsd):
    return (evs_v2.EvsClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(AK, SK, PROJECT_ID))
            .with_endpoints([ecsd.endpoint])
            .build())


def _create_body(network, image_id, flavor_id, name, **server):
    return ecs_v2.CreateServersRequestBody(server=ecs_v2.PrePaidServer(
        image_ref=image_id, flavor_ref=flavor_id, name=name, vpcid=network.vpc_id,
        nics=[ecs_v2.PrePaidServerNic(subnet_id=network.subnet_id)],
        root_volume=ecs_v2.PrePaidServerRootVolume(volumetype="SSD", size=40), **server))


def test_create_servers_with_data_disks_and_read_them_back(ecs, evs, network, images, flavor_id):
    image_id, _ = images.no_cloud_init[0]
    body = _create_body(
        network, image_id, flavor_id, unique("v11"),
        availability_zone="cn-north-4a",
        data_volumes=[ecs_v2.PrePaidServerDataVolume(volumetype="SAS", size=20, delete_on_termination=True)],
        extendparam=ecs_v2.PrePaidServerExtendParam(charging_mode="postPaid", region_id="cn-north-4",
                                                    enterprise_project_id="0"),
        server_tags=[ecs_v2.PrePaidServerTag(key="env", value="sdk")],
        metadata={"owner": "sdk"})
    resp = ecs.create_servers(ecs_v2.CreateServersRequest(body=body))
    assert resp.job_id and len(resp.server_ids) == 1 and resp.order_id is None
    sid = resp.server_ids[0]
    job = wait_job_success(ecs, resp.job_id)
    assert job.entities.sub_jobs[0].entities.server_id == sid
    try:
        server = show_server(ecs, sid)
        assert server.metadata["owner"] == "sdk"
        attached = server.os_extended_volumesvolumes_attached
        assert [v.boot_index for v in attached] == ["0", "-1"]
        devices = ecs.list_server_block_devices(ecs_v2.ListServerBlockDevicesRequest(server_id=sid))
        assert [d.boot_index for d in devices.volume_attachments] == [0, -1]
        for v in attached:
            vol = evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=v.id)).volume
            assert vol.status == "in-use" and vol.attachments[0].server_id == sid
            assert vol.bootable == ("true" if v.boot_index == "0" else "false")
            one = ecs.show_server_block_device(ecs_v2.ShowServerBlockDeviceRequest(server_id=sid, volume_id=v.id))
            assert one.volume_attachment.volume_id == v.id
        listed = evs.list_volumes(evs_v2.ListVolumesRequest(server_id=sid))
        assert listed.count == 2
        attachments = ecs.list_server_volume_attachments(ecs_v2.ListServerVolumeAttachmentsRequest(server_id=sid))
        assert {a.volume_id for a in attachments.volume_attachments} == {v.id for v in attached}
        quota = ecs.show_appendable_volume_quota(ecs_v2.ShowAppendableVolumeQuotaRequest(server_id=sid))
        assert quota.free_blk == 22
        cloud = ecs.list_cloud_servers(ecs_v2.ListCloudServersRequest(id=sid))
        assert [s.id for s in cloud.servers] == [sid]
        assert cloud.servers[0].flavor.vcpus >= 1 and cloud.servers[0].availability_zone == "cn-north-4a"
    finally:
        wait_job_success(ecs, delete_servers(ecs, [sid]).job_id)
    expect_api_error(lambda: evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=attached[1].id)), 404)


def test_prepaid_and_charging_mode_changes_are_refused(ecs, network, images, flavor_id):
    image_id, _ = images.no_cloud_init[0]
    body = _create_body(network, image_id, flavor_id, unique("pre"),
                        extendparam=ecs_v2.PrePaidServerExtendParam(charging_mode="prePaid", period_type="month",
                                                                    period_num=1))
    expect_api_error(lambda: ecs.create_servers(ecs_v2.CreateServersRequest(body=body)), 400, "Ecs.0005")
    change = ecs_v2.ChangeServerChargeModeRequestBody(server_ids=["x"], charge_mode="prePaid")
    expect_api_error(lambda: ecs.change_server_charge_mode(ecs_v2.ChangeServerChargeModeRequest(body=change)),
                     400, "Ecs.0005")


def test_zones_and_limits(ecs):
    zones = ecs.list_server_az_info(ecs_v2.ListServerAzInfoRequest()).availability_zones
    assert [z.availability_zone_id for z in zones] == ["cn-north-4a", "cn-north-4b", "cn-north-4c"]
    nova = ecs.nova_list_availability_zones(ecs_v2.NovaListAvailabilityZonesRequest()).availability_zone_info
    assert all(z.zone_state.available for z in nova)
    limits = ecs.show_server_limits(ecs_v2.ShowServerLimitsRequest()).absolute
    assert limits.max_total_instances > 0 and limits.total_instances_used >= 0
    assert isinstance(limits.max_total_ram_size, int)
