"""The audit trail through the official trace-service client (`huaweicloudsdkcts`): a series of
SDK calls by two users of two projects, each listing only its own project's traces, with the
right users, operations, resources and results; a refused signature is a trace too."""

import time

import huaweicloudsdkecs.v2 as ecs_v2
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest

from conftest import (Factory, _flavor, _http_config, _images, _network, _stop_and_clean, make_ecs_client,
                      make_ims_client, make_vpc_client, start_ecsd, unique, wait_job_success)

ALICE = dict(project_id="a1c1a1c1a1c1a1c1a1c1a1c1a1c1a1c1", user_id="a11ce000000000000000000000000001",
             ak="ALICEAK0000000000001", sk="aliceSecretKey000000000000000000000000001", user_name="alice",
             domain_name="acme")
BOB = dict(project_id="b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", user_id="b0b00000000000000000000000000001",
           ak="BOBAK000000000000001", sk="bobSecretKey00000000000000000000000000001", user_name="bob",
           domain_name="acme")


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory):
    config = tmp_path_factory.mktemp("traces") / "ecsd.toml"
    config.write_text("".join(
        "[[accounts]]\n" + "".join(f'{k} = "{v}"\n' for k, v in who.items()) + "\n" for who in (ALICE, BOB)))
    server = start_ecsd(extra_args=["--config", str(config)])
    yield server
    _stop_and_clean(server)


def cts(endpoint, who, sk=None):
    return (CtsClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(who["ak"], sk or who["sk"], who["project_id"]))
            .with_endpoints([endpoint])
            .build())


def traces(client, **filters):
    """Every trace matching `filters`, page by page through the markers (10 a page)."""
    out, marker = [], None
    for _ in range(100):
        r = client.list_traces(ListTracesRequest(trace_type="system", limit=10, next=marker, **filters))
        assert r.meta_data.count == len(r.traces or [])
        out.extend(r.traces or [])
        marker = r.meta_data.marker
        if not marker:
            return out
    raise AssertionError("the pages did not end")


