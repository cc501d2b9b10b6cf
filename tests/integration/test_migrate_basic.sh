#!/usr/bin/env bash
# tests/integration/test_migrate_basic.sh — unifs cp / sync / check across
# every scheme (file -> nfs -> s3 -> az -> file), no mount: content and
# awkward names round-trip, mtime kept on file/nfs, empty directories made,
# symlinks copied on file/nfs and skipped with a warning on object stores;
# sync copies only what changed, --dry-run changes nothing, --delete removes
# extras; check's exit status and findings; --include/--exclude; --json and
# --json-lines; two shards make the whole; and bad input (a missing source,
# a shard out of range, a bad option value...: one line on stderr, exit 1
# or 2).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_basic
command -v jq >/dev/null || fail "jq not installed"
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT
export AZURE_STORAGE_CONNECTION_STRING="AccountName=$UFS_AZ_ACCOUNT;AccountKey=$UFS_AZ_KEY;BlobEndpoint=$UFS_AZ_ENDPOINT"

# --- fixtures ---------------------------------------------------------------
src=$UFS_WORK/src
mkdir -p "$src/d1/d2" "$src/empty" "$src/we ird %+?ü"
head -c 20000000 /dev/urandom >"$src/big.bin"
for i in $(seq 1 60); do head -c $((i * 997)) /dev/urandom >"$src/d1/f$i"; done
echo deep >"$src/d1/d2/deep.txt"
echo odd >"$src/we ird %+?ü/a b+c%20d?.txt"
echo note >"$src/notes.txt"
ln -s d1/d2/deep.txt "$src/link"
touch -d '2021-03-04 05:06:07' "$src/d1/f1"

nfs_name=$(ufs_uniq migrate)
mkdir -p "$UFS_NFS_EXPORT_DIR/$nfs_name"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfs_name'"
nfs=$UFS_NFS_URL/$nfs_name
bkt=$(ufs_uniq migrate)
s3_mkbucket "$bkt"
cont=$(ufs_uniq migrate)
az_mkcontainer "$cont"

# run CMD...: unifs with stdout/stderr in $UFS_WORK/out /err; returns its status.
run()
{
	within 300 "$UFS_BIN" "$@" >"$UFS_WORK/out" 2>"$UFS_WORK/err"
}

# expect RC WHAT PATTERN CMD...: exit status RC and one stderr line matching PATTERN.
expect()
{
	local want=$1 what=$2 pattern=$3 rc
	shift 3
	run "$@"
	rc=$?
	assert_eq "$want" "$rc" "$what: exit status ($(cat "$UFS_WORK/err"))"
	[[ $(wc -l <"$UFS_WORK/err") -eq 1 ]] || fail "$what: expected one stderr line, got: $(cat "$UFS_WORK/err")"
	grep -Eq -- "$pattern" "$UFS_WORK/err" || fail "$what: '$(cat "$UFS_WORK/err")' !~ /$pattern/"
}

json_field() { jq -r ".$1" "$UFS_WORK/out"; }

# --- file -> nfs: everything, verified, mtime and symlink kept --------------
run cp -r --json "file://$src" "$nfs/t" || fail "cp file -> nfs: $(cat "$UFS_WORK/err")"
assert_eq 65 "$(json_field copied)" "files copied file -> nfs"
assert_eq 0 "$(json_field failed)" "failures file -> nfs"
diff -r "$src" "$UFS_NFS_EXPORT_DIR/$nfs_name/t" >/dev/null || fail "nfs copy differs from the source"
[[ -d $UFS_NFS_EXPORT_DIR/$nfs_name/t/empty ]] || fail "empty dir not made on nfs"
assert_eq "d1/d2/deep.txt" "$(readlink "$UFS_NFS_EXPORT_DIR/$nfs_name/t/link")" "symlink on nfs"
assert_eq "$(stat -c %Y "$src/d1/f1")" "$(stat -c %Y "$UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/f1")" "mtime on nfs"

# --- nfs -> s3: symlink skipped with a warning ---------------------------------
run cp -r "$nfs/t" "s3://$bkt/t"
assert_eq 0 $? "cp nfs -> s3 exit status ($(cat "$UFS_WORK/err"))"
grep -q "link: symlink skipped" "$UFS_WORK/err" || fail "no symlink warning: $(cat "$UFS_WORK/err")"
run check "$nfs/t" "s3://$bkt/t" || fail "check nfs s3: $(cat "$UFS_WORK/out" "$UFS_WORK/err")"

# --- s3 -> az (--checksum check), az -> file ------------------------------------
run cp -r --transfers 4 --streams 2 "s3://$bkt/t" "az://$cont/t" || fail "cp s3 -> az: $(cat "$UFS_WORK/err")"
run check --checksum "s3://$bkt/t" "az://$cont/t" || fail "check --checksum s3 az: $(cat "$UFS_WORK/out")"
run cp -r "az://$cont/t" "file://$UFS_WORK/back" || fail "cp az -> file: $(cat "$UFS_WORK/err")"
rm "$src/link"
diff -r "$src" "$UFS_WORK/back" >/dev/null || fail "round trip differs: $(diff -r "$src" "$UFS_WORK/back" | head -3)"
[[ -d $UFS_WORK/back/empty ]] || fail "empty dir lost on the way through s3 and az"
ln -s d1/d2/deep.txt "$src/link"

# --- a single file; into an existing directory --------------------------------------
run cp "file://$src/notes.txt" "s3://$bkt/one/" || fail "cp one file: $(cat "$UFS_WORK/err")"
assert_eq note "$("$UFS_BIN" cat "s3://$bkt/one/notes.txt")" "single file into a dir"

