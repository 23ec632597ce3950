#!/usr/bin/env python3
"""Cross-check the committed fixtures (and so the numpy references) against llama.cpp's llama-server.

    python3 scripts/reference/crosscheck_llama_cpp.py --server PATH/llama-server [--model qwen2.5,gemma3]
                                                      [--port 8091] [--json OUT.json]

For each model it starts `llama-server -m GGUF --port PORT -t 1 -c 2048` (one thread, so it does not
starve a shared machine), waits for /health, then:

* tokenizer: every case of tokenizer_<tok>.json is sent to POST /tokenize
  {"content": text, "add_special": false, "parse_special": true}; ids are compared with the fixture's
  (HF `tokenizers`) and every disagreement is printed with both tokenizations.
* generation: a few prompts of logits_<model>.json go to POST /completion as token ids
  {"prompt": prompt_ids, "n_predict": 16, "temperature": 0, "cache_prompt": false, "n_probs": 5};
  reported: how many leading continuation tokens agree with the fixture's greedy continuation, and the
  first generated token's log-probability from llama.cpp (completion_probabilities[0], the log of its
  softmax over the full vocabulary; not post-sampling) next to the reference's log-softmax of the
  same token at the same position.

The server is stopped (by its pid) when a model is done.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_fixtures as mf  # noqa: E402
import make_model_fixtures as mmf  # noqa: E402

GEN_PROMPTS = {
    "qwen2.5": ["capital_france", "python_code", "chat_fact", "long_summary"],
    "gemma3": ["capital_france", "python_code", "chat_fact", "long_summary"],
}


def post(port: int, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def wait_ready(port: int, proc, timeout: float = 300.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"llama-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(1)
    raise SystemExit("llama-server did not become ready")


def check_tokenizer(spec, port: int, tok) -> dict:
    with open(os.path.join(mf.FIXTURES, spec.tok_fixture), encoding="utf-8") as f:
        fx = json.load(f)
    disagreements = []
    for c in fx["cases"]:
        got = post(port, "/tokenize", {"content": c["text"], "add_special": False, "parse_special": True})["tokens"]
        if got != c["ids"]:
            disagreements.append({"text": c["text"], "hf": c["ids"], "llama_cpp": got,
                                  "hf_tokens": [tok.id_to_token(i) for i in c["ids"]],
                                  "llama_cpp_tokens": [tok.id_to_token(i) for i in got]})
    n = len(fx["cases"])
    print(f"  tokenizer: {n - len(disagreements)}/{n} cases agree")
    for d in disagreements:
        print(f"    DISAGREE {d['text']!r}\n      hf       {d['hf_tokens']}\n      llama.cpp {d['llama_cpp_tokens']}")
    return {"cases": n, "agree": n - len(disagreements), "disagreements": disagreements}


def check_generation(spec, port: int, ref, model) -> list[dict]:
    import numpy as np
    with open(os.path.join(mf.FIXTURES, spec.logits_fixture), encoding="utf-8") as f:
        fx = json.load(f)
    prompts = {p["name"]: p for p in fx["prompts"]}
    out = []
    for name in GEN_PROMPTS[spec.key]:
        p = prompts[name]
        res = post(port, "/completion", {"prompt": p["prompt_ids"], "n_predict": mmf.N_CONTINUATION,
                                          "temperature": 0, "cache_prompt": False, "n_probs": 5,
                                          "return_tokens": True})
        got = res.get("tokens") or [t["id"] for t in res["completion_probabilities"]]
        want = p["continuation_ids"]
        lead = 0
        while lead < min(len(got), len(want)) and got[lead] == want[lead]:
            lead += 1
        first = res["completion_probabilities"][0]
        hidden = ref.forward(model, p["prompt_ids"], hidden_only=True)
        lp = mf.log_softmax(ref.project(model, hidden[-1:]).astype(np.float64))[0]
        entry = {"prompt": name, "prompt_tokens": len(p["prompt_ids"]), "leading_agree": lead,
                 "n": len(want), "first_token": want[0], "llama_cpp_first_token": first["id"],
                 "llama_cpp_logprob": round(first["logprob"], 5), "reference_logprob": round(float(lp[want[0]]), 5),
                 "llama_cpp_top5": [[t["id"], round(t["logprob"], 4)] for t in first["top_logprobs"]],
                 "reference_top5": [[int(i), round(float(lp[i]), 4)] for i in np.argsort(-lp)[:5]]}
        if lead < len(want):
            entry["margin_at_divergence"] = p["steps"][lead]["margin"]
        msg = ""
        if spec.key == "gemma3" and len(p["prompt_ids"]) > model.cfg.sliding_window:
            # the wrong, all-global forward: how far llama.cpp is from it, next to how far from the reference
            h = ref.forward(model, p["prompt_ids"], hidden_only=True, window=False)
            nw = mf.log_softmax(ref.project(model, h[-1:]).astype(np.float64))[0]
            entry["reference_no_window_logprob"] = round(float(nw[want[0]]), 5)
            entry["reference_no_window_top5"] = [[int(i), round(float(nw[i]), 4)] for i in np.argsort(-nw)[:5]]
            msg = f" (no-window reference {entry['reference_no_window_logprob']:.5f})"
        div = f", margin at the first disagreement {entry['margin_at_divergence']}" if lead < len(want) else ""
        print(f"  {name} ({len(p['prompt_ids'])} tokens): {lead}/{len(want)} leading tokens agree{div}; first token "
              f"{want[0]} logprob llama.cpp {entry['llama_cpp_logprob']:.5f} vs reference "
              f"{entry['reference_logprob']:.5f}{msg}")
        out.append(entry)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="path to llama-server")
    ap.add_argument("--model", default=",".join(mmf.SPECS))
    ap.add_argument("--port", type=int, default=8091)
    ap.add_argument("--only", default="tokenizer,generation")
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()
    from tokenizer_json import load_tokenizer
    only = set(a.only.split(","))
    results = {}
    for key in a.model.split(","):
        spec = mmf.SPECS[key]
        path = mmf.model_path(spec, None)
        print(f"{key}: {path}")
        log = open(f"/tmp/llama-server-{key}.log", "w")
        proc = subprocess.Popen([a.server, "-m", path, "--port", str(a.port), "-t", "1", "-c", "2048"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(a.port, proc)
            r = {}
            if "tokenizer" in only:
                r["tokenizer"] = check_tokenizer(spec, a.port, load_tokenizer(path))
            if "generation" in only:
                ref = mmf.ref_module(spec)
                r["generation"] = check_generation(spec, a.port, ref, ref.load_gguf(path))
            results[key] = r
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
