#!/usr/bin/env bash
# tests/integration/test_posix_users.sh — multi-user POSIX semantics on the
# file:// and nfs:// subtrees of an allow_other mount, run as root and as an
# unprivileged user (uid/gid 65534 through setpriv): ownership of everything
# created, setgid directories, setuid cleared after a write by another user,
# chmod/chown EPERM rules, FIFO and socket round trips, device nodes, hard
# links (one inode, shared link count), rename/unlink/rmdir errno cases,
# utimensat (nanoseconds, UTIME_OMIT), and a cached file staying unreadable
# to others while its server is unreachable.
#
# The checks are one table (CASES below): one line per case, run on each
# subtree in a fresh directory $d (mode 1777, like /tmp). A line is
#   NAME | USER | EXPECT | COMMAND
# USER: root or nobody (uid/gid 65534, no supplementary groups), with
# ":local" or ":nfs" appended when the case is for that subtree only.
# EXPECT: ok (exit 0) | fail (non-zero exit) | =TEXT (exit 0 and stdout
# exactly TEXT) | !TEXT (non-zero exit and TEXT in stderr, e.g. an errno
# message). COMMAND runs under bash -c with $d set; it may use the helpers
# exported below (as_nobody, fifo_rt, sock_rt).
source "$(dirname "$0")/lib.sh"
ufs_begin posix_users

ufs_mount_users posixusers

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# fifo_rt P: a write and a read through the FIFO P meet.
fifo_rt()
{
	(echo fifo-ok >"$1") &
	timeout 10 cat "$1"
	wait
}
# sock_rt P: bind a unix socket at P, send one datagram to it, read it back.
sock_rt()
{
	python3 - "$1" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.sendto(b"sock-ok", sys.argv[1])
print(s.recv(16).decode())
PY
}
export -f as_nobody fifo_rt sock_rt

CASES=$(
	cat <<'EOF'
create file owner       | nobody | =65534:65534 | touch $d/f && stat -c %u:%g $d/f
create dir owner        | nobody | =65534:65534 | mkdir $d/dn && stat -c %u:%g $d/dn
create symlink owner    | nobody | =65534       | ln -s target $d/ln && stat -c %u $d/ln
create by root          | root   | =0:0         | touch $d/fr && stat -c %u:%g $d/fr
write then size         | nobody | =6           | echo hello >$d/w && stat -c %s $d/w
mkfifo owner and type   | nobody | =fifo:65534  | mkfifo $d/p && stat -c %F:%u $d/p
fifo round trip         | nobody | =fifo-ok     | mkfifo $d/p2 && fifo_rt $d/p2
socket round trip       | nobody | =sock-ok     | sock_rt $d/s
socket type             | nobody | =socket      | stat -c %F $d/s
char device by root     | root   | =character special file:1,3 | mknod $d/null c 1 3 && stat -c '%F:%t,%T' $d/null
mknod device refused    | nobody | fail         | mknod $d/null2 c 1 3
setgid dir: prepare     | root   | ok           | mkdir $d/sg && chown 0:4242 $d/sg && chmod 2777 $d/sg
setgid dir: file group  | nobody | =4242        | touch $d/sg/x && stat -c %g $d/sg/x
setgid dir: subdir      | nobody | =4242:2      | mkdir $d/sg/sub && stat -c %g:%a $d/sg/sub | cut -c1-6
setuid: prepare         | root   | ok           | echo a >$d/su && chmod 4777 $d/su
setuid: write by other  | nobody | ok           | echo b >>$d/su
setuid: cleared         | root   | =777         | stat -c %a $d/su
chmod by non-owner      | nobody | !Operation not permitted | chmod 777 $d/fr
chown by non-root       | nobody | !Operation not permitted | chown 0 $d/f
chgrp to foreign group  | nobody | !Operation not permitted | chgrp 0 $d/f
chmod by owner          | nobody | =600         | chmod 600 $d/f && stat -c %a $d/f
read 0600 of another    | root   | !Permission denied | echo s >$d/sec && chmod 600 $d/sec && as_nobody cat $d/sec
unlink in sticky dir    | nobody | !Operation not permitted | rm -f $d/fr
hard link same inode    | nobody | ok           | echo h >$d/h1 && ln $d/h1 $d/h2 && test "$(stat -c %i $d/h1)" = "$(stat -c %i $d/h2)"
hard link count         | nobody | =2:2         | stat -c %h $d/h1 | tr -d '\n'; echo -n :; stat -c %h $d/h2
hard link after unlink  | nobody | =1           | rm $d/h2 && stat -c %h $d/h1
rename keeps inode      | nobody | ok           | i=$(stat -c %i $d/h1) && mv $d/h1 $d/h3 && test "$i" = "$(stat -c %i $d/h3)"
rmdir non-empty         | nobody | !not empty   | mkdir -p $d/ne/x && rmdir $d/ne
dir into own subtree    | nobody | !Invalid argument | mkdir -p $d/a/b && python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' $d/a $d/a/b/c
rename dir over file    | nobody | !Not a directory | mkdir $d/rd && touch $d/rf && python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' $d/rd $d/rf
unlink a directory      | nobody | !Is a directory | mkdir $d/ud && python3 -c 'import os,sys; os.unlink(sys.argv[1])' $d/ud
rmdir a file            | nobody | !Not a directory | touch $d/rmf && rmdir $d/rmf
name too long           | nobody | !File name too long | touch $d/$(printf 'n%.0s' {1..256})
noreplace rename        | nobody | !File exists | touch $d/nr1 $d/nr2 && python3 -c 'import ctypes,os,sys; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),1); e=ctypes.get_errno(); sys.exit(os.strerror(e) if r else 0)' $d/nr1 $d/nr2
rename across subtrees  | nobody:local | !Invalid cross-device link | touch $d/xd && python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' $d/xd ${d%/local/t}/nfs/xd
symlink loop            | nobody | !Too many levels of symbolic links | ln -s lp $d/lp && cat $d/lp
exchange rename         | nobody:local | =ba | echo a >$d/xa1 && echo b >$d/xa2 && python3 -c 'import ctypes,os,sys; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),2); sys.exit(os.strerror(ctypes.get_errno()) if r else 0)' $d/xa1 $d/xa2 && cat $d/xa1 $d/xa2 | tr -d '\n'
exchange refused on nfs | nobody:nfs | !Invalid argument | echo a >$d/xa1 && echo b >$d/xa2 && python3 -c 'import ctypes,os,sys; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),2); sys.exit(os.strerror(ctypes.get_errno()) if r else 0)' $d/xa1 $d/xa2
utimensat nanoseconds   | nobody | =2001-02-03 04:05:06.123456789 | touch $d/t && touch -d '2001-02-03 04:05:06.123456789' $d/t && TZ=UTC0 stat -c %y $d/t | cut -c1-29
utime omit keeps mtime  | nobody | =2001-02-03 04:05:06.123456789 | touch -a $d/t && TZ=UTC0 stat -c %y $d/t | cut -c1-29
ctime moves on chmod    | nobody | ok           | c=$(stat -c %Z.%z $d/t) && sleep 1.1 && chmod 640 $d/t && test "$c" != "$(stat -c %Z.%z $d/t)"
user xattr round trip   | nobody:local | =v:user.k | touch $d/xa && python3 -c 'import os,sys; p=sys.argv[1]; os.setxattr(p,"user.k",b"v"); print(os.getxattr(p,"user.k").decode()+":"+",".join(os.listxattr(p)))' $d/xa
user xattr removed      | nobody:local | !No data available | python3 -c 'import os,sys; p=sys.argv[1]; os.removexattr(p,"user.k"); os.getxattr(p,"user.k")' $d/xa
user xattr of another   | nobody:local | !Permission denied | python3 -c 'import os,sys; os.setxattr(sys.argv[1],"user.k",b"v")' $d/fr
xattr on nfs            | nobody:nfs | !Operation not supported | python3 -c 'import os,sys; os.setxattr(sys.argv[1],"user.k",b"v")' $d/t
fallocate grows         | nobody:local | =1048576 | fallocate -l 1M $d/fa && stat -c %s $d/fa
fallocate punch hole    | nobody:local | =0       | head -c 8192 /dev/urandom >$d/ph && fallocate -p -o 0 -l 4096 $d/ph && head -c 4096 $d/ph | tr -d '\0' | wc -c
fallocate keep size     | nobody:local | =8192    | fallocate -n -o 8192 -l 4096 $d/ph && stat -c %s $d/ph
EOF
)

