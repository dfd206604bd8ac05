#!/usr/bin/env bash
# The standard benchmark set in one command (issue 27, target 7), with a dated section of its
# figures, the peers' beside ours, put at the top of bench/RESULTS.md (newest first).
#
#   bench/run-all.sh [--only fanout,transfers,rest,coldstart] [--no-results] [OUTDIR]
#
#   fanout     the shared SSE load harness (bench/loadbench.sh): 1,000 / 10,000 / 19,000
#              streams and the burst ramp at 1,000, hermes beside the null server, nginx+nchan
#              and the Python server (15-30 min)
#   transfers  downloads against curl / wget / aria2c: bench/transfers.sh when it exists
#   rest       REST and the queue at 100,000 downloads on SQLite and PostgreSQL (bench/rest100k.py)
#   coldstart  a restart with a full history, embedded journal and Redis (bench/coldstart.py)
#
# Extra arguments for a part: REST100K_ARGS (e.g. "--prefill 98000 --count 2000": rows copied
# in by SQL, then 2,000 added through the API, for a run in minutes rather than the full
# 100,000 one by one), COLDSTART_ARGS, LOADBENCH_ARGS (see bench/loadbench.sh).
#
# Builds the Release hermes-server first (only what changed). Every part runs under a timeout;
# a part that fails is reported as such in the section and the others still run. Nothing else
# should run on the machine meanwhile: every figure shares the same two cores.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARTS=fanout,transfers,rest,coldstart
WRITE=1
while [ $# -gt 0 ]; do
    case $1 in
    --only) PARTS=$2; shift 2 ;;
    --no-results) WRITE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
OUT=${1:-${TMPDIR:-/tmp}/hermes-runall/run-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
has() { [[ ",$PARTS," == *",$1,"* ]]; }
log() { echo "=== $* ($(date +%T))" >&2; }

log "building the Release hermes-server"
( cd "$ROOT" && { [ -d build/release ] || cmake --preset release >/dev/null; } \
  && cmake --build build/release --target hermes-server >"$OUT/build.log" 2>&1 ) \
  || { echo "the Release build failed: $OUT/build.log" >&2; exit 1; }
SERVER=$ROOT/build/release/server/hermes-server

if has fanout; then
    log "fan-out and bursts (bench/loadbench.sh)"
    timeout 3600 "$ROOT/bench/loadbench.sh" "$OUT/loadbench" nullsse hermes nchan-w1 python \
        >"$OUT/fanout.log" 2>&1 || echo "rc=$?" >>"$OUT/fanout.log"
fi
if has transfers; then
    if [ -x "$ROOT/bench/transfers.sh" ]; then
        log "transfers (bench/transfers.sh)"
        # --no-results: its figures go into this script's one section, not a section of their own.
        timeout 3600 "$ROOT/bench/transfers.sh" --no-results --server "$SERVER" >"$OUT/transfers.md" 2>"$OUT/transfers.log" \
            || echo "(bench/transfers.sh failed: rc=$?, see $OUT/transfers.log)" >>"$OUT/transfers.md"
    else
        echo "Skipped: bench/transfers.sh is not there yet (downloads against curl, wget and aria2c)." \
            >"$OUT/transfers.md"
        echo "bench/transfers.sh is not there: the downloads part is skipped" >&2
    fi
fi
if has rest; then
    log "REST at 100,000 downloads (bench/rest100k.py)"
    # shellcheck disable=SC2086 # word splitting wanted
    timeout 3600 python3 -u "$ROOT/bench/rest100k.py" --server "$SERVER" ${REST100K_ARGS:-} >"$OUT/rest100k.md" 2>"$OUT/rest100k.log" \
        || echo "(bench/rest100k.py failed: rc=$?, see $OUT/rest100k.log)" >>"$OUT/rest100k.md"
fi
if has coldstart; then
    log "cold start (bench/coldstart.py)"
    # shellcheck disable=SC2086 # word splitting wanted
    timeout 1800 python3 -u "$ROOT/bench/coldstart.py" --server "$SERVER" ${COLDSTART_ARGS:-} >"$OUT/coldstart.md" 2>"$OUT/coldstart.log" \
        || echo "(bench/coldstart.py failed: rc=$?, see $OUT/coldstart.log)" >>"$OUT/coldstart.md"
fi

# The section: one table per part, the raw lines kept in $OUT.
python3 - "$OUT" "$PARTS" "$(cd "$ROOT" && git describe --always --dirty 2>/dev/null)" >"$OUT/section.md" <<'EOF'
import glob, os, re, sys, time
out, parts, rev = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
print(f"## bench/run-all.sh, {time.strftime('%Y-%m-%d %H:%M')} ({rev})\n")
print(f"Release build; one run of each part, on this box, minutes apart; raw output in `{out}`.\n")

def strip_json(text):
    return "\n".join(l for l in text.splitlines() if not l.startswith("# json")).strip()

if "fanout" in parts:
    print("### Fan-out and bursts (the shared load harness, `bench/loadbench.sh`)\n")
    rows = {}
    for f in sorted(glob.glob(os.path.join(out, "loadbench", "*.stdout"))):
        for line in open(f):
            line = line.strip().lstrip("# ")
            if line.startswith("peer="):
                kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
                rows[(kv["peer"], int(kv["conns"]))] = kv
    null = {c: float(kv["p99_ms"]) for (p, c), kv in rows.items() if p == "nullsse" and kv.get("p99_ms", "NA") != "NA"}
    if rows:
        print("| server | streams | p50 / p99 ms | p99 vs null | KB / stream | max ev/s at 1,000 streams | lost |")
        print("|---|---|---|---|---|---|---|")
        for (p, c), kv in sorted(rows.items(), key=lambda x: (x[0][0] != "nullsse", x[0][0] != "hermes", x[0])):
            ratio = f"{float(kv['p99_ms']) / null[c]:.2f}×" if c in null and kv.get("p99_ms", "NA") != "NA" else "-"
            eps = kv.get("max_eps", "NA")
            print(f"| {p} | {c:,} | {kv.get('p50_ms')} / {kv.get('p99_ms')} | {ratio} | {kv.get('kb_per_conn')} "
                  f"| {'' if eps == 'NA' else eps} | {kv.get('lost')} |")
    else:
        print("No figures: see fanout.log.")
    print()
if "transfers" in parts:
    print("### Downloads against curl, wget and aria2c (`bench/transfers.sh`)\n")
    text = strip_json(open(os.path.join(out, "transfers.md")).read())
    # Its progress lines (one per tool, as they finish) stay in the raw file; the table follows them.
    at = text.find("Local nginx")
    print((text[at:] if at >= 0 else text) + "\n")
for part, title in (("rest", "rest100k.md"), ("coldstart", "coldstart.md")):
    if part in parts:
        text = strip_json(open(os.path.join(out, title)).read())
        # The parts print their own "## " heading: one level down here.
        print(re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", text, flags=re.M) + "\n")
EOF

if [ "$WRITE" = 1 ]; then
    # Newest first: the section goes before the first "## " of RESULTS.md.
    python3 - "$ROOT/bench/RESULTS.md" "$OUT/section.md" <<'EOF'
import sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip() + "\n\n"
text = open(path).read()
at = text.find("\n## ")
text = text + "\n" + section if at < 0 else text[:at + 1] + section + text[at + 1:]
open(path, "w").write(text)
EOF
    echo "section added to bench/RESULTS.md (and in $OUT/section.md)" >&2
else
    cat "$OUT/section.md"
fi
