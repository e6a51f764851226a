#!/usr/bin/env bash
# Bounded fuzzing run: builds every cargo-fuzz target (libFuzzer + AddressSanitizer, debug
# assertions on) and runs each for ECSD_FUZZ_SECONDS seconds (default 30), starting from the
# seed corpus in fuzz/corpus/<target>. New corpus entries go to fuzz/target/corpus/<target>
# so the checked-in seeds stay small; crash inputs land in fuzz/artifacts/<target>/.
#
# cargo-fuzz wants a nightly compiler for its sanitizer flags; RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them. Exits non-zero if a target fails to build or finds a crash.
set -euo pipefail
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"

seconds="${ECSD_FUZZ_SECONDS:-30}"
targets=(signature request_bodies public_key)
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

echo "building fuzz targets"
if ! cargo fuzz build; then
    echo "FAILED to build the fuzz targets"
    echo "0 passed, ${#targets[@]} failed"
    exit 1
fi

mkdir -p target/fuzz-logs
passed=0
failed=0
for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target"
    log="target/fuzz-logs/$target.log"
    if cargo fuzz run "$target" "target/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
        echo "ok     $target ($runs inputs in ${seconds}s)"
        passed=$((passed + 1))
    else
        echo "FAILED $target (log: fuzz/$log; crash inputs: fuzz/artifacts/$target/)"
        tail -n 40 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
