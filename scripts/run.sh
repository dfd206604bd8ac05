#!/usr/bin/env bash
# Sets Hermes up and runs it: installs what is missing (apt), builds (Release) and starts
# hermes-server on 127.0.0.1:8000 with the embedded broker, and hermes-monitor beside it when a
# display is available. Extra arguments go to the server (e.g. scripts/run.sh --port 9000);
# settings in ./.env (see .env.example) are read with --config when that file exists.
# A second run only rebuilds what changed. Redis, Caddy and PostgreSQL are not installed: the
# default needs none of them (scripts/test.sh installs them for the tests).
set -euo pipefail
HERMES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=common.sh
source "$HERMES_ROOT/scripts/common.sh"

hermes_install_packages "${HERMES_APT_PACKAGES[@]}"
hermes_build release

export HERMES_DATA_DIR=${HERMES_DATA_DIR:-$HERMES_ROOT/data}
host=${HERMES_HOST:-127.0.0.1}
port=${HERMES_PORT:-8000}
key_file="$HERMES_DATA_DIR/api-key"
server="$HERMES_ROOT/build/release/server/hermes-server"
if [ -f "$HERMES_ROOT/.env" ]; then
    set -- --config "$HERMES_ROOT/.env" "$@"
fi

cat <<INFO
==> starting hermes-server on http://$host:$port (data in $HERMES_DATA_DIR)
    API key: $key_file (created on first start, mode 0600). Try, in another terminal:
      curl -N -H "Authorization: Bearer \$(cat $key_file)" http://$host:$port/api/v1/events/stream
      curl -H "Authorization: Bearer \$(cat $key_file)" -H 'Content-Type: application/json' \\
           -d '{"channel":"system:notifications","type":"system_notification","data":{"notification_type":"info","message":"hello"}}' \\
           http://$host:$port/api/v1/events/publish
      curl -H "Authorization: Bearer \$(cat $key_file)" -H 'Content-Type: application/json' \\
           -d '{"url":"https://example.org/file.iso"}' http://$host:$port/api/v1/downloads
      $HERMES_ROOT/build/release/monitor/hermes-events --url http://$host:$port/api/v1/events/stream --api-key-file $key_file
INFO
monitor="$HERMES_ROOT/build/release/monitor/app/hermes-monitor"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ -n "${HERMES_NO_MONITOR:-}" ]; then
    exec "$server" "$@"
fi

# A display is available: open the monitor beside the server, and stop both together.
"$server" "$@" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
    [ -s "$key_file" ] || [ -n "${HERMES_API_KEYS:-}${HERMES_API_KEY_FILE:-}" ] && break
    sleep 0.1
done
monitor_args=(--server "http://$host:$port")
[ -s "$key_file" ] && monitor_args+=(--api-key-file "$key_file")
echo "==> opening hermes-monitor (set HERMES_NO_MONITOR=1 to skip it)"
"$monitor" "${monitor_args[@]}" &
wait "$server_pid"
