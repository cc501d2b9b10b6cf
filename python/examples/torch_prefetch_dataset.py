"""One epoch of a shuffled DataLoader over the files of a directory on a
unifs mount, with the sampler's order handed to the daemon as a prefetch
(unifs.torch.FileDataset, which ships in the unifs package).

    python3 torch_prefetch_dataset.py /mnt/train/shards [--workers 4] [--no-prefetch]

Prints files/s for the epoch.
"""

import argparse
import os
import sys
import time

from torch.utils.data import DataLoader

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from unifs.torch import FileDataset, FixedOrder, mount_of  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-prefetch", action="store_true")
    a = ap.parse_args()
    files = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir))
    ds = FileDataset(files, mount_of(a.dir))
    sampler = FixedOrder(len(files), a.seed)
    t0 = time.time()
    if not a.no_prefetch:
        ds.prefetch(sampler)  # runs while ds stays open here
    dl = DataLoader(ds, batch_size=None, sampler=sampler, num_workers=a.workers)
    n = sum(1 for _ in dl)
    dt = time.time() - t0
    ds.close()
    print("%d files in %.2f s: %.0f files/s (%s)" % (n, dt, n / dt, "no prefetch" if a.no_prefetch else "prefetch"))


if __name__ == "__main__":
    main()