# run_case SUBTREE LINE: one table line on one subtree.
run_case()
{
	local sub=$1 line=$2 kind=$3 name user expect cmd out err rc
	IFS='|' read -r name user expect cmd <<<"$line"
	name=$(xargs <<<"$name")
	user=$(xargs <<<"$user")
	if [[ $user == *:* ]]; then
		[[ ${user#*:} == "$kind" ]] || return 2
		user=${user%%:*}
	fi
	expect=$(sed 's/^ *//; s/ *$//' <<<"$expect")
	cmd=${cmd# }
	err=$UFS_WORK/err
	if [[ $user == nobody ]]; then
		out=$(d=$sub as_nobody bash -c "$cmd" 2>"$err")
	else
		out=$(d=$sub bash -c "$cmd" 2>"$err")
	fi
	rc=$?
	case $expect in
	ok) ((rc == 0)) && return 0 ;;
	fail) ((rc != 0)) && return 0 ;;
	=*) ((rc == 0)) && [[ $out == "${expect#=}" ]] && return 0 ;;
	!*) ((rc != 0)) && grep -qi -- "${expect#!}" "$err" && return 0 ;;
	esac
	echo "  case '$name' ($user) on ${sub#"$mnt"/}: want $expect, got rc=$rc out='$out' err='$(head -c 300 "$err")'"
	return 1
}

failed=0
total=0
for sub in local nfs; do
	d=$mnt/$sub/t
	mkdir "$d" && chmod 1777 "$d" || fail "cannot make $d"
	while IFS= read -r line; do
		[[ -z $line ]] && continue
		run_case "$d" "$line" "$sub"
		case $? in
		0) total=$((total + 1)) ;;
		1) total=$((total + 1)) failed=$((failed + 1)) ;;
		esac
	done <<<"$CASES"
done

# Backing directories agree on ownership (the daemon did not create as root).
assert_eq "65534:65534" "$(stat -c %u:%g "$local_dir/t/f")" "owner of a file:// create on disk"
assert_eq "65534:65534" "$(stat -c %u:%g "$nfs_dir/t/f")" "owner of an nfs:// create on the export"

((failed == 0)) || fail "$failed of $total cases failed (see above)"
echo "all $total cases passed"
ufs_pass
