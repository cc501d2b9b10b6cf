# shellcheck shell=bash
# tests/servers/common.sh — shared helpers for the test-server scripts
# (nfs.sh, s3.sh, azurite.sh, all.sh). Sourced, never run.
#
# Everything lives under the state dir ${UFS_TEST_DIR:-/tmp/unifs-test}.
# Servers are shared between concurrent test runs on the same machine: a
# `start` reuses a healthy server and only `stop`/`kill` ever ends one.
# Start/stop of one server is serialised with flock(1) on a lock file.

UFS_TEST_DIR=${UFS_TEST_DIR:-/tmp/unifs-test}
UFS_S3_PORT=${UFS_S3_PORT:-4568}
UFS_AZ_PORT=${UFS_AZ_PORT:-10000}
export UFS_TEST_DIR UFS_S3_PORT UFS_AZ_PORT

UFS_SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UFS_NPM_BIN=$UFS_SERVERS_DIR/node_modules/.bin

# Plain-http loopback endpoints: never let a CA bundle / proxy from the
# environment get in the way of curl talking to 127.0.0.1.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

mkdir -p "$UFS_TEST_DIR"

# die MSG: one-line error on stderr, exit 1.
die()
{
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

log()
{
	echo "$(basename "$0"): $*" >&2
}

# pid_alive PID: true if PID runs and is not a zombie (kill -0 is true for
# zombies, and daemons reparented to a non-reaping init can linger as such).
pid_alive()
{
	local pid=$1 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/status ]] || return 1
	state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	[[ -n $state && $state != Z && $state != X ]]
}

# pidfile_pid FILE: print the pid stored in FILE if that process is alive.
pidfile_pid()
{
	local pid
	[[ -s $1 ]] || return 1
	pid=$(tr -dc '0-9' <"$1")
	pid_alive "$pid" || return 1
	echo "$pid"
}

# wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds or time runs out.
wait_until()
{
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}

# stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid()
{
	local pid=$1 name=$2 i
	pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

# with_lock NAME CMD...: run CMD holding an exclusive lock on
# $UFS_TEST_DIR/NAME.lock (bounded wait of 120 s).
with_lock()
{
	local name=$1
	shift
	(
		flock -w 120 9 || die "timed out waiting for lock $UFS_TEST_DIR/$name.lock"
		"$@"
	) 9>"$UFS_TEST_DIR/$name.lock"
}

# need_npm_bin NAME: path of an npm-installed binary, or die.
need_npm_bin()
{
	[[ -x $UFS_NPM_BIN/$1 ]] ||
		die "$1 not installed in $UFS_NPM_BIN (run scripts/setup.sh first)"
	command -v node >/dev/null 2>&1 || die "node not found (run scripts/setup.sh first)"
	echo "$UFS_NPM_BIN/$1"
}

# port_open PORT: something listens on 127.0.0.1:PORT (bash /dev/tcp).
port_open()
{
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# start_node_daemon NAME LOGFILE PIDFILE CMD...: start CMD detached in its own
# session (setsid) so it survives the caller and is not in its process group.
start_node_daemon()
{
	local name=$1 logf=$2 pidf=$3
	shift 3
	setsid "$@" </dev/null >>"$logf" 2>&1 9>&- &
	echo $! >"$pidf"
	disown 2>/dev/null || true
}

# kill_pidfile PIDFILE: SIGKILL the process in PIDFILE (if alive), wait until
# it is gone (bounded 5 s), remove PIDFILE. Simulates a crashed server.
kill_pidfile()
{
	local pid i
	if pid=$(pidfile_pid "$1"); then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$1"
}

# node_server_start NAME PORT PORTVAR PIDFILE LOGFILE HEALTHY_FN URL CMD...:
# start one npm test server, or reuse it: a healthy server is kept; ours that
# does not answer is replaced; a foreign process on the port is refused;
# then CMD is launched and given 60 s to answer.
node_server_start()
{
	local name=$1 port=$2 portvar=$3 pidf=$4 logf=$5 healthy=$6 url=$7 pid
	shift 7
	if $healthy; then
		pidfile_pid "$pidf" >/dev/null ||
			log "reusing a $name on port $port not started from $UFS_TEST_DIR"
		return 0
	fi
	if pid=$(pidfile_pid "$pidf"); then
		wait_until 10 "$healthy" && return 0
		log "$name (pid $pid) does not answer; restarting it"
		stop_pid "$pid" "$name" || true
	fi
	port_open "$port" &&
		die "port $port is taken by something that is not $name (set $portvar)"
	rm -f "$pidf"
	start_node_daemon "$name" "$logf" "$pidf" "$@"
	if ! wait_until 60 "$healthy"; then
		tail -5 "$logf" >&2 || true
		die "$name did not answer on $url within 60 s (see $logf)"
	fi
}
