"""Prometheus metrics (`--metrics-listen`): the exposition parses with the Prometheus client's
own parser, and a reinstall made through the official SDK moves the request, saga and step
metrics by exactly what it did."""

import urllib.request

import huaweicloudsdkecs.v2 as ecs_v2
from prometheus_client.parser import text_string_to_metric_families

from conftest import SK, wait_job_success

REINSTALL = "/v1/{project_id}/cloudservers/{server_id}/reinstallos"
STEPS = ["stop_server", "new_disk_id", "create_disk", "inject", "swap_disk", "boot", "delete_old_disk"]


def scrape(url):
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    assert SK not in text, "the secret key is in the metrics"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name, **labels):
    """The sum of the samples named `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_a_reinstall_moves_the_request_saga_and_step_metrics(ecsd, ecs, factory):
    sid = factory.server()
    before = scrape(ecsd.metrics_url)
    body = ecs_v2.ReinstallServerWithoutCloudInitRequestBody(
        os_reinstall=ecs_v2.ReinstallServerWithoutCloudInitOption(adminpass="Admin-Pass-9931", mode="withStopServer"))
    job = ecs.reinstall_server_without_cloud_init(
        ecs_v2.ReinstallServerWithoutCloudInitRequest(server_id=sid, body=body)).job_id
    wait_job_success(ecs, job)
    after = scrape(ecsd.metrics_url)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ecsd_http_requests_total", route=REINSTALL, method="POST", status="200") == 1
    assert delta("ecsd_http_request_duration_seconds_count", route=REINSTALL, method="POST") == 1
    assert delta("ecsd_http_requests_total", route="/v1/{project_id}/jobs/{job_id}", method="GET") >= 1
    assert delta("ecsd_sagas_finished_total", saga="rebuild_os", outcome="succeeded") == 1
    for step in STEPS:
        assert delta("ecsd_saga_step_duration_seconds_count", saga="rebuild_os", step=step,
                     direction="forward", result="ok") == 1, step
    assert value(after, "ecsd_sagas_running") == 0
    # Buckets are cumulative: the +Inf bucket holds every observation.
    assert value(after, "ecsd_saga_step_duration_seconds_bucket", saga="rebuild_os", step="boot", le="+Inf") == \
        value(after, "ecsd_saga_step_duration_seconds_count", saga="rebuild_os", step="boot")
    # The job, the driver's calls, the store's commits and the servers by status.
    assert delta("ecsd_jobs_accepted_total", type="reinstallOs") == 1
    assert delta("ecsd_jobs_finished_total", type="reinstallOs", result="SUCCESS") == 1
    for verb in ("vm_stop", "disk_create", "disk_inject", "vm_start", "disk_delete"):
        assert delta("ecsd_driver_call_duration_seconds_count", verb=verb, result="ok") >= 1, verb
    assert delta("ecsd_store_commit_duration_seconds_count") >= len(STEPS)
    assert value(after, "ecsd_store_commit_writes_sum") >= value(after, "ecsd_store_commit_writes_count") > 0
    assert value(after, "ecsd_servers", status="ACTIVE") >= 1
    # The simulated driver's running VMs: this server's among them.
    assert value(after, "ecsd_vms_running") >= 1
