"""safetensors files -> numpy arrays (stdlib + numpy; no safetensors package needed).

Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__?},
then the raw little-endian tensor bytes (offsets relative to the end of the header).
"""

import json
import struct

import numpy as np

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


def parse_safetensors(data):
    """bytes of a safetensors file -> (dict name -> numpy array in file order, metadata dict of strings)."""
    buf = memoryview(data)
    if len(buf) < 8:
        raise ValueError("not a safetensors file: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", buf[:8])
    if n < 2 or 8 + n > len(buf):
        raise ValueError("not a safetensors file: header length %d does not fit in %d bytes" % (n, len(buf)))
    header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    start = 8 + n
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    tensors = {}
    for name, info in entries:
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            raise ValueError("tensor %s has dtype %s, which this reader does not know" % (name, dtype))
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        arr = np.frombuffer(buf[start + begin : start + end], dtype=_DTYPES[dtype])
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError("tensor %s: %d values for shape %s" % (name, arr.size, list(shape)))
        tensors[name] = arr.reshape(shape)
    return tensors, metadata


def read_safetensors(path):
    """A safetensors file on disk -> (dict name -> numpy array, metadata)."""
    with open(path, "rb") as f:
        return parse_safetensors(f.read())
