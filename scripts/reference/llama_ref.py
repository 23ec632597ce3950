#!/usr/bin/env python3
"""A clean numpy float32 Llama forward pass (the independent reference for Tram).

Two weight sources, one forward:

* GGUF (`load_gguf`): every tensor dequantized to float32 with `gguf.quants.dequantize`. llama.cpp's
  converter permutes the rows of attn_q / attn_k per head so that rotary pairs are ADJACENT:
  RoPE rotates (x[2i], x[2i+1]) by pos * theta^(-2i/head_dim)  -> rope="adjacent".
* Hugging Face directory (`load_hf`): model.safetensors (+ index) and config.json, weights in HF's
  layout, for which RoPE rotates (x[i], x[i + head_dim/2])  ("rotate_half")  -> rope="half".

Model: x = embed[ids]; per layer: h = x + Wo·attn(RoPE(Wq·rms(x)), RoPE(Wk·rms(x)), Wv·rms(x)) (causal,
GQA: query head h uses KV head h // (n_head / n_kv_head)); x = h + Wdown·(silu(Wgate·rms(h)) * Wup·rms(h));
logits = lm_head · rms(x), lm_head = embed when tied. RMSNorm: x * w / sqrt(mean(x^2) + eps).

CLI:  llama_ref.py [--gguf PATH | --hf DIR] [--chat] [-n 32] "prompt"
"""
from __future__ import annotations

import json
import os
import struct
import sys
from dataclasses import dataclass, field

import numpy as np


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
    rope: str  # "adjacent" (GGUF layout) or "half" (HF layout)
    tied: bool = True


@dataclass
class Model:
    cfg: Config
    embed: np.ndarray                 # [vocab, n_embd]
    layers: list                      # list of dicts: attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down
    norm: np.ndarray                  # [n_embd]
    lm_head: np.ndarray               # [vocab, n_embd] (== embed when tied)
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# GGUF loading
# ---------------------------------------------------------------------------------------------

