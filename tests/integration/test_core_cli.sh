#!/usr/bin/env bash
# tests/integration/test_core_cli.sh — the unifs command line against real
# servers: mount/umount, every way a mount must fail (one line on stderr,
# non-zero, nothing left mounted), -o overrides, mount.unifs called the way
# mount(8) calls it, ls/stat/cat without mounting (file://, nfs://, -c
# CONFIG), SIGTERM to the daemon, and unifs stats.
source "$(dirname "$0")/lib.sh"
ufs_begin core_cli

MOUNT_HELPER=${UFS_MOUNT_HELPER:-$(dirname "$UFS_BIN")/mount.unifs}
[[ -x $MOUNT_HELPER ]] || fail "mount.unifs not found: $MOUNT_HELPER"

# --- fixtures: a local tree and a directory inside the NFS export ---------
local_dir=$UFS_WORK/local
mkdir -p "$local_dir/sub"
head -c 3000000 /dev/urandom >"$local_dir/blob"
echo "hello local" >"$local_dir/sub/hello.txt"

nfs_name=$(ufs_uniq cli)
nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
mkdir -p "$nfs_dir/d"
on_exit "rm -rf '$nfs_dir'"
head -c 5000000 /dev/urandom >"$nfs_dir/d/data.bin"
echo "hello nfs" >"$nfs_dir/d/hello.txt"

cfg=$UFS_WORK/ok.conf
ufs_config "$cfg" <<EOF
[global]
log = info

[mount "/local"]
url = file://$local_dir

[mount "/data/nfs"]
url = $UFS_NFS_URL/$nfs_name
EOF

mnt=$UFS_WORK/mnt
mkdir -p "$mnt"

# expect_fail_one_line WHAT PATTERN CMD...: CMD exits non-zero, prints
# exactly one line on stderr, matching the extended regex PATTERN.
expect_fail_one_line()
{
	local what=$1 pattern=$2 rc
	shift 2
	within 60 "$@" >"$UFS_WORK/out" 2>"$UFS_WORK/err"
	rc=$?
	((rc != 0)) || fail "$what: succeeded, expected a failure"
	[[ $(wc -l <"$UFS_WORK/err") -eq 1 ]] ||
		fail "$what: expected one line on stderr, got: $(cat "$UFS_WORK/err")"
	grep -Eq -- "$pattern" "$UFS_WORK/err" ||
		fail "$what: stderr '$(cat "$UFS_WORK/err")' does not match /$pattern/"
	return 0
}

# daemon_pid MNT: pid of the unifs daemon serving MNT (its argv names MNT).
daemon_pid()
{
	local pid
	for pid in $(pgrep -f -- "$1"); do
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq '(^|/)(unifs|mount\.unifs) ' &&
			echo "$pid" && return 0
	done
	return 1
}

assert_not_mounted()
{
	ufs_is_mounted "$1" && fail "$2: $1 is mounted"
	return 0
}

# --- usage -----------------------------------------------------------------
# (no pipe into grep -q: quitting at the first match would SIGPIPE the writer)
grep -q "unifs mount" <<<"$("$UFS_BIN" --help)" || fail "unifs --help lists no mount command"
"$UFS_BIN" --version | grep -Eq '^unifs [0-9]' || fail "unifs --version"
grep -q "usage: unifs mount" <<<"$("$UFS_BIN" mount --help)" || fail "unifs mount --help"
"$UFS_BIN" frobnicate 2>/dev/null
assert_eq 2 $? "exit status of an unknown command"
"$UFS_BIN" mount "$cfg" 2>/dev/null
assert_eq 2 $? "exit status of mount without a mount point"

# --- mount / umount ----------------------------------------------------------
within 60 "$UFS_BIN" mount "$cfg" "$mnt" || fail "unifs mount $cfg $mnt"
on_exit "ufs_umount '$mnt'"
ufs_is_mounted "$mnt" || fail "$mnt is not a FUSE mount after unifs mount returned 0"
assert_eq "data local" "$(ls "$mnt" | tr '\n' ' ' | sed 's/ $//')" "ls of the root"
assert_file_eq "$local_dir/blob" "$mnt/local/blob"
assert_file_eq "$nfs_dir/d/data.bin" "$mnt/data/nfs/d/data.bin"

# stats: text and JSON, with the reads above counted
"$UFS_BIN" stats "$mnt" >"$UFS_WORK/stats.txt" || fail "unifs stats"
grep -q "/data/nfs" "$UFS_WORK/stats.txt" || fail "unifs stats does not name /data/nfs"
grep -q "/local" "$UFS_WORK/stats.txt" || fail "unifs stats does not name /local"
"$UFS_BIN" stats --json "$mnt" >"$UFS_WORK/stats.json" || fail "unifs stats --json"
jq -e '.backends | length == 2' "$UFS_WORK/stats.json" >/dev/null ||
	fail "unifs stats --json: not 2 backends: $(head -c 300 "$UFS_WORK/stats.json")"
