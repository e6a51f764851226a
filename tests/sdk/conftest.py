"""Fixtures and helpers of the SDK conformance suite: runs ecsd and builds the official Huawei clients."""

import base64
import hashlib
import ipaddress
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The SDK writes ~/.huaweicloud/application_id when a client is built: keep that out of the
# real home directory. This must happen before any client is built.
_SDK_HOME = tempfile.mkdtemp(prefix="ecsd-sdk-home-")
os.environ["HOME"] = _SDK_HOME
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1", "localhost"]))

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import (  # noqa: E402
    ClientRequestException,
    ServiceResponseException,
)
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
import huaweicloudsdkecs.v2 as ecs_v2  # noqa: E402
import huaweicloudsdkims.v2 as ims_v2  # noqa: E402
import huaweicloudsdkvpc.v2 as vpc_v2  # noqa: E402

from pg_cluster import Cluster  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]

# Fixed test credentials handed to ecsd through its environment.
AK = "ECSDSDKTESTAK0000001"
SK = "ecsdSdkTestSecretKey00000000000000000001"
PROJECT_ID = "5f1c7a2e9b3d4c6a8e0f1a2b3c4d5e6f"

STARTUP_TIMEOUT_S = 30.0
JOB_POLL_S = 0.05
JOB_TIMEOUT_S = 30.0

# A password that satisfies the documented complexity rules (8-26 chars, 3 of 4 classes).
GOOD_PASSWORD = "Ecsd@Test2024"
DEFAULT_FLAVOR = "s6.small.1"
USER_DATA = base64.b64encode(b"#!/bin/bash\necho ecsd-sdk-test\n").decode()

_ENDPOINT_RE = re.compile(r"^\s+endpoint:\s+(https?://\S+)\s*$")
_USER_ID_RE = re.compile(r"^\s+user_id:\s+([0-9a-f]{32})\s*$")
_HTTPS_RE = re.compile(r"^\s+https:\s+(https://\S+)\s*$")
_STORE_RE = re.compile(r"^\s+store:\s+(\S.*?)\s*$")


# ---------------------------------------------------------------------------------------------
# Running ecsd
# ---------------------------------------------------------------------------------------------

def ecsd_binary() -> Path:
    """The binary under test: $ECSD_BIN, else <repo>/target/debug/ecsd (built if missing)."""
    env_bin = os.environ.get("ECSD_BIN")
    if env_bin:
        path = Path(env_bin)
        if not path.is_file():
            pytest.exit(f"ECSD_BIN={env_bin} does not exist", returncode=3)
        return path
    path = REPO_ROOT / "target" / "debug" / "ecsd"
    if not path.is_file():
        build = subprocess.run(["cargo", "build", "-p", "ecsd"], cwd=REPO_ROOT)
        if build.returncode != 0 or not path.is_file():
            pytest.exit("cargo build -p ecsd failed", returncode=3)
    return path


