#!/usr/bin/env bash
# Regenerates docs/man/*.1 from the programs' own --help and --version (help2man) and the
# hand-written sections in packaging/man/*.h2m. tst_manpages fails when they drift from what
# the binaries print, so run this after changing an option. Needs help2man.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build/debug-asan}
OUT=${2:-$ROOT/docs/man}
mkdir -p "$OUT"
# A clean environment: the defaults printed must not depend on who runs this.
run_help2man() { # name binary
    env -i PATH=/usr/bin:/bin HOME=/nonexistent LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        ASAN_OPTIONS=detect_leaks=0 \
        help2man --no-info --section=1 --include="$ROOT/packaging/man/$1.h2m" \
                 --output="$OUT/$1.1" "$2"
}
run_help2man hermes-server "$BUILD/server/hermes-server"
run_help2man hermes-events "$BUILD/monitor/hermes-events"
run_help2man hermes-monitor "$BUILD/monitor/app/hermes-monitor"
echo "updated $OUT/hermes-server.1, hermes-events.1, hermes-monitor.1"
