#!/usr/bin/env bash
# test_fs_namespace.sh — what the FUSE daemon core (fs/) promises, through a
# real mount with ordinary tools:
#   - synthetic directories (root, intermediate components) list their
#     children, are 0755 and read-only (EROFS), mount points cannot be
#     removed (EBUSY), renames across mounts fail with EXDEV;
#   - a readonly mount refuses writes; ENAMETOOLONG past 255 bytes;
#   - close-to-open: a file changed behind the mount is read whole and new;
#     keep_cache: an unchanged file is re-read from the page cache;
#   - `ls -l` of a 2,000-entry directory costs one LIST, no per-entry HEAD;
#   - an unreachable server (refused) and a hung one (accepts, never answers)
#     do not fail the mount (a warning each), fail in bounded time, and never
#     stall the other subtrees;
#   - object-store writes that are not a plain stream (dd conv=notrunc at
#     offsets, append, truncate) go through staging and land on the server;
#   - `unifs stats --json` answers; SIGTERM unmounts and removes the socket.
source "$(dirname "$0")/lib.sh"
ufs_begin fs_namespace

local_dir=$UFS_WORK/local
deep_dir=$UFS_WORK/deep
mkdir -p "$local_dir" "$deep_dir"
bkt=$(ufs_uniq fsns)
s3_mkbucket "$bkt"

# A TCP port that accepts connections and never answers (a hung server).
hang_port=$((20000 + RANDOM % 20000))
python3 - "$hang_port" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
held = []
end = time.time() + 600
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
EOF
hang_pid=$!
on_exit "kill $hang_pid"

cfg=$UFS_WORK/ns.conf
ufs_config "$cfg" <<EOF
[global]
op_timeout = 3
retry_down = 30

[mount "/local"]
url = file://$local_dir

[mount "/data/deep/l2"]
url = file://$deep_dir

[mount "/ro"]
url = file://$local_dir
readonly = true

[mount "/dead"]
url = nfs://127.0.0.1:1/nothing

[mount "/hang"]
url        = s3://hung/
endpoint   = http://127.0.0.1:$hang_port
path_style = true

[mount "/s3"]
url        = s3://$bkt/pfx/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
EOF
mnt=$UFS_WORK/mnt
mkdir -p "$mnt"
out=$(within 60 "$UFS_BIN" mount "$cfg" "$mnt" 2>&1) || fail "mount failed: $out"
on_exit "ufs_umount '$mnt'"
grep -q 'mount /dead: .*unreachable' <<<"$out" || fail "no warning for /dead: $out"
grep -q 'mount /hang: ' <<<"$out" || fail "no warning for /hang: $out"