@dataclass
class Ecsd:
    """One running ecsd process."""

    proc: subprocess.Popen
    endpoint: str
    user_id: str
    data_dir: Path
    log_path: Path
    https_endpoint: str = ""
    stdout_lines: list = field(default_factory=list)

    @property
    def metrics_url(self) -> str:
        """The `/metrics` URL the banner names (the SDK suite's servers all serve metrics)."""
        for line in self.stdout_lines:
            if line.strip().startswith("metrics:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError("the banner names no metrics URL:\n" + "\n".join(self.stdout_lines))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ECSD_TEST_STORE=postgres runs the suite on the PostgreSQL store: every ecsd gets a database
# of its own on one throwaway cluster for the session. Unset (or sqlite): ecsd.db in the data dir.
_STORE = os.environ.get("ECSD_TEST_STORE") or "sqlite"
if _STORE not in ("sqlite", "postgres"):
    raise RuntimeError(f"ECSD_TEST_STORE={_STORE}: expected sqlite or postgres")
_cluster = None


def _store_args() -> list:
    """The `--store` arguments of a new ecsd: none on SQLite, a fresh database on PostgreSQL."""
    global _cluster
    if _STORE != "postgres":
        return []
    if _cluster is None:
        _cluster = Cluster()
    return ["--store", _cluster.fresh_database()]


def start_ecsd(step_ms: int = 0, extra_args=()) -> Ecsd:
    """Starts `ecsd serve` on a free port with a fresh data dir and waits for its banner."""
    binary = ecsd_binary()
    store_args = _store_args()
    work = Path(tempfile.mkdtemp(prefix="ecsd-sdk-"))
    data_dir = work / "data"
    data_dir.mkdir()
    log_path = work / "stderr.log"
    env = dict(os.environ)
    env.update(
        HUAWEICLOUD_SDK_AK=AK,
        HUAWEICLOUD_SDK_SK=SK,
        HUAWEICLOUD_SDK_PROJECT_ID=PROJECT_ID,
        ECSD_SIM_STEP_MS=str(step_ms),
    )
    # The store is the one named here, never one the caller's environment happens to name.
    env.pop("ECSD_STORE", None)
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0",
         "--data-dir", str(data_dir), "--metrics-listen", "127.0.0.1:0",
         "--driver", "sim", *store_args, *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
        text=True,
        bufsize=1,
    )
    log.close()
    lines: list = []
    found: "queue.Queue[tuple[str, str]]" = queue.Queue()

    def pump() -> None:
        # Keeps draining stdout for the whole life of the process so it never blocks.
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            m = _ENDPOINT_RE.match(line)
            if m:
                found.put(("endpoint", m.group(1)))
            m = _USER_ID_RE.match(line)
            if m:
                found.put(("user_id", m.group(1)))
            m = _HTTPS_RE.match(line)
            if m:
                found.put(("https", m.group(1)))
            m = _STORE_RE.match(line)
            if m:
                found.put(("store", m.group(1)))
        found.put(("eof", ""))

    threading.Thread(target=pump, name="ecsd-stdout", daemon=True).start()

    info: dict = {}
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not all(k in info for k in ("endpoint", "user_id", "https", "store")):
        remaining = deadline - time.monotonic()
        try:
            kind, value = found.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            kind = "timeout"
        if kind in ("eof", "timeout") or remaining <= 0:
            what = "exited" if proc.poll() is not None else "printed no complete banner"
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(
                f"ecsd {what} within {STARTUP_TIMEOUT_S:.0f}s (rc={proc.returncode}).\n"
                f"stdout:\n" + "\n".join(lines) + f"\nstderr:\n{_tail(log_path)}"
            )
        info[kind] = value

    if store_args and "postgres" not in info["store"]:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"ecsd was given a PostgreSQL store, but its banner names {info['store']!r}")

    # The banner should follow the bind, but give the listener a moment anyway.
    host_port = info["endpoint"].split("://", 1)[1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    until = time.monotonic() + 5
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                break
        except OSError:
            if time.monotonic() > until:
                raise
            time.sleep(0.05)

    return Ecsd(proc=proc, endpoint=info["endpoint"].rstrip("/"), user_id=info["user_id"],
                data_dir=data_dir, log_path=log_path, https_endpoint=info["https"].rstrip("/"),
                stdout_lines=lines)


def _stop_and_clean(server: Ecsd) -> None:
    server.stop()
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def ecsd():
    """The ecsd instance most tests use (zero-delay simulated driver)."""
    server = start_ecsd(step_ms=0)
    yield server
    _stop_and_clean(server)


@pytest.fixture(scope="session")
def ecsd_slow():
    """A second ecsd whose simulated driver takes time per step, so that operations overlap."""
    server = start_ecsd(step_ms=250)
    yield server
    _stop_and_clean(server)


def pytest_sessionfinish(session, exitstatus):
    # The ecsd fixtures have been torn down by now, so the cluster has no client left.
    if _cluster is not None:
        _cluster.stop()
    shutil.rmtree(_SDK_HOME, ignore_errors=True)


def pytest_report_header(config):
    return f"ecsd store: {_STORE}"


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

def _http_config() -> HttpConfig:
    cfg = HttpConfig.get_default_config()
    cfg.ignore_ssl_verification = True
    cfg.timeout = (10, 60)
    return cfg


def make_ecs_client(endpoint: str, ak: str = AK, sk: str = SK, project_id: str = PROJECT_ID):
    return (ecs_v2.EcsClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([endpoint])
            .build())


def make_ims_client(endpoint: str, ak: str = AK, sk: str = SK):
    return (ims_v2.ImsClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(ak, sk))
            .with_endpoints([endpoint])
            .build())


