#!/usr/bin/env bash
# tests/servers/slurm.sh — a one-node Slurm cluster on loopback (Debian 12:
# slurm-wlm + munge) for tests that run sharded jobs through a real
# scheduler (test_migrate_slurm.sh). Private state under $UFS_TEST_DIR/slurm;
# shared like the other test servers: `start` reuses a running cluster.
#
#   slurm.sh start    start (or reuse) munged, slurmctld, slurmd; write
#                     $UFS_TEST_DIR/slurm/env (export SLURM_CONF=...)
#   slurm.sh stop     stop them
#   slurm.sh status   exit 0 when the node answers idle/mixed/allocated
set -euo pipefail
# shellcheck source=tests/servers/common.sh
source "$(dirname "$0")/common.sh"

S=$UFS_TEST_DIR/slurm
export SLURM_CONF=$S/slurm.conf

slurm_stop()
{
	local p pid
	for p in slurmd slurmctld munge/munged; do
		pid=$(pidfile_pid "$S/$p.pid") && kill "$pid" 2>/dev/null || true
	done
	sleep 1
}

slurm_up()
{
	[[ -f $SLURM_CONF ]] && pidfile_pid "$S/slurmctld.pid" >/dev/null &&
		pidfile_pid "$S/slurmd.pid" >/dev/null &&
		timeout 5 sinfo -h -o %t 2>/dev/null | grep -Eq 'idle|mix|alloc'
}

slurm_conf()
{
	local h
	h=$(hostname -s)
	cat >"$SLURM_CONF" <<EOC
ClusterName=unifstest
SlurmctldHost=$h(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
JobCompType=jobcomp/none
MpiDefault=none
NodeName=$h NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$h Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOC
}

slurm_start()
{
	command -v slurmctld >/dev/null && command -v munged >/dev/null ||
		die "slurm-wlm and munge are not installed (run scripts/setup.sh)"
	mkdir -p "$S"/{state,spool,log,munge}
	chmod 700 "$S/munge"
	[[ -f $S/munge/munge.key ]] || {
		head -c 1024 /dev/urandom >"$S/munge/munge.key"
		chmod 400 "$S/munge/munge.key"
	}
	pidfile_pid "$S/munge/munged.pid" >/dev/null ||
		munged --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" \
			--pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" \
			--seed-file="$S/munge/seed" -f 9>&-
	slurm_conf
	# the daemons must not inherit the lock's fd 9 (a later start would wait forever)
	pidfile_pid "$S/slurmctld.pid" >/dev/null || slurmctld -f "$SLURM_CONF" 9>&-
	pidfile_pid "$S/slurmd.pid" >/dev/null || slurmd -f "$SLURM_CONF" 9>&-
	for _ in $(seq 60); do
		slurm_up && break
		sleep 1
	done
	slurm_up || die "node did not become idle (see $S/log)"
	echo "export SLURM_CONF='$SLURM_CONF'" >"$S/env"
	log "slurm up; env: $S/env"
}

mkdir -p "$S"
case "${1:-}" in
start)
	exec 9>"$UFS_TEST_DIR/slurm.lock"
	flock 9
	slurm_up && echo "export SLURM_CONF='$SLURM_CONF'" >"$S/env" && exit 0
	slurm_start
	;;
stop)
	exec 9>"$UFS_TEST_DIR/slurm.lock"
	flock 9
	slurm_stop
	;;
status)
	if slurm_up; then echo "slurm: running"; else echo "slurm: not running"; exit 1; fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
