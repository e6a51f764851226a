"""The server resource: create jobs, details, listing and paging, update, start/stop/reboot, lock, delete."""

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import (
    PROJECT_ID,
    batch_reboot,
    batch_start,
    batch_stop,
    boot_volume,
    delete_servers,
    expect_api_error,
    ip_in_cidr,
    nova_server_action,
    private_ips,
    show_server,
    unique,
    wait_job_success,
)


def _list(ecs, **query):
    return ecs.list_servers_details(ecs_v2.ListServersDetailsRequest(**query))


def test_create_server_job_and_details(ecs, factory, images, network, user_id):
    image_id, image_name = images.no_cloud_init[0]
    kp = factory.keypair()
    name = unique("detail")
    resp = factory.create_servers(image_id=image_id, key_name=kp.name, name=name)
    assert resp.job_id and len(resp.server_ids) == 1
    sid = resp.server_ids[0]

    job = wait_job_success(ecs, resp.job_id)
    assert job.job_id == resp.job_id
    assert job.job_type == "createServer"
    assert job.entities.sub_jobs_total == 1
    (sub,) = job.entities.sub_jobs
    assert sub.job_type == "createSingleServer"
    assert sub.status == "SUCCESS"
    assert sub.entities.server_id == sid
    assert job.begin_time and job.end_time
    assert job.error_code is None and job.fail_reason is None

    s = show_server(ecs, sid)
    assert s.id == sid
    assert s.name == name
    assert s.status == "ACTIVE"
    assert s.os_ext_st_svm_state == "active"
    assert s.os_ext_st_stask_state in (None, "")
    assert s.os_ext_st_spower_state == 1
    assert s.locked is False
    assert s.key_name == kp.name
    assert s.image.id == image_id
    assert s.flavor.id == factory.flavor
    assert isinstance(s.flavor.vcpus, str) and s.flavor.vcpus.isdigit()
    assert isinstance(s.flavor.ram, str) and s.flavor.ram.isdigit()
    assert s.tenant_id == PROJECT_ID
    assert s.user_id == user_id
    assert s.metadata.get("image_name") == image_name
    assert s.metadata.get("vpc_id") == network.vpc_id
    assert s.metadata.get("charging_mode") == "0"
    assert s.metadata.get("os_type") == "Linux"
    assert network.vpc_id in s.addresses, s.addresses
    ips = private_ips(s)
    assert len(ips) == 1 and ip_in_cidr(ips[0], network.subnet_cidr)
    assert ips[0] != network.gateway_ip
    (vol,) = s.os_extended_volumesvolumes_attached
    assert vol.boot_index == "0" and vol.id
    assert s.created and s.updated


def test_create_count_two_has_one_sub_job_per_server(ecs, factory):
    resp = factory.create_servers(name=unique("batch"), count=2)
    assert resp.job_id and len(resp.server_ids) == 2 and len(set(resp.server_ids)) == 2
    job = wait_job_success(ecs, resp.job_id)
    assert job.job_type == "createServer"
    assert job.entities.sub_jobs_total == 2
    assert sorted(sj.job_type for sj in job.entities.sub_jobs) == ["createSingleServer"] * 2
    assert all(sj.status == "SUCCESS" for sj in job.entities.sub_jobs)
    assert {sj.entities.server_id for sj in job.entities.sub_jobs} == set(resp.server_ids)
    ips = set()
    for sid in resp.server_ids:
        s = show_server(ecs, sid)
        assert s.status == "ACTIVE"
        ips.update(private_ips(s))
    assert len(ips) == 2, "each server gets its own private IP"


def test_list_servers_name_filter_and_pages(ecs, factory):
    token = unique("lst")
    ids = [factory.server(name=f"{token}-{i}") for i in range(3)]

    everything = _list(ecs, name=token)
    assert everything.count == 3
    assert sorted(s.id for s in everything.servers) == sorted(ids)
    assert all(token in s.name for s in everything.servers)

    page1 = _list(ecs, name=token, limit=2, offset=1)
    page2 = _list(ecs, name=token, limit=2, offset=2)
    assert page1.count == 3 and page2.count == 3, "count is the total, not the page size"
    assert len(page1.servers) == 2 and len(page2.servers) == 1
    assert sorted([s.id for s in page1.servers] + [s.id for s in page2.servers]) == sorted(ids)

    page0 = _list(ecs, name=token, limit=2, offset=0)
    assert [s.id for s in page0.servers] == [s.id for s in page1.servers], "offset 0 is page 1"

    past_end = _list(ecs, name=token, limit=2, offset=3)
    assert past_end.count == 3 and past_end.servers == []

    none = _list(ecs, name=unique("nothing-matches"))
    assert none.count == 0 and none.servers == []


def test_update_server_name_and_description(ecs, factory):
    sid = factory.server()
    new_name = unique("renamed")
    body = ecs_v2.UpdateServerRequestBody(
        server=ecs_v2.UpdateServerOption(name=new_name, description="updated by the SDK suite"))
    resp = ecs.update_server(ecs_v2.UpdateServerRequest(server_id=sid, body=body))
    assert resp.server is not None and resp.server.id == sid
    assert resp.server.name == new_name

    s = show_server(ecs, sid)
    assert s.name == new_name
    assert s.description == "updated by the SDK suite"
    found = _list(ecs, name=new_name)
    assert [x.id for x in found.servers] == [sid]


def test_stop_start_reboot(ecs, factory):
    sid = factory.server()

    job = wait_job_success(ecs, batch_stop(ecs, [sid]).job_id)
    assert job.job_type == "stopServer"
    s = show_server(ecs, sid)
    assert s.status == "SHUTOFF"
    assert s.os_ext_st_svm_state == "stopped"
    assert s.os_ext_st_spower_state == 4

    job = wait_job_success(ecs, batch_start(ecs, [sid]).job_id)
    assert job.job_type == "startServer"
    s = show_server(ecs, sid)
    assert s.status == "ACTIVE"
    assert s.os_ext_st_spower_state == 1

    volume = boot_volume(s)
    job = wait_job_success(ecs, batch_reboot(ecs, [sid], "SOFT").job_id)
    assert job.job_type == "rebootServer"
    s = show_server(ecs, sid)
    assert s.status == "ACTIVE"
    assert s.os_ext_st_spower_state == 1
    assert boot_volume(s) == volume, "a reboot keeps the system disk"


def test_batch_stop_of_two_servers(ecs, factory):
    ids = [factory.server(), factory.server()]
    wait_job_success(ecs, batch_stop(ecs, ids, "HARD").job_id)
    assert [show_server(ecs, sid).status for sid in ids] == ["SHUTOFF", "SHUTOFF"]


def test_lock_and_unlock_show_in_locked(ecs, factory):
    sid = factory.server()
    nova_server_action(ecs, sid, "lock")
    try:
        assert show_server(ecs, sid).locked is True
    finally:
        nova_server_action(ecs, sid, "unlock")
    assert show_server(ecs, sid).locked is False


def test_delete_server(ecs, factory):
    name = unique("del")
    sid = factory.server(name=name)
    resp = delete_servers(ecs, [sid])
    assert resp.job_id
    job = wait_job_success(ecs, resp.job_id)
    assert job.job_type == "deleteServer"
    expect_api_error(lambda: ecs.show_server(ecs_v2.ShowServerRequest(server_id=sid)), 404, "Ecs.0114")
    listed = _list(ecs, name=name)
    assert listed.count == 0 and listed.servers == []
