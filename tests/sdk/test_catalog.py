"""The catalog a project sees: IMS images, ECS flavors, the default VPC and subnet."""

import ipaddress
import json

import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkims.v2 as ims_v2
import huaweicloudsdkvpc.v2 as vpc_v2

from conftest import expect_api_error, ip_in_cidr


def _no_cloud_init_by_name(name: str) -> bool:
    return "(no Cloud-Init)" in name or name == "Huawei Cloud EulerOS 2.0 Standard 64 bit"


def test_list_images_public_linux(ims):
    resp = ims.list_images(ims_v2.ListImagesRequest(imagetype="gold"))
    assert len(resp.images) >= 2
    ids = [i.id for i in resp.images]
    assert len(set(ids)) == len(ids)
    for img in resp.images:
        assert img.imagetype == "gold"
        assert img.os_type == "Linux"
        assert img.status == "active"
        assert img.visibility == "public"
        assert img.name
        assert isinstance(img.min_disk, int) and img.min_disk > 0


def test_images_cloud_init_flag(ims):
    resp = ims.list_images(ims_v2.ListImagesRequest(imagetype="gold"))
    raw = {i["id"]: i for i in json.loads(resp.raw_content)["images"]}
    kinds = set()
    for img in resp.images:
        flag = raw[img.id].get("__is_config_init")
        assert flag in ("true", "false"), f"{img.name}: __is_config_init={flag!r}"
        detail = ims.glance_show_image(ims_v2.GlanceShowImageRequest(image_id=img.id))
        assert detail.id == img.id and detail.name == img.name
        assert detail.is_config_init == flag
        assert (flag == "false") == _no_cloud_init_by_name(img.name), img.name
        kinds.add(flag)
    assert kinds == {"true", "false"}, "images with and without Cloud-Init are both offered"


def test_list_flavors(ecs):
    flavors = ecs.list_flavors(ecs_v2.ListFlavorsRequest()).flavors
    by_id = {f.id: f for f in flavors}
    assert {"s6.small.1", "s6.large.2"} <= set(by_id), sorted(by_id)
    small = by_id["s6.small.1"]
    assert small.name == "s6.small.1"
    assert small.vcpus == "1" and small.ram == 1024
    large = by_id["s6.large.2"]
    assert large.vcpus == "2" and large.ram == 4096


def test_default_vpc_and_subnet(vpc):
    vpcs = vpc.list_vpcs(vpc_v2.ListVpcsRequest()).vpcs
    assert len(vpcs) >= 1
    default = vpcs[0]
    assert default.id and default.cidr
    vpc_net = ipaddress.ip_network(default.cidr)

    subnets = vpc.list_subnets(vpc_v2.ListSubnetsRequest(vpc_id=default.id)).subnets
    assert len(subnets) >= 1
    for s in subnets:
        assert s.vpc_id == default.id
        assert ipaddress.ip_network(s.cidr).subnet_of(vpc_net)
        assert ip_in_cidr(s.gateway_ip, s.cidr)

    all_subnets = vpc.list_subnets(vpc_v2.ListSubnetsRequest()).subnets
    assert {s.id for s in subnets} <= {s.id for s in all_subnets}


def test_show_unknown_image_is_404(ims):
    unknown = "00000000-0000-4000-8000-000000000000"
    expect_api_error(lambda: ims.glance_show_image(ims_v2.GlanceShowImageRequest(image_id=unknown)), 404)
