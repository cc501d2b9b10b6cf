#!/usr/bin/env bash
# tests/integration/test_nfs_connections.sh — the nfs mount key
# nfs_connections caps the TCP connections to the server, and threads that
# share a connection still get the right bytes:
#   - nfs_connections = 2: four concurrent readers (read-ahead on the 16
#     fetch workers), a writer and a stat loop at once; every byte read
#     matches the server's file, the written file arrives whole, and the
#     daemon never holds more than 2 connections to port 2049;
#   - a value out of range fails the mount with a one-line reason.
source "$(dirname "$0")/lib.sh"
ufs_begin nfs_connections

name=$(ufs_uniq nfsconn)
d=$UFS_NFS_EXPORT_DIR/$name
mkdir -p "$d"
on_exit "rm -rf '$d'"
for i in 1 2 3 4; do
	head -c $((24 << 20)) /dev/urandom >"$d/f$i.bin" || fail "seeding f$i.bin"
done
head -c $((16 << 20)) /dev/urandom >"$UFS_WORK/src.bin" || fail "seeding src.bin"

conf()
{
	ufs_config "$UFS_WORK/$1.conf" <<EOF
[mount "/nfs"]
url = $UFS_NFS_URL/$name
nfs_connections = $2
EOF
}

# --- a bad value fails the mount ------------------------------------------------
conf bad 257
mkdir -p "$UFS_WORK/badmnt"
out=$("$UFS_BIN" mount "$UFS_WORK/bad.conf" "$UFS_WORK/badmnt" 2>&1) && fail "nfs_connections = 257 mounted"
[[ $out == *"nfs_connections: expected 0..256, got '257'"* ]] || fail "unclear refusal: $out"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines of the refusal"

# --- two connections shared by every thread --------------------------------------
conf two 2
mnt=$UFS_WORK/mnt
ufs_mount "$UFS_WORK/two.conf" "$mnt"
pid=$(pgrep -f -- "mount $UFS_WORK/two.conf $mnt" | head -1)
[[ -n $pid ]] || fail "no daemon for $mnt"
max=0
# conns: the daemon's TCP connections to the NFS port
conns() { ss -tnp 2>/dev/null | awk -v p="pid=$pid," '$5 ~ /:2049$/ && index($0, p)' | wc -l; }
for i in 1 2 3 4; do
	cmp "$mnt/nfs/f$i.bin" "$d/f$i.bin" >"$UFS_WORK/cmp$i" 2>&1 &
done
cp "$UFS_WORK/src.bin" "$mnt/nfs/written.bin" &
for ((k = 0; k < 40; k++)); do
	stat "$mnt/nfs/f1.bin" >/dev/null || fail "stat while reading"
	n=$(conns)
	((n > max)) && max=$n
	sleep 0.05
done
wait_ok=1
for job in $(jobs -p); do wait "$job" || wait_ok=0; done
((wait_ok)) || fail "a reader or the writer failed: $(cat "$UFS_WORK"/cmp*)"
cmp "$UFS_WORK/src.bin" "$d/written.bin" || fail "the written file differs on the server"
n=$(conns)
((n > max)) && max=$n
((max >= 1 && max <= 2)) || fail "daemon held $max connections to the server (nfs_connections = 2)"
ufs_pass
