"""Metadata, tags, batch rename and password resets through the official SDK's request classes."""

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import batch_reboot, expect_api_error, nova_server_action, show_server, unique, wait_job_success

MISSING = "00000000-0000-4000-8000-000000000000"


def _ids(ids):
    return [ecs_v2.ServerId(id=i) for i in ids]


def test_metadata_update_merges_and_delete_removes(ecs, factory):
    sid = factory.server()
    body = ecs_v2.UpdateServerMetadataRequestBody(metadata={"app": "web", "tier:x.y": "1"})
    resp = ecs.update_server_metadata(ecs_v2.UpdateServerMetadataRequest(server_id=sid, body=body))
    assert resp.metadata == {"app": "web", "tier:x.y": "1"}
    body = ecs_v2.UpdateServerMetadataRequestBody(metadata={"app": "api"})
    resp = ecs.update_server_metadata(ecs_v2.UpdateServerMetadataRequest(server_id=sid, body=body))
    assert resp.metadata == {"app": "api", "tier:x.y": "1"}
    ecs.delete_server_metadata(ecs_v2.DeleteServerMetadataRequest(server_id=sid, key="tier:x.y"))
    assert "tier:x.y" not in show_server(ecs, sid).metadata
    assert show_server(ecs, sid).metadata["app"] == "api"

    expect_api_error(lambda: ecs.delete_server_metadata(
        ecs_v2.DeleteServerMetadataRequest(server_id=sid, key="nope")), 400, "Ecs.0005")
    bad = ecs_v2.UpdateServerMetadataRequestBody(metadata={"image_name": "mine"})
    expect_api_error(lambda: ecs.update_server_metadata(
        ecs_v2.UpdateServerMetadataRequest(server_id=sid, body=bad)), 400, "Ecs.0005")
    expect_api_error(lambda: ecs.update_server_metadata(
        ecs_v2.UpdateServerMetadataRequest(server_id=MISSING, body=body)), 404, "Ecs.0114")
    assert show_server(ecs, sid).metadata["app"] == "api"


def test_tags_create_show_list_query_and_delete(ecs, factory):
    sid = factory.server(name=unique("tagged"))
    key = unique("k").replace(".", "-")[:36]
    tags = [ecs_v2.BatchAddServerTag(key=key, value="v1"), ecs_v2.BatchAddServerTag(key="team", value="")]
    ecs.batch_create_server_tags(ecs_v2.BatchCreateServerTagsRequest(
        server_id=sid, body=ecs_v2.BatchCreateServerTagsRequestBody(action="create", tags=tags)))
    shown = ecs.show_server_tags(ecs_v2.ShowServerTagsRequest(server_id=sid))
    assert {(t.key, t.value) for t in shown.tags} == {(key, "v1"), ("team", "")}
    assert f"{key}=v1" in show_server(ecs, sid).tags

    project = ecs.list_server_tags(ecs_v2.ListServerTagsRequest())
    assert any(t.key == key and t.values == ["v1"] for t in project.tags)

    query = ecs_v2.ListServersByTagRequestBody(
        action="filter", limit="10", offset="0", tags=[ecs_v2.ServerTags(key=key, values=["v1"])])
    found = ecs.list_servers_by_tag(ecs_v2.ListServersByTagRequest(body=query))
    assert found.total_count == 1 and found.resources[0].resource_id == sid
    assert {(t.key, t.value) for t in found.resources[0].tags} == {(key, "v1"), ("team", "")}
    count = ecs.list_servers_by_tag(ecs_v2.ListServersByTagRequest(body=ecs_v2.ListServersByTagRequestBody(
        action="count", tags=[ecs_v2.ServerTags(key=key, values=[])])))
    assert count.total_count == 1

    listed = ecs.list_servers_details(ecs_v2.ListServersDetailsRequest(tags=f"{key}=v1"))
    assert [s.id for s in listed.servers] == [sid]

    ecs.batch_delete_server_tags(ecs_v2.BatchDeleteServerTagsRequest(
        server_id=sid, body=ecs_v2.BatchDeleteServerTagsRequestBody(action="delete", tags=[ecs_v2.ServerTag(key=key)])))
    shown = ecs.show_server_tags(ecs_v2.ShowServerTagsRequest(server_id=sid))
    assert [(t.key, t.value) for t in shown.tags] == [("team", "")]

    bad = ecs_v2.BatchCreateServerTagsRequestBody(action="create", tags=[ecs_v2.BatchAddServerTag(key="a b", value="v")])
    expect_api_error(lambda: ecs.batch_create_server_tags(
        ecs_v2.BatchCreateServerTagsRequest(server_id=sid, body=bad)), 400, "Ecs.0005")
    expect_api_error(lambda: ecs.show_server_tags(ecs_v2.ShowServerTagsRequest(server_id=MISSING)), 404, "Ecs.0114")
    expect_api_error(lambda: ecs.list_servers_by_tag(ecs_v2.ListServersByTagRequest(
        body=ecs_v2.ListServersByTagRequestBody(action="sum"))), 400, "Ecs.0005")


