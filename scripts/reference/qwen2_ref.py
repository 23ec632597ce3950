#!/usr/bin/env python3
"""A clean numpy float32 Qwen2 forward pass over a GGUF's dequantized weights (reference for Tram).

Qwen2 is Llama (llama_ref.py) with three differences:

* attn_q / attn_k / attn_v carry biases (`blk.N.attn_{q,k,v}.bias`, float32); attn_output has none.
* RoPE is NEOX / rotate-half on the GGUF weights: llama.cpp's converter permutes q/k rows only for
  the llama family, so for qwen2 the GGUF rows keep HF's layout and RoPE rotates
  (x[i], x[i + head_dim/2]) by pos * theta^(-2i/head_dim)  (llama.cpp: LLAMA_ROPE_TYPE_NEOX for
  LLM_ARCH_QWEN2 in src/llama-model.cpp llama_model_rope_type). theta = qwen2.rope.freq_base (1e6).
* the output head is its own tensor (`output.weight`) when present (untied in Qwen2.5-Coder-0.5B).

Model: x = embed[ids]; per layer: h = x + Wo·attn(RoPE(Wq·rms(x)+bq), RoPE(Wk·rms(x)+bk), Wv·rms(x)+bv)
(causal, GQA: query head j uses KV head j // (n_head / n_head_kv)); x = h + Wdown·(silu(Wgate·rms(h)) *
Wup·rms(h)); logits = Wout · rms(x). RMSNorm: x * w / sqrt(mean(x^2) + eps). Scale 1/sqrt(head_dim).
No BOS: Qwen's GGUF has add_bos_token=false and the chat template starts with <|im_start|>.

CLI:  qwen2_ref.py [--gguf PATH] [--chat] [-n 32] "prompt"
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import KVCache, apply_rope, dequantize_tensor, rms_norm, rope_tables, silu  # noqa: E402

MODEL_DIR = "qwen2.5-coder-0.5b-instruct"
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def default_model_path() -> str:
    cache = os.environ.get("TRAM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tram")
    return os.path.join(cache, "models", MODEL_DIR, MODEL_FILE)


@dataclass
class Config:
    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    rope_theta: float
    rms_eps: float
    vocab_size: int
    context_length: int
    tied: bool


@dataclass
class Model:
    cfg: Config
    embed: np.ndarray     # [vocab, n_embd]
    layers: list          # dicts: attn_norm, wq, bq, wk, bk, wv, bv, wo, ffn_norm, w_gate, w_up, w_down
    norm: np.ndarray      # [n_embd]
    lm_head: np.ndarray   # [vocab, n_embd] (== embed when tied)
    meta: dict = field(default_factory=dict)

    @property
    def n_layer(self) -> int:
        return self.cfg.n_layer


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def gguf_config(reader) -> Config:
    arch = _field(reader, "general.architecture")
    if arch != "qwen2":
        raise ValueError(f"unsupported architecture {arch!r} (qwen2 only)")
    g = lambda k, d=None: _field(reader, f"qwen2.{k}", d)
    n_embd = int(g("embedding_length"))
    n_head = int(g("attention.head_count"))
    head_dim = int(g("attention.key_length", n_embd // n_head))
    if g("rope.scaling.type") not in (None, "none"):
        raise ValueError("rope scaling not supported by the reference")
    if int(g("rope.dimension_count", head_dim)) != head_dim:
        raise ValueError("partial rotary not supported by the reference")
    names = {t.name for t in reader.tensors}
    return Config(
        n_layer=int(g("block_count")), n_embd=n_embd, n_ff=int(g("feed_forward_length")),
        n_head=n_head, n_head_kv=int(g("attention.head_count_kv", n_head)), head_dim=head_dim,
        rope_theta=float(g("rope.freq_base", 10000.0)), rms_eps=float(g("attention.layer_norm_rms_epsilon")),
        vocab_size=len(_field(reader, "tokenizer.ggml.tokens")), context_length=int(g("context_length", 32768)),
        tied="output.weight" not in names,
    )


def load_gguf(path: str) -> Model:
    import gguf
    reader = gguf.GGUFReader(path)
    cfg = gguf_config(reader)
    T = {t.name: dequantize_tensor(t) for t in reader.tensors}
    layers = []
    for i in range(cfg.n_layer):
        p = f"blk.{i}."
        layers.append(dict(
            attn_norm=T[p + "attn_norm.weight"], ffn_norm=T[p + "ffn_norm.weight"],
            wq=T[p + "attn_q.weight"], bq=T[p + "attn_q.bias"].reshape(-1),
            wk=T[p + "attn_k.weight"], bk=T[p + "attn_k.bias"].reshape(-1),
            wv=T[p + "attn_v.weight"], bv=T[p + "attn_v.bias"].reshape(-1),
            wo=T[p + "attn_output.weight"],
            w_gate=T[p + "ffn_gate.weight"], w_up=T[p + "ffn_up.weight"], w_down=T[p + "ffn_down.weight"],
        ))
    embed = T["token_embd.weight"]
    lm_head = T.get("output.weight", embed)
    d, hd = cfg.n_embd, cfg.head_dim
    assert embed.shape == (cfg.vocab_size, d) and lm_head.shape == (cfg.vocab_size, d)
    L = layers[0]
    assert L["wq"].shape == (cfg.n_head * hd, d) and L["bq"].shape == (cfg.n_head * hd,)
    assert L["wk"].shape == (cfg.n_head_kv * hd, d) and L["bk"].shape == (cfg.n_head_kv * hd,)
    assert L["wv"].shape == (cfg.n_head_kv * hd, d) and L["wo"].shape == (d, cfg.n_head * hd)
    assert L["w_gate"].shape == (cfg.n_ff, d) and L["w_down"].shape == (d, cfg.n_ff)
    return Model(cfg, embed, layers, T["output_norm.weight"], lm_head,
                 meta={"source": os.path.basename(path), "format": "gguf"})


def forward(model: Model, ids, cache: KVCache | None = None, rope: str = "half",
            hidden_only: bool = False) -> np.ndarray:
    """Logits [len(ids), vocab] float32 for `ids` appended after what `cache` holds (if any).

    `rope="adjacent"` is the deliberately wrong pairing (for checks); `hidden_only` returns the
    final-normed hidden states [T, n_embd] instead of logits (callers then project in chunks).
    """
    cfg = model.cfg
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    start = cache.length if cache is not None else 0
    nh, nkv, hd = cfg.n_head, cfg.n_head_kv, cfg.head_dim
    group = nh // nkv
    cos, sin = rope_tables(np.arange(start, start + T), hd, cfg.rope_theta)  # [T, hd/2]
    scale = np.float32(1.0 / np.sqrt(hd))
    S = start + T
    # causal: query t (absolute start+t) sees keys 0..start+t
    mask = np.where(np.arange(S)[None, :] <= (start + np.arange(T))[:, None], 0.0, -np.inf).astype(np.float32)

    x = model.embed[ids].astype(np.float32)                       # [T, d]
    for li, L in enumerate(model.layers):
        h = rms_norm(x, L["attn_norm"], cfg.rms_eps)
        q = (h @ L["wq"].T + L["bq"]).reshape(T, nh, hd)
        k = (h @ L["wk"].T + L["bk"]).reshape(T, nkv, hd)
        v = (h @ L["wv"].T + L["bv"]).reshape(T, nkv, hd)
        q = apply_rope(q, cos, sin, rope)
        k = apply_rope(k, cos, sin, rope)
        k = k.transpose(1, 0, 2)                                  # [nkv, T, hd]
        v = v.transpose(1, 0, 2)
        if cache is not None:
            if cache.k[li] is not None:
                k = np.concatenate([cache.k[li], k], axis=1)      # [nkv, S, hd]
                v = np.concatenate([cache.v[li], v], axis=1)
            cache.k[li], cache.v[li] = k, v
        qh = q.transpose(1, 0, 2)                                 # [nh, T, hd]
        kh = np.repeat(k, group, axis=0)                          # head j -> kv head j // group
        vh = np.repeat(v, group, axis=0)
        att = (qh @ kh.transpose(0, 2, 1)) * scale + mask         # [nh, T, S]
        att = np.exp(att - att.max(axis=-1, keepdims=True))
        att = att / att.sum(axis=-1, keepdims=True)
        o = (att @ vh).transpose(1, 0, 2).reshape(T, nh * hd)
        x = x + o @ L["wo"].T
        h = rms_norm(x, L["ffn_norm"], cfg.rms_eps)
        x = x + (silu(h @ L["w_gate"].T) * (h @ L["w_up"].T)) @ L["w_down"].T
    if cache is not None:
        cache.length = S
    x = rms_norm(x, model.norm, cfg.rms_eps)
    if hidden_only:
        return x.astype(np.float32)
    return (x @ model.lm_head.T).astype(np.float32)


def project(model: Model, hidden: np.ndarray) -> np.ndarray:
    """Logits for final-normed hidden states [T, n_embd] -> [T, vocab]."""
    return (hidden @ model.lm_head.T).astype(np.float32)


def new_cache(model: Model) -> KVCache:
    return KVCache(model.cfg.n_layer)


def greedy(model: Model, prompt_ids, n: int, stop_ids=()) -> list[int]:
    """Greedy continuation with a KV cache; stops after n tokens or at a stop id (included)."""
    cache = new_cache(model)
    logits = forward(model, prompt_ids, cache)
    out = []
    for _ in range(n):
        nxt = int(np.argmax(logits[-1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        logits = forward(model, [nxt], cache)
    return out


def _main():
    import argparse
    import gguf
    from make_fixtures import render_chat, special_token_strings
    from tokenizer_json import load_tokenizer

    ap = argparse.ArgumentParser(description="numpy Qwen2 reference greedy generation")
    ap.add_argument("prompt")
    ap.add_argument("--gguf", default=default_model_path())
    ap.add_argument("--chat", action="store_true", help="wrap the prompt as a user message (GGUF template)")
    ap.add_argument("-n", type=int, default=32)
    a = ap.parse_args()
    reader = gguf.GGUFReader(a.gguf)
    model = load_gguf(a.gguf)
    tok = load_tokenizer(a.gguf)
    text = a.prompt
    if a.chat:
        text = render_chat(_field(reader, "tokenizer.chat_template"), [{"role": "user", "content": a.prompt}],
                           True, special_token_strings(reader))
    ids = tok.encode(text, add_special_tokens=False).ids
    eos = int(_field(reader, "tokenizer.ggml.eos_token_id"))
    out = greedy(model, ids, a.n, stop_ids=(eos,))
    print(tok.decode(out, skip_special_tokens=False))


if __name__ == "__main__":
    _main()
