#!/usr/bin/env bash
# Installs what is missing, builds Debug with AddressSanitizer + UBSan, and runs every Qt Test
# suite with CTest, then a few seconds of every fuzz harness (scripts/fuzz.sh --smoke; skip with
# HERMES_FUZZ_SMOKE_SECONDS=0), then the threaded suites under ThreadSanitizer (scripts/tsan.sh;
# skip with HERMES_TSAN=0). Extra arguments go to the ASan ctest (e.g. scripts/test.sh -R sseparser).
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

hermes_install_packages "${HERMES_APT_PACKAGES[@]}" "${HERMES_TEST_PACKAGES[@]}"
hermes_install_node
hermes_build debug-asan

cd "$HERMES_ROOT/build/debug-asan"
# Two suites at a time on a 2-core box: the integration suites mostly wait on sockets.
ctest --output-on-failure --parallel 2 "$@"

if [ "${HERMES_FUZZ_SMOKE_SECONDS:-5}" != 0 ]; then
    "$HERMES_ROOT/scripts/fuzz.sh" --smoke
fi

if [ "${HERMES_TSAN:-1}" != 0 ]; then
    "$HERMES_ROOT/scripts/tsan.sh"
fi
