"""Flavor changes through the official ECS SDK: ResizeServer (/v1.1), ResizePostPaidServer (/v1),
BatchResizeServers and ListResizeFlavors, with their refusals, and a resize racing a reinstall."""

from concurrent.futures import ThreadPoolExecutor

import huaweicloudsdkecs.v2 as ecs_v2

from conftest import expect_api_error, reinstall_v1, show_server, stop_server, wait_job_success


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


def _batch_resize(ecs, sids, flavor, mode=None):
    option = ecs_v2.BatchResizeServersOption(flavor_ref=flavor, servers=[ecs_v2.ServerId(id=s) for s in sids], mode=mode)
    return ecs.batch_resize_servers(ecs_v2.BatchResizeServersRequest(body=ecs_v2.BatchResizeServersReq(resize=option)))


def test_batch_resize_servers_is_one_job_with_a_sub_job_each(ecs, factory):
    running, stopped = factory.server(), factory.server()
    stop_server(ecs, stopped)
    expect_api_error(lambda: _batch_resize(ecs, [stopped, running], "s6.large.2"), 400, "Ecs.0100")
    assert show_server(ecs, stopped).flavor.id == "s6.small.1", "refused whole"
    resp = _batch_resize(ecs, [running, stopped], "s6.large.2", mode="withStopServer")
    job = wait_job_success(ecs, resp.job_id)
    assert job.job_type == "resizeServer", job
    assert sorted(j.job_type for j in job.entities.sub_jobs) == ["resizeSingleServer"] * 2, job
    assert (show_server(ecs, running).flavor.id, show_server(ecs, running).status) == ("s6.large.2", "ACTIVE")
    assert (show_server(ecs, stopped).flavor.id, show_server(ecs, stopped).status) == ("s6.large.2", "SHUTOFF")


def test_a_resize_racing_a_reinstall_one_wins_the_other_is_busy(slow_factory):
    ecs = slow_factory.client
    kp = slow_factory.keypair()
    sid = slow_factory.server(key_name=kp.name)

    def outcome(call):
        try:
            return call().job_id
        except Exception as e:  # the SDK's ClientRequestException
            return (e.status_code, e.error_code)

    with ThreadPoolExecutor(2) as pool:
        resize = pool.submit(outcome, lambda: _batch_resize(ecs, [sid], "s6.large.2", mode="withStopServer"))
        reinstall = pool.submit(outcome, lambda: reinstall_v1(
            ecs, sid, keyname=kp.name, userid=slow_factory.user_id, mode="withStopServer"))
        results = [resize.result(), reinstall.result()]
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert (400, "Ecs.0100") in results, results
    wait_job_success(ecs, won[0])
    assert (show_server(ecs, sid).flavor.id == "s6.large.2") == isinstance(results[0], str)
