#!/usr/bin/env python3
"""A clean numpy float32 Gemma 3 (text) forward pass over a GGUF's dequantized weights.

The independent reference for Tram's Gemma 3 support. Facts it relies on, with where they come from
(transformers 5.24 models/gemma3/modeling_gemma3.py = "HF"; llama.cpp in llama-cpp-python 0.3.36's
vendor tree: src/models/gemma3.cpp, conversion/gemma.py, src/llama-hparams.{h,cpp} = "llama.cpp"):

* Embedding: x = embed[ids] * sqrt(n_embd). HF (Gemma3TextScaledWordEmbedding.forward) multiplies by
  `embed_scale.to(weight.dtype)`, i.e. sqrt(640) rounded to the weight dtype: 25.298221 in float32,
  25.25 in bfloat16 (HF's default dtype for the checkpoint); llama.cpp (gemma3.cpp, ggml_scale by
  sqrtf(n_embd)) uses float32. This reference uses float32 (EMBED_SCALE_DTYPE="f32"), as llama.cpp
  does on GGUF; `embed_scale_dtype="bf16"` reproduces HF-in-bfloat16.
* RMSNorm: HF computes x * rsqrt(mean(x^2) + eps) * (1 + w). llama.cpp's converter (conversion/gemma.py,
  Gemma3Model.norm_shift / modify_tensors) adds 1.0 to every tensor whose name ends in "norm.weight"
  when writing the GGUF, so on GGUF weights the norm is the plain x * rsqrt(mean(x^2) + eps) * w.
  That covers attn_norm, post_attention_norm, ffn_norm, post_ffw_norm, output_norm, attn_q_norm, attn_k_norm.
* Block (HF Gemma3DecoderLayer.forward; llama.cpp gemma3.cpp):
      h = x + post_attention_norm(attn(attn_norm(x)))
      x = h + post_ffw_norm(mlp(ffn_norm(h)))
  mlp(h) = Wdown·(gelu_tanh(Wgate·h) * Wup·h)   (hidden_activation "gelu_pytorch_tanh"; llama.cpp LLM_FFN_GELU,
  whose CPU kernel looks GELU up in an fp16 table: GGML_GELU_FP16 in ggml-cpu/vec.h).
* Attention: q, k, v = Wq·h, Wk·h, Wv·h (no biases); QK-norm: RMSNorm over head_dim of every q and k
  head (attn_q_norm / attn_k_norm) BEFORE RoPE; RoPE rotate-half (NEOX: pairs (i, i + head_dim/2); the
  converter does not permute gemma3's q/k, llama.cpp uses LLAMA_ROPE_TYPE_NEOX for LLM_ARCH_GEMMA3);
  GQA (4 query heads share 1 KV head for 270M); scores scaled by query_pre_attn_scalar^-0.5
  (HF Gemma3Attention.scaling) — llama.cpp uses 1/sqrt(head_dim) for every size but 27B
  (gemma3.cpp load_arch_hparams f_attention_scale); for 270M both are 256^-0.5 = 1/16.
  No attention logit softcapping (removed in Gemma 3; the converter asserts attn_logit_softcapping is None).
* Layer types: layer i is GLOBAL (full causal attention, RoPE base gemma3.rope.freq_base = 1e6) when
  i % 6 == 5, i.e. layers 5, 11, 17 of 18; every other layer is LOCAL (sliding window, RoPE base 10000).
  HF: configuration_gemma3.py layer_types = "sliding_attention" if (i + 1) % sliding_window_pattern else
  "full_attention", pattern 6, default_theta {"global": 1e6, "local": 1e4}; llama.cpp: set_swa_pattern(6)
  makes is_swa(il) = il % 6 < 5, and rope_freq_base_train_swa defaults to 10000.0 (llama-hparams.h)
  because the GGUF has no gemma3.rope.freq_base_swa key.
* Sliding window W = gemma3.attention.sliding_window (512): a local layer's query at position p sees the
  keys at positions k with p - W < k <= p, i.e. W keys including itself. HF masking_utils.sliding_window_overlay:
  `kv_idx > q_idx - sliding_window`; llama.cpp llama_hparams::is_masked_swa (LLAMA_SWA_TYPE_STANDARD):
  masked when `p1 - p0 >= n_swa` (p1 query, p0 key). Same convention.
* Head: logits = embed · output_norm(x) (tied; no output.weight in the GGUF). Final logit softcapping:
  Gemma3TextConfig.final_logit_softcapping defaults to None and the GGUF has no
  gemma3.final_logit_softcapping key, so none is applied (the code honours the key if present).
* BOS: tokenizer.ggml.add_bos_token = true, bos id 2: prompts start with <bos> (the chat template
  emits it itself; raw prompts get it prepended).

Everything is float32 (weights dequantized by gguf.quants.dequantize); the KV cache keeps every
position and the mask applies the window, so a cached forward equals the full one.

CLI:  gemma3_ref.py [--gguf PATH] [--chat] [--no-window] [-n 32] "prompt"
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_ref import KVCache, apply_rope, dequantize_tensor, rms_norm, rope_tables  # noqa: E402

MODEL_DIR = "gemma-3-270m"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"

SWA_PATTERN = 6                 # every 6th layer is global
ROPE_THETA_LOCAL = 10000.0      # HF default_theta["local"], llama.cpp rope_freq_base_train_swa default
EMBED_SCALE_DTYPE = "f32"


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
    rope_theta_global: float
    rope_theta_local: float
    sliding_window: int
    rms_eps: float
    vocab_size: int
    context_length: int
    query_scale: float
    final_logit_softcapping: float | None
    bos_id: int
    add_bos: bool

    def is_global(self, layer: int) -> bool:
        return layer % SWA_PATTERN == SWA_PATTERN - 1


@dataclass
class Model:
    cfg: Config
    embed: np.ndarray     # [vocab, n_embd]; also the output head (tied)
    layers: list          # dicts: attn_norm, wq, wk, wv, q_norm, k_norm, wo, post_attn_norm,
                          #        ffn_norm, w_gate, w_up, w_down, post_ffw_norm
    norm: np.ndarray      # [n_embd]
    meta: dict = field(default_factory=dict)

    @property
    def n_layer(self) -> int:
        return self.cfg.n_layer


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def gguf_config(reader) -> Config:
    arch = _field(reader, "general.architecture")
    if arch != "gemma3":
        raise ValueError(f"unsupported architecture {arch!r} (gemma3 only)")
    g = lambda k, d=None: _field(reader, f"gemma3.{k}", d)
    n_embd = int(g("embedding_length"))
    n_head = int(g("attention.head_count"))
    head_dim = int(g("attention.key_length", 256))
    if int(g("attention.value_length", head_dim)) != head_dim:
        raise ValueError("key_length != value_length not supported")
    if g("rope.scaling.type") not in (None, "none") or float(g("rope.scaling.factor", 1.0)) != 1.0:
        raise ValueError("rope scaling not supported by the reference")
    if g("attention.sliding_window") is None:
        raise ValueError("the reference expects gemma3.attention.sliding_window")
    n_layer = int(g("block_count"))
    # llama.cpp: 1/sqrt(n_embd / n_head) only for the 62-layer 27B (query_pre_attn_scalar = 168), else 1/sqrt(head_dim)
    qscale = 1.0 / np.sqrt(n_embd / n_head) if n_layer == 62 else 1.0 / np.sqrt(head_dim)
    softcap = g("final_logit_softcapping")
    return Config(
        n_layer=n_layer, n_embd=n_embd, n_ff=int(g("feed_forward_length")), n_head=n_head,
        n_head_kv=int(g("attention.head_count_kv", n_head)), head_dim=head_dim,
        rope_theta_global=float(g("rope.freq_base", 1_000_000.0)),
        rope_theta_local=float(g("rope.freq_base_swa", ROPE_THETA_LOCAL)),
        sliding_window=int(g("attention.sliding_window")),
        rms_eps=float(g("attention.layer_norm_rms_epsilon")),
        vocab_size=len(_field(reader, "tokenizer.ggml.tokens")),
        context_length=int(g("context_length", 32768)),
        query_scale=float(qscale),
        final_logit_softcapping=float(softcap) if softcap else None,
        bos_id=int(_field(reader, "tokenizer.ggml.bos_token_id", 2)),
        add_bos=bool(_field(reader, "tokenizer.ggml.add_bos_token", True)),
    )


def load_gguf(path: str) -> Model:
    import gguf
    reader = gguf.GGUFReader(path)
    cfg = gguf_config(reader)
    T = {t.name: dequantize_tensor(t) for t in reader.tensors}
    if "output.weight" in T:
        raise ValueError("untied Gemma 3 head not supported by the reference")
    vec = lambda name: T[name].reshape(-1)
    layers = []
    for i in range(cfg.n_layer):
        p = f"blk.{i}."
        layers.append(dict(
            attn_norm=vec(p + "attn_norm.weight"),
            wq=T[p + "attn_q.weight"], wk=T[p + "attn_k.weight"], wv=T[p + "attn_v.weight"],
            q_norm=vec(p + "attn_q_norm.weight"), k_norm=vec(p + "attn_k_norm.weight"),
            wo=T[p + "attn_output.weight"], post_attn_norm=vec(p + "post_attention_norm.weight"),
            ffn_norm=vec(p + "ffn_norm.weight"),
            w_gate=T[p + "ffn_gate.weight"], w_up=T[p + "ffn_up.weight"], w_down=T[p + "ffn_down.weight"],
            post_ffw_norm=vec(p + "post_ffw_norm.weight"),
        ))
    embed = T["token_embd.weight"]
    d, hd = cfg.n_embd, cfg.head_dim
    assert embed.shape == (cfg.vocab_size, d), embed.shape
    L = layers[0]
    assert L["wq"].shape == (cfg.n_head * hd, d) and L["wo"].shape == (d, cfg.n_head * hd)
    assert L["wk"].shape == (cfg.n_head_kv * hd, d) and L["wv"].shape == (cfg.n_head_kv * hd, d)
    assert L["q_norm"].shape == (hd,) and L["k_norm"].shape == (hd,)
    assert L["w_gate"].shape == (cfg.n_ff, d) and L["w_down"].shape == (d, cfg.n_ff)
    return Model(cfg, embed, layers, vec("output_norm.weight"),
                 meta={"source": os.path.basename(path), "format": "gguf"})


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) -- torch's gelu(approximate="tanh")."""
    c = np.float32(np.sqrt(2.0 / np.pi))
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(c * (x + np.float32(0.044715) * x * x * x)))


