#!/usr/bin/env bash
# Runs the Node SDK conformance suite: the official Huawei Cloud Node SDK against a freshly
# started ecsd (ecs.test.js starts and stops it). Usage: tests/node/run.sh [extra node --test args]
# (works from any directory).
#   ECSD_BIN  binary under test (default: <repo>/target/debug/ecsd, built here)
# The packages are installed with `npm ci` from package-lock.json into tests/node/node_modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# Only the suite's own packages, exactly as locked; quiet, because the output must end with the
# test runner's summary.
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

if [ -z "${ECSD_BIN:-}" ]; then
    (cd "$repo" && cargo build -p ecsd)
    export ECSD_BIN="$repo/target/debug/ecsd"
fi

cd "$here"
# The spec reporter ends with node's summary (tests, pass, fail, ...); node exits non-zero when
# a test fails.
exec node --test --test-reporter=spec "$@" ecs.test.js
