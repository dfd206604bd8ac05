#!/usr/bin/env bash
# Builds the libFuzzer harnesses (the `fuzz` CMake preset: clang, ASan + UBSan, only the
# harnesses and the sources they exercise) and runs them.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]   every harness (or those named) for SECONDS each (60)
#   scripts/fuzz.sh --smoke                  what scripts/test.sh runs: every regression input
#                                            once, then each harness for HERMES_FUZZ_SMOKE_SECONDS (5)
#
# Seeds are tests/fuzz/corpus/<harness>/ (never written to); inputs that reach new code collect
# in build/fuzz/corpus/<harness>/. A crash or a failed property leaves its input in
# build/fuzz/artifacts/<harness>/: fix the bug, then keep the input in
# tests/fuzz/regressions/<harness>/ so every later run replays it.
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

smoke=0
seconds=60
if [ "${1:-}" = "--smoke" ]; then
    smoke=1
    seconds=${HERMES_FUZZ_SMOKE_SECONDS:-5}
    shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    mapfile -t harnesses < <(sed -n 's/^hermes_add_fuzzer(\(fuzz_[a-z_]*\).*/\1/p' "$HERMES_ROOT/tests/fuzz/CMakeLists.txt")
fi

hermes_install_packages "${HERMES_APT_PACKAGES[@]}" clang libclang-rt-14-dev
hermes_build fuzz

build=$HERMES_ROOT/build/fuzz
status=0
summary=()
for h in "${harnesses[@]}"; do
    bin=$build/tests/fuzz/$h
    [ -x "$bin" ] || { echo "no harness $h" >&2; exit 2; }
    mkdir -p "$build/corpus/$h" "$build/artifacts/$h"
    regressions=("$HERMES_ROOT"/tests/fuzz/regressions/"$h"/*)
    if [ -e "${regressions[0]}" ]; then
        if ! "$bin" "${regressions[@]}" >"$build/artifacts/$h/regressions.log" 2>&1; then
            echo "==> $h: a regression input fails again (see $build/artifacts/$h/regressions.log)" >&2
            status=1
        fi
    fi
    log=$build/artifacts/$h/run.log
    echo "==> $h: ${seconds}s"
    rc=0
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$h/" \
        "$build/corpus/$h" "$HERMES_ROOT/tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "$build/corpus/$h" -type f | wc -l)
    if [ "$rc" -ne 0 ]; then
        status=1
        summary+=("$h: FAILED after ${runs:-?} executions, see $log and $build/artifacts/$h/")
        grep -E "ERROR|FUZZ_CHECK|SUMMARY" "$log" | head -5 >&2 || true
    else
        summary+=("$h: ${runs:-?} executions, coverage ${cov:-?}, ${corpus} corpus inputs found, nothing found")
    fi
done
printf '%s\n' "${summary[@]}"
[ "$smoke" -eq 1 ] && [ "$status" -eq 0 ] && echo "fuzz smoke: ${#harnesses[@]} harnesses passed"
exit "$status"
