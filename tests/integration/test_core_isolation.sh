#!/usr/bin/env bash
# tests/integration/test_core_isolation.sh — a dead backend must not stall
# the namespace: with the NFS server hung (SIGSTOP) or killed, the root and
# the local subtree answer at once (also while an NFS call is hanging), the
# NFS subtree fails within a bounded time (op_timeout=5), and it recovers
# without a remount once the server is back. A config whose NFS server is down at mount time
# still mounts, says which subtree failed, and serves the rest.
#
# ganesha is shared with other tests: it is restarted (and serving) before
# this test exits, whatever happens.
source "$(dirname "$0")/lib.sh"
ufs_begin core_isolation

local_dir=$UFS_WORK/local
mkdir -p "$local_dir/sub"
head -c 2000000 /dev/urandom >"$local_dir/blob"
nfs_name=$(ufs_uniq iso)
nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
mkdir -p "$nfs_dir/colddir"
on_exit "rm -rf '$nfs_dir'"
echo "warm" >"$nfs_dir/warm.txt"
head -c 3000000 /dev/urandom >"$nfs_dir/cold1"
head -c 3000000 /dev/urandom >"$nfs_dir/cold2"
head -c 3000000 /dev/urandom >"$nfs_dir/cold3"
head -c 3000000 /dev/urandom >"$nfs_dir/hung1"
head -c 3000000 /dev/urandom >"$nfs_dir/hung2"
echo "in colddir" >"$nfs_dir/colddir/x"

cfg=$UFS_WORK/iso.conf
ufs_config "$cfg" <<EOF
[mount "/local"]
url = file://$local_dir

[mount "/data/nfs"]
url = $UFS_NFS_URL/$nfs_name
EOF

# expect_error_within SECS WHAT CMD...: CMD must fail, within SECS, and not
# with ENOENT (a dead server is not a missing file). stderr: $UFS_WORK/err.
expect_error_within()
{
	local secs=$1 what=$2 rc start=$SECONDS
	shift 2
	timeout -k 5 "$secs" "$@" >/dev/null 2>"$UFS_WORK/err"
	rc=$?
	((rc == 124 || rc == 137)) && fail "$what: still hanging after ${secs}s"
	((rc == 0)) && fail "$what: succeeded with the server dead"
	grep -q "No such file" "$UFS_WORK/err" && fail "$what: reported as ENOENT: $(cat "$UFS_WORK/err")"
	echo "$what: failed after $((SECONDS - start)) s: $(cat "$UFS_WORK/err")" >&2
}

mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt" -o op_timeout=5
assert_eq "warm" "$(cat "$mnt/data/nfs/warm.txt")" "nfs subtree before the kill"

# wait_nfs_back MNT FILE: poll (up to ~30 s) until FILE reads through MNT
wait_nfs_back()
{
	local i
	for ((i = 0; i < 60; i++)); do
		timeout 10 cat "$1/data/nfs/$2" >"$UFS_WORK/back" 2>/dev/null && return 0
		sleep 0.5
	done
	fail "the NFS subtree of $1 did not recover within ~30 s of the server's return"
}

# --- a hung server (SIGSTOP): calls must time out, the rest must not wait ---
on_exit "'$UFS_SERVERS/nfs.sh' start"
gpid=$(cat "$UFS_TEST_DIR/nfs/ganesha.pid") || fail "no ganesha pid file"
on_exit "kill -CONT $gpid"
kill -STOP "$gpid"
cat "$mnt/data/nfs/hung1" >/dev/null 2>&1 &
hang=$!
sleep 0.5
within 2 ls -l "$mnt/local/sub" >/dev/null || fail "local subtree stalled behind a hung NFS call"
within 2 cat "$mnt/local/blob" >/dev/null || fail "local read stalled behind a hung NFS call"
within 2 ls "$mnt" >/dev/null || fail "root stalled behind a hung NFS call"
expect_error_within 15 "read with the NFS server hung" cat "$mnt/data/nfs/hung2"
for ((i = 0; i < 150; i++)); do
	kill -0 "$hang" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$hang" 2>/dev/null && fail "the first hung NFS read still hangs after 15 s"
wait "$hang" && fail "the first hung NFS read succeeded with the server stopped"
kill -CONT "$gpid"
wait_nfs_back "$mnt" hung1
assert_file_eq "$nfs_dir/hung1" "$UFS_WORK/back"

# --- a dead server (SIGKILL); it comes back at exit in any case -------------
"$UFS_SERVERS/nfs.sh" kill || fail "cannot kill ganesha"
"$UFS_SERVERS/nfs.sh" status >/dev/null 2>&1 && fail "ganesha still serving after kill"

# the rest of the namespace answers at once
within 2 ls "$mnt" >/dev/null || fail "ls of the root with NFS down"
within 2 ls -l "$mnt/local" >/dev/null || fail "ls -l of the local subtree with NFS down"
within 2 cat "$mnt/local/blob" >"$UFS_WORK/blob" || fail "read of the local subtree with NFS down"
assert_file_eq "$local_dir/blob" "$UFS_WORK/blob"

# the NFS subtree fails, within a bounded time, with an error (not ENOENT)
expect_error_within 15 "read of a cold NFS file" cat "$mnt/data/nfs/cold1"
expect_error_within 15 "ls of a cold NFS dir" ls "$mnt/data/nfs/colddir"

expect_error_within 15 "second read of a cold NFS file" cat "$mnt/data/nfs/cold2"

# a config whose NFS server is down at mount time: mounts, names the subtree
mnt2=$UFS_WORK/mnt2
mkdir -p "$mnt2"
within 60 "$UFS_BIN" mount -o op_timeout=5 "$cfg" "$mnt2" 2>"$UFS_WORK/mount2.err" ||
	fail "mount with the NFS server down failed: $(cat "$UFS_WORK/mount2.err")"
on_exit "ufs_umount '$mnt2'"
grep -q "/data/nfs" "$UFS_WORK/mount2.err" ||
	fail "mount with NFS down did not name the failed subtree: '$(cat "$UFS_WORK/mount2.err")'"
ufs_is_mounted "$mnt2" || fail "$mnt2 not mounted"
within 2 cat "$mnt2/local/blob" >"$UFS_WORK/blob2" || fail "local subtree of the second mount"
assert_file_eq "$local_dir/blob" "$UFS_WORK/blob2"
expect_error_within 15 "NFS read on the mount made while NFS was down" cat "$mnt2/data/nfs/warm.txt"

# the server returns: both mounts recover without a remount
"$UFS_SERVERS/nfs.sh" start >&2 || fail "cannot restart ganesha"
wait_nfs_back "$mnt" cold3
assert_file_eq "$nfs_dir/cold3" "$UFS_WORK/back"
within 15 cat "$mnt/data/nfs/colddir/x" >"$UFS_WORK/x" || fail "colddir after recovery"
assert_eq "in colddir" "$(cat "$UFS_WORK/x")" "colddir/x after recovery"
wait_nfs_back "$mnt2" warm.txt
assert_eq "warm" "$(cat "$UFS_WORK/back")" "warm.txt via the mount made while NFS was down"

ufs_pass
