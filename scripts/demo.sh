#!/usr/bin/env bash
# scripts/demo.sh — end-to-end demo: build unifs, start the real test servers,
# seed a few files on each server directly (no unifs), mount ONE namespace
# spanning a local dir (file://), the ganesha export (nfs://), an s3rver
# bucket (s3://) and an Azurite container (az://), list it, read one file
# from each subtree, unmount.
#   scripts/demo.sh [--no-build] [--keep]   (--keep: leave it mounted)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=tests/cloud_safety.sh
source "$ROOT/tests/cloud_safety.sh" # no credential lookup leaves loopback
export UFS_TEST_DIR=${UFS_TEST_DIR:-/tmp/unifs-test}
build=1 keep=0
for a in "$@"; do
	case $a in
	--no-build) build=0 ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--no-build] [--keep]" >&2; exit 2 ;;
	esac
done

say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }

if ((build)); then
	say "setup + build"
	scripts/setup.sh
	scripts/build.sh >/dev/null
fi
UFS_BIN=${UFS_BIN:-$ROOT/build/unifs}
[[ -x $UFS_BIN ]] || { echo "demo.sh: $UFS_BIN not built" >&2; exit 1; }

say "start servers"
tests/servers/all.sh start
# shellcheck source=/dev/null
source "$UFS_TEST_DIR/env"

DEMO=$UFS_TEST_DIR/demo
MNT=$DEMO/mnt
mkdir -p "$DEMO/local/docs" "$MNT"
say "seed files on each server (directly, without unifs)"
echo "hello from a local directory" >"$DEMO/local/docs/local.txt"
mkdir -p "$UFS_NFS_EXPORT_DIR/demo/sub"
echo "hello from nfs-ganesha" >"$UFS_NFS_EXPORT_DIR/demo/nfs.txt"
seq 1 1000 >"$UFS_NFS_EXPORT_DIR/demo/sub/numbers.txt"
echo "hello from s3rver" >"$DEMO/s3.txt"
tests/servers/s3curl.sh PUT /unifs-demo -o /dev/null 2>/dev/null || true
tests/servers/s3curl.sh PUT /unifs-demo/data/s3.txt --data-binary "@$DEMO/s3.txt" -o /dev/null
tests/servers/s3curl.sh PUT /unifs-demo/data/deep/a/b.txt --data-binary "@$DEMO/s3.txt" -o /dev/null
echo "hello from Azurite" >"$DEMO/az.txt"
AZCURL_NOFAIL=1 tests/servers/azcurl.sh PUT '/unifs-demo?restype=container' -o /dev/null
tests/servers/azcurl.sh PUT /unifs-demo/data/az.txt --file "$DEMO/az.txt" -o /dev/null
echo "local, nfs ($UFS_NFS_URL), s3 ($UFS_S3_ENDPOINT), azure ($UFS_AZ_ENDPOINT): seeded"

# write_config WITH_CLOUD: local + NFS (v3 and v4), plus S3 and Azure when
# WITH_CLOUD=1 (a build without those backends falls back to 0).
CFG=$DEMO/unifs.conf
write_config()
{
	cat <<EOF2
[global]
memory = 256M
log = info

[mount "/local"]
url = file://$DEMO/local

[mount "/nfs"]
url = $UFS_NFS_URL/demo

[mount "/nfs4"]
url = nfs://127.0.0.1/export/demo?version=4
EOF2
	if (($1)); then
		cat <<EOF2

[mount "/s3"]
url = s3://unifs-demo/data/
endpoint = $UFS_S3_ENDPOINT
region = us-east-1
path_style = true

[mount "/blob"]
url = az://unifs-demo/data
account = $UFS_AZ_ACCOUNT
endpoint = $UFS_AZ_ENDPOINT
EOF2
	fi
}

umount_demo() { "$UFS_BIN" umount "$MNT" 2>/dev/null || fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true; }
umount_demo
(umask 077 && write_config 1 >"$CFG")
say "config $CFG"
cat "$CFG"
say "unifs mount $CFG $MNT"
if ! "$UFS_BIN" mount "$CFG" "$MNT"; then
	echo "demo.sh: mount with s3/az failed; retrying with local + NFS only" >&2
	(umask 077 && write_config 0 >"$CFG")
	"$UFS_BIN" mount "$CFG" "$MNT"
fi
((keep)) || trap umount_demo EXIT

say "ls -lR $MNT"
ls -lR "$MNT"
say "cat one file from each subtree"
for f in local/docs/local.txt nfs/nfs.txt nfs4/nfs.txt s3/s3.txt blob/az.txt; do
	[[ -e $MNT/${f%%/*} ]] || continue
	printf '%-22s ' "$f:"
	cat "$MNT/$f"
done
printf '%-22s %s\n' "nfs/sub/numbers.txt:" "$(wc -l <"$MNT/nfs/sub/numbers.txt") lines"

if ((keep)); then
	say "left mounted at $MNT (unmount: $UFS_BIN umount $MNT)"
else
	say "unifs umount $MNT"
	"$UFS_BIN" umount "$MNT"
	trap - EXIT
fi
