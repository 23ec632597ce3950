#!/usr/bin/env python3
"""Regenerates kernels_quant.json: raw GGUF block bytes and the values gguf-py dequantizes them to.

The reference is gguf-py (pip package `gguf`), independent of Tram's kernels. The K-quants and
IQ4_NL have no quantizer in gguf-py, so their blocks are random bytes (every bit pattern of every
quant, scale and min field) with small, finite f16 scales.
Run: python3 Tests/Fixtures/make_kernels_quant.py > Tests/Fixtures/kernels_quant.json
"""
import base64
import json

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

rng = np.random.default_rng(20240601)
cases = []


def add(name, raw: np.ndarray, qtype, count):
    values = dequantize(raw, qtype).reshape(-1).astype(np.float32)
    assert values.size == count
    cases.append({
        "type": name,
        "count": count,
        "bytes": base64.b64encode(raw.tobytes()).decode(),
        "values": base64.b64encode(values.tobytes()).decode(),  # little-endian f32
    })


for name, qtype in [("f16", T.F16), ("bf16", T.BF16), ("q8_0", T.Q8_0), ("q4_0", T.Q4_0), ("q4_1", T.Q4_1),
                    ("q5_0", T.Q5_0), ("q5_1", T.Q5_1)]:
    x = (rng.standard_normal((1, 256)) * 2.5 + 0.3).astype(np.float32)
    x[0, 7] = 0.0
    add(name, quantize(x, qtype), qtype, 256)
    x = rng.uniform(-0.01, 0.05, (1, 64)).astype(np.float32)
    add(name, quantize(x, qtype), qtype, 64)


def random_k(block_bytes, d_offsets, nblocks):
    raw = rng.integers(0, 256, (nblocks, block_bytes), dtype=np.uint8)
    for off in d_offsets:
        d = rng.uniform(-0.02, 0.02, nblocks).astype(np.float16)
        raw[:, off:off + 2] = d.view(np.uint8).reshape(nblocks, 2)
    return raw.reshape(1, -1)


add("q4_K", random_k(144, [0, 2], 3), T.Q4_K, 768)
add("q6_K", random_k(210, [208], 3), T.Q6_K, 768)
add("q5_0", random_k(22, [0], 8), T.Q5_0, 256)
add("q5_1", random_k(24, [0, 2], 8), T.Q5_1, 256)
add("iq4_nl", random_k(18, [0], 8), T.IQ4_NL, 256)
add("q2_K", random_k(84, [80, 82], 3), T.Q2_K, 768)
add("q3_K", random_k(110, [108], 3), T.Q3_K, 768)
add("q5_K", random_k(176, [0, 2], 3), T.Q5_K, 768)
print(json.dumps({"generator": "gguf-py dequantize", "cases": cases}, indent=1))
