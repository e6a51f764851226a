"""Reinstall (v1 without, v2 with Cloud-Init) and change OS (v1, v2) through the official ECS SDK."""

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import (
    GOOD_PASSWORD,
    USER_DATA,
    boot_volume,
    changeos_v1,
    changeos_v2,
    reinstall_v1,
    reinstall_v2,
    show_server,
    stop_server,
    wait_job_success,
)


def _assert_job(job, job_type, server_id):
    assert job.job_type == job_type, job
    assert job.entities is not None and job.entities.server_id == server_id, job
    assert job.entities.sub_jobs_total in (None, 0) and not job.entities.sub_jobs, job
    assert job.begin_time and job.end_time, job


def test_reinstall_v1_with_password_on_running_server(ecs, factory):
    sid = factory.server()
    before = show_server(ecs, sid)
    resp = reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode="withStopServer")
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.os_ext_st_spower_state == 1
    assert after.image.id == before.image.id
    assert boot_volume(after) != boot_volume(before)


def test_reinstall_v1_stopped_server_needs_no_mode(ecs, factory, user_id):
    sid = factory.server()
    stop_server(ecs, sid)
    kp = factory.keypair()
    resp = reinstall_v1(ecs, sid, keyname=kp.name, userid=user_id)
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    after = show_server(ecs, sid)
    # The service starts the server again once the new OS is in place.
    assert after.status == "ACTIVE"
    assert after.key_name == kp.name


def test_reinstall_v2_with_password_and_user_data(ecs, factory):
    sid = factory.server(cloud_init=True)
    before = show_server(ecs, sid)
    resp = reinstall_v2(ecs, sid, adminpass=GOOD_PASSWORD, user_data=USER_DATA, mode="withStopServer")
    assert resp.job_id
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.image.id == before.image.id
    assert boot_volume(after) != boot_volume(before)


def test_reinstall_v2_with_key_pair(ecs, factory, user_id):
    sid = factory.server(cloud_init=True)
    kp = factory.keypair()
    resp = reinstall_v2(ecs, sid, keyname=kp.name, userid=user_id, mode="withStopServer")
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.key_name == kp.name


def test_reinstall_v2_with_user_data_only(ecs, factory):
    """v2 allows neither adminpass nor keyname when metadata.user_data is given."""
    sid = factory.server(cloud_init=True)
    resp = reinstall_v2(ecs, sid, user_data=USER_DATA, mode="withStopServer")
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    assert show_server(ecs, sid).status == "ACTIVE"


def test_change_os_v1_to_another_image(ecs, factory, images, user_id):
    (old_id, old_name), (new_id, new_name) = images.no_cloud_init[0], images.no_cloud_init[1]
    sid = factory.server(image_id=old_id)
    before = show_server(ecs, sid)
    assert before.image.id == old_id
    assert before.metadata.get("image_name") == old_name
    kp = factory.keypair()

    resp = changeos_v1(ecs, sid, new_id, keyname=kp.name, userid=user_id, mode="withStopServer")
    assert resp.job_id
    _assert_job(wait_job_success(ecs, resp.job_id), "changeOs", sid)

    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.image.id == new_id
    assert after.metadata.get("image_name") == new_name
    assert after.metadata.get("metering.image_id") in (None, new_id)
    assert after.key_name == kp.name


def test_change_os_v1_with_password_on_stopped_server(ecs, factory, images):
    (old_id, _), (new_id, new_name) = images.no_cloud_init[1], images.no_cloud_init[0]
    sid = factory.server(image_id=old_id)
    stop_server(ecs, sid)
    resp = changeos_v1(ecs, sid, new_id, adminpass=GOOD_PASSWORD)
    _assert_job(wait_job_success(ecs, resp.job_id), "changeOs", sid)
    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.image.id == new_id
    assert after.metadata.get("image_name") == new_name


def test_change_os_v2_to_another_image(ecs, factory, images):
    (old_id, old_name), (new_id, new_name) = images.cloud_init[0], images.cloud_init[1]
    sid = factory.server(image_id=old_id)
    before = show_server(ecs, sid)
    assert before.image.id == old_id
    assert before.metadata.get("image_name") == old_name

    resp = changeos_v2(ecs, sid, new_id, adminpass=GOOD_PASSWORD, user_data=USER_DATA,
                       mode="withStopServer")
    assert resp.job_id
    _assert_job(wait_job_success(ecs, resp.job_id), "changeOs", sid)

    after = show_server(ecs, sid)
    assert after.status == "ACTIVE"
    assert after.image.id == new_id
    assert after.metadata.get("image_name") == new_name
    assert after.metadata.get("metering.image_id") in (None, new_id)


def test_running_reinstall_job_and_server_state(slow_factory):
    """While the reinstall runs (slow simulated driver) the job is not final and has no end time."""
    ecs = slow_factory.client
    sid = slow_factory.server()
    resp = reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode="withStopServer")
    running = ecs.show_job(ecs_v2.ShowJobRequest(job_id=resp.job_id))
    assert running.status in ("INIT", "RUNNING"), running
    assert running.job_type == "reinstallOs"
    assert running.end_time == ""
    assert running.entities.server_id == sid
    server = show_server(ecs, sid)
    assert server.os_ext_st_stask_state not in (None, ""), "a busy server shows its task state"
    _assert_job(wait_job_success(ecs, resp.job_id), "reinstallOs", sid)
    assert show_server(ecs, sid).status == "ACTIVE"
