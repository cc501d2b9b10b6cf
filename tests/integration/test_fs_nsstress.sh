#!/usr/bin/env bash
# test_fs_nsstress.sh — namespace stress: ufs_nsstress
# (tests/stress/ufs_nsstress.c) runs seeded random create / rename (with
# RENAME_NOREPLACE/EXCHANGE) / link / unlink / mkdir / rmdir / symlink /
# mkfifo / chmod / truncate / utimensat / xattr operations from 1 and 4
# processes on file://, nfs:// v3 and nfs:// v4, each in a fresh directory;
# any errno POSIX does not allow there, a file whose content no write
# produced, a crash or a hang fails. Then the tree is compared with the
# store behind it (the local dir, ganesha's export dir): names, types,
# modes, sizes, mtimes, link counts and hard-link identity, symlink targets,
# contents, xattrs — once through the live mount (its caches), once more
# after a remount.
#
# Seeds are random per run (printed with a replay command on failure);
# UFS_NSSTRESS_SEED=N fixes them. Under ASan (a ~3x slower daemon) the runs
# are a third as long. Known unifs bugs this test found and that are not
# fixed yet are marked, never silent:
#   - TOLERATE: errnos a case accepts (ufs_nsstress -a; each one counted and
#     printed, the file it cut short is not content-checked); everything else
#     in that case is still checked;
#   - KNOWN_BUGS: cases that still run and report XFAIL (or XPASS, to be
#     taken off the list) without failing the test.
# Also a regression test of a fixed race: stat(2) of a name that a rename
# turns from a symlink into a file must never fail with EINVAL or EIO.
source "$(dirname "$0")/lib.sh"
ufs_begin fs_nsstress

nss=${UFS_BUILD:-$UFS_SRC/build}/ufs_nsstress
[[ -x $nss ]] || fail "ufs_nsstress not built: $nss"

ops=4000
if [[ $(ldd "$UFS_BIN" 2>/dev/null) == *libasan* ]]; then
	ops=2000
fi
seed=${UFS_NSSTRESS_SEED:-$((RANDOM * 32768 + RANDOM))}

# case name -> the known bug that still makes it fail (README, Limits).
declare -A KNOWN_BUGS=(
	[nfs4 p1]="NFSv4 (libnfs 4.0 SETATTR through OPEN): chmod/utimensat of a directory fail with EISDIR; utimensat(AT_SYMLINK_NOFOLLOW) of a symlink follows it (ENOENT/EFAULT when dangling)"
	[nfs4 p4]="NFSv4: as nfs4 p1"
)
# case name -> errnos tolerated, and why (known bugs, not POSIX).
#   ESTALE: inodes are paths: an open file, or an inode the kernel still
#   holds, whose name another process replaced (rename over it) fails with
#   ESTALE (fstat, read, ftruncate, and an open/stat whose one ESTALE retry
#   raced again); NFSv3 also has no silly rename: writes to an open file
#   unlinked or replaced by another process fail (ESTALE at close).
#   EFAULT: NFSv3 under renames: a reopen by path through a name that became
#   a dangling symlink (libnfs: "Symlink not found during lookup").
#   read:EINVAL, read:EISDIR: file:// reads by path: read(2) of an open
#   file whose name now holds a FIFO, symlink or directory fails so
#   (protocols/file file_read_fd), where it should read the open file (or,
#   as for a replaced regular file, fail with ESTALE).
#   read:SHORT: NFSv3, under renames and hard links: read(2) right after
#   open(2) gets 0 bytes where fstat(2) says the file has more (seen about
#   once in 6 runs of nfs3 p4).
#   STALEATTR: in the check right after a 4-process run (not after the
#   remount), now and then one file's size and mtime through the mount are
#   older than the store's (about 1 run in 5 on file://; suspected: a write
#   through a handle opened before a rename invalidates the cached
#   attributes of the old path, not of the name the file has now); a
#   read through that name then stops at the stale size (a prefix of the
#   store's bytes, seen on NFSv3 under ASan).
declare -A TOLERATE=(
	[local p4]="ESTALE,read:EINVAL,read:EISDIR,STALEATTR"
	[nfs3 p4]="ESTALE,EFAULT,read:SHORT,STALEATTR"
	[nfs4 p4]="ESTALE,EFAULT,read:SHORT,STALEATTR"
)

local_dir=$UFS_WORK/local
mkdir -p "$local_dir"
cfg=$UFS_WORK/nss.conf
ufs_config "$cfg" <<EOF
[mount "/local"]
url = file://$local_dir

[mount "/nfs3"]
url = $UFS_NFS_URL

[mount "/nfs4"]
url = $UFS_NFS4_URL
EOF
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt"

