#!/usr/bin/env python3
"""The peers' side of `tram bench structured`: xgrammar 0.2.9 (vLLM's default structured-output
backend) and llguidance 1.9.1, on the schema sample, the Qwen2.5 tokenizer, one thread.

For every schema and each of its valid instances: the instance as JSON text (`json.dumps`,
Python's default `", "` / `": "` separators, keys in the instance's order) tokenized with
Qwen2.5's tokenizer, then the stop token; each engine compiles the schema (timed, fresh cache),
then for every token computes the next-token mask (timed) and consumes the token. An engine that
cannot compile the schema or refuses a token is recorded as such for that instance (its mask
times up to there still count). Output, one JSON line per instance, read by
`tram bench structured --peers`:
  {"source", "schema", "text", "tokens", "xgrammar": {"compile_ms", "mask_us": [...], "status"},
   "llguidance": {...}}

Usage: python3 scripts/bench/structured/peers.py [--limit N] SAMPLE.jsonl > peers.jsonl
(install: see scripts/grammar-oracle/README.md; run with nothing else on the cores).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "grammar-oracle"))
import make_fixtures as mf  # noqa: E402  (installs the torch stub, loads tokenizers)
import xgrammar as xgr  # noqa: E402
import llguidance  # noqa: E402
import llguidance.hf  # noqa: E402
import llguidance.numpy  # noqa: E402


def run_xgrammar(info, schema_text, tokens):
    compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
    out = {"compile_ms": None, "mask_us": [], "status": "ok"}
    try:
        t0 = time.perf_counter()
        compiled = compiler.compile_json_schema(schema_text, any_whitespace=True)
        out["compile_ms"] = (time.perf_counter() - t0) * 1e3
    except Exception as e:  # noqa: BLE001
        out["status"] = f"compile error: {str(e)[:200]}"
        return out
    matcher = xgr.GrammarMatcher(compiled)
    bitmask = np.zeros((1, (info.vocab_size + 31) // 32), dtype=np.int32)
    for t in tokens:
        t0 = time.perf_counter()
        matcher.fill_next_token_bitmask(bitmask)
        out["mask_us"].append((time.perf_counter() - t0) * 1e6)
        if not matcher.accept_token(t):
            out["status"] = "token refused"
            break
    return out


def run_llguidance(lltok, schema_text, tokens):
    out = {"compile_ms": None, "mask_us": [], "status": "ok"}
    t0 = time.perf_counter()
    grammar = llguidance.LLMatcher.grammar_from_json_schema(schema_text, defaults={"whitespace_flexible": True, "coerce_one_of": True})
    matcher = llguidance.LLMatcher(lltok, grammar, log_level=1)
    out["compile_ms"] = (time.perf_counter() - t0) * 1e3
    if matcher.is_error():
        out["status"] = f"compile error: {matcher.get_error()[:200]}"
        return out
    bitmask = llguidance.numpy.allocate_token_bitmask(1, lltok.vocab_size)
    for t in tokens:
        t0 = time.perf_counter()
        llguidance.numpy.fill_next_token_bitmask(matcher, bitmask, 0)
        out["mask_us"].append((time.perf_counter() - t0) * 1e6)
        if not matcher.consume_token(t):
            out["status"] = "token refused"
            break
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sample")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    tok, _, vocab_size, stop = mf.TOKENIZERS["qwen2.5"]()
    info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=vocab_size, stop_token_ids=[stop])
    lltok = llguidance.hf.from_tokenizer(tok, n_vocab=vocab_size, eos_token=stop)
    lines = open(args.sample).read().splitlines()[: args.limit]
    for n, line in enumerate(lines):
        entry = json.loads(line)
        schema_text = json.dumps(entry["schema"])
        for instance in entry["instances"]:
            text = json.dumps(instance, ensure_ascii=False)
            tokens = tok.encode(text, add_special_tokens=False) + [stop]
            record = {"source": entry["source"], "schema": schema_text, "text": text, "tokens": tokens,
                      "xgrammar": run_xgrammar(info, schema_text, tokens),
                      "llguidance": run_llguidance(lltok, schema_text, tokens)}
            print(json.dumps(record, ensure_ascii=False), flush=True)
        print(f"{n + 1}/{len(lines)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
