"""Three ecsd nodes on one PostgreSQL database, through the official Python SDK given every
node's endpoint: a node killed under load has its operations adopted and finished by the
others; a node stalled past its lease writes nothing to an operation another node adopted."""

import concurrent.futures
import os
import threading
import time

import pytest

from nodes import AK, PROJECT_ID, SK, Cluster, cleanup, start_node

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ConnectionException, ServiceResponseException
from huaweicloudsdkcore.http.http_config import HttpConfig
import huaweicloudsdkecs.v2 as ecs_v2
import huaweicloudsdkims.v2 as ims_v2
import huaweicloudsdkvpc.v2 as vpc_v2

LEASE_MS = 3000
HEARTBEAT_MS = 500
PASSWORD = "Ecsd@Cluster2024"
FLAVOR = "s6.small.1"


@pytest.fixture(scope="module")
def pg():
    try:
        cluster = Cluster()
    except RuntimeError as e:
        if os.environ.get("ECSD_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL: {e}")
    yield cluster
    cluster.stop()


def client(endpoints):
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (5, 30)
    return (ecs_v2.EcsClient.new_builder().with_http_config(cfg)
            .with_credentials(BasicCredentials(AK, SK, PROJECT_ID)).with_endpoints(list(endpoints)).build())


def rotations(nodes):
    """Every node's endpoint list, each starting from another node, so load spreads."""
    eps = [n.endpoint for n in nodes]
    return [eps[i:] + eps[:i] for i in range(len(eps))]


class Failover:
    """SDK clients given every endpoint, tried in turn on a connection failure.

    The Python SDK moves to its next endpoint only when a host name does not resolve
    (`HostUnreachableException`); a refused or reset connection is a `ConnectionException`
    raised to the caller. So a caller retries on the next client, as an application in front of
    several nodes does (a load balancer would do the same for it)."""

    def __init__(self, nodes, first: int):
        rots = rotations(nodes)
        self.clients = [client(rots[(first + k) % len(rots)]) for k in range(len(rots))]
        self.failovers = 0

    def call(self, f):
        last = None
        for c in self.clients:
            try:
                return f(c)
            except ConnectionException as e:
                self.failovers += 1
                last = e
        raise last


def network_and_image(endpoint):
    cfg = HttpConfig.get_default_config()
    vpc = (vpc_v2.VpcClient.new_builder().with_http_config(cfg)
           .with_credentials(BasicCredentials(AK, SK, PROJECT_ID)).with_endpoints([endpoint]).build())
    ims = (ims_v2.ImsClient.new_builder().with_http_config(cfg)
           .with_credentials(BasicCredentials(AK, SK)).with_endpoints([endpoint]).build())
    v = vpc.list_vpcs(vpc_v2.ListVpcsRequest()).vpcs[0]
    s = vpc.list_subnets(vpc_v2.ListSubnetsRequest(vpc_id=v.id)).subnets[0]
    images = ims.list_images(ims_v2.ListImagesRequest(imagetype="gold")).images
    no_ci = [i.id for i in images
             if ims.glance_show_image(ims_v2.GlanceShowImageRequest(image_id=i.id)).is_config_init != "true"]
    return v.id, s.id, no_ci[0]


def create(c, net, image, name, count):
    vpc_id, subnet_id = net
    server = ecs_v2.PostPaidServer(
        name=name, image_ref=image, flavor_ref=FLAVOR, vpcid=vpc_id,
        nics=[ecs_v2.PostPaidServerNic(subnet_id=subnet_id)],
        root_volume=ecs_v2.PostPaidServerRootVolume(volumetype="SSD"), admin_pass=PASSWORD, count=count)
    r = c.create_post_paid_servers(
        ecs_v2.CreatePostPaidServersRequest(body=ecs_v2.CreatePostPaidServersRequestBody(server=server)))
    return r.job_id, list(r.server_ids or [])


def reinstall(c, server_id):
    option = ecs_v2.ReinstallServerWithoutCloudInitOption(adminpass=PASSWORD, mode="withStopServer")
    body = ecs_v2.ReinstallServerWithoutCloudInitRequestBody(os_reinstall=option)
    return c.reinstall_server_without_cloud_init(
        ecs_v2.ReinstallServerWithoutCloudInitRequest(server_id=server_id, body=body)).job_id