# --- synthetic directories ---
assert_eq "data dead hang local ro s3" "$(ls "$mnt" | tr '\n' ' ' | sed 's/ $//')" "ls of the root"
assert_eq "deep" "$(ls "$mnt/data")" "ls of /data"
assert_eq "l2" "$(ls "$mnt/data/deep")" "ls of /data/deep"
assert_eq 755 "$(stat -c %a "$mnt/data")" "mode of /data"
err=$(mkdir "$mnt/data/new" 2>&1) && fail "mkdir in a synthetic dir succeeded"
grep -q 'Read-only file system' <<<"$err" || fail "mkdir in /data: $err"
err=$(rmdir "$mnt/data/deep/l2" 2>&1) && fail "rmdir of a mount point succeeded"
grep -q 'busy' <<<"$err" || fail "rmdir of a mount point: $err"
echo x >"$local_dir/cross"
rc=$(python3 -c 'import os,sys,errno
try:
    os.rename(sys.argv[1], sys.argv[2]); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$mnt/local/cross" "$mnt/data/deep/l2/cross")
assert_eq EXDEV "$rc" "rename across mounts"
echo deep >"$deep_dir/d.txt"
assert_eq deep "$(cat "$mnt/data/deep/l2/d.txt")" "file in a nested mount"

# --- readonly mount, long names ---
assert_eq x "$(cat "$mnt/ro/cross")" "read on a readonly mount"
err=$( (echo y >"$mnt/ro/new") 2>&1) && fail "write on a readonly mount succeeded"
grep -q 'Read-only file system' <<<"$err" || fail "write on /ro: $err"
err=$(touch "$mnt/local/$(printf 'n%.0s' $(seq 256))" 2>&1) && fail "256-byte name accepted"
grep -q 'too long' <<<"$err" || fail "256-byte name: $err"
assert_ok touch "$mnt/local/$(printf 'n%.0s' $(seq 255))"

# --- close-to-open and keep_cache ---
echo short >"$local_dir/c2o"
assert_eq short "$(cat "$mnt/local/c2o")" "first read"
echo "a much longer second version" >"$local_dir/c2o"
assert_eq "a much longer second version" "$(cat "$mnt/local/c2o")" "read after a change behind the mount"
head -c 4000000 /dev/urandom >"$local_dir/kc"
assert_file_eq "$local_dir/kc" "$mnt/local/kc"
# FUSE READ requests the kernel sent (unifs stats counts each request type):
# with keep_cache the re-read of an unchanged file is served from the page
# cache and sends none. (Cache counters would also move with directory-order
# prefetch of the next file, which runs in the background.)
fuse_reads() {
	"$UFS_BIN" stats --json "$mnt" | python3 -c 'import json,sys
print(json.load(sys.stdin)["fuse"]["requests"]["read"])'
}
before=$(fuse_reads)
assert_file_eq "$local_dir/kc" "$mnt/local/kc"
assert_eq "$before" "$(fuse_reads)" "FUSE reads for an unchanged file (keep_cache)"

# --- one LIST for ls -l of a large directory ---
mkdir "$local_dir/many"
(cd "$local_dir/many" && seq -f 'e%04g' 1 2000 | xargs touch)
counts() {
	"$UFS_BIN" stats --json "$mnt" | python3 -c 'import json,sys
b = [x for x in json.load(sys.stdin)["backends"] if x["mount"] == "/local"][0]["requests"]
print(b["LIST"], b["HEAD"])'
}
read -r l0 h0 <<<"$(counts)"
assert_eq 2000 "$(ls -l "$mnt/local/many" | tail -n +2 | wc -l)" "entries of ls -l"
read -r l1 h1 <<<"$(counts)"
assert_eq 1 $((l1 - l0)) "LIST requests for ls -l"
((h1 - h0 <= 2)) || fail "ls -l of 2000 entries made $((h1 - h0)) HEAD requests"

# --- isolation: a hung and a dead server do not stall the rest ---
start=$(date +%s)
(ls "$mnt/hang" >/dev/null 2>&1; echo "finished" >"$UFS_WORK/hang.done") &
ls_pid=$!
sleep 0.3
assert_eq x "$(within 2 cat "$mnt/local/cross")" "read while /hang is stuck"
assert_ok within 2 ls "$mnt/data/deep/l2" >/dev/null
err=$(within 10 ls "$mnt/dead" 2>&1) && fail "ls of a dead server succeeded"
wait "$ls_pid"
(($(date +%s) - start <= 15)) || fail "ls of the hung server took more than 15 s"
[[ -e $UFS_WORK/hang.done ]] || fail "ls of the hung server never returned"
err=$(within 5 ls "$mnt/hang" 2>&1) && fail "ls of the hung server succeeded"

# --- object store: staged writes land on the server ---
head -c 3000000 /dev/urandom >"$UFS_WORK/ref"
assert_ok cp "$UFS_WORK/ref" "$mnt/s3/obj"
printf 'XXXXXXXX' | dd of="$mnt/s3/obj" bs=1 seek=100000 conv=notrunc status=none ||
	fail "dd at an offset on s3"
printf 'XXXXXXXX' | dd of="$UFS_WORK/ref" bs=1 seek=100000 conv=notrunc status=none
dd if=/dev/zero of="$mnt/s3/obj" bs=4096 seek=900 count=3 conv=notrunc status=none ||
	fail "dd of blocks on s3"
dd if=/dev/zero of="$UFS_WORK/ref" bs=4096 seek=900 count=3 conv=notrunc status=none
echo appended >>"$mnt/s3/obj" || fail "append on s3"
echo appended >>"$UFS_WORK/ref"
assert_file_eq "$UFS_WORK/ref" "$mnt/s3/obj"
s3_get "$bkt/pfx/obj" "$UFS_WORK/got" || fail "GET of the staged object"
assert_file_eq "$UFS_WORK/ref" "$UFS_WORK/got"
assert_ok truncate -s 1000 "$mnt/s3/obj"
assert_eq 1000 "$(stat -c %s "$mnt/s3/obj")" "size after truncate on s3"
s3_get "$bkt/pfx/obj" "$UFS_WORK/got" || fail "GET after truncate"
assert_ok cmp -n 1000 "$UFS_WORK/ref" "$UFS_WORK/got"
assert_eq 1000 "$(stat -c %s "$UFS_WORK/got")" "object size after truncate"

# --- stats, then SIGTERM ---
"$UFS_BIN" stats --json "$mnt" | python3 -c 'import json,sys
d = json.load(sys.stdin)
assert d["mountpoint"] and d["memory"]["limit"] > 0
states = {b["mount"]: b["state"] for b in d["backends"]}
assert states["/local"] == "up" and states["/dead"] == "down", states' ||
	fail "stats --json"
pid=$(pgrep -f "unifs mount $cfg $mnt" | head -1)
[[ -n $pid ]] || fail "daemon pid not found"
# the daemon's control socket: its fd inodes matched in /proc/net/unix
inodes=$(find /proc/"$pid"/fd -lname 'socket:*' -printf '%l\n' | tr -dc '0-9\n')
sock=$(awk -v want="$(echo $inodes)" 'BEGIN { n = split(want, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
	$7 in w && $8 ~ /^\/run\/unifs\// { print $8 }' /proc/net/unix | head -1)
[[ -S $sock ]] || fail "control socket of the daemon not found"
kill -TERM "$pid"
for ((i = 0; i < 50; i++)); do
	ufs_is_mounted "$mnt" || break
	sleep 0.1
done
ufs_is_mounted "$mnt" && fail "still mounted after SIGTERM"
[[ -e $sock ]] && fail "control socket $sock left after SIGTERM"
ufs_pass
