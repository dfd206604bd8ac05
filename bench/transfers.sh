#!/usr/bin/env bash
# Downloads side by side, in one run, from a local nginx file server: curl, aria2c and
# hermes-server (Release build) fetching the same files into the same disk.
#
#   bench/transfers.sh [--quick] [--only abc] [--results FILE | --no-results] [--server PATH]
#                      [--label TEXT]
#
#   (a) one 1 GiB file with SHA-256 verified: curl + `openssl dgst -sha256`, aria2c --checksum,
#       hermes with "sha256" in the request;
#   (b) 20 files of 50 MiB at once: curl under `xargs -P20`, aria2c -j20, hermes with 20
#       concurrent downloads;
#   (c) 200 files of 1 MiB: curl under `xargs -P20` (10 URLs per curl, keep-alive), aria2c -j20,
#       hermes with 20 concurrent downloads (added one by one over one keep-alive connection by
#       bench/hermesadd.py, which then polls for the end).
#   --quick: 256 MiB, 20 x 10 MiB, 50 x 1 MiB (a minute instead of several).
#   --only abc: the cases to run (e.g. --only a).
#
# For hermes: wall time from the POST of the first download to the last one completed (checked
# every 20 ms by bench/hermesadd.py, which times it itself: its interpreter's start is not
# counted), CPU = user + sys of the server process from /proc/<pid>/stat over that time,
# peak RSS = VmHWM of a server started fresh for each case, "RSS after" = VmRSS 1 s after the
# end. For curl/aria2c: /usr/bin/time's wall, user + sys and max RSS (per process).
# The figures go to stdout and, as a dated section, to bench/RESULTS.md (or --results FILE).
# Needs nginx, curl, aria2c, openssl, python3 (free port, bench/hermesadd.py) and
#   cmake --preset release && cmake --build build/release --target hermes-server
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=$ROOT/build/release/server/hermes-server
RESULTS=$ROOT/bench/RESULTS.md
QUICK=0
ONLY=abc
LABEL=""
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift ;;
    --results) RESULTS=$2; shift ;;
    --no-results) RESULTS="" ;;
    --server) SERVER=$2; shift ;;
    --label) LABEL=$2; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
SERVER_DESC="$SERVER"
[ "$SERVER" = "$ROOT/build/release/server/hermes-server" ] && SERVER_DESC="Release build at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
[ -x "$SERVER" ] || { echo "build first: cmake --preset release && cmake --build build/release --target hermes-server" >&2; exit 1; }
for tool in nginx curl aria2c openssl python3; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "needs $tool" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ $QUICK = 1 ]; then
    BIG_MB=256; MID_N=20; MID_MB=10; SMALL_N=50
