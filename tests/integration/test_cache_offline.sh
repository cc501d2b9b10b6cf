#!/usr/bin/env bash
# test_cache_offline.sh — the disk tier keeps what it needs to work offline,
# and keeps it honest:
#   1. S3 (a private s3rver): list and read a small tree (two directories,
#      files of several sizes) through a mount with a disk tier; stop the
#      server; remount: `ls` shows the same names, every file reads
#      byte-exact, modes and owners are the last known ones, a write fails, `unifs stats`
#      says STALE (json: stale true), and 40 opens cost the server at most a
#      few requests (no retry per open);
#   2. file:// : a same-size rewrite with the mtime put back is a new version
#      across a remount (identity includes inode and ctime), not served stale
#      from the disk tier;
#   3. an unsafe cache_dir (mode 0777) is refused with a one-line reason.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "cache offline"

# --- a private s3rver, stopped by this test only ---
s3_private

bkt=$(ufs_uniq offline)
s3_mkbucket "$bkt"
src=$UFS_WORK/src
mkdir -p "$src/data/sub"
for i in 1 2 3 4 5 6 7 8; do
	head -c $((i * 150001)) /dev/urandom >"$src/data/f$i.bin"
	s3_put "$bkt/data/f$i.bin" "$src/data/f$i.bin"
done
head -c 3000000 /dev/urandom >"$src/data/sub/deep.bin"
s3_put "$bkt/data/sub/deep.bin" "$src/data/sub/deep.bin"

mnt=$UFS_WORK/mnt
cache=$UFS_WORK/cache
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory     = 64M
block_size = 1M
cache_dir  = $cache
cache_size = 1G
op_timeout = 2
retry_down = 1
attr_ttl   = 0
dir_ttl    = 0

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
EOF

json_of() # json_of PYTHON-EXPR: evaluate on `unifs stats --json` as j
{
	"$UFS_BIN" stats --json "$mnt" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" ||
		fail "unifs stats --json $mnt"
}

# --- 1. online: list and read everything once ---
ufs_mount "$cfg" "$mnt"
names_on=$(cd "$mnt/s3/data" && ls -R)
modes_on=$(stat -c '%a %u' "$mnt/s3/data/f1.bin" "$mnt/s3/data/sub")
for f in "$src"/data/*.bin "$src"/data/sub/*.bin; do
	assert_file_eq "$f" "$mnt/s3/${f#"$src"/}"
done
assert_eq False "$(json_of 'j["backends"][0]["stale"]')" "stale while the server is up"
ufs_umount "$mnt" || fail "unmount failed"

# --- server down, remount: lists and reads from the disk tier ---
s3priv stop || fail "cannot stop the private s3rver"
ufs_mount "$cfg" "$mnt"
names_off=$(cd "$mnt/s3/data" && ls -R) || fail "ls -R with the server down failed"
assert_eq "$names_on" "$names_off" "listing with the server down"
for f in "$src"/data/*.bin "$src"/data/sub/*.bin; do
	assert_file_eq "$f" "$mnt/s3/${f#"$src"/}"
done
assert_eq "$modes_on" "$(stat -c '%a %u' "$mnt/s3/data/f1.bin" "$mnt/s3/data/sub")" \
	"modes and owners with the server down"
assert_fails sh -c "echo x >'$mnt/s3/data/new.txt'"
assert_eq True "$(json_of 'j["backends"][0]["stale"]')" "json stale with the server down"
"$UFS_BIN" stats "$mnt" | grep -q "STALE: server unreachable" || fail "unifs stats does not say STALE"
# 40 more opens (attr_ttl 0: each one needs attributes): the server is not
# asked again for each (no retries per open)
req0=$(json_of 'sum(j["backends"][0]["requests"].values()) + j["backends"][0]["retries"]')
for i in $(seq 5); do
	for f in "$src"/data/*.bin; do cat "$mnt/s3/data/${f##*/}" >/dev/null; done
done
req1=$(json_of 'sum(j["backends"][0]["requests"].values()) + j["backends"][0]["retries"]')
(( req1 - req0 <= 6 )) || fail "40 offline opens cost the server $((req1 - req0)) requests"
ufs_umount "$mnt" || fail "unmount failed"

# --- 2. file:// same-size rewrite with the mtime put back ---
fdir=$UFS_WORK/local
mkdir -p "$fdir"
head -c 2000000 /dev/urandom >"$fdir/v.bin"
touch -d '2020-01-01 00:00:00' "$fdir/v.bin"
fcfg=$UFS_WORK/file.conf
ufs_config "$fcfg" <<EOF
[global]
memory     = 64M
block_size = 1M
cache_dir  = $UFS_WORK/fcache
cache_size = 1G

[mount "/f"]
url = file://$fdir
EOF
ufs_mount "$fcfg" "$mnt"
assert_file_eq "$fdir/v.bin" "$mnt/f/v.bin"
ufs_umount "$mnt" || fail "unmount failed"
head -c 2000000 /dev/urandom >"$UFS_WORK/v2.bin"
cat "$UFS_WORK/v2.bin" >"$fdir/v.bin" # same inode, same size
touch -d '2020-01-01 00:00:00' "$fdir/v.bin"
ufs_mount "$fcfg" "$mnt"
assert_file_eq "$UFS_WORK/v2.bin" "$mnt/f/v.bin"
ufs_umount "$mnt" || fail "unmount failed"

# --- 3. an unsafe cache_dir is refused ---
mkdir -p "$UFS_WORK/open"
chmod 0777 "$UFS_WORK/open"
sed -i "s|^cache_dir .*|cache_dir  = $UFS_WORK/open|" "$fcfg"
mkdir -p "$mnt"
if out=$("$UFS_BIN" mount "$fcfg" "$mnt" 2>&1); then
	ufs_umount "$mnt"
	fail "a cache_dir of mode 0777 was accepted"
fi
grep -q "writable by group or others (mode 0777)" <<<"$out" || fail "unclear refusal: $out"
ufs_pass
