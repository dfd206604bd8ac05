# Shared by run.sh and test.sh: install what is missing, never reinstall.
# shellcheck shell=bash

# What building and running the default (single node, embedded broker) needs.
HERMES_APT_PACKAGES=(
    cmake ninja-build g++ pkg-config dpkg-dev
    qt6-base-dev libqt6sql6-sqlite
    libhiredis-dev qtkeychain-qt6-dev
    libsystemd-dev   # sd_notify: readiness, reload, watchdog under systemd
    liburing-dev     # io_uring: a fan-out's sends submitted in batches
    libssl-dev       # libcrypto's SHA-256 (SHA-NI) for downloads as they arrive
    libsqlite3-dev   # whether SQLite rolled a group commit back on its own
    libpq-dev        # the API's reads of a PostgreSQL store through libpq (Qt SQL's cost, issue 27)
    # hermes-monitor: its translations are compiled at build time (Qt6LinguistTools), and its
    # icons are SVG (the SVG icon engine is loaded at run time).
    qt6-tools-dev qt6-l10n-tools libqt6svg6
)
# What the test suites need on top: the real servers they start, and the checkers they run.
HERMES_TEST_PACKAGES=(
    redis-server redis-sentinel caddy   # redis-sentinel: tst_redissentinel
    postgresql libqt6sql6-psql
    faketime         # tst_downloadmodel: a node whose wall clock jumps (libfaketime)
    lintian          # tst_packaging: lintian --pedantic clean on the .debs
    devscripts       # tst_packaging: hardening-check on the packaged binaries
    systemd man-db   # tst_packaging: systemd-analyze verify (it runs man for Documentation=) / security --offline
    dbus             # tst_desktopnotifier: a private session bus (dbus-daemon)
    prometheus       # tst_metricsexposition, tst_alertrules: promtool check metrics|rules, test rules
    docker-compose   # tst_dockercompose: docker-compose config (no engine needed)
    help2man         # tst_commandline and scripts/gen-man-pages.sh: man pages from --help
    clang libclang-rt-14-dev    # the libFuzzer harnesses (scripts/fuzz.sh, the fuzz preset)
    chromium         # tst_webui: the built-in web page in a real (headless) browser
)

# tst_webui drives Chromium with puppeteer-core from npm, and tst_openapi runs `redocly lint`
# (@redocly/cli, installed into the build dir): node and npm from Debian, but only
# when they are missing (a machine with another Node.js, which bundles npm, keeps it; Debian's
# npm would conflict with it).
hermes_install_node() {
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return 0
    fi
    hermes_install_packages nodejs npm
}

# Installs the Debian packages that are not installed yet (as root, or through sudo).
hermes_install_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}


# Configures (once) and builds a CMake preset.
hermes_build() {
    local preset=$1
    local dir="$HERMES_ROOT/build/$preset"
    if [ ! -f "$dir/build.ninja" ]; then
        cmake --preset "$preset" -S "$HERMES_ROOT"
    fi
    cmake --build "$dir" --parallel "$(nproc)"
}
