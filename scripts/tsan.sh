#!/usr/bin/env bash
# Builds the `tsan` preset (Debug -O1 with ThreadSanitizer: hermes-server and only the suites
# below) and runs the stream, delivery and front-door suites under it. A data race in a suite,
# or in a hermes-server it starts, fails that suite (TSAN_OPTIONS in tests/CMakeLists.txt,
# tests/shared/serverprocess.cpp; what is suppressed, and why: tests/tsan/).
# scripts/test.sh runs this after the ASan suites (HERMES_TSAN=0 skips it there).
# Extra arguments go to ctest (e.g. scripts/tsan.sh -R eventhub).
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

# The threads: StreamWorker's I/O threads, its inbox and the history lock (stream suites), and
# the real server with its I/O threads, store thread and front door (the suites that start it),
# and a reload ending a removed key's streams on their I/O threads (tst_revocation); a
# part file hashed on the hash threads behind its writes, restarted, cancelled, waited for
# (tst_trailinghash; inside a transfer that goes on or stops: tst_transferhash), and histograms observed from several threads (tst_metrics). Not the suites
# that run several network access managers at once (tst_downloadphases): their threads are Qt's
# HTTP threads, handed work through QtCore's posted events, which an uninstrumented QtCore hides
# from TSan (it reports Qt's own hand-overs; tests/tsan/qthandoff.cpp covers invokeMethod only).
suites=(
    tst_streamworker tst_streaminbox tst_streamsocketset tst_sharegroupindex tst_eventhub
    tst_eventhistory tst_batchsender tst_catchuppump tst_httpconnection
    tst_eventstreams tst_serverhttp tst_frontdoor tst_hostileclients tst_deliverymodel
    tst_revocation tst_trailinghash tst_transferhash tst_metrics
)
# And the streams once more on one I/O thread, and on three (more threads than cores).
variants=(tst_eventstreams@io1-epoll tst_eventstreams@io3-io_uring)

hermes_install_packages "${HERMES_APT_PACKAGES[@]}" "${HERMES_TEST_PACKAGES[@]}"
build=$HERMES_ROOT/build/tsan
[ -f "$build/build.ninja" ] || cmake --preset tsan -S "$HERMES_ROOT"
cmake --build "$build" --parallel "$(nproc)" --target hermes-server "${suites[@]}"

# TSan needs its fixed address layout: GCC 12's runtime, on kernels with more mmap
# randomization than it expects (vm.mmap_rnd_bits above 28, as some distributions' 6.x kernels
# set), stops with "FATAL: ThreadSanitizer: unexpected memory mapping" (at random, depending on
# where the kernel put things). Then the suites run without address randomization (setarch -R,
# inherited by the servers they start); where even that is not allowed (a container's seccomp
# profile), `sysctl vm.mmap_rnd_bits=28` on the host is the way.
runner=()
rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [ "$rnd_bits" -gt 28 ] || { ! probe=$("$build/server/hermes-server" --version 2>&1) \
        && grep -q "unexpected memory mapping" <<<"$probe"; }; then
    echo "==> vm.mmap_rnd_bits=$rnd_bits: ThreadSanitizer needs a fixed address layout, running with setarch -R"
    runner=(setarch "$(uname -m)" -R)
fi

cd "$build"
unset HERMES_TEST_SERVER_BINARY  # the suites must start this build's (instrumented) server
pattern="^($(echo "${suites[*]} ${variants[*]}" | tr ' ' '|'))\$"
"${runner[@]}" ctest --output-on-failure --parallel 2 -R "$pattern" "$@"
