#!/usr/bin/env python3
"""The tiny synthetic Gemma 3 of Tram's tests (Tests/TramTestSupport/TinyGemma3.swift), rebuilt
here bit for bit, and the reference logits it must give (Tests/Fixtures/logits_gemma3_tiny.json).

    python3 scripts/reference/make_gemma3_tiny_fixture.py [--gguf-out PATH]

The weights come from SplitMix64 (seed 3) in TinyGemma3's drawing order: a matrix entry is
((u >> 40) - 2^23) / 2^23 * scale, a norm entry 1 + ((u >> 58) - 32) / 256, so every value is an
exact float32 and Swift and numpy hold identical weights. The GGUF is written with gguf-py as
llama.cpp's converter would write a Gemma 3 (norms already 1 + w); the logits come from the numpy
Gemma 3 forward of gemma3_ref.py reading that file, teacher-forced over two token sequences longer
than the window, for the model as it is (window 4, every 3rd layer global: layers 2 and 5) and for
variants: every layer local, every layer global, Gemma 3's own period 6, final logit softcapping.
gemma3_ref.py hard-codes Gemma 3's period of 6 (SWA_PATTERN); this script sets it to the tiny
model's period. (It has no RoPE scaling, so that rule is checked by Tram's configuration tests only.)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

MASK = (1 << 64) - 1

TOKENS = (["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "\n", "\u2581"]
          + [chr(c) for c in range(ord("a"), ord("z") + 1)]
          + ["\u2581" + chr(c) for c in range(ord("a"), ord("z") + 1)]
          + [".", ",", "?", "!"])


class SplitMix64:
    """Tests/TramTestSupport/SeededGenerator.swift."""

    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def default_shape() -> dict:
    return dict(hidden=32, heads=2, kv_heads=1, head_dim=16, ffn=64, layers=6, period=3, window=4,
                context_length=64, seed=3, rope_scaling=None, softcap=None)


def tensors(s: dict) -> list:
    """[(gguf name, shape [rows, cols] or [n], float32 values)] in TinyGemma3.tensors() order."""
    rng = SplitMix64(s["seed"])
    out = []

    def matrix(name, rows, cols, scale):
        v = np.array([((rng.next() >> 40) - (1 << 23)) / float(1 << 23) * scale for _ in range(rows * cols)], dtype=np.float64)
        out.append((name, [rows, cols], v.astype(np.float32).reshape(rows, cols)))

    def norm(name, n):
        v = np.array([1 + ((rng.next() >> 58) - 32) / 256.0 for _ in range(n)], dtype=np.float64)
        out.append((name, [n], v.astype(np.float32)))

    h, q_dim, kv_dim = s["hidden"], s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    matrix("token_embd.weight", len(TOKENS), h, 1)
    for i in range(s["layers"]):
        p = f"blk.{i}."
        norm(p + "attn_norm.weight", h)
        matrix(p + "attn_q.weight", q_dim, h, 0.25)
        matrix(p + "attn_k.weight", kv_dim, h, 0.25)
        matrix(p + "attn_v.weight", kv_dim, h, 0.25)
        matrix(p + "attn_output.weight", h, q_dim, 0.25)
        norm(p + "attn_q_norm.weight", s["head_dim"])
        norm(p + "attn_k_norm.weight", s["head_dim"])
        norm(p + "post_attention_norm.weight", h)
        norm(p + "ffn_norm.weight", h)
        matrix(p + "ffn_gate.weight", s["ffn"], h, 0.25)
        matrix(p + "ffn_up.weight", s["ffn"], h, 0.25)
        matrix(p + "ffn_down.weight", h, s["ffn"], 0.125)
        norm(p + "post_ffw_norm.weight", h)
    norm("output_norm.weight", h)
    return out


def write_gguf(path: str, s: dict) -> None:
    import gguf

    w = gguf.GGUFWriter(path, "gemma3")
    w.add_name("tiny gemma 3")
    w.add_context_length(s["context_length"])
    w.add_embedding_length(s["hidden"])
    w.add_block_count(s["layers"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv_heads"])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(s["head_dim"])
    w.add_value_length(s["head_dim"])
    w.add_rope_freq_base(1_000_000.0)
    w.add_sliding_window(s["window"])
    w.add_uint32("gemma3.attention.sliding_window_pattern", s["period"])
    if s["rope_scaling"]:
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(s["rope_scaling"])
    if s["softcap"]:
        w.add_final_logit_softcapping(s["softcap"])
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(TOKENS)
    w.add_token_scores([-float(1000 - len(t)) for t in TOKENS])
    w.add_token_types([3 if i < 6 else 4 if i == 6 else 1 for i in range(len(TOKENS))])
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    for name, _, values in tensors(s):
        w.add_tensor(name, values)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


SEQUENCES = [
    [2, 8, 9, 35, 12, 40, 60, 7, 20, 33, 45, 11, 52, 6, 30, 9],
    [2, 4, 8, 27, 6, 5, 50, 51, 10, 22, 61, 39, 18],
]

VARIANTS = {
    "tiny": {},
    "all_local": {"period": 100},
    "all_global": {"period": 1},
    "period_6": {"period": 6},
    "softcapped": {"softcap": 2.0},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf-out", help="also keep the default tiny model's GGUF at this path")
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "logits_gemma3_tiny.json"))
    args = ap.parse_args()
    import gemma3_ref

    result = {"source": "scripts/reference/make_gemma3_tiny_fixture.py (numpy float32 forward of gemma3_ref.py, "
                        "its SWA_PATTERN set to each variant's period; logits rounded to 6 decimals)",
              "shape": default_shape(), "sequences": SEQUENCES, "variants": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, change in VARIANTS.items():
            s = {**default_shape(), **change}
            path = os.path.join(tmp, f"{name}.gguf")
            write_gguf(path, s)
            if name == "tiny" and args.gguf_out:
                write_gguf(args.gguf_out, s)
            model = gemma3_ref.load_gguf(path)
            gemma3_ref.SWA_PATTERN = s["period"]  # read by Config.is_global at every forward
            logits = [np.asarray(gemma3_ref.forward(model, ids), dtype=np.float32) for ids in SEQUENCES]
            result["variants"].append({"name": name, "change": change,
                                       "logits": [[[round(float(x), 6) for x in row] for row in l] for l in logits]})
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
