#!/usr/bin/env python3
"""Convert a Llama-architecture GGUF into a Hugging Face model directory (numpy only, no torch).

    gguf_to_hf.py MODEL.gguf OUT_DIR [--dtype f32|bf16] [--shard-size 50MB]

Writes OUT_DIR/{model.safetensors | model-0000i-of-0000n.safetensors + model.safetensors.index.json,
config.json, generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json}.

Every tensor is dequantized to float32 (gguf.quants.dequantize) and stored as f32 or bf16. The q/k
projection rows are un-permuted: llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute)
stores w.reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2) so that RoPE pairs are adjacent
(x[2i], x[2i+1]); HF's rotate_half RoPE pairs x[i] with x[i + head_dim/2], so we apply the inverse
w.reshape(n_head, rows/n_head/2, 2, cols).swapaxes(1, 2) (n_head = n_head_kv for k_proj).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))

import llama_ref  # noqa: E402
import tokenizer_json  # noqa: E402


# ---------------------------------------------------------------------------------------------
# permutation
# ---------------------------------------------------------------------------------------------

def permute_hf_to_gguf(w: np.ndarray, n_head: int) -> np.ndarray:
    """What llama.cpp's convert_hf_to_gguf.py LlamaModel.permute does (n_head already = n_head_kv for k)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_gguf_to_hf(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of permute_hf_to_gguf: per head, GGUF row 2j+t -> HF row t*head_dim/2 + j."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# ---------------------------------------------------------------------------------------------
# safetensors writing
# ---------------------------------------------------------------------------------------------