nfs_bytes=$(jq '[.backends[] | select(.mount == "/data/nfs") | .bytes_in] | add' "$UFS_WORK/stats.json")
((nfs_bytes >= 5000000)) || fail "unifs stats: nfs bytes_in $nfs_bytes < the 5 MB read"
read_bytes=$(jq '.daemon.read_bytes' "$UFS_WORK/stats.json")
((read_bytes >= 5000000)) || fail "unifs stats: daemon read_bytes $read_bytes < the 5 MB read"
jq -e '.daemon.cpu_user_s + .daemon.cpu_sys_s > 0 and .daemon.cpu_s_per_gib > 0' \
	"$UFS_WORK/stats.json" >/dev/null || fail "unifs stats --json: no daemon CPU seconds"
grep -q "cpu s/GiB" "$UFS_WORK/stats.txt" || fail "unifs stats does not show cpu s/GiB"

# already mounted
expect_fail_one_line "mount on a mounted dir" "already mounted" "$UFS_BIN" mount "$cfg" "$mnt"

within 30 "$UFS_BIN" umount "$mnt" || fail "unifs umount $mnt"
assert_not_mounted "$mnt" "after unifs umount"
expect_fail_one_line "umount of a plain dir" "not a unifs mount" "$UFS_BIN" umount "$mnt"
expect_fail_one_line "stats of a plain dir" "not a unifs mount" "$UFS_BIN" stats "$mnt"

# --- mounts that must fail ---------------------------------------------------
expect_fail_one_line "missing mount point" "$UFS_WORK/nope: no such directory" \
	"$UFS_BIN" mount "$cfg" "$UFS_WORK/nope"

bad=$UFS_WORK/bad.conf
ufs_config "$bad" <<EOF
[global]
memory = 1G

[mount "/x"]
url = file://$local_dir
[bogus section]
key = value
EOF
expect_fail_one_line "bad section" "bad.conf:[67]: .*section" "$UFS_BIN" mount "$bad" "$mnt"

ufs_config "$bad" <<EOF
[mount "/x"]
url = file://$local_dir

[mount "/y"]
readonly = true
EOF
expect_fail_one_line "missing url" "bad.conf:4: .*no url" "$UFS_BIN" mount "$bad" "$mnt"

ufs_config "$bad" <<EOF
[mount "/x"]
url = file://$local_dir
colour = blue
EOF
expect_fail_one_line "unknown key" "bad.conf:3: unknown key 'colour'" "$UFS_BIN" mount "$bad" "$mnt"

expect_fail_one_line "unknown scheme" "unknown URL scheme 'ftp'" \
	"$UFS_BIN" mount "ftp://127.0.0.1/x" "$mnt"

ufs_config "$bad" <<EOF
[mount "/gone"]
url = nfs://127.0.0.1$UFS_NFS_EXPORT_DIR-does-not-exist
EOF
expect_fail_one_line "nonexistent NFS export" "/gone" "$UFS_BIN" mount "$bad" "$mnt"

ufs_config "$bad" <<EOF
[mount "/s3"]
url = s3://some-bucket/
endpoint = $UFS_S3_ENDPOINT
access_key_id = AKIDEXAMPLE
secret_access_key = not-for-everyone
EOF
chmod 644 "$bad"
expect_fail_one_line "secret readable by others" "readable by group/other" \
	"$UFS_BIN" mount "$bad" "$mnt"
grep -q "not-for-everyone" "$UFS_WORK/err" && fail "the secret was printed"

expect_fail_one_line "-o bogus=1" "bogus" "$UFS_BIN" mount -o bogus=1 "$cfg" "$mnt"
assert_not_mounted "$mnt" "after the failed mounts"

# --- -o overrides --------------------------------------------------------------
within 60 "$UFS_BIN" mount -o memory=1G,log=debug "$cfg" "$mnt" || fail "mount -o memory=1G"
limit=$("$UFS_BIN" stats --json "$mnt" | jq '.memory.limit')
assert_eq $((1 << 30)) "$limit" "memory limit with -o memory=1G"

# SIGTERM to the daemon unmounts cleanly
pid=$(daemon_pid "$mnt") || fail "no daemon process for $mnt"
kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do
	ufs_is_mounted "$mnt" || break
	sleep 0.1
done
assert_not_mounted "$mnt" "10 s after SIGTERM to the daemon"
grep -q " $mnt " /proc/mounts && fail "$mnt still in /proc/mounts after SIGTERM"
for ((i = 0; i < 50; i++)); do
	[[ -d /proc/$pid ]] || break
	sleep 0.1
done
[[ -d /proc/$pid ]] && fail "daemon $pid still running 5 s after SIGTERM"

# --- mount.unifs, the way mount(8) calls it ------------------------------------
within 60 "$MOUNT_HELPER" "$cfg" "$mnt" -o ro,allow_other,_netdev,defaults ||
	fail "mount.unifs $cfg $mnt -o ro,allow_other,_netdev,defaults"
