#!/usr/bin/env python3
"""Oracle fixtures for Tram's structured outputs (constrained decoding).

For every case (EBNF grammar, regex, choice, JSON schema, JSON object) this compiles the grammar
with xgrammar (the oracle vLLM and SGLang use), walks 3 seeded random token sequences through a
`GrammarMatcher`, and records the allowed-token mask before every token (and after the last one).

Usage:  python3 scripts/grammar-oracle/make_fixtures.py [smollm2] [qwen2.5]
Writes: Tests/Fixtures/grammar_oracle_<tokenizer>.json
See NOTES.md beside this file for how xgrammar is installed without torch and what it accepts.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import random
import re
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "reference"))

import torch_stub  # noqa: E402

torch_stub.install()
import xgrammar as xgr  # noqa: E402
from transformers import PreTrainedTokenizerFast  # noqa: E402

MODELS = os.path.expanduser("~/.cache/tram/models")
MAX_STEPS = 40
MIN_STEPS_BEFORE_STOP = 12
WALKS = 3
LIST_LIMIT = 3000  # ids per step: `allowed` or `disallowed`, whichever is short enough

# ---------------------------------------------------------------------------------------------
# Cases

EBNF_CASES = [
    ("ebnf_yes_no", 'root ::= "yes" | "no"'),
    ("ebnf_words", 'root ::= [a-z]+ ("," [a-z]+)*'),
    ("ebnf_list", 'root ::= "[" item ("," item)* "]"\nitem ::= "\\"" [^"\\\\]* "\\"" | [0-9]+'),
]

REGEX_CASES = [
    ("regex_phone", r"\d{3}-\d{4}"),
    ("regex_pets", r"(cat|dog)s?"),
    ("regex_names", r"[A-Z][a-z]{2,5}( [A-Z][a-z]+)*"),
    ("regex_email", r"\w+@\w+\.com"),
]

CHOICE_CASES = [
    ("choice_sentiment", ["Positive", "Negative", "Neutral"]),
]

SCHEMAS = [
    ("person", {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"]}),
    ("person_no_additional", {"type": "object",
                              "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                              "required": ["name", "age"], "additionalProperties": False}),
    ("optional_property", {"type": "object",
                           "properties": {"name": {"type": "string"}, "nickname": {"type": "string"}},
                           "required": ["name"]}),
    ("all_optional", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}),
    ("nested_object", {"type": "object", "properties": {
        "user": {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
                 "required": ["id", "email"]}}, "required": ["user"]}),
    ("array_min_max", {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}),
    ("enum_strings", {"type": "object", "properties": {"color": {"enum": ["red", "green", "blue"]}},
                      "required": ["color"]}),
    ("const", {"type": "object", "properties": {"version": {"const": "1.0"}, "kind": {"const": 3}},
               "required": ["version", "kind"]}),
    ("any_of", {"type": "object",
                "properties": {"id": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}, "required": ["id"]}),
    ("ref_defs", {"$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"},
                                                                       "y": {"type": "number"}},
                                      "required": ["x", "y"]}},
                  "type": "object", "properties": {"start": {"$ref": "#/$defs/point"},
                                                   "end": {"$ref": "#/$defs/point"}},
                  "required": ["start", "end"]}),
    ("string_pattern", {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[a-z]+$"}},
                        "required": ["code"]}),
    ("string_length", {"type": "object",
                       "properties": {"tag": {"type": "string", "minLength": 2, "maxLength": 5}},
                       "required": ["tag"]}),
    ("number", {"type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}),
    ("boolean_null", {"type": "object", "properties": {"ok": {"type": "boolean"}, "nothing": {"type": "null"}},
                      "required": ["ok", "nothing"]}),
    ("array_of_objects", {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "integer"}, "done": {"type": "boolean"}},
        "required": ["id", "done"]}, "maxItems": 3}),
    ("integer_range", {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 100}},
                       "required": ["n"]}),
    ("string_date", {"type": "string", "format": "date"}),
]


def choice_as_grammar(choice: list[str]) -> str:
    """vLLM's v1/structured_output/utils.py choice_as_grammar (escape \\ and \" , join with |)."""
    escaped = (re.sub(r'(["\\])', r"\\\1", c) for c in choice)
    return "root ::= " + " | ".join(f'"{c}"' for c in escaped)


