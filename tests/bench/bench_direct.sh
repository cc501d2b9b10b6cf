#!/usr/bin/env bash
# bench_direct.sh — the direct path (libunifs) against the FUSE path and the
# raw protocol, one run, servers on loopback. S3 is Ceph RGW (BENCH_S3=s3rver
# for s3rver; tests/bench/s3target.sh). Sections (BENCH_ONLY="cold nfs warm disk save loader" picks some):
#   cold   S3 object of BENCH_MB (1024) MiB, fresh mounts: curl GET vs FUSE
#          `dd bs=16M` vs direct (direct_probe read: 16 MiB entries, 8 deep)
#   nfs    the same bytes on ganesha: nfs-cat vs FUSE dd vs direct
#   warm   again from the memory cache: FUSE dd vs direct (a new process
#          and buffer; and the steady state of one buffer reused)
#   disk   from the disk tier (memory cold): direct vs `dd iflag=direct` of
#          the cache's block files
#   save   checkpoint save: direct ufs_write batches (8 MiB parts) vs curl
#          multipart (same parts, 4 in flight) vs `cp` through the mount
#   loader shuffled DataLoader, BENCH_FILES (3000) x 128 KiB, 4 workers,
#          cold: with prefetch of the sampler order vs without
# Each row: seconds, MB/s and client CPU seconds per GiB (application +
# unifs daemon, from /proc; the servers' CPU is not counted).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench direct"

