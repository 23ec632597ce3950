#!/usr/bin/env python3
"""Regenerates quantize_q8_0.json: float rows and the Q8_0 blocks gguf-py quantizes them to.

The reference is gguf-py's `quantize(x, Q8_0)` (pip package `gguf`, version in
scripts/requirements.txt), which reproduces ggml's quantize_row_q8_0_ref bit for bit:
d = max|x| / 127 in f32, stored as f16 (round to nearest even); q = roundf(x · (1/d)), round half
away from zero. Tram's load-time quantizer must give the same bytes.
Run: python3 Tests/Fixtures/make_quantize_q8_0.py > Tests/Fixtures/quantize_q8_0.json
"""
import base64
import json

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize

rng = np.random.default_rng(20250301)
cases = []


def add(name, x, columns=None):
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    columns = columns or x.size
    assert x.size % columns == 0 and columns % 32 == 0
    with np.errstate(over="ignore"):  # the f16 overflow case
        raw = quantize(x.reshape(-1, columns), T.Q8_0)
    assert raw.dtype == np.uint8 and raw.size == x.size // 32 * 34
    cases.append({
        "name": name,
        "columns": columns,
        "rows": x.size // columns,
        "input": base64.b64encode(x.tobytes()).decode(),  # little-endian f32
        "bytes": base64.b64encode(raw.tobytes()).decode(),
    })


# max|x| = 127 makes d = 1 and 1/d = 1, so x·(1/d) is exactly x: every .5 is a tie that roundf
# takes away from zero (0.5 → 1, 2.5 → 3, −2.5 → −3) where round-to-even would not.
ties = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 0, -0.0, 3.5, -3.5, 4.5, 0.49999997, -0.49999997]
ties += list(np.arange(-7.5, 8.5, 1.0))[:16]
add("ties, d = 1", ties)
# max|x| = 63.5: d = 0.5, 1/d = 2, so x = k/2 + 1/4 lands on k + 0.5 exactly.
add("ties, d = 0.5", [-63.5] + [k / 2 + 0.25 for k in range(-31, 31, 2)])
# The largest magnitude is negative: d is still positive, the extreme maps to −127.
neg = rng.uniform(-1, 1, 32)
neg[5] = -3.75
add("negative maximum", neg)
add("all zeros", np.zeros(64))  # d = 0, 1/d taken as 0: every q is 0
mixed = rng.standard_normal(64) * 0.02
mixed[::3] = 0
add("zeros among values", mixed)
# d = max/127 exactly halfway between two f16 values: 1 + 2^-11 rounds down to 1 (even),
# 1 + 3·2^-11 up to 1 + 2^-9.
for k in (1, 3):
    block = rng.uniform(-100, 100, 32)
    block[0] = 127 * (1 + k * 2.0 ** -11)
    add(f"f16 tie in d (1 + {k}·2^-11)", block)
add("small values (d is an f16 subnormal)", rng.uniform(-1e-4, 1e-4, 32))
add("tiny values (d underflows f16 to 0)", rng.uniform(-1e-6, 1e-6, 32))
huge = rng.uniform(-1, 1, 32)
huge[3] = 1e7  # d = 78740 overflows f16 to +inf, as ggml stores it
add("d overflows f16", huge)
# A weight-like matrix: several rows, several blocks per row, outliers in some blocks.
w = rng.standard_normal((6, 96)) * 0.05
w[1, 40] = 0.9
w[4, 2] = -1.3
add("matrix 6 × 96", w, columns=96)
add("matrix 3 × 512", rng.standard_normal((3, 512)) * rng.uniform(0.001, 2.0, (3, 1)), columns=512)

print(json.dumps({"generator": "gguf-py quantize(x, Q8_0)", "cases": cases}, indent=1))
