#!/usr/bin/env bash
# test_fs_fsx.sh — file-data consistency of every backend under random
# operations, with tests/stress/ufs_fsx.c (seeded; a failure prints
# the operation log and the command that replays it):
#   - a plain directory first, as the tester's own control (same seeds);
#   - one mount with the block cache: file:// and nfs:// v3 and v4 100,000
#     operations each, s3:// (s3rver) and az:// (Azurite) 10,000 each
#     (object stores are close-to-open: ufs_fsx -s; the second descriptor
#     for O_DIRECT makes two write handles share the inode's write side);
#   - one mount without the block cache (block_cache = false) and one with
#     the disk tier (cache_dir), fewer operations each;
#   - the files again after a remount (file:// equal to the control's);
#   - then the focused regressions of the causes found: a handle's cached
#     blocks after fallocate / punch hole / zero range / copy_file_range /
#     a write through another handle; the size after an extending fallocate;
#     st_blocks of sparse and fallocate'd files (it was the size / 512);
#     data and mode through a hard link's other name;
#     NFSv4 creates while another file is open, two write handles of one
#     file on NFSv4, and an NFSv4 mount used again after its lease expired
#     (ganesha runs with Lease_Lifetime = 20); two write handles of one
#     object-store file (each uploaded its own view: the last close won).
# Under the ASan build (UFS_BUILD ends in -asan) the counts are a fifth.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ufs_begin "fs fsx"

FSX=${UFS_BUILD:-$UFS_SRC/build}/ufs_fsx
[[ -x $FSX ]] || fail "ufs_fsx not built: $FSX"
scale=1
[[ ${UFS_BUILD:-} == *asan* ]] && scale=5
n() { echo $(($1 / scale)); }

name=$(ufs_uniq fsx)
s3_mkbucket "$name"
az_mkcontainer "$name"
nfsdir=$UFS_NFS_EXPORT_DIR/$name
mkdir -p "$nfsdir"/{c,n,d}
on_exit "rm -rf '$nfsdir'"
back=$UFS_WORK/back
mkdir -p "$back"/{c,n,d} "$UFS_WORK/plain" "$UFS_WORK/cache"
(umask 077 && printf '%s\n' "$UFS_AZ_KEY" >"$UFS_WORK/az.key")

# conf FILE SUB GLOBAL-LINE: a namespace over all four backends; SUB keeps
# the three mounts' files apart on the shared servers.
conf()
{
	ufs_config "$1" <<EOF
[global]
memory = 256M
$3
[mount "/loc"]
url = file://$back/$2
[mount "/nfs3"]
url = $UFS_NFS_URL/$name/$2
[mount "/nfs4"]
url = nfs://127.0.0.1$UFS_NFS4_PSEUDO/$name/$2?version=4
[mount "/s3"]
url = s3://$name/$2/
endpoint = $UFS_S3_ENDPOINT
path_style = true
[mount "/az"]
url = az://$name/$2/
endpoint = $UFS_AZ_ENDPOINT
account = $UFS_AZ_ACCOUNT
key_file = $UFS_WORK/az.key
EOF
}

# fsx LABEL ARGS...: run ufs_fsx in the background, its output in a log.
pids=() labels=()
fsx()
{
	local label=$1
	shift
	"$FSX" -q "$@" >"$UFS_WORK/$label.log" 2>&1 &
	pids+=($!)
	labels+=("$label")
}