def _gguf_field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def gguf_config(reader) -> Config:
    arch = _gguf_field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"unsupported architecture {arch!r}")
    g = lambda k, d=None: _gguf_field(reader, f"{arch}.{k}", d)
    n_embd = int(g("embedding_length"))
    n_head = int(g("attention.head_count"))
    head_dim = int(g("attention.key_length", n_embd // n_head))
    if g("rope.scaling.type") not in (None, "none"):
        raise ValueError("rope scaling not supported by the reference")
    rope_dim = int(g("rope.dimension_count", head_dim))
    if rope_dim != head_dim:
        raise ValueError("partial rotary not supported by the reference")
    tokens = _gguf_field(reader, "tokenizer.ggml.tokens")
    vocab = int(g("vocab_size", len(tokens) if tokens is not None else 0))
    names = {t.name for t in reader.tensors}
    return Config(
        n_layer=int(g("block_count")),
        n_embd=n_embd,
        n_ff=int(g("feed_forward_length")),
        n_head=n_head,
        n_head_kv=int(g("attention.head_count_kv", n_head)),
        head_dim=head_dim,
        rope_theta=float(g("rope.freq_base", 10000.0)),
        rms_eps=float(g("attention.layer_norm_rms_epsilon")),
        vocab_size=vocab,
        context_length=int(g("context_length", 2048)),
        rope="adjacent",
        tied="output.weight" not in names,
    )


def dequantize_tensor(t) -> np.ndarray:
    """GGUF tensor -> float32 array shaped [rows, cols] (numpy order; gguf's `shape` lists ne0 first)."""
    from gguf.quants import dequantize
    a = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
    expected = tuple(int(d) for d in reversed(t.shape))  # ne = [cols, rows] -> numpy [rows, cols]
    a = a.reshape(expected)
    return np.ascontiguousarray(a)


def load_gguf_tensors(path: str):
    import gguf
    reader = gguf.GGUFReader(path)
    return reader, {t.name: dequantize_tensor(t) for t in reader.tensors}


def load_gguf(path: str) -> Model:
    reader, T = load_gguf_tensors(path)
    cfg = gguf_config(reader)
    layers = []
    for i in range(cfg.n_layer):
        p = f"blk.{i}."
        layers.append(dict(
            attn_norm=T[p + "attn_norm.weight"], ffn_norm=T[p + "ffn_norm.weight"],
            wq=T[p + "attn_q.weight"], wk=T[p + "attn_k.weight"], wv=T[p + "attn_v.weight"],
            wo=T[p + "attn_output.weight"],
            w_gate=T[p + "ffn_gate.weight"], w_up=T[p + "ffn_up.weight"], w_down=T[p + "ffn_down.weight"],
        ))
    embed = T["token_embd.weight"]
    lm_head = T.get("output.weight", embed)
    _check_shapes(cfg, embed, layers)
    return Model(cfg, embed, layers, T["output_norm.weight"], lm_head,
                 meta={"source": os.path.basename(path), "format": "gguf"})


def _check_shapes(cfg: Config, embed, layers):
    d, hd = cfg.n_embd, cfg.head_dim
    assert embed.shape == (cfg.vocab_size, d), embed.shape
    L = layers[0]
    assert L["wq"].shape == (cfg.n_head * hd, d), L["wq"].shape
    assert L["wk"].shape == (cfg.n_head_kv * hd, d), L["wk"].shape
    assert L["wv"].shape == (cfg.n_head_kv * hd, d), L["wv"].shape
    assert L["wo"].shape == (d, cfg.n_head * hd), L["wo"].shape
    assert L["w_gate"].shape == (cfg.n_ff, d) and L["w_up"].shape == (cfg.n_ff, d)
    assert L["w_down"].shape == (d, cfg.n_ff), L["w_down"].shape


# ---------------------------------------------------------------------------------------------
# Hugging Face directory loading (safetensors read with numpy only)
# ---------------------------------------------------------------------------------------------

_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": "bf16", "F64": np.float64}


def read_safetensors(path: str) -> dict:
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        buf = np.memmap(path, dtype=np.uint8, mode="r")
        for name, info in header.items():
            if name == "__metadata__":
                continue
            s, e = info["data_offsets"]
            raw = buf[base + s: base + e]
            dt = _ST_DTYPES[info["dtype"]]
            if dt == "bf16":
                a = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                a = raw.view(dt).astype(np.float32)
            out[name] = np.array(a.reshape(info["shape"]), dtype=np.float32)
    return out


def load_hf_tensors(d: str) -> dict:
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    T = {}
    for fn in files:
        T.update(read_safetensors(os.path.join(d, fn)))
    return T


def load_hf(d: str) -> Model:
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    if c.get("model_type") != "llama":
        raise ValueError(f"unsupported model_type {c.get('model_type')!r}")
    if c.get("rope_scaling"):
        raise ValueError("rope scaling not supported by the reference")
    n_head = c["num_attention_heads"]
    cfg = Config(
        n_layer=c["num_hidden_layers"], n_embd=c["hidden_size"], n_ff=c["intermediate_size"],
        n_head=n_head, n_head_kv=c.get("num_key_value_heads", n_head),
        head_dim=c.get("head_dim") or c["hidden_size"] // n_head,
        rope_theta=float(c.get("rope_theta", 10000.0)), rms_eps=float(c["rms_norm_eps"]),
        vocab_size=c["vocab_size"], context_length=c.get("max_position_embeddings", 2048),
        rope="half", tied=bool(c.get("tie_word_embeddings", False)),
    )
    T = load_hf_tensors(d)
    layers = []
    for i in range(cfg.n_layer):
        p = f"model.layers.{i}."
        layers.append(dict(
            attn_norm=T[p + "input_layernorm.weight"], ffn_norm=T[p + "post_attention_layernorm.weight"],
            wq=T[p + "self_attn.q_proj.weight"], wk=T[p + "self_attn.k_proj.weight"],
            wv=T[p + "self_attn.v_proj.weight"], wo=T[p + "self_attn.o_proj.weight"],
            w_gate=T[p + "mlp.gate_proj.weight"], w_up=T[p + "mlp.up_proj.weight"],
            w_down=T[p + "mlp.down_proj.weight"],
        ))
    embed = T["model.embed_tokens.weight"]
    lm_head = embed if cfg.tied else T["lm_head.weight"]
    _check_shapes(cfg, embed, layers)
    return Model(cfg, embed, layers, T["model.norm.weight"], lm_head,
                 meta={"source": os.path.basename(os.path.normpath(d)), "format": "hf"})


# ---------------------------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------------------------

def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    ms = np.mean(x.astype(np.float32) ** 2, axis=-1, keepdims=True)
    return (x / np.sqrt(ms + np.float32(eps))) * w


def rope_tables(positions: np.ndarray, head_dim: int, theta: float):
    inv = (np.float64(theta) ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))  # [hd/2]
    ang = positions.astype(np.float64)[:, None] * inv[None, :]                              # [T, hd/2]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, mode: str) -> np.ndarray:
    """x: [T, H, hd]; cos/sin: [T, hd/2]."""
    c, s = cos[:, None, :], sin[:, None, :]
    out = np.empty_like(x)
    if mode == "adjacent":            # pairs (x[2i], x[2i+1]) -- GGUF / llama.cpp layout
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
    elif mode == "half":              # pairs (x[i], x[i+hd/2]) -- HF rotate_half layout
        h = x.shape[-1] // 2
        a, b = x[..., :h], x[..., h:]
        out[..., :h] = a * c - b * s
        out[..., h:] = a * s + b * c
    else:
        raise ValueError(mode)
    return out


def silu(x):
    return x / (np.float32(1.0) + np.exp(-x))


class KVCache:
    def __init__(self, n_layer: int):
        self.k = [None] * n_layer   # [n_kv, T, hd]
        self.v = [None] * n_layer
        self.length = 0


def forward(model: Model, ids, cache: KVCache | None = None, rope: str | None = None) -> np.ndarray:
    """Logits [len(ids), vocab] float32 for `ids` appended after what `cache` holds (if any)."""
    cfg = model.cfg
    rope = rope or cfg.rope
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    start = cache.length if cache is not None else 0
    nh, nkv, hd = cfg.n_head, cfg.n_head_kv, cfg.head_dim
    group = nh // nkv
    cos, sin = rope_tables(np.arange(start, start + T), hd, cfg.rope_theta)
    scale = np.float32(1.0 / np.sqrt(hd))
    S = start + T
    # causal mask: query t (absolute start+t) sees keys 0..start+t
    mask = np.where(np.arange(S)[None, :] <= (start + np.arange(T))[:, None], 0.0, -np.inf).astype(np.float32)

    x = model.embed[ids].astype(np.float32)
    for li, L in enumerate(model.layers):
        h = rms_norm(x, L["attn_norm"], cfg.rms_eps)
        q = (h @ L["wq"].T).reshape(T, nh, hd)
        k = (h @ L["wk"].T).reshape(T, nkv, hd)
        v = (h @ L["wv"].T).reshape(T, nkv, hd)
        q = apply_rope(q, cos, sin, rope)
        k = apply_rope(k, cos, sin, rope)
        k = k.transpose(1, 0, 2)  # [nkv, T, hd]
        v = v.transpose(1, 0, 2)
        if cache is not None:
            if cache.k[li] is not None:
                k = np.concatenate([cache.k[li], k], axis=1)
                v = np.concatenate([cache.v[li], v], axis=1)
            cache.k[li], cache.v[li] = k, v
        qh = q.transpose(1, 0, 2)                         # [nh, T, hd]
        kh = np.repeat(k, group, axis=0)                  # head j -> kv head j // group
        vh = np.repeat(v, group, axis=0)
        att = (qh @ kh.transpose(0, 2, 1)) * scale + mask  # [nh, T, S]
        att = att - att.max(axis=-1, keepdims=True)
        att = np.exp(att)
        att = att / att.sum(axis=-1, keepdims=True)
        o = (att @ vh).transpose(1, 0, 2).reshape(T, nh * hd)
        x = x + o @ L["wo"].T
        h = rms_norm(x, L["ffn_norm"], cfg.rms_eps)
        x = x + (silu(h @ L["w_gate"].T) * (h @ L["w_up"].T)) @ L["w_down"].T
    if cache is not None:
        cache.length = S
    x = rms_norm(x, model.norm, cfg.rms_eps)
    return (x @ model.lm_head.T).astype(np.float32)


def greedy(model: Model, prompt_ids, n: int, stop_ids=()) -> list[int]:
    """Greedy continuation with a KV cache; stops after n tokens or at a stop id (included)."""
    cache = KVCache(model.cfg.n_layer)
    logits = forward(model, prompt_ids, cache)
    out = []
    for _ in range(n):
        nxt = int(np.argmax(logits[-1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        logits = forward(model, [nxt], cache)
    return out


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def _main():
    import argparse
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_fixtures import default_model_path, render_chat, special_token_strings, gguf_string
    from tokenizer_json import load_tokenizer
    import gguf

    ap = argparse.ArgumentParser(description="numpy reference greedy generation")
    ap.add_argument("prompt")
    ap.add_argument("--gguf", default=None)
    ap.add_argument("--hf", default=None, help="HF directory (rotate-half RoPE)")
    ap.add_argument("--chat", action="store_true", help="wrap the prompt as a user message (ChatML)")
    ap.add_argument("-n", type=int, default=32)
    a = ap.parse_args()
    gguf_path = a.gguf or default_model_path()
    model = load_hf(a.hf) if a.hf else load_gguf(gguf_path)
    tok = load_tokenizer(gguf_path)
    text = a.prompt
    reader = gguf.GGUFReader(gguf_path)
    if a.chat:
        text = render_chat(gguf_string(reader, "tokenizer.chat_template"),
                           [{"role": "user", "content": a.prompt}], True, special_token_strings(reader))
    ids = tok.encode(text).ids
    eos = int(gguf_string(reader, "tokenizer.ggml.eos_token_id"))
    out = greedy(model, ids, a.n, stop_ids=(eos,))
    print(tok.decode(out, skip_special_tokens=False))


if __name__ == "__main__":
    _main()
