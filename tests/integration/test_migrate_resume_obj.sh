#!/usr/bin/env bash
# tests/integration/test_migrate_resume_obj.sh — unifs cp to an object store
# resumes a multipart upload at part granularity after kill -9:
#  1. RGW (S3 with ListParts) and Azurite (Get Block List): the copy of a
#     large file is killed once the journal holds >= 2 stored parts; the same
#     command again says "resumed at part N / byte B", sends exactly the
#     bytes after B (--json bytes_sent; on RGW the parts the killed run had
#     stored past B, i.e. re-sent, are at most workers + 1: the parts in
#     flight and the one being filled), `unifs check --checksum` passes and
#     no upload is left (RGW ListMultipartUploads / Azurite uncommitted
#     blocks);
#  2. RGW: the journaled upload was aborted meanwhile -> starts over, says why;
#  3. RGW: the source changed between the runs -> starts over, says why, and
#     the stale upload is aborted;
#  4. s3rver has no ListParts: the rerun starts over with the reason.
# UFS_MIGRATE_RESUME_OBJ_MB sets the large file's size (default 256).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_resume_obj
command -v jq >/dev/null || fail "jq not installed"
rgw_up
size_mb=${UFS_MIGRATE_RESUME_OBJ_MB:-256}
part=$((5 << 20))

bkt=$(ufs_uniq mpresume)
rgw_curl PUT "/$bkt" -o /dev/null || fail "cannot create RGW bucket $bkt"
# (-m: a full or hung RGW must not hang the cleanup; RGW frees deleted data
# only at its garbage collection, hours later, so keep what is written small)
on_exit "rgw_curl DELETE '/$bkt/big.bin' -m 60 -o /dev/null; rgw_curl DELETE '/$bkt/mid.bin' -m 60 -o /dev/null; rgw_curl DELETE '/$bkt' -m 60 -o /dev/null"
cont=$(ufs_uniq mpresume)
az_mkcontainer "$cont"
s3bkt=$(ufs_uniq mpresume)
s3_mkbucket "$s3bkt"

mkdir -p "$UFS_WORK/src"
head -c $((size_mb << 20)) /dev/urandom >"$UFS_WORK/src/big.bin"
head -c $((64 << 20)) /dev/urandom >"$UFS_WORK/src/mid.bin"
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<EOF
[global]
memory  = 256M
workers = 4

[mount "/src"]
url = file://$UFS_WORK/src

[mount "/rgw"]
url        = s3://$bkt
endpoint   = $RGW_ENDPOINT
region     = us-east-1
path_style = true
part_size  = 5M
access_key_id     = $RGW_ACCESS_KEY
secret_access_key = $RGW_SECRET_KEY

[mount "/az"]
url         = az://$cont
endpoint    = $UFS_AZ_ENDPOINT
account     = $UFS_AZ_ACCOUNT
account_key = $UFS_AZ_KEY
block_size  = 5M

[mount "/s3"]
url        = s3://$s3bkt
endpoint   = $UFS_S3_ENDPOINT
path_style = true
part_size  = 5M
EOF

# parts FILE: M records of the journal's last upload.
parts()
{
	awk '$1 == "U" {n = 0} $1 == "M" {n++} END {print n + 0}' "$1" 2>/dev/null || echo 0
}

# start_killed NAME STORE FILE: run cp in the background, kill -9 it once the
# journal $UFS_WORK/NAME.journal holds >= 2 stored parts; sets cmd.
start_killed()
{
	local name=$1 store=$2 file=$3 pid
	journal=$UFS_WORK/$name.journal
	cmd=("$UFS_BIN" cp -c "$cfg" --journal "$journal" --json-lines --json "/src/$file" "/$store/$file")
	"${cmd[@]}" >"$UFS_WORK/$name.1.out" 2>"$UFS_WORK/$name.1.err" &
	pid=$!
	for _ in $(seq 1200); do
		(($(parts "$journal") >= 2)) && break
		kill -0 "$pid" 2>/dev/null ||
			fail "$name: cp ended before 2 parts were journaled: $(head -c 400 "$UFS_WORK/$name.1.err")"
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	(($(parts "$journal") >= 2)) || fail "$name: no 2 parts journaled in 60 s"
}

