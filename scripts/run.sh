#!/usr/bin/env bash
# Sets Hermes up and runs it: installs what is missing (apt), builds (Release) and starts
# hermes-server on 127.0.0.1:8000 with the embedded broker, and hermes-monitor beside it when a
# display is available. Extra arguments go to the server (e.g. scripts/run.sh --port 9000): the
# address printed is the one the server reports listening on;
# settings in ./.env (see .env.example) are read with --config when that file exists.
# A second run only rebuilds what changed. Redis, Caddy and PostgreSQL are not installed: the
# default needs none of them (scripts/test.sh installs them for the tests).
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

# HERMES_RUN_SERVER: a hermes-server binary to run instead of building one (tst_commandline
# runs this script on the test build's server; nothing is installed or built then).
if [ -n "${HERMES_RUN_SERVER:-}" ]; then
    server=$HERMES_RUN_SERVER
else
    hermes_install_packages "${HERMES_APT_PACKAGES[@]}"
    hermes_build release
    server="$HERMES_ROOT/build/release/server/hermes-server"
fi

export HERMES_DATA_DIR=${HERMES_DATA_DIR:-$HERMES_ROOT/data}
key_file="$HERMES_DATA_DIR/api-key"
events="$HERMES_ROOT/build/release/monitor/hermes-events"
monitor="$HERMES_ROOT/build/release/monitor/app/hermes-monitor"
if [ -f "$HERMES_ROOT/.env" ]; then
    set -- --config "$HERMES_ROOT/.env" "$@"
fi

# The address comes from the server itself, once it listens: --port/--host, HERMES_PORT and
# the .env file all end up in its "listening on" line, so what is printed below is the
# address in use, whatever set it.
log=$(mktemp)
"$server" "$@" 2> >(tee "$log" >&2) &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -f "$log"' EXIT
# Ctrl-C or SIGTERM: the server shuts down cleanly (ends its streams) and its status is ours.
trap 'kill -TERM "$server_pid" 2>/dev/null || true' INT TERM
server_status() { # waits for the server to end, through the signals that interrupt wait
    local status=0
    # wait first: a server that already exited (a bad setting: 78) still has its status to
    # give, which a loop guarded by kill -0 never asked for (run.sh then exited 0).
    while :; do
        wait "$server_pid" && status=0 || status=$?
        kill -0 "$server_pid" 2>/dev/null || break # else a trapped signal interrupted wait
    done
    return "$status"
}
url=
for _ in $(seq 1 600); do
    url=$(sed -n 's/.* listening on \(http[^ ]*\) .*/\1/p' "$log" | head -n 1)
    [ -n "$url" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        server_status && exit 0 || exit $?
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "==> hermes-server did not report listening within 60 s" >&2
    exit 1
fi

cat <<INFO
==> hermes-server is listening on $url (data in $HERMES_DATA_DIR)
    API key: $key_file (created on first start, mode 0600). Try, in another terminal:
      curl -N -H "Authorization: Bearer \$(cat $key_file)" $url/api/v1/events/stream
      curl -H "Authorization: Bearer \$(cat $key_file)" -H 'Content-Type: application/json' \\
           -d '{"channel":"system:notifications","type":"system_notification","data":{"notification_type":"info","message":"hello"}}' \\
           $url/api/v1/events/publish
      curl -H "Authorization: Bearer \$(cat $key_file)" -H 'Content-Type: application/json' \\
           -d '{"url":"https://example.org/file.iso"}' $url/api/v1/downloads
      $events --url $url/api/v1/events/stream --api-key-file $key_file
INFO

# A display is available: open the monitor beside the server, and stop both together.
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${HERMES_NO_MONITOR:-}" ] && [ -x "$monitor" ]; then
    for _ in $(seq 1 100); do
        [ -s "$key_file" ] || [ -n "${HERMES_API_KEYS:-}${HERMES_API_KEY_FILE:-}" ] && break
        sleep 0.1
    done
    monitor_args=(--server "$url")
    [ -s "$key_file" ] && monitor_args+=(--api-key-file "$key_file")
    echo "==> opening hermes-monitor (set HERMES_NO_MONITOR=1 to skip it)"
    "$monitor" "${monitor_args[@]}" &
fi
server_status && exit 0 || exit $?