ufs_is_mounted "$mnt" || fail "mount.unifs returned 0 but $mnt is not mounted"
grep " $mnt " /proc/mounts | grep -q allow_other || fail "allow_other not passed to the kernel"
out=$(touch "$mnt/local/newfile" 2>&1) && fail "write on a ro mount succeeded"
[[ $out == *"Read-only file system"* ]] || fail "write on ro mount: expected EROFS, got: $out"
out=$(mkdir "$mnt/data/nfs/newdir" 2>&1) && fail "mkdir on a ro mount succeeded"
[[ $out == *"Read-only file system"* ]] || fail "mkdir on ro mount: expected EROFS, got: $out"
assert_file_eq "$nfs_dir/d/hello.txt" "$mnt/data/nfs/d/hello.txt"
within 30 "$UFS_BIN" umount "$mnt" || fail "umount after mount.unifs"
assert_not_mounted "$mnt" "after umount of the mount.unifs mount"
"$MOUNT_HELPER" "$cfg" "$mnt" -o bogus=1 2>/dev/null && fail "mount.unifs -o bogus=1 succeeded"
assert_not_mounted "$mnt" "after mount.unifs -o bogus=1"

# --- ls / stat / cat without mounting --------------------------------------------
# file:// URL
"$UFS_BIN" ls -1 "file://$local_dir" >"$UFS_WORK/ls" || fail "unifs ls file://"
assert_eq "blob sub" "$(tr '\n' ' ' <"$UFS_WORK/ls" | sed 's/ $//')" "unifs ls -1 file://"
"$UFS_BIN" ls "file://$local_dir" | grep -Eq '^-rw.* 3000000 .* blob$' ||
	fail "unifs ls file:// long format: $("$UFS_BIN" ls "file://$local_dir")"
"$UFS_BIN" stat "file://$local_dir/blob" | grep -Eq '^Size: +3000000$' || fail "unifs stat file://"
"$UFS_BIN" stat "file://$local_dir/sub" | grep -q "directory" || fail "unifs stat of a dir"
"$UFS_BIN" cat "file://$local_dir/blob" >"$UFS_WORK/cat" || fail "unifs cat file://"
assert_file_eq "$local_dir/blob" "$UFS_WORK/cat"
expect_fail_one_line "ls of a missing file" "unifs: ls: file://$local_dir/missing: No such file or directory" \
	"$UFS_BIN" ls "file://$local_dir/missing"

# nfs:// URL: the export itself, a directory and a file inside it
"$UFS_BIN" ls -1 "$UFS_NFS_URL" | grep -qx "$nfs_name" || fail "unifs ls of the export"
"$UFS_BIN" ls -1 "$UFS_NFS_URL/$nfs_name/d" >"$UFS_WORK/ls" || fail "unifs ls nfs:// dir"
assert_eq "data.bin hello.txt" "$(tr '\n' ' ' <"$UFS_WORK/ls" | sed 's/ $//')" "unifs ls -1 nfs://"
"$UFS_BIN" stat "$UFS_NFS_URL/$nfs_name/d/data.bin" | grep -Eq '^Size: +5000000$' ||
	fail "unifs stat nfs://"
"$UFS_BIN" cat "$UFS_NFS_URL/$nfs_name/d/data.bin" >"$UFS_WORK/cat" || fail "unifs cat nfs://"
assert_file_eq "$nfs_dir/d/data.bin" "$UFS_WORK/cat"
expect_fail_one_line "cat of a missing nfs file" "No such file or directory" \
	"$UFS_BIN" cat "$UFS_NFS_URL/$nfs_name/d/missing"

# -c CONFIG /path in the namespace
assert_eq "data local" "$("$UFS_BIN" ls -1 -c "$cfg" / | tr '\n' ' ' | sed 's/ $//')" "unifs ls -c CONFIG /"
assert_eq "nfs" "$("$UFS_BIN" ls -1 -c "$cfg" /data)" "unifs ls -c CONFIG /data"
"$UFS_BIN" ls -1 -c "$cfg" /data/nfs/d | grep -qx "hello.txt" || fail "unifs ls -c CONFIG /data/nfs/d"
"$UFS_BIN" stat -c "$cfg" /data/nfs/d/data.bin | grep -Eq '^Size: +5000000$' ||
	fail "unifs stat -c CONFIG"
"$UFS_BIN" cat -c "$cfg" /data/nfs/d/data.bin >"$UFS_WORK/cat" || fail "unifs cat -c CONFIG"
assert_file_eq "$nfs_dir/d/data.bin" "$UFS_WORK/cat"
assert_eq "hello local" "$("$UFS_BIN" cat -c "$cfg" /local/sub/hello.txt)" "unifs cat -c CONFIG /local"
expect_fail_one_line "ls outside the namespace" "No such file or directory" \
	"$UFS_BIN" ls -c "$cfg" /elsewhere
expect_fail_one_line "cat of a directory" "Is a directory" "$UFS_BIN" cat -c "$cfg" /data

ufs_pass
