"""Property-based fuzz run of ecsd against its own OpenAPI document, with Schemathesis.

Starts ecsd on loopback ports with a fresh data directory and fixed credentials, fetches the
served `/openapi.json` (unauthenticated), creates a few key pairs, servers and a fault whose ids
the generator may pick for path parameters, then runs `st run` over every operation with a fixed
number of examples each and a time limit. Every request is signed (see `hooks.py`). The run
fails on a 5xx, on a status, content type or body the document does not allow, on an operation
that accepts a request it should not (schema-invalid data, missing authentication), and on a
refused write that changed state. Prints `fuzz: N passed, M failed` (operations) at the end and
exits non-zero when anything failed.

Environment: ECSD_BIN (the binary, required), ECSD_FUZZ_EXAMPLES (examples per operation and
phase, default 25), ECSD_FUZZ_SEED (default fixed), ECSD_FUZZ_TIME_LIMIT (seconds, default 480),
ECSD_FUZZ_KEEP (keep the work directory with the reports), ECSD_FUZZ_ARGS (extra Schemathesis
options, e.g. "--include-path-regex ports" to look into one area).
"""

import json
import os
import queue
import re
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from signing import session  # noqa: E402

AK = "ECSDFUZZTESTAK000001"
SK = "ecsdFuzzTestSecretKey0000000000000000001"
PROJECT_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
PHANTOM_SERVER = "00000000-0000-4000-8000-00000000f022"

EXAMPLES = int(os.environ.get("ECSD_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("ECSD_FUZZ_SEED", "20240611"))
# A guard against a hung run, not a target: the same cases took 210-323 s on one 2-core
# machine from one hour to the next.
TIME_LIMIT_S = float(os.environ.get("ECSD_FUZZ_TIME_LIMIT", "480"))
STARTUP_TIMEOUT_S = 30.0

# Checks run on every response. `unsupported_method` and `allow_header_conformance` are left
# out: like Huawei's API gateway, ecsd answers a method it does not serve on a known path with
# 404 `APIGW.0101`, not 405. `positive_data_acceptance` is left out because the document cannot
# say which schema-valid requests refer to existing resources. `object_level_authorization`
# needs a second identity.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "rejected_write_changed_nothing",
    "signed_request_is_authenticated",
]


def log(msg: str) -> None:
    print(f"[fuzz] {msg}", flush=True)


def start_ecsd(binary: str, work: Path) -> tuple:
    """Starts `ecsd serve` and returns (process, http endpoint)."""
    data = work / "data"
    data.mkdir()
    env = dict(os.environ, HUAWEICLOUD_SDK_AK=AK, HUAWEICLOUD_SDK_SK=SK, HUAWEICLOUD_SDK_PROJECT_ID=PROJECT_ID)
    stderr = open(work / "ecsd.log", "wb")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--data-dir", str(data),
         "--driver", "sim"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env, text=True, bufsize=1)
    stderr.close()
    found: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            m = re.match(r"^\s+endpoint:\s+(http://\S+)\s*$", line)
            if m:
                found.put(m.group(1).rstrip("/"))
        found.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        endpoint = found.get(timeout=STARTUP_TIMEOUT_S)
    except queue.Empty:
        endpoint = ""
    if not endpoint:
        stop_ecsd(proc)
        raise RuntimeError(f"ecsd did not start; its log:\n{(work / 'ecsd.log').read_text(errors='replace')[-4000:]}")
    return proc, endpoint