def embed_scale(cfg: Config, dtype: str = EMBED_SCALE_DTYPE) -> np.float32:
    s = np.float32(np.sqrt(np.float32(cfg.n_embd)))
    if dtype == "bf16":  # round-to-nearest-even to bfloat16, as torch's .to(torch.bfloat16)
        u = np.array([s], dtype=np.float32).view(np.uint32)
        u = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
        s = u.view(np.float32)[0]
    elif dtype != "f32":
        raise ValueError(dtype)
    return np.float32(s)


def attention_mask(q_pos: np.ndarray, k_pos: np.ndarray, window: int | None) -> np.ndarray:
    """[T, S] additive mask: 0 where key k is visible from query q, -inf elsewhere.

    Causal: k <= q. Sliding (window W): also k > q - W, so a query sees W keys including itself:

        key position:   q-W  q-W+1  ...  q-1  q   q+1
        visible:         no   yes   yes  yes yes   no
    """
    ok = k_pos[None, :] <= q_pos[:, None]
    if window is not None:
        ok &= k_pos[None, :] > q_pos[:, None] - window
    return np.where(ok, 0.0, -np.inf).astype(np.float32)


def forward(model: Model, ids, cache: KVCache | None = None, window: bool = True,
            hidden_only: bool = False, embed_scale_dtype: str = EMBED_SCALE_DTYPE, rope: str = "half") -> np.ndarray:
    """Logits [len(ids), vocab] float32 for `ids` appended after what `cache` holds (if any).

    `hidden_only` returns the output-normed hidden states [T, n_embd] (project() gives logits).
    Deliberately wrong variants, for check_models.py: `window=False` gives every layer full causal
    attention, `rope="adjacent"` pairs (x[2i], x[2i+1]).
    """
    cfg = model.cfg
    ids = np.asarray(ids, dtype=np.int64)
    T = len(ids)
    start = cache.length if cache is not None else 0
    nh, nkv, hd = cfg.n_head, cfg.n_head_kv, cfg.head_dim
    group = nh // nkv
    S = start + T
    q_pos, k_pos = np.arange(start, S), np.arange(S)
    rope_global = rope_tables(q_pos, hd, cfg.rope_theta_global)           # cos, sin: [T, hd/2]
    rope_local = rope_tables(q_pos, hd, cfg.rope_theta_local)
    mask_global = attention_mask(q_pos, k_pos, None)                      # [T, S]
    mask_local = attention_mask(q_pos, k_pos, cfg.sliding_window if window else None)
    scale = np.float32(cfg.query_scale)

    x = model.embed[ids].astype(np.float32) * embed_scale(cfg, embed_scale_dtype)   # [T, d]
    for li, L in enumerate(model.layers):
        is_global = cfg.is_global(li)
        cos, sin = rope_global if is_global else rope_local
        mask = mask_global if is_global else mask_local

        h = rms_norm(x, L["attn_norm"], cfg.rms_eps)
        q = (h @ L["wq"].T).reshape(T, nh, hd)
        k = (h @ L["wk"].T).reshape(T, nkv, hd)
        v = (h @ L["wv"].T).reshape(T, nkv, hd)
        q = rms_norm(q, L["q_norm"], cfg.rms_eps)                         # per head, over head_dim
        k = rms_norm(k, L["k_norm"], cfg.rms_eps)
        q = apply_rope(q, cos, sin, rope)
        k = apply_rope(k, cos, sin, rope)
        k = k.transpose(1, 0, 2)                                          # [nkv, T, hd]
        v = v.transpose(1, 0, 2)
        if cache is not None:
            if cache.k[li] is not None:
                k = np.concatenate([cache.k[li], k], axis=1)              # [nkv, S, hd]
                v = np.concatenate([cache.v[li], v], axis=1)
            cache.k[li], cache.v[li] = k, v
        qh = q.transpose(1, 0, 2)                                         # [nh, T, hd]
        kh = np.repeat(k, group, axis=0)                                  # head j -> kv head j // group
        vh = np.repeat(v, group, axis=0)
        att = (qh @ kh.transpose(0, 2, 1)) * scale + mask                 # [nh, T, S]
        att = np.exp(att - att.max(axis=-1, keepdims=True))
        att = att / att.sum(axis=-1, keepdims=True)
        o = (att @ vh).transpose(1, 0, 2).reshape(T, nh * hd)             # [T, nh*hd]
        x = x + rms_norm(o @ L["wo"].T, L["post_attn_norm"], cfg.rms_eps)

        h = rms_norm(x, L["ffn_norm"], cfg.rms_eps)
        m = (gelu_tanh(h @ L["w_gate"].T) * (h @ L["w_up"].T)) @ L["w_down"].T
        x = x + rms_norm(m, L["post_ffw_norm"], cfg.rms_eps)
    if cache is not None:
        cache.length = S
    x = rms_norm(x, model.norm, cfg.rms_eps).astype(np.float32)
    return x if hidden_only else project(model, x)


