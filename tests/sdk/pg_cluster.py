"""A throwaway PostgreSQL cluster for the SDK suite on the PostgreSQL store (ECSD_TEST_STORE=postgres).

The same recipe as the Rust tests' cluster (ecs_store::pg_cluster): Debian's initdb and pg_ctl
into a temporary directory, trust authentication, a free loopback port, the socket in that
directory; one database per ecsd. As root the cluster belongs to the `postgres` user (initdb
refuses to run as root). It is stopped by its PID and its directory removed at the end.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "postgres"


def _find_bin() -> Path:
    """The bin directory of the newest PostgreSQL installed the Debian way, or $ECSD_POSTGRES_BIN."""
    override = os.environ.get("ECSD_POSTGRES_BIN")
    candidates = [Path(override)] if override else sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1,
        reverse=True)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    raise RuntimeError("ECSD_TEST_STORE=postgres, but PostgreSQL is not installed "
                       "(no initdb and pg_ctl in /usr/lib/postgresql/*/bin, nor in ECSD_POSTGRES_BIN)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A running cluster; `stop()` ends it."""

    def __init__(self) -> None:
        self.bin = _find_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="ecsd-sdk-pg-"))
        self.run_as = SUPERUSER if os.geteuid() == 0 else None
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.port = 0
        self.pid = 0
        self._databases = 0
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
                  "--encoding=UTF8", "--no-instructions")
        # A free port can be taken by someone else between our look and the server's bind.
        last = ""
        for _ in range(3):
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {self.dir} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(data),
                          "-l", str(self.dir / "postgres.log"), "-o", options)
            except RuntimeError as e:
                last = f"{e}\n{(self.dir / 'postgres.log').read_text(errors='replace')}"
                continue
            self.port = port
            self.pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
            return
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError(f"the PostgreSQL cluster did not start: {last}")

    def _run(self, program: str, *args: str) -> None:
        cmd = [str(self.bin / program), *args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        # The server's working directory must be readable by its user.
        out = subprocess.run(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{program} failed ({out.returncode}): {out.stdout}{out.stderr}")

    def fresh_database(self) -> str:
        """Creates a new, empty database; its URL."""
        self._databases += 1
        name = f"sdk_{self._databases}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name)
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def psql(self, url: str, sql: str) -> list:
        """Runs `sql` on the database of `url`; its rows, as lists of strings (NULL as None)."""
        name = url.rsplit("/", 1)[1]
        cmd = [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", name,
               "-X", "-A", "-t", "-F", "\x1f", "-P", "null=\x1e", "-v", "ON_ERROR_STOP=1", "-c", sql]
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed ({out.returncode}): {out.stderr}")
        rows = []
        for line in out.stdout.splitlines():
            if line:
                rows.append([None if v == "\x1e" else v for v in line.split("\x1f")])
        return rows

    def stop(self) -> None:
        """SIGINT (PostgreSQL's fast shutdown) to the server's PID, SIGKILL after ten seconds."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGINT)
                deadline = time.monotonic() + 10
                while os.path.exists(f"/proc/{self.pid}") and time.monotonic() < deadline:
                    time.sleep(0.1)
                if os.path.exists(f"/proc/{self.pid}"):
                    os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.pid = 0
        shutil.rmtree(self.dir, ignore_errors=True)
