#!/usr/bin/env bash
# bench_cache.sh — the block cache and read-ahead against the raw protocols
# and the peers installable here (s3fs, rclone mount), in one run:
#   1. cold sequential read of BENCH_MB (1 GiB): S3 (unifs / one curl GET /
#      s3fs / rclone), NFS (unifs / nfs-cat), Blob (unifs / one curl GET)
#   2. epoch 2: the same S3 object after a remount, from the disk tier
#   3. DataLoader: 5,000 objects of 128 KiB, 8 parallel readers and 1 reader
#      in directory order: files/s, unifs vs s3fs vs rclone
#   4. ls -l of a 10,000-key prefix: unifs (cold) vs curl paging vs s3fs
#   5. 4 concurrent sequential readers of 4 x 256 MiB vs 4 parallel curls
#   6. random 64 KiB reads over the 1 GiB object: bytes fetched / bytes read
#   7. daemon peak RSS (VmHWM) vs memory + 64 MiB; CPU seconds per GiB
#      (daemon utime+stime) vs curl's, and the daemon's in epoch 2
# S3 is Ceph RGW (multi-threaded, verifies SigV4), or s3rver with
# BENCH_S3=s3rver (tests/bench/s3target.sh).
# Page caches are dropped before every cold measurement (as root); the S3
# unifs/curl pair runs 3 alternating rounds and reports medians. Peers get
# PEER_SECS seconds per DataLoader/ls run (files/s is counted in that time).
# Knobs: BENCH_MB (1024), BENCH_NFS_MB / BENCH_AZ_MB (512), DL_FILES (5000),
# LS_KEYS (10000), RAND_READS (2048), PEER_SECS (30), BENCH_ONLY (sections to
# run, default all: "s3 nfs blob epoch2 dl ls quad rand"; s3 = 1 and 7, e.g.
# BENCH_ONLY="s3 epoch2 quad" for the CPU-bound S3 figures; data is seeded
# only for the sections run, the others print n/a).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../integration/az_lib.sh"
ufs_begin "bench cache"

mb=${BENCH_MB:-1024}
nfs_mb=${BENCH_NFS_MB:-512}
az_mb=${BENCH_AZ_MB:-512}
dl_files=${DL_FILES:-5000}
ls_keys=${LS_KEYS:-10000}
rand_reads=${RAND_READS:-2048}
peer_secs=${PEER_SECS:-30}
only=" ${BENCH_ONLY:-s3 nfs blob epoch2 dl ls quad rand} "
mem=512 # MiB: the unifs memory budget (smaller than the object: RSS must stay bounded)
declare -A R

# want SECTION: true if BENCH_ONLY selects SECTION.
want() { [[ $only == *" $1 "* ]]; }