mb=${BENCH_MB:-1024}
nfiles=${BENCH_FILES:-3000}
only=" ${BENCH_ONLY:-cold nfs warm disk save loader} "
want() { [[ $only == *" $1 "* ]]; }
build=${UFS_BUILD:-$UFS_SRC/build}
probe=$build/direct_probe
py=${UFS_PYTHON:-/usr/bin/python3}
export UNIFS_LIB=$build/libunifs.so
[[ -x $probe ]] || fail "direct_probe not built: $probe"

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
ticks=$(getconf CLK_TCK)
cpu_of() { awk -v t="$ticks" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# run_cpu CMD...: "seconds cpu_seconds rc" of CMD and everything it waited
# for (its stdout goes to $RUN_OUT when set, else nowhere)
run_cpu()
{
	"$py" - "$@" <<'PY'
import os, resource, subprocess, sys, time
out = open(os.environ["RUN_OUT"], "w") if os.environ.get("RUN_OUT") else subprocess.DEVNULL
t = time.time()
rc = subprocess.run(sys.argv[1:], stdout=out).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f %d" % (time.time() - t, r.ru_utime + r.ru_stime, rc))
PY
}

# ---- S3 target ----
source "$(dirname "$0")/s3target.sh"
s3_target
bkt=$(ufs_uniq bdirect)
s3_new_bucket "$bkt"

declare -A SEC CPU
# record KEY "secs cpu_app" DAEMON_CPU_BEFORE DAEMON_PID
record()
{
	local secs app rc d0=$3 pid=$4 d1
	read -r secs app rc <<<"$2"
	if [[ ${rc:-1} != 0 ]]; then # a failed run is no measurement
		SEC[$1]=failed CPU[$1]=failed
		return
	fi
	d1=$( [[ -n $pid ]] && cpu_of "$pid" || echo "$d0")
	SEC[$1]=$secs
	CPU[$1]=$(awk -v a="$app" -v x="$d0" -v y="$d1" -v m="$mb" 'BEGIN { printf "%.2f", (a + y - x) / (m / 1024) }')
}
# timed KEY PID CMD...: drop caches, run CMD, record time and client CPU
timed()
{
	local key=$1 pid=$2 d0
	shift 2
	drop
	d0=$( [[ -n $pid ]] && cpu_of "$pid" || echo 0)
	record "$key" "$(run_cpu "$@")" "$d0" "$pid"
	echo "bench_direct: $key: ${SEC[$key]} s, ${CPU[$key]} CPU-s/GiB" >&2
}

# timed_steady KEY PID FILE: the direct read of FILE in one process with one
# buffer, 4 passes (PROBE_PASSES): seconds = median of passes 2-4 (a loader
# allocates its buffers once; pass 1 pays the buffer's first touch, which on
# a VM that backs guest memory lazily costs ~5 us a page); CPU = everything
# the 4 passes cost (app + daemon), per GiB read.
timed_steady()
{
	local key=$1 pid=$2 out=$UFS_WORK/steady.out d0 d1 secs app rc
	drop
	d0=$(cpu_of "$pid")
	read -r secs app rc <<<"$(PROBE_PASSES=4 RUN_OUT=$out run_cpu "$probe" read "$3")"
	d1=$(cpu_of "$pid")
	if [[ $rc != 0 ]]; then
		SEC[$key]=failed CPU[$key]=failed
		return
	fi
	SEC[$key]=$(sed -n '2,4p' "$out" | awk '{ print $2 }' | sort -n | sed -n 2p)
	CPU[$key]=$(awk -v a="$app" -v x="$d0" -v y="$d1" -v m="$mb" 'BEGIN { printf "%.2f", (a + y - x) / (4 * m / 1024) }')
	echo "bench_direct: $key: passes $(awk '{ printf "%s ", $2 }' "$out")s, ${CPU[$key]} CPU-s/GiB" >&2
}

DPID=
n_mounts=0
# fresh_mount [GLOBAL-LINES...]: a new mount of the bucket (/s3) and the NFS
# directory (/nfs) at $MNT; DPID = its daemon.
fresh_mount()
{
	[[ -n ${MNT:-} ]] && ufs_umount "$MNT"
	n_mounts=$((n_mounts + 1))
	MNT=$UFS_WORK/m$n_mounts
	{
		echo "[global]"
		echo "memory = 2G"
		printf '%s\n' "$@"
		printf '[mount "/s3"]\nurl = s3://%s/\nendpoint = %s\npath_style = true\n' "$bkt" "$S3EP"
		printf '[mount "/nfs"]\nurl = %s/%s\n' "$UFS_NFS_URL" "$nfsdir"
	} | ufs_config "$UFS_WORK/m$n_mounts.conf"
	ufs_mount "$UFS_WORK/m$n_mounts.conf" "$MNT"
	DPID=$(pgrep -f -- "mount $UFS_WORK/m$n_mounts.conf $MNT" | head -1)
}

nfsdir=bdirect-$$-$RANDOM
mkdir -p "$UFS_NFS_EXPORT_DIR/$nfsdir"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$nfsdir'"
src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src"
if want cold || want warm || want disk; then
	s3raw PUT "/$bkt/obj.bin" -T "$src" -o /dev/null || fail "seeding obj.bin"
fi

if want cold || want warm; then
	timed s3_curl "" curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		${AWS_ACCESS_KEY_ID:+--aws-sigv4 aws:amz:us-east-1:s3 --user $AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY} \
		-o /dev/null "$S3EP/$bkt/obj.bin"
	fresh_mount
	timed s3_fuse "$DPID" dd if="$MNT/s3/obj.bin" of=/dev/null bs=16M
	fresh_mount
	timed s3_direct "$DPID" "$probe" read "$MNT/s3/obj.bin"
	# direct reads do not fill the cache (as O_DIRECT): warm it through FUSE
	cat "$MNT/s3/obj.bin" >/dev/null || fail "warming the cache"
	timed warm_direct "$DPID" "$probe" read "$MNT/s3/obj.bin"
	timed warm_fuse "$DPID" dd if="$MNT/s3/obj.bin" of=/dev/null bs=16M
	timed_steady warm_steady "$DPID" "$MNT/s3/obj.bin"
fi

if want nfs; then
	cp "$src" "$UFS_NFS_EXPORT_DIR/$nfsdir/obj.bin"
	timed nfs_raw "" nfs-cat "$UFS_NFS_URL/$nfsdir/obj.bin"
	fresh_mount
	timed nfs_fuse "$DPID" dd if="$MNT/nfs/obj.bin" of=/dev/null bs=16M
	fresh_mount
	timed nfs_direct "$DPID" "$probe" read "$MNT/nfs/obj.bin"
fi

if want disk; then
	cdir=$UFS_WORK/cdir
	mkdir -p "$cdir"
	fresh_mount "cache_dir = $cdir" "cache_size = 8G"
	cat "$MNT/s3/obj.bin" >/dev/null || fail "filling the disk tier" # direct reads do not fill it
	fresh_mount "cache_dir = $cdir" "cache_size = 8G" # memory cold, disk warm
	timed disk_direct "$DPID" "$probe" read "$MNT/s3/obj.bin"
	find "$cdir" -type f -size +1M >"$UFS_WORK/blocks"
	timed disk_dd "" bash -c 'while read -r f; do dd if="$f" of=/dev/null bs=16M iflag=direct status=none; done <"$1"' _ "$UFS_WORK/blocks"
fi

if want save; then
	fresh_mount
	timed save_direct "$DPID" "$probe" write "$MNT/s3/ck-direct.bin" "$src" $((8 << 20))
	timed save_cp "$DPID" cp "$src" "$MNT/s3/ck-cp.bin"
	parts=$UFS_WORK/parts
	mkdir -p "$parts"
	split -b 8M -d -a 5 "$src" "$parts/p"
	cat >"$UFS_WORK/mpu.sh" <<'MPU'
bkt=$1 parts=$2
part() {
	local etag
	etag=$(s3raw PUT "/$bkt/ck-curl.bin?partNumber=$2&uploadId=$3" -T "$1" -o /dev/null -D - |
		tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p')
	printf '<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>\n' "$2" "$etag" >"$1.xml"
}
uid=$(s3raw POST "/$bkt/ck-curl.bin?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
[[ -n $uid ]] || exit 1
n=0
for f in "$parts"/p?????; do
	n=$((n + 1))
	part "$f" "$n" "$uid" &
	((n % 4 == 0)) && wait
done
wait
{ echo '<CompleteMultipartUpload>'; cat $(ls "$parts"/p*.xml | sort); echo '</CompleteMultipartUpload>'; } >"$parts/complete.xml"
s3raw POST "/$bkt/ck-curl.bin?uploadId=$uid" -T "$parts/complete.xml" -o /dev/null
MPU
	timed save_curl "" bash "$UFS_WORK/mpu.sh" "$bkt" "$parts"
	rm -rf "$parts"
fi

if want loader; then
	small=$UFS_WORK/small
	mkdir -p "$small"
	head -c $((nfiles * 128 << 10)) /dev/urandom | split -b 128K -d -a 5 - "$small/f"
	ls "$small" | xargs -P 32 -I{} bash -c 's3raw PUT "/$1/ds/$2" -T "$3/$2" -o /dev/null' _ "$bkt" {} "$small" ||
		fail "seeding $nfiles objects"
	rm -rf "$small"
	ex=$UFS_SRC/python/examples/torch_prefetch_dataset.py
	fresh_mount
	ls "$MNT/s3/ds" >/dev/null # the listing, as a DataLoader's scan would
	LOADER_NO=$("$py" "$ex" "$MNT/s3/ds" --workers 4 --no-prefetch) || fail "loader without prefetch"
	fresh_mount
	ls "$MNT/s3/ds" >/dev/null
	LOADER_PF=$("$py" "$ex" "$MNT/s3/ds" --workers 4) || fail "loader with prefetch"
fi
[[ -n ${MNT:-} ]] && ufs_umount "$MNT"

# ---- report ----
mbps() { awk -v s="${SEC[$1]:-0}" -v m="$mb" 'BEGIN { if (s > 0) printf "%.0f", m * 1.048576 / s; else print "n/a" }'; }
ratio() { awk -v a="${SEC[$2]:-0}" -v b="${SEC[$1]:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
row() { printf '%-34s %8s %8s %10s   %s\n' "$1" "${SEC[$2]:-n/a}" "$(mbps "$2")" "${CPU[$2]:-n/a}" "${3:-}"; }
printf '\nDirect path, %d MiB, S3 on %s, NFS on ganesha (client CPU = app + daemon)\n' "$mb" "$S3NAME"
printf '%-34s %8s %8s %10s   %s\n' "" "seconds" "MB/s" "CPU-s/GiB" "ratios"
want cold && {
	row "S3 cold: curl GET" s3_curl
	row "S3 cold: FUSE dd bs=16M" s3_fuse
	row "S3 cold: direct" s3_direct "$(ratio s3_direct s3_curl) curl (goal >= 1.0), $(ratio s3_direct s3_fuse) FUSE (goal >= 1.2)"
}
want nfs && {
	row "NFS cold: nfs-cat" nfs_raw
	row "NFS cold: FUSE dd bs=16M" nfs_fuse
	row "NFS cold: direct" nfs_direct "$(ratio nfs_direct nfs_raw) nfs-cat, $(ratio nfs_direct nfs_fuse) FUSE"
}
want warm && {
	row "warm memory: FUSE dd bs=16M" warm_fuse
	row "warm memory: direct, new buffer" warm_direct "$(ratio warm_direct warm_fuse) FUSE"
	row "warm memory: direct, buffer reused" warm_steady "$(ratio warm_steady warm_fuse) FUSE (goal >= 2)"
}
want disk && {
	row "disk tier: dd iflag=direct blocks" disk_dd
	row "disk tier: direct" disk_direct "$(ratio disk_direct disk_dd) dd (goal >= 0.9)"
}
want save && {
	row "save: curl multipart 8 MiB x4" save_curl
	row "save: cp through the mount" save_cp
	row "save: direct ufs_write batches" save_direct "$(ratio save_direct save_curl) curl (goal >= 0.9), $(ratio save_direct save_cp) cp (goal >= 1.3)"
}
want loader && {
	echo "loader, $nfiles x 128 KiB, 4 workers, cold:"
	echo "  without prefetch: $LOADER_NO"
	echo "  with prefetch:    $LOADER_PF"
	awk -v a="$(grep -o '[0-9]* files/s' <<<"$LOADER_PF" | cut -d' ' -f1)" \
		-v b="$(grep -o '[0-9]* files/s' <<<"$LOADER_NO" | cut -d' ' -f1)" \
		'BEGIN { if (a > 0 && b > 0) printf "  prefetch / none: %.2fx (goal >= 3)\n", a / b }'
}
ufs_pass
