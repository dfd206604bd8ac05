#!/usr/bin/env bash
# Runs the shared SSE load harness (../shared/loadbench, see its README) against hermes-server
# and, in the same run, against the null server and the peers, so the figures compare.
#
#   bench/loadbench.sh [OUTDIR] [PEER...]     (default peers: nullsse hermes nchan-w1 python)
#
# Extra settings for the harness's driver (e.g. only the burst ramp) go in LOADBENCH_ARGS:
#   LOADBENCH_ARGS="--conns 1000" bench/loadbench.sh /tmp/out hermes
#
# Needs a Release build (cmake --preset release && cmake --build build/release) and, for the
# peers, the packages the harness README lists (nginx, libnginx-mod-nchan, python3-starlette,
# python3-uvicorn, python3-redis, python3-uvloop, python3-httptools). Takes 15-30 minutes.
# Nothing else should run on the machine meanwhile: two cores are shared by everything.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS_SRC=${HERMES_LOADBENCH:-$ROOT/../shared/loadbench}
WORK=${TMPDIR:-/tmp}/hermes-loadbench
OUT=${1:-$WORK/results/run-$(date +%Y%m%d-%H%M%S)}
shift || true
PEERS=("$@")
[ ${#PEERS[@]} -gt 0 ] || PEERS=(nullsse hermes nchan-w1 python)
SERVER=$ROOT/build/release/server/hermes-server
[ -x "$SERVER" ] || { echo "build first: cmake --preset release && cmake --build build/release" >&2; exit 1; }

# The harness builds into its own directory; work on a copy (shared/ is read-only).
mkdir -p "$WORK"
cp -r "$HARNESS_SRC/." "$WORK/"
chmod -R u+w "$WORK"
make -s -C "$WORK" all
make -s -C "$WORK/limit"
mkdir -p "$OUT"

COMMON=(--conns 1000,10000,19000 --outdir "$OUT")
# shellcheck disable=SC2206 # word splitting wanted
[ -n "${LOADBENCH_ARGS:-}" ] && COMMON+=(${LOADBENCH_ARGS})
for peer in "${PEERS[@]}"; do
    echo "=== $peer $(date +%T)" >&2
    case $peer in
    hermes|hermes-*)
        # Published with redis-cli-style PUBLISH on download:updates: the Redis broker adopts
        # the harness's bare JSON objects as events. Streams never rotate during the run; one
        # key holds them all (no per-key quota). hermes-<backend>-t<threads> (e.g.
        # hermes-epoll-t1, hermes-io_uring-t2) pins the stream I/O settings; plain `hermes`
        # runs the defaults.
        io=()
        if [[ $peer =~ ^hermes-(io_uring|epoll)-t([0-9]+)$ ]]; then
            io=(--io-backend "${BASH_REMATCH[1]}" --io-threads "${BASH_REMATCH[2]}")
        elif [ "$peer" != hermes ]; then
            echo "unknown peer $peer (hermes-<io_uring|epoll>-t<N>)" >&2; exit 2
        fi
        args=(--name "$peer" --port 18300
              --server-cmd "$SERVER --port {port} --redis redis://127.0.0.1:{redis_port} --data-dir {dir}/data --api-keys bench --max-connections 19500 --max-connections-per-key 0 --connection-timeout 0 ${io[*]}"
              --url 'http://127.0.0.1:{port}/api/v1/events/stream?channels=downloads'
              -H 'Authorization: Bearer bench') ;;
    nullsse)
        args=(--name nullsse --port 18090
              --server-cmd '{here}/limit/nullsse --port {port} --redis-port {redis_port} --channel {channel}'
              --url 'http://127.0.0.1:{port}/x') ;;
    nullsse-batch)
        args=(--name nullsse-batch --port 18091
              --server-cmd '{here}/limit/nullsse --batch --port {port} --redis-port {redis_port} --channel {channel}'
              --url 'http://127.0.0.1:{port}/x') ;;
    *)
        args=(--preset "$peer") ;;
    esac
    timeout 1900 python3 "$WORK/bench.py" "${args[@]}" "${COMMON[@]}" >"$OUT/$peer.stdout" 2>"$OUT/$peer.log" || echo "rc=$?" >>"$OUT/$peer.log"
    grep -E '^(# )?peer=' "$OUT/$peer.stdout" | sed 's/^# //' || true
done
python3 "$WORK/make_results.py" "$OUT" > "$OUT/RESULTS.md" 2>/dev/null || true
echo "results in $OUT" >&2
