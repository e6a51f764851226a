#!/usr/bin/env bash
# Runs the SDK conformance suite: official Huawei Cloud Python SDK against a freshly started ecsd.
# Usage: tests/sdk/run.sh [extra pytest args]   (works from any directory)
#   ECSD_BIN       binary under test (default: <repo>/target/debug/ecsd, built here)
#   ECSD_SDK_VENV  virtualenv to use (default: <repo>/.venv-sdk, created if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/python-env.sh" "$here/requirements.txt"

cd "$repo"
set +e
"$venv/bin/python" -m pytest -q tests/sdk "$@"
exit $?