def test_each_project_lists_the_traces_of_its_own_calls(two_projects):
    endpoint = two_projects.endpoint
    started = int(time.time() * 1000) - 1
    ecs_a = make_ecs_client(endpoint, ALICE["ak"], ALICE["sk"], ALICE["project_id"])
    vpc_a = make_vpc_client(endpoint, ALICE["ak"], ALICE["sk"], ALICE["project_id"])
    factory = Factory(ecs_a, _network(vpc_a), _images(make_ims_client(endpoint, ALICE["ak"], ALICE["sk"])),
                      _flavor(ecs_a), ALICE["user_id"])
    try:
        sid = factory.server()
        body = ecs_v2.ReinstallServerWithoutCloudInitRequestBody(
            os_reinstall=ecs_v2.ReinstallServerWithoutCloudInitOption(adminpass="Admin-Pass-9931",
                                                                      mode="withStopServer"))
        job = ecs_a.reinstall_server_without_cloud_init(
            ecs_v2.ReinstallServerWithoutCloudInitRequest(server_id=sid, body=body)).job_id
        wait_job_success(ecs_a, job)
        key = factory.keypair(prefix="audit")
        with pytest.raises(ClientRequestException) as refused:
            ecs_a.nova_delete_keypair(ecs_v2.NovaDeleteKeypairRequest(keypair_name=unique("missing")))
        assert refused.value.status_code == 404
        # A signature made with the wrong secret: refused, and traced in the project it named.
        with pytest.raises(ClientRequestException) as unsigned:
            make_ecs_client(endpoint, ALICE["ak"], "not-" + ALICE["sk"], ALICE["project_id"]).nova_create_keypair(
                ecs_v2.NovaCreateKeypairRequest(body=ecs_v2.NovaCreateKeypairRequestBody(
                    keypair=ecs_v2.NovaCreateKeypairOption(name=unique("never")))))
        assert unsigned.value.status_code == 401
        ecs_b = make_ecs_client(endpoint, BOB["ak"], BOB["sk"], BOB["project_id"])
        bob_key = unique("bob")
        ecs_b.nova_create_keypair(ecs_v2.NovaCreateKeypairRequest(
            body=ecs_v2.NovaCreateKeypairRequestBody(keypair=ecs_v2.NovaCreateKeypairOption(name=bob_key))))

        alice = cts(endpoint, ALICE)
        mine = traces(alice, _from=started)
        by_name = {}
        for t in mine:
            by_name.setdefault(t.trace_name, []).append(t)
        for name in ("createServer", "reinstallOs", "createKeypair", "deleteKeypair"):
            assert name in by_name, f"no {name} trace in {sorted(by_name)}"
        assert all(t.user.name == "alice" and t.user.domain.name == "acme"
                   for n in ("createServer", "reinstallOs", "deleteKeypair") for t in by_name[n])
        reinstall = by_name["reinstallOs"][0]
        assert (reinstall.resource_id, reinstall.resource_type, reinstall.service_type) == (sid, "ecs", "ECS")
        assert (reinstall.code, reinstall.trace_rating, reinstall.trace_type) == ("200", "normal", "ApiCall")
        assert reinstall.request_id and reinstall.source_ip == "127.0.0.1"
        assert "Admin-Pass-9931" not in str(reinstall.to_dict()), "a password is in the trail"
        assert by_name["createServer"][0].resource_id == sid
        deleted = by_name["deleteKeypair"][0]
        assert (deleted.code, deleted.trace_rating) == ("404", "warning") and deleted.message
        failed_auth = [t for t in by_name["createKeypair"] if t.code == "401"]
        assert len(failed_auth) == 1 and failed_auth[0].user.access_key_id == ALICE["ak"]
        made = [t for t in by_name["createKeypair"] if t.code == "200"]
        assert key.name in [t.resource_id for t in made]
        # Newest first; nothing of Bob's; no secret anywhere.
        times = [t.time for t in mine]
        assert times == sorted(times, reverse=True)
        assert bob_key not in str([t.to_dict() for t in mine])
        assert ALICE["sk"] not in str([t.to_dict() for t in mine])

        # The filters the SDK sends.
        assert [t.trace_id for t in traces(alice, _from=started, trace_name="reinstallOs")] == [reinstall.trace_id]
        assert {t.trace_rating for t in traces(alice, _from=started, trace_rating="warning")} == {"warning"}
        assert {t.resource_id for t in traces(alice, _from=started, resource_id=sid)} == {sid}
        assert all(t.user.name == "alice" for t in traces(alice, _from=started, user="alice"))
        assert [t.trace_id for t in traces(alice, trace_id=reinstall.trace_id)] == [reinstall.trace_id]
        assert traces(alice, _from=started, to=started + 1) == []

        theirs = traces(cts(endpoint, BOB), _from=started)
        assert [(t.trace_name, t.resource_id, t.user.name) for t in theirs] == [("createKeypair", bob_key, "bob")]
    finally:
        factory.cleanup()


def test_bad_parameters_are_refused_in_the_trace_services_shape(two_projects):
    alice = cts(two_projects.endpoint, ALICE)
    for request in (ListTracesRequest(trace_type="system", limit=500), ListTracesRequest(),
                    ListTracesRequest(trace_type="system", _from=20, to=10)):
        with pytest.raises(ClientRequestException) as e:
            alice.list_traces(request)
        assert (e.value.status_code, e.value.error_code) == (400, "CTS.0001")
        assert e.value.error_msg
    # Another project's path with this project's credential.
    with pytest.raises(ClientRequestException) as e:
        cts(two_projects.endpoint, dict(ALICE, project_id=BOB["project_id"])).list_traces(
            ListTracesRequest(trace_type="system"))
    assert e.value.status_code in (400, 401)
