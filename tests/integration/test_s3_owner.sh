#!/usr/bin/env bash
# test_s3_owner.sh — the object-store owner/mode keys (uid, gid, file_mode,
# dir_mode, umask) as a second, unprivileged user sees them under
# allow_other (setpriv --reuid=65534): stat shows exactly the configured
# owner and modes, the kernel enforces them (a 0600 file of another owner
# is EACCES, 0644 is readable), and the defaults are the mounting user with
# 0644 / 0755. Runs against s3rver; the layer is shared with az://.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "s3 owner"

bkt=$(ufs_uniq s3owner)
s3_mkbucket "$bkt"
chmod 755 "$UFS_WORK" # the second user must reach the mount points
mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory      = 512M
allow_other = true

[mount "/shared"]
url        = s3://$bkt/shared/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
uid        = 4242
gid        = 4343
file_mode  = 0644
dir_mode   = 0751

[mount "/private"]
url        = s3://$bkt/private/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
umask      = 077

[mount "/default"]
url        = s3://$bkt/default/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
EOF
for d in shared private default; do
	printf 'data of %s\n' "$d" >"$UFS_WORK/v"
	"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/$d/sub/f" --data-binary "@$UFS_WORK/v" -o /dev/null ||
		fail "seeding $d/sub/f"
done
ufs_mount "$cfg" "$mnt"
me="$(id -u) $(id -g)"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# what | path | what stat -c '%u %g %a %F' must show to uid 65534
cases=(
	"shared file|shared/sub/f|4242 4343 644 regular file"
	"shared dir|shared/sub|4242 4343 751 directory"
	"shared root|shared|4242 4343 751 directory"
	"umask root|private|$me 700 directory"
	"default file|default/sub/f|$me 644 regular file"
	"default dir|default/sub|$me 755 directory"
)
for c in "${cases[@]}"; do
	IFS='|' read -r what path want <<<"$c"
	got=$(as_nobody stat -c '%u %g %a %F' "$mnt/$path") || fail "$what: stat as uid 65534"
	assert_eq "$want" "$got" "$what as uid 65534"
done

# umask 077: the file shows 0600 (to its owner: others cannot reach it)
assert_eq "$me 600 regular file" "$(stat -c '%u %g %a %F' "$mnt/private/sub/f")" "umask 077 file"
assert_eq "$me 700 directory" "$(stat -c '%u %g %a %F' "$mnt/private/sub")" "umask 077 dir"

# the kernel enforces what is shown
assert_eq "data of shared" "$(as_nobody cat "$mnt/shared/sub/f")" "0644 file read by another user"
as_nobody ls "$mnt/shared/sub" >/dev/null 2>&1 && fail "dir_mode 0751 let another user list"
err=$(as_nobody cat "$mnt/private/sub/f" 2>&1) && fail "umask 077: another user read the file"
[[ $err == *"Permission denied"* ]] || fail "umask 077: '$err' (want EACCES)"
err=$(as_nobody ls "$mnt/private" 2>&1) && fail "umask 077: another user listed the root"
[[ $err == *"Permission denied"* ]] || fail "umask 077: '$err' (want EACCES)"
err=$(as_nobody sh -c "echo x >'$mnt/default/new'" 2>&1) &&
	fail "another user wrote into a 0755 directory of the mounting user"
[[ $err == *"Permission denied"* ]] || fail "write by another user: '$err' (want EACCES)"
assert_eq "data of default" "$(as_nobody cat "$mnt/default/sub/f")" "default 0644 readable"

# a bad value is refused with a one-line reason naming the key
bad=$UFS_WORK/bad.conf
ufs_config "$bad" <<EOF
[mount "/x"]
url       = s3://$bkt/x/
endpoint  = $UFS_S3_ENDPOINT
file_mode = rw-r--r--
EOF
mkdir -p "$UFS_WORK/mbad"
err=$(within 30 "$UFS_BIN" mount "$bad" "$UFS_WORK/mbad" 2>&1) &&
	fail "mount with file_mode=rw-r--r-- succeeded"
[[ $err == *"file_mode"* && $err == *"octal"* ]] || fail "bad file_mode: '$err'"

ufs_pass
