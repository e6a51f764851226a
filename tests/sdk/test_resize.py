"""Flavor changes through the official ECS SDK: ResizeServer (/v1.1), ResizePostPaidServer (/v1)
and ListResizeFlavors, with their refusals."""

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import expect_api_error, show_server, stop_server, wait_job_success


def _resize_v11(ecs, sid, flavor, mode=None):
    opt = ecs_v2.ResizePrePaidServerOption(
        flavor_ref=flavor, mode=mode, extendparam=ecs_v2.ResizeServerExtendParam(is_auto_pay="true")
    )
    body = ecs_v2.ResizeServerRequestBody(resize=opt)
    return ecs.resize_server(ecs_v2.ResizeServerRequest(server_id=sid, body=body))


def _resize_v1(ecs, sid, flavor, mode=None):
    body = ecs_v2.ResizePostPaidServerRequestBody(resize=ecs_v2.ResizePostPaidServerOption(flavor_ref=flavor, mode=mode))
    return ecs.resize_post_paid_server(ecs_v2.ResizePostPaidServerRequest(server_id=sid, body=body))


def test_resize_server_v11_with_stop_mode(ecs, factory):
    sid = factory.server()
    resp = _resize_v11(ecs, sid, "s6.large.2", mode="withStopServer")
    assert resp.job_id and resp.order_id is None, resp
    job = wait_job_success(ecs, resp.job_id)
    assert job.job_type == "resizeServer", job
    after = show_server(ecs, sid)
    assert (after.flavor.id, after.flavor.vcpus, after.status) == ("s6.large.2", "2", "ACTIVE")


def test_resize_post_paid_server_v1_of_a_stopped_server(ecs, factory):
    sid = factory.server()
    stop_server(ecs, sid)
    resp = _resize_v1(ecs, sid, "m6.large.8")
    wait_job_success(ecs, resp.job_id)
    after = show_server(ecs, sid)
    assert (after.flavor.id, after.status) == ("m6.large.8", "SHUTOFF")


def test_resize_refusals_change_nothing(ecs, factory):
    sid = factory.server()
    expect_api_error(lambda: _resize_v11(ecs, sid, "s6.large.2"), 400, "Ecs.0100")
    expect_api_error(lambda: _resize_v1(ecs, sid, "no.such.flavor", mode="withStopServer"), 400, "Ecs.0019")
    expect_api_error(lambda: _resize_v11(ecs, sid, "s6.small.1", mode="withStopServer"), 400, "Ecs.0019")
    expect_api_error(lambda: _resize_v1(ecs, sid, "s6.large.2", mode="later"), 400, "Ecs.0005")
    missing = "6a6b4b4e-0e3a-4c38-9b64-000000000000"
    expect_api_error(lambda: _resize_v11(ecs, missing, "s6.large.2", mode="withStopServer"), 404, "Ecs.0114")
    after = show_server(ecs, sid)
    assert (after.flavor.id, after.status) == ("s6.small.1", "ACTIVE")


def test_list_resize_flavors(ecs, factory):
    sid = factory.server()
    resp = ecs.list_resize_flavors(ecs_v2.ListResizeFlavorsRequest(instance_uuid=sid))
    ids = [f.id for f in resp.flavors]
    assert ids and "s6.small.1" not in ids, ids
    assert all(isinstance(f.ram, int) and f.vcpus for f in resp.flavors)
    page = ecs.list_resize_flavors(
        ecs_v2.ListResizeFlavorsRequest(source_flavor_id="s6.small.1", sort_key="vcpus", sort_dir="desc", limit=1)
    )
    assert [f.vcpus for f in page.flavors] == ["4"], page
    expect_api_error(lambda: ecs.list_resize_flavors(ecs_v2.ListResizeFlavorsRequest()), 400, "Ecs.0005")
