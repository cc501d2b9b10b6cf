#!/usr/bin/env bash
# tests/integration/test_servers.sh — smoke test of the test-server harness
# itself (no unifs involved): NFS export reachable with nfs-ls/nfs-cat over
# NFSv3 and NFSv4, s3rver bucket create/put/get/list via s3curl.sh, Azurite
# container create/put/get via azcurl.sh (SharedKey), and that a second
# `all.sh start` reuses the running servers.
source "$(dirname "$0")/lib.sh"
ufs_begin servers

# --- NFS ---
name=$(ufs_uniq smoke)
head -c 70000 /dev/urandom >"$UFS_WORK/blob"
cp "$UFS_WORK/blob" "$UFS_NFS_EXPORT_DIR/$name"
on_exit "rm -f '$UFS_NFS_EXPORT_DIR/$name'"
within 20 nfs-ls "$UFS_NFS_URL" | grep -q " $name\$" || fail "nfs-ls v3 $UFS_NFS_URL does not list $name"
within 20 nfs-ls "$UFS_NFS4_URL" | grep -q " $name\$" || fail "nfs-ls v4 $UFS_NFS4_URL does not list $name"
within 20 nfs-cat "$UFS_NFS_URL/$name" >"$UFS_WORK/v3" || fail "nfs-cat v3"
assert_file_eq "$UFS_WORK/blob" "$UFS_WORK/v3"
v4file="${UFS_NFS4_URL%%\?*}/$name?version=4"
within 20 nfs-cat "$v4file" >"$UFS_WORK/v4" || fail "nfs-cat v4 $v4file"
assert_file_eq "$UFS_WORK/blob" "$UFS_WORK/v4"

# --- S3 (s3rver) ---
bucket=$(ufs_uniq smoke)
s3_mkbucket "$bucket"
s3_put "$bucket/dir/obj" "$UFS_WORK/blob"
s3_get "$bucket/dir/obj" "$UFS_WORK/s3" || fail "s3 get"
assert_file_eq "$UFS_WORK/blob" "$UFS_WORK/s3"
"$UFS_SERVERS/s3curl.sh" GET "/$bucket?list-type=2&prefix=dir/" | grep -q '<Key>dir/obj</Key>' ||
	fail "s3 ListObjectsV2 does not show dir/obj"
code=$(S3CURL_NOFAIL=1 "$UFS_SERVERS/s3curl.sh" GET "/$bucket/missing" -o /dev/null -w '%{http_code}')
assert_eq 404 "$code" "s3 GET of a missing key"

# --- Azure Blob (Azurite) ---
cont=$(ufs_uniq smoke)
az_mkcontainer "$cont"
az_put "$cont/dir/obj" "$UFS_WORK/blob"
az_get "$cont/dir/obj" "$UFS_WORK/az" || fail "azure get"
assert_file_eq "$UFS_WORK/blob" "$UFS_WORK/az"
"$UFS_SERVERS/azcurl.sh" GET "/$cont?restype=container&comp=list" | grep -q '<Name>dir/obj</Name>' ||
	fail "azure List Blobs does not show dir/obj"

# --- idempotent start: a second start reuses the same processes ---
before=$(cat "$UFS_TEST_DIR"/nfs/ganesha.pid "$UFS_TEST_DIR"/s3/s3rver.pid "$UFS_TEST_DIR"/azurite/azurite.pid 2>/dev/null)
within 30 "$UFS_SERVERS/all.sh" start 2>/dev/null || fail "second all.sh start failed"
after=$(cat "$UFS_TEST_DIR"/nfs/ganesha.pid "$UFS_TEST_DIR"/s3/s3rver.pid "$UFS_TEST_DIR"/azurite/azurite.pid 2>/dev/null)
assert_eq "$before" "$after" "server pids after a second start"

ufs_pass
