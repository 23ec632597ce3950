#!/usr/bin/env python3
"""Speculative decoding, measured: one client, greedy, code-editing prompts, Tram and llama-server
alternating in one run on one machine; writes the "Speculative decoding" section of BENCHMARKS.md.

    scripts/bench/speculative.py --llama-server /path/to/llama-server [--runs 2]

Every figure comes from `tram bench serve --dataset-name custom` on
scripts/bench/datasets/code-edit.jsonl (a 35–42 line file and an instruction such as "rename this
function everywhere and output the whole file"), streamed over the chat API, temperature 0,
EOS respected (the answer ends where the model ends it), one request at a time. Decode speed is
Σ (output tokens − 1) ÷ Σ (latency − TTFT): the time to first token (prefill) left out.

Configurations (each a server started fresh per run; runs alternate between servers):
  tram               no speculation
  tram-ngram         --speculative-config '{"method": "ngram", "num_speculative_tokens": K, ...}'
  tram-draft         --speculative-config '{"model": DRAFT, "num_speculative_tokens": DRAFT_K}', when --draft is given
  llama-server       no speculation (-t THREADS -np 32 -c 32768, as every peer run)
  llama-ngram        its n-gram speculation (--spec-type ngram-simple)
  llama-draft        the 0.5B as its draft model (--model-draft, --draft-max 4), when --draft is given

Also checks that Tram's greedy outputs are the same text with and without speculation, and
records what verification costs on the machine (`tram bench verify`: k query rows against one).
Acceptance comes from each Tram server's /metrics after its run and from llama-server's log.
Every file (results, logs, metrics, verify.txt, settings.json) stays in --results;
`--results DIR --from-results` rewrites the section from them.
With `--load 32` it adds the 32-client check of adaptivity: random 128-token prompts, 64 output
tokens, Tram with and without the n-gram config (below disable_by_batch_size nothing is proposed).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import Server, cpu_model, kernel_isa, median_and_spread, ROOT  # noqa: E402

DATASET = os.path.join(ROOT, "scripts/bench/datasets/code-edit.jsonl")
CACHE = os.environ.get("TRAM_CACHE", os.path.expanduser("~/.cache/tram"))
TARGET = os.path.join(CACHE, "models/qwen2.5-coder-1.5b-instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
DRAFT = os.path.join(CACHE, "models/qwen2.5-coder-0.5b-instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
BEGIN, END = "<!-- speculative:begin -->", "<!-- speculative:end -->"


def decode_speed(result):
    """Tokens per second after the first token, over all requests of a result file."""
    tokens = sum(n - 1 for n in result["output_lens"] if n > 1)
    seconds = sum(lat - ttft for lat, ttft, n in zip(result["latencies"], result["ttfts"], result["output_lens"]) if n > 1)
    return tokens / seconds


def tram_acceptance(log_path):
    """(accepted, drafted, drafts): from the /metrics page saved beside the log after the run
    (tram:spec_decode_* counters), else summed over the log's periodic 'SpecDecoding: Accepted: a
    tokens, Drafted: d tokens, …, Mean acceptance length: L' lines; None when there are none."""
    metrics = log_path[:-len(".log")] + ".metrics"
    if os.path.exists(metrics):
        values = {}
        with open(metrics, errors="replace") as f:
            for line in f:
                for key in ("num_drafts", "num_draft_tokens", "num_accepted_tokens"):
                    if line.startswith(f"tram:spec_decode_{key}_total"):
                        values[key] = values.get(key, 0) + int(float(line.split()[-1]))
        if values.get("num_draft_tokens"):
            return values["num_accepted_tokens"], values["num_draft_tokens"], values["num_drafts"]
        return None
    accepted = drafted = drafts = 0
    if not os.path.exists(log_path):
        return None
    with open(log_path, errors="replace") as f:
        for line in f:
            if "SpecDecoding: Accepted:" not in line:
                continue
            try:
                a = int(line.split("Accepted: ")[1].split()[0])
                d = int(line.split("Drafted: ")[1].split()[0])
                mean = float(line.split("Mean acceptance length: ")[1].split()[0].rstrip(","))
            except (IndexError, ValueError):
                continue
            accepted, drafted = accepted + a, drafted + d
            drafts += round(a / (mean - 1)) if mean > 1 else 0
    return (accepted, drafted, drafts) if drafted else None


def tram_policy(log_path):
    """The 'verifying r rows costs …' table tram serve logs at start-up."""
    if not os.path.exists(log_path):
        return None
    with open(log_path, errors="replace") as f:
        for line in f:
            if "speculative decoding: verifying" in line:
                return line.split("speculative decoding: ", 1)[1].strip()
    return None