def batch_stop(c, ids):
    body = ecs_v2.BatchStopServersRequestBody(
        os_stop=ecs_v2.BatchStopServersOption(servers=[ecs_v2.ServerId(id=i) for i in ids], type="HARD"))
    return c.batch_stop_servers(ecs_v2.BatchStopServersRequest(body=body)).job_id


def wait_jobs(c, job_ids, timeout):
    """Polls each job until SUCCESS or FAIL; {job_id: ShowJobResponse}. Fails on the deadline."""
    deadline = time.monotonic() + timeout
    done = {}
    pending = list(job_ids)
    while pending:
        still = []
        for j in pending:
            r = c.show_job(ecs_v2.ShowJobRequest(job_id=j))
            if r.status in ("SUCCESS", "FAIL"):
                done[j] = r
            else:
                still.append(j)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(pending)} jobs unfinished after {timeout:.0f}s, e.g. {pending[:3]}")
            time.sleep(0.2)
    return done


def boot_volume(server):
    vols = [v.id for v in (server.os_extended_volumesvolumes_attached or []) if v.boot_index == "0"]
    assert len(vols) == 1, f"server {server.id} has system disks {vols}"
    return vols[0]


def servers_idle(c):
    """Every server idle (ACTIVE or SHUTOFF, no task) with one system disk: {id: disk}."""
    listed = c.list_servers_details(ecs_v2.ListServersDetailsRequest(limit=1000)).servers or []
    out = {}
    for s in listed:
        assert s.os_ext_st_stask_state in (None, ""), f"server {s.id} left in {s.os_ext_st_stask_state}"
        assert s.status in ("ACTIVE", "SHUTOFF"), f"server {s.id} is {s.status}"
        out[s.id] = boot_volume(s)
    return out


def disks_agree(pg, url):
    """The driver's disks are exactly the volume rows: no orphan, none missing."""
    volumes = {r[0] for r in pg.psql(url, "SELECT id FROM volumes")}
    disks = {r[0] for r in pg.psql(url, SIM_DISKS_SQL)}
    assert volumes == disks, f"orphaned disks {sorted(disks - volumes)[:5]}, missing {sorted(volumes - disks)[:5]}"
    return volumes


# The simulated driver's disks, as the nodes share them in the database.
SIM_DISKS_SQL = "SELECT id FROM sim_records WHERE kind = 'disk'"


