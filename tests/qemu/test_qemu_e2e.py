"""Real virtual machines: create with key A and two data disks, reinstall with key B, change OS,
reset the password, delete, all through the official SDK."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AK = "ECSDQEMUTESTAK000001"
SK = "ecsdQemuTestSecretKey0000000000000000001"
PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

WORK = Path(tempfile.mkdtemp(prefix="ecsd-qemu-"))
os.environ["HOME"] = str(WORK / "home")
os.makedirs(os.environ["HOME"], exist_ok=True)

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
import huaweicloudsdkecs.v2 as ecs  # noqa: E402
import huaweicloudsdkevs.v2 as evs  # noqa: E402
import huaweicloudsdkims.v2 as ims  # noqa: E402
import huaweicloudsdkvpc.v2 as vpc  # noqa: E402

TIMINGS = {}
# The metrics URL the service's banner names (set by the `service` fixture).
METRICS = {}


def ecsd_bin() -> str:
    return os.environ.get("ECSD_BIN", str(REPO / "target" / "debug" / "ecsd"))


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def service():
    data = WORK / "data"
    for variant in ("one", "two"):
        t = time.monotonic()
        out = run(ecsd_bin(), "image", "build-demo", "--data-dir", str(data), "--variant", variant,
                  "--name", f"ecsd demo {variant} (no Cloud-Init)")
        TIMINGS[f"build demo image {variant}"] = time.monotonic() - t
        print(out.stdout.strip())
    env = dict(os.environ, HUAWEICLOUD_SDK_AK=AK, HUAWEICLOUD_SDK_SK=SK, HUAWEICLOUD_SDK_PROJECT_ID=PROJECT_ID,
               # TCG unless told otherwise: on some nested hosts KVM passes the driver's probe (a
               # boot sector that enters long mode and touches high memory) and a Linux guest
               # still hangs in early boot; TCG boots the demo guests everywhere, in seconds.
               ECSD_QEMU_ACCEL=os.environ.get("ECSD_QEMU_ACCEL", "tcg"))
    log = open(WORK / "ecsd.log", "wb")
    proc = subprocess.Popen([ecsd_bin(), "serve", "--driver", "qemu", "--listen", "127.0.0.1:0", "--listen-tls", "off",
                             "--data-dir", str(data), "--qemu-stop-timeout-secs", "20",
                             "--metrics-listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1)
    endpoint, banner = None, []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        banner.append(line.rstrip())
        m = re.match(r"^\s+endpoint:\s+(http://\S+)", line)
        if m:
            endpoint = m.group(1)
        m = re.match(r"^\s+metrics:\s+(http://\S+)", line)
        if m:
            METRICS["url"] = m.group(1)
        if line.strip().startswith("data dir:") or time.monotonic() > deadline:
            break
    assert endpoint, "\n".join(banner) + (WORK / "ecsd.log").read_text()
    print("\n".join(banner))
    import threading
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    creds = BasicCredentials(AK, SK, PROJECT_ID)
    clients = (
        ecs.EcsClient.new_builder().with_credentials(creds).with_endpoints([endpoint]).build(),
        ims.ImsClient.new_builder().with_credentials(BasicCredentials(AK, SK)).with_endpoints([endpoint]).build(),
        vpc.VpcClient.new_builder().with_credentials(creds).with_endpoints([endpoint]).build(),
        evs.EvsClient.new_builder().with_credentials(creds).with_endpoints([endpoint]).build(),
        data,
    )
    yield clients
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    # With the service stopped, the offline check compares the driver's disks with the volume
    # rows: the kept data disk is in both, nothing else is left in either.
    check = subprocess.run([ecsd_bin(), "check", "--data-dir", str(data)], capture_output=True, text=True)
    print(check.stdout)
    # The VMs belong to the test: stop any left by a failure, each by the pid its QEMU wrote.
    for pidfile in (data / "qemu" / "vms").glob("*/qemu.pid"):
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
    print("\nTIMINGS " + ", ".join(f"{k}: {v:.1f} s" for k, v in TIMINGS.items()))
    shutil.rmtree(WORK, ignore_errors=True)
    assert check.returncode == 0 and "exactly the volume rows" in check.stdout, check.stdout + check.stderr


def wait_job(client, job_id, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.show_job(ecs.ShowJobRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish")


def keypair(client, name):
    kp = client.nova_create_keypair(ecs.NovaCreateKeypairRequest(
        body=ecs.NovaCreateKeypairRequestBody(keypair=ecs.NovaCreateKeypairOption(name=name)))).keypair
    path = WORK / f"{name}.key"
    path.write_text(kp.private_key)
    path.chmod(0o600)
    return kp, path


def ssh(port, key, command, timeout=120):
    """Runs a command over SSH, retrying until the guest's SSH server answers; returns the
    completed process of the last attempt."""
    deadline = time.monotonic() + timeout
    while True:
        p = subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no",
                            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                            "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@127.0.0.1", command],
                           capture_output=True, text=True, timeout=60)
        refused = "Permission denied" in p.stderr
        if p.returncode == 0 or refused or time.monotonic() > deadline:
            return p
        time.sleep(1)


def ssh_password(port, password, command, timeout=120):
    """Like `ssh`, logging in with a password: OpenSSH reads it from an askpass program, so no
    terminal and no extra tool is needed."""
    askpass = WORK / "askpass.sh"
    askpass.write_text(f"#!/bin/sh\necho '{password}'\n")
    askpass.chmod(0o700)
    env = dict(os.environ, SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY="none")
    deadline = time.monotonic() + timeout
    while True:
        p = subprocess.run(["ssh", "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                            "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
                            "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                            "root@127.0.0.1", command],
                           capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        refused = "Permission denied" in p.stderr
        if p.returncode == 0 or refused or time.monotonic() > deadline:
            return p
        time.sleep(1)


def ssh_port(client, server_id):
    s = client.show_server(ecs.ShowServerRequest(server_id=server_id)).server
    access = s.metadata.get("ecsd.access", "")
    m = re.search(r"-p (\d+)", access)
    assert m, f"no SSH access in the server metadata: {s.metadata}"
    return int(m.group(1))


# Appended to a command run over SSH (one login less per check): the guest's virtio disks in the
# order it names them, a line each, read back by `disks_in`.
DISKS = "; for d in /sys/block/vd*; do echo disk ${d##*/} $(cat $d/serial) $(cat $d/size); done"


def disks_in(out):
    """(name, serial, size in 512-byte sectors) of each disk `DISKS` listed."""
    return [tuple(line.split()[1:]) for line in out.splitlines() if line.startswith("disk ")]


def test_reinstall_and_change_os_of_a_real_vm(service):
    client, ims_client, vpc_client, evs_client, data_dir = service
    images = {i.name: i.id for i in ims_client.list_images(ims.ListImagesRequest()).images}
    one, two = images["ecsd demo one (no Cloud-Init)"], images["ecsd demo two (no Cloud-Init)"]
    v = vpc_client.list_vpcs(vpc.ListVpcsRequest()).vpcs[0]
    sn = vpc_client.list_subnets(vpc.ListSubnetsRequest()).subnets[0]
    key_a, path_a = keypair(client, "key-a")
    key_b, path_b = keypair(client, "key-b")

    # Created as Terraform does (/v1.1), with two data disks (10 GB, the smallest the API takes,
    # and 12 GB): the first deleted with the server, the second kept.
    t = time.monotonic()
    created = client.create_servers(ecs.CreateServersRequest(body=ecs.CreateServersRequestBody(
        server=ecs.PrePaidServer(name="vm", image_ref=one, flavor_ref="s6.small.1", vpcid=v.id,
                                 nics=[ecs.PrePaidServerNic(subnet_id=sn.id)],
                                 root_volume=ecs.PrePaidServerRootVolume(volumetype="SSD"), key_name="key-a",
                                 data_volumes=[
                                     ecs.PrePaidServerDataVolume(volumetype="SSD", size=10, delete_on_termination=True),
                                     ecs.PrePaidServerDataVolume(volumetype="SAS", size=12)]))))
    assert wait_job(client, created.job_id).status == "SUCCESS"
    sid = created.server_ids[0]
    # The guest must see the data disks in the API's order, with their volume ids (first 20
    # characters) as serial numbers and their sizes in 512-byte sectors. The demo image's system
    # disk is NVMe, so its first virtio disk is vda (/dev/vdb in the API, as on a virtio system disk).
    volumes = client.show_server(ecs.ShowServerRequest(server_id=sid)).server.os_extended_volumesvolumes_attached
    data = [v.id for v in sorted((v for v in volumes if v.boot_index == "-1"), key=lambda v: v.device)]
    assert len(data) == 2 and len(volumes) == 3, volumes
    want = [("vda", data[0][:20], str(10 * 2**30 // 512)), ("vdb", data[1][:20], str(12 * 2**30 // 512))]
    port = ssh_port(client, sid)
    # Written raw to the first data disk, once it is known to be there: it must survive the reinstall.
    p = ssh(port, path_a, "echo hello > /root/marker && cat /etc/os-release" + DISKS
            + "; test -b /dev/vda && printf ecsd-data-marker > /dev/vda && sync")
    TIMINGS["create to SSH-ready"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert "VARIANT_ID=one" in p.stdout
    assert disks_in(p.stdout) == want, p.stdout

    t = time.monotonic()
    job = client.reinstall_server_without_cloud_init(ecs.ReinstallServerWithoutCloudInitRequest(
        server_id=sid, body=ecs.ReinstallServerWithoutCloudInitRequestBody(
            os_reinstall=ecs.ReinstallServerWithoutCloudInitOption(keyname="key-b", userid=key_b.user_id,
                                                                   mode="withStopServer"))))
    done = wait_job(client, job.job_id)
    TIMINGS["reinstall job"] = time.monotonic() - t
    assert done.status == "SUCCESS", done
    port = ssh_port(client, sid)
    p = ssh(port, path_b, "ls /root/marker 2>/dev/null; cat /etc/os-release; head -c 16 /dev/vda; echo" + DISKS)
    TIMINGS["reinstall request to SSH-ready"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert "/root/marker" not in p.stdout, "the old disk's files are gone"
    assert disks_in(p.stdout) == want, "the data disks stay attached, in their order: " + p.stdout
    assert "ecsd-data-marker" in p.stdout.splitlines(), "the data disk keeps its data across a reinstall"
    refused = ssh(port, path_a, "true", timeout=10)
    assert refused.returncode != 0 and "Permission denied" in refused.stderr, "key A no longer logs in"

    t = time.monotonic()
    job = client.change_server_os_without_cloud_init(ecs.ChangeServerOsWithoutCloudInitRequest(
        server_id=sid, body=ecs.ChangeServerOsWithoutCloudInitRequestBody(
            os_change=ecs.ChangeServerOsWithoutCloudInitOption(keyname="key-a", userid=key_a.user_id, imageid=two,
                                                               mode="withStopServer"))))
    done = wait_job(client, job.job_id)
    assert done.status == "SUCCESS", done
    p = ssh(ssh_port(client, sid), path_a, "cat /etc/os-release" + DISKS)
    TIMINGS["change OS request to SSH-ready"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert "VARIANT_ID=two" in p.stdout
    assert disks_in(p.stdout) == want, p.stdout
    s = client.show_server(ecs.ShowServerRequest(server_id=sid)).server
    assert s.image.id == two and s.status == "ACTIVE"

    # A password reset takes effect at the next reboot: the power saga writes it into /etc/shadow
    # with the VM off, then boots it. Proven by logging in with the password (dropbear accepts
    # root password logins).
    new_password = "Reset-Pw1x"
    t = time.monotonic()
    client.reset_server_password(ecs.ResetServerPasswordRequest(server_id=sid, body=ecs.ResetServerPasswordRequestBody(
        reset_password=ecs.ResetServerPasswordOption(new_password=new_password, is_check_password=True))))
    assert ssh_password(ssh_port(client, sid), "Wrong-Pw1x", "true", timeout=10).returncode != 0
    job = client.batch_reboot_servers(ecs.BatchRebootServersRequest(body=ecs.BatchRebootServersRequestBody(
        reboot=ecs.BatchRebootSeversOption(servers=[ecs.ServerId(id=sid)], type="SOFT"))))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    p = ssh_password(ssh_port(client, sid), new_password, "grep '^root:' /etc/shadow | cut -c1-8" + DISKS)
    TIMINGS["password reset to password login"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("root:$6$"), p.stdout
    assert disks_in(p.stdout) == want, "a reboot keeps the data disks: " + p.stdout

    # A flavor change (as Terraform sends it, /v1.1) stops the VM, starts it with the new
    # flavor's vCPUs and memory, and keeps its disks: the guest must see 2 CPUs and ~4 GiB.
    t = time.monotonic()
    job = client.resize_server(ecs.ResizeServerRequest(server_id=sid, body=ecs.ResizeServerRequestBody(
        resize=ecs.ResizePrePaidServerOption(flavor_ref="s6.large.2", mode="withStopServer"))))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    p = ssh(ssh_port(client, sid), path_a, "nproc; grep MemTotal /proc/meminfo" + DISKS)
    TIMINGS["resize request to SSH-ready"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "2", p.stdout
    mem_kib = int(lines[1].split()[1])
    assert 3 * 2**20 < mem_kib <= 4 * 2**20, p.stdout
    assert disks_in(p.stdout) == want, "a resize keeps the data disks: " + p.stdout
    s = client.show_server(ecs.ShowServerRequest(server_id=sid)).server
    assert s.flavor.id == "s6.large.2" and s.status == "ACTIVE", s.flavor

    job = client.delete_servers(ecs.DeleteServersRequest(body=ecs.DeleteServersRequestBody(
        servers=[ecs.ServerId(id=sid)])))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    # The disks of the volumes that went with the server are gone from the data directory; the
    # kept data disk stays, available, with its file.
    disks = data_dir / "qemu" / "disks"
    left = sorted(p.name for p in disks.iterdir())
    assert left == [f"{data[1]}.json", f"{data[1]}.qcow2"], left
    kept = evs_client.show_volume(evs.ShowVolumeRequest(volume_id=data[1])).volume
    assert kept.status == "available" and not kept.attachments, kept


# The guest's NICs, a line each (name and MAC), read back by `macs_in`.
NICS = "; ip -o link >/dev/null 2>&1 && ip -o link | sed -n 's/.*link\\/ether \\([0-9a-f:]*\\).*/mac \\1/p'"


def websocket_first_message(url):
    """Opens `url` (ws://host:port/path) with a plain WebSocket handshake and returns the payload
    of the first binary message the server sends."""
    import base64
    import socket
    from urllib.parse import urlparse
    u = urlparse(url)
    s = socket.create_connection((u.hostname, u.port), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: binary\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        assert chunk, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
        chunk = s.recv(4096)
        assert chunk, rest
        rest += chunk
    assert rest[0] == 0x82, rest  # a final binary frame
    n = rest[1] & 0x7F
    s.close()
    return rest[2:2 + n]


def macs_in(out):
    return [line.split()[1] for line in out.splitlines() if line.startswith("mac ")]


def wait_guest(port, key, check, timeout=30):
    """Runs `NICS` over SSH until `check(macs)` holds (the guest takes a moment to see a
    hot-plugged or unplugged device); returns the MACs of the last run."""
    deadline = time.monotonic() + timeout
    while True:
        p = ssh(port, key, "true" + NICS)
        assert p.returncode == 0, p.stderr
        macs = macs_in(p.stdout)
        if check(macs) or time.monotonic() > deadline:
            return macs
        time.sleep(1)


def test_a_nic_is_hot_plugged_into_a_running_vm_and_unplugged(service):
    client, ims_client, vpc_client, _, _ = service
    images = {i.name: i.id for i in ims_client.list_images(ims.ListImagesRequest()).images}
    v = vpc_client.list_vpcs(vpc.ListVpcsRequest()).vpcs[0]
    sn = vpc_client.list_subnets(vpc.ListSubnetsRequest()).subnets[0]
    _, key = keypair(client, "key-nic")
    created = client.create_post_paid_servers(ecs.CreatePostPaidServersRequest(body=ecs.CreatePostPaidServersRequestBody(
        server=ecs.PostPaidServer(name="nic-vm", image_ref=images["ecsd demo one (no Cloud-Init)"],
                                  flavor_ref="s6.small.1", vpcid=v.id, nics=[ecs.PostPaidServerNic(subnet_id=sn.id)],
                                  root_volume=ecs.PostPaidServerRootVolume(volumetype="SSD"), key_name="key-nic"))))
    assert wait_job(client, created.job_id).status == "SUCCESS"
    sid = created.server_ids[0]
    port = ssh_port(client, sid)
    before = wait_guest(port, key, lambda macs: len(macs) == 1)
    assert len(before) == 1, before
    # The QEMU processes alive, as the metrics count them: this VM among them.
    running = vms_running()
    assert running >= 1

    # Added while the VM runs: the guest sees a new NIC with the port's MAC.
    t = time.monotonic()
    job = client.batch_add_server_nics(ecs.BatchAddServerNicsRequest(server_id=sid, body=ecs.BatchAddServerNicsRequestBody(
        nics=[ecs.BatchAddServerNicOption(subnet_id=sn.id)])))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    added = [a for addrs in client.show_server(ecs.ShowServerRequest(server_id=sid)).server.addresses.values()
             for a in addrs if not a.primary]
    assert len(added) == 1, added
    port_id = added[0].os_ext_ip_sport_id
    mac = vpc_client.show_port(vpc.ShowPortRequest(port_id=port_id)).port.mac_address
    assert mac == added[0].os_ext_ips_ma_cmac_addr
    macs = wait_guest(port, key, lambda macs: mac in macs)
    TIMINGS["NIC add request to the guest seeing it"] = time.monotonic() - t
    assert mac in macs and len(macs) == 2, macs

    # The console output is the guest's serial log: its boot text is in it.
    out = client.show_server_console_output(ecs.ShowServerConsoleOutputRequest(server_id=sid, length=-1)).output
    assert "ecsd demo (one) is up" in out, out[-2000:]

    # A crash dump is an NMI to the guest; this kernel has no kdump, so it logs it and goes on.
    client.execute_server_dump(ecs.ExecuteServerDumpRequest(server_id=sid))
    deadline = time.monotonic() + 30
    while "NMI received" not in out and time.monotonic() < deadline:
        time.sleep(0.5)
        out = client.show_server_console_output(ecs.ShowServerConsoleOutputRequest(server_id=sid, length=-1)).output
    assert "NMI received" in out, out[-2000:]
    assert client.show_server(ecs.ShowServerRequest(server_id=sid)).server.status == "ACTIVE"

    # The remote console: a WebSocket URL whose first message is the VM's VNC server greeting.
    rc = client.show_server_remote_console(ecs.ShowServerRemoteConsoleRequest(
        server_id=sid, body=ecs.ShowServerRemoteConsoleRequestBody(
            remote_console=ecs.GetServerRemoteConsoleOption(protocol="vnc", type="novnc")))).remote_console
    assert (rc.protocol, rc.type) == ("vnc", "novnc") and rc.url.startswith("ws://127.0.0.1:"), rc
    assert websocket_first_message(rc.url).startswith(b"RFB 003.008"), rc.url

    # Deleted: the guest sees it go, and its port is gone.
    t = time.monotonic()
    job = client.batch_delete_server_nics(ecs.BatchDeleteServerNicsRequest(
        server_id=sid, body=ecs.BatchDeleteServerNicsRequestBody(nics=[ecs.BatchDeleteServerNicOption(id=port_id)])))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    macs = wait_guest(port, key, lambda macs: mac not in macs)
    TIMINGS["NIC delete request to the guest losing it"] = time.monotonic() - t
    assert macs == before, macs
    job = client.delete_servers(ecs.DeleteServersRequest(body=ecs.DeleteServersRequestBody(servers=[ecs.ServerId(id=sid)])))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    assert vms_running() == running - 1, "the deleted server's QEMU is no longer counted"


def vms_running():
    """`ecsd_vms_running` as the service exports it, read with the Prometheus client's parser."""
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(METRICS["url"], timeout=10).read().decode()
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "ecsd_vms_running")


