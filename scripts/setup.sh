#!/usr/bin/env bash
# scripts/setup.sh — install everything unifs needs to build, test and bench
# on Debian 12 (run as root; non-interactive; safe to re-run).
#   1. apt packages (skipped entirely when all are already installed)
#   2. pinned npm test servers (tests/servers: `npm ci`) when node_modules is
#      missing or older than package-lock.json, then tests/servers/patch-s3rver.js
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

PKGS=(
	# build
	cmake gcc make pkg-config clang-format libfuse3-dev fuse3 libnfs-dev libnfs-utils
	libmicrohttpd-dev libsystemd-dev dpkg-dev file
	libcurl4-openssl-dev libssl-dev libxxhash-dev libcmocka-dev libexpat1-dev libinih-dev
	# libFuzzer targets (scripts/build.sh --fuzz): clang and its fuzzer runtime
	clang libclang-rt-14-dev
	# test servers and peers
	nfs-ganesha nfs-ganesha-vfs rpcbind s3fs rclone curl ca-certificates python3 openssl
	ceph-mon ceph-osd radosgw ceph-common uuid-runtime
	# tools used by tests
	attr man-db groff-base util-linux procps coreutils prometheus jq xxhash
	# SigV4 differential test (tests/sigv4/sigv4_diff.py)
	python3-botocore
	# one-node Slurm for the sharded-copy test (tests/servers/slurm.sh)
	slurm-wlm munge
	# direct path: the Python binding is tested with numpy and torch, and
	# installed with pip from its pyproject (offline, Debian's setuptools)
	python3-numpy python3-torch python3-setuptools python3-pip
)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	[[ $(id -u) == 0 ]] || { echo "setup.sh: need root to install: ${missing[*]}" >&2; exit 1; }
	echo "setup.sh: installing ${missing[*]}" >&2
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# Pinned npm servers (s3rver, Azurite); node_modules is git-ignored.
cd "$ROOT/tests/servers"
stamp=node_modules/.unifs-installed
if [[ ! -f $stamp || package-lock.json -nt $stamp || package.json -nt $stamp ]]; then
	echo "setup.sh: npm ci in tests/servers" >&2
	npm ci --no-audit --no-fund --loglevel=error </dev/null
	touch "$stamp"
fi
# Local fix for an s3rver 3.7.1 listing bug (idempotent, see the script).
node patch-s3rver.js
for b in s3rver azurite-blob; do
	[[ -x node_modules/.bin/$b ]] || { echo "setup.sh: $b missing after npm ci" >&2; exit 1; }
done
