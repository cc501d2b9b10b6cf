#!/usr/bin/env bash
# tests/integration/test_nfs_fhcache.sh — the NFSv3 backend resolves paths
# through cached directory handles (protocols/nfs/nfs_meta.c); these are the
# cases where a cached handle could lie:
#   - behind the mount, a directory on a deep path is renamed away and a new
#     one with different content takes its name: after attr_ttl the mount
#     shows the new content, not the moved directory's;
#   - behind the mount, a directory is removed and re-created (its old
#     handle is stale on the server);
#   - rename and rmdir through the mount: paths under the old name are
#     ENOENT at once, the new name works;
#   - names with spaces, unicode, %, + and ? on every level.
source "$(dirname "$0")/lib.sh"
ufs_begin nfs_fhcache

ttl=1
name=$(ufs_uniq fhcache)
d=$UFS_NFS_EXPORT_DIR/$name
mkdir -p "$d"
on_exit "rm -rf '$d'"

cfg=$UFS_WORK/fhcache.conf
ufs_config "$cfg" <<EOF
[global]
attr_ttl = $ttl
dir_ttl = $ttl
negative_ttl = $ttl

[mount "/nfs"]
url = $UFS_NFS_URL/$name
EOF
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt" -o op_timeout=120
m=$mnt/nfs

# no_entry PATH WHAT: stat PATH fails with ENOENT.
no_entry()
{
	local err
	err=$(stat "$1" 2>&1) && fail "$2: $1 still exists"
	grep -q 'No such file' <<<"$err" || fail "$2: $err"
}
expire() { sleep $((ttl + 1)); }

# --- a directory replaced behind the mount ---------------------------------
deep=p1/p2/p3/p4/p5
mkdir -p "$d/$deep"
echo old >"$d/$deep/f.txt"
touch "$d/$deep/only-old"
assert_eq old "$(cat "$m/$deep/f.txt")" "deep read"
assert_eq "f.txt only-old" "$(ls "$m/$deep" | tr '\n' ' ' | sed 's/ $//')" "deep ls"
mv "$d/p1/p2" "$d/p1/moved"
mkdir -p "$d/$deep"
echo new >"$d/$deep/f.txt"
touch "$d/$deep/only-new"
expire
assert_eq new "$(cat "$m/$deep/f.txt")" "read after the directory was replaced behind the mount"
assert_eq "f.txt only-new" "$(ls "$m/$deep" | tr '\n' ' ' | sed 's/ $//')" \
	"ls after the directory was replaced behind the mount"
no_entry "$m/$deep/only-old" "a file of the moved directory under the old name"
assert_eq old "$(cat "$m/p1/moved/p3/p4/p5/f.txt")" "the moved directory under its new name"

# --- removed and re-created behind the mount (stale handle) ------------------
rm -rf "${d:?}/p1/moved/p3"
mkdir -p "$d/p1/moved/p3/p4/p5"
echo again >"$d/p1/moved/p3/p4/p5/f.txt"
expire
assert_eq again "$(cat "$m/p1/moved/p3/p4/p5/f.txt")" "read after rm -r and mkdir behind the mount"
assert_eq 0 "$(find "$m/p1/moved" -name only-old | wc -l)" "find after re-creation"

# --- rename and rmdir through the mount ---------------------------------------
stat "$m/p1/moved/p3/p4/p5" >/dev/null || fail "stat deep before the rename"
mv "$m/p1/moved" "$m/p1/renamed" || fail "rename of a directory through the mount"
no_entry "$m/p1/moved/p3/p4/p5" "deep path under the old name after a rename"
no_entry "$m/p1/moved" "old name after a rename"
assert_eq again "$(cat "$m/p1/renamed/p3/p4/p5/f.txt")" "deep read under the new name"
[[ -f $d/p1/renamed/p3/p4/p5/f.txt ]] || fail "rename not on the server"
rm -r "$m/p1/renamed/p3" || fail "rm -r through the mount"
no_entry "$m/p1/renamed/p3/p4" "path under a removed directory"
mkdir -p "$m/p1/renamed/p3/p4" || fail "mkdir -p where a removed directory was"
echo fresh >"$m/p1/renamed/p3/p4/g" || fail "write in the re-created directory"
assert_eq fresh "$(cat "$d/p1/renamed/p3/p4/g")" "file in the re-created directory, server side"
assert_eq 1 "$(ls "$m/p1/renamed/p3/p4" | wc -l)" "ls of the re-created directory"

# --- awkward names -------------------------------------------------------------
odd="sp ace/ünïcødé/%41 50%/a+b/what?/x y"
mkdir -p "$m/$odd" || fail "mkdir -p of awkward names"
echo odd >"$m/$odd/f 1%+?.txt" || fail "write under awkward names"
assert_eq odd "$(cat "$d/$odd/f 1%+?.txt")" "awkward names, server side"
ln -s "f 1%+?.txt" "$m/$odd/link?" || fail "symlink under awkward names"
assert_eq "f 1%+?.txt" "$(readlink "$m/$odd/link?")" "readlink under awkward names"
ln "$m/$odd/f 1%+?.txt" "$m/$odd/hard+" || fail "hard link under awkward names"
assert_eq 2 "$(stat -c %h "$d/$odd/hard+")" "link count, server side"
chmod 640 "$m/$odd/f 1%+?.txt" || fail "chmod under awkward names"
assert_eq 640 "$(stat -c %a "$d/$odd/f 1%+?.txt")" "mode, server side"
touch -d @1000000000 "$m/$odd/f 1%+?.txt" || fail "touch under awkward names"
assert_eq 1000000000 "$(stat -c %Y "$d/$odd/f 1%+?.txt")" "mtime, server side"
mv "$m/sp ace/ünïcødé" "$m/sp ace/ü 2" || fail "rename of an awkward directory"
no_entry "$m/sp ace/ünïcødé/%41 50%" "awkward old name after a rename"
assert_eq odd "$(cat "$m/sp ace/ü 2/%41 50%/a+b/what?/x y/hard+")" "read under the new awkward name"
rm -r "$m/sp ace" || fail "rm -r of awkward names"
[[ ! -e "$d/sp ace" ]] || fail "awkward names still on the server"
ufs_pass