# The store behind each mount.
declare -A STORE=([local]=$local_dir [nfs3]=$UFS_NFS_EXPORT_DIR [nfs4]=$UFS_NFS_EXPORT_DIR)
runs=() failures=()

# nss_case TARGET PROCS SEED: one run in a fresh directory, then the check
# through the live mount. The directory is remembered for the remount check.
nss_case()
{
	local target=$1 procs=$2 s=$3 name dir log rc tol
	name=$(ufs_uniq "nss-$target-p$procs")
	dir=$target/$name
	[[ $target == local ]] || on_exit "rm -rf '${STORE[$target]:?}/$name'"
	log=$UFS_WORK/$target-p$procs.log
	tol=${TOLERATE[$target p$procs]:-}
	within 120 "$nss" -s "$s" -n "$ops" -p "$procs" -x -t 100 ${tol:+-a "$tol"} \
		-D "$log.damaged" -d "$mnt/$dir" -c "${STORE[$target]}/$name" >"$log" 2>&1
	rc=$?
	verdict "$target p$procs" "$rc" "$log"
	((rc == 0)) && runs+=("$target p$procs|$dir|${STORE[$target]}/$name|$s|$log.damaged")
}

# verdict CASE RC LOG: PASS, FAIL (recorded), XFAIL or XPASS for a known bug.
verdict()
{
	local c=$1 rc=$2 log=$3 known=${KNOWN_BUGS[${1% after remount}]:-}
	if ((rc == 0)); then
		[[ -n $known ]] && echo "XPASS: $c (listed in KNOWN_BUGS: $known; take it off)"
		echo "ok: $c: $(sed -nE 's/^(run: |tolerated \(-a, known bugs\): )//p; s/^check .*: ([0-9]+ files)/\1/p' "$log" | tr '\n' ' ')"
		grep -h '^tolerated' "$log" | sed 's/^/    /' | head -5
		return
	fi
	if [[ -n $known ]]; then
		echo "XFAIL: $c: known bug: $known"
		grep -m3 -h '^FAIL\|^MISMATCH' "$log" | sed 's/^/    /'
		return
	fi
	echo "--- $c (rc=$rc) ---"
	tail -n 60 "$log"
	failures+=("$c")
}

# stat_race TARGET: one process turns the name f from a symlink into a
# file (symlink f, then rename a file over it) again and again while another
# stats f (following it), for 3 s. Before the fix (a lookup or getattr
# racing the rename paired one file's attributes with the other's inode, and
# the metadata cache kept an answer older than the rename) the stat failed
# with EINVAL (READLINK of a regular file) or EIO (an inode whose type
# changed) thousands of times. ESTALE (printed) is the known bug above.
stat_race()
{
	local name d out
	name=$(ufs_uniq race)
	d=$mnt/$1/$name
	mkdir "$d" || fail "mkdir $d"
	[[ $1 == local ]] || on_exit "rm -rf '${STORE[$1]:?}/$name'"
	out=$(within 60 python3 - "$d" 3 <<'EOF'
import errno, os, sys, time
os.chdir(sys.argv[1])
end = time.time() + float(sys.argv[2])
if os.fork() == 0:
    while time.time() < end:
        for f in ("f", "x"):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        os.symlink("d", "f")
        open("x", "w").close()
        os.rename("x", "f")
    os._exit(0)
n, seen = 0, {}
while time.time() < end:
    n += 1
    try:
        os.stat("f")
    except OSError as e:
        seen[errno.errorcode[e.errno]] = seen.get(errno.errorcode[e.errno], 0) + 1
os.wait()
print("%d stats, errors: %s" % (n, seen))
EOF
	) || fail "stat race on $1: $out"
	echo "stat race on $1: $out"
	[[ $out != *EINVAL* && $out != *EIO* ]] || fail "stat race on $1: $out"
}
stat_race local
stat_race nfs3

for target in local nfs3 nfs4; do
	nss_case "$target" 1 "$seed"
	nss_case "$target" 4 "$((seed + 100))"
done

# The same trees after a remount: no attribute, entry or listing cache left.
ufs_umount "$mnt" || fail "unmount failed"
ufs_mount "$cfg" "$mnt"
for r in "${runs[@]}"; do
	IFS='|' read -r c dir store s damaged <<<"$r"
	log=$UFS_WORK/recheck.log
	within 60 "$nss" -k -x -s "$s" -D "$damaged" -d "$mnt/$dir" -c "$store" >"$log" 2>&1
	verdict "$c after remount" $? "$log"
done

((${#failures[@]} == 0)) || fail "${failures[*]} (seed $seed; UFS_NSSTRESS_SEED=$seed replays the runs)"
ufs_pass
