#!/usr/bin/env python3
"""Replay the fixture walks through llguidance (a second, independent engine) and compare masks.

Only the kinds whose language both engines define the same way are compared: ebnf (via
llguidance's gbnf_to_lark), regex and choice. JSON cases differ by design (llguidance's default
JSON separators and whitespace are not xgrammar's), so they are skipped.
Usage: python3 scripts/grammar-oracle/crosscheck_llguidance.py [smollm2] [qwen2.5]
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402  (installs the torch stub, loads tokenizers)
import llguidance  # noqa: E402
import llguidance.hf  # noqa: E402
import llguidance.numpy  # noqa: E402
from llguidance.gbnf_to_lark import gbnf_to_lark  # noqa: E402


def main(argv):
    for name in argv[1:] or ["smollm2", "qwen2.5"]:
        path = os.path.join(mf.ROOT, "Tests", "Fixtures", f"grammar_oracle_{name}.json")
        if not os.path.exists(path):
            continue
        fx = json.load(open(path))
        tok, data, vocab_size, stop = mf.TOKENIZERS[name]()
        lltok = llguidance.hf.from_tokenizer(tok, n_vocab=vocab_size, eos_token=stop)
        keep = np.ones(vocab_size, dtype=bool)
        keep[fx["excluded_tokens"]["special"]] = False
        pr = fx["excluded_tokens"]["padding_range"]
        if pr:
            keep[pr[0]:pr[1]] = False
        bm = llguidance.numpy.allocate_token_bitmask(1, vocab_size)
        for case in fx["cases"]:
            if case["kind"] == "regex":
                g = llguidance.LLMatcher.grammar_from_regex(case["source"])
            elif case["kind"] in ("ebnf", "choice"):
                src = case["source"] if case["kind"] == "ebnf" else case["oracle_source"]
                g = llguidance.LLMatcher.grammar_from_lark(gbnf_to_lark(src))
            else:
                continue
            same = diff = 0
            first = None
            for wi, w in enumerate(case["walks"]):
                m = llguidance.LLMatcher(lltok, g, log_level=1)
                assert not m.is_error(), m.get_error()
                for si, s in enumerate(w["steps"]):
                    llguidance.numpy.fill_next_token_bitmask(m, bm, 0)
                    bits = np.unpackbits(bm.view(np.uint8), bitorder="little")[:vocab_size].astype(bool) & keep
                    ids = np.nonzero(bits)[0]
                    if mf.fnv1a64_ids(ids) == s["allowed_hash"]:
                        same += 1
                    else:
                        diff += 1
                        if first is None:
                            ref = s.get("allowed")
                            extra = missing = "?"
                            if ref is not None:
                                extra = sorted(set(ids.tolist()) - set(ref))[:8]
                                missing = sorted(set(ref) - set(ids.tolist()))[:8]
                            first = (f"walk {wi} step {si}: llguidance {len(ids)} vs xgrammar {s['allowed_count']}; "
                                     f"llg-only {[(t, token_text(tok, t)) for t in extra] if extra != '?' else '?'} "
                                     f"xgr-only {[(t, token_text(tok, t)) for t in missing] if missing != '?' else '?'}")
                    if si < len(w["tokens"]):
                        if not m.consume_token(w["tokens"][si]):
                            diff += 1
                            first = first or f"walk {wi} step {si}: llguidance rejected token {w['tokens'][si]}"
                            break
            print(f"{name} {case['name']}: {same} steps equal, {diff} differ" + (f"; first: {first}" if first else ""))


def token_text(tok, t):
    return tok.convert_ids_to_tokens(int(t))


if __name__ == "__main__":
    main(sys.argv)
