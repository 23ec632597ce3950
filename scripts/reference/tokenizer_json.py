#!/usr/bin/env python3
"""Build a Hugging Face `tokenizer.json` from a GGUF's `tokenizer.ggml.*` metadata.

Only the byte-level BPE flavour (`tokenizer.ggml.model == "gpt2"`) is supported, laid out the
way Hugging Face ships SmolLM2:

* model: BPE (vocab + merges, no unk token, no byte fallback)
* normalizer: none
* pre_tokenizer: Sequence[Digits(individual_digits=true),
                          ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)]
* post_processor: ByteLevel (adds nothing: no BOS for SmolLM2)
* decoder: ByteLevel
* added tokens: every token whose token_type is CONTROL (3), registered as special.

Usage as a script:  tokenizer_json.py MODEL.gguf OUT/tokenizer.json
"""
from __future__ import annotations

import json
import sys

import gguf

TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4

# GGUF `tokenizer.ggml.pre` values whose HF pre-tokenizer is the one above.
SUPPORTED_PRE = {"smollm"}


def _field(reader: gguf.GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def tokenizer_dict_from_reader(reader: gguf.GGUFReader) -> dict:
    model = _field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise ValueError(f"unsupported tokenizer.ggml.model {model!r} (only gpt2 byte-level BPE)")
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

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
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
