"""Error paths: each rejected call must carry the documented HTTP status and error code."""

import uuid

import pytest
import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkims.v2 as ims_v2

from conftest import (
    AK,
    GOOD_PASSWORD,
    PROJECT_ID,
    SK,
    batch_stop,
    changeos_v1,
    changeos_v2,
    expect_api_error,
    expect_api_error_any,
    make_ecs_client,
    make_ims_client,
    nova_server_action,
    reinstall_v1,
    reinstall_v2,
    show_server,
    stop_server,
    wait_job_success,
)

MODE = "withStopServer"


def _unused_user_id(real: str) -> str:
    other = uuid.uuid4().hex
    return other if other != real else uuid.uuid4().hex


# --- unknown resources --------------------------------------------------------------------------

UNKNOWN_SERVER_CALLS = {
    "show_server": lambda ecs, sid, imgs: ecs.show_server(ecs_v2.ShowServerRequest(server_id=sid)),
    "reinstall_v1": lambda ecs, sid, imgs: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE),
    "reinstall_v2": lambda ecs, sid, imgs: reinstall_v2(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE),
    "changeos_v1": lambda ecs, sid, imgs: changeos_v1(ecs, sid, imgs.no_cloud_init[0][0],
                                                     adminpass=GOOD_PASSWORD, mode=MODE),
    "changeos_v2": lambda ecs, sid, imgs: changeos_v2(ecs, sid, imgs.cloud_init[0][0],
                                                     adminpass=GOOD_PASSWORD, mode=MODE),
}


@pytest.mark.parametrize("operation", sorted(UNKNOWN_SERVER_CALLS))
def test_unknown_server_is_404_ecs_0114(ecs, images, operation):
    missing = str(uuid.uuid4())
    call = UNKNOWN_SERVER_CALLS[operation]
    expect_api_error(lambda: call(ecs, missing, images), 404, "Ecs.0114")


def test_show_job_of_unknown_job_is_common_0011(ecs):
    job_id = uuid.uuid4().hex
    e = expect_api_error_any(lambda: ecs.show_job(ecs_v2.ShowJobRequest(job_id=job_id)),
                             {(status, "Common.0011") for status in range(400, 500)})
    assert e.error_msg


def test_show_unknown_keypair_is_404(ecs):
    expect_api_error(
        lambda: ecs.nova_show_keypair(ecs_v2.NovaShowKeypairRequest(keypair_name="no-such-key-" + uuid.uuid4().hex[:8])),
        404)


# --- server state -------------------------------------------------------------------------------

def test_running_server_without_mode_is_ecs_0100(ecs, factory):
    sid = factory.server()
    expect_api_error(lambda: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD), 400, "Ecs.0100")
    # Nothing happened to the server.
    server = show_server(ecs, sid)
    assert server.status == "ACTIVE"
    assert server.os_ext_st_stask_state in (None, "")


def test_running_server_changeos_without_mode_is_ecs_0100(ecs, factory, images):
    sid = factory.server()
    expect_api_error(lambda: changeos_v1(ecs, sid, images.no_cloud_init[1][0], adminpass=GOOD_PASSWORD),
                     400, "Ecs.0100")


def test_running_server_v2_without_mode_is_ecs_0100(ecs, factory, images):
    sid = factory.server(cloud_init=True)
    expect_api_error(lambda: reinstall_v2(ecs, sid, adminpass=GOOD_PASSWORD), 400, "Ecs.0100")
    expect_api_error(lambda: changeos_v2(ecs, sid, images.cloud_init[1][0], adminpass=GOOD_PASSWORD),
                     400, "Ecs.0100")


def test_locked_server_is_ecs_0605(ecs, factory):
    sid = factory.server()
    nova_server_action(ecs, sid, "lock")
    try:
        assert show_server(ecs, sid).locked is True
        expect_api_error(lambda: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE), 400, "Ecs.0605")
    finally:
        nova_server_action(ecs, sid, "unlock")
    assert show_server(ecs, sid).locked is False
    # Once unlocked, the same request is accepted.
    wait_job_success(ecs, reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE).job_id)


