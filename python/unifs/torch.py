"""A torch Dataset over files of a unifs mount that hands the sampler's
order to the daemon (unifs.Direct.prefetch), so each epoch's reads hit the
block cache instead of waiting on the server one file at a time.

    from unifs.torch import FileDataset, FixedOrder
    ds = FileDataset(files)                    # files on one unifs mount
    order = FixedOrder(len(ds), seed=epoch)    # a shuffled order, drawn once
    ds.prefetch(order)                         # the daemon fetches ahead
    for t in DataLoader(ds, batch_size=None, sampler=order, num_workers=4):
        ...                                    # t: the file's bytes, uint8
    ds.close()                                 # stop prefetching

Importing this module needs neither torch nor numpy: DataLoader takes any
object with __len__ and __getitem__ as a dataset and any iterable as a
sampler, and torch is imported when the first item is made. Each DataLoader
worker (a forked or spawned process) opens its own unifs.Direct; the
process that called prefetch() owns the prefetch, which runs while it keeps
the dataset open.
"""

import os
import random

from . import Direct

__all__ = ["FileDataset", "FixedOrder", "mount_of"]


def mount_of(path):
    """The mount point holding path (the nearest enclosing mount)."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


class FileDataset:
    """Item i: the bytes of file i as a uint8 tensor. Files of direct_min
    bytes or more are read through the direct path (one Direct per
    process); smaller ones with one plain read through the mount, which for
    them costs less than registering a handle (both are served from the
    block cache that prefetch warmed)."""

    def __init__(self, files, mountpoint=None, direct_min=1 << 20):
        self.files = list(files)
        self.mountpoint = mountpoint or (mount_of(self.files[0]) if self.files else "/")
        self.direct_min = direct_min
        self._direct, self._pid = None, None
        self._prefetcher = None

    def _d(self):
        if self._pid != os.getpid():  # a fresh one in each worker process
            self._direct, self._pid = Direct(self.mountpoint), os.getpid()
        return self._direct

    def __getstate__(self):
        # a spawned worker gets the file list, not this process's Directs
        state = dict(self.__dict__)
        state.update(_direct=None, _pid=None, _prefetcher=None)
        return state

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        import torch

        path = self.files[i]
        size = os.path.getsize(path)
        if size < self.direct_min:
            with open(path, "rb", buffering=0) as f:
                buf = bytearray(f.read())
            n = len(buf)
        else:
            buf = bytearray(size)
            n = self._d().read_into(path, buf) if size else 0
        return torch.frombuffer(buf, dtype=torch.uint8)[:n] if n else torch.empty(0, dtype=torch.uint8)

    def prefetch(self, order):
        """Hand the daemon the files in the order the sampler will ask for
        them (order: an iterable of indices, e.g. a FixedOrder); returns at
        once. They are fetched while this dataset stays open here."""
        if self._prefetcher is None:
            self._prefetcher = Direct(self.mountpoint)
        self._prefetcher.prefetch([self.files[i] for i in order])

    def close(self):
        """Stop prefetching and close this process's direct path."""
        for d in (self._prefetcher, self._direct if self._pid == os.getpid() else None):
            if d is not None:
                d.close()
        self._direct, self._pid, self._prefetcher = None, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FixedOrder:
    """A shuffled order of n items drawn once (from seed), so that it can be
    prefetched before the DataLoader asks for it: a sampler."""

    def __init__(self, n, seed=0):
        self.order = list(range(n))
        random.Random(seed).shuffle(self.order)

    def __iter__(self):
        return iter(self.order)

    def __len__(self):
        return len(self.order)
