"""safetensors loading over the direct path (no safetensors dependency).

Format: 8 bytes little-endian N, N bytes of JSON {name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {...}}, then the raw data,
offsets relative to its start.
"""

import json
import os
import struct

_NUMPY = {
    "F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64", "I32": "int32",
    "I16": "int16", "I8": "int8", "U8": "uint8", "U16": "uint16", "U32": "uint32",
    "U64": "uint64", "BOOL": "bool",
}


def parse_header(raw8, read):
    """(header dict, data offset) given the first 8 bytes and read(n, off)."""
    (n,) = struct.unpack("<Q", raw8)
    if n == 0 or n > 100 << 20:
        raise ValueError("safetensors: bad header length %d" % n)
    header = json.loads(bytes(read(n, 8)).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("safetensors: header is not a JSON object")
    return header, 8 + n


def load(direct, path, framework="torch"):
    import numpy

    size = os.path.getsize(path)
    if size < 8:
        raise ValueError("safetensors: %s: file too short" % path)
    head = bytearray(min(size, 1 << 16))
    direct.read_into(path, head)

    def read(n, off):
        if off + n <= len(head):
            return head[off:off + n]
        buf = bytearray(n)
        direct.read_into(path, buf, off)
        return buf

    header, start = parse_header(bytes(head[:8]), read)
    data = direct.alloc(size - start)
    if size > start and direct.read_into(path, data, start) != size - start:
        raise ValueError("safetensors: %s: short read" % path)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        if not (0 <= b <= e <= size - start):
            raise ValueError("safetensors: %s: %s: offsets outside the data" % (path, name))
        dt = info["dtype"]
        shape = tuple(info["shape"])
        raw = data[b:e]
        if dt == "BF16":
            if framework != "torch":
                raise ValueError("safetensors: BF16 needs framework='torch'")
            import torch

            out[name] = torch.from_numpy(raw.view(numpy.int16)).view(torch.bfloat16).reshape(shape)
            continue
        if dt not in _NUMPY:
            raise ValueError("safetensors: %s: dtype %s not supported" % (name, dt))
        arr = raw.view(_NUMPY[dt]).reshape(shape)
        if framework == "torch":
            import torch

            arr = torch.from_numpy(arr)
        out[name] = arr
    return out
