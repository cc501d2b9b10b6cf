#!/usr/bin/env bash
# bench_az.sh — Azure Blob sequential throughput on Azurite, in one run:
#   read  1 GiB: cat through a fresh unifs mount  vs  one signed curl GET
#   write 1 GiB: dd into the unifs mount (closed: Put Block List committed)
#                vs  one signed curl Put Blob of the same file
# (no other Blob FUSE client is installable here). Prints MB/s and the
# ratios against the goals (read >= 0.8x, write >= 0.7x). Azurite is
# single-threaded Node.js and usually the bottleneck on both paths.
# Size: BENCH_MB (default 1024).
set -uo pipefail
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../integration/az_lib.sh"
ufs_begin "bench az"

mb=${BENCH_MB:-1024}
export AZCURL_TIMEOUT=${AZCURL_TIMEOUT:-3600}
cont=$(ufs_uniq benchaz)
az_mkcontainer "$cont" # deleted at exit
src=$UFS_WORK/src.bin
head -c $((mb << 20)) /dev/urandom >"$src"

now() { date +%s.%N; }
rate() { awk -v s="$1" -v e="$2" -v m="$mb" 'BEGIN { printf "%.1f", m * 1.048576 / (e - s) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
declare -A R

# write: one curl Put Blob, then the same bytes through the mount
t0=$(now)
az_put "$cont/curl.bin" "$src"
R[curl_write]=$(rate "$t0" "$(now)")

az_write_config "$UFS_WORK/az.conf" "$cont"
mnt=$UFS_WORK/mnt
ufs_mount "$UFS_WORK/az.conf" "$mnt"
t0=$(now)
dd if="$src" of="$mnt/blob/unifs.bin" bs=1M status=none conv=fsync || fail "unifs write"
R[unifs_write]=$(rate "$t0" "$(now)")
assert_eq $((mb << 20)) "$(stat -c %s "$mnt/blob/unifs.bin")" "size written through unifs"
ufs_umount "$mnt" || fail "umount after the write"

# read: one curl GET, then a fresh mount reading the blob curl stored
drop
t0=$(now)
az_get "$cont/curl.bin" /dev/null || fail "curl GET"
R[curl_read]=$(rate "$t0" "$(now)")

ufs_mount "$UFS_WORK/az.conf" "$mnt"
drop
t0=$(now)
cat "$mnt/blob/curl.bin" >/dev/null || fail "unifs read"
R[unifs_read]=$(rate "$t0" "$(now)")
[[ ${BENCH_VERIFY:-0} == 1 ]] && { cmp "$src" "$mnt/blob/unifs.bin" || fail "unifs.bin differs"; }

printf '\nAzure Blob sequential, %d MiB blob on Azurite (MB/s)\n' "$mb"
printf '  read   curl %8s  unifs %8s\n' "${R[curl_read]}" "${R[unifs_read]}"
printf '  write  curl %8s  unifs %8s\n' "${R[curl_write]}" "${R[unifs_write]}"
printf '  unifs/curl read  %s (goal >= 0.8x)\n' "$(ratio "${R[unifs_read]}" "${R[curl_read]}")"
printf '  unifs/curl write %s (goal >= 0.7x)\n' "$(ratio "${R[unifs_write]}" "${R[curl_write]}")"
ufs_pass
