#!/usr/bin/env bash
# tests/integration/test_direct_usermount.sh — a user's own mount: user a
# (unprivileged) mounts a file:// directory it owns with `unifs mount`
# (fusermount3; /dev/fuse 0666 as on stock Debian: made so for the test and
# put back after). Then, with XDG_RUNTIME_DIR unset and set elsewhere:
#   - a's `unifs stats` and `unifs ctl` work, and so do a's direct reads
#     (direct_probe and the Python binding), and a direct write;
#   - another user b gets a one-line error from `unifs stats`/`unifs ctl`
#     naming the owner, and no direct path (EACCES, no hang);
#   - the sockets are a's alone: /tmp/unifs-<uid> (no /run/user/<uid>) or,
#     once /run/user/<uid> is a's directory, /run/user/<uid>/unifs, both
#     0700 with sockets 0600; a mount made before /run/user/<uid> appeared
#     is still found;
#   - a planted /tmp/unifs-<uid> (b's directory, or a symlink to a directory
#     of a's) is refused: `unifs mount` warns why, and stats do not work.
source "$(dirname "$0")/lib.sh"
ufs_begin direct_usermount

probe=${UFS_BUILD:-$UFS_SRC/build}/direct_probe
[[ -x $probe ]] || fail "direct_probe not built: $probe"
command -v setpriv >/dev/null || fail "setpriv (util-linux) not installed"
fm=$(command -v fusermount3) || ufs_skip "fusermount3 not installed"
[[ -u $fm ]] || ufs_skip "fusermount3 is not setuid root: users cannot mount here"
uid_a=$(ufs_user ufs-direct-a)
uid_b=$(ufs_user ufs-direct-b)
[[ $uid_a != 0 && $uid_b != 0 && $uid_a != "$uid_b" ]] || fail "bad test users: $uid_a $uid_b"

# /dev/fuse 0666, as Debian's udev rule makes it (libfuse opens it as the
# user before it falls back to fusermount3).
fuse_mode=$(stat -c %a /dev/fuse)
if [[ $fuse_mode != 666 ]]; then
	chmod 666 /dev/fuse || ufs_skip "cannot make /dev/fuse 0666"
	on_exit "chmod $fuse_mode /dev/fuse"
fi
run_a=/run/user/$uid_a
tmp_a=/tmp/unifs-$uid_a
[[ -e $run_a ]] && ufs_skip "$run_a exists (a session of ufs-direct-a?)"
on_exit "rm -rf '$run_a'"
rm -rf "$tmp_a"
on_exit "rm -rf '$tmp_a'"

chmod 755 "$UFS_WORK"
home=$UFS_WORK/a
mkdir -p "$home/back" "$home/mnt"
printf 'data of a\n' >"$home/back/f"
head -c 3000000 /dev/urandom >"$home/back/big"
cat >"$home/a.conf" <<EOF
[mount "/"]
url = file://$home/back
EOF
chown -R ufs-direct-a: "$home"
chmod 600 "$home/a.conf"
chmod 755 "$home"
mnt=$home/mnt

a() { as_user ufs-direct-a "$@"; }
b() { as_user ufs-direct-b "$@"; }

# mount_a [ENV...]: mount as a (stderr of `unifs mount` in $UFS_WORK/mount.err).
mount_a()
{
	a env "$@" timeout 60 "$UFS_BIN" mount "$home/a.conf" "$mnt" 2>"$UFS_WORK/mount.err" ||
		fail "unifs mount as a: $(cat "$UFS_WORK/mount.err")"
	on_exit "ufs_umount '$mnt'"
	ufs_is_mounted "$mnt" || fail "$mnt is not mounted after unifs mount as a"
}

umount_a()
{
	out=$(a timeout 30 "$UFS_BIN" umount "$mnt" 2>&1) || fail "unifs umount as a: $out"
}

