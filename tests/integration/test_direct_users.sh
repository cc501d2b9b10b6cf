#!/usr/bin/env bash
# tests/integration/test_direct_users.sh — who may use the direct path of a
# root `allow_other` mount: two unprivileged users (created here when
# absent) read and write through libunifs exactly as open(2) allowed them,
# on file:// and nfs://. A read needs an fd opened for reading (a handle
# from an O_WRONLY fd or an O_RDONLY|O_TRUNC one gets EBADF for what its
# fd may not do), an open the kernel refuses gives no handle at all, and a
# direct write runs as its opener: a write by another user clears the
# setuid bit as write(2) by that user does (root's would keep it). The
# control socket gives every user the stats, and its owner alone the log
# level.
#
# The checks are one table (CASES): NAME | USER | FILE MODE OP | EXPECT,
# run through `direct_probe io` on each subtree; USER is a, b or root.
source "$(dirname "$0")/lib.sh"
ufs_begin direct_users

probe=${UFS_BUILD:-$UFS_SRC/build}/direct_probe
[[ -x $probe ]] || fail "direct_probe not built: $probe"
uid_a=$(ufs_user ufs-direct-a)
uid_b=$(ufs_user ufs-direct-b)
[[ $uid_a != 0 && $uid_b != 0 && $uid_a != "$uid_b" ]] || fail "bad test users: $uid_a $uid_b"
ufs_mount_users directusers

# as WHO CMD...: run CMD as a, b (the test users) or root.
as()
{
	local who=$1
	shift
	case $who in
	a | b) as_user "ufs-direct-$who" "$@" ;;
	*) "$@" ;;
	esac
}

# Files, made on the backing directory (owner and mode exactly as given):
#   mine  a's, 0600        pub  root's, 0644      drop  root's, 0622
#   (others may write, not read: the finding's proof of concept)
#   su    a's, 4777: written by b below
prepare()
{
	local dir=$1
	printf 'secret of a\n' >"$dir/mine" && chown ufs-direct-a: "$dir/mine" && chmod 600 "$dir/mine"
	printf 'public\n' >"$dir/pub" && chmod 644 "$dir/pub"
	printf 'root only\n' >"$dir/drop" && chmod 622 "$dir/drop"
	printf 'x\n' >"$dir/trunc" && chown ufs-direct-a: "$dir/trunc" && chmod 600 "$dir/trunc"
	printf 'suid\n' >"$dir/su" && chown ufs-direct-a: "$dir/su" && chmod 4777 "$dir/su"
}

CASES=$(
	cat <<'EOF'
owner reads             | a    | mine r read    | OK
owner writes            | a    | mine w write   | OK
owner reads rw          | a    | mine rw read   | OK
owner writes rw         | a    | mine rw write  | OK
read via write-only fd  | a    | mine w read    | EBADF
write via read-only fd  | a    | mine r write   | EBADF
write via O_TRUNC ro fd | a    | trunc rt write | EBADF
other cannot open       | b    | mine r read    | EACCES
other reads public      | b    | pub r read     | OK
other writes public     | b    | pub w write    | EACCES
write-only file written | b    | drop w write   | OK
write-only file read    | b    | drop w read    | EBADF
write-only file rw      | b    | drop rw read   | EACCES
root via write-only fd  | root | drop w read    | EBADF
other writes setuid     | b    | su w write     | OK
EOF
)

failed=0
total=0
for sub in local nfs; do
	case $sub in
	local) back=$local_dir ;;
	nfs) back=$nfs_dir ;;
	esac
	prepare "$back" || fail "cannot prepare $back"
	while IFS='|' read -r name who args expect; do
		[[ -z $name ]] && continue
		name=$(xargs <<<"$name")
		who=$(xargs <<<"$who")
		expect=$(xargs <<<"$expect")
		read -r file mode op <<<"$args"
		got=$(as "$who" timeout 60 "$probe" io "$mnt/$sub/$file" "$mode" "$op" 2>&1)
		total=$((total + 1))
		if [[ $got != "$expect" ]]; then
			echo "  case '$name' ($who) on $sub: want $expect, got '$got'"
			failed=$((failed + 1))
		fi
	done <<<"$CASES"
	# The direct write by b ran as b: the kernel cleared the setuid bit, as
	# for write(2) by b (a write as root keeps it).
	mode=$(stat -c %a "$back/su")
	total=$((total + 1))
	if [[ $mode != 777 ]]; then
		echo "  direct write by another user on $sub left mode $mode (want 777: written as root?)"
		failed=$((failed + 1))
	fi
	# What a's handle of "mine" wrote is a's zero byte at offset 0.
	cmp -s <(printf '\0ecret of a\n') "$back/mine" || fail "$sub/mine is not what a's handles wrote"
done

# The control socket of an allow_other mount: stats for every user, the
# log level for its owner only.
out=$(as b "$UFS_BIN" stats --json "$mnt" 2>&1) || fail "unifs stats as another user: $out"
python3 -c 'import json,sys; assert json.loads(sys.argv[1])["direct"]["sessions"] > 0' "$out" ||
	fail "unifs stats as another user: $out"
out=$(as b "$UFS_BIN" ctl "$mnt" log=debug 2>&1) && fail "another user changed the log level: $out"
[[ $out == *"only the owner"* ]] || fail "unifs ctl log as another user: $out"
"$UFS_BIN" ctl "$mnt" log=info >/dev/null || fail "unifs ctl log as root"

# The Python binding as another user: what b may read, and not what it may not.
ufs_direct_python
out=$(as b "$py" -c '
import sys, unifs
d = unifs.Direct(sys.argv[1])
buf = bytearray(7)
n = d.read_into(sys.argv[1] + "/local/pub", buf)
print(bytes(buf[:n]).decode().strip())
try:
    d.read_into(sys.argv[1] + "/local/mine", buf)
    print("read mine")
except PermissionError:
    print("EACCES")' "$mnt" 2>&1)
assert_eq "$(printf 'public\nEACCES')" "$out" "the Python binding as another user"

((failed == 0)) || fail "$failed of $total cases failed (see above)"
echo "all $total cases passed"
ufs_pass
