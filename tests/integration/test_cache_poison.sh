#!/usr/bin/env bash
# test_cache_poison.sh — the disk tier cannot be poisoned by another local
# user (planted blocks, a swapped directory). Root mounts S3 with cache_dir under a directory that an
# unprivileged user (nobody, through setpriv) owns, and reads an object (a
# shell script, 128 MiB, 1 MiB blocks, memory 64 MiB: a re-read needs the
# disk tier). Then, as that user:
#   1. the cache_dir path is swapped after the mount (the root-owned tier
#      renamed away, a directory of the attacker's put in its place) and a
#      forged block planted there under every block's file name, in the
#      unkeyed format the tier used before (names derive from public facts:
#      URL, path, size, mtime, ETag; the test hands them over instead of
#      recomputing xxh3_128). A re-read is byte-exact: the daemon keeps
#      using the directory it opened at mount (before the fix it opened the
#      attacker's files by path and served them);
#   2. forged blocks in the current (keyed) format, with a guessed secret,
#      planted in the real tier: rejected, counted (disk_checksum_failures),
#      fetched again, the read byte-exact.
# A remount on the swapped path is refused (the attacker owns it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "cache poison"

command -v setpriv >/dev/null || fail "setpriv (util-linux) not installed"
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

bkt=$(ufs_uniq poison)
s3_mkbucket "$bkt"
src=$UFS_WORK/run.sh
{
	echo '#!/bin/sh'
	echo 'echo the real script'
	head -c $((128 << 20)) /dev/zero | tr '\0' '#'
} >"$src"
s3_put "$bkt/run.sh" "$src"

chmod 755 "$UFS_WORK"
share=$UFS_WORK/share # a path component the other user controls
mkdir -p "$share"
chown 65534:65534 "$share"
cache=$share/cache
mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory     = 64M
block_size = 1M
cache_dir  = $cache
cache_size = 1G

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
EOF

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

# forge DIR VERSION: as the caller, overwrite or create every block file
# named in $UFS_WORK/names under DIR with a forged block ("echo pwned" and
# padding) in format VERSION (2: unkeyed xxh3 header; 3: keyed layout with a
# guessed all-zero secret).
cat >"$UFS_WORK/forge.py" <<'PY'
import ctypes, hashlib, hmac, os, struct, sys
x = ctypes.CDLL("libxxhash.so.0")
x.XXH3_64bits.restype = ctypes.c_uint64
class H128(ctypes.Structure):
    _fields_ = [("low64", ctypes.c_uint64), ("high64", ctypes.c_uint64)]
x.XXH3_128bits.restype = H128
d, ver, names = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for line in open(names):
    rel, size = line.split()
    name = os.path.basename(rel)
    hi, lo, size = int(name[:16], 16), int(name[16:32], 16), int(size) - 4096
    data = (b"#!/bin/sh\necho pwned\n" + b"#" * size)[:size]
    h = bytearray(4096)
    h[0:8] = b"UFSBLK\0\1"
    struct.pack_into("<QQQQ", h, 8, ver | 4096 << 32, lo, hi, size)
    if ver == 2:
        struct.pack_into("<Q", h, 40, x.XXH3_64bits(bytes(data), len(data)))
        struct.pack_into("<Q", h, 48, x.XXH3_64bits(bytes(h[:48]), 48))
    else:
        r = x.XXH3_128bits(bytes(data), len(data))
        struct.pack_into("<QQ", h, 40, r.low64, r.high64)
        h[56:88] = hmac.new(bytes(32), bytes(h[:56]), hashlib.sha256).digest()
    os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
    with open(os.path.join(d, rel), "wb") as f:
        f.write(bytes(h) + data)
PY

# --- root reads the script once: the tier fills ---
ufs_mount "$cfg" "$mnt"
assert_file_eq "$src" "$mnt/s3/run.sh"
for ((i = 0; i < 100; i++)); do
	[[ $(stat_of disk_fill_pending) == 0 ]] && break
	sleep 0.1
done
(cd "$cache" && find . -name '*.blk' -printf '%P %s\n') >"$UFS_WORK/names"
nblk=$(wc -l <"$UFS_WORK/names")
((nblk >= 8)) || fail "only $nblk blocks in the tier after the first read"
chmod 644 "$UFS_WORK/names"
stat -c '%a %U' "$cache/secret" | grep -qx '600 root' || fail "secret is not 0600 root: $(stat -c '%a %U' "$cache/secret")"

# --- 1. the other user swaps the path and plants old-format blocks ---
as_user mv "$cache" "$share/cache.real" || fail "the other user cannot rename the tier away"
as_user mkdir -m 0755 "$cache"
as_user /usr/bin/python3 "$UFS_WORK/forge.py" "$cache" 2 "$UFS_WORK/names" || fail "forging as the other user"
drop_page_cache
hits0=$(stat_of disk_hits)
assert_file_eq "$src" "$mnt/s3/run.sh"
(($(stat_of disk_hits) > hits0)) || fail "the re-read used no disk block (memory only?): test proves nothing"
head -c 1000 "$mnt/s3/run.sh" | grep -q pwned && fail "a planted block was served"

# --- 2. forged keyed-layout blocks inside the real tier ---
python3 "$UFS_WORK/forge.py" "$share/cache.real" 3 "$UFS_WORK/names"
drop_page_cache
bad0=$(stat_of disk_checksum_failures)
gets0=$(stat_of gets)
assert_file_eq "$src" "$mnt/s3/run.sh"
(($(stat_of disk_checksum_failures) > bad0)) ||
	fail "forged block not counted ($bad0 -> $(stat_of disk_checksum_failures))"
(($(stat_of gets) > gets0)) || fail "forged block not fetched again"

# --- a remount on the swapped path is refused ---
ufs_umount "$mnt" || fail "unmount failed"
out=$("$UFS_BIN" mount "$cfg" "$mnt" 2>&1) && fail "mounted on a cache_dir the other user owns"
grep -q "owned by uid 65534" <<<"$out" || fail "unexpected refusal: $out"
ufs_pass
