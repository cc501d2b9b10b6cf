#!/usr/bin/env bash
# test_s3_posix.sh — the S3 backend through a real FUSE mount against s3rver:
# a multipart file (UFS_S3_POSIX_MB, default 64 MiB: 8 parts) written through the mount equals the object fetched with
# plain curl and reads back identically; 1,100 keys are listed completely
# across ListObjectsV2 pages (1,000 keys each); awkward names round-trip both ways; the "d/"
# marker; `unifs ls/stat/cat s3://...`; a readonly mount refuses writes with
# EROFS. The semantics shared with every object store (mkdir/rmdir/rename
# errnos, de-duplication, statfs) are in test_os_conformance.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "s3 posix"

bkt=$(ufs_uniq s3posix)
s3_mkbucket "$bkt"
mnt=$UFS_WORK/mnt
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory = 1G
log = info

[mount "/ckpt"]
url        = s3://$bkt/pfx/
endpoint   = $UFS_S3_ENDPOINT
path_style = true

[mount "/ro"]
url        = s3://$bkt/pfx/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
readonly   = true
EOF
ufs_mount "$cfg" "$mnt"

# --- a multipart object through the mount == the object as curl sees it ---
big=$UFS_WORK/big.bin
big_mb=${UFS_S3_POSIX_MB:-64}
head -c $((big_mb << 20)) /dev/urandom >"$big"
assert_ok cp "$big" "$mnt/ckpt/big.bin"
s3_get "$bkt/pfx/big.bin" "$UFS_WORK/big.curl" || fail "curl GET of big.bin failed"
assert_file_eq "$big" "$UFS_WORK/big.curl"
assert_eq $((big_mb << 20)) "$(stat -c %s "$mnt/ckpt/big.bin")" "size of big.bin"
assert_file_eq "$big" "$mnt/ckpt/big.bin"
rm -f "$UFS_WORK/big.curl"

# --- 1,100 keys created with curl, listed completely across two pages ---
seq -f 'k%05g' 1 1100 | xargs -P 16 -I{} "$UFS_SERVERS/s3curl.sh" PUT "/$bkt/pfx/many/{}" \
	--data-binary x -o /dev/null || fail "seeding 1100 keys failed"
n=$(ls "$mnt/ckpt/many" | wc -l)
assert_eq 1100 "$n" "entries listed in many/"
assert_eq k01100 "$(ls "$mnt/ckpt/many" | sort | tail -1)" "last key listed"
assert_eq x "$(cat "$mnt/ckpt/many/k01099")" "content of many/k01099"

# --- awkward names, both ways ---
names=("a b" "caf$(printf '\xc3\xa9') $(printf '\xe2\x98\xba')" "100%" "a+b" "what?" "x=y&z" "~tilde")
for nm in "${names[@]}"; do
	printf 'via mount %s' "$nm" >"$mnt/ckpt/$nm" || fail "write '$nm' through the mount"
	enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$nm")
	got=$("$UFS_SERVERS/s3curl.sh" GET "/$bkt/pfx/$enc") || fail "curl GET of '$nm'"
	assert_eq "via mount $nm" "$got" "object written through the mount as '$nm'"
	printf 'via curl %s' "$nm" >"$UFS_WORK/v"
	"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/pfx/in/$enc" --data-binary "@$UFS_WORK/v" -o /dev/null ||
		fail "curl PUT of '$nm'"
done
for nm in "${names[@]}"; do
	assert_eq "via curl $nm" "$(cat "$mnt/ckpt/in/$nm")" "'$nm' written with curl, read through the mount"
	ls "$mnt/ckpt" | grep -qxF -- "$nm" || fail "'$nm' missing from the listing"
done

# --- S3's directory marker "d1/" (the shared directory semantics:
# test_os_conformance.sh) ---
assert_ok mkdir "$mnt/ckpt/d1"
S3CURL_NOFAIL=1 "$UFS_SERVERS/s3curl.sh" GET "/$bkt/pfx/d1/" -o /dev/null -w '%{http_code}' |
	grep -qx 200 || fail "mkdir stored no d1/ marker"
assert_ok rmdir "$mnt/ckpt/d1"
S3CURL_NOFAIL=1 "$UFS_SERVERS/s3curl.sh" GET "/$bkt/pfx/d1/" -o /dev/null -w '%{http_code}' |
	grep -qx 404 || fail "directory marker left behind by rmdir"

# --- the CLI on s3:// URLs (endpoint from AWS_ENDPOINT_URL) ---
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT
out=$("$UFS_BIN" ls "s3://$bkt/pfx/") || fail "unifs ls s3:// failed"
[[ $out == *big.bin* ]] || fail "unifs ls s3:// misses big.bin: $out"
out=$("$UFS_BIN" stat "s3://$bkt/pfx/big.bin") || fail "unifs stat s3:// failed"
[[ $out == *$((big_mb << 20))* ]] || fail "unifs stat: size missing: $out"
assert_eq "via curl a b" "$("$UFS_BIN" cat "s3://$bkt/pfx/in/a b")" "unifs cat s3://"
assert_fails "$UFS_BIN" cat "s3://$bkt/pfx/no-such-key"

# --- readonly mount ---
err=$(echo x 2>&1 >"$mnt/ro/new" || true)
[[ $err == *"Read-only file system"* ]] || fail "write on a readonly mount: '$err' (want EROFS)"
err=$(mkdir "$mnt/ro/dx" 2>&1 || true)
[[ $err == *"Read-only file system"* ]] || fail "mkdir on a readonly mount: '$err'"
assert_file_eq "$big" "$mnt/ro/big.bin"

ufs_pass
