#!/usr/bin/env bash
# test_rgw_sigv4.sh — the S3 backend against Ceph RADOS Gateway, a server that
# verifies every SigV4 signature (s3rver never does): with the right keys a
# mount lists, writes a multipart object, renames and reads awkward names, all
# checked with independently signed curl requests; with a wrong secret (or a
# wrong access key) the mount fails with a one-line 403 reason and
# `unifs ls` fails the same way, printing no secret.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "rgw sigv4"

rgw_up
UFS_RGW_ENDPOINT=$RGW_ENDPOINT UFS_RGW_ACCESS_KEY=$RGW_ACCESS_KEY UFS_RGW_SECRET_KEY=$RGW_SECRET_KEY
export AWS_ACCESS_KEY_ID=$UFS_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$UFS_RGW_SECRET_KEY
unset AWS_SESSION_TOKEN AWS_PROFILE

bkt=$(ufs_uniq rgwsig)
rgw_curl PUT "/$bkt" -o /dev/null || fail "cannot create bucket $bkt on RGW"
on_exit "rgw_curl DELETE '/$bkt' -o /dev/null"

# a key with a control character (legal in S3, not in XML 1.0) must not hide
# its directory: listings are asked for with encoding-type=url
for k in 'd/x%01y' 'd/ok'; do
	rgw_curl PUT "/$bkt/p/$k" -d "$k" -o /dev/null || fail "curl PUT p/$k"
	on_exit "rgw_curl DELETE '/$bkt/p/$k' -o /dev/null"
done

mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory = 512M

[mount "/rgw"]
url        = s3://$bkt/p/
endpoint   = $UFS_RGW_ENDPOINT
region     = us-east-1
path_style = true
EOF
ufs_mount "$cfg" "$mnt"

# --- a multipart object written through the mount equals what curl reads ---
big=$UFS_WORK/big.bin
head -c $((40 << 20)) /dev/urandom >"$big"
assert_ok cp "$big" "$mnt/rgw/big.bin"
rgw_curl GET "/$bkt/p/big.bin" -o "$UFS_WORK/big.curl" || fail "curl GET of big.bin"
assert_file_eq "$big" "$UFS_WORK/big.curl"
assert_eq $((40 << 20)) "$(stat -c %s "$mnt/rgw/big.bin")" "size of big.bin"
assert_file_eq "$big" "$mnt/rgw/big.bin"
on_exit "rgw_curl DELETE '/$bkt/p/big2.bin' -o /dev/null"
assert_ok mv "$mnt/rgw/big.bin" "$mnt/rgw/big2.bin"
assert_fails test -e "$mnt/rgw/big.bin"
assert_file_eq "$big" "$mnt/rgw/big2.bin"

# --- awkward names: written through the mount, read with curl, and back ---
names=("a b" "caf$(printf '\xc3\xa9')" "100%" "a+b" "what?" "x=y&z" "~t" "semi;colon")
for nm in "${names[@]}"; do
	printf 'via mount %s' "$nm" >"$mnt/rgw/$nm" || fail "write '$nm' through the mount"
	enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$nm")
	on_exit "rgw_curl DELETE '/$bkt/p/$enc' -o /dev/null"
	assert_eq "via mount $nm" "$(rgw_curl GET "/$bkt/p/$enc")" "object '$nm' as curl reads it"
	assert_eq "via mount $nm" "$(cat "$mnt/rgw/$nm")" "object '$nm' read through the mount"
done
assert_eq "${#names[@]}" "$(ls "$mnt/rgw" | grep -vcE '^(big2.bin|d)$')" "entries listed"
assert_eq "$(printf 'ok\nx\001y')" "$(ls "$mnt/rgw/d")" "directory with a control-character key"
assert_eq "d/x%01y" "$(cat "$mnt/rgw/d/x"$'\001'"y")" "object with a control-character key"
ufs_umount "$mnt"

# --- wrong secret / wrong access key: refused by the server, one-line reason ---
for bad in secret key; do
	if [[ $bad == secret ]]; then
		ak=$UFS_RGW_ACCESS_KEY sk="not-the-secret-$RANDOM"
	else
		ak="NOSUCHKEY$RANDOM" sk=$UFS_RGW_SECRET_KEY
	fi
	err=$UFS_WORK/err.$bad
	mkdir -p "$UFS_WORK/mnt-$bad"
	if AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk \
		within 60 "$UFS_BIN" mount "$cfg" "$UFS_WORK/mnt-$bad" 2>"$err"; then
		ufs_umount "$UFS_WORK/mnt-$bad"
		fail "mount with a wrong $bad succeeded"
	fi
	assert_eq 1 "$(wc -l <"$err")" "lines of the mount error with a wrong $bad ($(cat "$err"))"
	grep -qiE '403|denied|signature|access key' "$err" || fail "mount error does not say why: $(cat "$err")"
	grep -qF -- "$sk" "$err" && fail "mount error prints the secret"
	ufs_is_mounted "$UFS_WORK/mnt-$bad" && fail "a failed mount left $UFS_WORK/mnt-$bad mounted"
	if AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_ENDPOINT_URL=$UFS_RGW_ENDPOINT \
		within 60 "$UFS_BIN" ls "s3://$bkt/p/" >/dev/null 2>"$err"; then
		fail "unifs ls with a wrong $bad succeeded"
	fi
	grep -qiE '403|denied|signature|access key' "$err" || fail "ls error does not say why: $(cat "$err")"
done
ufs_pass