def build_cases() -> list[dict]:
    cases = []
    for name, src in EBNF_CASES:
        cases.append({"name": name, "kind": "ebnf", "source": src, "options": {}})
    for name, src in REGEX_CASES:
        cases.append({"name": name, "kind": "regex", "source": src, "options": {}})
    for name, choices in CHOICE_CASES:
        cases.append({"name": name, "kind": "choice", "source": json.dumps(choices), "options": {},
                      "oracle_source": choice_as_grammar(choices)})
    for aw in (True, False):
        suffix = "" if aw else "_compact"
        cases.append({"name": "json_object" + suffix, "kind": "json_object", "source": "",
                      "options": {"any_whitespace": aw, "strict_mode": True},
                      "oracle_source": '{"type": "object"}'})
    for aw in (True, False):
        suffix = "" if aw else "_compact"
        for name, schema in SCHEMAS:
            cases.append({"name": "json_" + name + suffix, "kind": "json_schema", "source": json.dumps(schema),
                          "options": {"any_whitespace": aw, "strict_mode": True}})
    return cases


def oracle_grammar(case: dict) -> xgr.Grammar:
    kind, src, opts = case["kind"], case["source"], case["options"]
    if kind == "ebnf":
        return xgr.Grammar.from_ebnf(src)
    if kind == "regex":
        return xgr.Grammar.from_regex(src)
    if kind == "choice":
        return xgr.Grammar.from_ebnf(case["oracle_source"])
    if kind == "json_object":
        return xgr.Grammar.from_json_schema(case["oracle_source"], any_whitespace=opts["any_whitespace"],
                                            strict_mode=opts["strict_mode"])
    if kind == "json_schema":
        return xgr.Grammar.from_json_schema(src, any_whitespace=opts["any_whitespace"],
                                            strict_mode=opts["strict_mode"])
    raise ValueError(kind)


def compile_case(compiler: xgr.GrammarCompiler, case: dict) -> xgr.CompiledGrammar:
    """The same calls vLLM's XgrammarBackend.compile_grammar makes."""
    kind, src, opts = case["kind"], case["source"], case["options"]
    if kind == "ebnf":
        return compiler.compile_grammar(src)
    if kind == "regex":
        return compiler.compile_regex(src)
    if kind == "choice":
        return compiler.compile_grammar(case["oracle_source"])
    if kind == "json_object":
        return compiler.compile_json_schema(case["oracle_source"], any_whitespace=opts["any_whitespace"],
                                            strict_mode=opts["strict_mode"])
    if kind == "json_schema":
        return compiler.compile_json_schema(src, any_whitespace=opts["any_whitespace"],
                                            strict_mode=opts["strict_mode"])
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# Tokenizers

def load_smollm2():
    d = os.path.join(MODELS, "smollm2-135m-instruct-hf")
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(d, "tokenizer.json"))
    data = json.load(open(os.path.join(d, "tokenizer.json")))
    return tok, data, 49152, 2


def load_qwen25():
    import glob

    import gguf
    from tokenizer_json import TOKEN_TYPE_CONTROL, tokenizer_dict_from_reader

    paths = sorted(glob.glob(os.path.join(MODELS, "qwen2.5-coder-0.5b-instruct", "*.gguf")))
    if not paths:
        return None
    reader = gguf.GGUFReader(paths[0])
    data = tokenizer_dict_from_reader(reader)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    vocab_size = len(tokens)  # 151936: the model's logits width
    # UNUSED (type 5) entries "[PAD151665]".. are padding rows, not text: Hugging Face's Qwen2.5
    # tokenizer has no such tokens (len 151665), so drop them from the vocab the oracle sees.
    vocab = data["model"]["vocab"]
    for i, (t, ty) in enumerate(zip(tokens, types)):
        if ty == 5:
            del vocab[t]
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "tokenizer.json")
        json.dump(data, open(p, "w"))
        tok = PreTrainedTokenizerFast(tokenizer_file=p)
    stop = tokens.index("<|im_end|>")
    assert types[stop] == TOKEN_TYPE_CONTROL
    return tok, data, vocab_size, stop


