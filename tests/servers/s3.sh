#!/usr/bin/env bash
# tests/servers/s3.sh — S3 emulator for the integration tests: s3rver (npm,
# pinned in package-lock.json) on 127.0.0.1:${UFS_S3_PORT:-4568}.
#
#   s3.sh start    start (or reuse a healthy) server; waits until it answers
#   s3.sh stop     stop it (SIGTERM, then SIGKILL)
#   s3.sh status   exit 0 if it answers, else 1
#   s3.sh kill     SIGKILL it (isolation tests)
#   s3.sh restart  stop + start
#
# Data: $UFS_TEST_DIR/s3/data; log s3/s3rver.log; pid s3/s3rver.pid.
# s3rver accepts any signature (keys S3RVER/S3RVER by convention) but needs
# the x-amz-content-sha256 header; see s3curl.sh. Path-style URLs:
# http://127.0.0.1:4568/BUCKET/KEY.
set -euo pipefail
# shellcheck source=tests/servers/common.sh
source "$(dirname "$0")/common.sh"

S3_DIR=$UFS_TEST_DIR/s3
S3_PID=$S3_DIR/s3rver.pid
S3_LOG=$S3_DIR/s3rver.log
S3_URL=http://127.0.0.1:$UFS_S3_PORT

# Any HTTP answer from s3rver (even an auth error) means it serves.
s3_healthy()
{
	curl -s --noproxy '*' -m 5 -o /dev/null -D - "$S3_URL/" 2>/dev/null |
		grep -qi '^HTTP/1.1 [0-9]'
}

do_start()
{
	local bin
	bin=$(need_npm_bin s3rver)
	mkdir -p "$S3_DIR/data"
	# s3rver verifies signatures by default; tests sign with dummy keys and
	# SigV4 is proven by test vectors, so accept any well-formed signature
	# unless UFS_S3_STRICT_SIG=1 (then sign with S3RVER/S3RVER for real).
	local sigflag=(--allow-mismatched-signatures)
	[[ ${UFS_S3_STRICT_SIG:-0} == 1 ]] && sigflag=()
	# s3rver makes continuation tokens with DES, which OpenSSL 3 only has in
	# its legacy provider: without it every truncated listing is a 500.
	NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider" \
		node_server_start s3rver "$UFS_S3_PORT" UFS_S3_PORT "$S3_PID" "$S3_LOG" s3_healthy "$S3_URL" \
		"$bin" -d "$S3_DIR/data" -a 127.0.0.1 -p "$UFS_S3_PORT" --silent "${sigflag[@]}"
}

do_stop()
{
	local pid
	if pid=$(pidfile_pid "$S3_PID"); then
		stop_pid "$pid" s3rver || die "could not stop s3rver (pid $pid)"
	fi
	rm -f "$S3_PID"
}

do_kill()
{
	kill_pidfile "$S3_PID"
}

case "${1:-}" in
start) with_lock s3 do_start ;;
stop) with_lock s3 do_stop ;;
kill) with_lock s3 do_kill ;;
restart) with_lock s3 do_stop && with_lock s3 do_start ;;
status)
	if s3_healthy; then
		echo "s3: running on $S3_URL (pid $(cat "$S3_PID" 2>/dev/null || echo '?'))"
	else
		echo "s3: not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 start|stop|status|kill|restart" >&2
	exit 2
	;;
esac