def make_vpc_client(endpoint: str, ak: str = AK, sk: str = SK, project_id: str = PROJECT_ID):
    return (vpc_v2.VpcClient.new_builder()
            .with_http_config(_http_config())
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([endpoint])
            .build())


@pytest.fixture(scope="session")
def ecs(ecsd):
    return make_ecs_client(ecsd.endpoint)


@pytest.fixture(scope="session")
def ims(ecsd):
    return make_ims_client(ecsd.endpoint)


@pytest.fixture(scope="session")
def vpc(ecsd):
    return make_vpc_client(ecsd.endpoint)


@pytest.fixture(scope="session")
def user_id(ecsd):
    return ecsd.user_id


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_job(client, job_id: str, timeout: float = JOB_TIMEOUT_S):
    """Polls show_job every 50 ms until SUCCESS or FAIL; returns the final ShowJobResponse."""
    assert job_id, "no job_id to wait for"
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = client.show_job(ecs_v2.ShowJobRequest(job_id=job_id))
        if last.status in ("SUCCESS", "FAIL"):
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {last.status!r} after {timeout:.0f}s: {last}")
        time.sleep(JOB_POLL_S)


def wait_job_success(client, job_id: str, timeout: float = JOB_TIMEOUT_S):
    job = wait_job(client, job_id, timeout)
    assert job.status == "SUCCESS", (
        f"job {job_id} ({job.job_type}) ended {job.status}: "
        f"error_code={job.error_code!r} fail_reason={job.fail_reason!r}; {job}"
    )
    return job


def expect_api_error(call, status: int, code=None):
    """Runs `call` and asserts it fails with HTTP `status` and SDK `error_code` == `code`
    (`code` may be a set of accepted codes, or None to check only the status)."""
    try:
        resp = call()
    except ServiceResponseException as e:
        codes = code if isinstance(code, (set, frozenset, tuple, list)) else {code}
        assert e.status_code == status and (code is None or e.error_code in codes), (
            f"expected HTTP {status} {code}, got HTTP {e.status_code} {e.error_code!r}: {e.error_msg!r}"
        )
        if 400 <= status < 500:
            assert isinstance(e, ClientRequestException)
        return e
    pytest.fail(f"expected HTTP {status} {code}, but the call succeeded: {resp}")


def expect_api_error_any(call, accepted):
    """Like expect_api_error, for a set of accepted (status, error_code) pairs."""
    codes = sorted({c for _, c in accepted})
    statuses = sorted({s for s, _ in accepted})
    want = f"HTTP {statuses[0]}..{statuses[-1]} {codes}" if len(accepted) > 4 else str(sorted(accepted))
    try:
        resp = call()
    except ServiceResponseException as e:
        assert (e.status_code, e.error_code) in accepted, (
            f"expected {want}, got HTTP {e.status_code} {e.error_code!r}: {e.error_msg!r}")
        return e
    pytest.fail(f"expected {want}, but the call succeeded: {resp}")


def show_server(client, server_id: str):
    return client.show_server(ecs_v2.ShowServerRequest(server_id=server_id)).server


def boot_volume(server) -> str:
    vols = [v for v in (server.os_extended_volumesvolumes_attached or []) if v.boot_index == "0"]
    assert len(vols) == 1, f"expected one boot volume, got {server.os_extended_volumesvolumes_attached}"
    return vols[0].id


def private_ips(server) -> list:
    return [a.addr for addrs in (server.addresses or {}).values() for a in addrs
            if a.os_ext_ip_stype in (None, "fixed")]


def ip_in_cidr(ip: str, cidr: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)


