#!/usr/bin/env bash
# test_list_budget.sh — directory listings count in the memory budget and
# are read in pages, so a huge bucket lists in full without taking the
# daemon past memory. hostile_s3.py serves synthetic buckets of many keys
# (nothing stored: pages are generated); one mount with memory = 64M:
#   - /small (2,000 keys, 2 pages): fits the cache; the second `ls` is
#     served from it (no LIST request)
#   - /big (100,000 keys, ~31 MiB of listing): `ls | wc -l` is right, the
#     listing is streamed and not cached (more than a quarter of the
#     budget), and the budget's peak stays within memory
#   - /huge (400,000 keys, ~100 MB: more than memory, which failed with
#     ENOMEM before listings were streamed): `ls -f` sees every entry once,
#     the budget's peak still within memory and the listing memory within a
#     quarter of it plus two pages; the mount keeps serving (/big lists again)
#   - the inode table counts in the budget: `ls -l /big` makes an inode per
#     entry, and forcing the kernel's FORGETs (drop_caches) gives their
#     budget back
# The same listing peak shows in Prometheus (unifs_listing_peak_bytes).
# Prints the daemon's peak RSS (VmHWM) and the listing figures from
# `unifs stats --json`; RSS is bounded by memory + 160 MiB (FUSE buffers
# and libraries are outside the budget; +320 MiB for an ASan build's
# quarantine and shadow). No timing assertions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "list budget"

hostile_s3_start
port=$HOSTILE_PORT
unset AWS_ENDPOINT_URL

mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mem_mib=64
big=100000
huge=400000
mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory  = ${mem_mib}M
metrics = 127.0.0.1:$mport

[mount "/small"]
url        = s3://many-2000-lb$$/
endpoint   = http://127.0.0.1:$port
path_style = true

[mount "/big"]
url        = s3://many-$big-lb$$/
endpoint   = http://127.0.0.1:$port
path_style = true

[mount "/huge"]
url        = s3://many-$huge-lb$$/
endpoint   = http://127.0.0.1:$port
path_style = true
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"
pid=$(pgrep -n -f "unifs mount .*$UFS_WORK/unifs.conf") || fail "daemon pid not found"

stat() { ufs_stats "$mnt" "$@"; }
lists() { ufs_requests "$mnt" "$1" LIST; }

n=$(ls "$mnt/small" | wc -l)
assert_eq "$n" 2000
l1=$(lists /small)
n=$(ls "$mnt/small" | wc -l)
assert_eq "$n" 2000
l2=$(lists /small)
echo "  /small: $n entries; LIST requests $l1, then $l2 after a second ls"
((l1 >= 2)) || fail "2,000 keys listed in $l1 LIST requests"
assert_eq "$l2" "$l1" # the second ls is served from the cache
read -r kept <<<"$(stat metadata.list_bytes)" # the cached /small

n=$(ls "$mnt/big" | wc -l)
assert_eq "$n" "$big"
read -r peak limit lpeak uncached <<<"$(stat memory.peak memory.limit metadata.list_peak metadata.lists_uncached)"
echo "  /big: $n entries; budget peak $peak of $limit; listing peak $lpeak bytes; uncached $uncached"
assert_eq "$limit" $((mem_mib << 20))
((peak <= limit)) || fail "budget peak $peak exceeds memory $limit"
((lpeak >= 1000 * 200)) || fail "a page of 1000 entries counted as $lpeak bytes only"
# the cache candidate stops at a quarter of the budget; the window is a page
((lpeak <= limit / 4 + (2 << 20))) || fail "listing memory peaked at $lpeak bytes"
((uncached >= 1)) || fail "a listing larger than a quarter of memory was cached"
read -r lbytes <<<"$(stat metadata.list_bytes)"
assert_eq "$lbytes" "$kept" # the handle closed: nothing more kept
prom=$(curl -sf "http://127.0.0.1:$mport/metrics") || fail "no metrics on port $mport"
grep -qx "unifs_listing_peak_bytes $lpeak" <<<"$prom" ||
	fail "Prometheus: $(grep unifs_listing <<<"$prom")"

n=$(ls -f "$mnt/huge" | sort | uniq | wc -l)
assert_eq "$n" $((huge + 2)) # with . and ..
read -r peak lpeak lbytes <<<"$(stat memory.peak metadata.list_peak metadata.list_bytes)"
echo "  /huge: $huge entries streamed; budget peak $peak of $limit; listing peak $lpeak"
((peak <= limit)) || fail "budget peak $peak exceeds memory $limit after /huge"
((lpeak <= limit / 4 + (2 << 20))) || fail "listing memory peaked at $lpeak bytes"
((lbytes <= kept)) || fail "$lbytes bytes of listings kept after /huge (was $kept)"

# The inode table in the budget: `ls -l` (READDIRPLUS: an inode per entry)
# takes budget; the kernel's FORGETs (drop_caches) give it back.
n=$(ls -l "$mnt/big" | grep -c '^-')
assert_eq "$n" "$big"
read -r inodes used <<<"$(stat fuse.inodes memory.used)"
((inodes >= big)) || fail "ls -l of $big entries left $inodes inodes"
if sync && echo 2 >/proc/sys/vm/drop_caches 2>/dev/null; then
	for _ in $(seq 100); do
		read -r inodes2 used2 <<<"$(stat fuse.inodes memory.used)"
		((inodes2 < 100)) && break
		sleep 0.1
	done
	echo "  inodes: $inodes after ls -l, $inodes2 after drop_caches; budget in use $used -> $used2"
	((inodes2 < 100)) || fail "the kernel's FORGETs left $inodes2 inodes"
	((used - used2 >= (inodes - inodes2) * 100)) ||
		fail "forgotten inodes gave back $((used - used2)) bytes only"
else
	echo "  (drop_caches not writable: FORGET not forced)"
fi

n=$(ls "$mnt/big" | wc -l)
assert_eq "$n" "$big"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
slack=160
# An ASan build keeps up to 256 MiB of freed memory in quarantine, plus shadow.
[[ $(ldd "$UFS_BIN" 2>/dev/null) == *libasan* ]] && slack=$((slack + 320))
echo "  daemon peak RSS $((hwm >> 10)) MiB (memory = ${mem_mib}M, allowed + $slack MiB)"
((hwm < (mem_mib + slack) << 10)) || fail "daemon RSS peaked at $((hwm >> 10)) MiB"
ufs_pass
