#!/usr/bin/env bash
# tests/integration/test_direct_python_pkg.sh — the Python package as a user
# gets it, and its torch Dataset with prefetch under a real DataLoader:
#   - `pip install --no-build-isolation --no-index` of a copy of python/
#     (offline, Debian's setuptools) into a fresh target: `import unifs`
#     and `unifs.torch` work from there alone (cwd elsewhere, PYTHONPATH
#     only that target), and unifs.torch imports without torch;
#   - unifs.torch.FileDataset over a file:// mount with the sampler's order
#     prefetched, through torch's DataLoader with 2 worker processes, for
#     two epochs: every sample once per epoch in the sampler's order, bytes
#     equal to the files, each file of direct_min bytes or more read
#     through the direct path (its bytes counted once), and once the loader and the dataset are closed no session is
#     or handle left on the daemon.
# Nothing installed by an earlier stage (the .deb, a pip install) is used.
source "$(dirname "$0")/lib.sh"
ufs_begin direct_python_pkg

ufs_direct_python
"$py" -c 'import torch' 2>/dev/null || ufs_skip "python3-torch not installed"
"$py" -c 'import setuptools' 2>/dev/null || fail "python3-setuptools not installed (scripts/setup.sh)"

# 1. pip install, offline, into a target of its own.
cp -r "$UFS_SRC/python" "$UFS_WORK/src"
rm -rf "$UFS_WORK/src/build" "$UFS_WORK/src"/*.egg-info
out=$(cd "$UFS_WORK" && PIP_NO_INPUT=1 "$py" -m pip install --quiet --no-build-isolation \
	--no-index --no-deps --disable-pip-version-check --target "$UFS_WORK/site" ./src 2>&1) ||
	fail "pip install ./python: $out"
[[ -f $UFS_WORK/site/unifs/torch.py ]] || fail "pip install put no unifs/torch.py in the target"
out=$(cd / && env -u PYTHONPATH PYTHONPATH="$UFS_WORK/site" "$py" -c '
import sys
sys.modules["torch"] = None       # as if torch were not installed
import unifs, unifs.torch
print(unifs.__file__, unifs.torch.FileDataset.__name__)' 2>&1) ||
	fail "import of the pip-installed unifs: $out"
assert_eq "$UFS_WORK/site/unifs/__init__.py FileDataset" "$out" "the pip-installed unifs"

# 2. The DataLoader over a real mount, with the installed package.
mkdir -p "$UFS_WORK/back/train"
"$py" - "$UFS_WORK/back/train" <<'EOF' || fail "cannot make the data set"
import os, random, sys
r = random.Random(7)
for i in range(48):
    n = r.choice([100, 3000, 70000, 300000, 1 << 20])
    with open(os.path.join(sys.argv[1], "s%03d" % i), "wb") as f:
        f.write(os.urandom(n))
EOF
cfg=$UFS_WORK/py.conf
ufs_config "$cfg" <<EOF
[mount "/"]
url = file://$UFS_WORK/back
EOF
mnt=$UFS_WORK/mnt
ufs_mount "$cfg" "$mnt"

out=$(cd / && PYTHONPATH="$UFS_WORK/site" "$py" - "$mnt" "$UFS_WORK/back/train" "$UFS_BIN" <<'EOF' 2>&1
import json, os, subprocess, sys, time
from torch.utils.data import DataLoader
from unifs.torch import FileDataset, FixedOrder

mnt, back, ufs = sys.argv[1:4]
names = sorted(os.listdir(back))
files = [os.path.join(mnt, "train", n) for n in names]
direct_min = 4096
sizes = [os.path.getsize(os.path.join(back, n)) for n in names]
big = sum(n >= direct_min for n in sizes)
big_bytes = sum(n for n in sizes if n >= direct_min)

def stats():
    return json.loads(subprocess.check_output([ufs, "stats", "--json", mnt]))["direct"]

b0 = stats()["bytes_read"]
ds = FileDataset(files, direct_min=direct_min)
assert ds.mountpoint == mnt, ds.mountpoint
for epoch in range(2):
    order = FixedOrder(len(ds), seed=epoch)
    ds.prefetch(order)
    dl = DataLoader(ds, batch_size=None, sampler=order, num_workers=2)
    seen = 0
    for k, t in enumerate(dl):
        with open(os.path.join(back, names[order.order[k]]), "rb") as f:
            want = f.read()
        assert bytes(t.numpy()) == want, "epoch %d: sample %d (%s) differs" % (epoch, k, names[order.order[k]])
        seen += 1
    assert seen == len(files), "epoch %d: %d samples of %d" % (epoch, seen, len(files))
    del dl
ds.close()
b = stats()["bytes_read"] - b0
assert b == 2 * big_bytes, "%d bytes read through the direct path, not %d" % (b, 2 * big_bytes)
for _ in range(100):
    if stats()["sessions_active"] == 0 and stats()["handles"] == 0:
        break
    time.sleep(0.1)
assert stats()["sessions_active"] == 0 and stats()["handles"] == 0, "left: %s" % stats()
print("2 epochs of %d samples (%d direct each), no session left" % (len(files), big))
EOF
) || fail "DataLoader over the mount: $out"
echo "$out"
ufs_pass
