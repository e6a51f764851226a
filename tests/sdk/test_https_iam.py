"""HTTPS with the generated certificate, and the IAM project lookup the SDKs make for a region."""

import huaweicloudsdkecs.v2 as ecs_v2
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.region.region import Region

from conftest import AK, PROJECT_ID, SK, _http_config, make_ecs_client


def test_the_sdk_works_over_https_with_verification_off(ecsd):
    assert ecsd.https_endpoint.startswith("https://127.0.0.1:")
    client = make_ecs_client(ecsd.https_endpoint)
    flavors = client.list_flavors(ecs_v2.ListFlavorsRequest()).flavors
    assert any(f.id == "s6.small.1" for f in flavors)


def test_a_region_without_project_id_is_resolved_through_iam(ecsd, monkeypatch):
    # With a region and no project id, the SDK asks IAM (GET /v3/projects?name=<region>) which
    # project to use; ecsd answers it like IAM.
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", ecsd.endpoint)
    client = (ecs_v2.EcsClient.new_builder()
              .with_http_config(_http_config())
              .with_credentials(BasicCredentials(AK, SK))
              .with_region(Region("cn-north-4", ecsd.endpoint))
              .build())
    listed = client.list_servers_details(ecs_v2.ListServersDetailsRequest(limit=1))
    assert listed.count is not None
    assert client.get_credentials().project_id == PROJECT_ID