# --- sync: only the changed file; dry run; --delete -------------------------------
echo changed >>"$src/d1/f7"
run sync --dry-run "file://$src" "$nfs/t" || fail "sync --dry-run"
assert_eq "would_copy d1/f7" "$(cat "$UFS_WORK/out")" "sync --dry-run output"
cmp -s "$src/d1/f7" "$UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/f7" && fail "--dry-run copied"
run sync --json-lines "file://$src" "$nfs/t" || fail "sync: $(cat "$UFS_WORK/err")"
assert_eq 1 "$(jq -r 'select(.action == "copied") | .path' "$UFS_WORK/out" | wc -l)" "files copied by sync"
assert_eq d1/f7 "$(jq -r 'select(.action == "copied") | .path' "$UFS_WORK/out")" "the file sync copied"
jq -e 'select(.path == "d1/f7") | .xxh3 | test("^[0-9a-f]{32}$")' "$UFS_WORK/out" >/dev/null || fail "no xxh3 in --json-lines"
assert_file_eq "$src/d1/f7" "$UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/f7"
echo extra >"$UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/extra"
run sync "file://$src" "$nfs/t" || fail "sync without --delete"
[[ -e $UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/extra ]] || fail "sync deleted without --delete"
run sync --delete "file://$src" "$nfs/t" || fail "sync --delete"
[[ -e $UFS_NFS_EXPORT_DIR/$nfs_name/t/d1/extra ]] && fail "sync --delete kept the extra file"

# --- check: findings and exit status ---------------------------------------------
run sync "file://$src" "s3://$bkt/t" 2>/dev/null
echo more >>"$src/notes.txt"
rm "$src/d1/f9"
echo new >"$src/d1/new"
run check "file://$src" "s3://$bkt/t"
assert_eq 1 $? "check exit status with differences"
grep -qx "differs notes.txt" "$UFS_WORK/out" || fail "check: no 'differs notes.txt': $(cat "$UFS_WORK/out")"
grep -qx "missing d1/new" "$UFS_WORK/out" || fail "check: no 'missing d1/new'"
grep -qx "extra d1/f9" "$UFS_WORK/out" || fail "check: no 'extra d1/f9'"
run check --json "file://$src" "s3://$bkt/t"
assert_eq "1/1/1" "$(json_field differs)/$(json_field missing)/$(json_field extra)" "check --json counts"

# --- filters -------------------------------------------------------------------
run cp -r --include '*.txt' --exclude 'notes*' --json-lines "file://$src" "s3://$bkt/filtered" ||
	fail "cp with filters"
assert_eq "d1/d2/deep.txt
we ird %+?ü/a b+c%20d?.txt" "$(jq -r .path "$UFS_WORK/out" | sort)" "files passing the filters"

# --- shards: 0/2 and 1/2 make the whole, disjoint --------------------------------
run cp -r --shard 0/2 --json-lines "file://$src" "s3://$bkt/sh" || fail "shard 0/2"
n0=$(grep -c '"copied"' "$UFS_WORK/out")
run cp -r --shard 1/2 --json-lines "file://$src" "s3://$bkt/sh" || fail "shard 1/2"
n1=$(grep -c '"copied"' "$UFS_WORK/out")
((n0 > 10 && n1 > 10)) || fail "shards unbalanced: $n0 / $n1"
run check "file://$src" "s3://$bkt/sh" || fail "union of the shards: $(cat "$UFS_WORK/out")"

# --- bad input: one line each, exit 1 (runtime) or 2 (usage) --------------------
expect 1 "missing source" "No such file or directory" cp -r "file://$UFS_WORK/nope" "s3://$bkt/x"
expect 1 "unwritable destination" "^unifs: cp: file:///proc/unifs-migrate: create: " cp "file://$src/notes.txt" "file:///proc/unifs-migrate"
expect 1 "destination is a file" "not a directory" cp -r "file://$src/d1" "file://$src/notes.txt"
expect 2 "SRC == DST" "are the same" sync "file://$src" "file://$src"
expect 2 "shard out of range" "K must be below N" cp -r --shard 2/2 "file://$src" "s3://$bkt/x"
expect 2 "bad --transfers" "bad --transfers" cp --transfers 0 "file://$src" "s3://$bkt/x"
expect 2 "--delete on cp" "for sync only" cp --delete "file://$src" "s3://$bkt/x"
expect 1 "directory without -r" "use -r" cp "file://$src" "s3://$bkt/x"
AWS_ACCESS_KEY_ID=WRONG expect 1 "wrong credentials" "denied|credential|Forbidden|InvalidAccessKeyId|Permission" \
	cp -r "file://$src" "s3://$bkt/creds"
printf 'not a journal\n' >"$UFS_WORK/foreign.journal"
expect 1 "foreign journal" "not a unifs journal" cp -r --journal "$UFS_WORK/foreign.journal" "file://$src" "s3://$bkt/j"
run cp -r --journal "$UFS_WORK/j1" "file://$src" "s3://$bkt/j" || fail "cp with a journal"
expect 1 "other job's journal" "belongs to another job" cp -r --journal "$UFS_WORK/j1" "file://$src" "s3://$bkt/j2"
sed -i '2s/^D \(.\)/D 0\1/' "$UFS_WORK/j1"
expect 1 "corrupt journal" "line 2 is corrupt" cp -r --journal "$UFS_WORK/j1" "file://$src" "s3://$bkt/j"
expect 2 "--resume without --journal" "needs --journal" cp -r --resume "file://$src" "s3://$bkt/j"
ufs_pass