else
    BIG_MB=1024; MID_N=20; MID_MB=50; SMALL_N=200
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hermes-transfers.XXXXXX")
NGINX_PID=""; HERMES_PID=""
cleanup() {
    [ -n "$HERMES_PID" ] && kill "$HERMES_PID" 2>/dev/null && wait "$HERMES_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TICK=$(getconf CLK_TCK)

# --- the files (sparse: the source costs no disk; nginx reads them from the page cache) ---
mkdir -p "$WORK/www/mid" "$WORK/www/small" "$WORK/dst"
truncate -s "${BIG_MB}M" "$WORK/www/big.bin"
for i in $(seq 1 "$MID_N"); do truncate -s "${MID_MB}M" "$WORK/www/mid/f$i.bin"; done
for i in $(seq 1 "$SMALL_N"); do truncate -s 1M "$WORK/www/small/f$i.bin"; done
BIG_SHA=$(openssl dgst -sha256 -r "$WORK/www/big.bin" | cut -d' ' -f1)

# --- nginx, one worker, not a daemon, on a free port ---
NPORT=$(freeport)
cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp;
    scgi_temp_path $WORK/tmp;
    server { listen 127.0.0.1:$NPORT; root $WORK/www; }
}
EOF
mkdir -p "$WORK/tmp"
chmod -R a+rX "$WORK"
"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx.err" &
NGINX_PID=$!
BASE=http://127.0.0.1:$NPORT
for _ in $(seq 100); do curl -sf -o /dev/null -r 0-0 "$BASE/big.bin" && break; sleep 0.05; done
cat "$WORK/www/big.bin" "$WORK"/www/mid/* "$WORK"/www/small/* > /dev/null # into the page cache

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); printf '%-34s %-26s wall %7s  cpu %7s  peak %9s  after %s\n' "$1" "$2" "$3" "$4" "$5" "$6"; }
fresh_dst() { rm -rf "$WORK/dst"; mkdir -p "$WORK/dst"; sync; }
# /usr/bin/time for one command: prints "wall cpu maxrss_kb"
timed() { /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$WORK/time.out" >&2; exit 1; }
          awk '{printf "%.2f %.2f %d\n", $1, $2 + $3, $4}' "$WORK/time.out"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }

# --- hermes-server, started fresh per case (VmHWM is then this case's peak) ---
KEY=bench-transfers-key
start_hermes() {
    HPORT=$(freeport)
    rm -rf "$WORK/hermes"; mkdir -p "$WORK/hermes"
    env -i PATH="$PATH" HOME="$WORK" HERMES_HOST=127.0.0.1 HERMES_PORT="$HPORT" HERMES_DATA_DIR="$WORK/hermes" \
        HERMES_API_KEYS="$KEY" HERMES_MAX_CONCURRENT_DOWNLOADS="$1" HERMES_DISK_WARNING_MB=0 \
        HERMES_DOWNLOAD_MIN_FREE=0 "$SERVER" > "$WORK/hermes.log" 2>&1 &
    HERMES_PID=$!
    for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$HPORT/readyz" && return 0; sleep 0.05; done
    echo "hermes-server did not start:" >&2; tail -20 "$WORK/hermes.log" >&2; exit 1
}
stop_hermes() { kill "$HERMES_PID"; wait "$HERMES_PID" 2>/dev/null || true; HERMES_PID=""; }
hapi() { curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$HERMES_PID/stat"; }
status_kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$HERMES_PID/status"; }
# hermes NAME CONCURRENT SHA URL... : adds every URL, waits for all completed, records a row.
hermes_case() {
    local name=$1 conc=$2 sha=$3; shift 3
    local n=$# rss0 c0 c1 elapsed
    start_hermes "$conc"
    rss0=$(status_kb VmRSS)
    printf '%s\n' "$@" > "$WORK/hermes-urls.txt"
    c0=$(cpu_ticks)
    # One client on one keep-alive connection adds them all and polls (a curl and a jq per
    # request cost ~10 ms of process start each, 20+ s for 200 on a loaded box: they were
    # most of this row before); the durations of its POSTs go to stderr. The list goes in one
    # request ({"downloads": [...]}), as curl and aria2c are handed theirs at once;
    # HERMES_BENCH_ONE_BY_ONE=1 sends a POST per URL instead.
    # Its wall is its own (`elapsed`: from just before the first POST): the interpreter's start
    # (behind pyenv's shim, 0.1-0.4 s on this box) was counted in hermes' row before.
    elapsed=$(python3 "$ROOT/bench/hermesadd.py" "$HPORT" "$KEY" "$sha" "$WORK/hermes-urls.txt" \
        ${HERMES_BENCH_ONE_BY_ONE:+--one-by-one} | awk '$1 == "elapsed" {print $2}') || { tail "$WORK/hermes.log" >&2; exit 1; }
    [ -n "$elapsed" ] || { tail "$WORK/hermes.log" >&2; exit 1; }
    c1=$(cpu_ticks)
    sleep 1
    local peak after
    peak=$(status_kb VmHWM); after=$(status_kb VmRSS)
    row "$name" "hermes-server" "$(awk -v e="$elapsed" 'BEGIN{printf "%.2f", e}')" \
        "$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN{printf "%.2f", (b - a) / t}')" \
        "$(mib "$peak") (from $(mib "$rss0"))" "$(mib "$after")"
    stop_hermes
}

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== transfers from nginx on 127.0.0.1:$NPORT (quick=$QUICK), $(nproc) cores, load $LOAD_AT_START"
# (a) one large file, SHA-256 verified
if [[ $ONLY == *a* ]]; then
A="one ${BIG_MB} MiB file + SHA-256"
fresh_dst
read -r w c m < <(timed curl -s -o "$WORK/dst/big.bin" "$BASE/big.bin")
read -r hw hc hm < <(timed openssl dgst -sha256 "$WORK/dst/big.bin")
row "$A" "curl (download only)" "$w" "$c" "$(mib "$m")" "-"
row "$A" "openssl dgst -sha256" "$hw" "$hc" "$(mib "$hm")" "-"
row "$A" "curl + openssl dgst" "$(awk -v a="$w" -v b="$hw" 'BEGIN{printf "%.2f", a + b}')" \
    "$(awk -v a="$c" -v b="$hc" 'BEGIN{printf "%.2f", a + b}')" "-" "-"
fresh_dst
read -r w c m < <(timed aria2c -q -d "$WORK/dst" -o big.bin --file-allocation=none --checksum="sha-256=$BIG_SHA" "$BASE/big.bin")
row "$A" "aria2c --checksum" "$w" "$c" "$(mib "$m")" "-"
fresh_dst
hermes_case "$A" 3 "$BIG_SHA" "$BASE/big.bin"
fi

# (b) several medium files at once
if [[ $ONLY == *b* ]]; then
B="${MID_N} x ${MID_MB} MiB at once"
MID_URLS=(); for i in $(seq 1 "$MID_N"); do MID_URLS+=("$BASE/mid/f$i.bin"); done
fresh_dst
printf '%s\n' "${MID_URLS[@]}" > "$WORK/mid.txt"
read -r w c m < <(cd "$WORK/dst" && timed xargs -P20 -n1 curl -s -O < "$WORK/mid.txt")
row "$B" "curl, xargs -P20" "$w" "$c" "$(mib "$m") per curl" "-"
fresh_dst
read -r w c m < <(timed aria2c -q -d "$WORK/dst" -j20 --file-allocation=none -i "$WORK/mid.txt")
row "$B" "aria2c -j20" "$w" "$c" "$(mib "$m")" "-"
fresh_dst
hermes_case "$B" 20 "" "${MID_URLS[@]}"
fi

# (c) many small files
if [[ $ONLY == *c* ]]; then
C="${SMALL_N} x 1 MiB"
SMALL_URLS=(); for i in $(seq 1 "$SMALL_N"); do SMALL_URLS+=("$BASE/small/f$i.bin"); done
fresh_dst
printf '%s\n' "${SMALL_URLS[@]}" > "$WORK/small.txt"
read -r w c m < <(cd "$WORK/dst" && timed xargs -P20 -n10 curl -s --remote-name-all < "$WORK/small.txt")
row "$C" "curl, xargs -P20 (10 per curl)" "$w" "$c" "$(mib "$m") per curl" "-"
fresh_dst
read -r w c m < <(timed aria2c -q -d "$WORK/dst" -j20 --file-allocation=none -i "$WORK/small.txt")
row "$C" "aria2c -j20" "$w" "$c" "$(mib "$m")" "-"
fresh_dst
hermes_case "$C" 20 "" "${SMALL_URLS[@]}"
fi

# The table: a dated section appended to RESULTS, or (--no-results: bench/run-all.sh puts it in
# its own section) printed after the progress lines.
table() {
    echo "Local nginx (1 worker, sendfile) on the same box, $(nproc) cores, load average at the start"
    echo "$LOAD_AT_START; hermes-server: $SERVER_DESC. CPU = user + sys (s);"
    echo "hermes' peak = VmHWM of a server started for the case (its RSS at the start in brackets)."
    echo
    echo "| work | tool | wall (s) | CPU (s) | peak RSS | RSS after |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
}
if [ -n "$RESULTS" ]; then
    {
        echo
        mode=""; [ $QUICK = 1 ] && mode=" --quick"
        echo "## Transfers vs curl and aria2c, $(date -u '+%Y-%m-%d %H:%M UTC')${LABEL:+ — $LABEL} (\`bench/transfers.sh$mode\`)"
        echo
        table
    } >> "$RESULTS"
    echo "appended to $RESULTS"
else
    echo
    table
fi
