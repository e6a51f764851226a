#!/usr/bin/env bash
# Fuzzes ecsd against its own OpenAPI document with Schemathesis (see run_fuzz.py).
# Usage: tests/fuzz/run.sh   (works from any directory)
#   ECSD_BIN             binary under test (default: <repo>/target/debug/ecsd, built here)
#   ECSD_SDK_VENV        virtualenv to use (default: <repo>/.venv-sdk, created if missing)
#   ECSD_FUZZ_EXAMPLES   examples per operation and phase (default 25)
#   ECSD_FUZZ_SEED       generation seed (default fixed, so runs repeat)
#   ECSD_FUZZ_TIME_LIMIT seconds the Schemathesis run may take (default 480)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib/python-env.sh" "$here/requirements.txt"

exec "$venv/bin/python" "$here/run_fuzz.py"