def md5_fingerprint(public_key: str) -> str:
    """Colon-separated MD5 of an OpenSSH public key blob (what `ssh-keygen -l -E md5` prints)."""
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- reinstall / change OS ------------------------------------------------------------------

def reinstall_v1(client, server_id: str, metadata=None, **opt):
    option = ecs_v2.ReinstallServerWithoutCloudInitOption(metadata=metadata, **opt)
    body = ecs_v2.ReinstallServerWithoutCloudInitRequestBody(os_reinstall=option)
    return client.reinstall_server_without_cloud_init(
        ecs_v2.ReinstallServerWithoutCloudInitRequest(server_id=server_id, body=body))


def reinstall_v2(client, server_id: str, user_data=None, **opt):
    metadata = ecs_v2.ReinstallSeverMetadata(user_data=user_data) if user_data else None
    option = ecs_v2.ReinstallServerWithCloudInitOption(metadata=metadata, **opt)
    body = ecs_v2.ReinstallServerWithCloudInitRequestBody(os_reinstall=option)
    return client.reinstall_server_with_cloud_init(
        ecs_v2.ReinstallServerWithCloudInitRequest(server_id=server_id, body=body))


def changeos_v1(client, server_id: str, imageid: str, **opt):
    option = ecs_v2.ChangeServerOsWithoutCloudInitOption(imageid=imageid, **opt)
    body = ecs_v2.ChangeServerOsWithoutCloudInitRequestBody(os_change=option)
    return client.change_server_os_without_cloud_init(
        ecs_v2.ChangeServerOsWithoutCloudInitRequest(server_id=server_id, body=body))


def changeos_v2(client, server_id: str, imageid: str, user_data=None, **opt):
    metadata = ecs_v2.ChangeSeversOsMetadata(user_data=user_data) if user_data else None
    option = ecs_v2.ChangeServerOsWithCloudInitOption(imageid=imageid, metadata=metadata, **opt)
    body = ecs_v2.ChangeServerOsWithCloudInitRequestBody(os_change=option)
    return client.change_server_os_with_cloud_init(
        ecs_v2.ChangeServerOsWithCloudInitRequest(server_id=server_id, body=body))


# --- batch actions ------------------------------------------------------------------------------

def _ids(server_ids):
    return [ecs_v2.ServerId(id=s) for s in server_ids]


def batch_stop(client, server_ids, type_=None):
    body = ecs_v2.BatchStopServersRequestBody(
        os_stop=ecs_v2.BatchStopServersOption(servers=_ids(server_ids), type=type_))
    return client.batch_stop_servers(ecs_v2.BatchStopServersRequest(body=body))


def batch_start(client, server_ids):
    body = ecs_v2.BatchStartServersRequestBody(
        os_start=ecs_v2.BatchStartServersOption(servers=_ids(server_ids)))
    return client.batch_start_servers(ecs_v2.BatchStartServersRequest(body=body))


def batch_reboot(client, server_ids, type_="SOFT"):
    body = ecs_v2.BatchRebootServersRequestBody(
        reboot=ecs_v2.BatchRebootSeversOption(servers=_ids(server_ids), type=type_))
    return client.batch_reboot_servers(ecs_v2.BatchRebootServersRequest(body=body))


def delete_servers(client, server_ids):
    body = ecs_v2.DeleteServersRequestBody(servers=_ids(server_ids))
    return client.delete_servers(ecs_v2.DeleteServersRequest(body=body))


def stop_server(client, server_id: str) -> None:
    wait_job_success(client, batch_stop(client, [server_id]).job_id)
    server = show_server(client, server_id)
    assert server.status == "SHUTOFF", f"server {server_id} is {server.status} after a stop job"


def nova_server_action(client, server_id: str, action: str):
    """POST /v2.1/{project_id}/servers/{server_id}/action with {"<action>": null} (lock, unlock).

    The ECS SDK has no method for it, so this goes through the client's own generic request
    path: it is signed and its errors are parsed exactly like those of the generated methods."""
    return client.do_http_request(
        method="POST",
        resource_path="/v2.1/{project_id}/servers/{server_id}/action",
        path_params={"server_id": server_id},
        query_params=[],
        header_params={"Content-Type": "application/json;charset=utf-8"},
        body={action: None},
        post_params={},
        cname=None,
        response_type="NovaAssociateSecurityGroupResponse",  # an empty response model
        response_headers=[],
        collection_formats={},
    )


