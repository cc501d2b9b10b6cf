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
	local bin pid
	bin=$(need_npm_bin azurite-blob)
	mkdir -p "$AZ_DIR/data"
	if az_healthy; then
		pidfile_pid "$AZ_PID" >/dev/null ||
			log "reusing an Azurite on port $UFS_AZ_PORT not started from $UFS_TEST_DIR"
		return 0
	fi
	if pid=$(pidfile_pid "$AZ_PID"); then
		wait_until 10 az_healthy && return 0
		log "azurite (pid $pid) does not answer; restarting it"
		stop_pid "$pid" azurite || true
	fi
	port_open "$UFS_AZ_PORT" &&
		die "port $UFS_AZ_PORT is taken by something that is not Azurite (set UFS_AZ_PORT)"
	rm -f "$AZ_PID"
	start_node_daemon azurite "$AZ_LOG" "$AZ_PID" \
		"$bin" --blobHost 127.0.0.1 --blobPort "$UFS_AZ_PORT" \
		--location "$AZ_DIR/data" --disableTelemetry --skipApiVersionCheck \
		--loose --silent --disableProductStyleUrl
	if ! wait_until 60 az_healthy; then
		tail -5 "$AZ_LOG" >&2 || true
		die "azurite did not answer on $AZ_URL within 60 s (see $AZ_LOG)"
	fi
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
