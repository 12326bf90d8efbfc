#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write examples/tiny-model/model.safetensors: a small, valid safetensors
file with deterministic contents (a few hundred KiB), so the demo and the
tests publish real LFS-classified weights without downloading anything.

Usage: python3 examples/make-tiny-model.py [OUT_DIR]
"""
import hashlib
import json
import os
import struct
import sys

TENSORS = [  # name, dtype, shape
    ("model.embed_tokens.weight", "F16", [512, 128]),
    ("model.layers.0.self_attn.q_proj.weight", "F16", [128, 128]),
    ("model.layers.0.mlp.up_proj.weight", "F16", [256, 128]),
    ("model.norm.weight", "F16", [128]),
]


def tensor_bytes(name, nbytes):
    """Deterministic pseudo-random bytes derived from the tensor name."""
    out = bytearray()
    counter = 0
    while len(out) < nbytes:
        out += hashlib.sha256(f"{name}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:nbytes])


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "tiny-model")
    header, blobs, offset = {}, [], 0
    for name, dtype, shape in TENSORS:
        n = 2
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + n]}
        blobs.append(tensor_bytes(name, n))
        offset += n
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)  # align the data section
    path = os.path.join(out_dir, "model.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
