#!/usr/bin/env bash
# The cost of idle streams: hermes-server (Release, embedded broker) holds N streams that get no
# events, only heartbeats, and this prints the server's CPU over a window as a share of one core.
#
#   bench/idlebench.sh [N=19000] [SECONDS=60] [extra hermes-server options...]
#   e.g. bench/idlebench.sh 19000 60 --io-threads 1 --io-backend epoll
#
# The streams are held by the shared harness's load client (../shared/loadbench/src/sseclient.c,
# built into $TMPDIR/hermes-loadbench by bench/loadbench.sh or here). Nothing else should run
# on the machine meanwhile.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-19000}
SECONDS_WINDOW=${2:-60}
shift 2 || shift $# || true
SERVER=$ROOT/build/release/server/hermes-server
[ -x "$SERVER" ] || { echo "build first: cmake --preset release && cmake --build build/release" >&2; exit 1; }
WORK=${TMPDIR:-/tmp}/hermes-loadbench
CLIENT=$WORK/bin/sseclient
if [ ! -x "$CLIENT" ]; then
    mkdir -p "$WORK/bin"
    cc -O2 -o "$CLIENT" "${HERMES_LOADBENCH:-$ROOT/../shared/loadbench}/src/sseclient.c" -lm
fi
PORT=${IDLEBENCH_PORT:-18310}
HEARTBEAT=${IDLEBENCH_HEARTBEAT:-30}
DIR=$(mktemp -d)
SERVER_PID=
CLIENT_PID=
cleanup() {
    [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

"$SERVER" --port "$PORT" --data-dir "$DIR/data" --api-keys bench --max-connections $((N + 500)) \
    --max-connections-per-key 0 --connection-timeout 0 --heartbeat-interval "$HEARTBEAT" "$@" \
    > "$DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$DIR/server.log" && break
    sleep 0.1
done
grep -q "listening on" "$DIR/server.log" || { cat "$DIR/server.log" >&2; exit 1; }
grep "I/O thread" "$DIR/server.log" | sed 's/^.*hermes.hub: /server: /' || true

cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; } # utime + stime, clock ticks
mkfifo "$DIR/ctl"
"$CLIENT" --url "http://127.0.0.1:$PORT/api/v1/events/stream" -n "$N" -H "Authorization: Bearer bench" \
    --status-ms 1000 < "$DIR/ctl" > "$DIR/client.out" 2> "$DIR/client.err" &
CLIENT_PID=$!
exec 3> "$DIR/ctl" # keeps the client's stdin open
for _ in $(seq 1 300); do
    grep -q "^READY" "$DIR/client.out" && break
    sleep 1
done
grep -q "^READY" "$DIR/client.out" || { echo "the client never got ready:" >&2; cat "$DIR/client.err" >&2; exit 1; }
grep "^READY" "$DIR/client.out" | tail -1 | cut -c1-200
sleep 5 # the ramp's stragglers
# A field of the client's last complete STATUS line (0 if there is none).
status_field() {
    grep '^STATUS .*}$' "$DIR/client.out" | tail -1 | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | grep . || echo 0
}
TICKS=$(getconf CLK_TCK)
before=$(cpu)
rx_before=$(status_field rx_bytes)
sleep "$SECONDS_WINDOW"
after=$(cpu)
rx_after=$(status_field rx_bytes)
awk -v n="$(status_field open)" -v b="$before" -v a="$after" -v t="$TICKS" -v s="$SECONDS_WINDOW" \
    -v hb="$HEARTBEAT" -v rx=$((rx_after - rx_before)) 'BEGIN {
        cpu = (a - b) / t
        printf "streams_open=%d window_s=%d heartbeat_s=%d server_cpu_s=%.2f core_share_pct=%.2f client_rx_bytes=%d\n",
               n, s, hb, cpu, 100 * cpu / s, rx
    }'
