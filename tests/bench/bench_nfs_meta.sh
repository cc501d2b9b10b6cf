#!/usr/bin/env bash
# bench_nfs_meta.sh — NFSv3 metadata on ganesha with unifs's metadata cache
# effectively off (attr_ttl = dir_ttl = negative_ttl = 0: every call reaches
# the backend), so what is measured is the backend's cost per call:
#   find MNT -ls over a tree of BENCH_FILES files (default 2000) in
#   directories 6 levels deep, and stat(1) of BENCH_STATS deep files
#   (default 200, one stat process: each path is looked up component by
#   component, the kernel caching nothing).
# Each is repeated BENCH_REPS times (default 5): median, min and max seconds.
# BENCH_BASE_BIN=/path/to/old/unifs also runs that binary on the same tree
# (before/after). With strace available, BENCH_RPC=1 also counts the
# requests sent on the NFS sockets (send-type syscalls of the daemon:
# one per RPC; libnfs sends each RPC with one call) for one run of each.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench nfs meta"

files=${BENCH_FILES:-2000}
nstat=${BENCH_STATS:-200}
reps=${BENCH_REPS:-5}
dir=$(ufs_uniq bench-meta)
root=$UFS_NFS_EXPORT_DIR/$dir
on_exit "rm -rf '$root'"

# 4 top dirs x 5 leaves, each leaf 6 levels deep: a$i/b/c/d/e/f$j/file$k
leaves=()
for i in 0 1 2 3; do
	for j in 0 1 2 3 4; do
		leaves+=("a$i/b/c/d/e/f$j")
	done
done
per=$(((files + ${#leaves[@]} - 1) / ${#leaves[@]}))
for l in "${leaves[@]}"; do
	mkdir -p "$root/$l" || fail "mkdir $root/$l"
	(cd "$root/$l" && for ((k = 0; k < per; k++)); do : >"file$k"; done)
done
sync

now() { date +%s.%N; }
# stats_of VALUES...: "median min max" (3 decimals)
stats_of() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

# Deep files for the stat loop, spread over the leaves.
targets=()
for ((k = 0; k < nstat; k++)); do
	targets+=("${leaves[k % ${#leaves[@]}]}/file$((k / ${#leaves[@]} % per))")
done

# run_find MNT / run_stats MNT: one timed run, seconds in $T.
run_find()
{
	local t0
	t0=$(now)
	find "$1/nfs" -ls >/dev/null || fail "find $1"
	T=$(awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }')
}
run_stats()
{
	local t0
	t0=$(now)
	# one stat(1) process for all: the time is the lookups, not fork/exec
	stat -c %s "${targets[@]/#/$1/nfs/}" >/dev/null || fail "stat under $1"
	T=$(awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }')
}

# count_rpcs PID CMD...: send-type syscalls on the sockets of PID (all its
# threads) during CMD; FUSE replies (/dev/fuse) and log writes are not counted.
count_rpcs()
{
	local pid=$1 log=$UFS_WORK/strace.$RANDOM socks=" " f sp
	shift
	# -f with -p attaches every thread of the process
	strace -f -qq -e trace=sendmsg,sendto,writev,write -o "$log" -p "$pid" &
	sp=$!
	sleep 1
	"$@" >/dev/null
	sleep 0.5
	kill -INT "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	for f in /proc/"$pid"/fd/*; do
		[[ $(readlink "$f") == socket:* ]] && socks+="${f##*/} "
	done
	sed -nE 's/^[0-9]+ +(sendmsg|sendto|writev|write)\(([0-9]+),.*/\2/p' "$log" |
		awk -v socks="$socks" 'index(socks, " " $1 " ") { n++ } END { print n + 0 }'
}

declare -A R
bench_bin()
{
	local tag=$1 bin=$2 mnt=$UFS_WORK/mnt-$1 cfg=$UFS_WORK/$1.conf pid i fr=() sr=()
	ufs_config "$cfg" <<EOF
[global]
memory = 512M
attr_ttl = 0
dir_ttl = 0
negative_ttl = 0
[mount "/nfs"]
url = $UFS_NFS_URL/$dir
EOF
	UFS_BIN=$bin ufs_mount "$cfg" "$mnt"
	run_find "$mnt" # warm: connections, handles
	for ((i = 0; i < reps; i++)); do
		run_find "$mnt"
		fr+=("$T")
		run_stats "$mnt"
		sr+=("$T")
	done
	R[${tag}_find]=$(stats_of "${fr[@]}")
	R[${tag}_stat]=$(stats_of "${sr[@]}")
	if [[ ${BENCH_RPC:-0} == 1 ]] && command -v strace >/dev/null; then
		pid=$(pgrep -f "unifs mount $cfg $mnt" | head -1)
		R[${tag}_find_rpc]=$(count_rpcs "$pid" find "$mnt/nfs" -ls)
		R[${tag}_stat_rpc]=$(count_rpcs "$pid" stat -c %s "$mnt/nfs/${targets[0]}")
	fi
	ufs_umount "$mnt"
}

tags=(new)
bench_bin new "$UFS_BIN"
if [[ -n ${BENCH_BASE_BIN:-} ]]; then
	tags=(old new)
	bench_bin old "$BENCH_BASE_BIN"
fi

printf '\nNFSv3 metadata, %d files 6 levels deep, attr_ttl=dir_ttl=0 (seconds: median min max of %d)\n' \
	"$((per * ${#leaves[@]}))" "$reps"
for t in "${tags[@]}"; do
	printf '  %-4s find -ls: %-20s  %d x stat: %-20s' "$t" "${R[${t}_find]}" "$nstat" "${R[${t}_stat]}"
	[[ -n ${R[${t}_find_rpc]:-} ]] &&
		printf '  sends: find %s, one stat %s' "${R[${t}_find_rpc]}" "${R[${t}_stat_rpc]}"
	printf '\n'
done
ufs_pass
