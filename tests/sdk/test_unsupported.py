"""Operations ecsd does not carry out, called through the official SDK: each one is a
ClientRequestException (HTTP 400, `Ecs.0000`) whose message names the operation, never the
gateway's "API does not exist"."""

import uuid

import pytest
import huaweicloudsdkecs.v2 as ecs_v2

from conftest import expect_api_error

SERVER = str(uuid.uuid4())

CALLS = {
    "ChangeVpc": lambda ecs: ecs.change_vpc(ecs_v2.ChangeVpcRequest(
        server_id=SERVER, body=ecs_v2.ChangeVpcRequestBody(vpc_id=str(uuid.uuid4())))),
    # Shared volumes on several servers at once: each volume is attached to one server here.
    "BatchAttachSharableVolumes": lambda ecs: ecs.batch_attach_sharable_volumes(
        ecs_v2.BatchAttachSharableVolumesRequest(volume_id=str(uuid.uuid4()), body=ecs_v2.BatchAttachSharableVolumesRequestBody(
            serverinfo=[ecs_v2.BatchAttachSharableVolumesOption(server_id=SERVER)]))),
    "BatchDetachVolumes": lambda ecs: ecs.batch_detach_volumes(ecs_v2.BatchDetachVolumesRequest(
        volume_id=str(uuid.uuid4()), body=ecs_v2.VolumeBatchDetachRequest(serverinfo=[SERVER]))),
    "ListScheduledEvents": lambda ecs: ecs.list_scheduled_events(ecs_v2.ListScheduledEventsRequest()),
    "ListTemplates": lambda ecs: ecs.list_templates(ecs_v2.ListTemplatesRequest()),
    "ShowRecycleBin": lambda ecs: ecs.show_recycle_bin(ecs_v2.ShowRecycleBinRequest()),
    "ShowMetadataOptions": lambda ecs: ecs.show_metadata_options(
        ecs_v2.ShowMetadataOptionsRequest(server_id=SERVER)),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_unsupported_operation_is_a_named_client_error(ecs, operation):
    e = expect_api_error(lambda: CALLS[operation](ecs), 400, "Ecs.0000")
    assert operation in e.error_msg, e.error_msg
    assert "not supported" in e.error_msg, e.error_msg