def plugged(out):
    """`disks_in`, without the unexpanded glob a guest with no virtio disk prints."""
    return [d for d in disks_in(out) if d[0] != "vd*"]


def test_hot_plug_a_data_volume_into_a_running_guest(service):
    """A volume of the disk service attached to a running guest (hot-plug), written, detached
    (the guest releases it), attached again: the data is still on it."""
    client, ims_client, vpc_client, evs_client, data_dir = service
    images = {i.name: i.id for i in ims_client.list_images(ims.ListImagesRequest()).images}
    v = vpc_client.list_vpcs(vpc.ListVpcsRequest()).vpcs[0]
    sn = vpc_client.list_subnets(vpc.ListSubnetsRequest()).subnets[0]
    _, key = keypair(client, "key-hotplug")
    t = time.monotonic()
    created = client.create_post_paid_servers(ecs.CreatePostPaidServersRequest(body=ecs.CreatePostPaidServersRequestBody(
        server=ecs.PostPaidServer(name="hotplug", image_ref=images["ecsd demo one (no Cloud-Init)"],
                                  flavor_ref="s6.small.1", vpcid=v.id, nics=[ecs.PostPaidServerNic(subnet_id=sn.id)],
                                  root_volume=ecs.PostPaidServerRootVolume(volumetype="SSD"),
                                  key_name="key-hotplug"))))
    assert wait_job(client, created.job_id).status == "SUCCESS"
    sid = created.server_ids[0]
    port = ssh_port(client, sid)
    p = ssh(port, key, "true" + DISKS)
    assert p.returncode == 0 and plugged(p.stdout) == [], p.stdout + p.stderr

    made = evs_client.create_volume(evs.CreateVolumeRequest(body=evs.CreateVolumeRequestBody(
        volume=evs.CreateVolumeOption(availability_zone="cn-north-4a", size=10, volume_type="SSD", name="hot"))))
    assert evs_client.show_job(evs.ShowJobRequest(job_id=made.job_id)).status in ("RUNNING", "SUCCESS")
    assert wait_job(client, made.job_id).status == "SUCCESS"
    vid = made.volume_ids[0]
    want = [("vda", vid[:20], str(10 * 2**30 // 512))]
    # The demo image's system disk is NVMe, so the guest's first virtio disk is vda.
    appear = "for i in $(seq 1 100); do test -b /dev/vda && break; sleep 0.1; done"

    def attach():
        job = client.attach_server_volume(ecs.AttachServerVolumeRequest(server_id=sid, body=ecs.AttachServerVolumeRequestBody(
            volume_attachment=ecs.AttachServerVolumeOption(volume_id=vid))))
        done = wait_job(client, job.job_id)
        assert done.status == "SUCCESS", (WORK / "ecsd.log").read_text()[-3000:]

    def detach():
        job = client.detach_server_volume(ecs.DetachServerVolumeRequest(server_id=sid, volume_id=vid))
        done = wait_job(client, job.job_id)
        assert done.status == "SUCCESS", (WORK / "ecsd.log").read_text()[-3000:]

    attach()
    p = ssh(port, key, appear + "; printf ecsd-hotplug-marker > /dev/vda && sync" + DISKS)
    TIMINGS["hot-plug: attach to a written disk"] = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert plugged(p.stdout) == want, "the guest sees the new disk with its id as serial: " + p.stdout

    t = time.monotonic()
    detach()
    TIMINGS["hot-unplug"] = time.monotonic() - t
    p = ssh(port, key, "true" + DISKS)
    assert p.returncode == 0 and plugged(p.stdout) == [], "the guest released it: " + p.stdout

    attach()
    p = ssh(port, key, appear + "; head -c 19 /dev/vda; echo" + DISKS)
    assert p.returncode == 0, p.stderr
    assert "ecsd-hotplug-marker" in p.stdout.splitlines(), "the data survived detach and attach: " + p.stdout
    assert plugged(p.stdout) == want, p.stdout
    s = client.show_server(ecs.ShowServerRequest(server_id=sid)).server
    assert s.status == "ACTIVE" and len(s.os_extended_volumesvolumes_attached) == 2

    # The server goes; the volume (not deleted with it) stays, detached, with its disk.
    job = client.delete_servers(ecs.DeleteServersRequest(body=ecs.DeleteServersRequestBody(
        servers=[ecs.ServerId(id=sid)])))
    assert wait_job(client, job.job_id).status == "SUCCESS"
    assert evs_client.show_volume(evs.ShowVolumeRequest(volume_id=vid)).volume.status == "available"
