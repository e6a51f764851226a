#!/usr/bin/env bash
# Runs the SDK conformance suite: official Huawei Cloud Python SDK against a freshly started ecsd.
# Usage: tests/sdk/run.sh [extra pytest args]   (works from any directory)
#   ECSD_BIN       binary under test (default: <repo>/target/debug/ecsd, built here)
#   ECSD_SDK_VENV  virtualenv to use (default: <repo>/.venv-sdk, created if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ECSD_SDK_VENV:-$repo/.venv-sdk}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${ECSD_BIN:-}" ]; then
    (cd "$repo" && cargo build -p ecsd)
fi

cd "$repo"
set +e
"$venv/bin/python" -m pytest -q tests/sdk "$@"
exit $?