# ---------------------------------------------------------------------------------------------
# Catalog fixtures
# ---------------------------------------------------------------------------------------------

@dataclass
class Network:
    vpc_id: str
    vpc_cidr: str
    subnet_id: str
    subnet_cidr: str
    gateway_ip: str


@dataclass
class Images:
    all: list            # ImageInfo models from IMS list_images
    cloud_init: list     # (id, name) of images with Cloud-Init
    no_cloud_init: list  # (id, name) of images without Cloud-Init
    config_init: dict    # id -> raw "__is_config_init" from glance_show_image

    def name(self, image_id: str) -> str:
        return next(i.name for i in self.all if i.id == image_id)


def _network(vpc_client) -> Network:
    vpcs = vpc_client.list_vpcs(vpc_v2.ListVpcsRequest()).vpcs
    assert vpcs, "the project has no VPC"
    v = vpcs[0]
    subnets = vpc_client.list_subnets(vpc_v2.ListSubnetsRequest(vpc_id=v.id)).subnets
    assert subnets, f"VPC {v.id} has no subnet"
    s = subnets[0]
    return Network(vpc_id=v.id, vpc_cidr=v.cidr, subnet_id=s.id, subnet_cidr=s.cidr,
                   gateway_ip=s.gateway_ip)


def _images(ims_client) -> Images:
    listed = ims_client.list_images(ims_v2.ListImagesRequest(imagetype="gold")).images or []
    ci, no_ci, flags = [], [], {}
    for img in listed:
        detail = ims_client.glance_show_image(ims_v2.GlanceShowImageRequest(image_id=img.id))
        flags[img.id] = detail.is_config_init
        (ci if detail.is_config_init == "true" else no_ci).append((img.id, img.name))
    return Images(all=listed, cloud_init=ci, no_cloud_init=no_ci, config_init=flags)


@pytest.fixture(scope="session")
def network(vpc) -> Network:
    return _network(vpc)


@pytest.fixture(scope="session")
def images(ims) -> Images:
    imgs = _images(ims)
    assert len(imgs.no_cloud_init) >= 2 and len(imgs.cloud_init) >= 2, (
        f"need two images of each kind: cloud-init={imgs.cloud_init} no-cloud-init={imgs.no_cloud_init}")
    return imgs


def _flavor(ecs_client) -> str:
    flavors = ecs_client.list_flavors(ecs_v2.ListFlavorsRequest()).flavors or []
    ids = [f.id for f in flavors]
    assert ids, "no flavors"
    return DEFAULT_FLAVOR if DEFAULT_FLAVOR in ids else ids[0]


@pytest.fixture(scope="session")
def flavor_id(ecs) -> str:
    return _flavor(ecs)


# ---------------------------------------------------------------------------------------------
# Factories for key pairs and servers (cleaned up after each test)
# ---------------------------------------------------------------------------------------------

def create_keypair(client, name: str, public_key=None):
    option = ecs_v2.NovaCreateKeypairOption(name=name, public_key=public_key)
    return client.nova_create_keypair(
        ecs_v2.NovaCreateKeypairRequest(body=ecs_v2.NovaCreateKeypairRequestBody(keypair=option))).keypair


def post_paid_server_body(net: Network, image_id: str, flavor: str, name: str, key_name=None,
                          count=None, admin_pass=None):
    server = ecs_v2.PostPaidServer(
        name=name,
        image_ref=image_id,
        flavor_ref=flavor,
        vpcid=net.vpc_id,
        nics=[ecs_v2.PostPaidServerNic(subnet_id=net.subnet_id)],
        root_volume=ecs_v2.PostPaidServerRootVolume(volumetype="SSD"),
        key_name=key_name,
        admin_pass=admin_pass,
        count=count,
    )
    return ecs_v2.CreatePostPaidServersRequestBody(server=server)