def llama_acceptance(log_path):
    """(accepted, drafted) summed over llama-server's per-request 'draft acceptance = r (a accepted / g
    generated)' lines; None when it logs none."""
    accepted = drafted = 0
    with open(log_path, errors="replace") as f:
        for line in f:
            if "draft acceptance =" in line and "accepted /" in line:
                try:
                    inside = line.split("(", 1)[1]
                    accepted += int(inside.split("accepted")[0])
                    drafted += int(inside.split("/")[1].split("generated")[0])
                except (IndexError, ValueError):
                    pass
    return (accepted, drafted, 0) if drafted else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-server", required=True)
    parser.add_argument("--tram", default=os.path.join(ROOT, ".build/release/tram"))
    parser.add_argument("--model", default=TARGET)
    parser.add_argument("--draft", default=None, help="a draft model for both servers (e.g. the 0.5B's .gguf)")
    parser.add_argument("--draft-k", type=int, default=4, help="draft tokens per step, both servers (llama-server's --draft-max)")
    parser.add_argument("--k", type=int, default=5, help="Tram's num_speculative_tokens")
    parser.add_argument("--lookup", type=int, default=5, help="Tram's prompt_lookup_max (and min: 2)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--output-len", type=int, default=1024, help="max_tokens (a ceiling: EOS ends each answer)")
    parser.add_argument("--load", type=int, default=0, help="also run this many clients with speculation on and off")
    parser.add_argument("--only", default="", help="comma-separated configurations to run (default: all)")
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--results", default=None)
    parser.add_argument("--from-results", action="store_true", help="only rewrite the section from --results' files")
    args = parser.parse_args()
    if args.from_results and not args.results:
        sys.exit("--from-results needs --results DIR")
    results_dir = args.results or tempfile.mkdtemp(prefix="tram-spec-")
    os.makedirs(results_dir, exist_ok=True)
    threads = str(os.cpu_count() or 2)
    spec = json.dumps({"method": "ngram", "num_speculative_tokens": args.k,
                       "prompt_lookup_max": args.lookup, "prompt_lookup_min": 2})
    tram = [args.tram, "serve", args.model, "--port", "{port}", "--served-model-name", "model"]
    llama = [args.llama_server, "-m", args.model, "-t", threads, "-np", "32", "-c", "32768",
             "--port", "{port}", "--host", "127.0.0.1", "-a", "model"]
    servers = {
        "tram": tram,
        "tram-ngram": tram + ["--speculative-config", spec],
        "llama-server": llama,
        "llama-ngram": llama + ["--spec-type", "ngram-simple"],
    }
    if args.draft:
        draft_spec = json.dumps({"model": args.draft, "num_speculative_tokens": args.draft_k})
        servers["tram-draft"] = tram + ["--speculative-config", draft_spec]
        servers["llama-draft"] = llama + ["--spec-type", "draft-simple", "--model-draft", args.draft,
                                          "--spec-draft-n-max", str(args.draft_k), "-td", threads]
    if args.only:
        servers = {k: v for k, v in servers.items() if k in args.only.split(",")}

    def bench(url, path, load):
        argv = [args.tram, "bench", "serve", "--base-url", url, "--model", "model", "--tokenizer", args.model,
                "--disable-tqdm", "--save-result", "--save-detailed", "--result-filename", path, "--temperature", "0"]
        if load:
            argv += ["--num-prompts", str(2 * load), "--max-concurrency", str(load), "--random-input-len", "128",
                     "--random-output-len", "64", "--num-warmups", "2"]
        else:
            argv += ["--backend", "openai-chat", "--endpoint", "/v1/chat/completions", "--dataset-name", "custom",
                     "--dataset-path", DATASET, "--custom-output-len", str(args.output_len), "--no-ignore-eos",
                     "--num-prompts", "4", "--max-concurrency", "1", "--num-warmups", "1"]
        subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with open(path) as f:
            return json.load(f)

    if not args.from_results:
        # What verification costs here, before the servers (`tram bench verify`: k query rows ÷ 1).
        with open(os.path.join(results_dir, "verify.txt"), "w") as f:
            subprocess.run([args.tram, "bench", "verify", args.model, "--context", "512", "--max-tokens", "8",
                            "--iterations", "9"], check=True, stdout=f, stderr=subprocess.DEVNULL)
        for run in range(args.runs):
            for name, argv in servers.items():
                with Server(f"{name}-{run}", argv, results_dir) as server:
                    print(f"run {run + 1}/{args.runs}: {name}", file=sys.stderr, flush=True)
                    bench(server.url, os.path.join(results_dir, f"{name}__{run}.json"), 0)
                    if name.startswith("tram"):
                        with urllib.request.urlopen(server.url + "/metrics") as r, \
                             open(os.path.join(results_dir, f"{name}-{run}.metrics"), "wb") as f:
                            f.write(r.read())
                    if args.load and name in ("tram", "tram-ngram"):
                        bench(server.url, os.path.join(results_dir, f"{name}__load{args.load}__{run}.json"), args.load)
        with open(os.path.join(results_dir, "settings.json"), "w") as f:
            json.dump({"spec": spec, "draft": args.draft, "draft_k": args.draft_k, "model": args.model,
                       "load": args.load, "servers": list(servers)}, f)
    with open(os.path.join(results_dir, "settings.json")) as f:
        settings = json.load(f)
    spec, args.model, args.load = settings["spec"], settings["model"], settings["load"]
    args.draft, args.draft_k = settings["draft"], settings["draft_k"]
    runs, accepted, texts, load_runs, policies = {}, {}, {}, {}, {}
    for name in settings["servers"]:
        for run in range(args.runs):
            path = os.path.join(results_dir, f"{name}__{run}.json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                result = json.load(f)
            runs.setdefault(name, []).append(decode_speed(result))
            texts.setdefault(name, []).append(result.get("generated_texts"))
            log = os.path.join(results_dir, f"{name}-{run}.log")
            counts = tram_acceptance(log) if name.startswith("tram") else llama_acceptance(log)
            if counts:
                accepted.setdefault(name, []).append(counts)
            if name.startswith("tram"):
                policies.setdefault(name, tram_policy(log))
            load = os.path.join(results_dir, f"{name}__load{args.load}__{run}.json")
            if os.path.exists(load):
                with open(load) as f:
                    load_runs.setdefault(name, []).append(json.load(f)["output_throughput"])
    args.runs = max((len(v) for v in runs.values()), default=0)

    lines = [BEGIN, "## Speculative decoding", "",
             f"CPU: {cpu_model()}, {os.cpu_count()} cores; Tram kernels: {kernel_isa()}. "
             f"Model: `{os.path.basename(args.model)}`. One client, greedy, the {len(open(DATASET).readlines())} "
             f"code-editing prompts of `scripts/bench/datasets/code-edit.jsonl` (chat API, streamed, EOS respected), "
             f"{args.runs} alternating runs; decode tok/s = Σ(output tokens − 1) ÷ Σ(latency − TTFT), median (min–max). "
             f"Tram's n-gram config: `{spec}`"
             + (f"; draft: `{os.path.basename(args.draft)}`, {args.draft_k} tokens per step on both servers" if args.draft else "")
             + ". Written by `scripts/bench/speculative.py`.", "",
             "| configuration | decode tok/s | ÷ llama-server | ÷ Tram without speculation | acceptance |",
             "| --- | --- | --- | --- | --- |"]
    base_llama = median_and_spread(runs["llama-server"])[0] if "llama-server" in runs else None
    base_tram = median_and_spread(runs["tram"])[0] if "tram" in runs else None
    for name, values in runs.items():
        med, low, high = median_and_spread(values)
        note = ""
        if name in accepted:
            ok = sum(r[0] for r in accepted[name])
            drafted = sum(r[1] for r in accepted[name])
            drafts = sum(r[2] for r in accepted[name])
            note = f"{100 * ok / drafted:.0f}% of {drafted} drafted tokens" + (
                f", mean accepted length {1 + ok / drafts:.2f}" if drafts else "") + " (server logs, all runs)"
        elif name.startswith("tram-") and policies.get(name):
            note = "proposed nothing: at the verification and draft costs measured at start-up (below) no proposal pays"
        r_llama = f"{med / base_llama:.2f}×" if base_llama else "–"
        r_tram = f"{med / base_tram:.2f}×" if base_tram and name.startswith("tram") else "–"
        lines.append(f"| {name} | {med:.1f} ({low:.1f}–{high:.1f}) | {r_llama} | {r_tram} | {note} |")
    for other in ("tram-ngram", "tram-draft"):
        if "tram" in texts and other in texts:
            same = all(a == b for a, b in zip(texts["tram"], texts[other]))
            lines += ["", f"Tram's greedy outputs with `{other}` and without speculation: {'identical' if same else 'DIFFERENT'} "
                          f"({sum(len(t or []) for t in texts['tram'])} answers compared)."]
    if load_runs:
        off, on = median_and_spread(load_runs["tram"])[0], median_and_spread(load_runs["tram-ngram"])[0]
        lines += ["", f"{args.load} clients (random 128-token prompts, 64 output tokens): output {off:.1f} tok/s without "
                      f"speculation, {on:.1f} with the n-gram config ({on / off:.3f}×; medians of {args.runs})."]
    verify = os.path.join(results_dir, "verify.txt")
    if os.path.exists(verify):
        table = [l for l in open(verify).read().splitlines() if l.strip()]
        lines += ["", "What verification costs here (`tram bench verify`, one sequence after 512 tokens: a forward pass of",
                  "k query rows, logits for each, against a 1-token decode step):", "", "```"] + table + ["```"]
    for name, policy in policies.items():
        if policy:
            lines += ["", f"`{name}` measured at start-up: {policy}."]
    lines.append(END)
    section = "\n".join(lines) + "\n"
    print(section)
    text = open(args.out).read() if os.path.exists(args.out) else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}; raw results in {results_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