def test_a_killed_node_has_its_operations_adopted_and_every_accepted_job_ends(pg):
    url = pg.fresh_database()
    nodes = []
    try:
        for name in ("n1", "n2", "n3"):
            nodes.append(start_node(name, url, lease_ms=LEASE_MS, heartbeat_ms=HEARTBEAT_MS, step_ms=150))
        clients = [client(eps) for eps in rotations(nodes)]
        vpc_id, subnet_id, image = network_and_image(nodes[0].endpoint)
        net = (vpc_id, subnet_id)

        # 90 servers, created through each node in turn.
        made = [create(clients[i % 3], net, image, f"base-{i}", 10) for i in range(9)]
        finished = wait_jobs(clients[0], [j for j, _ in made], 120)
        assert all(r.status == "SUCCESS" for r in finished.values()), finished
        base = [s for _, ids in made for s in ids]
        assert len(base) == 90
        before = servers_idle(clients[0])
        hosts = {r[0] for r in pg.psql(url, "SELECT DISTINCT host FROM servers")}
        assert hosts == {"n1", "n2", "n3"}, f"servers are spread over every node: {hosts}"

        # The load: a reinstall of each of 60 servers, stops of the other 30 in batches of
        # five, and 200 creates, 24 requests at a time; n2 is killed once a third is accepted.
        ops = ([("reinstall", s) for s in base[:60]] + [("stop", base[60 + 5 * i:65 + 5 * i]) for i in range(6)]
               + [("create", f"load-{i}") for i in range(200)])
        ops = [ops[i] for i in sorted(range(len(ops)), key=lambda i: (i * 7919) % len(ops))]
        accepted, refused, failovers = [], [], [0]
        lock = threading.Lock()
        third = threading.Event()
        local = threading.local()

        def run(i_op):
            i, (kind, arg) = i_op
            if not hasattr(local, "c"):
                local.c = Failover(nodes, i % 3)
            try:
                if kind == "reinstall":
                    job = local.c.call(lambda c: reinstall(c, arg))
                elif kind == "stop":
                    job = local.c.call(lambda c: batch_stop(c, arg))
                else:
                    job, _ = local.c.call(lambda c: create(c, net, image, arg, 1))
            except ServiceResponseException as e:
                # A request cut off by the kill and sent again to another node can find its
                # server busy with the first one, which was recorded after all.
                with lock:
                    refused.append((kind, e.status_code, e.error_code))
                return
            with lock:
                failovers[0] = max(failovers[0], local.c.failovers)
            with lock:
                accepted.append((kind, arg, job))
                if len(accepted) >= len(ops) // 3:
                    third.set()

        with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            futures = [pool.submit(run, x) for x in enumerate(ops)]
            assert third.wait(120), "a third of the load was accepted"
            nodes[1].kill()
            killed_at = pg.psql(url, "SELECT now()")[0][0]
            held = [r[0] for r in pg.psql(url, "SELECT id FROM sagas WHERE NOT done AND owner_node = 'n2'")]
            for f in futures:
                f.result()
        print(f"{len(accepted)} accepted, {len(refused)} refused; {len(held)} operations held by n2 at its death; "
              f"a client failed over {failovers[0]} times")
        assert len(accepted) >= 200, f"hundreds of operations were accepted: {len(accepted)}, refused {refused[:10]}"
        assert held, "the kill interrupted operations in flight"
        codes = {c for _, s, c in refused if s}
        assert codes <= {"Ecs.0100"}, f"only 'busy' refusals (a retried request): {refused[:10]}"

        survivors = [client([nodes[0].endpoint, nodes[2].endpoint])]
        results = wait_jobs(survivors[0], [j for _, _, j in accepted], 120)
        failed = {j: (r.error_code, r.fail_reason) for j, r in results.items() if r.status != "SUCCESS"}
        assert not failed, f"every job succeeded: {list(failed.items())[:5]}"

        # A request cut off by the kill may have been recorded all the same, and its job is
        # then nobody's to poll (the client sent the request again elsewhere, or was told the
        # server was busy with it): its saga is adopted like the others, and is waited for here.
        in_held = ",".join(f"'{h}'" for h in held)
        deadline = time.monotonic() + 60
        while pg.psql(url, f"SELECT id FROM sagas WHERE id IN ({in_held}) AND NOT done") and time.monotonic() < deadline:
            time.sleep(0.2)
        # Adopted by a live node within the lease and a few seconds.
        rows = pg.psql(url, "SELECT id, owner_node, EXTRACT(EPOCH FROM adopted_at - '%s'::timestamptz), done "
                            "FROM sagas WHERE id IN (%s)" % (killed_at, in_held))
        assert len(rows) == len(held)
        worst = 0.0
        for sid, owner, after, done in rows:
            assert owner in ("n1", "n3") and done == "t", f"saga {sid}: held by {owner}, done {done}"
            worst = max(worst, float(after))
        print(f"adopted within {worst:.2f}s of the kill (lease {LEASE_MS / 1000:.0f}s)")
        assert worst <= LEASE_MS / 1000 + 5, f"adoption took {worst:.2f}s"

        now = servers_idle(survivors[0])
        for kind, arg, job in accepted:
            if kind == "reinstall":
                assert now[arg] != before[arg], f"reinstall {job} of {arg} succeeded on a new disk"
        disks = disks_agree(pg, url)
        assert len(disks) == len(now), "one disk per server, none left over"
        open_sagas = pg.psql(url, "SELECT count(*) FROM sagas WHERE NOT done")[0][0]
        assert open_sagas == "0", f"{open_sagas} sagas unfinished"
    finally:
        for n in nodes:
            if n.proc.poll() is not None and n.proc.returncode not in (0, -9):
                print(f"--- node {n.name} exited {n.proc.returncode}:\n{n.log()}")
        cleanup(nodes)


