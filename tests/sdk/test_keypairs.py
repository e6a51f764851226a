"""Nova key pairs: generate, import, show, list, delete."""

import re
import subprocess

import pytest
import huaweicloudsdkecs.v2 as ecs_v2
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import (
    create_keypair,
    expect_api_error,
    generate_ed25519_public_key,
    have_ssh_keygen,
    md5_fingerprint,
    ssh_keygen_md5,
    unique,
)

FINGERPRINT_RE = re.compile(r"^([0-9a-f]{2}:){15}[0-9a-f]{2}$")


def _show(ecs, name):
    return ecs.nova_show_keypair(ecs_v2.NovaShowKeypairRequest(keypair_name=name)).keypair


def _list_names(ecs):
    resp = ecs.nova_list_keypairs(ecs_v2.NovaListKeypairsRequest())
    return {item.keypair.name: item.keypair for item in resp.keypairs}


def test_generate_keypair(ecs, factory, user_id, tmp_path):
    kp = factory.keypair(prefix="gen")
    assert kp.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert FINGERPRINT_RE.match(kp.fingerprint), kp.fingerprint
    assert kp.fingerprint == md5_fingerprint(kp.public_key), "fingerprint is the MD5 of the public key"
    assert kp.user_id == user_id
    if have_ssh_keygen():
        # The private key really belongs to the public key.
        priv = tmp_path / "generated"
        priv.write_text(kp.private_key if kp.private_key.endswith("\n") else kp.private_key + "\n")
        priv.chmod(0o600)
        derived = subprocess.run(["ssh-keygen", "-y", "-f", str(priv)], check=True,
                                 capture_output=True, text=True).stdout.split()
        assert derived[:2] == kp.public_key.split()[:2]


def test_import_keypair(ecs, factory, user_id, tmp_path):
    pub = generate_ed25519_public_key(tmp_path, comment="imported-by-sdk")
    kp = factory.keypair(public_key=pub, prefix="imp")
    assert not kp.private_key
    assert kp.public_key.split()[:2] == pub.split()[:2]
    assert kp.fingerprint == ssh_keygen_md5(tmp_path, pub)
    assert kp.user_id == user_id


def test_show_keypair(ecs, factory, user_id, tmp_path):
    pub = generate_ed25519_public_key(tmp_path)
    kp = factory.keypair(public_key=pub, prefix="show")
    shown = _show(ecs, kp.name)
    assert shown.name == kp.name
    assert shown.fingerprint == kp.fingerprint
    assert shown.public_key.split()[:2] == pub.split()[:2]
    assert shown.user_id == user_id
    assert shown.deleted is False
    assert isinstance(shown.id, int)
    assert shown.created_at


def test_list_keypairs(ecs, factory, tmp_path):
    generated = factory.keypair(prefix="list-gen")
    imported = factory.keypair(public_key=generate_ed25519_public_key(tmp_path), prefix="list-imp")
    listed = _list_names(ecs)
    assert generated.name in listed and imported.name in listed
    assert listed[generated.name].fingerprint == generated.fingerprint
    assert listed[imported.name].fingerprint == imported.fingerprint
    assert listed[imported.name].public_key.split()[:2] == imported.public_key.split()[:2]


def test_delete_keypair(ecs):
    name = unique("del")
    create_keypair(ecs, name)
    resp = ecs.nova_delete_keypair(ecs_v2.NovaDeleteKeypairRequest(keypair_name=name))
    assert resp.status_code in (200, 202, 204)
    expect_api_error(lambda: _show(ecs, name), 404)
    assert name not in _list_names(ecs)
    expect_api_error(lambda: ecs.nova_delete_keypair(ecs_v2.NovaDeleteKeypairRequest(keypair_name=name)), 404)


def test_duplicate_name_is_rejected(ecs, factory):
    kp = factory.keypair(prefix="dup")
    with pytest.raises(ClientRequestException):
        create_keypair(ecs, kp.name)
    assert _show(ecs, kp.name).fingerprint == kp.fingerprint, "the first key pair is untouched"
