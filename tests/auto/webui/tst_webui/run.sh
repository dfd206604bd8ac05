#!/usr/bin/env bash
# tst_webui: installs the pinned browser driver and accessibility checker (test tools only,
# never shipped) into a cache dir of the build, then runs tst_webui.mjs.
#   run.sh <hermes-server> <cache dir> <screenshot dir> <page source dir>
# Exit 77 (CTest: skipped) with the reason when node, npm, Chromium or the npm registry is missing.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server=$1 cache=$2 shots=$3 source=$4

# Pinned: puppeteer-core (Apache-2.0) and axe-core (MPL-2.0); see packaging/copyright's note.
PUPPETEER_CORE=24.43.1
AXE_CORE=4.14.1

skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed (scripts/test.sh installs Debian's nodejs)"
command -v npm >/dev/null || skip "npm is not installed (scripts/test.sh installs Debian's npm)"
chromium=${HERMES_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "no Chromium at $chromium (Debian package chromium)"

marker="$cache/installed-puppeteer-core-$PUPPETEER_CORE-axe-core-$AXE_CORE"
if [ ! -f "$marker" ]; then
    rm -rf "$cache" && mkdir -p "$cache"
    echo "installing puppeteer-core@$PUPPETEER_CORE axe-core@$AXE_CORE into $cache"
    # npm's own cache inside the build dir too: nothing written to $HOME (CI may have none).
    if ! (cd "$cache" && npm_config_cache="$cache/.npm" timeout 300 npm install --no-audit --no-fund --no-save --no-package-lock \
            --prefix . "puppeteer-core@$PUPPETEER_CORE" "axe-core@$AXE_CORE" >npm.log 2>&1); then
        tail -5 "$cache/npm.log"
        skip "npm could not install puppeteer-core and axe-core (is the npm registry reachable?)"
    fi
    touch "$marker"
fi
mkdir -p "$shots"
exec node "$here/tst_webui.mjs" --server "$server" --modules "$cache/node_modules" \
    --chromium "$chromium" --screenshots "$shots" --source "$source"