def stop_ecsd(proc: subprocess.Popen) -> None:
    """Stops ecsd by its PID: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_job(s, endpoint: str, job_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        job = s.get(f"{endpoint}/v1/{PROJECT_ID}/jobs/{job_id}", timeout=30).json()
        if job["status"] in ("SUCCESS", "FAIL") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def seed(endpoint: str) -> dict:
    """Creates resources whose ids the generator may use, and returns the id lists."""
    s = session(AK, SK)
    post = lambda path, body: s.post(f"{endpoint}{path}", json=body, timeout=30)  # noqa: E731
    keypairs, user_id = [], ""
    for i in range(4):
        r = post(f"/v2.1/{PROJECT_ID}/os-keypairs", {"keypair": {"name": f"fuzz-kp-{i}"}})
        r.raise_for_status()
        keypairs.append(r.json()["keypair"]["name"])
        user_id = r.json()["keypair"]["user_id"]
    vpc = s.get(f"{endpoint}/v1/{PROJECT_ID}/vpcs", timeout=30).json()["vpcs"][0]["id"]
    subnet = s.get(f"{endpoint}/v1/{PROJECT_ID}/subnets", timeout=30).json()["subnets"][0]["id"]
    images = [i["id"] for i in s.get(f"{endpoint}/v2/cloudimages", timeout=30).json()["images"]]
    flavors = [f["id"] for f in s.get(f"{endpoint}/v1/{PROJECT_ID}/cloudservers/flavors", timeout=30).json()["flavors"]]
    body = {"server": {"name": "fuzz-srv", "imageRef": images[0], "flavorRef": flavors[0], "vpcid": vpc,
                       "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": "SSD"},
                       "key_name": keypairs[0], "count": 3}}
    r = post(f"/v1/{PROJECT_ID}/cloudservers", body)
    r.raise_for_status()
    created = r.json()
    job = wait_job(s, endpoint, created["job_id"])
    if job["status"] != "SUCCESS":
        raise RuntimeError(f"seeding servers failed: {job}")
    fault = post("/ecsd-admin/v1/faults", {"action": "delay", "delay_ms": 1, "server_id": PHANTOM_SERVER})
    fault.raise_for_status()
    return {
        "server_ids": created["serverIds"],
        "job_ids": [created["job_id"]] + [j["job_id"] for j in job["entities"].get("sub_jobs", [])],
        "keypair_names": keypairs,
        "image_ids": images,
        "vpc_ids": [vpc],
        "subnet_ids": [subnet],
        "fault_ids": [fault.json()["id"]],
        "flavor_ids": flavors[:3],
        "user_ids": [user_id],
        # Values that pass the field rules, so that some generated writes are accepted.
        "volume_types": ["SSD", "SATA"],
        "counts": [1, 2],
        "server_names": ["fuzz-a", "fuzz_b.1"],
        "new_keypair_names": ["fuzz-new-a", "fuzz_new_b"],
        "passwords": ["Ecsd@Fuzz2024"],
        "modes": ["withStopServer"],
        "power_types": ["SOFT", "HARD"],
    }


def toml_str(v) -> str:
    return json.dumps(v)


# Parameters and body fields the generator fills, half of the time, from the seeded resources
# (or with values that pass the field rules) instead of from the schema alone: this gets
# requests past "no such server" and "no such image" to the code behind.
BINDINGS = {
    "path.server_id": "server_ids",
    "path.job_id": "job_ids",
    "path.name": "keypair_names",
    "path.image_id": "image_ids",
    "path.vpc_id": "vpc_ids",
    "path.subnet_id": "subnet_ids",
    "path.id": "fault_ids",
    "body.server.name": "server_names",
    "body.server.imageRef": "image_ids",
    "body.server.flavorRef": "flavor_ids",
    "body.server.vpcid": "vpc_ids",
    "body.server.nics[*].subnet_id": "subnet_ids",
    "body.server.root_volume.volumetype": "volume_types",
    "body.server.key_name": "keypair_names",
    "body.server.count": "counts",
    "body.servers[*].id": "server_ids",
    "body.os-start.servers[*].id": "server_ids",
    "body.os-stop.servers[*].id": "server_ids",
    "body.reboot.servers[*].id": "server_ids",
    "body.os-stop.type": "power_types",
    "body.reboot.type": "power_types",
    "body.os-reinstall.keyname": "keypair_names",
    "body.os-reinstall.userid": "user_ids",
    "body.os-reinstall.adminpass": "passwords",
    "body.os-reinstall.mode": "modes",
    "body.os-change.keyname": "keypair_names",
    "body.os-change.userid": "user_ids",
    "body.os-change.adminpass": "passwords",
    "body.os-change.mode": "modes",
    "body.os-change.imageid": "image_ids",
    "body.keypair.name": "new_keypair_names",
}


def write_config(path: Path, endpoint: str, ids: dict, report_dir: Path) -> None:
    """The schemathesis.toml of the run (the seeded ids become dictionaries)."""
    lines = [
        f"base-url = {toml_str(endpoint)}",
        "workers = 1",
        f"seed = {SEED}",
        "request-timeout = 30",
        "",
        "[generation]",
        'mode = "all"',
        f"max-examples = {EXAMPLES}",
        'database = "none"',
        "",
        "[checks]",
        "enabled = false",
    ]
    lines += [f"{name}.enabled = true" for name in CHECKS]
    lines += ["", "[parameters]", f'"path.project_id" = {toml_str(PROJECT_ID)}']
    for key, dictionary in BINDINGS.items():
        lines.append(f'{toml_str(key)} = {{ dictionary = {toml_str(dictionary)}, probability = 0.5 }}')
    lines.append("")
    for dictionary in sorted(set(BINDINGS.values())):
        lines += [f"[dictionaries.{dictionary}]", f"values = {toml_str(ids[dictionary])}", ""]
    lines += ["[reports]", f"directory = {toml_str(str(report_dir))}", "[reports.json]", "enabled = true", ""]
    path.write_text("\n".join(lines))


def summarize(report: dict) -> tuple:
    """(passed, failed) operations, from schemathesis' JSON report: an operation fails when any
    check failed on it or testing it errored."""
    failed = {op for f in report.get("failures", []) for op in f.get("operations", [])}
    failed |= {op for e in report.get("errors", []) for op in e.get("operations", []) if op}
    errors_without_operation = sum(1 for e in report.get("errors", []) if not e.get("operations"))
    return max(report["operations"]["tested"] - len(failed), 0), len(failed) + errors_without_operation


def main() -> int:
    binary = os.environ.get("ECSD_BIN")
    if not binary or not Path(binary).is_file():
        print(f"ECSD_BIN must name the ecsd binary (got {binary!r})", file=sys.stderr)
        return 2
    st = Path(sys.executable).with_name("st")
    work = Path(tempfile.mkdtemp(prefix="ecsd-fuzz-"))
    os.environ["HOME"] = str(work)  # the SDK writes ~/.huaweicloud; keep it out of the real home
    proc = None
    started = time.monotonic()
    try:
        proc, endpoint = start_ecsd(binary, work)
        log(f"ecsd pid {proc.pid} at {endpoint}")
        unsigned = requests.Session()
        unsigned.trust_env = False
        r = unsigned.get(f"{endpoint}/openapi.json", timeout=30)
        if r.status_code != 200:
            log(f"GET /openapi.json without credentials answered {r.status_code}")
            print("fuzz: 0 passed, 1 failed")
            return 1
        spec = r.json()
        operations = sum(1 for item in spec["paths"].values() for m in item if m in ("get", "put", "post", "delete"))
        ids = seed(endpoint)
        log(f"seeded {len(ids['server_ids'])} servers, {len(ids['keypair_names'])} key pairs, a fault")
        (work / "seeds.json").write_text(json.dumps(ids))
        config = work / "schemathesis.toml"
        reports = work / "reports"
        write_config(config, endpoint, ids, reports)
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            ECSD_FUZZ_AK=AK,
            ECSD_FUZZ_SK=SK,
            ECSD_FUZZ_PROJECT_ID=PROJECT_ID,
            ECSD_FUZZ_ENDPOINT=endpoint,
            ECSD_FUZZ_PHANTOM_SERVER=PHANTOM_SERVER,
            ECSD_FUZZ_STATS=str(work / "stats.json"),
            ECSD_FUZZ_SEEDS=str(work / "seeds.json"),
            SCHEMATHESIS_HOOKS=str(HERE / "hooks.py"),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            NO_COLOR="1",
        )
        cmd = [str(st), "--config-file", str(config), "run", f"{endpoint}/openapi.json", "--no-shrink"]
        # Extra options for a narrower run while investigating, e.g. "--include-path-regex ports".
        cmd += shlex.split(os.environ.get("ECSD_FUZZ_ARGS", ""))
        log(f"{operations} operations, {EXAMPLES} examples per operation and phase, seed {SEED}, "
            f"time limit {TIME_LIMIT_S:.0f} s")
        remaining = TIME_LIMIT_S - (time.monotonic() - started)
        try:
            st_run = subprocess.run(cmd, env=env, cwd=work, timeout=max(remaining, 1), stdin=subprocess.DEVNULL)
            rc = st_run.returncode
        except subprocess.TimeoutExpired:
            log(f"schemathesis did not finish within the {TIME_LIMIT_S:.0f} s limit")
            print(f"fuzz: 0 passed, {operations} failed")
            return 1
        if proc.poll() is not None:
            log(f"ecsd exited during the run (rc={proc.returncode}); its log ends with:\n"
                + (work / "ecsd.log").read_text(errors="replace")[-4000:])
            print(f"fuzz: 0 passed, {operations} failed")
            return 1
        found = sorted(reports.glob("json-*.json"))
        if not found:
            log("schemathesis wrote no report")
            print(f"fuzz: 0 passed, {operations} failed")
            return rc or 1
        report = json.loads(found[-1].read_text())
        stats = json.loads((work / "stats.json").read_text()) if (work / "stats.json").exists() else {}
        cases = report["test_cases"]
        log(f"{report['operations']['tested']} operations tested, {cases['generated']} test cases, "
            f"{cases['with_failures']} with failures; {stats.get('accepted_writes', 0)} writes accepted, "
            f"{stats.get('rejected_writes_checked', 0)} refused writes checked for state changes")
        known = stats.get("known_issue_unsigned_payload_401", 0)
        if known:
            log(f"KNOWN ISSUE (not counted as a failure): {known} signed requests with an empty body and "
                "`X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` were refused with 401; the SDK signs the empty-body hash "
                "there, ecsd's verifier uses the header (see hooks.py)")
        passed, failed = summarize(report)
        if rc != 0 and failed == 0:
            failed = 1
        print(f"fuzz: {passed} passed, {failed} failed")
        return 0 if failed == 0 and rc == 0 else 1
    finally:
        if proc is not None:
            stop_ecsd(proc)
        log(f"finished in {time.monotonic() - started:.0f} s")
        if os.environ.get("ECSD_FUZZ_KEEP"):
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