# rerun NAME: the same command again, must exit 0; sets reason and sent.
rerun()
{
	local name=$1
	within 600 "${cmd[@]}" >"$UFS_WORK/$name.2.out" 2>"$UFS_WORK/$name.2.err" ||
		fail "$name: rerun: $(cat "$UFS_WORK/$name.2.err" "$UFS_WORK/$name.2.out" | head -c 600)"
	reason=$(jq -rs '.[0].reason' "$UFS_WORK/$name.2.out")
	sent=$(jq -rs '.[1].bytes_sent' "$UFS_WORK/$name.2.out")
}

# verified STORE FILE: unifs check --checksum finds no difference.
verified()
{
	within 300 "$UFS_BIN" check -c "$cfg" --checksum "/src/$2" "/$1/$2" >"$UFS_WORK/check.out" 2>&1 ||
		fail "check --checksum /$1/$2: $(head -c 400 "$UFS_WORK/check.out")"
}

rgw_no_uploads()
{
	rgw_curl GET "/$bkt?uploads=" -o "$UFS_WORK/uploads.xml" || fail "ListMultipartUploads"
	grep -q "<Upload>" "$UFS_WORK/uploads.xml" && fail "$1: multipart upload left: $(head -c 400 "$UFS_WORK/uploads.xml")"
	return 0
}

# --- 1. kill -9, resume at the journaled part: RGW and Azurite ------------------------
size=$((size_mb << 20))
for store in rgw az; do
	start_killed "$store" "$store" big.bin
	n=$(parts "$journal")
	if [[ $store == rgw ]]; then
		id=$(awk '$1 == "U" {id = $6} END {print id}' "$journal")
		rgw_curl GET "/$bkt/big.bin?uploadId=$id" -m 60 -o "$UFS_WORK/parts.xml" || fail "ListParts $id"
		stored=$(grep -o "<PartNumber>" "$UFS_WORK/parts.xml" | wc -l)
		((stored >= n && stored - n <= 5)) ||
			fail "rgw: $stored parts stored, $n journaled: more than workers + 1 = 5 would be re-sent"
	fi
	rerun "$store"
	assert_eq "resumed at part $((n + 1)) / byte $((n * part))" "$reason" "$store: where the rerun resumed"
	assert_eq "$((size - n * part))" "$sent" "$store: bytes sent by the rerun (the rest after the journaled parts)"
	verified "$store" big.bin
done
rgw_no_uploads "after the resumed copy"
"$UFS_SERVERS/azcurl.sh" GET "/$cont/big.bin?comp=blocklist&blocklisttype=uncommitted" \
	-o "$UFS_WORK/blocks.xml" || fail "Get Block List"
grep -q "<UncommittedBlocks><Block>" "$UFS_WORK/blocks.xml" &&
	fail "uncommitted blocks left on Azurite: $(head -c 300 "$UFS_WORK/blocks.xml")"

# --- 2. the journaled upload was aborted meanwhile -----------------------------------
start_killed aborted rgw mid.bin
id=$(awk '$1 == "U" {id = $6} END {print id}' "$journal")
[[ -n $id ]] || fail "no upload id journaled"
rgw_curl DELETE "/$bkt/mid.bin?uploadId=$id" -o /dev/null || fail "abort upload $id"
rerun aborted
assert_eq "started over: journaled upload not resumed: the upload no longer exists" "$reason" "aborted upload"
assert_eq $((64 << 20)) "$sent" "aborted upload: the whole file sent again"
verified rgw mid.bin

# --- 3. the source changed between the runs ------------------------------------------
rgw_curl DELETE "/$bkt/mid.bin" -o /dev/null
start_killed changed rgw mid.bin
touch -d '2001-02-03 04:05:06' "$UFS_WORK/src/mid.bin"
rerun changed
assert_eq "started over: the source changed since the journaled upload" "$reason" "changed source"
verified rgw mid.bin
rgw_no_uploads "after a changed source (the stale upload must be aborted)"

# --- 4. s3rver cannot list parts: start over with the reason -------------------------
start_killed s3rver s3 mid.bin
rerun s3rver
[[ $reason == "started over: journaled upload not resumed: listing the upload's parts failed"* ]] ||
	fail "s3rver: reason '$reason'"
verified s3 mid.bin
ufs_pass
