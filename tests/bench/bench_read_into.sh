#!/usr/bin/env bash
# bench_read_into.sh — Direct.read_into() into the caller's own memory (a
# numpy array: libunifs stages it, entries in flight while the completed ones
# are copied out) against reading into Direct.alloc() memory (shared with the
# daemon: no staging), one file of BENCH_MB (1024) MiB, BENCH_ROUNDS (3)
# rounds each, the two alternating, medians printed with their ratio.
#   file   a file:// mount of a local directory (the file in the page cache:
#          the copy-out is all the difference)
#   s3     an object on Ceph RGW (BENCH_S3=s3rver for s3rver;
#          tests/bench/s3target.sh); direct reads do not fill the cache, so
#          every round is cold from the server
# BENCH_ONLY="file s3" picks some. Both buffers are allocated and touched
# once before the rounds (a loader reuses its buffers).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench read_into"

mb=${BENCH_MB:-1024}
rounds=${BENCH_ROUNDS:-3}
only=" ${BENCH_ONLY:-file s3} "
want() { [[ $only == *" $1 "* ]]; }
ufs_direct_python

# rounds LABEL PATH MOUNT: the timed rounds of one file; prints its row
rounds()
{
	"$py" - "$1" "$2" "$3" "$rounds" <<'PY' || fail "read_into rounds on $1"
import os, statistics, sys, time
import numpy as np
import unifs

label, path, mnt, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
n = os.path.getsize(path)
with unifs.Direct(mnt) as d:
    bufs = {"alloc": d.alloc(n), "into": np.empty(n, dtype=np.uint8)}
    for b in bufs.values():
        b.fill(1)  # first touch outside the timing
    secs = {k: [] for k in bufs}
    for r in range(rounds):
        for k in (("alloc", "into") if r % 2 == 0 else ("into", "alloc")):
            t = time.monotonic()
            got = d.read_into(path, bufs[k])
            secs[k].append(time.monotonic() - t)
            assert got == n, (k, got, n)
        assert np.array_equal(bufs["alloc"], bufs["into"]), "read_into and alloc bytes differ"
med = {k: statistics.median(v) for k, v in secs.items()}
mbps = {k: n / med[k] / 1e6 for k in med}
print("%-8s alloc %6.3f s %6.0f MB/s | read_into %6.3f s %6.0f MB/s | read_into/alloc %.2fx (goal >= 0.9)"
      % (label, med["alloc"], mbps["alloc"], med["into"], mbps["into"], med["alloc"] / med["into"]))
print("         rounds alloc: %s  read_into: %s" % (
    " ".join("%.3f" % s for s in secs["alloc"]), " ".join("%.3f" % s for s in secs["into"])))
PY
}

src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src"
rows=()
if want file; then
	fdir=$UFS_WORK/fdir
	mkdir -p "$fdir"
	cp "$src" "$fdir/obj.bin"
	printf '[global]\nmemory = 2G\n[mount "/f"]\nurl = file://%s\n' "$fdir" | ufs_config "$UFS_WORK/f.conf"
	ufs_mount "$UFS_WORK/f.conf" "$UFS_WORK/mf"
	cat "$fdir/obj.bin" >/dev/null # in the page cache
	rows+=("$(rounds file:// "$UFS_WORK/mf/f/obj.bin" "$UFS_WORK/mf")")
	ufs_umount "$UFS_WORK/mf"
	rm -rf "$fdir"
fi
if want s3; then
	source "$(dirname "$0")/s3target.sh"
	s3_target
	bkt=$(ufs_uniq binto)
	s3_new_bucket "$bkt"
	s3raw PUT "/$bkt/obj.bin" -T "$src" -o /dev/null || fail "seeding obj.bin"
	printf '[global]\nmemory = 2G\n[mount "/s3"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' \
		"$bkt" "$S3EP" | ufs_config "$UFS_WORK/s.conf"
	ufs_mount "$UFS_WORK/s.conf" "$UFS_WORK/ms"
	rows+=("$(rounds "$S3NAME" "$UFS_WORK/ms/s3/obj.bin" "$UFS_WORK/ms")")
	ufs_umount "$UFS_WORK/ms"
fi
rm -f "$src"

printf '\nread_into (numpy, staged) vs Direct.alloc(), %d MiB, median of %d rounds (load %s)\n' \
	"$mb" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${rows[@]}"
ufs_pass
