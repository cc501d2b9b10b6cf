#!/usr/bin/env bash
# tests/servers/azurite.sh — Azure Blob emulator for the integration tests:
# azurite-blob (npm, pinned in package-lock.json) on
# 127.0.0.1:${UFS_AZ_PORT:-10000}.
#
#   azurite.sh start    start (or reuse a healthy) server; waits until it answers
#   azurite.sh stop     stop it (SIGTERM, then SIGKILL)
#   azurite.sh status   exit 0 if it answers, else 1
#   azurite.sh kill     SIGKILL it (isolation tests)
#   azurite.sh restart  stop + start
#
# Endpoint (path style): http://127.0.0.1:10000/devstoreaccount1
# Well-known dev account devstoreaccount1; its key (UFS_AZ_KEY) is in the env file.
# Runs with --disableTelemetry (otherwise it tries to reach the internet),
# --skipApiVersionCheck, --loose, --silent. Data: $UFS_TEST_DIR/azurite/.
set -euo pipefail
# shellcheck source=tests/servers/common.sh
source "$(dirname "$0")/common.sh"

AZ_DIR=$UFS_TEST_DIR/azurite
AZ_PID=$AZ_DIR/azurite.pid
AZ_LOG=$AZ_DIR/azurite.log
AZ_URL=http://127.0.0.1:$UFS_AZ_PORT/devstoreaccount1

# Azurite answers every request (an unauthenticated one with 403) with an
# x-ms-request-id header; that identifies it and proves it serves.
az_healthy()
{
	curl -s --noproxy '*' -m 5 -o /dev/null -D - "$AZ_URL?comp=list" 2>/dev/null |
		grep -qi '^x-ms-request-id:'
}

do_start()
{
	local bin
	bin=$(need_npm_bin azurite-blob)
	mkdir -p "$AZ_DIR/data"
	node_server_start azurite "$UFS_AZ_PORT" UFS_AZ_PORT "$AZ_PID" "$AZ_LOG" az_healthy "$AZ_URL" \
		"$bin" --blobHost 127.0.0.1 --blobPort "$UFS_AZ_PORT" \
		--location "$AZ_DIR/data" --disableTelemetry --skipApiVersionCheck \
		--loose --silent --disableProductStyleUrl
}

do_stop()
{
	local pid
	if pid=$(pidfile_pid "$AZ_PID"); then
		stop_pid "$pid" azurite || die "could not stop azurite (pid $pid)"
	fi
	rm -f "$AZ_PID"
}

case "${1:-}" in
start) with_lock azurite do_start ;;
stop) with_lock azurite do_stop ;;
kill) with_lock azurite kill_pidfile "$AZ_PID" ;;
restart) with_lock azurite do_stop && with_lock azurite do_start ;;
status)
	if az_healthy; then
		echo "azurite: running on $AZ_URL (pid $(cat "$AZ_PID" 2>/dev/null || echo '?'))"
	else
		echo "azurite: not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 start|stop|status|kill|restart" >&2
	exit 2
	;;
esac
