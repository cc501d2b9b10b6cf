#!/usr/bin/env bash
# perf_fill.sh [UFS_BIN] — the daemon CPU of filling the block cache: a fresh unifs
# mount (memory = 1G, no disk tier) on the ganesha export reads one 1 GiB file
# (the cache fills: fresh or recycled block buffers), then a second one with
# the server's page cache warm under `perf record -g`; prints both CPU
# figures (utime+stime from /proc), the daemon's `unifs stats` daemon/buf_*
# lines and the top of the profile. Run as root with the test servers up
# (tests/servers/all.sh start); a before/after pair runs it with two binaries.
set -uo pipefail
BIN=${1:-$(dirname "$0")/../../build/unifs}
source /tmp/unifs-test/env || exit 1
name=perf-fill-$$
d=$UFS_NFS_EXPORT_DIR/$name mnt=$(mktemp -d) out=$(mktemp -d)
trap '"$BIN" umount "$mnt" >/dev/null 2>&1; rm -rf "$d" "$mnt" "$out"' EXIT
mkdir -p "$d" && head -c $((1 << 30)) /dev/urandom >"$d/a" && cp "$d/a" "$d/b" || exit 1
printf '[global]\nmemory = 1G\n[mount "/"]\nurl = %s/%s\n' "$UFS_NFS_URL" "$name" >"$out/conf"
"$BIN" mount "$out/conf" "$mnt" || exit 1
pid=$(pgrep -f -- "unifs mount .* $mnt\$" | head -1)
cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$pid/stat"; }
c0=$(cpu) && cat "$mnt/a" >/dev/null && c1=$(cpu)
cat "$d/b" >/dev/null # server page cache warm
perf record -q -g -o "$out/perf.data" -p "$pid" -- sleep 600 >/dev/null 2>&1 &
pp=$!
sleep 1
c2=$(cpu) && t0=$(date +%s.%N) && cat "$mnt/b" >/dev/null && t1=$(date +%s.%N) && c3=$(cpu)
kill -INT $pp && wait $pp
awk -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" -v s="$t0" -v e="$t1" 'BEGIN {
	printf "daemon CPU: first 1 GiB (fresh daemon) %.2f s; second (server warm) %.2f s at %.0f MB/s\n",
		b - a, d - c, 1073.74 / (e - s) }'
"$BIN" stats "$mnt" | grep -E "^daemon|buf_"
perf report -i "$out/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12
