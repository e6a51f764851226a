#!/usr/bin/env bash
# The cluster suite: three ecsd nodes on one throwaway PostgreSQL database, driven by the
# official Huawei Cloud Python SDK given all three endpoints; nodes are killed (SIGKILL) and
# stalled (SIGSTOP) under load. Needs PostgreSQL (Debian's initdb/pg_ctl); skipped with a
# notice where it is not installed, unless ECSD_REQUIRE_POSTGRES=1.
# Usage: tests/cluster/run.sh [extra pytest args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/python-env.sh" "$here/../sdk/requirements.txt"

cd "$repo"
"$venv/bin/python" -m pytest -q -c tests/cluster/pytest.ini tests/cluster "$@"