now() { date +%s.%N; }
mbps() { awk -v s="$2" -v e="$3" -v m="$1" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", e - s }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# cpu_of PID: utime+stime seconds so far.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
# hwm PID: peak resident memory (VmHWM) in MiB.
hwm() { awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$1/status"; }
# daemon_pid MNT: the unifs daemon serving MNT.
daemon_pid() { pgrep -f -- "unifs mount .* $1\$" | head -1; }
# stat_of MNT KEY: cache counter KEY from `unifs stats --json` (gets: S3 GETs).
stat_of()
{
	"$UFS_BIN" stats --json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
k = sys.argv[1]
print(j["backends"][0]["requests"]["GET"] if k == "gets" else j["cache"][k])' "$2"
}

# s3_conf FILE BUCKET [EXTRA-LINES]: a one-mount S3 config at /.
s3_conf()
{
	ufs_config "$1" <<EOF
[global]
memory = ${mem}M
${3:-}
[mount "/"]
url = s3://$2/
endpoint = $UFS_S3_ENDPOINT
path_style = true
EOF
}

# fresh_mount CONF MNT: unmount MNT if mounted, mount CONF there, drop caches.
fresh_mount()
{
	ufs_umount "$2"
	ufs_mount "$1" "$2"
	drop
}

# timed TAG MB CMD...: run CMD, R[TAG] = MB/s.
timed()
{
	local tag=$1 size=$2 t0
	shift 2
	t0=$(now)
	"$@" >/dev/null || fail "$tag: $*"
	R[$tag]=$(mbps "$size" "$t0" "$(now)")
}

# s3_bulk BUCKET PREFIX COUNT SIZE: COUNT objects PREFIX%05d of SIZE random
# bytes, PUT over 8 keep-alive connections, signed with botocore's SigV4.
s3_bulk()
{
	python3 - "$@" <<'PY' || fail "s3_bulk $*"
import concurrent.futures as cf, http.client, os, sys, threading, urllib.parse
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
bkt, prefix, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base = os.environ["S3EP"]
ep = urllib.parse.urlsplit(base)
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
local = threading.local()
def put(i):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=120)
    path, body = "/%s/%s%05d" % (bkt, prefix, i), os.urandom(size)
    req = AWSRequest("PUT", base + path, data=body, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    local.c.request("PUT", path, body=body, headers=dict(req.headers.items()))
    r = local.c.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit("PUT %s%05d: HTTP %d" % (prefix, i, r.status))
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(put, range(count)))
PY
}

# readers DIR N SECS: read every file of DIR (directory order) with N
# threads for at most SECS seconds; prints "files seconds".
readers()
{
	python3 - "$@" <<'PY'
import os, sys, threading, time
d, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
names = [e.name for e in os.scandir(d)]
lock, nxt, done = threading.Lock(), [0], [0]
t0 = time.time()
def work():
    while time.time() - t0 < limit:
        with lock:
            i = nxt[0]
            nxt[0] += 1
        if i >= len(names):
            return
        with open(os.path.join(d, names[i]), "rb") as f:
            while f.read(1 << 20):
                pass
        with lock:
            done[0] += 1
ts = [threading.Thread(target=work) for _ in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(done[0], "%.3f" % (time.time() - t0))
PY
}

# files_per_s TAG DIR N SECS: R[TAG] = files/s of readers (and the count).
files_per_s()
{
	local out
	out=$(readers "$2" "$3" "$4") || { R[$1]=n/a; return; }
	R[$1]=$(awk '{ printf "%.0f", $1 / $2 }' <<<"$out")
	R[$1_n]=${out%% *}
}

source "$(dirname "$0")/peers.sh"
source "$(dirname "$0")/s3target.sh"
s3_target

# ---- data ----------------------------------------------------------------
echo "bench_cache: seeding data for:$only" >&2
bkt=$(ufs_uniq benchcache)
s3_new_bucket "$bkt"
src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src"
s3_put_file() { s3raw PUT "/$bkt/$1" -T "$2" -o /dev/null || fail "put $1"; }
if want s3 || want epoch2 || want rand; then s3_put_file big.bin "$src"; fi
if want quad; then
	head -c $((256 << 20)) "$src" >"$UFS_WORK/q.bin"
	for i in 0 1 2 3; do s3_put_file "quad/q$i.bin" "$UFS_WORK/q.bin"; done
	rm -f "$UFS_WORK/q.bin"
fi
# The 15,000 small objects of sections 3 and 4 are seeded just before those
# sections: in a run that seeded them up front, s3rver served the 1 GiB reads
# of sections 1-2 at a fraction of its usual speed (curl 50-80 MB/s, not ~480).

conf=$UFS_WORK/unifs.conf
mnt=$UFS_WORK/unifs
s3_conf "$conf" "$bkt"

# ---- 1. cold sequential reads + 7. RSS and CPU ---------------------------
# curl and unifs alternate for 3 rounds (medians reported): the machine is
# shared, and one noisy slot must not decide a ratio.
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
curl_runs=() unifs_runs=() curl_cpu=0 ufs_cpu=0 gets_seq=n/a
for round in 1 2 3; do
	want s3 || break
	drop
	t0=$(now)
	cpu=$( { /usr/bin/time -f '%U %S' bash -c 's3raw GET "$0" -o /dev/null' "/$bkt/big.bin"; } 2>&1 |
		awk 'END { print $1 + $2 }') || fail "curl GET"
	curl_runs+=("$(mbps "$mb" "$t0" "$(now)")")
	[[ $round == 1 ]] && curl_cpu=$cpu
	fresh_mount "$conf" "$mnt"
	pid=$(daemon_pid "$mnt")
	c0=$(cpu_of "$pid")
	timed s3_unifs "$mb" cat "$mnt/big.bin"
	unifs_runs+=("${R[s3_unifs]}")
	if [[ $round == 1 ]]; then
		ufs_cpu=$(awk -v a="$c0" -v b="$(cpu_of "$pid")" 'BEGIN { printf "%.2f", b - a }')
		gets_seq=$(stat_of "$mnt" gets)
		R[rss_cold]=$(hwm "$pid")
	fi
done
if want s3; then
	R[s3_curl]=$(median3 "${curl_runs[@]}")
	R[s3_unifs]=$(median3 "${unifs_runs[@]}")
	R[s3_runs]="curl ${curl_runs[*]}; unifs ${unifs_runs[*]}"
fi

m=$UFS_WORK/s3fs
if want s3 && mount_s3fs "$bkt" "$m"; then
	drop
	timed s3_s3fs "$mb" cat "$m/big.bin"
	ufs_umount "$m"
fi
m=$UFS_WORK/rclone
if want s3 && mount_rclone "$bkt" "$m"; then
	drop
	timed s3_rclone "$mb" cat "$m/big.bin"
	ufs_umount "$m"
fi

# NFS: unifs vs nfs-cat (libnfs, one connection)
if want nfs; then
	ndir=$(ufs_uniq bench-cache)
	mkdir -p "$UFS_NFS_EXPORT_DIR/$ndir"
	on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$ndir'"
	head -c $((nfs_mb << 20)) "$src" >"$UFS_NFS_EXPORT_DIR/$ndir/file.bin"
	drop
	timed nfs_nfscat "$nfs_mb" nfs-cat "$UFS_NFS_URL/$ndir/file.bin"
	ufs_config "$UFS_WORK/nfs.conf" <<EOF
[global]
memory = ${mem}M
[mount "/"]
url = $UFS_NFS_URL/$ndir
EOF
	fresh_mount "$UFS_WORK/nfs.conf" "$UFS_WORK/nfs"
	timed nfs_unifs "$nfs_mb" cat "$UFS_WORK/nfs/file.bin"
	ufs_umount "$UFS_WORK/nfs"
fi

# Blob: unifs vs one signed curl GET
if want blob; then
	cont=$(ufs_uniq benchcache)
	az_mkcontainer "$cont" # deleted at exit
	head -c $((az_mb << 20)) "$src" >"$UFS_WORK/az.bin"
	az_put "$cont/file.bin" "$UFS_WORK/az.bin"
	rm -f "$UFS_WORK/az.bin"
	drop
	timed az_curl "$az_mb" az_get "$cont/file.bin" /dev/null
	az_write_config "$UFS_WORK/az.conf" "$cont"
	fresh_mount "$UFS_WORK/az.conf" "$UFS_WORK/az"
	timed az_unifs "$az_mb" cat "$UFS_WORK/az/blob/file.bin"
	ufs_umount "$UFS_WORK/az"
fi

# ---- 2. epoch 2: disk tier after a remount --------------------------------
if want epoch2; then
	s3_conf "$UFS_WORK/disk.conf" "$bkt" "cache_dir = $UFS_WORK/cache
	cache_size = 4G"
	fresh_mount "$UFS_WORK/disk.conf" "$mnt"
	timed s3_cold_disk "$mb" cat "$mnt/big.bin"
	fresh_mount "$UFS_WORK/disk.conf" "$mnt"
	c0=$(cpu_of "$(daemon_pid "$mnt")")
	timed s3_epoch2 "$mb" cat "$mnt/big.bin"
	R[cpu_epoch2]=$(awk -v a="$c0" -v b="$(cpu_of "$(daemon_pid "$mnt")")" -v m="$mb" 'BEGIN { printf "%.2f", (b - a) * 1024 / m }')
	R[epoch2_gets]=$(stat_of "$mnt" gets)
fi

# ---- 3. DataLoader --------------------------------------------------------
if want dl; then
	s3_bulk "$bkt" dl/f "$dl_files" $((128 << 10))
	for n in 8 1; do
		fresh_mount "$conf" "$mnt"
		files_per_s "dl_unifs_$n" "$mnt/dl" "$n" 600
		m=$UFS_WORK/s3fs
		if mount_s3fs "$bkt" "$m"; then
			drop
			files_per_s "dl_s3fs_$n" "$m/dl" "$n" "$peer_secs"
			ufs_umount "$m"
		fi
		m=$UFS_WORK/rclone
		if mount_rclone "$bkt" "$m"; then
			drop
			files_per_s "dl_rclone_$n" "$m/dl" "$n" "$peer_secs"
			ufs_umount "$m"
		fi
	done
fi

# ---- 4. ls -l of a 10,000-key prefix --------------------------------------
if want ls; then
	s3_bulk "$bkt" ls/k "$ls_keys" 1
	fresh_mount "$conf" "$mnt"
	t0=$(now)
	ls -l "$mnt/ls" >"$UFS_WORK/ls.out" || fail "ls -l through unifs"
	R[ls_unifs]=$(secs "$t0" "$(now)")
	assert_eq "$ls_keys" "$(grep -c '^-' "$UFS_WORK/ls.out")" "entries listed by unifs"
	t0=$(now)
	token=""
	while :; do
		page=$(s3raw GET "/$bkt?list-type=2&prefix=ls/&max-keys=1000${token:+&continuation-token=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$token")}") ||
			fail "curl list"
		token=$(grep -o '<NextContinuationToken>[^<]*' <<<"$page" | sed 's/<NextContinuationToken>//')
		[[ -z $token ]] && break
	done
	R[ls_curl]=$(secs "$t0" "$(now)")
	m=$UFS_WORK/s3fs
	if mount_s3fs "$bkt" "$m"; then
		t0=$(now)
		if timeout "$((peer_secs * 4))" ls -l "$m/ls" >/dev/null; then
			R[ls_s3fs]=$(secs "$t0" "$(now)")
		else
			R[ls_s3fs]=">$((peer_secs * 4))"
		fi
		ufs_umount "$m"
	fi
fi

# ---- 5. 4 concurrent sequential readers -----------------------------------
if want quad; then
	drop
	t0=$(now)
	for i in 0 1 2 3; do s3raw GET "/$bkt/quad/q$i.bin" -o /dev/null & done
	wait
	R[quad_curl]=$(mbps 1024 "$t0" "$(now)")
	fresh_mount "$conf" "$mnt"
	t0=$(now)
	for i in 0 1 2 3; do cat "$mnt/quad/q$i.bin" >/dev/null & done
	wait
	R[quad_unifs]=$(mbps 1024 "$t0" "$(now)")
	R[rss_quad]=$(hwm "$(daemon_pid "$mnt")")
fi

# ---- 6. random 64 KiB reads ------------------------------------------------
if want rand; then
	fresh_mount "$conf" "$mnt"
	f0=$(stat_of "$mnt" fetched_bytes)
	rand=$(python3 - "$mnt/big.bin" "$rand_reads" <<'PY'
import os, random, sys, time
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
blocks = os.fstat(fd).st_size // 65536
rng = random.Random(42)
t0 = time.time()
for _ in range(n):
    assert len(os.pread(fd, 65536, rng.randrange(blocks) * 65536)) == 65536
print(n * 65536, "%.1f" % (n / (time.time() - t0)))
PY
	) || fail "random reads"
	read -r rbytes 'R[rand_iops]' <<<"$rand"
	R[rand_ratio]=$(awk -v f="$(( $(stat_of "$mnt" fetched_bytes) - f0 ))" -v r="$rbytes" 'BEGIN { printf "%.2f", f / r }')
	ufs_umount "$mnt"
fi

# ---- report ----------------------------------------------------------------
rss=$(( ${R[rss_cold]:-0} > ${R[rss_quad]:-0} ? ${R[rss_cold]:-0} : ${R[rss_quad]:-0} ))
cpu_gib=$(awk -v c="$ufs_cpu" -v m="$mb" 'BEGIN { printf "%.2f", c * 1024 / m }')
curl_gib=$(awk -v c="$curl_cpu" -v m="$mb" 'BEGIN { printf "%.2f", c * 1024 / m }')
better_peer() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { a += 0; b += 0; print (a > b ? a : b) }'; }
v() { echo "${R[$1]:-n/a}"; }

printf '\nbench_cache (S3 on %s, memory = %d MiB, block 8 MiB; %s)\n' "$S3NAME" "$mem" "$(nproc) cores"
printf '%-44s %12s %12s %12s %12s\n' "" unifs raw s3fs rclone
printf '%-44s %12s %12s %12s %12s\n' "1. S3 cold sequential ${mb} MiB (MB/s)" "$(v s3_unifs)" "$(v s3_curl)" "$(v s3_s3fs)" "$(v s3_rclone)"
printf '%-44s %12s %12s\n' "   NFS cold sequential ${nfs_mb} MiB (MB/s)" "$(v nfs_unifs)" "$(v nfs_nfscat)"
printf '%-44s %12s %12s\n' "   Blob cold sequential ${az_mb} MiB (MB/s)" "$(v az_unifs)" "$(v az_curl)"
printf '%-44s %12s %12s\n' "2. S3 epoch 2 from disk tier (MB/s, GETs)" "$(v s3_epoch2)" "$(v epoch2_gets)"
printf '%-44s %12s\n' "   S3 cold with disk tier on (MB/s)" "$(v s3_cold_disk)"
printf '%-44s %12s\n' "   daemon CPU s/GiB in epoch 2" "$(v cpu_epoch2)"
printf '%-44s %12s %12s %12s %12s\n' "3. DataLoader 8 readers (files/s)" "$(v dl_unifs_8)" "" "$(v dl_s3fs_8)" "$(v dl_rclone_8)"
printf '%-44s %12s %12s %12s %12s\n' "   DataLoader 1 reader, dir order (files/s)" "$(v dl_unifs_1)" "" "$(v dl_s3fs_1)" "$(v dl_rclone_1)"
printf '%-44s %12s %12s %12s\n' "4. ls -l ${ls_keys} keys (s)" "$(v ls_unifs)" "$(v ls_curl)" "$(v ls_s3fs)"
printf '%-44s %12s %12s\n' "5. 4 readers x 256 MiB (MB/s total)" "$(v quad_unifs)" "$(v quad_curl)"
printf '%-44s %12s %12s\n' "6. random 64 KiB: fetched/read, reads/s" "$(v rand_ratio)" "$(v rand_iops)"
printf '%-44s %12s %12s\n' "7. daemon VmHWM MiB, 1 and 4 readers" "$(v rss_cold)" "$(v rss_quad)"
printf '%-44s %12s %12s\n' "   CPU s/GiB (daemon vs curl)" "$cpu_gib" "$curl_gib"
printf '   S3 GETs for the cold %d MiB read: %s\n' "$mb" "$gets_seq"
printf '   S3 cold rounds (MB/s): %s\n' "$(v s3_runs)"

printf '\nratios vs goals\n'
printf '  S3 unifs/curl           %8s  (goal >= 1.0x)\n' "$(ratio "$(v s3_unifs)" "$(v s3_curl)")"
printf '  S3 unifs/s3fs           %8s  (goal >= 2x)\n' "$(ratio "$(v s3_unifs)" "$(v s3_s3fs)")"
printf '  S3 unifs/rclone         %8s  (goal >= 2x)\n' "$(ratio "$(v s3_unifs)" "$(v s3_rclone)")"
printf '  NFS unifs/nfs-cat       %8s\n' "$(ratio "$(v nfs_unifs)" "$(v nfs_nfscat)")"
printf '  Blob unifs/curl         %8s\n' "$(ratio "$(v az_unifs)" "$(v az_curl)")"
printf '  epoch 2 / cold          %8s  (goal >= 3x)\n' "$(ratio "$(v s3_epoch2)" "$(v s3_unifs)")"
printf '  DataLoader 8 vs best peer %6s  (goal >= 2x)\n' "$(ratio "$(v dl_unifs_8)" "$(better_peer "$(v dl_s3fs_8)" "$(v dl_rclone_8)")")"
printf '  DataLoader 1 vs best peer %6s  (goal >= 2x)\n' "$(ratio "$(v dl_unifs_1)" "$(better_peer "$(v dl_s3fs_1)" "$(v dl_rclone_1)")")"
printf '  ls -l unifs/curl paging %8s  (goal <= 1.5x)\n' "$(ratio "$(v ls_unifs)" "$(v ls_curl)")"
printf '  ls -l s3fs/unifs        %8s  (goal >= 10x)\n' "$(ratio "$(v ls_s3fs | tr -d '>')" "$(v ls_unifs)")"
printf '  4 readers unifs/curl    %8s  (goal >= 0.9x)\n' "$(ratio "$(v quad_unifs)" "$(v quad_curl)")"
printf '  random fetched/read     %8s  (goal <= 2)\n' "$(v rand_ratio)"
printf '  VmHWM                   %6s MiB (goal <= %d MiB)\n' "$rss" "$((mem + 64))"
ufs_pass
