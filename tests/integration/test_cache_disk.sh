#!/usr/bin/env bash
# test_cache_disk.sh — the disk tier through a real FUSE mount on S3:
#   1. cold read of a 512 MiB object (cmp with the source); every block is
#      accounted for by the fill counters (stored, skipped, evicted, failed);
#   2. a second read (page cache dropped, memory smaller than the object):
#      0 new GETs (or only for blocks the fills counted as not stored),
#      served from memory + the disk tier;
#   3. the S3 server stopped, unmount, mount again: a third read is
#      byte-exact from the disk tier alone (epoch 2 is local);
#   4. the server back, one block file corrupted (bytes flipped in its data
#      area): the read is still byte-exact, exactly that block is fetched
#      again, and `unifs stats --json` counts disk_checksum_failures >= 1.
# The S3 server here is a private s3rver (own port and data dir, same
# tests/servers/s3.sh): stopping it disturbs no other test. Size: CACHE_TEST_MB.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "cache disk tier"

mb=${CACHE_TEST_MB:-512}
size=$((mb << 20))
mem=$((mb / 2 > 64 ? mb / 2 : 64)) # less than the object: the disk tier must serve

# --- a private s3rver, restarted/stopped by this test only ---
s3_private

bkt=$(ufs_uniq cachedisk)
s3_mkbucket "$bkt"
src=$UFS_WORK/src.bin
head -c "$size" /dev/urandom >"$src"
s3_put "$bkt/obj.bin" "$src"

mnt=$UFS_WORK/mnt
cache=$UFS_WORK/cache
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory     = ${mem}M
cache_dir  = $cache
cache_size = 2G
op_timeout = 5
retry_down = 1

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
EOF

# stat KEY: a number from `unifs stats --json` (cache.KEY, or gets = S3 GETs).
stat_of()
{
	"$UFS_BIN" stats --json "$mnt" | python3 -c '
import json, sys
j = json.load(sys.stdin)
k = sys.argv[1]
print(j["backends"][0]["requests"]["GET"] if k == "gets" else j["cache"][k])' "$1" ||
		fail "unifs stats --json $mnt ($1)"
}

drop_page_cache() { sync; echo 1 >/proc/sys/vm/drop_caches || fail "cannot drop the page cache"; }

# --- 1. cold read ---
ufs_mount "$cfg" "$mnt"
assert_file_eq "$src" "$mnt/s3/obj.bin"
gets1=$(stat_of gets)
# read-ahead coalesces up to 32 MiB of blocks into one ranged GET
(( gets1 >= mb / 32 )) || fail "cold read made only $gets1 GETs for $mb MiB"
assert_eq "$size" "$(stat_of fetched_bytes)" "bytes fetched by the cold read"
# every block fetched went to the disk tier's fill queue: stored, skipped
# (queue full), evicted first or failed, and counted so once none is pending
for ((i = 0; i < 100; i++)); do
	[[ $(stat_of disk_fill_pending) == 0 ]] && break
	sleep 0.1
done
assert_eq 0 "$(stat_of disk_fill_pending)" "fills still pending 10 s after the read"
fills=$(stat_of disk_fills)
assert_eq $((mb / 8)) $((fills + $(stat_of disk_fill_skips) + $(stat_of disk_fill_evicted) +
	$(stat_of disk_fill_errors))) "blocks accounted for by the fill counters"
assert_eq $((fills << 23)) "$(stat_of disk_write_bytes)" "bytes written by $fills fills"
(( fills >= 1 )) || fail "no block stored in the disk tier"

# --- 2. second read: no new GETs ---
drop_page_cache
hits_before=$(( $(stat_of mem_hits) + $(stat_of disk_hits) ))
assert_file_eq "$src" "$mnt/s3/obj.bin"
# 0 GETs when the tier stored every block (a disk that fell behind skips
# blocks, counted: those, and only those, are fetched again)
missing=$((mb / 8 - fills))
(( $(stat_of gets) - gets1 <= missing )) ||
	fail "second read: $(( $(stat_of gets) - gets1 )) GETs, the tier missed $missing blocks"
(( $(stat_of disk_hits) >= 1 )) || fail "second read did not use the disk tier"
(( $(stat_of mem_hits) + $(stat_of disk_hits) > hits_before )) ||
	fail "second read never reached the cache (page cache only?)"
(( $(stat_of mem_peak) <= $(stat_of mem_limit) )) || fail "memory peak above the limit"

# --- 3. server down, remount, third read from the disk tier alone ---
for ((i = 0; i < 100; i++)); do
	[[ $(stat_of disk_fill_pending) == 0 ]] && break
	sleep 0.1
done
assert_eq $((mb / 8)) "$(find "$cache" -name '*.blk' | wc -l)" \
	"blocks in the tier after two reads (skipped: $(stat_of disk_fill_skips) queue full, $(stat_of disk_fill_evicted) evicted)"
s3priv stop || fail "cannot stop the private s3rver"
ufs_umount "$mnt" || fail "unmount failed"
ufs_mount "$cfg" "$mnt"
drop_page_cache
assert_file_eq "$src" "$mnt/s3/obj.bin"
assert_eq 0 "$(stat_of fetched_bytes)" "bytes fetched with the server down"
(( $(stat_of disk_hits) >= mb / 8 )) || fail "third read: only $(stat_of disk_hits) disk hits"
ufs_umount "$mnt" || fail "unmount failed"

# --- 4. server back, one block corrupted: refetched, counted, still exact ---
s3priv start || fail "private s3rver did not restart"
blk=$(find "$cache" -name '*.blk' -size +1M -print -quit)
[[ -n $blk ]] || fail "no block file in $cache"
printf 'corrupted!' | dd of="$blk" bs=1 seek=$((64 + 4096)) conv=notrunc status=none
ufs_mount "$cfg" "$mnt"
drop_page_cache
assert_file_eq "$src" "$mnt/s3/obj.bin"
(( $(stat_of disk_checksum_failures) >= 1 )) || fail "corrupt block not counted"
assert_eq 1 "$(stat_of gets)" "GETs after one corrupt block"
assert_eq $((8 << 20)) "$(stat_of fetched_bytes)" "bytes refetched"
ufs_pass
