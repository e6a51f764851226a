#!/usr/bin/env bash
# The real-VM suite: QEMU guests booted from a demo image built from Debian packages, driven
# through the official Python SDK. Skipped (and said so) where QEMU is not installed, unless
# ECSD_QEMU_TESTS=1, which makes a missing QEMU a failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v ssh >/dev/null 2>&1; then
    if [ "${ECSD_QEMU_TESTS:-}" = 1 ]; then
        echo "QEMU or ssh is missing: run scripts/install-qemu" >&2
        exit 1
    fi
    echo "SKIPPED: the QEMU suite (qemu-system-x86_64 or ssh not installed; scripts/install-qemu installs them)"
    exit 0
fi
source "$here/../lib/python-env.sh" "$repo/tests/sdk/requirements.txt"
cd "$repo"
"$venv/bin/python" -m pytest -q -s -p no:cacheprovider tests/qemu "$@"
