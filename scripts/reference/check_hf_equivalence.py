#!/usr/bin/env python3
"""Prove that scripts/gguf_to_hf.py un-permutes q/k correctly.

1. Convert the GGUF to a temporary HF directory (f32, single file) and to a sharded bf16 one.
2. Run the numpy reference forward on a few prompts:
     GGUF weights + adjacent-pair RoPE  (llama.cpp convention)      = reference
     HF weights   + rotate-half RoPE    (transformers convention)  must match (max |diff| ~1e-4)
     GGUF weights + rotate-half RoPE    (wrong)                    must differ clearly
     HF weights   + adjacent-pair RoPE  (wrong)                    must differ clearly
3. Also: the permutation round-trips exactly, the safetensors files are well formed, and the
   bf16 sharded export stays close (informational).

    python3 scripts/reference/check_hf_equivalence.py [--model PATH] [--keep DIR]
Exit status 1 if the right-convention diff exceeds 1e-3 or a wrong-convention diff is below 1.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import gguf_to_hf  # noqa: E402
import llama_ref  # noqa: E402
from make_fixtures import default_model_path, gguf_string, render_chat, special_token_strings  # noqa: E402
from tokenizer_json import load_tokenizer  # noqa: E402

PROMPTS = [
    ("raw", "The history of the bicycle begins in the early nineteenth century, when inventors in Europe"),
    ("chat", "Explain in two sentences why the sky is blue and why sunsets are red."),
]


def check_safetensors_file(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    assert n % 8 == 0, "header length must be a multiple of 8"
    assert header.get("__metadata__") == {"format": "pt"}
    spans = sorted(v["data_offsets"] for k, v in header.items() if k != "__metadata__")
    pos = 0
    for s, e in spans:
        assert s == pos, "data must be contiguous"
        pos = e
    assert 8 + n + pos == size, "file size must equal 8 + header + data"
    for k, v in header.items():
        if k != "__metadata__":
            width = {"F32": 4, "BF16": 2}[v["dtype"]]
            assert v["data_offsets"][1] - v["data_offsets"][0] == width * int(np.prod(v["shape"])), k


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=default_model_path())
    ap.add_argument("--keep", default=None, help="write the HF directories here instead of a temp dir")
    a = ap.parse_args()

    t0 = time.time()
    work = a.keep or tempfile.mkdtemp(prefix="tram-hf-check-")
    f32_dir, bf16_dir = os.path.join(work, "hf-f32"), os.path.join(work, "hf-bf16-sharded")
    try:
        gguf_to_hf.convert(a.model, f32_dir, "f32")
        gguf_to_hf.convert(a.model, bf16_dir, "bf16", shard_size=100 * 10**6)
        for d in (f32_dir, bf16_dir):
            for fn in os.listdir(d):
                if fn.endswith(".safetensors"):
                    check_safetensors_file(os.path.join(d, fn))
        print(f"converted + safetensors structure OK ({time.time() - t0:.1f}s); "
              f"bf16 shards: {sorted(f for f in os.listdir(bf16_dir) if f.endswith('.safetensors'))}")

        g = llama_ref.load_gguf(a.model)
        h = llama_ref.load_hf(f32_dir)
        hb = llama_ref.load_hf(bf16_dir)
        assert g.cfg.rope == "adjacent" and h.cfg.rope == "half"

        # permutation round trip + the converted HF weights really differ from the GGUF ones
        wq = g.layers[0]["wq"]
        assert np.array_equal(gguf_to_hf.permute_hf_to_gguf(gguf_to_hf.unpermute_gguf_to_hf(wq, 9), 9), wq)
        assert np.array_equal(gguf_to_hf.permute_hf_to_gguf(h.layers[0]["wq"], g.cfg.n_head), wq)
        assert np.array_equal(gguf_to_hf.permute_hf_to_gguf(h.layers[0]["wk"], g.cfg.n_head_kv), g.layers[0]["wk"])
        assert not np.array_equal(h.layers[0]["wq"], wq)
        for k in ("wv", "wo", "w_gate", "w_up", "w_down", "attn_norm", "ffn_norm"):
            assert np.array_equal(h.layers[0][k], g.layers[0][k]), k
        assert np.array_equal(h.embed, g.embed)
        print("permutation: HF->GGUF(permute) of converted q/k reproduces the GGUF rows exactly; v/o/ffn/norms/embed identical")

        reader = __import__("gguf").GGUFReader(a.model)
        tmpl, specials = gguf_string(reader, "tokenizer.chat_template"), special_token_strings(reader)
        tok = load_tokenizer(a.model)

        ok = True
        for kind, text in PROMPTS:
            if kind == "chat":
                text = render_chat(tmpl, [{"role": "user", "content": text}], True, specials)
            ids = tok.encode(text).ids
            ref = llama_ref.forward(g, ids)                      # GGUF + adjacent
            hf = llama_ref.forward(h, ids)                       # HF + rotate-half
            g_wrong = llama_ref.forward(g, ids, rope="half")     # GGUF + rotate-half (wrong)
            h_wrong = llama_ref.forward(h, ids, rope="adjacent") # HF + adjacent (wrong)
            hb16 = llama_ref.forward(hb, ids)                    # HF bf16 sharded + rotate-half
            am = ref.argmax(-1)
            agree = lambda x: f"{(x.argmax(-1) == am).mean() * 100:.0f}%"
            d_ok = np.abs(hf - ref).max()
            d_g = np.abs(g_wrong - ref).max()
            d_h = np.abs(h_wrong - ref).max()
            d_b = np.abs(hb16 - ref).max()
            print(f"\n[{kind}] {len(ids)} tokens")
            print(f"  HF f32 + rotate-half   vs GGUF + adjacent: max|diff| = {d_ok:.2e}  (argmax agree {agree(hf)})")
            print(f"  GGUF + rotate-half (WRONG)                : max|diff| = {d_g:.2f}  (argmax agree {agree(g_wrong)}; "
                  f"position 0 diff {np.abs(g_wrong[0] - ref[0]).max():.1e}, RoPE is identity there)")
            print(f"  HF + adjacent (WRONG)                     : max|diff| = {d_h:.2f}  (argmax agree {agree(h_wrong)})")
            print(f"  HF bf16 sharded + rotate-half             : max|diff| = {d_b:.3f}  (argmax agree {agree(hb16)})")
            ok &= d_ok < 1e-3 and d_g > 1.0 and d_h > 1.0
        print(f"\n{'PASS' if ok else 'FAIL'} ({time.time() - t0:.1f}s)")
        return 0 if ok else 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
