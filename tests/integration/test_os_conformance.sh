#!/usr/bin/env bash
# test_os_conformance.sh — one object-store conformance run for every
# object-store backend (s3:// on s3rver and on Ceph RGW, a server that
# verifies signatures; az:// on Azurite): the POSIX
# semantics the shared layer (protocols/objstore/) promises, through a real
# mount, with keys made directly on the server where a check needs them.
# What each store adds (large files, listing pages, wire-level names, the
# CLI) stays in test_s3_posix.sh / test_az_posix.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/az_lib.sh"
ufs_begin "os conformance"

bkt=$(ufs_uniq osconf)
s3_mkbucket "$bkt"
cont=$(ufs_uniq osconf)
az_mkcontainer "$cont"
rgw_up
rgw_curl PUT "/$bkt" -o /dev/null || fail "cannot create bucket $bkt on RGW"
on_exit "rgw_curl DELETE '/$bkt' -o /dev/null"
mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory   = 512M
attr_ttl = 0
dir_ttl  = 0

[mount "/s3"]
url        = s3://$bkt/p/
endpoint   = $UFS_S3_ENDPOINT
path_style = true

[mount "/az"]
url        = az://$cont/p/
endpoint   = $UFS_AZ_ENDPOINT
account    = $UFS_AZ_ACCOUNT
account_key = $UFS_AZ_KEY

[mount "/rgw"]
url        = s3://$bkt/p/
endpoint   = $RGW_ENDPOINT
region     = us-east-1
path_style = true
access_key_id     = $RGW_ACCESS_KEY
secret_access_key = $RGW_SECRET_KEY
EOF

# put_direct STORE KEY FILE: store FILE as KEY (under the mount prefix p/)
put_direct()
{
	case $1 in
	s3) "$UFS_SERVERS/s3curl.sh" PUT "/$bkt/p/$2" --data-binary "@$3" -o /dev/null ;;
	az) az_put "$cont/p/$2" "$3" ;;
	rgw) rgw_curl PUT "/$bkt/p/$2" --data-binary "@$3" -o /dev/null ;;
	esac
}

# errno_of CALL PATH [PATH2]: the errno name a raw syscall gets (OK if none)
errno_of()
{
	python3 - "$@" <<'EOF'
import errno, os, sys
call, args = sys.argv[1], sys.argv[2:]
try:
    if call == "excl":
        os.close(os.open(args[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    else:
        getattr(os, call)(*args)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
}

ufs_mount "$cfg" "$mnt"
echo data >"$UFS_WORK/v"
for st in s3 az rgw; do
	m=$mnt/$st
	# a key that is both an object and a prefix is one file
	put_direct $st both "$UFS_WORK/v" || fail "$st: direct put of 'both'"
	put_direct $st both/x "$UFS_WORK/v" || fail "$st: direct put of 'both/x'"
	assert_eq 1 "$(ls "$m" | grep -cx both)" "$st: 'both' listed once"
	assert_eq "regular file" "$(stat -c %F "$m/both")" "$st: type of 'both'"
	# statfs: one f_namemax, NAME_MAX
	assert_eq 255 "$(stat -f -c %l "$m")" "$st: f_namemax"
	# directories
	mkdir "$m/d" || fail "$st: mkdir d"
	assert_eq EEXIST "$(errno_of mkdir "$m/d")" "$st: mkdir of an existing directory"
	echo f >"$m/d/f" || fail "$st: write d/f"
	assert_eq ENOTEMPTY "$(errno_of rmdir "$m/d")" "$st: rmdir of a non-empty directory"
	assert_eq ENOTDIR "$(errno_of rmdir "$m/d/f")" "$st: rmdir of a file"
	assert_eq EISDIR "$(errno_of unlink "$m/d")" "$st: unlink of a directory"
	assert_eq EEXIST "$(errno_of excl "$m/d/f")" "$st: O_EXCL create of an existing file"
	# rename: files only; a directory destination is refused
	echo g >"$m/g"
	assert_eq EISDIR "$(errno_of rename "$m/g" "$m/d")" "$st: rename of a file onto a directory"
	assert_eq OK "$(errno_of rename "$m/g" "$m/d/g")" "$st: rename of a file"
	assert_eq g "$(cat "$m/d/g")" "$st: content after rename"
	[[ ! -e $m/g ]] || fail "$st: rename left the source"
	assert_eq EXDEV "$(errno_of rename "$m/d" "$m/e")" "$st: rename(2) of a directory"
	mv "$m/d" "$m/e" || fail "$st: mv of a directory (copy fallback)"
	assert_eq "f" "$(cat "$m/e/f")" "$st: content after mv of a directory"
	[[ ! -e $m/d ]] || fail "$st: mv of a directory left the source"
	rm -r "$m/e" || fail "$st: rm -r e"
	[[ ! -e $m/e ]] || fail "$st: e still exists after rm -r"
	assert_eq ENOENT "$(errno_of rmdir "$m/e")" "$st: rmdir of a missing directory"
done

ufs_pass