def test_a_node_stalled_past_its_lease_writes_nothing_to_what_was_adopted(pg):
    url = pg.fresh_database()
    nodes = []
    try:
        # a runs its steps slowly, so that it is stalled in the middle of them.
        nodes.append(start_node("a", url, lease_ms=2000, heartbeat_ms=300, step_ms=1500))
        nodes.append(start_node("b", url, lease_ms=2000, heartbeat_ms=300, step_ms=50))
        a, b = nodes
        via_a, via_b = client([a.endpoint]), client([b.endpoint])
        net_vpc, net_subnet, image = network_and_image(b.endpoint)
        job, ids = create(via_b, (net_vpc, net_subnet), image, "fence", 6)
        assert wait_jobs(via_b, [job], 60)[job].status == "SUCCESS"
        before = servers_idle(via_b)

        jobs = [reinstall(via_a, s) for s in ids]
        owned = lambda who: {r[0] for r in pg.psql(  # noqa: E731
            url, "SELECT id FROM sagas WHERE NOT done AND owner_node = '%s'" % who)}
        in_jobs = ",".join(f"'{j}'" for j in jobs)

        def events() -> int:
            return int(pg.psql(url, f"SELECT count(*) FROM saga_events WHERE saga_id IN ({in_jobs})")[0][0])

        # Each reinstall is past its first step (its stop) on a when a is stalled.
        deadline = time.monotonic() + 10
        while not set(jobs) <= owned("a") or events() < 3 * len(jobs):
            assert time.monotonic() < deadline, "a runs the reinstalls"
            time.sleep(0.05)
        a.pause()
        stalled_at = time.monotonic()
        deadline = stalled_at + 2.0 + 5
        while not set(jobs) <= owned("b") | {r[0] for r in pg.psql(url, "SELECT id FROM sagas WHERE done")}:
            assert time.monotonic() < deadline, "b adopted a's operations within the lease and a few seconds"
            time.sleep(0.1)
        print(f"b adopted a's {len(jobs)} operations {time.monotonic() - stalled_at:.1f}s after a stalled")
        time.sleep(1.0)
        a.resume()

        results = wait_jobs(via_b, jobs, 60)
        assert all(r.status == "SUCCESS" for r in results.values()), results
        # a carries on, and answers.
        assert via_a.show_job(ecs_v2.ShowJobRequest(job_id=jobs[0])).status == "SUCCESS"
        time.sleep(2.0)  # let a reach the writes it was stalled before

        stale = pg.psql(url, "SELECT e.saga_id, e.seq, e.body FROM saga_events e JOIN sagas s ON s.id = e.saga_id "
                             "WHERE e.node = 'a' AND s.adopted_at IS NOT NULL AND e.at > s.adopted_at "
                             "AND s.owner_node = 'b' AND s.id IN (%s)" % ",".join(f"'{j}'" for j in jobs))
        assert not stale, f"the stale node wrote after the adoption: {stale[:5]}"
        adopted = pg.psql(url, "SELECT count(*) FROM sagas WHERE owner_node = 'b' AND owner_epoch >= 1 "
                               "AND id IN (%s)" % ",".join(f"'{j}'" for j in jobs))[0][0]
        assert adopted == str(len(jobs)), f"{adopted} of {len(jobs)} adopted by b"
        by_a = pg.psql(url, "SELECT count(*) FROM saga_events WHERE node = 'a' AND saga_id IN (%s)"
                       % ",".join(f"'{j}'" for j in jobs))[0][0]
        assert int(by_a) >= len(jobs), "a had written to each before it stalled"
        dropped = a.log(2000).count("dropped here")
        print(f"a dropped {dropped} operations when it came back")
        assert dropped >= 1, "a found, when it came back, that its operations were another node's"

        now = servers_idle(via_b)
        for s in ids:
            assert now[s] != before[s], f"{s} was reinstalled onto a new disk"
        disks_agree(pg, url)
    finally:
        cleanup(nodes)
