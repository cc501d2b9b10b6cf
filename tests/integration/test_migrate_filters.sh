#!/usr/bin/env bash
# tests/integration/test_migrate_filters.sh — the filters and bandwidth
# limit of unifs cp / sync / check (file:// and S3, and one mount):
# --include-from / --exclude-from files ('#' comments, blank lines, a
# missing file: one line, exit 2), '*' within a component and '**' across,
# a "DIR/**" exclude that skips the directory whole, --min-size/--max-size,
# --min-age/--max-age (mtimes set with touch -d), sync --delete that keeps
# what a filter excludes on the destination, check that does not report it;
# --bwlimit 4M on a 16 MiB copy and a mount with bwlimit = 4M reading 8 MiB
# (lower bounds on the time only: they cannot flake under load).
source "$(dirname "$0")/lib.sh"
ufs_begin migrate_filters
command -v jq >/dev/null || fail "jq not installed"
export AWS_ENDPOINT_URL=$UFS_S3_ENDPOINT

# --- fixtures ---------------------------------------------------------------
src=$UFS_WORK/src
mkdir -p "$src/logs/sub" "$src/build/o" "$src/data/2021/06" "$src/keep"
echo a >"$src/a.txt"
echo l >"$src/a.log"
echo k >"$src/keep/x.log"
echo 1 >"$src/logs/1.log"
echo 2 >"$src/logs/sub/2.log"
echo o >"$src/build/o/x.o"
echo m >"$src/data/2021/06/m.csv"
echo t >"$src/data/top.csv"
head -c 100 /dev/urandom >"$src/small.bin"
head -c 204800 /dev/urandom >"$src/big.bin"
echo old >"$src/old.txt"
touch -d '10 days ago' "$src/old.txt"
touch -d '3 hours ago' "$src/a.log"

bkt=$(ufs_uniq filters)
s3_mkbucket "$bkt"

# run CMD...: unifs with stdout/stderr in $UFS_WORK/out /err; returns its status.
run()
{
	within 300 "$UFS_BIN" "$@" >"$UFS_WORK/out" 2>"$UFS_WORK/err"
}

# paths: the sorted paths of the --json-lines entries just printed, one a line.
paths() { jq -r 'select(.action == "copied" or .action == "would_copy") | .path' "$UFS_WORK/out" | sort; }

# files DIR: the files below DIR, relative, sorted.
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }

# expect_usage WHAT PATTERN CMD...: exit status 2 and one stderr line matching PATTERN.
expect_usage()
{
	local what=$1 pattern=$2 rc
	shift 2
	run "$@"
	rc=$?
	assert_eq 2 "$rc" "$what: exit status ($(cat "$UFS_WORK/err"))"
	[[ $(wc -l <"$UFS_WORK/err") -eq 1 ]] || fail "$what: expected one stderr line, got: $(cat "$UFS_WORK/err")"
	grep -Eq -- "$pattern" "$UFS_WORK/err" || fail "$what: '$(cat "$UFS_WORK/err")' !~ /$pattern/"
}

# --- --include-from: comments and blank lines skipped ---------------------------
cat >"$UFS_WORK/inc" <<'PAT'
# only the tables

   *.csv
PAT
run cp -r --include-from "$UFS_WORK/inc" --json-lines "file://$src" "file://$UFS_WORK/d1" ||
	fail "cp --include-from: $(cat "$UFS_WORK/err")"
assert_eq "data/2021/06/m.csv
data/top.csv" "$(files "$UFS_WORK/d1")" "--include-from *.csv"

# --- --exclude-from: '*' stays in a component, 'DIR/**' skips the directory ---
printf '%s\n' '# build output and logs' 'logs/**' '*.o' '/a.*' >"$UFS_WORK/exc"
run cp -r --exclude-from "$UFS_WORK/exc" "file://$src" "file://$UFS_WORK/d2" ||
	fail "cp --exclude-from: $(cat "$UFS_WORK/err")"
assert_eq "big.bin
data/2021/06/m.csv
data/top.csv
keep/x.log
old.txt
small.bin" "$(files "$UFS_WORK/d2")" "--exclude-from"
[[ ! -e $UFS_WORK/d2/logs ]] || fail "an excluded logs/** directory was made on DST"
[[ -d $UFS_WORK/d2/build/o ]] || fail "build/o (only its files excluded) was not made"

# --- '**' across directories, to S3 ------------------------------------------------
run cp -r --include 'data/**/*.csv' --include '**/x.log' --json-lines "file://$src" "s3://$bkt/glob" ||
	fail "cp '**' to s3: $(cat "$UFS_WORK/err")"
assert_eq "data/2021/06/m.csv
data/top.csv
keep/x.log" "$(paths)" "'**' globs ('**/' matching no directory too)"
run cp -r --include 'data/*' --json-lines "file://$src" "s3://$bkt/star" || fail "cp 'data/*'"
assert_eq "data/top.csv" "$(paths)" "'*' does not cross '/'"