TOKENIZERS = {"smollm2": load_smollm2, "qwen2.5": load_qwen25}


# ---------------------------------------------------------------------------------------------
# Masks

def fnv1a64_ids(ids: np.ndarray) -> str:
    h = 0xCBF29CE484222325
    for b in np.asarray(ids, dtype="<u4").tobytes():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


class MaskReader:
    def __init__(self, vocab_size: int, excluded: np.ndarray):
        self.vocab_size = vocab_size
        self.bitmask = np.full((1, (vocab_size + 31) // 32), -1, dtype=np.int32)
        self.keep = np.ones(vocab_size, dtype=bool)
        self.keep[excluded] = False
        self.cache: dict[bytes, dict] = {}
        self.oracle_allowed_excluded = 0  # steps where xgrammar itself allowed an excluded token

    def read(self, matcher: xgr.GrammarMatcher) -> tuple[np.ndarray, dict]:
        self.bitmask[:] = -1
        matcher.fill_next_token_bitmask(self.bitmask)
        bits = np.unpackbits(self.bitmask.view(np.uint8), bitorder="little")[: self.vocab_size].astype(bool)
        if (bits & ~self.keep).any():
            self.oracle_allowed_excluded += 1
        bits &= self.keep
        key = np.packbits(bits).tobytes()
        allowed = np.nonzero(bits)[0]
        if key not in self.cache:
            rec = {"allowed_count": int(len(allowed)), "allowed_hash": fnv1a64_ids(allowed)}
            if len(allowed) <= LIST_LIMIT:
                rec["allowed"] = [int(i) for i in allowed]
            elif self.vocab_size - len(allowed) <= LIST_LIMIT:
                rec["disallowed"] = [int(i) for i in np.nonzero(~bits)[0]]
            else:
                rec["allowed"] = None
            self.cache[key] = rec
        return allowed, dict(self.cache[key])


STRUCTURAL = frozenset(b'"}]')


def pick(text_tokens: list[int], token_bytes: list[bytes], used: list[int], rng: random.Random) -> int:
    """Next token of a walk (see NOTES.md): progress / uniform / structural."""
    r = rng.random()
    if r < 0.4:
        # progress: the longest allowed token, not counting whitespace-only tokens or tokens this
        # walk already took (they would fill the walk with "    " or "####" runs); lowest id on ties
        seen = set(used)

        def score(t):
            b = token_bytes[t]
            return (0 if (t in seen or not b.strip()) else len(b), -t)
        return max(text_tokens, key=score)
    if r < 0.75:
        return rng.choice(text_tokens)
    # structural: a random allowed token holding one of " } ]  (closes strings and containers)
    structural = [t for t in text_tokens if STRUCTURAL.intersection(token_bytes[t])]
    return rng.choice(structural or text_tokens)


def walk(compiled, reader: MaskReader, token_bytes: list[bytes], stop: int, rng: random.Random) -> dict:
    matcher = xgr.GrammarMatcher(compiled)
    tokens: list[int] = []
    steps: list[dict] = []
    while True:
        allowed, rec = reader.read(matcher)
        can_stop = bool(stop in allowed)
        rec["can_stop"] = can_stop
        steps.append(rec)
        if matcher.is_terminated() or len(tokens) >= MAX_STEPS or len(allowed) == 0:
            break
        text_tokens = [int(t) for t in allowed if t != stop]
        if can_stop and (len(tokens) >= MIN_STEPS_BEFORE_STOP or not text_tokens):
            choice = stop
        else:
            choice = pick(text_tokens, token_bytes, tokens, rng)
        ok = matcher.accept_token(choice)
        assert ok, f"oracle rejected token {choice} it allowed"
        tokens.append(choice)
        if choice == stop:
            break
    # steps: one per token (mask before it), plus the mask after the last token unless it was stop.
    assert len(steps) == len(tokens) + (0 if tokens and tokens[-1] == stop else 1)
    out = {"tokens": tokens, "text": b"".join(token_bytes[t] for t in tokens if t != stop).decode("utf-8", "replace"),
           "ends_with_stop": bool(tokens and tokens[-1] == stop), "steps": steps}
    return out


# ---------------------------------------------------------------------------------------------

def _members(obj, skip, indent):
    """One line per member of `obj` except `skip`, each ending in a comma (`skip` follows)."""
    return [f"{indent}{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}," for k, v in obj.items() if k != skip]


def dump(obj, path):
    """JSON with one step per line (readable diffs, compact enough)."""
    lines = ["{", *_members(obj, "cases", " "), ' "cases": [']
    for ci, case in enumerate(obj["cases"]):
        lines += ["  {", *_members(case, "walks", "   "), '   "walks": [']
        for wi, w in enumerate(case["walks"]):
            lines += ["    {", *_members(w, "steps", "     "), '     "steps": [']
            for si, s in enumerate(w["steps"]):
                comma = "," if si + 1 < len(w["steps"]) else ""
                lines.append("      " + json.dumps(s, separators=(",", ":")) + comma)
            lines.append("     ]")
            lines.append("    }" + ("," if wi + 1 < len(case["walks"]) else ""))
        lines.append("   ]")
        lines.append("  }" + ("," if ci + 1 < len(obj["cases"]) else ""))
    lines.append(" ]")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def make(name: str) -> None:
    loaded = TOKENIZERS[name]()
    if loaded is None:
        print(f"{name}: tokenizer source not found, skipped")
        return
    tok, data, vocab_size, stop = loaded
    info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=vocab_size, stop_token_ids=[stop])
    token_bytes = list(info.decoded_vocab)
    token_bytes += [b""] * (vocab_size - len(token_bytes))
    # Special (control) tokens other than the stop token are never grammar text. xgrammar decodes
    # them as their literal text ("<|im_start|>"), so it would allow them inside JSON strings; we
    # remove them from every mask. Ids past the tokenizer's vocabulary (Qwen's padding rows) too.
    special = sorted(int(t["id"]) for t in data["added_tokens"] if t.get("special") and int(t["id"]) != stop)
    vocab_ids = set(int(i) for i in data["model"]["vocab"].values()) | {int(t["id"]) for t in data["added_tokens"]}
    padding = [i for i in range(vocab_size) if i not in vocab_ids]
    excluded = np.array(sorted(set(special) | set(padding)), dtype=np.int64)
    reader = MaskReader(vocab_size, excluded)
    compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)

    cases = build_cases()
    out_cases = []
    for ci, case in enumerate(cases):
        compiled = compile_case(compiler, case)
        rec = dict(case)
        rec["oracle_ebnf"] = str(oracle_grammar(case))
        rec["walks"] = [walk(compiled, reader, token_bytes, stop, random.Random(ci * 1000 + w))
                        for w in range(WALKS)]
        out_cases.append(rec)
        print(f"{name}: {case['name']}: " + " | ".join(repr(w["text"][:60]) for w in rec["walks"]), flush=True)

    version = importlib.metadata.version("xgrammar")
    obj = {
        "oracle": f"xgrammar {version}",
        "tokenizer": name,
        "vocab_size": vocab_size,
        "stop_token": stop,
        "excluded_tokens": {"special": special, "padding_range": [padding[0], padding[-1] + 1] if padding else None,
                            "note": "never allowed in any mask below (removed from xgrammar's mask); "
                                    f"xgrammar itself allowed some of them at {reader.oracle_allowed_excluded} "
                                    "of its mask reads"},
        "walk_rules": {"walks_per_case": WALKS, "seed": "random.Random(case_index*1000+walk)",
                       "pick": "stop once allowed and >= min_steps_before_stop tokens (or nothing else); else "
                               "r=rng.random(): r<0.4 longest allowed non-whitespace token not yet used in the "
                               "walk (lowest id on ties); r<0.75 rng.choice(allowed minus stop); else "
                               "rng.choice(allowed tokens containing one of \" } ]) or of all",
                       "max_steps": MAX_STEPS, "min_steps_before_stop": MIN_STEPS_BEFORE_STOP,
                       "list_limit": LIST_LIMIT},
        "cases": out_cases,
    }
    path = os.path.join(ROOT, "Tests", "Fixtures", f"grammar_oracle_{name}.json")
    dump(obj, path)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")


def main(argv):
    names = argv[1:] or list(TOKENIZERS)
    for n in names:
        make(n)


if __name__ == "__main__":
    main(sys.argv)