# socket_dir_is DIR: a's sockets are there, the directory 0700, the
# sockets 0600, all a's.
socket_dir_is()
{
	local d=$1 s
	[[ -d $d && ! -L $d ]] || fail "no socket directory $d"
	assert_eq "700 $uid_a" "$(stat -c '%a %u' "$d")" "mode and owner of $d"
	for s in "$d"/*.sock "$d"/*.direct; do
		[[ -S $s ]] || fail "no socket $s"
		assert_eq "600 $uid_a" "$(stat -c '%a %u' "$s")" "mode and owner of $s"
	done
}

# check_owner_works WHO-ENV...: stats, ctl and direct reads as a, with the
# environment given.
check_owner_works()
{
	local out
	out=$(a env "$@" "$UFS_BIN" stats --json "$mnt" 2>&1) || fail "unifs stats as a ($*): $out"
	python3 -c 'import json,sys; assert json.loads(sys.argv[1])["mountpoint"] == sys.argv[2]' \
		"$out" "$mnt" || fail "unifs stats as a ($*): $out"
	out=$(a env "$@" "$UFS_BIN" ctl "$mnt" log=info 2>&1) || fail "unifs ctl as a ($*): $out"
	out=$(a env "$@" timeout 60 "$probe" io "$mnt/f" r read 2>&1)
	assert_eq OK "$out" "direct read as a ($*)"
	a env "$@" timeout 60 "$probe" read "$mnt/big" "$home/big.out" >/dev/null ||
		fail "direct_probe read as a ($*)"
	cmp -s "$home/back/big" "$home/big.out" || fail "direct read as a ($*): bytes differ"
	rm -f "$home/big.out"
	out=$(a env "$@" "$py" -c '
import sys, unifs
d = unifs.Direct(sys.argv[1])
buf = bytearray(64)
n = d.read_into(sys.argv[1] + "/f", buf)
d.write_from(sys.argv[1] + "/w", b"written by a\n")
print(bytes(buf[:n]).decode().strip())' "$mnt" 2>&1)
	assert_eq "data of a" "$out" "the Python binding as a ($*)"
	assert_eq "written by a" "$(cat "$home/back/w")" "what a wrote through the Python binding"
}

# check_other_refused: b gets a clear one-line error and no direct path.
check_other_refused()
{
	local out
	out=$(b "$UFS_BIN" stats "$mnt" 2>&1) && fail "unifs stats as b on a's mount: $out"
	[[ $out == *"mount of uid $uid_a: only its owner"* && $(wc -l <<<"$out") == 1 ]] ||
		fail "unifs stats as b on a's mount: '$out'"
	out=$(b "$UFS_BIN" ctl "$mnt" log=debug 2>&1) && fail "unifs ctl as b on a's mount: $out"
	[[ $out == *"mount of uid $uid_a: only its owner"* ]] || fail "unifs ctl as b: '$out'"
	out=$(b timeout 60 "$probe" io "$mnt/f" r read 2>&1)
	assert_eq EACCES "$out" "direct read as b on a's mount"
	out=$(b "$py" -c '
import sys, unifs
try:
    unifs.Direct(sys.argv[1]).read_into(sys.argv[1] + "/f", bytearray(8))
    print("read")
except PermissionError:
    print("EACCES")' "$mnt" 2>&1)
	assert_eq EACCES "$out" "the Python binding as b on a's mount"
}

ufs_direct_python

# 1. No /run/user/<uid>: /tmp/unifs-<uid>, whatever XDG_RUNTIME_DIR says.
mount_a -u XDG_RUNTIME_DIR
socket_dir_is "$tmp_a"
check_owner_works -u XDG_RUNTIME_DIR
check_owner_works XDG_RUNTIME_DIR="$home"
check_other_refused
"$UFS_BIN" stats "$mnt" >/dev/null || fail "unifs stats as root on a's mount"
# /run/user/<uid> appears (a logs in) after the mount: still found.
install -d -m 700 -o ufs-direct-a -g ufs-direct-a "$run_a"
check_owner_works -u XDG_RUNTIME_DIR
umount_a

# 2. /run/user/<uid> is a's: the sockets go there.
mount_a XDG_RUNTIME_DIR=/nonexistent
socket_dir_is "$run_a/unifs"
check_owner_works -u XDG_RUNTIME_DIR
check_owner_works XDG_RUNTIME_DIR=/tmp
check_other_refused
umount_a
# /run/user/<uid> that is not a's is not used.
rm -rf "$run_a"
install -d -m 755 -o ufs-direct-b -g ufs-direct-b "$run_a"
mount_a
[[ ! -e $run_a/unifs ]] || fail "sockets made in $run_a, which b owns"
socket_dir_is "$tmp_a"
umount_a
rm -rf "$run_a"

# 3. A planted /tmp/unifs-<uid> is refused, in one clear line.
rm -rf "$tmp_a"
install -d -m 700 -o ufs-direct-b -g ufs-direct-b "$tmp_a"
mount_a
grep -q "socket directory $tmp_a: .*(owned by another user)" "$UFS_WORK/mount.err" ||
	fail "b's $tmp_a not refused: $(cat "$UFS_WORK/mount.err")"
[[ -z $(ls -A "$tmp_a") ]] || fail "sockets made in b's $tmp_a"
out=$(a "$UFS_BIN" stats "$mnt" 2>&1) && fail "unifs stats works through b's $tmp_a: $out"
umount_a
rm -rf "$tmp_a"
install -d -m 700 -o ufs-direct-a -g ufs-direct-a "$home/elsewhere"
ln -s "$home/elsewhere" "$tmp_a"
mount_a
grep -q "socket directory $tmp_a: .*symlink" "$UFS_WORK/mount.err" ||
	fail "symlink $tmp_a not refused: $(cat "$UFS_WORK/mount.err")"
[[ -z $(ls -A "$home/elsewhere") ]] || fail "sockets made through the symlink $tmp_a"
umount_a
rm -f "$tmp_a"
install -d -m 777 -o ufs-direct-a -g ufs-direct-a "$tmp_a"
chmod 777 "$tmp_a"
mount_a
grep -q "socket directory $tmp_a: .*(writable by group or others)" "$UFS_WORK/mount.err" ||
	fail "world-writable $tmp_a not refused: $(cat "$UFS_WORK/mount.err")"
umount_a
ufs_pass