# --- size and age -------------------------------------------------------------------
run cp -r --min-size 1K --json-lines "file://$src" "s3://$bkt/size1" || fail "--min-size"
assert_eq "big.bin" "$(paths)" "--min-size 1K"
run cp -r --max-size 100 --include '*.bin' --json-lines "file://$src" "s3://$bkt/size2" || fail "--max-size"
assert_eq "small.bin" "$(paths)" "--max-size 100 (inclusive)"
run cp -r --max-age 1d --include '*.txt' --include '*.log' -n --json-lines "file://$src" "file://$UFS_WORK/age1" ||
	fail "--max-age"
assert_eq "a.log
a.txt
keep/x.log
logs/1.log
logs/sub/2.log" "$(paths)" "--max-age 1d"
run cp -r --min-age 2h --max-age 5d -n --json-lines "file://$src" "file://$UFS_WORK/age2" || fail "--min-age"
assert_eq "a.log" "$(paths)" "--min-age 2h --max-age 5d"

# --- sync --delete keeps what a filter excludes on DST; check ignores it --------
dst=$UFS_WORK/d3
run sync "file://$src" "file://$dst" || fail "first sync: $(cat "$UFS_WORK/err")"
echo extra >"$dst/gone.txt"
echo tmp >"$dst/keep.tmp"
head -c 300000 /dev/urandom >"$dst/huge.dat"
mkdir -p "$dst/logs/extra" && echo x >"$dst/logs/extra/e.log"
run sync --delete --exclude '*.tmp' --exclude 'logs/**' --max-size 250K "file://$src" "file://$dst" ||
	fail "sync --delete with filters: $(cat "$UFS_WORK/err")"
[[ ! -e $dst/gone.txt ]] || fail "sync --delete kept an extra file no filter excludes"
[[ -e $dst/keep.tmp ]] || fail "sync --delete removed a file --exclude '*.tmp' covers"
[[ -e $dst/huge.dat ]] || fail "sync --delete removed a file --max-size excludes"
[[ -e $dst/logs/extra/e.log ]] || fail "sync --delete went into an excluded logs/** directory"
run check --exclude '*.tmp' --exclude 'logs/**' --max-size 250K "file://$src" "file://$dst" ||
	fail "check with the same filters finds differences: $(cat "$UFS_WORK/out")"
run check "file://$src" "file://$dst"
assert_eq 1 $? "check without filters sees the excluded extras"
grep -qx "extra keep.tmp" "$UFS_WORK/out" || fail "check: no 'extra keep.tmp': $(cat "$UFS_WORK/out")"

# --- bad input: one line, exit 2 -------------------------------------------------
expect_usage "missing --include-from" "include-from .*nope: No such file" \
	cp -r --include-from "$UFS_WORK/nope" "file://$src" "file://$UFS_WORK/x"
expect_usage "missing --exclude-from" "exclude-from .*nope: No such file" \
	sync --exclude-from "$UFS_WORK/nope" "file://$src" "file://$UFS_WORK/x"
expect_usage "bad --min-size" "bad --min-size 'lots'" cp -r --min-size lots "file://$src" "file://$UFS_WORK/x"
expect_usage "bad --max-age" "bad --max-age '3x'" cp -r --max-age 3x "file://$src" "file://$UFS_WORK/x"
expect_usage "bad --bwlimit" "bad --bwlimit '-1'" cp -r --bwlimit -1 "file://$src" "file://$UFS_WORK/x"

# --- --bwlimit: 16 MiB at 4 MiB/s takes >= ~3 s (4 s when exact) ---------------
mkdir -p "$UFS_WORK/bw"
head -c $((8 << 20)) /dev/urandom >"$UFS_WORK/bw/1.bin"
head -c $((8 << 20)) /dev/urandom >"$UFS_WORK/bw/2.bin"
t0=$(date +%s.%N)
run cp -r --bwlimit 4M "file://$UFS_WORK/bw" "s3://$bkt/bw" || fail "cp --bwlimit: $(cat "$UFS_WORK/err")"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 3.0) }' ||
	fail "cp --bwlimit 4M of 16 MiB took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s (< 3 s)"
run check --checksum "file://$UFS_WORK/bw" "s3://$bkt/bw" || fail "--bwlimit copy differs"

# --- a mount with bwlimit = 4M: reading 8 MiB takes >= ~1.5 s ------------------
cfg=$UFS_WORK/unifs.conf
ufs_config "$cfg" <<CFG
[global]
memory  = 256M
bwlimit = 4M

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $UFS_S3_ENDPOINT
path_style = true
CFG
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt"
t0=$(date +%s.%N)
cmp "$UFS_WORK/bw/1.bin" "$mnt/s3/bw/1.bin" || fail "read through the limited mount differs"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1.5) }' ||
	fail "reading 8 MiB with bwlimit = 4M took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s (< 1.5 s)"

ufs_pass
