#!/usr/bin/env bash
# Starts a fresh hermes-server (Release build, embedded broker, its own data dir, a free port
# below the ephemeral range) and runs fanoutbench's filtered-stream scenario against it; every
# argument goes to fanoutbench. Prints fanoutbench's figures; asserts nothing.
#
#   bench/filteredbench.sh --ids 1000 --per-id 10 --monitors 10 --other-streams 0 --seconds 20
#   bench/filteredbench.sh --ids 1000 --per-id 10 --monitors 10 --other-streams 8000 --seconds 20
#
# HERMES_SERVER_ARGS adds server options (e.g. "--io-threads 1 --io-backend epoll").
#
# Client and server each need a descriptor per stream: keep streams (ids x per-id + monitors
# + other-streams) below `ulimit -Hn` minus a few hundred.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${HERMES_BUILD_DIR:-$ROOT/build/release}
SERVER=$BUILD/server/hermes-server
BENCH=$BUILD/bench/fanoutbench
for b in "$SERVER" "$BENCH"; do
    [ -x "$b" ] || { echo "build first: cmake --preset release && cmake --build build/release --target fanoutbench hermes-server" >&2; exit 1; }
done

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
PORT=${PORT:-}
if [ -z "$PORT" ]; then
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        if port_free "$p"; then PORT=$p; break; fi
    done
fi
[ -n "$PORT" ] || { echo "no free port found" >&2; exit 1; }

DATA=$(mktemp -d "${TMPDIR:-/tmp}/fb-data-XXXXXX")
LOG=$DATA.log
ulimit -n "$(ulimit -Hn)"
# shellcheck disable=SC2086 # HERMES_SERVER_ARGS is split into options on purpose
"$SERVER" --port "$PORT" --data-dir "$DATA" --api-keys bench --max-connections 19500 \
    --connection-timeout 0 --max-connections-per-key 0 --log-level warning \
    ${HERMES_SERVER_ARGS:-} >"$LOG" 2>&1 &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$DATA"
    echo "server log: $LOG" >&2
}
trap cleanup EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { echo "the server exited:" >&2; cat "$LOG" >&2; exit 1; }
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the server is not ready on port $PORT" >&2; exit 1; }
echo "hermes-server pid $PID on port $PORT" >&2
"$BENCH" --port "$PORT" --key bench --server-pid "$PID" --filtered "$@"
