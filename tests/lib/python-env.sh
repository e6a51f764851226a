# Sourced by the Python suites' run.sh: the virtualenv with the official SDK (and the suite's
# own packages), and the ecsd binary under test.
#   source "$repo/tests/lib/python-env.sh" REQUIREMENTS_FILE
# Sets `venv` (ECSD_SDK_VENV, default <repo>/.venv-sdk, created if missing) and exports
# ECSD_BIN (default <repo>/target/debug/ecsd, built here when not given).

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${ECSD_SDK_VENV:-$repo/.venv-sdk}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$1"

if [ -z "${ECSD_BIN:-}" ]; then
    (cd "$repo" && cargo build -p ecsd)
    export ECSD_BIN="$repo/target/debug/ecsd"
fi
