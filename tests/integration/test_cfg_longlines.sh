#!/usr/bin/env bash
# test_cfg_longlines.sh — config and credential lines longer than libinih's
# 200-byte line limit, against s3rver: a 2,000-char AWS
# session token in a shared-credentials file and inline in the config both
# mount, list, write and read; a config error after a 9 KiB line names the
# right line and the scheme's valid keys in one line; no error ever shows a
# piece of the token.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "cfg longlines"

bkt=$(ufs_uniq cfgtable-long)
s3_mkbucket "$bkt"
# 2,000 chars of base64-like token, with a recognisable middle
tok=$(head -c 3000 /dev/urandom | base64 -w0 | tr -d "+/=" | head -c 1989)
tok=${tok:0:1000}TOKENMIDDLE${tok:1000}
[[ ${#tok} -eq 2000 ]] || fail "token length ${#tok}"
creds=$UFS_WORK/aws-credentials
(umask 077 && printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
	"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$tok" >"$creds")

# no_secret_in FILE: FILE holds no piece of the token
no_secret_in()
{
	! grep -q -e TOKENMIDDLE -e "${tok:0:24}" -e "${tok: -24}" "$1" ||
		fail "a piece of the session token was printed: $(head -c 300 "$1")"
}

# mount_rw_check NAME CONFIG: mount CONFIG, write, list and read back a file
mount_rw_check()
{
	local name=$1 cfg=$2 mnt=$UFS_WORK/mnt-$1
	ufs_mount "$cfg" "$mnt" 2>"$UFS_WORK/err-$name"
	no_secret_in "$UFS_WORK/err-$name"
	echo "hello $name" >"$mnt/f-$name"
	ls "$mnt" | grep -qx "f-$name" || fail "$name: f-$name not listed"
	assert_eq "hello $name" "$(cat "$mnt/f-$name")" "$name: read back"
	ufs_umount "$mnt" || fail "$name: unmount"
}

# 1. the token in a shared-credentials file (environment keys unset)
ufs_config "$UFS_WORK/file.conf" <<EOF
[mount "/"]
url              = s3://$bkt/viafile/
endpoint         = $UFS_S3_ENDPOINT
path_style       = true
credentials_file = $creds
EOF
(
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	mount_rw_check credfile "$UFS_WORK/file.conf"
)

# 2. the token inline (and a 9 KiB comment line before it)
long_comment=$(printf '%9000s' '' | tr ' ' c)
ufs_config "$UFS_WORK/inline.conf" <<EOF
; $long_comment
[mount "/"]
url               = s3://$bkt/inline/
endpoint          = $UFS_S3_ENDPOINT
path_style        = true
access_key_id     = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
session_token     = $tok
EOF
mount_rw_check inline "$UFS_WORK/inline.conf"

# 3. errors: an unknown key after the long lines names line 9 and s3's keys;
#    the same file readable by others is refused; neither shows the token
cp "$UFS_WORK/inline.conf" "$UFS_WORK/bad.conf"
echo "colour = red" >>"$UFS_WORK/bad.conf"
if "$UFS_BIN" mount "$UFS_WORK/bad.conf" "$UFS_WORK/mnt-bad" 2>"$UFS_WORK/err-bad"; then
	fail "a config with an unknown key mounted"
fi
no_secret_in "$UFS_WORK/err-bad"
[[ $(wc -l <"$UFS_WORK/err-bad") -eq 1 ]] || fail "expected one line: $(cat "$UFS_WORK/err-bad")"
grep -q "bad.conf:9: unknown key 'colour'.*s3://.*session_token" "$UFS_WORK/err-bad" ||
	fail "unclear error: $(cat "$UFS_WORK/err-bad")"
chmod 644 "$UFS_WORK/inline.conf"
if "$UFS_BIN" mount "$UFS_WORK/inline.conf" "$UFS_WORK/mnt-bad" 2>"$UFS_WORK/err-mode"; then
	fail "a group-readable config with a secret mounted"
fi
no_secret_in "$UFS_WORK/err-mode"
grep -q "readable by group/other" "$UFS_WORK/err-mode" || fail "unclear: $(cat "$UFS_WORK/err-mode")"

ufs_pass
