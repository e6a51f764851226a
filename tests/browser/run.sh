#!/usr/bin/env bash
# Runs the web console's tests: its request signer against the wire contract's vectors, then
# the console in headless Chromium (Debian's `chromium`), driven by Playwright, with axe-core's
# accessibility checks. Usage: tests/browser/run.sh [extra node --test args]
#   ECSD_BIN          binary under test (default: <repo>/target/debug/ecsd, built here)
#   ECSD_CHROMIUM     the browser (default /usr/bin/chromium)
#   ECSD_SCREENSHOTS  where screenshots go (default: a new temporary directory, named in the log)
#   ECSD_BROWSER_TESTS=1  fail, rather than skip, where the browser is missing (CI sets it)
# The packages are installed with `npm ci` from package-lock.json into tests/browser/node_modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
chromium="${ECSD_CHROMIUM:-/usr/bin/chromium}"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

if [ -z "${ECSD_BIN:-}" ]; then
    (cd "$repo" && cargo build -p ecsd)
    export ECSD_BIN="$repo/target/debug/ecsd"
fi

cd "$here"
tests=(sign.test.mjs console.test.mjs)
if [ ! -x "$chromium" ]; then
    if [ "${ECSD_BROWSER_TESTS:-}" = 1 ]; then
        echo "tests/browser: $chromium is missing (apt-get install chromium)" >&2
        exit 1
    fi
    echo "SKIPPED: the console's browser tests ($chromium is missing: apt-get install chromium)"
    tests=(sign.test.mjs)
fi
# The spec reporter ends with node's summary; one test file at a time, as they share nothing
# but the machine's two cores.
exec node --test --test-concurrency=1 --test-reporter=spec "$@" "${tests[@]}"
