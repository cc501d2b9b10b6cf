#!/usr/bin/env bash
# tests/integration/test_migrate_meta.sh — object metadata written by
# unifs cp: the source mtime (x-amz-meta-mtime /
# x-ms-meta-mtime, seconds.nanoseconds as rclone writes it) and the source
# xxh3-128 (x-amz-meta-unifs-xxh3 / x-ms-meta-unifs_xxh3), on a single PUT
# and on a multipart upload; `check --checksum` between two stores that
# carry the hash compares the metadata and reads neither object (a hash
# forged in the metadata alone makes it report a difference), unless both
# listings give the object's MD5 (single-part): equal MD5s settle it.
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_meta
command -v xxh128sum >/dev/null || fail "xxh128sum not installed (package xxhash)"
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT
export AZURE_STORAGE_CONNECTION_STRING="AccountName=$UFS_AZ_ACCOUNT;AccountKey=$UFS_AZ_KEY;BlobEndpoint=$UFS_AZ_ENDPOINT"

src=$UFS_WORK/src
mkdir -p "$src"
echo small >"$src/small.txt"
head -c 20000000 /dev/urandom >"$src/big.bin" # above one part: multipart
touch -d @1600000000.5 "$src/small.txt" "$src/big.bin"
bkt=$(ufs_uniq migmeta)
s3_mkbucket "$bkt"
cont=$(ufs_uniq migmeta)
az_mkcontainer "$cont"

run() { within 300 "$UFS_BIN" "$@" >"$UFS_WORK/out" 2>"$UFS_WORK/err"; }
# header NAME FILE: value of header NAME in a saved answer
header() { tr -d '\r' <"$2" | grep -i "^$1:" | head -1 | cut -d' ' -f2-; }

run cp -r "file://$src" "s3://$bkt/m" || fail "cp file -> s3: $(cat "$UFS_WORK/err")"
run cp -r "s3://$bkt/m" "az://$cont/m" || fail "cp s3 -> az: $(cat "$UFS_WORK/err")"
for f in small.txt big.bin; do
	want=$(xxh128sum "$src/$f" | cut -d' ' -f1)
	"$UFS_SERVERS/s3curl.sh" HEAD "/$bkt/m/$f" >"$UFS_WORK/h" 2>&1 || fail "HEAD s3 $f"
	assert_eq "1600000000.500000000" "$(header x-amz-meta-mtime "$UFS_WORK/h")" "s3 mtime of $f"
	assert_eq "$want" "$(header x-amz-meta-unifs-xxh3 "$UFS_WORK/h")" "s3 xxh3 of $f"
	"$UFS_SERVERS/azcurl.sh" HEAD "/$cont/m/$f" -I >"$UFS_WORK/h" 2>&1 || fail "HEAD az $f"
	assert_eq "1600000000.500000000" "$(header x-ms-meta-mtime "$UFS_WORK/h")" "az mtime of $f"
	assert_eq "$want" "$(header x-ms-meta-unifs_xxh3 "$UFS_WORK/h")" "az xxh3 of $f"
done

run check --checksum "s3://$bkt/m" "az://$cont/m" || fail "check --checksum: $(cat "$UFS_WORK/out")"
# small.txt is one PUT on both sides: S3's listed ETag and Azure's listed
# Content-MD5 are its MD5, and equal MD5s settle it with no further request
# (as rclone compares): a hash forged in its metadata is not even looked at.
"$UFS_SERVERS/azcurl.sh" PUT "/$cont/m/small.txt?comp=metadata" \
	-H "x-ms-meta-unifs_xxh3: 00000000000000000000000000000000" -o /dev/null || fail "forge metadata"
run check --checksum "s3://$bkt/m" "az://$cont/m" ||
	fail "equal listed MD5s must settle small.txt: $(cat "$UFS_WORK/out" "$UFS_WORK/err")"
# big.bin is multipart on S3 (its ETag is no MD5): the stored hashes decide.
# Forge the hash in the metadata only: the bytes are equal, so only a
# comparison of the stored hashes can see a difference.
"$UFS_SERVERS/azcurl.sh" PUT "/$cont/m/big.bin?comp=metadata" \
	-H "x-ms-meta-unifs_xxh3: 00000000000000000000000000000000" -o /dev/null || fail "forge metadata"
run check --checksum "s3://$bkt/m" "az://$cont/m"
assert_eq 1 "$?" "check --checksum uses the stored hashes ($(cat "$UFS_WORK/out" "$UFS_WORK/err"))"
grep -q "big.bin" "$UFS_WORK/out" || fail "forged file not named: $(cat "$UFS_WORK/out")"
grep -q "small.txt" "$UFS_WORK/out" && fail "small.txt reported: $(cat "$UFS_WORK/out")"
# Same size, different bytes, listed MD5s differ: reported.
head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 5 >"$UFS_WORK/x"
echo >>"$UFS_WORK/x"
"$UFS_SERVERS/s3curl.sh" PUT "/$bkt/m/small.txt" -T "$UFS_WORK/x" -o /dev/null || fail "rewrite small.txt"
run check --checksum "s3://$bkt/m" "az://$cont/m"
assert_eq 1 "$?" "a changed small.txt is found"
grep -q "small.txt" "$UFS_WORK/out" || fail "changed small.txt not named: $(cat "$UFS_WORK/out")"
ufs_pass