# fsx_wait: every background run must be clean; print the first failure.
fsx_wait()
{
	local i bad=()
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || bad+=("${labels[i]}")
	done
	for i in "${labels[@]}"; do
		sed -n "s/^ufs_fsx:\(.*clean in.*\)/  $i:\1/p" "$UFS_WORK/$i.log"
	done
	pids=() labels=()
	for i in "${bad[@]}"; do
		echo "---- ufs_fsx $i ----"
		head -60 "$UFS_WORK/$i.log"
	done
	((${#bad[@]} == 0)) || fail "ufs_fsx miscompared or failed on: ${bad[*]}"
}

t0=$SECONDS
# --- the control: a plain directory, the seeds used below ---
fsx plain1 -N "$(n 50000)" -S 101 "$UFS_WORK/plain/f1"
fsx plain2 -N "$(n 50000)" -S 102 "$UFS_WORK/plain/f2"
fsx plains -N "$(n 10000)" -S 301 -s "$UFS_WORK/plain/f3"
fsx_wait
echo "control: $((SECONDS - t0)) s"

# --- the block cache on: file:// and nfs:// 100,000 ops, object stores 10,000 ---
mc=$UFS_WORK/mc
conf "$UFS_WORK/c.conf" c ""
ufs_mount "$UFS_WORK/c.conf" "$mc"
for s in 101 102; do
	fsx "loc$s" -N "$(n 50000)" -S $s -B "$back/c/f$s" "$mc/loc/f$s"
	fsx "nfs3$s" -N "$(n 50000)" -S $s -B "$nfsdir/c/v3f$s" "$mc/nfs3/v3f$s"
	fsx "nfs4$s" -N "$(n 50000)" -S $s -B "$nfsdir/c/v4f$s" "$mc/nfs4/v4f$s"
done
fsx s3 -N "$(n 10000)" -S 301 -s "$mc/s3/f301"
fsx az -N "$(n 10000)" -S 301 -s "$mc/az/f301"
fsx_wait
echo "block cache on: $((SECONDS - t0)) s"

# --- the block cache off, and the disk tier ---
mn=$UFS_WORK/mn md=$UFS_WORK/md
conf "$UFS_WORK/n.conf" n "block_cache = false"
conf "$UFS_WORK/d.conf" d "cache_dir = $UFS_WORK/cache"
ufs_mount "$UFS_WORK/n.conf" "$mn"
ufs_mount "$UFS_WORK/d.conf" "$md"
for m in n d; do
	mnt=$UFS_WORK/m$m
	fsx "$m-loc" -N "$(n 10000)" -S 201 -a -B "$back/$m/f" "$mnt/loc/f"
	fsx "$m-nfs3" -N "$(n 10000)" -S 202 -a -B "$nfsdir/$m/f3" "$mnt/nfs3/f3"
	fsx "$m-nfs4" -N "$(n 5000)" -S 203 "$mnt/nfs4/f4"
	fsx "$m-s3" -N "$(n 2000)" -S 204 -s "$mnt/s3/f"
	fsx "$m-az" -N "$(n 2000)" -S 205 -s -1 "$mnt/az/f"
done
fsx_wait
echo "block cache off, disk tier: $((SECONDS - t0)) s"

# --- after a remount: the same bytes (file:// ran the control's seeds; the
# disk tier now serves what it kept) ---
ufs_umount "$mc" || fail "cannot unmount $mc"
ufs_umount "$md" || fail "cannot unmount $md"
ufs_mount "$UFS_WORK/c.conf" "$mc"
ufs_mount "$UFS_WORK/d.conf" "$md"
assert_file_eq "$UFS_WORK/plain/f1" "$mc/loc/f101"
assert_file_eq "$UFS_WORK/plain/f2" "$mc/loc/f102"
for f in nfs3/v3f101 nfs4/v4f102; do
	assert_file_eq "$nfsdir/c/${f#*/}" "$mc/$f"
done
for i in 1 2; do # twice: the second read is the disk tier's
	assert_file_eq "$back/d/f" "$md/loc/f"
	assert_file_eq "$nfsdir/d/f3" "$md/nfs3/f3"
	s3_get "$name/d/f" "$UFS_WORK/s3.$i" || fail "curl GET of the S3 file"
	assert_file_eq "$UFS_WORK/s3.$i" "$md/s3/f"
done

# --- focused regressions (each failed before its fix) ---
# A handle that has read a file through the block cache keeps reading the
# file as it is: after fallocate modes through another descriptor, after a
# write through another descriptor, after copy_file_range from a punched
# range; an extending fallocate is seen in full.
python3 - "$mc" <<'EOF' || fail "a handle read stale data after fallocate/punch/zero/write (see above)"
import os, sys
mnt = sys.argv[1]
FL_KEEP, FL_PUNCH, FL_ZERO = 1, 2, 16
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
def falloc(fd, mode, off, ln):
    if libc.fallocate(fd, mode, off, ln) != 0:
        raise OSError(ctypes.get_errno(), "fallocate")
def drop(fd):  # the kernel's pages go: the next read asks the daemon
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
for sub in ("loc", "nfs3", "nfs4"):
    p = f"{mnt}/{sub}/reg-{sub}"
    data = bytes((i * 7 + 3) % 251 + 1 for i in range(1 << 20))
    with open(p, "wb") as f:
        f.write(data)
    r = os.open(p, os.O_RDONLY)      # the reading handle
    w = os.open(p, os.O_RDWR)        # the changing one
    assert os.pread(r, 1 << 20, 0) == data
    if sub == "loc":
        falloc(w, FL_PUNCH | FL_KEEP, 4096, 65536)
        drop(r)
        got = os.pread(r, 65536, 4096)
        assert got == bytes(65536), f"{sub}: punched range reads old bytes"
        falloc(w, FL_ZERO, 200000, 10000)
        drop(r)
        assert os.pread(r, 10000, 200000) == bytes(10000), f"{sub}: zeroed range reads old bytes"
        falloc(w, 0, 1 << 20, 1 << 20)   # extend to 2 MiB
        drop(r)
        got = os.pread(r, 1 << 20, 1 << 20)
        assert len(got) == 1 << 20, f"{sub}: read past the old size got {len(got)} bytes"
        assert os.fstat(r).st_size == 2 << 20, f"{sub}: size after fallocate"
        # copy_file_range from a punched range delivers zeros
        falloc(w, FL_PUNCH | FL_KEEP, 300000, 4096)
        os.copy_file_range(w, w, 4096, 300000, 500000)
        drop(r)
        assert os.pread(r, 4096, 500000) == bytes(4096), f"{sub}: copy of a hole"
    os.pwrite(w, b"N" * 8192, 700000)
    drop(r)
    assert os.pread(r, 8192, 700000) == b"N" * 8192, f"{sub}: write through another handle unseen"
    os.close(r); os.close(w)
# st_blocks is what the file occupies (it was the size / 512): a sparse
# file shows few blocks, fallocate'd space shows.
for sub in ("loc", "nfs3"):
    sp = f"{mnt}/{sub}/sparse-{sub}"
    with open(sp, "wb") as f:
        f.truncate(1 << 30)
    assert os.stat(sp).st_blocks < 1024, f"{sub}: a sparse 1 GiB file shows {os.stat(sp).st_blocks} blocks"
fd = os.open(f"{mnt}/loc/sparse-loc", os.O_RDWR)
falloc(fd, 0, 0, 1 << 20)
os.fsync(fd)
os.close(fd)
assert os.stat(f"{mnt}/loc/sparse-loc").st_blocks >= 2048, "fallocate'd blocks not shown"
print("focused regressions: clean")
EOF

# Hard links: each name is its own inode here; a write and a chmod through
# one name are seen through another name opened before (its pages, its
# cached blocks and attributes were kept).
python3 - "$mc" loc nfs3 <<'EOF' || fail "a hard link's other name showed stale data or mode (see above)"
import os, sys
for sub in sys.argv[2:]:
    d = f"{sys.argv[1]}/{sub}"
    p1, p2 = f"{d}/hl-a", f"{d}/hl-b"
    for p in (p1, p2):
        if os.path.exists(p): os.unlink(p)
    with open(p1, "wb") as f: f.write(b"x" * 100000)
    os.link(p1, p2)
    r = os.open(p2, os.O_RDONLY)
    assert os.pread(r, 10, 50000) == b"x" * 10
    w = os.open(p1, os.O_WRONLY)
    os.pwrite(w, b"Y" * 10, 50000)
    os.chmod(p1, 0o600)
    got = os.pread(r, 10, 50000)
    print(sub, "read via other name:", got, "mode via other name:", oct(os.stat(p2).st_mode & 0o777))
    assert got == b"Y" * 10, f"{sub}: stale data through the other name"
    assert os.stat(p2).st_mode & 0o777 == 0o600, f"{sub}: stale mode through the other name"
    os.close(r); os.close(w)
EOF

# Two write handles of one object-store file share its write side: what
# both wrote is in the object after both close.
python3 - "$mc" <<'EOF' || fail "two write handles of one object-store file (see above)"
import os, sys
for sub in ("s3", "az"):
    p = f"{sys.argv[1]}/{sub}/two-writers"
    a = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(a, b"A" * 100000, 0)
    b = os.open(p, os.O_RDWR)
    os.pwrite(b, b"B" * 1000, 50000)
    assert os.pread(b, 2, 99998) == b"AA", f"{sub}: second handle does not see the first one's bytes"
    os.close(b)
    os.pwrite(a, b"C" * 10, 100000)
    os.close(a)
    want = b"A" * 50000 + b"B" * 1000 + b"A" * 49000 + b"C" * 10
    with open(p, "rb") as f:
        got = f.read()
    diff = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), -1)
    assert got == want, f"{sub}: {len(got)} bytes, first difference at {diff}"
print("shared write sides: clean")
EOF

# NFSv4: creating a file (O_CREAT|O_TRUNC) while another file is open for
# writing, and two write handles of one file closed in turn (both failed:
# libnfs 4.0 loses the open-owner sequence after a failed OPEN; a CLOSE
# through one handle ended the open state the other shared); then, after
# the mount's NFSv4 clients sat idle past the server's lease (20 s), a
# write through a handle opened before and a new create (NFS4ERR_EXPIRED
# came back as ERANGE).
python3 - "$mc/nfs4" <<'EOF' || fail "NFSv4 open/create/close sequence failed (see above)"
import os, sys, time
d = sys.argv[1]
a = os.open(f"{d}/open-a", os.O_RDWR | os.O_CREAT, 0o644)
for i in range(4):
    fd = os.open(f"{d}/new-{i}", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.pwrite(fd, b"x" * 100, 0)
    os.close(fd)
b = os.open(f"{d}/open-a", os.O_RDWR)
c = os.open(f"{d}/open-a", os.O_RDWR | os.O_DIRECT)
os.pwrite(a, b"a" * 4096, 0)
os.pwrite(c, b"c" * 4096, 4096)
os.pwrite(b, b"b" * 4096, 8192)
os.close(a)
os.pwrite(b, b"B" * 4096, 12288)
os.close(c)
os.close(b)
with open(f"{d}/open-a", "rb") as f:
    got = f.read()
assert got == b"a" * 4096 + b"c" * 4096 + b"b" * 4096 + b"B" * 4096, "open-a content"
for i in range(4):
    assert os.path.getsize(f"{d}/new-{i}") == 100
held = os.open(f"{d}/held", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(held, b"1" * 10, 0)
time.sleep(26)  # the server's lease (Lease_Lifetime = 20 in tests/servers/nfs.sh) runs out
os.pwrite(held, b"2" * 10, 10)
fd = os.open(f"{d}/after-lease", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.close(fd)
os.close(held)
with open(f"{d}/held", "rb") as f:
    assert f.read() == b"1" * 10 + b"2" * 10, "held file after the lease expired"
print("nfs4 sequences: clean")
EOF
ufs_pass
