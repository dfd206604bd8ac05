#!/usr/bin/env bash
# Takes the README's pictures of hermes-monitor (docs/monitor.png, docs/monitor-add.png,
# docs/indicator-*.png) from the real server and monitor under a virtual X display (Xvfb).
# Screenshots are not taken by the test suites; run this by hand after UI changes.
# With arguments they are passed on instead: `monitor-screenshots.sh /tmp/shots --layout` takes
# the layout pictures (900 × 600 and 1600 × 1000, English and German) into /tmp/shots.
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

hermes_install_packages "${HERMES_APT_PACKAGES[@]}" xvfb xauth fonts-dejavu-core
hermes_build debug-asan
cmake --build "$HERMES_ROOT/build/debug-asan" --target monitorscreenshots

export ASAN_OPTIONS=detect_leaks=0 QT_QPA_PLATFORM=xcb
exec xvfb-run -a -s "-screen 0 1700x1100x24" \
    "$HERMES_ROOT/build/debug-asan/tests/manual/monitorscreenshots" "${@:-$HERMES_ROOT/docs}"
