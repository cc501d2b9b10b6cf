#!/usr/bin/env bash
# bench_metrics.sh — the cost of the Prometheus endpoint on the hot path, in
# one run: the same two workloads with `metrics = 127.0.0.1:PORT` on (and
# scraped every second, 15x Prometheus's default rate) and off, alternating
# on/off for ROUNDS rounds, a fresh mount and dropped page caches each time:
#   1. cold sequential read of BENCH_MB (512) MiB from s3rver (bench_s3's
#      unifs cold read), MB/s
#   2. DataLoader: DL_FILES (2000) objects of 128 KiB read by 8 parallel
#      readers (bench_cache's section 3), files/s
#   0. the cost of one counted call (clock reads + histogram update), ns
# Prints the median of each and the difference on vs off (goal: <= 2%).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench metrics"

mb=${BENCH_MB:-512}
dl_files=${DL_FILES:-2000}
rounds=${ROUNDS:-3}
port=${METRICS_PORT:-19564}
mnt=$UFS_WORK/mnt
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/metrics"; then
	fail "port $port already serves something (a leftover mount?): set METRICS_PORT"
fi

bkt=$(ufs_uniq benchmetrics)
s3_mkbucket "$bkt"
echo "seeding: one ${mb} MiB object and $dl_files x 128 KiB objects in $bkt" >&2
head -c $((mb << 20)) /dev/urandom >"$UFS_WORK/big"
s3_put "$bkt/big" "$UFS_WORK/big"
rm -f "$UFS_WORK/big"
head -c $((128 << 10)) /dev/urandom >"$UFS_WORK/small"
seq -f 'dl/f%05g' 1 "$dl_files" | xargs -P 16 -I{} "$UFS_SERVERS/s3curl.sh" PUT "/$bkt/{}" \
	--data-binary "@$UFS_WORK/small" -o /dev/null || fail "seeding the DataLoader objects"

now() { date +%s.%N; }

# conf ON|OFF: the mount's config file.
conf()
{
	local f=$UFS_WORK/$1.conf extra=
	[[ $1 == on ]] && extra="metrics = 127.0.0.1:$port"
	printf '[global]\nmemory = 1G\n%s\n[mount "/"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' \
		"$extra" "$bkt" "$UFS_S3_ENDPOINT" | ufs_config "$f"
	echo "$f"
}

# run MODE WORKLOAD: one measurement on a fresh mount; prints the rate.
run()
{
	local mode=$1 work=$2 t0 t1 scraper=
	ufs_umount "$mnt"
	ufs_mount "$(conf "$mode")" "$mnt"
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	if [[ $mode == on ]]; then
		curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" || fail "metrics not served"
		(while :; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; sleep 1; done) &
		scraper=$!
	fi
	t0=$(now)
	if [[ $work == read ]]; then
		cat "$mnt/big" >/dev/null || fail "read of big"
	else
		ls "$mnt/dl" | sed "s|^|$mnt/dl/|" | xargs -P 8 -n 25 cat >/dev/null || fail "DataLoader"
	fi
	t1=$(now)
	[[ -n $scraper ]] && kill "$scraper" 2>/dev/null && wait "$scraper" 2>/dev/null
	ufs_umount "$mnt"
	if [[ $work == read ]]; then
		python3 -c "import sys; print('%.1f' % ($mb / (float(sys.argv[2]) - float(sys.argv[1]))))" "$t0" "$t1"
	else
		python3 -c "import sys; print('%.1f' % ($dl_files / (float(sys.argv[2]) - float(sys.argv[1]))))" "$t0" "$t1"
	fi
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# 0. What each counted call costs (on or off: the counters also feed
# `unifs stats`): two monotonic clock reads and one histogram update.
cat >"$UFS_WORK/ns.c" <<'C'
#include <stdio.h>
#include "common/metrics.h"
int main(void)
{
	static struct ufs_hist h;
	const int n = 5000000;
	double t0 = ufs_mono_now();
	for (int i = 0; i < n; i++) {
		double s = ufs_mono_now();
		ufs_hist_observe(&h, ufs_mono_now() - s);
	}
	printf("%.0f\n", (ufs_mono_now() - t0) / n * 1e9);
	return 0;
}
C
cc -O2 -std=c11 -D_GNU_SOURCE -I"$UFS_SRC" "$UFS_WORK/ns.c" "$UFS_SRC/common/metrics.c" \
	"$UFS_SRC/common/strbuf.c" -o "$UFS_WORK/ns" || fail "cannot build the per-call probe"
ns_per_call=$("$UFS_WORK/ns")

declare -A R
for work in read dl; do
	for ((r = 1; r <= rounds; r++)); do
		for mode in off on; do
			((r % 2 == 0)) && mode=$([[ $mode == off ]] && echo on || echo off)
			v=$(run "$mode" "$work")
			[[ $v =~ ^[0-9.]+$ ]] || fail "$work round $r metrics $mode: $v"
			R[$work.$mode]+="$v "
			echo "  $work round $r metrics $mode: $v" >&2
		done
	done
done

echo
printf '%-40s %12s %12s %9s\n' "bench_metrics (median of $rounds)" "metrics off" "metrics on" "diff"
for work in read dl; do
	off=$(median <<<"${R[$work.off]}")
	on=$(median <<<"${R[$work.on]}")
	label="1. cold read ${mb} MiB (MB/s)"
	[[ $work == dl ]] && label="2. DataLoader 8 readers (files/s)"
	printf '%-40s %12s %12s %8s%%\n' "$label" "$off" "$on" \
		"$(python3 -c "import sys; print('%+.1f' % ((float(sys.argv[2]) / float(sys.argv[1]) - 1) * 100))" "$off" "$on")"
	echo "   runs off: ${R[$work.off]}  on: ${R[$work.on]}"
done
echo "0. cost of one counted call (clock x2 + histogram): $ns_per_call ns"
ufs_pass
