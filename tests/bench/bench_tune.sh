#!/usr/bin/env bash
# bench_tune.sh — choose read sizes from measurement: one sequential reader
# (`cat`) of a BENCH_MB (512) MiB file, cold (page caches dropped, fresh
# mount), for each block_size (TUNE_BS: "2M 4M 8M 16M") x readahead_max
# (TUNE_RA: "64M 256M"), on ganesha (NFSv3) and on the S3 target
# (tests/bench/s3target.sh: RGW, or s3rver with BENCH_S3=s3rver). Rounds
# (BENCH_ROUNDS, 3) interleave the settings; medians of MB/s and daemon CPU
# seconds per GiB are printed with the raw tool (nfs-cat / curl) beside them.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/s3target.sh"
ufs_begin "bench tune"

mb=${BENCH_MB:-512}
rounds=${BENCH_ROUNDS:-3}
sizes=${TUNE_BS:-2M 4M 8M 16M}
windows=${TUNE_RA:-64M 256M}
declare -A V

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches || fail "cannot drop caches (run as root)"; }
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
mbps() { awk -v s="$1" -v e="$2" -v m="$mb" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }'; }

s3_target
bkt=$(ufs_uniq btune)
s3_new_bucket "$bkt"
nfsdir=$(ufs_uniq btune)
mkdir -p "$UFS_NFS_EXPORT_DIR/$nfsdir"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfsdir'"
head -c $((mb << 20)) /dev/urandom >"$UFS_NFS_EXPORT_DIR/$nfsdir/f" || fail "cannot seed NFS"
s3raw PUT "/$bkt/f" -T "$UFS_NFS_EXPORT_DIR/$nfsdir/f" -o /dev/null || fail "cannot seed $S3NAME"

# one SERVER BS RA: a cold read through a fresh mount; adds to V[...].
one()
{
	local srv=$1 bs=$2 ra=$3 conf=$UFS_WORK/tune.conf mnt=$UFS_WORK/mnt pid c0 t0 t1
	{
		printf '[global]\nmemory = 1G\nblock_size = %s\nreadahead_max = %s\n' "$bs" "$ra"
		if [[ $srv == nfs ]]; then
			printf '[mount "/"]\nurl = %s/%s\n' "$UFS_NFS_URL" "$nfsdir"
		else
			printf '[mount "/"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' "$bkt" "$S3EP"
		fi
	} | ufs_config "$conf"
	ufs_mount "$conf" "$mnt"
	pid=$(pgrep -f -- "unifs mount .* $mnt\$" | head -1)
	drop
	c0=$(cpu_of "$pid")
	t0=$(now)
	cat "$mnt/f" >/dev/null || fail "read $srv bs=$bs ra=$ra"
	t1=$(now)
	V[$srv.$bs.$ra.mbps]+=" $(mbps "$t0" "$t1")"
	V[$srv.$bs.$ra.cpu]+=" $(awk -v a="$c0" -v b="$(cpu_of "$pid")" -v m="$mb" 'BEGIN { printf "%.2f", (b - a) * 1024 / m }')"
	ufs_umount "$mnt"
}

# raw SERVER: the protocol's own tool, cold.
raw()
{
	local t0
	drop
	t0=$(now)
	if [[ $1 == nfs ]]; then
		nfs-cat "$UFS_NFS_URL/$nfsdir/f" >/dev/null || fail "nfs-cat"
	else
		s3raw GET "/$bkt/f" -o /dev/null || fail "curl GET"
	fi
	V[$1.raw.mbps]+=" $(mbps "$t0" "$(now)")"
}

for ((r = 1; r <= rounds; r++)); do
	for srv in nfs s3; do
		raw "$srv"
		for bs in $sizes; do
			for ra in $windows; do one "$srv" "$bs" "$ra"; done
		done
	done
	echo "bench_tune: round $r of $rounds done" >&2
done

printf '\nbench_tune: cold sequential read of %d MiB, medians of %d rounds (NFS: ganesha, S3: %s)\n' "$mb" "$rounds" "$S3NAME"
printf '%-6s %-12s %-14s %10s %12s\n' server block_size readahead_max MB/s daemon-CPU-s/GiB
for srv in nfs s3; do
	printf '%-6s %-12s %-14s %10s\n' "$srv" "(raw tool)" "" "$(median <<<"${V[$srv.raw.mbps]}")"
	for bs in $sizes; do
		for ra in $windows; do
			printf '%-6s %-12s %-14s %10s %12s\n' "$srv" "$bs" "$ra" \
				"$(median <<<"${V[$srv.$bs.$ra.mbps]}")" "$(median <<<"${V[$srv.$bs.$ra.cpu]}")"
		done
	done
done
ufs_pass
