"""A torch Dataset over files of a unifs mount whose shuffled order is handed
to the daemon with unifs.Direct.prefetch, so each epoch's reads hit the
block cache instead of waiting on the server one file at a time.

    python3 torch_prefetch_dataset.py /mnt/train/shards [--workers 4] [--no-prefetch]

Each DataLoader worker (a forked process) opens its own unifs.Direct; the
main process owns the prefetch. Prints files/s for one epoch.
"""

import argparse
import os
import sys
import time

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import unifs  # noqa: E402


def mount_of(path):
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


class FileDataset(Dataset):
    """Item i: the bytes of file i as a uint8 tensor. Files of direct_min
    bytes or more are read through the direct path (one Direct per worker
    process); smaller ones with one plain read through the mount, which for
    them costs less than registering a handle (both are served from the
    block cache that prefetch warmed)."""

    def __init__(self, files, mountpoint, direct_min=1 << 20):
        self.files = files
        self.mountpoint = mountpoint
        self.direct_min = direct_min
        self._direct, self._pid = None, None

    def _d(self):
        if self._pid != os.getpid():  # fresh per forked worker
            self._direct, self._pid = unifs.Direct(self.mountpoint), os.getpid()
        return self._direct

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        path = self.files[i]
        size = os.path.getsize(path)
        if size < self.direct_min:
            with open(path, "rb", buffering=0) as f:
                buf = bytearray(f.read())
            n = len(buf)
        else:
            buf = bytearray(size)
            n = self._d().read_into(path, buf)
        return torch.frombuffer(buf, dtype=torch.uint8)[:n] if n else torch.empty(0, dtype=torch.uint8)


class FixedOrder(Sampler):
    """A shuffled order drawn once, so it can be prefetched before use."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(n, generator=g).tolist()

    def __iter__(self):
        return iter(self.order)

    def __len__(self):
        return len(self.order)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-prefetch", action="store_true")
    a = ap.parse_args()
    files = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir))
    mnt = mount_of(a.dir)
    ds = FileDataset(files, mnt)
    sampler = FixedOrder(len(files), a.seed)
    t0 = time.time()
    d = unifs.Direct(mnt)  # prefetches run while it stays open
    if not a.no_prefetch:
        d.prefetch([files[i] for i in sampler.order])
    dl = DataLoader(ds, batch_size=None, sampler=sampler, num_workers=a.workers)
    n = sum(1 for _ in dl)
    dt = time.time() - t0
    d.close()
    print("%d files in %.2f s: %.0f files/s (%s)" % (n, dt, n / dt, "no prefetch" if a.no_prefetch else "prefetch"))


if __name__ == "__main__":
    main()
