"""unifs — Python binding of libunifs, the direct path of a unifs mount.

Pure ctypes over libunifs.so (no compiled extension). Bytes move from the
daemon into memory shared with it (a sealed memfd) without FUSE round trips;
a buffer from :meth:`Direct.alloc` *is* that memory, so reading into it is
the only copy. Any other writable buffer (bytearray, numpy array, the numpy
view of a CPU ``torch.Tensor``) is filled by libunifs through its staging
buffers, several entries in flight while the completed ones are copied out
(ufs_read_into, one call without the GIL): one more memcpy, still no FUSE.

    import unifs
    d = unifs.Direct("/mnt/train")
    arr = d.alloc(os.path.getsize(p))          # numpy uint8 over shared memory
    d.read_into(p, arr)
    tensors = d.load_safetensors("/mnt/ckpt/model.safetensors")
    d.write_from("/mnt/ckpt/out.bin", arr)     # visible once committed (returns)
    d.prefetch(paths_in_sampler_order)

libunifs is found through $UNIFS_LIB, then the system library path (also
without an ld.so cache entry: the dynamic loader's default directories, where
the unifs package puts it), then a build/ directory next to this package's
source tree.

The torch Dataset with prefetch of the sampler's order is unifs.torch.
"""

import ctypes
import ctypes.util
import errno as _errno
import os

__all__ = ["Direct", "UnifsError", "load_library"]

_STAGE = 64 << 20  # write_from's staging buffer for buffers that are not shared memory


class UnifsError(OSError):
    """A libunifs call failed; errno and strerror as for OSError."""


def _candidates():
    env = os.environ.get("UNIFS_LIB")
    if env:
        yield env
    found = ctypes.util.find_library("unifs")
    if found:
        yield found
    yield "libunifs.so.0"
    here = os.path.dirname(os.path.abspath(__file__))
    for rel in ("../../build/libunifs.so", "../../build-asan/libunifs.so"):
        yield os.path.normpath(os.path.join(here, rel))


_lib = None


