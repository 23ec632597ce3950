#!/usr/bin/env python3
"""Evidence for the conventions qwen2_ref.py and gemma3_ref.py assume, measured on the real GGUFs.

    python3 scripts/reference/check_models.py [--model qwen2.5,gemma3]

Each check compares the reference against a deliberately wrong variant on real text (perplexity of
the ~200-token paragraph, or of the ~600-token text where the sliding window matters) and asserts the
reference is the better model, plus exactness checks (KV cache == full forward). Exit 1 on failure.

qwen2.5: RoPE rotate-half beats adjacent pairs; the q/k/v biases matter; cached == full.
gemma3:  norm weights used as stored beat (1 + stored) (the GGUF already holds 1 + w); rotate-half beats
         adjacent; query scale 1/sqrt(head_dim = 256) beats 1/sqrt(n_embd/n_head = 160) (27B's rule);
         local RoPE base 10000 beats 1e6 on the local layers (~600-token text); the sliding
         window changes that text's NLL (both values are printed); cached == full across the window
         boundary. Reported only: the embed scale in float32 vs bfloat16 (25.2982 vs 25.25).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_fixtures as mf  # noqa: E402
import make_model_fixtures as mmf  # noqa: E402

FAILURES = []


def check(cond: bool, what: str) -> None:
    print(f"  {'ok  ' if cond else 'FAIL'} {what}")
    if not cond:
        FAILURES.append(what)


def mean_nll(ref, model, ids, **kw) -> float:
    hidden = ref.forward(model, ids, hidden_only=True, **kw)
    total = 0.0
    for i in range(0, len(ids) - 1, mmf.HEAD_CHUNK):
        rows = np.arange(i, min(i + mmf.HEAD_CHUNK, len(ids) - 1))
        lp = mf.log_softmax(ref.project(model, hidden[rows]).astype(np.float64))
        total -= lp[np.arange(len(rows)), np.asarray(ids)[rows + 1]].sum()
    return total / (len(ids) - 1)


def cached_equals_full(ref, model, ids, split: int) -> float:
    cache = ref.new_cache(model)
    a = ref.forward(model, ids[:split], cache, hidden_only=True)
    b = ref.forward(model, ids[split:], cache, hidden_only=True)
    full = ref.forward(model, ids, hidden_only=True)
    return float(np.abs(np.concatenate([a, b]) - full).max())


def check_qwen(path: str) -> None:
    import qwen2_ref as ref
    from tokenizer_json import load_tokenizer
    tok = load_tokenizer(path)
    model = ref.load_gguf(path)
    ids = tok.encode(mf.PERPLEXITY_TEXT, add_special_tokens=False).ids
    good = mean_nll(ref, model, ids)
    adj = mean_nll(ref, model, ids, rope="adjacent")
    check(good < adj - 0.5, f"rotate-half RoPE NLL {good:.4f} (ppl {math.exp(good):.3f}) < adjacent pairs {adj:.4f}")
    nobias = copy.copy(model)
    nobias.layers = [dict(L, bq=L["bq"] * 0, bk=L["bk"] * 0, bv=L["bv"] * 0) for L in model.layers]
    nb = mean_nll(ref, nobias, ids)
    check(good < nb - 0.5, f"with q/k/v biases NLL {good:.4f} < without {nb:.4f}")
    d = cached_equals_full(ref, model, ids, 37)
    check(d < 1e-3, f"KV-cached forward equals the full forward (max |diff| of hidden {d:.2e})")


def check_gemma(path: str) -> None:
    import gemma3_ref as ref
    from tokenizer_json import load_tokenizer
    tok = load_tokenizer(path)
    model = ref.load_gguf(path)
    ids = tok.encode(mf.PERPLEXITY_TEXT, add_special_tokens=True).ids
    long_ids = tok.encode(mmf.LONG_TEXT, add_special_tokens=True).ids
    print(f"  texts: {len(ids)} and {len(long_ids)} tokens (with BOS)")
    good = mean_nll(ref, model, ids)
    print(f"  reference NLL {good:.4f} (ppl {math.exp(good):.3f})")

    plus1 = copy.copy(model)
    norm_keys = ("attn_norm", "q_norm", "k_norm", "post_attn_norm", "ffn_norm", "post_ffw_norm")
    plus1.layers = [dict(L, **{k: L[k] + 1 for k in norm_keys}) for L in model.layers]
    plus1.norm = model.norm + 1
    p1 = mean_nll(ref, plus1, ids)
    check(good < p1 - 0.5, f"norm weights as stored NLL {good:.4f} < 1 + stored {p1:.4f} (GGUF holds 1 + w)")

    adj = mean_nll(ref, model, ids, rope="adjacent")
    check(good < adj - 0.5, f"rotate-half RoPE NLL {good:.4f} < adjacent pairs {adj:.4f}")

    alt = copy.copy(model)
    alt.cfg = dataclasses.replace(model.cfg, query_scale=float(1 / np.sqrt(model.cfg.n_embd / model.cfg.n_head)))
    qs = mean_nll(ref, alt, ids)
    check(good < qs, f"query scale 1/sqrt(256) NLL {good:.4f} < 1/sqrt(n_embd/n_head = 160) {qs:.4f}")

    bf = mean_nll(ref, model, ids, embed_scale_dtype="bf16")
    print(f"  info embed scale float32 {float(ref.embed_scale(model.cfg)):.6f} NLL {good:.5f}; "
          f"bfloat16 {float(ref.embed_scale(model.cfg, 'bf16')):.6f} NLL {bf:.5f}")

    good_long = mean_nll(ref, model, long_ids)
    hi = copy.copy(model)
    hi.cfg = dataclasses.replace(model.cfg, rope_theta_local=model.cfg.rope_theta_global)
    hl = mean_nll(ref, hi, long_ids)
    check(good_long < hl, f"local RoPE base 10000 NLL {good_long:.4f} < local base 1e6 {hl:.4f} (long text)")
    nowin = mean_nll(ref, model, long_ids, window=False)
    print(f"  info long text NLL with window {good_long:.5f}, without (all layers global) {nowin:.5f}")
    check(abs(good_long - nowin) > 1e-4, "the sliding window changes the long text's NLL")

    d = cached_equals_full(ref, model, long_ids, 500)
    check(d < 1e-3, f"KV-cached forward (500 + {len(long_ids) - 500} tokens, across the window) equals the "
                    f"full forward (max |diff| of hidden {d:.2e})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=",".join(mmf.SPECS))
    a = ap.parse_args()
    for key in a.model.split(","):
        spec = mmf.SPECS[key]
        path = mmf.model_path(spec, None)
        print(f"{key}: {path}")
        {"qwen2.5": check_qwen, "gemma3": check_gemma}[key](path)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
