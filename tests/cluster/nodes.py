"""Several ecsd nodes on one PostgreSQL database, for the cluster suite: start, kill, stall."""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "sdk"))

from pg_cluster import Cluster  # noqa: E402

AK = "ECSDCLUSTERTESTAK001"
SK = "ecsdClusterTestSecretKey000000000000001"
PROJECT_ID = "6a1c7a2e9b3d4c6a8e0f1a2b3c4d5e6f"

_ENDPOINT_RE = re.compile(r"^\s+endpoint:\s+(http://\S+)\s*$")
_NODE_RE = re.compile(r"^\s+node:\s+(\S+)")


@dataclass
class Node:
    """One ecsd process of the cluster."""

    name: str
    proc: subprocess.Popen
    endpoint: str
    work: Path
    lines: list = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: the node dies as on a power loss, with nothing said to anyone."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log(self, n: int = 60) -> str:
        try:
            text = (self.work / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-n:])


def ecsd_binary() -> Path:
    path = Path(os.environ.get("ECSD_BIN") or REPO_ROOT / "target" / "debug" / "ecsd")
    if not path.is_file():
        raise RuntimeError(f"{path} does not exist (build ecsd first, or set ECSD_BIN)")
    return path


def start_node(name: str, store_url: str, *, lease_ms: int, heartbeat_ms: int, step_ms: int,
               extra_env=None) -> Node:
    """Starts `ecsd serve --node-name NAME` on a free port and a fresh data dir; waits for it."""
    work = Path(tempfile.mkdtemp(prefix=f"ecsd-cluster-{name}-"))
    (work / "data").mkdir()
    env = dict(os.environ)
    env.update(HUAWEICLOUD_SDK_AK=AK, HUAWEICLOUD_SDK_SK=SK, HUAWEICLOUD_SDK_PROJECT_ID=PROJECT_ID,
               RUST_LOG=env.get("RUST_LOG", "info"))
    env.update(extra_env or {})
    env.pop("ECSD_STORE", None)
    log = open(work / "stderr.log", "wb")
    proc = subprocess.Popen(
        [str(ecsd_binary()), "serve", "--listen", "127.0.0.1:0", "--listen-tls", "off",
         "--data-dir", str(work / "data"), "--store", store_url, "--node-name", name,
         "--lease-ms", str(lease_ms), "--heartbeat-ms", str(heartbeat_ms), "--sim-step-ms", str(step_ms)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1)
    log.close()
    found: "queue.Queue[tuple[str, str]]" = queue.Queue()
    lines: list = []

    def pump() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            for kind, rx in (("endpoint", _ENDPOINT_RE), ("node", _NODE_RE)):
                m = rx.match(line)
                if m:
                    found.put((kind, m.group(1)))
        found.put(("eof", ""))

    threading.Thread(target=pump, daemon=True).start()
    info: dict = {}
    deadline = time.monotonic() + 30
    while len(info) < 2:
        try:
            kind, value = found.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            kind = "timeout"
        if kind in ("eof", "timeout"):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            stderr = (work / "stderr.log").read_text(errors="replace")
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(f"node {name} did not start ({kind}):\n" + "\n".join(lines) + "\n" + stderr[-4000:])
        info[kind] = value
    assert info["node"] == name, f"the banner names node {info['node']!r}, not {name!r}"
    return Node(name=name, proc=proc, endpoint=info["endpoint"].rstrip("/"), work=work, lines=lines)


def cleanup(nodes) -> None:
    for n in nodes:
        n.stop()
        shutil.rmtree(n.work, ignore_errors=True)


__all__ = ["AK", "SK", "PROJECT_ID", "Cluster", "Node", "start_node", "cleanup"]