def test_batch_rename(ecs, factory):
    a, b = factory.server(), factory.server()
    name = unique("develop")
    dry = ecs_v2.BatchUpdateServersNameRequestBody(name=name, dry_run=True, servers=_ids([a, b]))
    ecs.batch_update_servers_name(ecs_v2.BatchUpdateServersNameRequest(body=dry))
    assert show_server(ecs, a).name != name, "a dry run renames nothing"
    body = ecs_v2.BatchUpdateServersNameRequestBody(name=name, servers=_ids([a, b]))
    resp = ecs.batch_update_servers_name(ecs_v2.BatchUpdateServersNameRequest(body=body))
    assert [s.id for s in resp.response] == [a, b]
    assert show_server(ecs, a).name == name and show_server(ecs, b).name == name

    nova_server_action(ecs, b, "lock")
    other = ecs_v2.BatchUpdateServersNameRequestBody(name=unique("other"), servers=_ids([a, b]))
    expect_api_error(lambda: ecs.batch_update_servers_name(ecs_v2.BatchUpdateServersNameRequest(body=other)),
                     400, "Ecs.0605")
    nova_server_action(ecs, b, "unlock")
    assert show_server(ecs, a).name == name, "nothing was renamed"
    bad = ecs_v2.BatchUpdateServersNameRequestBody(name="bad name!", servers=_ids([a]))
    expect_api_error(lambda: ecs.batch_update_servers_name(ecs_v2.BatchUpdateServersNameRequest(body=bad)),
                     400, "Ecs.0005")


def test_password_reset_calls(ecs, factory):
    sid = factory.server()
    opt = ecs_v2.ResetServerPasswordOption(new_password="Reset-Pw1x", is_check_password=True)
    ecs.reset_server_password(ecs_v2.ResetServerPasswordRequest(
        server_id=sid, body=ecs_v2.ResetServerPasswordRequestBody(reset_password=opt)))
    wait_job_success(ecs, batch_reboot(ecs, [sid]).job_id)
    weak = ecs_v2.ResetServerPasswordOption(new_password="weakpass", is_check_password=True)
    expect_api_error(lambda: ecs.reset_server_password(ecs_v2.ResetServerPasswordRequest(
        server_id=sid, body=ecs_v2.ResetServerPasswordRequestBody(reset_password=weak))), 400, "Ecs.0011")
    expect_api_error(lambda: ecs.reset_server_password(ecs_v2.ResetServerPasswordRequest(
        server_id=MISSING, body=ecs_v2.ResetServerPasswordRequestBody(reset_password=opt))), 404, "Ecs.0114")

    batch = ecs_v2.BatchResetServersPasswordRequestBody(new_password="Batch-Pw2y", servers=_ids([sid]))
    resp = ecs.batch_reset_servers_password(ecs_v2.BatchResetServersPasswordRequest(body=batch))
    assert [s.id for s in resp.response] == [sid]
    bad = ecs_v2.BatchResetServersPasswordRequestBody(new_password="weakpass", servers=_ids([sid]))
    expect_api_error(lambda: ecs.batch_reset_servers_password(ecs_v2.BatchResetServersPasswordRequest(body=bad)),
                     400, "Ecs.0011")

    flag = ecs.show_reset_password_flag(ecs_v2.ShowResetPasswordFlagRequest(server_id=sid))
    assert flag.resetpwd_flag == "True"
    pw = ecs.show_server_password(ecs_v2.ShowServerPasswordRequest(server_id=sid))
    assert pw.password == ""
    ecs.delete_server_password(ecs_v2.DeleteServerPasswordRequest(server_id=sid))
    expect_api_error(lambda: ecs.show_server_password(ecs_v2.ShowServerPasswordRequest(server_id=MISSING)),
                     404, "Ecs.0114")
