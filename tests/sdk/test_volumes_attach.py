"""Disks after a server is created, through the official SDKs: the disk service (EvsClient)
creates and deletes volumes, ECS (EcsClient) attaches, detaches and changes them."""

import time

import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkevs.v2 as evs_v2
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials

from conftest import AK, PROJECT_ID, SK, _http_config, expect_api_error, show_server, stop_server, wait_job_success


@pytest.fixture(scope="module")
def evs(ecsd):
    return (evs_v2.EvsClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(AK, SK, PROJECT_ID))
            .with_endpoints([ecsd.endpoint])
            .build())


def _evs_job(evs, job_id, timeout=20):
    """Polls the disk service's own ShowJob until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        job = evs.show_job(evs_v2.ShowJobRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def _create(evs, size=10, count=1, multiattach=False, name="data"):
    opt = evs_v2.CreateVolumeOption(availability_zone="cn-north-4a", size=size, volume_type="SSD", name=name,
                                    count=count, multiattach=multiattach)
    resp = evs.create_volume(evs_v2.CreateVolumeRequest(body=evs_v2.CreateVolumeRequestBody(volume=opt)))
    assert resp.job_id and len(resp.volume_ids) == count, resp
    job = _evs_job(evs, resp.job_id)
    assert job.status == "SUCCESS", job
    return resp.volume_ids


def _attach(ecs, sid, vid, device=None):
    body = ecs_v2.AttachServerVolumeRequestBody(
        volume_attachment=ecs_v2.AttachServerVolumeOption(volume_id=vid, device=device))
    return ecs.attach_server_volume(ecs_v2.AttachServerVolumeRequest(server_id=sid, body=body))


def _detach(ecs, sid, vid, flag=None):
    return ecs.detach_server_volume(ecs_v2.DetachServerVolumeRequest(server_id=sid, volume_id=vid, delete_flag=flag))


def test_create_attach_detach_and_delete_a_volume(ecs, evs, factory):
    sid = factory.server()
    vid = _create(evs, size=20)[0]
    vol = evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=vid)).volume
    assert (vol.status, vol.size, vol.name) == ("available", 20, "data")

    job = wait_job_success(ecs, _attach(ecs, sid, vid).job_id)
    assert job.job_type == "attachVolume" and job.entities.server_id == sid, job
    dev = ecs.show_server_block_device(ecs_v2.ShowServerBlockDeviceRequest(server_id=sid, volume_id=vid))
    assert (dev.volume_attachment.device, dev.volume_attachment.boot_index) == ("/dev/vdb", -1)
    vol = evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=vid)).volume
    assert vol.status == "in-use" and vol.attachments[0].server_id == sid
    # In use, it cannot be deleted.
    expect_api_error(lambda: evs.delete_volume(evs_v2.DeleteVolumeRequest(volume_id=vid)), 400)

    ecs.update_server_block_device(ecs_v2.UpdateServerBlockDeviceRequest(
        server_id=sid, volume_id=vid,
        body=ecs_v2.UpdateServerBlockDeviceReq(block_device=ecs_v2.UpdateServerBlockDeviceOption(
            delete_on_termination=True))))
    attached = {v.id: v for v in show_server(ecs, sid).os_extended_volumesvolumes_attached}
    assert attached[vid].delete_on_termination == "true"

    job = wait_job_success(ecs, _detach(ecs, sid, vid, flag="0").job_id)
    assert job.job_type == "detachVolume", job
    assert evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=vid)).volume.status == "available"
    resp = evs.delete_volume(evs_v2.DeleteVolumeRequest(volume_id=vid))
    job = _evs_job(evs, resp.job_id)
    assert (job.status, job.job_type, job.entities.volume_id) == ("SUCCESS", "deleteVolume", vid), job
    expect_api_error(lambda: evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=vid)), 404)


def test_a_stopped_server_takes_disks_at_the_devices_asked(ecs, evs, factory):
    sid = factory.server()
    stop_server(ecs, sid)
    a, b = _create(evs, count=2)
    wait_job_success(ecs, _attach(ecs, sid, a, device="/dev/vdd").job_id)
    wait_job_success(ecs, _attach(ecs, sid, b).job_id)
    listed = ecs.list_server_volume_attachments(ecs_v2.ListServerVolumeAttachmentsRequest(server_id=sid))
    devices = {x.volume_id: x.device for x in listed.volume_attachments}
    assert (devices[a], devices[b]) == ("/dev/vdd", "/dev/vdb"), devices
    quota = ecs.show_appendable_volume_quota(ecs_v2.ShowAppendableVolumeQuotaRequest(server_id=sid))
    assert quota.free_blk == 21
    assert show_server(ecs, sid).status == "SHUTOFF"


def test_attach_and_detach_refusals(ecs, evs, factory):
    one, two = factory.server(), factory.server()
    vid, other = _create(evs, count=2)
    wait_job_success(ecs, _attach(ecs, one, vid).job_id)
    expect_api_error(lambda: _attach(ecs, two, vid), 400, "Ecs.0005")
    expect_api_error(lambda: _attach(ecs, one, other, device="/dev/vdb"), 400, "Ecs.0005")
    expect_api_error(lambda: _attach(ecs, one, "0d0e0f10-0000-4000-8000-000000000000"), 400, "Ecs.0005")
    expect_api_error(lambda: _attach(ecs, "0d0e0f10-0000-4000-8000-000000000000", other), 404, "Ecs.0114")
    expect_api_error(lambda: _detach(ecs, two, vid), 400, "Ecs.0005")
    system = [v.id for v in show_server(ecs, one).os_extended_volumesvolumes_attached if v.boot_index == "0"][0]
    expect_api_error(lambda: _detach(ecs, one, system), 400, "Ecs.0100")
    body = ecs_v2.AttachServerVolumeRequestBody(
        volume_attachment=ecs_v2.AttachServerVolumeOption(volume_id=other), dry_run=True)
    ecs.attach_server_volume(ecs_v2.AttachServerVolumeRequest(server_id=two, body=body))
    assert evs.show_volume(evs_v2.ShowVolumeRequest(volume_id=other)).volume.status == "available"


def test_the_disk_service_refuses_a_size_or_type_out_of_range(evs):
    for size, kind in [(9, "SSD"), (32769, "SSD"), (10, "FAST")]:
        opt = evs_v2.CreateVolumeOption(availability_zone="cn-north-4a", size=size, volume_type=kind)
        expect_api_error(
            lambda: evs.create_volume(evs_v2.CreateVolumeRequest(body=evs_v2.CreateVolumeRequestBody(volume=opt))),
            400)
