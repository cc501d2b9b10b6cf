#!/usr/bin/env bash
# test_list_stream.sh — directories read page by page (fs/ops/dir_stream.c)
# through the mount with ordinary tools.
#
# Two kinds of server, one mount with memory = 64M:
#   - list_server.py (tests/bench: synthetic keys, generated on the fly):
#     an S3 bucket and an Azure container of $N keys each, a listing larger
#     than a quarter of memory, so it is streamed and never cached (s3rver
#     and Azurite re-scan every key per page: tens of thousands of keys take
#     minutes a listing there);
#   - s3rver and Azurite: a prefix of $M keys (3 pages) and a subdirectory
#     of 3 files each.
# On each: `ls -f`, `find`, `du -a`, Python os.scandir and os.walk each see
# every entry exactly once; dir_seek (telldir before each entry, seekdir back
# and forth to 64 of them, rewinddir and a second read) gives POSIX
# positions within one open stream. On the synthetic ones also: the listing
# memory stays within a quarter of the budget plus two pages
# (metadata.list_peak), the listings are counted as not cached, and a stat
# right after a listing answers from the listed attributes (no HEAD).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/az_lib.sh"
ufs_begin "list stream"

N=${UFS_LIST_STREAM_N:-70000}
M=2500
SEEK=$UFS_BUILD/dir_seek
[[ -x $SEEK ]] || fail "dir_seek not built: $SEEK"

list_server_start
syn=$LIST_SERVER

bkt=$(ufs_uniq lstream)
s3_mkbucket "$bkt"
az_mkcontainer "$bkt"
s3_bulk_put "$bkt" "small/" "$M" &
s3pid=$!
az_bulk_put "$bkt" "small/" "$M" &
azpid=$!
wait $s3pid || fail "seeding s3 failed"
wait $azpid || fail "seeding azure failed"
printf 'x\n' >"$UFS_WORK/x"
for f in a b c; do
	s3_put "$bkt/small/sub/$f" "$UFS_WORK/x"
	az_put "$bkt/small/sub/$f" "$UFS_WORK/x"
done

(umask 077 && printf '%s\n' "$UFS_AZ_KEY" >"$UFS_WORK/az.key")
mnt=$UFS_WORK/mnt
ufs_config "$UFS_WORK/unifs.conf" <<EOF
[global]
memory = 64M

[mount "/syn-s3"]
url        = s3://syn-$N-t/
endpoint   = $syn
path_style = true

[mount "/syn-az"]
url      = az://syn-$N-t/
endpoint = $syn/devstoreaccount1
account  = devstoreaccount1
key_file = $UFS_WORK/az.key

[mount "/s3"]
url        = s3://$bkt/
endpoint   = $UFS_S3_ENDPOINT
path_style = true

[mount "/az"]
url      = az://$bkt/
endpoint = $UFS_AZ_ENDPOINT
account  = $UFS_AZ_ACCOUNT
key_file = $UFS_WORK/az.key
EOF
ufs_mount "$UFS_WORK/unifs.conf" "$mnt"

heads() { ufs_requests "$mnt" "$1" HEAD; }

# once WHAT COUNT: stdin has COUNT lines, none twice
once()
{
	local what=$1 want=$2 out n d
	out=$(cat)
	n=$(wc -l <<<"$out")
	d=$(sort <<<"$out" | uniq -d | head -3)
	[[ -z $d ]] || fail "$what: listed twice: $d"
	assert_eq "$n" "$want"
}

# each DIR FILES SUBFILES: the tools on DIR (FILES files, and one
# subdirectory of SUBFILES files when SUBFILES > 0)
each()
{
	local dir=$1 files=$2 sub=$3 subdir=0 all
	((sub > 0)) && subdir=1
	all=$((1 + files + subdir + sub)) # the directory, its files, the subdirectory's
	ls -f "$dir" | once "$dir: ls -f" $((files + subdir + 2))
	find "$dir" | once "$dir: find" "$all"
	du -a "$dir" | awk '{print $2}' | once "$dir: du -a" "$all"
	python3 - "$dir" <<'PY' | once "$dir: os.scandir" $((files + subdir))
import os, sys
with os.scandir(sys.argv[1]) as it:
    for e in it:
        print(e.name)
PY
	python3 - "$dir" <<'PY' | once "$dir: os.walk" "$all"
import os, sys
for root, dirs, files in os.walk(sys.argv[1]):
    print(root)
    for f in files:
        print(os.path.join(root, f))
PY
	"$SEEK" "$dir" $((files + subdir)) || fail "$dir: directory positions"
	echo "  $dir: ls -f, find, du -a, os.scandir, os.walk, dir_seek: every entry once"
}

for m in syn-s3 syn-az; do
	each "$mnt/$m" "$N" 0
	# a stat right after a listing: from the listed attributes, no HEAD
	ls -f "$mnt/$m" >/dev/null
	h0=$(heads "/$m")
	stat -c %s "$mnt/$m/k00000042" "$mnt/$m/k$(printf %08d $((N - 1)))" >/dev/null
	h1=$(heads "/$m")
	echo "  /$m: HEAD requests for 2 stats after a listing: $((h1 - h0))"
	((h1 - h0 <= 0)) || fail "$m: stat after a listing asked the server ($((h1 - h0)) HEAD)"
done
limit=$((64 << 20))
read -r lpeak uncached <<<"$(ufs_stats "$mnt" metadata.list_peak metadata.lists_uncached)"
echo "  listing memory peak $lpeak bytes of memory $limit; listings not cached: $uncached"
((uncached >= 2)) || fail "the big listings were cached (quarter of memory: $((limit / 4)))"
((lpeak <= limit / 4 + (2 << 20))) || fail "listing memory peaked at $lpeak bytes"
for m in s3 az; do
	each "$mnt/$m/small" "$M" 3
done
ufs_pass