def test_second_reinstall_while_first_runs_is_rejected(slow_factory):
    """Needs overlapping operations, so it runs against an ecsd with a slow simulated driver."""
    ecs = slow_factory.client
    sid = slow_factory.server()
    first = reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE)
    try:
        # The spec allows 400 Ecs.0100 or 501 Ecs.0603 for an operation already in progress.
        expect_api_error_any(
            lambda: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode=MODE),
            {(400, "Ecs.0100"), (501, "Ecs.0603")})
    finally:
        wait_job_success(ecs, first.job_id)
    assert show_server(ecs, sid).status == "ACTIVE"


def test_reinstall_without_mode_right_after_stop_is_ecs_0100(slow_factory):
    """A stop has been accepted but the server is not SHUTOFF yet: a reinstall without mode fails."""
    ecs = slow_factory.client
    sid = slow_factory.server()
    stop = batch_stop(ecs, [sid])
    try:
        expect_api_error(lambda: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD), 400, "Ecs.0100")
    finally:
        wait_job_success(ecs, stop.job_id)
    assert show_server(ecs, sid).status == "SHUTOFF"


# --- request validation (Ecs.0005) ----------------------------------------------------------------

def test_keyname_without_userid_is_ecs_0005(ecs, factory):
    sid = factory.server()
    kp = factory.keypair()
    expect_api_error(lambda: reinstall_v1(ecs, sid, keyname=kp.name, mode=MODE), 400, "Ecs.0005")


def test_v1_needs_adminpass_or_keyname(ecs, factory, images, user_id):
    sid = factory.server()
    expect_api_error(lambda: reinstall_v1(ecs, sid, mode=MODE), 400, "Ecs.0005")
    expect_api_error(lambda: reinstall_v1(ecs, sid, userid=user_id, mode=MODE), 400, "Ecs.0005")
    expect_api_error(lambda: changeos_v1(ecs, sid, images.no_cloud_init[1][0], mode=MODE), 400, "Ecs.0005")


def test_v2_rejects_adminpass_with_keyname(ecs, factory, images, user_id):
    sid = factory.server(cloud_init=True)
    kp = factory.keypair()
    expect_api_error(
        lambda: reinstall_v2(ecs, sid, adminpass=GOOD_PASSWORD, keyname=kp.name, userid=user_id, mode=MODE),
        400, "Ecs.0005")
    expect_api_error(
        lambda: changeos_v2(ecs, sid, images.cloud_init[1][0], adminpass=GOOD_PASSWORD, keyname=kp.name,
                            userid=user_id, mode=MODE),
        400, "Ecs.0005")


def test_v2_without_credentials_needs_user_data(ecs, factory):
    sid = factory.server(cloud_init=True)
    expect_api_error(lambda: reinstall_v2(ecs, sid, mode=MODE), 400, "Ecs.0005")


def test_bad_mode_is_ecs_0005(ecs, factory):
    sid = factory.server()
    stop_server(ecs, sid)  # stopped, so only the mode value is wrong
    expect_api_error(lambda: reinstall_v1(ecs, sid, adminpass=GOOD_PASSWORD, mode="withoutStopServer"),
                     400, "Ecs.0005")


def test_missing_os_reinstall_object_is_ecs_0005(ecs, factory):
    sid = factory.server()
    body = ecs_v2.ReinstallServerWithoutCloudInitRequestBody()  # sent as {}
    expect_api_error(
        lambda: ecs.reinstall_server_without_cloud_init(
            ecs_v2.ReinstallServerWithoutCloudInitRequest(server_id=sid, body=body)),
        400, "Ecs.0005")


