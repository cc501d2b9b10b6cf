#!/usr/bin/env bash
# tests/integration/test_core_posix.sh — POSIX behaviour through a real FUSE
# mount of a config with a file:// subtree (/local) and an nfs:// subtree
# (/data/nfs, on the ganesha export), checked with ordinary tools against
# the backing directories (the local dir, the export's directory on disk):
# large writes and reads (cmp), a 5,000-entry directory, rename / unlink /
# mkdir / rmdir / symlink / hard link / chmod / truncate / touch, dd at an
# offset, df, awkward names, ENAMETOOLONG, concurrent readers and writers.
#
# UFS_POSIX_BIG_MB (default 256) sizes the large file.
source "$(dirname "$0")/lib.sh"
ufs_begin core_posix

big_mb=${UFS_POSIX_BIG_MB:-256}
n_entries=5000

local_dir=$UFS_WORK/local
mkdir -p "$local_dir"
nfs_name=$(ufs_uniq posix)
nfs_dir=$UFS_NFS_EXPORT_DIR/$nfs_name
mkdir -p "$nfs_dir"
on_exit "rm -rf '$nfs_dir'"

cfg=$UFS_WORK/posix.conf
ufs_config "$cfg" <<EOF
[mount "/local"]
url = file://$local_dir

[mount "/data/nfs"]
url = $UFS_NFS_URL/$nfs_name
EOF

mnt=$UFS_WORK/mnt
# This test is about POSIX semantics, not latency: on a loaded shared CI box a
# 1 MiB NFS write can exceed the default 20 s op_timeout, and the backend is
# then marked down (EHOSTDOWN). Timeouts are test_core_isolation's subject.
ufs_mount "$cfg" "$mnt" -o op_timeout=120

# --- the synthetic root ------------------------------------------------------
assert_eq "data local" "$(ls "$mnt" | tr '\n' ' ' | sed 's/ $//')" "ls of the root"
assert_eq "nfs" "$(ls "$mnt/data")" "ls of /data"
[[ -d $mnt/local && -d $mnt/data && -d $mnt/data/nfs ]] || fail "root entries are not directories"

src=$UFS_WORK/src-big
head -c $((big_mb << 20)) /dev/urandom >"$src"

