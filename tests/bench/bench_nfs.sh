#!/usr/bin/env bash
# bench_nfs.sh — NFS sequential reads on ganesha (loopback), in one run:
#   nfs-cat    libnfs, one connection: the raw-protocol reference
#   fuse       `dd bs=1M` of the file through a fresh unifs mount
#   direct     the direct path (direct_probe read) on a fresh mount
#   nfs-cat x4 / fuse x4   four concurrent readers of four files (BENCH_MB/4
#              each): four nfs-cats vs four dd through one fresh mount
# each with the server's page cache warm (the files read on the server
# first: only the client path is measured) and cold (page caches dropped,
# as root), in BENCH_ROUNDS (3) interleaved rounds. Prints the medians:
# seconds, MB/s, client CPU seconds per GiB (readers + unifs daemon, from
# /proc; the server's CPU is not counted) and the ratios to nfs-cat.
#
# BENCH_BINS="label=/path/to/unifs[@key=value] ..." compares builds (and
# [mount] settings: "c4=build/unifs@nfs_connections=4") in the same run
# (direct_probe is taken from each binary's directory; default: this tree's
# build as "unifs"). BENCH_MB (1024) sizes the file; BENCH_VERSIONS ("3";
# "3 4" adds NFSv4); BENCH_MOUNT_KEYS adds lines to the [mount] section
# (e.g. "nfs_connections = 4"); BENCH_VERIFY=1 also compares the bytes read
# through unifs with the source. Goals (issue 20): fuse >= 0.9x nfs-cat,
# direct >= 1.2x, client CPU <= 2x nfs-cat's, fuse x4 >= 0.9x nfs-cat x4.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench nfs"

