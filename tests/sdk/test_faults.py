"""Fault injection seen from the official SDK: a reinstall made to fail on purpose, then retried."""

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import (
    boot_volume,
    reinstall_v1,
    show_server,
    wait_job,
    wait_job_success,
)

FAULTS = "/ecsd-admin/v1/faults"


def admin(client, method, path, body=None):
    """Calls ecsd's admin API through the SDK client's own signed request path."""
    return client.do_http_request(
        method=method,
        resource_path=path,
        path_params={},
        query_params=[],
        header_params={"Content-Type": "application/json;charset=utf-8"},
        body=body,
        post_params={},
        cname=None,
        response_type="NovaAssociateSecurityGroupResponse",
        response_headers=[],
        collection_formats={},
    )


@pytest.fixture
def clean_faults(ecs):
    yield
    admin(ecs, "DELETE", FAULTS)


def test_injected_failure_then_retry(ecs, factory, user_id, clean_faults):
    key = factory.keypair(prefix="kf")
    server_id = factory.server(key_name=key.name)
    old_disk = boot_volume(show_server(ecs, server_id))

    r = admin(ecs, "POST", FAULTS, {"operation": "reinstallOs", "step": "create_disk", "action": "fail",
                                    "error_code": "Ecs.0101", "message": "disk backend unavailable", "times": 1})
    assert r.status_code == 201

    job_id = reinstall_v1(ecs, server_id, keyname=key.name, userid=user_id, mode="withStopServer").job_id
    job = wait_job(ecs, job_id)
    assert job.status == "FAIL"
    assert job.error_code == "Ecs.0101"
    assert job.fail_reason == "disk backend unavailable"
    after = show_server(ecs, server_id)
    assert after.status == "ACTIVE"
    assert boot_volume(after) == old_disk

    # Retrying needs no withStopServer after a failed reinstall, and succeeds.
    job_id = reinstall_v1(ecs, server_id, keyname=key.name, userid=user_id).job_id
    wait_job_success(ecs, job_id)
    assert boot_volume(show_server(ecs, server_id)) != old_disk


def test_bad_fault_is_refused(ecs, clean_faults):
    with pytest.raises(ClientRequestException) as e:
        admin(ecs, "POST", FAULTS, {"operation": "reinstallOs", "step": "nope", "action": "fail"})
    assert e.value.status_code == 400
    assert e.value.error_code == "Ecs.0005"
