#!/usr/bin/env bash
# bench_nfs.sh — NFS sequential read on ganesha, in one run:
#   nfs-cat (libnfs, one connection: the raw-protocol limit here)
#   vs  cat MNT/data/nfs/file through a fresh unifs mount (cold read)
# for NFSv3 and NFSv4. Page caches are dropped before each measurement
# (as root). Prints MB/s and the ratio unifs/nfs-cat (goal >= 0.7x, then
# >= 0.9x with parallel read-ahead). Size: BENCH_MB (default 1024);
# BENCH_VERIFY=1 also compares the bytes read through unifs with the source.
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
ufs_begin "bench nfs"

mb=${BENCH_MB:-1024}
command -v nfs-cat >/dev/null || fail "nfs-cat not found (Debian package libnfs-utils)"
dir=$(ufs_uniq bench-nfs)
src=$UFS_NFS_EXPORT_DIR/$dir/file.bin
mkdir -p "$UFS_NFS_EXPORT_DIR/$dir"
on_exit "rm -rf '$UFS_NFS_EXPORT_DIR/$dir'"
head -c $((mb << 20)) /dev/urandom >"$src" || fail "cannot write $src"
sync

now() { date +%s.%N; }
rate() { awk -v s="$1" -v e="$2" -v m="$mb" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
declare -A R

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

# bench_one TAG BASEURL: nfs-cat, then unifs on a fresh mount.
bench_one()
{
	local tag=$1 base=$2 mnt t0
	drop
	t0=$(now)
	nfs-cat "$(url_with "$dir/file.bin" "$base")" >/dev/null || fail "nfs-cat ($tag)"
	R[${tag}_nfscat]=$(rate "$t0" "$(now)")

	mnt=$UFS_WORK/mnt-$tag
	ufs_config "$UFS_WORK/$tag.conf" <<EOF
[global]
memory = 2G
[mount "/data/nfs"]
url = $(url_with "$dir" "$base")
EOF
	ufs_mount "$UFS_WORK/$tag.conf" "$mnt"
	drop
	t0=$(now)
	cat "$mnt/data/nfs/file.bin" >/dev/null || fail "unifs cat ($tag)"
	R[${tag}_unifs]=$(rate "$t0" "$(now)")
	if [[ ${BENCH_VERIFY:-0} == 1 ]]; then
		cmp "$src" "$mnt/data/nfs/file.bin" || fail "unifs read different bytes ($tag)"
	fi
	ufs_umount "$mnt"
}

bench_one v3 "$UFS_NFS_URL"
bench_one v4 "$UFS_NFS4_URL"

printf '\nNFS sequential read, %d MiB file on ganesha (MB/s, cold caches)\n' "$mb"
for v in v3 v4; do
	printf '  %s  nfs-cat %8s  unifs %8s  unifs/nfs-cat %s (goal >= 0.7x, later 0.9x)\n' \
		"$v" "${R[${v}_nfscat]}" "${R[${v}_unifs]}" "$(ratio "${R[${v}_unifs]}" "${R[${v}_nfscat]}")"
done
ufs_pass
