"""Server groups through the official ECS SDK: create, list, show, members one at a time and in
batches, the scheduler hint at create, delete; and a server's scheduled deletion
(UpdateServerAutoTerminateTime)."""

import datetime
import time

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import expect_api_error, post_paid_server_body, show_server, unique, wait_job_success

MISSING = "6a6b4b4e-0e3a-4c38-9b64-000000000000"


def _create_group(ecs, name=None, policies=("anti-affinity",)):
    option = ecs_v2.CreateServerGroupOption(name=unique("grp") if name is None else name, policies=list(policies))
    body = ecs_v2.CreateServerGroupRequestBody(server_group=option)
    return ecs.create_server_group(ecs_v2.CreateServerGroupRequest(body=body)).server_group


def _show(ecs, gid):
    return ecs.show_server_group(ecs_v2.ShowServerGroupRequest(server_group_id=gid)).server_group


def _delete(ecs, gid):
    ecs.delete_server_group(ecs_v2.DeleteServerGroupRequest(server_group_id=gid))


def test_a_group_keeps_its_members_from_create_to_delete(ecs, factory, network, images, flavor_id):
    group = _create_group(ecs)
    try:
        assert (group.policies, group.members) == (["anti-affinity"], []), group
        # A server created with the group as its scheduler hint joins it.
        body = post_paid_server_body(network, images.no_cloud_init[0][0], flavor_id, unique("srv"),
                                     key_name=factory.keypair().name)
        body.server.osscheduler_hints = ecs_v2.PostPaidServerSchedulerHints(group=group.id)
        resp = ecs.create_post_paid_servers(ecs_v2.CreatePostPaidServersRequest(body=body))
        factory.servers.extend(resp.server_ids)
        wait_job_success(ecs, resp.job_id)
        first = resp.server_ids[0]
        assert _show(ecs, group.id).members == [first]
        second = factory.server()
        ecs.add_server_group_member(ecs_v2.AddServerGroupMemberRequest(
            server_group_id=group.id,
            body=ecs_v2.AddServerGroupMemberRequestBody(add_member=ecs_v2.ServerGroupMember(instance_uuid=second))))
        assert _show(ecs, group.id).members == [first, second]
        expect_api_error(lambda: ecs.add_server_group_member(ecs_v2.AddServerGroupMemberRequest(
            server_group_id=group.id,
            body=ecs_v2.AddServerGroupMemberRequestBody(add_member=ecs_v2.ServerGroupMember(instance_uuid=second)))),
            400, "Ecs.0005")
        ecs.delete_server_group_member(ecs_v2.DeleteServerGroupMemberRequest(
            server_group_id=group.id,
            body=ecs_v2.DeleteServerGroupMemberRequestBody(
                remove_member=ecs_v2.ServerGroupMember(instance_uuid=first))))
        removed = ecs.batch_delete_server_group_member(ecs_v2.BatchDeleteServerGroupMemberRequest(
            server_group_id=group.id, body=ecs_v2.BatchDeleteServerGroupMemberReq(server_ids=[second])))
        assert removed.status == "success" and removed.servers[0].server_id == second, removed
        added = ecs.batch_add_server_group_member(ecs_v2.BatchAddServerGroupMemberRequest(
            server_group_id=group.id, body=ecs_v2.BatchAddServerGroupMemberReq(server_ids=[first, second])))
        assert [s.status for s in added.servers] == ["success", "success"], added
        listed = ecs.list_server_groups(ecs_v2.ListServerGroupsRequest()).server_groups
        assert [g.members for g in listed if g.id == group.id] == [[first, second]], listed
        limits = ecs.show_server_limits(ecs_v2.ShowServerLimitsRequest()).absolute
        assert limits.total_server_groups_used >= 1 and limits.max_server_groups == 10, limits
    finally:
        _delete(ecs, group.id)
    expect_api_error(lambda: _show(ecs, group.id), 404, "Ecs.0114")


def test_server_group_refusals(ecs, factory, network, images, flavor_id):
    expect_api_error(lambda: _create_group(ecs, policies=("affinity",)), 400, "Ecs.0005")
    expect_api_error(lambda: _create_group(ecs, name=""), 400, "Ecs.0005")
    expect_api_error(lambda: _show(ecs, MISSING), 404, "Ecs.0114")
    expect_api_error(lambda: _delete(ecs, MISSING), 404, "Ecs.0114")
    expect_api_error(lambda: ecs.batch_add_server_group_member(ecs_v2.BatchAddServerGroupMemberRequest(
        server_group_id=MISSING, body=ecs_v2.BatchAddServerGroupMemberReq(server_ids=[MISSING]))), 404, "Ecs.0114")
    # A create naming a group that does not exist creates nothing.
    body = post_paid_server_body(network, images.no_cloud_init[0][0], flavor_id, unique("srv"),
                                 key_name=factory.keypair().name)
    body.server.osscheduler_hints = ecs_v2.PostPaidServerSchedulerHints(group=MISSING)
    expect_api_error(lambda: ecs.create_post_paid_servers(ecs_v2.CreatePostPaidServersRequest(body=body)),
                     400, "Ecs.0005")


def _at(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds + 1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _auto_terminate(ecs, sid, when):
    body = ecs_v2.UpdateServerAutoTerminateTimeRequestBody(auto_terminate_time=when)
    return ecs.update_server_auto_terminate_time(
        ecs_v2.UpdateServerAutoTerminateTimeRequest(server_id=sid, body=body))


def test_a_server_is_deleted_at_its_auto_terminate_time(ecs, factory):
    doomed, kept = factory.server(), factory.server()
    when = _at(1)
    _auto_terminate(ecs, doomed, when)
    assert show_server(ecs, doomed).auto_terminate_time == when
    _auto_terminate(ecs, kept, _at(1))
    _auto_terminate(ecs, kept, "")
    assert show_server(ecs, kept).auto_terminate_time == ""
    expect_api_error(lambda: _auto_terminate(ecs, kept, "2020-09-25T12:05:00Z"), 400, "Ecs.0005")
    expect_api_error(lambda: _auto_terminate(ecs, MISSING, _at(60)), 404, "Ecs.0114")
    deadline = time.time() + 15
    while True:
        try:
            show_server(ecs, doomed)
        except Exception as e:  # the SDK's ClientRequestException once it is gone
            assert getattr(e, "status_code", None) == 404, e
            break
        assert time.time() < deadline, "not deleted at its time"
        time.sleep(0.2)
    assert show_server(ecs, kept).status == "ACTIVE"