def test_changeos_without_imageid_is_ecs_0005(ecs, factory):
    sid = factory.server()
    expect_api_error(lambda: changeos_v1(ecs, sid, None, adminpass=GOOD_PASSWORD, mode=MODE), 400, "Ecs.0005")


# --- key pairs, passwords, images -----------------------------------------------------------------

def test_unknown_keypair_is_ecs_0314(ecs, factory, user_id):
    sid = factory.server()
    expect_api_error(
        lambda: reinstall_v1(ecs, sid, keyname="no-such-key-" + uuid.uuid4().hex[:8], userid=user_id, mode=MODE),
        400, "Ecs.0314")


def test_keypair_of_another_user_is_ecs_0314(ecs, factory, user_id):
    sid = factory.server()
    kp = factory.keypair()
    expect_api_error(
        lambda: reinstall_v1(ecs, sid, keyname=kp.name, userid=_unused_user_id(user_id), mode=MODE),
        400, "Ecs.0314")


def test_bad_password_is_ecs_0011(ecs, factory):
    sid = factory.server()
    expect_api_error(lambda: reinstall_v1(ecs, sid, adminpass="abc", mode=MODE), 400, "Ecs.0011")


def test_v2_bad_password_is_ecs_0011(ecs, factory):
    sid = factory.server(cloud_init=True)
    expect_api_error(lambda: reinstall_v2(ecs, sid, adminpass="abc", mode=MODE), 400, "Ecs.0011")


def test_changeos_unknown_image_is_ecs_0031(ecs, factory):
    sid = factory.server()
    expect_api_error(lambda: changeos_v1(ecs, sid, str(uuid.uuid4()), adminpass=GOOD_PASSWORD, mode=MODE),
                     400, "Ecs.0031")
    assert show_server(ecs, sid).status == "ACTIVE"


# --- authentication -------------------------------------------------------------------------------

def test_wrong_secret_key_is_401_apigw_0301(ecsd):
    bad = make_ecs_client(ecsd.endpoint, sk=SK[:-1] + ("0" if SK[-1] != "0" else "1"))
    expect_api_error(lambda: bad.list_flavors(ecs_v2.ListFlavorsRequest()), 401, "APIGW.0301")


def test_unknown_access_key_is_401_apigw_0301(ecsd):
    bad = make_ecs_client(ecsd.endpoint, ak="UNKNOWNAK00000000000")
    expect_api_error(lambda: bad.show_job(ecs_v2.ShowJobRequest(job_id=uuid.uuid4().hex)), 401, "APIGW.0301")


def test_wrong_secret_key_cannot_reinstall(ecsd, factory):
    sid = factory.server()
    bad = make_ecs_client(ecsd.endpoint, sk="x" * len(SK))
    expect_api_error(lambda: reinstall_v1(bad, sid, adminpass=GOOD_PASSWORD, mode=MODE), 401, "APIGW.0301")
    assert show_server(factory.client, sid).status == "ACTIVE"


def test_stale_signature_date_is_401_apigw_0301(ecsd):
    """The signature is valid, but X-Sdk-Date is far outside the 15-minute window."""
    ims = make_ims_client(ecsd.endpoint)
    expect_api_error(
        lambda: ims.list_images(ims_v2.ListImagesRequest(imagetype="gold", x_sdk_date="20200101T000000Z")),
        401, "APIGW.0301")


def test_errors_carry_a_request_id(ecs):
    e = expect_api_error(lambda: ecs.show_server(ecs_v2.ShowServerRequest(server_id=str(uuid.uuid4()))),
                         404, "Ecs.0114")
    assert e.request_id, "error responses carry an X-Request-Id header"
    assert e.error_msg


def test_valid_credentials_are_accepted(ecsd):
    ok = make_ecs_client(ecsd.endpoint, ak=AK, sk=SK, project_id=PROJECT_ID)
    assert ok.list_flavors(ecs_v2.ListFlavorsRequest()).flavors
