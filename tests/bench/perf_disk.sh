#!/usr/bin/env bash
# perf_disk.sh [UFS_BIN] — where the time of a cold read with the disk tier
# goes: a fresh mount (memory = 1G, cache_dir emptied, cache_size
# = 4G) on the shared s3rver reads one 1 GiB object with dd bs=1M while
# `perf record -g` samples the daemon; prints the wall time, the daemon's CPU
# (utime+stime), the page-cache traffic of the read from /proc/vmstat
# (pages dirtied and written back, the kernel's dirty-throttling counter
# where it has one), the daemon's threads' CPU, and the top of the profile.
# Run as root with the test servers up; a before/after pair runs it with two
# binaries (PERF_NOTIER=1: the same read with no disk tier).
set -uo pipefail
BIN=${1:-$(dirname "$0")/../../build/unifs}
source /tmp/unifs-test/env || exit 1
S3CURL=$UFS_SERVERS_DIR/s3curl.sh
bkt=perf-disk-$$ mnt=$(mktemp -d) out=$(mktemp -d)
trap '"$BIN" umount "$mnt" >/dev/null 2>&1; "$S3CURL" DELETE "/$bkt/obj.bin" >/dev/null 2>&1;
	"$S3CURL" DELETE "/$bkt" >/dev/null 2>&1; rm -rf "$mnt" "$out"' EXIT
head -c $((1 << 30)) /dev/urandom >"$out/src" || exit 1
"$S3CURL" PUT "/$bkt" -o /dev/null && "$S3CURL" PUT "/$bkt/obj.bin" -T "$out/src" -o /dev/null || exit 1
rm -f "$out/src"
mkdir -m 0700 "$out/tier"
tier="cache_dir = $out/tier
cache_size = 4G"
[[ ${PERF_NOTIER:-0} == 1 ]] && tier=""
printf '[global]\nmemory = 1G\n%s\n[mount "/"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' \
	"$tier" "$bkt" "$UFS_S3_ENDPOINT" >"$out/conf"
"$BIN" mount "$out/conf" "$mnt" || exit 1
pid=$(pgrep -f -- "unifs mount .* $mnt\$" | head -1)
cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$pid/stat"; }
vm() { awk '$1 ~ /^(nr_dirtied|nr_written|nr_dirty_throttled|pgpgout)$/ { printf "%s=%s ", $1, $2 }' /proc/vmstat; }
sync; echo 3 >/proc/sys/vm/drop_caches
perf record -q -g -o "$out/perf.data" -p "$pid" -- sleep 600 >/dev/null 2>&1 &
pp=$!
sleep 1
v0=$(vm) c0=$(cpu) t0=$(date +%s.%N)
dd if="$mnt/obj.bin" of=/dev/null bs=1M status=none
t1=$(date +%s.%N) c1=$(cpu) v1=$(vm)
sleep 2 # fills still queued finish
kill -INT $pp && wait $pp
awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN {
	printf "cold 1 GiB read: %.2f s (%.0f MB/s), daemon CPU %.2f s\n", e - s, 1073.74 / (e - s), b - a }'
echo "vmstat before: $v0"
echo "vmstat after:  $v1"
echo "daemon threads (CPU s):"
for t in /proc/"$pid"/task/*; do
	awk -v tk="$(getconf CLK_TCK)" -v n="$(cat "$t/comm")" '{ c[n] += ($14 + $15) / tk } END { for (k in c) printf "  %-16s %.2f\n", k, c[k] }' "$t/stat"
done | sort -k2 -rn | awk '{ s[$1] += $2 } END { for (k in s) printf "  %-16s %.2f\n", k, s[k] }' | sort -k2 -rn
"$BIN" stats "$mnt" | grep -E "disk_"
perf report -i "$out/perf.data" --no-children --sort comm,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -20
