"""direct_py_test.py MNT/DIR — the Python binding (python/unifs) against a
live mount: read_into bytearray / numpy / torch (via its numpy view) /
shared memory (byte-exact at any offset, length and buffer alignment, short
at end of file), write_from, prefetch, safetensors. Run by test_direct_*.sh;
prints PASS or raises."""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["UFS_SRC"], "python"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import unifs  # noqa: E402

d_dir = sys.argv[1]
mnt = sys.argv[2]
rng = np.random.default_rng(7)
data = rng.integers(0, 256, size=(20 << 20) + 333, dtype=np.uint8)
src = os.path.join(d_dir, "py_src.bin")

with unifs.Direct(mnt) as d:
    # write_from a numpy array (staged), read back through FUSE
    assert d.write_from(src, data) == data.nbytes
    with open(src, "rb") as f:
        assert f.read() == data.tobytes(), "write_from: content differs"

    # read_into: bytearray, numpy, torch via numpy view, shared memory
    ba = bytearray(data.nbytes)
    assert d.read_into(src, ba) == data.nbytes and bytes(ba) == data.tobytes()
    arr = np.zeros(1 << 20, dtype=np.uint8)
    assert d.read_into(src, arr, offset=5 << 20) == 1 << 20
    assert np.array_equal(arr, data[5 << 20:6 << 20])
    t = torch.zeros(1000, dtype=torch.float32)
    assert d.read_into(src, t.numpy(), offset=4) == 4000
    assert t.numpy().tobytes() == data[4:4004].tobytes()  # (random bits: NaNs)
    sh = d.alloc(data.nbytes + 100)
    assert d.read_into(src, sh) == data.nbytes  # short at end of file
    assert np.array_equal(sh[: data.nbytes], data)
    assert d.read_into(src, sh[10:20], offset=30) == 10 and np.array_equal(sh[10:20], data[30:40])

    # read_into the caller's memory (staged, entries in flight): byte-exact at
    # any offset, length and alignment of the buffer, short at end of file
    guard = 0xA5
    for off in (0, 1, (8 << 20) - 1, 8 << 20, (13 << 20) + 7, data.nbytes - 5, data.nbytes, data.nbytes + 9):
        for n in (1, 4095, (8 << 20) + 1, data.nbytes + 100):
            mis = (off + n) % 61
            big = np.full(n + mis + 128, guard, dtype=np.uint8)
            view = big[64 + mis:64 + mis + n]  # misaligned by mis bytes
            want = max(0, min(n, data.nbytes - off))
            assert d.read_into(src, view, offset=off) == want, (off, n)
            assert np.array_equal(view[:want], data[off:off + want]), (off, n)
            assert (big[:64 + mis] == guard).all() and (big[64 + mis + want:] == guard).all(), (off, n)
    ba2 = bytearray(b"\x5a" * 300)
    assert d.read_into(src, memoryview(ba2)[7:207], offset=3 << 20) == 200
    assert ba2[7:207] == data[3 << 20:(3 << 20) + 200].tobytes() and ba2[:7] == b"\x5a" * 7 and ba2[207:] == b"\x5a" * 93
    t2 = torch.empty((data.nbytes + 3) // 4, dtype=torch.int32)  # a whole file into a tensor
    assert d.read_into(src, t2.numpy()) == data.nbytes
    assert t2.numpy().view(np.uint8)[: data.nbytes].tobytes() == data.tobytes()
    assert d.read_into(src, bytearray(0)) == 0
    short = os.path.join(d_dir, "py_short.bin")
    with open(short, "wb") as f:
        f.write(data[:777].tobytes())
    arr3 = np.zeros(1 << 20, dtype=np.uint8)
    assert d.read_into(short, arr3) == 777 and np.array_equal(arr3[:777], data[:777]) and not arr3[777:].any()

    # bad input: a clear error, nothing else
    try:
        d.read_into(os.path.join(d_dir, "no-such-file"), ba)
        raise AssertionError("missing file read")
    except FileNotFoundError:
        pass
    try:
        d.read_into(src, bytes(10))
        raise AssertionError("read into a read-only buffer")
    except TypeError:
        pass

    # safetensors written by hand, loaded through the direct path
    tensors = {
        "w": torch.arange(12, dtype=torch.float32).reshape(3, 4),
        "b": torch.tensor([1, -2, 3], dtype=torch.int64),
        "h": torch.linspace(0, 1, 8, dtype=torch.bfloat16),
    }
    header, blobs, off = {"__metadata__": {"by": "unifs"}}, [], 0
    codes = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16"}
    for name, ten in tensors.items():
        raw = ten.contiguous().view(torch.uint8).numpy().tobytes() if ten.dtype == torch.bfloat16 \
            else ten.numpy().tobytes()
        header[name] = {"dtype": codes[ten.dtype], "shape": list(ten.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hj = json.dumps(header).encode()
    hj += b" " * (-len(hj) % 8)
    st_path = os.path.join(d_dir, "model.safetensors")
    with open(st_path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
    got = d.load_safetensors(st_path)
    assert set(got) == set(tensors), got.keys()
    for name, ten in tensors.items():
        assert got[name].dtype == ten.dtype and torch.equal(got[name], ten), name
    bad = os.path.join(d_dir, "bad.safetensors")
    with open(bad, "wb") as f:
        f.write(struct.pack("<Q", 1 << 40))
    try:
        d.load_safetensors(bad)
        raise AssertionError("bad safetensors loaded")
    except ValueError:
        pass

    # prefetch: returns at once, files still read correctly
    d.prefetch([src, st_path])
    assert d.read_into(src, ba) == data.nbytes and bytes(ba) == data.tobytes()
    d.prefetch_cancel(src)
print("PASS python")