def f32_to_bf16_bits(a: np.ndarray) -> np.ndarray:
    """Round-to-nearest-even float32 -> bfloat16 bit patterns (uint16). NaN stays NaN."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = (u + (np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))) >> np.uint32(16)
    nan = np.isnan(a)
    out = rounded.astype(np.uint16)
    out[nan] = np.uint16(0x7FC0)
    return out


def encode_tensor(a: np.ndarray, dtype: str) -> tuple[str, bytes]:
    if dtype == "f32":
        return "F32", np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "bf16":
        return "BF16", f32_to_bf16_bits(a).astype("<u2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path: str, tensors: list[tuple[str, np.ndarray]], dtype: str) -> int:
    """tensors: (name, float32 array). Returns the number of data bytes written."""
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name, a in tensors:
        st_dtype, blob = encode_tensor(a, dtype)
        header[name] = {"dtype": st_dtype, "shape": list(a.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return off


def parse_size(s: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*", s, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r} (e.g. 50MB, 2GB, 1000000)")
    n = float(m.group(1))
    unit = (m.group(2) or "B").upper()
    mult = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}[unit]
    return int(n * mult)


# ---------------------------------------------------------------------------------------------
# conversion
# ---------------------------------------------------------------------------------------------

def hf_tensors_from_gguf(gguf_path: str):
    """(reader, cfg, [(hf_name, float32 array)]) in HF layout."""
    reader, T = llama_ref.load_gguf_tensors(gguf_path)
    cfg = llama_ref.gguf_config(reader)
    out = [("model.embed_tokens.weight", T["token_embd.weight"])]
    for i in range(cfg.n_layer):
        g, h = f"blk.{i}.", f"model.layers.{i}."
        out += [
            (h + "input_layernorm.weight", T[g + "attn_norm.weight"]),
            (h + "self_attn.q_proj.weight", unpermute_gguf_to_hf(T[g + "attn_q.weight"], cfg.n_head)),
            (h + "self_attn.k_proj.weight", unpermute_gguf_to_hf(T[g + "attn_k.weight"], cfg.n_head_kv)),
            (h + "self_attn.v_proj.weight", T[g + "attn_v.weight"]),
            (h + "self_attn.o_proj.weight", T[g + "attn_output.weight"]),
            (h + "post_attention_layernorm.weight", T[g + "ffn_norm.weight"]),
            (h + "mlp.gate_proj.weight", T[g + "ffn_gate.weight"]),
            (h + "mlp.up_proj.weight", T[g + "ffn_up.weight"]),
            (h + "mlp.down_proj.weight", T[g + "ffn_down.weight"]),
        ]
    out.append(("model.norm.weight", T["output_norm.weight"]))
    if not cfg.tied:
        out.append(("lm_head.weight", T["output.weight"]))
    return reader, cfg, out


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def convert(gguf_path: str, out_dir: str, dtype: str = "f32", shard_size: int | None = None) -> None:
    reader, cfg, tensors = hf_tensors_from_gguf(gguf_path)
    os.makedirs(out_dir, exist_ok=True)
    nbytes = {"f32": 4, "bf16": 2}[dtype]
    torch_dtype = {"f32": "float32", "bf16": "bfloat16"}[dtype]

    # weights
    for fn in os.listdir(out_dir):  # drop stale shards / single file from an earlier run
        if fn.endswith(".safetensors") or fn == "model.safetensors.index.json":
            os.remove(os.path.join(out_dir, fn))
    if shard_size is None:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, dtype)
    else:
        shards, cur, cur_size = [], [], 0
        for name, a in tensors:
            sz = a.size * nbytes
            if cur and cur_size + sz > shard_size:
                shards.append(cur)
                cur, cur_size = [], 0
            cur.append((name, a))
            cur_size += sz
        if cur:
            shards.append(cur)
        weight_map, total = {}, 0
        for k, shard in enumerate(shards):
            fn = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
            total += write_safetensors(os.path.join(out_dir, fn), shard, dtype)
            for name, _ in shard:
                weight_map[name] = fn
        _write_json(os.path.join(out_dir, "model.safetensors.index.json"),
                    {"metadata": {"total_size": total}, "weight_map": weight_map})

    # config
    tokens = _field(reader, "tokenizer.ggml.tokens")
    bos = _field(reader, "tokenizer.ggml.bos_token_id")
    eos = _field(reader, "tokenizer.ggml.eos_token_id")
    pad = _field(reader, "tokenizer.ggml.padding_token_id")
    unk = _field(reader, "tokenizer.ggml.unknown_token_id")
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.n_embd,
        "intermediate_size": cfg.n_ff,
        "num_attention_heads": cfg.n_head,
        "num_key_value_heads": cfg.n_head_kv,
        "head_dim": cfg.head_dim,
        "num_hidden_layers": cfg.n_layer,
        "hidden_act": "silu",
        "rms_norm_eps": _f32_shortest(cfg.rms_eps),   # GGUF stores float32: 1e-5, not 9.9999997e-06
        "rope_theta": _f32_shortest(cfg.rope_theta),
        "rope_scaling": None,
        "max_position_embeddings": cfg.context_length,
        "vocab_size": cfg.vocab_size,
        "tie_word_embeddings": cfg.tied,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "use_cache": True,
        "bos_token_id": None if bos is None else int(bos),
        "eos_token_id": None if eos is None else int(eos),
        "pad_token_id": None if pad is None else int(pad),
        "torch_dtype": torch_dtype,
    }
    _write_json(os.path.join(out_dir, "config.json"), config)
    gen = {"_from_model_config": True, "bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]}
    if pad is not None:
        gen["pad_token_id"] = int(pad)
    _write_json(os.path.join(out_dir, "generation_config.json"), gen)

    # tokenizer
    tok = tokenizer_json.tokenizer_dict_from_reader(reader)
    _write_json(os.path.join(out_dir, "tokenizer.json"), tok)
    name = lambda i: None if i is None else tokens[int(i)]
    specials = [t for t in tok["added_tokens"] if t["special"]]
    tok_config = {
        "add_bos_token": bool(_field(reader, "tokenizer.ggml.add_bos_token", False)),
        "add_eos_token": bool(_field(reader, "tokenizer.ggml.add_eos_token", False)),
        "add_prefix_space": False,
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in
                                               ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
                                 for t in tok["added_tokens"]},
        "additional_special_tokens": [t["content"] for t in specials
                                      if t["content"] not in {name(bos), name(eos), name(pad), name(unk)}],
        "bos_token": name(bos),
        "eos_token": name(eos),
        "pad_token": name(pad),
        "unk_token": name(unk),
        "chat_template": _field(reader, "tokenizer.chat_template"),
        "clean_up_tokenization_spaces": False,
        "model_max_length": cfg.context_length,
        "tokenizer_class": "GPT2Tokenizer",
        "vocab_size": cfg.vocab_size,
    }
    _write_json(os.path.join(out_dir, "tokenizer_config.json"), tok_config)
    _write_json(os.path.join(out_dir, "special_tokens_map.json"),
                {k: tok_config[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
                | {"additional_special_tokens": tok_config["additional_special_tokens"]})


def _f32_shortest(x: float) -> float:
    """The shortest decimal that round-trips the float32 value (what the HF config said originally)."""
    return float(str(np.float32(x)))


def _write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--shard-size", type=parse_size, default=None,
                    help="max bytes per shard (e.g. 50MB); writes model-0000i-of-0000n.safetensors + index")
    a = ap.parse_args()
    convert(a.gguf, a.out_dir, a.dtype, a.shard_size)
    files = sorted(os.listdir(a.out_dir))
    print(f"wrote {a.out_dir}: {', '.join(files)}")


if __name__ == "__main__":
    main()