def project(model: Model, hidden: np.ndarray) -> np.ndarray:
    """Logits [T, vocab] for output-normed hidden states [T, n_embd] (tied head, optional softcap)."""
    logits = (hidden @ model.embed.T).astype(np.float32)
    cap = model.cfg.final_logit_softcapping
    if cap:
        logits = (np.tanh(logits / np.float32(cap)) * np.float32(cap)).astype(np.float32)
    return logits


def new_cache(model: Model) -> KVCache:
    return KVCache(model.cfg.n_layer)


def greedy(model: Model, prompt_ids, n: int, stop_ids=(), window: bool = True) -> list[int]:
    """Greedy continuation with a KV cache; stops after n tokens or at a stop id (included)."""
    cache = new_cache(model)
    logits = forward(model, prompt_ids, cache, window=window)
    out = []
    for _ in range(n):
        nxt = int(np.argmax(logits[-1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        logits = forward(model, [nxt], cache, window=window)
    return out


TEMPLATE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "Tests", "Fixtures", "templates", "gemma-3.jinja")


def chat_template() -> str:
    """Gemma 3's chat template (the GGUF has none): Tests/Fixtures/templates/gemma-3.jinja."""
    with open(TEMPLATE_PATH, encoding="utf-8") as f:
        return f.read()


def _main():
    import argparse
    import gguf
    from make_fixtures import render_chat, special_token_strings
    from tokenizer_json import load_tokenizer

    ap = argparse.ArgumentParser(description="numpy Gemma 3 reference greedy generation")
    ap.add_argument("prompt")
    ap.add_argument("--gguf", default=default_model_path())
    ap.add_argument("--chat", action="store_true", help="wrap the prompt as a user turn (gemma-3.jinja)")
    ap.add_argument("--no-window", action="store_true", help="full attention in every layer (wrong; for checks)")
    ap.add_argument("-n", type=int, default=32)
    a = ap.parse_args()
    reader = gguf.GGUFReader(a.gguf)
    model = load_gguf(a.gguf)
    tok = load_tokenizer(a.gguf)
    if a.chat:
        # the template emits <bos> itself, so no BOS is added when encoding
        text = render_chat(chat_template(), [{"role": "user", "content": a.prompt}], True,
                           special_token_strings(reader))
        ids = tok.encode(text, add_special_tokens=False).ids
    else:
        ids = tok.encode(a.prompt, add_special_tokens=model.cfg.add_bos).ids
    stops = (int(_field(reader, "tokenizer.ggml.eos_token_id")), tok.token_to_id("<end_of_turn>"))
    out = greedy(model, ids, a.n, stop_ids=stops, window=not a.no_window)
    print(tok.decode(out, skip_special_tokens=False))


if __name__ == "__main__":
    _main()