mb=${BENCH_MB:-1024}
rounds=${BENCH_ROUNDS:-3}
bins=${BENCH_BINS:-unifs=$UFS_BIN}
versions=${BENCH_VERSIONS:-3}
py=${UFS_PYTHON:-/usr/bin/python3}
command -v nfs-cat >/dev/null || fail "nfs-cat not found (Debian package libnfs-utils)"
# bin_of / key_of ENTRY: the binary and the extra [mount] line of a BENCH_BINS entry.
bin_of() { local e=${1#*=}; echo "${e%%@*}"; }
key_of() { [[ $1 == *@* ]] && echo "${1#*@}"; }
for b in $bins; do
	[[ -x $(bin_of "$b") && -x $(dirname "$(bin_of "$b")")/direct_probe ]] ||
		fail "$(bin_of "$b") or its direct_probe is missing (build first)"
done

dir=$(ufs_uniq bench-nfs)
exp=$UFS_NFS_EXPORT_DIR/$dir
mkdir -p "$exp"
on_exit "rm -rf '$exp'"
head -c $((mb << 20)) /dev/urandom >"$exp/file.bin" || fail "cannot write $exp/file.bin"
for i in 1 2 3 4; do
	head -c $((mb << 18)) /dev/urandom >"$exp/part$i.bin" || fail "cannot write part$i.bin"
done
sync

ticks=$(getconf CLK_TCK)
cpu_of() { awk -v t="$ticks" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
# run_cpu CMD...: "seconds cpu_seconds rc" of CMD and every process it waited for
run_cpu()
{
	"$py" - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f %d" % (time.time() - t, r.ru_utime + r.ru_stime, rc))
PY
}

# url_with PATH BASEURL: insert PATH before BASEURL's ?query.
url_with()
{
	local base=$2
	if [[ $base == *\?* ]]; then
		echo "${base%%\?*}/$1?${base#*\?}"
	else
		echo "$base/$1"
	fi
}

# prepare warm|cold FILES...: the server's page cache holds FILES, or nothing.
prepare()
{
	local f
	drop
	if [[ $1 == warm ]]; then
		shift
		for f; do cat "$exp/$f" >/dev/null; done
	fi
}

declare -A SECS CPUS
# measure KEY MB PID CMD...: run CMD once; append its seconds and client
# CPU-s per GiB (CMD and its children, plus daemon PID's growth) to KEY.
measure()
{
	local key=$1 size=$2 pid=$3 d0 d1 secs app rc
	shift 3
	d0=$([[ -n $pid ]] && cpu_of "$pid" || echo 0)
	read -r secs app rc <<<"$(run_cpu "$@")"
	d1=$([[ -n $pid ]] && cpu_of "$pid" || echo 0)
	[[ $rc == 0 ]] || fail "$key: $* exited $rc"
	SECS[$key]+="$secs "
	CPUS[$key]+="$(awk -v a="$app" -v x="$d0" -v y="$d1" -v m="$size" \
		'BEGIN { printf "%.3f", (a + y - x) / (m / 1024) }') "
	echo "bench_nfs: $key: $secs s" >&2
}

MNT='' DPID=''
n_mounts=0
# fresh_mount BIN BASEURL [LINE]: a new mount of the bench directory at
# $MNT/nfs (LINE: one more line in its [mount] section).
fresh_mount()
{
	n_mounts=$((n_mounts + 1))
	MNT=$UFS_WORK/m$n_mounts
	{
		printf '[global]\nmemory = 2G\n[mount "/nfs"]\nurl = %s\n' "$(url_with "$dir" "$2")"
		[[ -n ${BENCH_MOUNT_KEYS:-} ]] && printf '%s\n' "$BENCH_MOUNT_KEYS"
		[[ -n ${3:-} ]] && printf '%s\n' "$3"
	} | ufs_config "$UFS_WORK/m$n_mounts.conf"
	UFS_BIN=$1 ufs_mount "$UFS_WORK/m$n_mounts.conf" "$MNT"
	DPID=$(pgrep -f -- "mount $UFS_WORK/m$n_mounts.conf $MNT" | head -1)
	stat "$MNT/nfs/file.bin" >/dev/null || fail "no file.bin through $1"
}

end_mount()
{
	UFS_BIN=$1 ufs_umount "$MNT"
}

# one_round V CACHE: every client once, server cache CACHE, NFSv V.
one_round()
{
	local v=$1 cache=$2 base=$UFS_NFS_URL b label bin key probe k i
	[[ $v == 4 ]] && base=$UFS_NFS4_URL
	prepare "$cache" file.bin
	measure "v$v $cache nfs-cat" "$mb" "" nfs-cat "$(url_with "$dir/file.bin" "$base")"
	for b in $bins; do
		label=${b%%=*} bin=$(bin_of "$b") key=$(key_of "$b")
		probe=$(dirname "$bin")/direct_probe
		k="v$v $cache $label"
		fresh_mount "$bin" "$base" "$key"
		prepare "$cache" file.bin
		measure "$k fuse" "$mb" "$DPID" dd if="$MNT/nfs/file.bin" of=/dev/null bs=1M
		if [[ ${BENCH_VERIFY:-0} == 1 ]]; then
			cmp "$exp/file.bin" "$MNT/nfs/file.bin" || fail "$label read different bytes"
		fi
		end_mount "$bin"
		fresh_mount "$bin" "$base" "$key"
		prepare "$cache" file.bin
		measure "$k direct" "$mb" "$DPID" "$probe" read "$MNT/nfs/file.bin"
		end_mount "$bin"
	done
	prepare "$cache" part{1,2,3,4}.bin
	local urls=()
	for i in 1 2 3 4; do urls+=("$(url_with "$dir/part$i.bin" "$base")"); done
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	measure "v$v $cache nfs-cat x4" "$mb" "" bash -c \
		'for u; do nfs-cat "$u" >/dev/null & done; wait' _ "${urls[@]}"
	for b in $bins; do
		label=${b%%=*} bin=$(bin_of "$b") key=$(key_of "$b")
		fresh_mount "$bin" "$base" "$key"
		prepare "$cache" part{1,2,3,4}.bin
		# shellcheck disable=SC2016 # the inner script expands its own arguments
		measure "v$v $cache $label fuse x4" "$mb" "$DPID" bash -c \
			'for f; do dd if="$f" of=/dev/null bs=1M status=none & done; wait' _ \
			"$MNT"/nfs/part{1,2,3,4}.bin
		end_mount "$bin"
	done
}

echo "bench_nfs: load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= rounds; r++)); do
	for v in $versions; do
		for cache in warm cold; do
			one_round "$v" "$cache"
		done
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# row KEY REF: median seconds, MB/s, CPU-s/GiB, and speed / CPU against REF
row()
{
	local s c rs rc
	s=$(median <<<"${SECS[$1]}") c=$(median <<<"${CPUS[$1]}")
	rs=$(median <<<"${SECS[$2]}") rc=$(median <<<"${CPUS[$2]}")
	awk -v k="$1" -v s="$s" -v c="$c" -v rs="$rs" -v rc="$rc" -v m="$mb" 'BEGIN {
		printf "  %-28s %7.2f s %7.0f MB/s %6.2f CPU-s/GiB   %5.2fx speed %5.2fx CPU\n",
			k, s, m * 1.048576 / s, c, rs / s, c / rc }'
}

printf '\nNFS sequential read on ganesha, %d MiB (x4: four files of %d MiB), medians of %d rounds\n' \
	"$mb" $((mb / 4)) "$rounds"
printf 'client CPU = readers + unifs daemon; ratios against nfs-cat (x4 rows: against nfs-cat x4)\n'
for v in $versions; do
	for cache in warm cold; do
		row "v$v $cache nfs-cat" "v$v $cache nfs-cat"
		for b in $bins; do
			row "v$v $cache ${b%%=*} fuse" "v$v $cache nfs-cat"
			row "v$v $cache ${b%%=*} direct" "v$v $cache nfs-cat"
		done
		row "v$v $cache nfs-cat x4" "v$v $cache nfs-cat x4"
		for b in $bins; do
			row "v$v $cache ${b%%=*} fuse x4" "v$v $cache nfs-cat x4"
		done
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
ufs_pass