def load_library():
    """Load libunifs once and declare its functions; returns the CDLL."""
    global _lib
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise UnifsError(_errno.ENOENT, "libunifs not found (set UNIFS_LIB): " + "; ".join(errors))
    vp, sz, i64, i = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64, ctypes.c_int
    sigs = {
        "ufs_driver_open": (i, []),
        "ufs_driver_close": (None, []),
        "ufs_handle_register": (i, [i, ctypes.POINTER(vp)]),
        "ufs_handle_deregister": (i, [vp]),
        "ufs_handle_size": (ctypes.c_uint64, [vp]),
        "ufs_buf_alloc": (i, [sz, ctypes.POINTER(vp)]),
        "ufs_buf_ptr": (vp, [vp]),
        "ufs_buf_free": (None, [vp]),
        "ufs_read": (ctypes.c_ssize_t, [vp, vp, sz, i64, sz]),
        "ufs_read_into": (ctypes.c_ssize_t, [vp, vp, sz, i64]),
        "ufs_write": (ctypes.c_ssize_t, [vp, vp, sz, i64, sz]),
        "ufs_prefetch": (i, [ctypes.POINTER(ctypes.c_char_p), sz]),
        "ufs_prefetch_cancel": (i, [ctypes.c_char_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    _lib = lib
    return lib


def _check(rc, what):
    if rc < 0:
        raise UnifsError(-rc, "%s: %s" % (what, os.strerror(-rc)))
    return rc


class _SharedBuffer:
    """One ufs_buf (shared with the daemon); freed when the last view dies."""

    def __init__(self, lib, size):
        self._lib = lib
        self.buf = ctypes.c_void_p()
        _check(lib.ufs_buf_alloc(size, ctypes.byref(self.buf)), "ufs_buf_alloc")
        self.ptr = lib.ufs_buf_ptr(self.buf)
        self.size = size
        # numpy takes this object as the base of arrays made from it
        self.__array_interface__ = {
            "shape": (size,),
            "typestr": "|u1",
            "data": (self.ptr, False),
            "version": 3,
        }

    def __del__(self):
        if getattr(self, "buf", None) and self.buf.value:
            self._lib.ufs_buf_free(self.buf)
            self.buf = ctypes.c_void_p()


def _writable_address(buffer):
    """(address, nbytes) of a writable contiguous buffer; keeps no reference."""
    mv = memoryview(buffer).cast("B")
    if mv.readonly:
        raise TypeError("read_into needs a writable buffer")
    if mv.nbytes == 0:
        return 0, 0  # nothing to read into (ctypes has no address for it)
    if hasattr(buffer, "__array_interface__"):
        return buffer.__array_interface__["data"][0], mv.nbytes
    return ctypes.addressof(ctypes.c_char.from_buffer(mv)), mv.nbytes


class _Handle:
    """A registered fd, closed (and committed) on exit."""

    def __init__(self, lib, path, flags):
        self._lib = lib
        self.fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
        self.h = ctypes.c_void_p()
        try:
            _check(lib.ufs_handle_register(self.fd, ctypes.byref(self.h)), "register " + path)
        except BaseException:
            os.close(self.fd)
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self._lib.ufs_handle_deregister(self.h)
        os.close(self.fd)
        if exc[0] is None:
            _check(rc, "commit")


class Direct:
    """The direct path of the unifs mount at mountpoint."""

    def __init__(self, mountpoint):
        self.mountpoint = os.path.realpath(mountpoint)
        os.stat(self.mountpoint)  # PermissionError: another user's own mount
        if not os.path.ismount(self.mountpoint):
            raise UnifsError(_errno.EINVAL, "%s is not a mount point" % mountpoint)
        self._lib = load_library()
        _check(self._lib.ufs_driver_open(), "ufs_driver_open")
        self._stage = None
        self._pid = os.getpid()

    def close(self):
        if self._lib is not None:
            self._stage = None
            self._lib.ufs_driver_close()
            self._lib = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _path(self, path):
        path = os.path.join(self.mountpoint, path) if not os.path.isabs(path) else path
        return path

    def alloc(self, size):
        """A numpy uint8 array of size bytes in memory shared with the daemon:
        read_into/write_from on it (or any view of it) copy nothing more."""
        import numpy

        return numpy.asarray(_SharedBuffer(self._lib, max(int(size), 1)))[:size]

    def _staging(self):
        if self._stage is None:
            self._stage = _SharedBuffer(self._lib, _STAGE)
        return self._stage

    @staticmethod
    def _owner(buffer):
        base = buffer
        while base is not None:
            if isinstance(base, _SharedBuffer):
                return base
            base = getattr(base, "base", None)
        return None

    def read_into(self, path, buffer, offset=0):
        """Read len(buffer) bytes of path at offset (fewer at end of file)
        into buffer; returns the number of bytes read."""
        addr, n = _writable_address(buffer)
        owner = self._owner(buffer)
        with _Handle(self._lib, self._path(path), os.O_RDONLY) as h:
            if owner is not None and n:
                got = self._lib.ufs_read(h.h, owner.buf, n, offset, addr - owner.ptr)
                return _check(got, "read " + path)
            # one C call: entries in flight while earlier ones are copied out
            return _check(self._lib.ufs_read_into(h.h, addr, n, offset), "read " + path)

    def write_from(self, path, buffer):
        """Create or replace path with the bytes of buffer. Returns once the
        data is committed (the object exists on an object store)."""
        mv = memoryview(buffer).cast("B")
        n = mv.nbytes
        owner = self._owner(buffer)
        with _Handle(self._lib, self._path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as h:
            if owner is not None:
                addr = buffer.__array_interface__["data"][0]
                _check(self._lib.ufs_write(h.h, owner.buf, n, 0, addr - owner.ptr), "write " + path)
                return n
            stage, done = self._staging(), 0
            src = (ctypes.c_char * n).from_buffer_copy(mv) if mv.readonly else None
            base = ctypes.addressof(src) if src is not None else ctypes.addressof(ctypes.c_char.from_buffer(mv))
            while done < n:
                want = min(n - done, stage.size)
                ctypes.memmove(stage.ptr, base + done, want)
                done += _check(self._lib.ufs_write(h.h, stage.buf, want, done, 0), "write " + path)
            return done

    def prefetch(self, paths):
        """Warm the cache with paths, in this order (returns at once). They
        are fetched while this process keeps a Direct open."""
        enc = [os.fsencode(self._path(p)) for p in paths]
        if not enc:
            return
        arr = (ctypes.c_char_p * len(enc))(*enc)
        _check(self._lib.ufs_prefetch(arr, len(enc)), "prefetch")

    def prefetch_cancel(self, any_path):
        """Drop the prefetches not yet started (any_path: a file on the mount)."""
        _check(self._lib.ufs_prefetch_cancel(os.fsencode(self._path(any_path))), "prefetch_cancel")

    def load_safetensors(self, path, framework="torch"):
        """Every tensor of a safetensors file, read with one direct read into
        shared memory: {name: tensor} (torch) or {name: numpy array}. The
        tensors are views of that memory (no copy per tensor)."""
        from .safetensors import load

        return load(self, self._path(path), framework)
