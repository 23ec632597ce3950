#!/usr/bin/env python3
"""Build a Hugging Face `tokenizer.json` from a GGUF's `tokenizer.ggml.*` metadata.

Three layouts, each the way Hugging Face ships that model family:

`tokenizer.ggml.model == "gpt2"` (byte-level BPE), by `tokenizer.ggml.pre`:

* `smollm` (SmolLM2): no normalizer; pre_tokenizer Sequence[Digits(individual_digits=true),
  ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)]; ByteLevel post-processor
  (adds nothing: no BOS) and decoder; BPE (vocab + merges, no unk, no byte fallback).
* `qwen2` (Qwen2 / Qwen2.5, transformers' Qwen2Tokenizer): normalizer NFC; pre_tokenizer
  Sequence[Split(QWEN2_PATTERN, isolated), ByteLevel(add_prefix_space=false, use_regex=false)];
  ByteLevel post-processor and decoder; the same BPE. The pattern splits digits one by one (`\p{N}`).

`tokenizer.ggml.model == "llama"` with `add_space_prefix == false` (Gemma 2/3, transformers'
GemmaTokenizer / GemmaConverter): normalizer Replace(" " -> "▁"); pre_tokenizer Split(" ",
merged_with_previous) (a no-op after the normalizer, kept because HF ships it); BPE with
byte_fallback, unk "<unk>", fuse_unk, merges derived from the SentencePiece scores (below);
decoder Sequence[Replace("▁" -> " "), ByteFallback, Fuse]; post-processor TemplateProcessing
"<bos> $A" (so `add_special_tokens=True` prepends BOS, as GGUF's add_bos_token=true asks).

Merges from SentencePiece scores (as transformers' `build_tokenizer_from_spm_proto`): for every
NORMAL piece (type 1) and every split point, if both halves are NORMAL pieces the pair (left,
right) is a merge; merges are ranked by the merged piece's score, highest first (ties by id, then
left string). Applying the best-ranked merge first is SentencePiece BPE's "merge the adjacent pair
whose result has the highest score" rule.

Added tokens (all layouts): CONTROL (type 3) tokens become special added tokens, USER_DEFINED
(type 4) tokens non-special added tokens; both `normalized: false`, so they are matched in the raw
text before normalization (Gemma's "\n", "  ", "<b>" ... and Qwen's "<tool_call>" are type 4).

Usage as a script:  tokenizer_json.py MODEL.gguf OUT/tokenizer.json
"""
from __future__ import annotations

import json
import sys

import gguf

TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4

TOKEN_TYPE_NORMAL = 1

# Qwen2's pre-tokenizer regex (transformers models/qwen2/tokenization_qwen2.py PRETOKENIZE_REGEX;
# llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2 uses the same expression).
QWEN2_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                 r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")


def _smollm_layout() -> dict:
    return {
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            ],
        },
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    }


def _qwen2_layout() -> dict:
    return {
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
    }


# GGUF `tokenizer.ggml.pre` values of byte-level BPE and their HF layouts.
SUPPORTED_PRE = {"smollm": _smollm_layout, "qwen2": _qwen2_layout}


def _field(reader: gguf.GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def tokenizer_dict_from_reader(reader: gguf.GGUFReader) -> dict:
    model = _field(reader, "tokenizer.ggml.model")
    if model == "llama":
        return spm_tokenizer_dict_from_reader(reader)
    if model != "gpt2":
        raise ValueError(f"unsupported tokenizer.ggml.model {model!r} (gpt2 byte-level BPE or llama SentencePiece)")
    pre = _field(reader, "tokenizer.ggml.pre", "default")
    if pre not in SUPPORTED_PRE:
        raise ValueError(f"unsupported tokenizer.ggml.pre {pre!r}; supported: {sorted(SUPPORTED_PRE)}")

    tokens: list[str] = _field(reader, "tokenizer.ggml.tokens")
    types: list[int] = _field(reader, "tokenizer.ggml.token_type")
    merges: list[str] = _field(reader, "tokenizer.ggml.merges")
    assert len(tokens) == len(types)

    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("duplicate token strings in tokenizer.ggml.tokens")

    pairs = []
    for m in merges:
        a, b = m.split(" ")  # byte-level symbols never contain a raw space (it is 'Ġ')
        pairs.append([a, b])

    layout = SUPPORTED_PRE[pre]()
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": _added_tokens(tokens, types),
        "normalizer": layout["normalizer"],
        "pre_tokenizer": layout["pre_tokenizer"],
        "post_processor": layout["post_processor"],
        "decoder": layout["decoder"],
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": pairs,
        },
    }


def _added_tokens(tokens: list, types: list) -> list:
    added = []
    for i, (tok, ty) in enumerate(zip(tokens, types)):
        if ty in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED):
            added.append({
                "id": i,
                "content": tok,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": ty == TOKEN_TYPE_CONTROL,
            })
    return added


def spm_merges(tokens: list, scores: list, types: list) -> list:
    """BPE merges equivalent to SentencePiece BPE over NORMAL pieces (see the module comment)."""
    normal = {t: (s, i) for i, (t, s, ty) in enumerate(zip(tokens, scores, types)) if ty == TOKEN_TYPE_NORMAL}
    ranked = []
    for tok, (score, i) in normal.items():
        for k in range(1, len(tok)):
            left, right = tok[:k], tok[k:]
            if left in normal and right in normal:
                ranked.append((-score, i, left, right))
    ranked.sort()
    return [[left, right] for _, _, left, right in ranked]


def spm_tokenizer_dict_from_reader(reader: gguf.GGUFReader) -> dict:
    """Gemma-style SentencePiece vocabulary (no dummy prefix) as an HF BPE tokenizer.json."""
    if _field(reader, "tokenizer.ggml.add_space_prefix", True):
        raise ValueError("SentencePiece vocabularies with add_space_prefix=true are not supported")
    tokens: list[str] = _field(reader, "tokenizer.ggml.tokens")
    scores: list[float] = _field(reader, "tokenizer.ggml.scores")
    types: list[int] = _field(reader, "tokenizer.ggml.token_type")
    assert len(tokens) == len(scores) == len(types)
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("duplicate token strings in tokenizer.ggml.tokens")
    bos_id = _field(reader, "tokenizer.ggml.bos_token_id")
    unk_id = _field(reader, "tokenizer.ggml.unknown_token_id")
    bos = tokens[int(bos_id)]
    post = None
    if _field(reader, "tokenizer.ggml.add_bos_token", False):
        post = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [int(bos_id)], "tokens": [bos]}},
        }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": _added_tokens(tokens, types),
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                          "invert": False},
        "post_processor": post,
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
            ],
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": tokens[int(unk_id)] if unk_id is not None else None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": spm_merges(tokens, scores, types),
        },
    }


def tokenizer_dict(gguf_path: str) -> dict:
    return tokenizer_dict_from_reader(gguf.GGUFReader(gguf_path))


def load_tokenizer(gguf_path: str):
    """A `tokenizers.Tokenizer` built from the GGUF metadata."""
    from tokenizers import Tokenizer
    return Tokenizer.from_str(json.dumps(tokenizer_dict(gguf_path), ensure_ascii=False))


def write_tokenizer_json(gguf_path: str, out_path: str) -> None:
    d = tokenizer_dict(gguf_path)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_tokenizer_json(sys.argv[1], sys.argv[2])
    print(f"wrote {sys.argv[2]}")