# posix_suite NAME MOUNTED BACKING: the checks on one subtree.
posix_suite()
{
	local name=$1 m=$2 b=$3 i n out

	# large file: written through the mount, compared on the server side
	dd if="$src" of="$m/big" bs=4M status=none || fail "$name: dd of ${big_mb} MiB into the mount"
	assert_file_eq "$src" "$b/big"
	assert_file_eq "$src" "$m/big"
	assert_eq $((big_mb << 20)) "$(stat -c %s "$m/big")" "$name: size of big through the mount"

	# dd conv=notrunc at an unaligned offset and 1-byte writes, checked
	# against the same dd on a copy
	head -c 65536 /dev/urandom >"$UFS_WORK/patch"
	cp "$src" "$UFS_WORK/expect"
	dd if="$UFS_WORK/patch" of="$UFS_WORK/expect" bs=64K seek=1048699 oflag=seek_bytes conv=notrunc status=none
	dd if="$UFS_WORK/patch" of="$m/big" bs=64K seek=1048699 oflag=seek_bytes conv=notrunc status=none ||
		fail "$name: dd conv=notrunc at an offset"
	printf 'XYZ' | dd of="$UFS_WORK/expect" bs=1 seek=7 conv=notrunc status=none
	printf 'XYZ' | dd of="$m/big" bs=1 seek=7 conv=notrunc status=none ||
		fail "$name: dd bs=1 conv=notrunc"
	assert_file_eq "$UFS_WORK/expect" "$b/big"
	assert_file_eq "$UFS_WORK/expect" "$m/big"
	rm -f "$UFS_WORK/expect"

	# a 5,000-entry directory made on the server side, listed through the mount
	mkdir "$b/many"
	(cd "$b/many" && seq -f "entry-%05g" 1 $n_entries | xargs touch) || fail "$name: server-side touch"
	n=$(ls "$m/many" | wc -l)
	assert_eq $n_entries "$n" "$name: entries listed in many/"
	n=$(find "$m/many" -type f | wc -l)
	assert_eq $n_entries "$n" "$name: files found in many/"

	# namespace operations through the mount, visible on the server side
	echo "one" >"$m/f1" || fail "$name: create f1"
	assert_eq "one" "$(cat "$b/f1")" "$name: f1 on the server"
	mv "$m/f1" "$m/f2" || fail "$name: rename"
	[[ ! -e $b/f1 && -f $b/f2 ]] || fail "$name: rename not visible on the server"
	mkdir "$m/dir" || fail "$name: mkdir"
	[[ -d $b/dir ]] || fail "$name: mkdir not visible on the server"
	mv "$m/f2" "$m/dir/f3" || fail "$name: rename into a directory"
	assert_eq "one" "$(cat "$b/dir/f3")" "$name: dir/f3 on the server"
	ln -s "dir/f3" "$m/sym" || fail "$name: symlink"
	assert_eq "dir/f3" "$(readlink "$b/sym")" "$name: symlink target on the server"
	assert_eq "dir/f3" "$(readlink "$m/sym")" "$name: readlink through the mount"
	assert_eq "one" "$(cat "$m/sym")" "$name: read through the symlink"
	ln "$m/dir/f3" "$m/hard" || fail "$name: hard link"
	assert_eq 2 "$(stat -c %h "$b/dir/f3")" "$name: link count on the server"
	assert_eq "$(stat -c %i "$b/dir/f3")" "$(stat -c %i "$b/hard")" "$name: hard link inode"
	chmod 640 "$m/dir/f3" || fail "$name: chmod"
	assert_eq 640 "$(stat -c %a "$b/dir/f3")" "$name: mode on the server"
	assert_eq 640 "$(stat -c %a "$m/dir/f3")" "$name: mode through the mount"
	truncate -s 100000 "$m/dir/f3" || fail "$name: truncate up"
	assert_eq 100000 "$(stat -c %s "$b/dir/f3")" "$name: size after truncate on the server"
	truncate -s 2 "$m/dir/f3" || fail "$name: truncate down"
	assert_eq "on" "$(cat "$b/dir/f3")" "$name: content after truncate down"
	touch -d "2020-02-03 04:05:06 UTC" "$m/dir/f3" || fail "$name: touch -d"
	assert_eq 1580702706 "$(stat -c %Y "$b/dir/f3")" "$name: mtime on the server"
	touch "$m/new-empty" || fail "$name: touch (create)"
	[[ -f $b/new-empty && ! -s $b/new-empty ]] || fail "$name: touched file on the server"
	rm "$m/hard" "$m/sym" "$m/dir/f3" "$m/new-empty" || fail "$name: unlink"
	[[ ! -e $b/hard && ! -e $b/sym && ! -e $b/dir/f3 ]] || fail "$name: unlink not visible"
	rmdir "$m/dir" || fail "$name: rmdir"
	[[ ! -e $b/dir ]] || fail "$name: rmdir not visible on the server"
	out=$(rmdir "$m/many" 2>&1) && fail "$name: rmdir of a non-empty dir succeeded"
	[[ $out == *"not empty"* ]] || fail "$name: rmdir non-empty: $out"

	# awkward names, both ways
	for n in "with space" "ünïcødé-日本語" "100%" "a+b" "what?" "#hash" "semi;colon"; do
		echo "$n" >"$m/$n" || fail "$name: create '$n'"
		assert_eq "$n" "$(cat "$b/$n")" "$name: '$n' on the server"
		echo "srv $n" >"$b/srv-$n"
		assert_eq "srv $n" "$(cat "$m/srv-$n")" "$name: server-made 'srv-$n' through the mount"
		ls "$m" | grep -qxF -- "$n" || fail "$name: '$n' not listed"
	done

	# a 256-byte name: ENAMETOOLONG, and the mount stays alive
	out=$(touch "$m/$(printf 'n%.0s' $(seq 256))" 2>&1) && fail "$name: 256-byte name accepted"
	[[ $out == *"File name too long"* ]] || fail "$name: 256-byte name: expected ENAMETOOLONG, got: $out"
	ls "$m" >/dev/null || fail "$name: mount dead after a too-long name"
	touch "$m/$(printf 'n%.0s' $(seq 255))" || fail "$name: 255-byte name refused"

	# df
	df "$m" >"$UFS_WORK/df" || fail "$name: df"
	[[ $(wc -l <"$UFS_WORK/df") -eq 2 ]] || fail "$name: df output: $(cat "$UFS_WORK/df")"
	stat -f "$m" >/dev/null || fail "$name: statfs"

	# 4 writers and 4 readers at once, on different files
	for i in 1 2 3 4; do
		head -c $((16 << 20)) /dev/urandom >"$UFS_WORK/w$i"
		head -c $((16 << 20)) /dev/urandom >"$b/r$i"
	done
	local pids=()
	for i in 1 2 3 4; do
		dd if="$UFS_WORK/w$i" of="$m/w$i" bs=1M status=none &
		pids+=($!)
		cat "$m/r$i" >"$UFS_WORK/got-r$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "$name: a concurrent reader or writer failed"
	done
	for i in 1 2 3 4; do
		assert_file_eq "$UFS_WORK/w$i" "$b/w$i"
		assert_file_eq "$b/r$i" "$UFS_WORK/got-r$i"
		rm -f "$UFS_WORK/w$i" "$UFS_WORK/got-r$i"
	done

	rm -f "$m/big" || fail "$name: unlink big"
	[[ ! -e $b/big ]] || fail "$name: big still on the server"
}

posix_suite local "$mnt/local" "$local_dir"
posix_suite nfs "$mnt/data/nfs" "$nfs_dir"

ufs_is_mounted "$mnt" || fail "the mount died"
ufs_pass
