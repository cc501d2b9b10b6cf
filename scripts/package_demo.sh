#!/usr/bin/env bash
# scripts/package_demo.sh — build the Debian package in build/ (cpack -G
# DEB), install it with apt-get (dependencies from the archive), check what
# it holds, then run scripts/demo.sh against the installed /usr/bin/unifs.
# Needs root, a configured build/ and the test servers (demo.sh starts them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/cloud_safety.sh
source "$ROOT/tests/cloud_safety.sh" # no credential lookup leaves loopback
cd "$ROOT/build"
rm -f unifs_*.deb
cpack -G DEB
deb=$(ls unifs_*_*.deb)
echo "package_demo: built $deb"
dpkg-deb -f "$deb" Depends
# --reinstall: a rebuilt package keeps its version number.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall --no-install-recommends "./$deb" </dev/null
for f in /usr/bin/unifs /usr/sbin/mount.unifs /usr/lib/systemd/system/unifs@.service \
	/usr/share/man/man1/unifs.1 /usr/share/man/man5/unifs.conf.5 \
	/usr/share/doc/unifs/examples/unifs.conf; do
	[[ -e $f ]] || { echo "package_demo: $f missing from the package" >&2; exit 1; }
done
/usr/bin/unifs --version
# The Python package, for any user, with nothing but the package: no
# PYTHONPATH, no UNIFS_LIB, not from this tree (cwd /).
[[ -e /usr/lib/python3/dist-packages/unifs/torch.py ]] ||
	{ echo "package_demo: the Python package is missing from the package" >&2; exit 1; }
(cd / && runuser -u nobody -- env -u PYTHONPATH -u UNIFS_LIB /usr/bin/python3 -c '
import unifs, unifs.torch
assert unifs.__file__.startswith("/usr/lib/python3/dist-packages/"), unifs.__file__
unifs.load_library()
print("package_demo: import unifs as nobody:", unifs.__file__)') ||
	{ echo "package_demo: import unifs fails for another user" >&2; exit 1; }
cd "$ROOT"
UFS_BIN=/usr/bin/unifs scripts/demo.sh --no-build
echo "package_demo: demo passed against the installed binaries"