class Factory:
    """Creates key pairs and servers for one test and removes them afterwards."""

    def __init__(self, client, net: Network, imgs: Images, flavor: str, user_id: str):
        self.client = client
        self.net = net
        self.images = imgs
        self.flavor = flavor
        self.user_id = user_id
        self.keypairs: list = []
        self.servers: list = []

    def keypair(self, public_key=None, prefix="kp"):
        kp = create_keypair(self.client, unique(prefix), public_key)
        self.keypairs.append(kp.name)
        return kp

    def create_servers(self, image_id=None, key_name=None, name=None, count=None, admin_pass=None):
        """Sends create_post_paid_servers; returns the response without waiting."""
        if image_id is None:
            image_id = self.images.no_cloud_init[0][0]
        if key_name is None and admin_pass is None:
            key_name = self.keypair().name
        body = post_paid_server_body(self.net, image_id, self.flavor, name or unique("srv"),
                                     key_name=key_name, count=count, admin_pass=admin_pass)
        resp = self.client.create_post_paid_servers(ecs_v2.CreatePostPaidServersRequest(body=body))
        self.servers.extend(resp.server_ids or [])
        return resp

    def server(self, image_id=None, key_name=None, name=None, cloud_init=False) -> str:
        """Creates one server, waits for its job to succeed and returns its id."""
        if image_id is None:
            pool = self.images.cloud_init if cloud_init else self.images.no_cloud_init
            image_id = pool[0][0]
        resp = self.create_servers(image_id=image_id, key_name=key_name, name=name)
        assert resp.job_id and resp.server_ids and len(resp.server_ids) == 1, resp
        wait_job_success(self.client, resp.job_id)
        return resp.server_ids[0]

    def cleanup(self) -> None:
        for sid in self.servers:
            try:
                nova_server_action(self.client, sid, "unlock")
            except Exception:
                pass
        if self.servers:
            try:
                job = delete_servers(self.client, self.servers).job_id
                wait_job(self.client, job, timeout=10)
            except Exception:
                pass
        for name in self.keypairs:
            try:
                self.client.nova_delete_keypair(ecs_v2.NovaDeleteKeypairRequest(keypair_name=name))
            except Exception:
                pass


@pytest.fixture
def factory(ecs, network, images, flavor_id, user_id):
    f = Factory(ecs, network, images, flavor_id, user_id)
    yield f
    f.cleanup()


@pytest.fixture
def slow_factory(ecsd_slow):
    client = make_ecs_client(ecsd_slow.endpoint)
    net = _network(make_vpc_client(ecsd_slow.endpoint))
    imgs = _images(make_ims_client(ecsd_slow.endpoint))
    f = Factory(client, net, imgs, _flavor(client), ecsd_slow.user_id)
    yield f
    f.cleanup()


# ---------------------------------------------------------------------------------------------
# SSH keys
# ---------------------------------------------------------------------------------------------

# A valid ed25519 public key, used only when ssh-keygen is not available.
FIXED_ED25519_PUB = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGjb96aW+/oj1u4xY4uf1deupK5c4ul0bQQRrJZjvcFB ecsd-sdk-test"
)


def have_ssh_keygen() -> bool:
    return shutil.which("ssh-keygen") is not None


def generate_ed25519_public_key(tmp_path: Path, comment: str = "ecsd-sdk-test") -> str:
    if not have_ssh_keygen():
        return FIXED_ED25519_PUB
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
                   check=True, stdin=subprocess.DEVNULL)
    return (tmp_path / "id_ed25519.pub").read_text().strip()


def ssh_keygen_md5(tmp_path: Path, public_key: str) -> str:
    """`ssh-keygen -l -E md5` of a public key, without the "MD5:" prefix (Python fallback)."""
    if not have_ssh_keygen():
        return md5_fingerprint(public_key)
    pub = tmp_path / "fp.pub"
    pub.write_text(public_key + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(pub)], check=True,
                         capture_output=True, text=True).stdout
    fp = out.split()[1]
    assert fp.startswith("MD5:"), out
    return fp[len("MD5:"):]


def raw_json(resp) -> dict:
    return json.loads(resp.raw_content)
