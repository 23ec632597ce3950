#!/usr/bin/env python3
"""Tram against llama.cpp's llama-server, measured in one run on one machine; writes BENCHMARKS.md.

Every figure comes from `tram bench serve` (vLLM's definitions) against each server in turn, on
the same GGUF file, with the load generator sharing the machine's cores as a real client would.

    scripts/bench/compare.py --llama-server /path/to/llama-server [--runs 3] [--out BENCHMARKS.md]

Scenarios (the performance issue's targets):
  c32      32 concurrent clients, 128-token prompts, 128 output tokens, streamed
  c1       1 client, same shape
  ttft512  1 client, 512-token prompts, 16 output tokens (time to first token of a long prompt)
  seqs1    Tram with --max-num-seqs 1 under the c32 load (what continuous batching buys)
  itl      16 clients, 128-token prompts, 64 output tokens: inter-token latency at steady decode
  itl-long the same load while 2048-token prompts keep arriving one after another (do prefill
           chunks stall the running decodes?)
  startup  `tram serve` start to the first successful completion, warm page cache

Model matrix (`--matrix`): every model of MATRIX_MODELS at 1, 8 and 32 clients (m1, m8, m32) and
the 1.5B's 512-token TTFT (m-ttft512), Tram once per kernel ISA (the CPU's best, and AVX2 forced
with TRAM_KERNEL_ISA on an AVX-512 machine: the peer keeps its native kernels there, a worst case
for Tram), llama-server once; one table per ISA, plus Tram's peak RSS under the 32-client load and
each model's KV bytes per token. The matrix is one section per machine class (the CPU's best ISA:
AVX-512 VNNI, AVX2-only), between `<!-- matrix:ISA:begin/end -->` markers: a run replaces its own
class's section and keeps the others' as their machines wrote them. `--scenarios` then picks the
detailed SmolLM2 scenarios to run beside it (none: `--scenarios ""`).

`--batched-tokens-sweep 128,256,512` also runs Tram's c32, itl and itl-long scenarios with each
`--max-num-batched-tokens` value: the measurement behind the CPU default.

Each scenario runs `--runs` times per server; the tables quote medians and the spread.
Needs: a release build of tram (`swift build -c release`), the model (scripts/fetch-model.sh).
llama-server is built outside the repository (see BENCHMARKS.md, "Peer"); none of it is committed.
"""
import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MODEL = os.path.join(os.environ.get("TRAM_CACHE", os.path.expanduser("~/.cache/tram")),
                             "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")

SCENARIOS = {
    # name: (max concurrency, input len, output len, prompts)
    "c32": (32, 128, 128, 64),
    "c1": (1, 128, 128, 8),
    "ttft512": (1, 512, 16, 8),
    "itl": (16, 128, 64, 32),
    "itl-long": (16, 128, 64, 32),
}
# The long prompts sent alongside itl-long's load, one at a time: (input len, output len, prompts).
LONG_PROMPTS = (2048, 1, 4)

# The model matrix: (key, label, file under the model cache). The three models the speed issue
# names; `tram download qwen2.5-coder-0.5b-instruct qwen2.5-coder-1.5b-instruct` fetches the Qwens.
MATRIX_MODELS = [
    ("smollm2", "SmolLM2-135M-Instruct Q4_1", "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("qwen0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "qwen2.5-coder-0.5b-instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
    ("qwen1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "qwen2.5-coder-1.5b-instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
]
MATRIX_SCENARIOS = {
    # name: (max concurrency, input len, output len, prompts)
    "m1": (1, 128, 128, 4),
    "m8": (8, 128, 64, 16),
    "m32": (32, 128, 64, 64),
    "m-ttft512": (1, 512, 16, 4),
}
MATRIX_TTFT_MODEL = "qwen1.5b"
SCENARIOS.update(MATRIX_SCENARIOS)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.args}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


class Server:
    def __init__(self, name, argv, log_dir, env=None):
        self.name, self.argv, self.env = name, argv, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(log_dir, f"{name}.log"), "w")

    def __enter__(self):
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        env = dict(os.environ, **self.env) if self.env else None
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_healthy(self.url, self.process)
        return self

    def resident_peak(self):
        """The server's peak resident set so far (VmHWM), in bytes."""
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def serve_bench_argv(tram, url, model_name, model_path, shape, seed, warmups, result_file):
    concurrency, input_len, output_len, prompts = shape
    argv = [tram, "bench", "serve", "--base-url", url, "--model", model_name, "--tokenizer", model_path,
            "--num-prompts", str(prompts), "--random-input-len", str(input_len), "--random-output-len", str(output_len),
            "--max-concurrency", str(concurrency), "--num-warmups", str(warmups), "--seed", str(seed), "--disable-tqdm"]
    if result_file:
        argv += ["--save-result", "--result-filename", result_file]
    return argv


def bench(tram, url, model_name, model_path, scenario, result_file, seed):
    argv = serve_bench_argv(tram, url, model_name, model_path, SCENARIOS[scenario], seed, 2, result_file)
    background = None
    if scenario == "itl-long":
        # Long prompts start once the main load's warm-ups are done and its decodes are running.
        input_len, output_len, prompts = LONG_PROMPTS
        long_argv = serve_bench_argv(tram, url, model_name, model_path, (1, input_len, output_len, prompts), seed + 500, 0, None)
        background = subprocess.Popen(["sh", "-c", 'sleep 3 && exec "$@"', "sh"] + long_argv,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        if background:
            background.terminate()
            background.wait()
    with open(result_file) as f:
        return json.load(f)


def startup_time(tram, model_path):
    """Seconds from launching `tram serve` to the first successful completion."""
    port = free_port()
    start = time.monotonic()
    process = subprocess.Popen([tram, "serve", model_path, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    body = json.dumps({"prompt": "Hello", "max_tokens": 1}).encode()
    try:
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=body,
                                                 headers={"content-type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("tram serve exited")
                time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


# AMD (family, model range) → core generation: virtual machines often name the CPU only "AMD EPYC".
AMD_CORES = [(23, range(0x30, 0x40), "Zen 2"), (23, range(0x60, 0x80), "Zen 2"), (25, range(0x00, 0x10), "Zen 3"),
             (25, range(0x20, 0x60), "Zen 3"), (25, range(0x10, 0x20), "Zen 4"), (25, range(0x60, 0x80), "Zen 4"),
             (25, range(0xA0, 0xB0), "Zen 4"), (26, range(0x00, 0x100), "Zen 5")]


def cpu_model():
    """The CPU's name, with its family/model (and AMD core generation) when the name alone is vague."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor()
    name = fields.get("model name", platform.processor())
    try:
        family, model = int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        return name
    core = next((c for f, models, c in AMD_CORES if f == family and model in models), None) \
        if fields.get("vendor_id") == "AuthenticAMD" else None
    return f"{name} (family {family}, model {model}{': ' + core if core else ''})"


def kernel_isa():
    """The kernel variant tram serve runs here: TRAM_KERNEL_ISA if set, else the CPU's best."""
    best, forced = best_isa(), os.environ.get("TRAM_KERNEL_ISA")
    return f"{forced} (forced with TRAM_KERNEL_ISA; the CPU's best is {best})" if forced else f"{best} (the CPU's best)"


def best_isa():
    """The best kernel variant this CPU supports, as Tram picks it."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        flags = ""
    return "avx512vnni" if "avx512_vnni" in flags and "avx512bw" in flags else "avx2" if "avx2" in flags else "scalar"


# The matrix's machine classes, by the best kernel ISA their CPUs have, in the report's order.
MACHINE_CLASSES = {"avx512vnni": "AVX-512 VNNI", "avx2": "AVX2-only", "scalar": "x86 without AVX2"}


def matrix_isas():
    """Tram's kernel ISAs the matrix measures: the CPU's best, and AVX2 below it."""
    best = best_isa()
    return [best, "avx2"] if best == "avx512vnni" else [best]


def gguf_figures(path):
    """(KV cache bytes per token at float16, weight bytes a decode step reads): every tensor but
    the token embedding, of which a step reads one row (unless it is also the LM head)."""
    try:
        import gguf
    except ImportError:
        return None, None
    reader = gguf.GGUFReader(path)

    def field(name):
        f = reader.fields.get(name)
        return None if f is None else f.parts[f.data[0]].tolist()[0]

    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    layers, kv_heads = field(f"{arch}.block_count"), field(f"{arch}.attention.head_count_kv")
    head_dim = field(f"{arch}.attention.key_length") or field(f"{arch}.embedding_length") // field(f"{arch}.attention.head_count")
    names = {t.name for t in reader.tensors}
    read = sum(int(t.n_bytes) for t in reader.tensors if t.name != "token_embd.weight" or "output.weight" not in names)
    return 2 * layers * kv_heads * head_dim * 2, read


def median_and_spread(values):
    return statistics.median(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-server", required=True, help="path to llama.cpp's llama-server binary")
    parser.add_argument("--tram", default=os.path.join(ROOT, ".build/release/tram"))
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--results", default=None, help="directory for the raw result JSON files")
    parser.add_argument("--scenarios", default="c32,c1,ttft512,seqs1,itl,itl-long,startup")
    parser.add_argument("--batched-tokens-sweep", default="",
                        help="comma-separated --max-num-batched-tokens values to run Tram's c32/itl/itl-long with")
    parser.add_argument("--sweep-scenarios", default="c32,itl,itl-long",
                        help="the scenarios each --batched-tokens-sweep value runs")
    parser.add_argument("--matrix", action="store_true",
                        help="also run the model matrix (MATRIX_MODELS × 1/8/32 clients, per kernel ISA)")
    parser.add_argument("--cache", default=os.environ.get("TRAM_CACHE", os.path.expanduser("~/.cache/tram")),
                        help="Tram's model cache, where the matrix's models are")
    parser.add_argument("--dram-gbps", type=float, default=None,
                        help="the machine's measured DRAM read bandwidth (GB/s), for decode's fraction of it")
    parser.add_argument("--notes", default=os.path.join(ROOT, "docs/benchmark-notes.md"),
                        help="a hand-written Markdown file appended to the report (profiles of what missed, method notes)")
    parser.add_argument("--from-results", metavar="DIR",
                        help="only rewrite the report from a previous run's result files (and its startup.json)")
    args = parser.parse_args()
    if args.from_results:
        runs, startups = load_results(args.from_results)
        args.runs = max((len(v) for v in runs.values()), default=0)
        rss = {}
        if os.path.exists(os.path.join(args.from_results, "rss.json")):
            with open(os.path.join(args.from_results, "rss.json")) as f:
                rss = json.load(f)
        write_report(args, runs, startups, args.from_results, rss)
        print(f"wrote {args.out}", file=sys.stderr)
        return
    wanted = args.scenarios.split(",")
    results_dir = args.results or tempfile.mkdtemp(prefix="tram-bench-")
    os.makedirs(results_dir, exist_ok=True)
    threads = str(os.cpu_count() or 2)

    def tram_argv(model):
        return [args.tram, "serve", model, "--port", "{port}", "--served-model-name", "model"]

    def llama_argv(model):
        return [args.llama_server, "-m", model, "-t", threads, "-np", "32", "-c", "32768",
                "--port", "{port}", "--host", "127.0.0.1", "-a", "model"]

    servers = {
        "tram": tram_argv(args.model),
        "tram-seqs1": tram_argv(args.model) + ["--max-num-seqs", "1"],
        "llama-server": llama_argv(args.model),
    }
    envs, models = {}, {}  # server -> extra environment, model file (default: args.model)
    plan = []
    if args.matrix:
        for key, _, relative in MATRIX_MODELS:
            path = os.path.join(args.cache, "models", relative)
            if not os.path.exists(path):
                sys.exit(f"missing {path}: fetch it with `tram download` (see README, Models)")
            scenarios = ["m1", "m8", "m32"] + (["m-ttft512"] if key == MATRIX_TTFT_MODEL else [])
            names = [f"llama-server--{key}"] + [f"tram-{isa}--{key}" for isa in matrix_isas()]
            for name in names:
                if name.startswith("tram-"):
                    servers[name] = tram_argv(path)
                    envs[name] = {"TRAM_KERNEL_ISA": name[len("tram-"):].split("--")[0]}
                else:
                    servers[name] = llama_argv(path)
                models[name] = path
                plan += [(scenario, name) for scenario in scenarios]
    plan += [(s, "tram") for s in ("c32", "c1", "ttft512", "itl", "itl-long") if s in wanted]
    plan += [(s, "llama-server") for s in ("c32", "c1", "ttft512", "itl", "itl-long") if s in wanted]
    if "seqs1" in wanted:
        plan.append(("c32", "tram-seqs1"))
    for value in filter(None, args.batched_tokens_sweep.split(",")):
        name = f"tram-mbt{int(value)}"
        servers[name] = servers["tram"] + ["--max-num-batched-tokens", str(int(value))]
        plan += [(s, name) for s in args.sweep_scenarios.split(",")]

    runs = {}  # (server, scenario) -> [result dict]
    rss = {}  # server -> [peak resident bytes after its m32 load]
    for run in range(args.runs):
        # Servers alternate within each run, so slow phases of a shared machine hit both.
        for server_name in dict.fromkeys(name for _, name in plan):
            scenarios = [s for s, name in plan if name == server_name]
            if not scenarios:
                continue
            model = models.get(server_name, args.model)
            with Server(f"{server_name}-{run}", servers[server_name], results_dir, envs.get(server_name)) as server:
                for scenario in scenarios:
                    path = os.path.join(results_dir, f"{server_name}__{scenario}__{run}.json")
                    print(f"run {run + 1}/{args.runs}: {server_name} {scenario}", file=sys.stderr, flush=True)
                    # Every scenario and run draws its own prompts: a server's prefix cache must not
                    # serve one scenario from another's prompts.
                    seed = 1000 * run + list(SCENARIOS).index(scenario)
                    result = bench(args.tram, server.url, "model", model, scenario, path, seed=seed)
                    runs.setdefault((server_name, scenario), []).append(result)
                    if scenario == "m32":
                        rss.setdefault(server_name, []).append(server.resident_peak())
    with open(os.path.join(results_dir, "rss.json"), "w") as f:
        json.dump(rss, f)
    startups = [startup_time(args.tram, args.model) for _ in range(args.runs)] if "startup" in wanted else []
    with open(os.path.join(results_dir, "startup.json"), "w") as f:
        json.dump(startups, f)

    write_report(args, runs, startups, results_dir, rss)
    print(f"wrote {args.out}; raw results in {results_dir}", file=sys.stderr)


def load_results(directory):
    runs = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or name in ("startup.json", "rss.json"):
            continue
        parts = name[:-5].split("__")
        server, scenario = parts[:2] if len(parts) == 3 else name[:-5].rsplit("-", 2)[:2]  # older runs: a-b-N
        with open(os.path.join(directory, name)) as f:
            runs.setdefault((server, scenario), []).append(json.load(f))
    startups = []
    if os.path.exists(os.path.join(directory, "startup.json")):
        with open(os.path.join(directory, "startup.json")) as f:
            startups = json.load(f)
    return runs, startups


def fmt(values, digits=1):
    m, lo, hi = median_and_spread(values)
    return f"{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def write_matrix(add, args, runs, metric, ratio, rss):
    """The model matrix: one table per Tram kernel ISA, memory, and the speed issue's targets."""
    # TRAM_KERNEL_ISA values, best first
    isas = sorted({server[len("tram-"):].split("--")[0] for server, _ in runs if server.startswith("tram-") and "--" in server},
                  key=["avx512vnni", "avx2", "scalar"].index)
    if not isas:
        return
    best = best_isa()
    shapes = {"m1": "1 client, 128 in / 128 out", "m8": "8 clients, 128 in / 64 out", "m32": "32 clients, 128 in / 64 out"}
    med = lambda values: statistics.median(values) if values else None
    figures = {key: gguf_figures(os.path.join(args.cache, "models", relative)) for key, _, relative in MATRIX_MODELS
               if os.path.exists(os.path.join(args.cache, "models", relative))}
    for isa in isas:
        forced = "" if isa == best else f" (forced with `TRAM_KERNEL_ISA={isa}` on a CPU whose best is {best}; llama-server keeps its native kernels, so this is a worst case for Tram)"
        add(f"### Tram kernels: {isa}{forced}")
        add("")
        add("| Model | Load | Output tok/s Tram | llama-server | Ratio | Median TPOT ms Tram | llama-server | P99 TTFT ms Tram | llama-server |")
        add("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for key, label, _ in MATRIX_MODELS:
            t, l = f"tram-{isa}--{key}", f"llama-server--{key}"
            for scenario, shape in shapes.items():
                to, lo = metric(t, scenario, "output_throughput"), metric(l, scenario, "output_throughput")
                if not to and not lo:
                    continue
                tt, lt = metric(t, scenario, "median_tpot_ms"), metric(l, scenario, "median_tpot_ms")
                tf, lf = metric(t, scenario, "p99_ttft_ms"), metric(l, scenario, "p99_ttft_ms")
                add(f"| {label} | {shape} | {fmt(to) if to else '—'} | {fmt(lo) if lo else '—'} | {ratio(to, lo)} | "
                    f"{fmt(tt) if tt else '—'} | {fmt(lt) if lt else '—'} | {fmt(tf, 0) if tf else '—'} | {fmt(lf, 0) if lf else '—'} |")
        key = MATRIX_TTFT_MODEL
        tf, lf = metric(f"tram-{isa}--{key}", "m-ttft512", "median_ttft_ms"), metric(f"llama-server--{key}", "m-ttft512", "median_ttft_ms")
        if tf and lf:
            add("")
            add(f"{dict((k, v) for k, v, _ in MATRIX_MODELS)[key]}, 1 client, 512-token prompts, 16 out: median TTFT "
                f"Tram {fmt(tf, 0)} ms, llama-server {fmt(lf, 0)} ms ({ratio(tf, lf)}).")
        add("")
        decode = []
        for key, label, _ in MATRIX_MODELS:
            tpot = med(metric(f"tram-{isa}--{key}", "m1", "median_tpot_ms"))
            lpot = med(metric(f"llama-server--{key}", "m1", "median_tpot_ms"))
            read = (figures.get(key) or (None, None))[1]
            if tpot and read and args.dram_gbps:
                share = lambda ms: f"{read / (ms / 1000) / 1e9:.1f} GB/s = {read / (ms / 1000) / 1e9 / args.dram_gbps:.0%}"
                decode.append(f"{label}: {read / 1e6:.0f} MB of weights per token; Tram {share(tpot)}"
                              + (f", llama-server {share(lpot)}" if lpot else ""))
        if decode:
            add(f"Single-stream decode against the measured DRAM read bandwidth ({args.dram_gbps:.1f} GB/s, both cores):")
            add("")
            for line in decode:
                add(f"- {line}")
            add("")
    add("### Memory")
    add("")
    add("| Model | KV cache bytes per token (float16) | Peak RSS at 32 clients: " + " | ".join(f"Tram {isa}" for isa in isas) + " | llama-server |")
    add("| --- | --- | " + " | ".join("---" for _ in isas) + " | --- |")
    mib = lambda values: f"{statistics.median(v for v in values if v) / 2**20:.0f} MiB" if values and any(values) else "—"
    for key, label, _ in MATRIX_MODELS:
        kv = (figures.get(key) or (None, None))[0]
        cells = [mib(rss.get(f"tram-{isa}--{key}", [])) for isa in isas] + [mib(rss.get(f"llama-server--{key}", []))]
        add(f"| {label} | {f'{kv:,} ({kv / 1024:.0f} KiB)' if kv else '—'} | " + " | ".join(cells) + " |")
    add("")
    add("### Against the speed issue's targets")
    add("")
    add("| Target | " + " | ".join(f"Tram {isa}" for isa in isas) + " |")
    add("| --- | " + " | ".join("---" for _ in isas) + " |")

    def row(target, compute):
        cells = []
        for isa in isas:
            got = compute(isa)
            cells.append("—" if got is None else f"{got[0]} ({'met' if got[1] else '**missed**'})")
        add(f"| {target} | " + " | ".join(cells) + " |")

    def both(isa, key, scenario, field):
        t, l = med(metric(f"tram-{isa}--{key}", scenario, field)), med(metric(f"llama-server--{key}", scenario, field))
        return (t, l) if t and l else (None, None)

    def throughput(key, scenario, goal, with_ttft=False):
        def compute(isa):
            t, l = both(isa, key, scenario, "output_throughput")
            if t is None:
                return None
            text, met = f"{t / l:.2f}×", t / l >= goal
            if with_ttft:
                tf, lf = both(isa, key, scenario, "p99_ttft_ms")
                if tf:
                    text += f", P99 TTFT {tf:.0f} vs {lf:.0f} ms"
                    met = met and tf < lf
            return text, met
        return compute

    def lower(key, scenario, field):
        def compute(isa):
            t, l = both(isa, key, scenario, field)
            return None if t is None else (f"{t / l:.2f}×", t / l <= 1.0)
        return compute

    row("SmolLM2, 32 clients: output tok/s ≥ 2.0× (goal 2.5×), lower P99 TTFT", throughput("smollm2", "m32", 2.0, True))
    row("SmolLM2, 1 client: output tok/s ≥ 1.2×", throughput("smollm2", "m1", 1.2))
    row("Qwen2.5-1.5B, 1 client: median TPOT ≤ 1.0×", lower("qwen1.5b", "m1", "median_tpot_ms"))
    row("Qwen2.5-1.5B, 512-token TTFT ≤ 1.0×", lower("qwen1.5b", "m-ttft512", "median_ttft_ms"))
    row("Qwen2.5-1.5B, 8 clients: output tok/s ≥ 1.5× (goal 2×)", throughput("qwen1.5b", "m8", 1.5))
    row("Qwen2.5-1.5B, 32 clients: output tok/s ≥ 2×", throughput("qwen1.5b", "m32", 2.0))
    add("")


def kept_section(report, name):
    """The lines of `report` between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, markers
    included (a section another run or script owns), or None."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in report or end not in report:
        return None
    return report[report.index(begin):report.index(end) + len(end)].split("\n")


def measured_at(results_dir):
    """When the results were measured: the newest result file's time (a report rewritten with
    --from-results keeps its run's date), else now."""
    times = [os.path.getmtime(os.path.join(results_dir, n)) for n in os.listdir(results_dir)
             if n.endswith(".json") and "__" in n] if results_dir and os.path.isdir(results_dir) else []
    moment = datetime.fromtimestamp(max(times), timezone.utc) if times else datetime.now(timezone.utc)
    return moment.strftime('%Y-%m-%d %H:%M UTC')


def write_report(args, runs, startups, results_dir, rss):
    def metric(server, scenario, key):
        return [r[key] for r in runs.get((server, scenario), [])]

    def ratio(a, b):
        if not a or not b:
            return "—"
        return f"{statistics.median(a) / statistics.median(b):.2f}×"

    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("Generated by `scripts/bench/compare.py`; do not edit by hand. Every figure is a median over the")
    add("runs its section names (range in parentheses), Tram and the peer measured in the same run, alternating.")
    add("")
    add("## Method")
    add("")
    add("- Machines: each section names the machine it was measured on (CPU, kernel ISA, date); the model")
    add("  matrix keeps one section per machine class (AVX-512 VNNI, AVX2-only), each from its own run.")
    add("- Load: `tram bench serve` (vLLM's `bench serve` definitions: random prompts of exactly N tokens, each")
    add("  different; streamed; `ignore_eos`; temperature 0; 2 warm-up requests), running on the same cores as the server.")
    add("- Tram: `tram serve MODEL` with default engine settings (release build).")
    add(f"- Peer: llama.cpp `llama-server -m MODEL -t {os.cpu_count()} -np 32 -c 32768` (built from the llama.cpp")
    add("  vendored in PyPI's `llama-cpp-python` sdist, outside this repository), the same GGUF file.")
    add("")
    old = open(args.out).read() if os.path.exists(args.out) else ""
    args.old_report = old
    # machine class (the CPU's best ISA) -> its matrix section's lines, markers included
    classes = {isa: kept for isa in MACHINE_CLASSES if (kept := kept_section(old, f"matrix:{isa}"))}
    if any("--" in server for server, _ in runs):
        best = best_isa()
        section = [f"<!-- matrix:{best}:begin -->"]
        section.append(f"## Models × clients on an {MACHINE_CLASSES[best]} machine")
        section.append("")
        section.append(f"- Date: {measured_at(results_dir)}")
        section.append(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; Linux {platform.release()}; "
                       f"Tram's best kernels here: {best}")
        if args.dram_gbps:
            section.append(f"- DRAM read bandwidth, measured: {args.dram_gbps:.1f} GB/s (both cores streaming)")
        section.append(f"- {args.runs} runs, Tram and llama-server alternating within each")
        section.append("")
        write_matrix(section.append, args, runs, metric, ratio, rss)
        section.append(f"<!-- matrix:{best}:end -->")
        classes[best] = section
    for isa in MACHINE_CLASSES:  # the other machine classes' sections stay as their own runs wrote them
        if isa in classes:
            lines.extend(classes[isa])
            add("")
    if not any(server in ("tram", "llama-server", "tram-seqs1") or server.startswith("tram-mbt") for server, _ in runs):
        write_footer(add, results_dir, lines, args)
        return
    add(f"## In detail: `{os.path.basename(args.model)}`, Tram kernels {kernel_isa()}")
    add("")
    add(f"{measured_at(results_dir)}, {cpu_model()}, {os.cpu_count()} logical cores"
        + (f"; DRAM read bandwidth {args.dram_gbps:.1f} GB/s" if args.dram_gbps else "") + ".")
    add("")
    rows = [
        ("32 clients, 128 in / 128 out", "c32", "output_throughput", "Output tok/s", 1),
        ("32 clients, 128 in / 128 out", "c32", "total_token_throughput", "Total tok/s", 1),
        ("32 clients, 128 in / 128 out", "c32", "p99_ttft_ms", "P99 TTFT (ms)", 0),
        ("32 clients, 128 in / 128 out", "c32", "median_ttft_ms", "Median TTFT (ms)", 0),
        ("32 clients, 128 in / 128 out", "c32", "median_tpot_ms", "Median TPOT (ms)", 1),
        ("32 clients, 128 in / 128 out", "c32", "p99_itl_ms", "P99 ITL (ms)", 0),
        ("1 client, 128 in / 128 out", "c1", "output_throughput", "Output tok/s", 1),
        ("1 client, 128 in / 128 out", "c1", "median_ttft_ms", "Median TTFT (ms)", 0),
        ("1 client, 128 in / 128 out", "c1", "median_tpot_ms", "Median TPOT (ms)", 1),
        ("1 client, 512 in / 16 out", "ttft512", "median_ttft_ms", "Median TTFT (ms)", 0),
        ("16 clients, 128 in / 64 out", "itl", "median_itl_ms", "Median ITL (ms)", 0),
        ("16 clients, 128 in / 64 out", "itl", "p99_itl_ms", "P99 ITL (ms)", 0),
        ("16 clients + 2048-token prompts arriving", "itl-long", "median_itl_ms", "Median ITL (ms)", 0),
        ("16 clients + 2048-token prompts arriving", "itl-long", "p99_itl_ms", "P99 ITL (ms)", 0),
        ("16 clients + 2048-token prompts arriving", "itl-long", "median_ttft_ms", "Median TTFT (ms)", 0),
        ("16 clients + 2048-token prompts arriving", "itl-long", "output_throughput", "Output tok/s", 1),
    ]
    present = [row for row in rows if metric("tram", row[1], row[2]) or metric("llama-server", row[1], row[2])]
    if present:
        add("### Results")
        add("")
        add("| Scenario | Metric | Tram | llama-server | Tram / llama-server |")
        add("| --- | --- | --- | --- | --- |")
    for title, scenario, key, label, digits in present:
        t, l = metric("tram", scenario, key), metric("llama-server", scenario, key)
        add(f"| {title} | {label} | {fmt(t, digits) if t else '—'} | {fmt(l, digits) if l else '—'} | {ratio(t, l)} |")
    if present:
        add("")
    seqs1 = metric("tram-seqs1", "c32", "output_throughput")
    if seqs1:
        full = metric("tram", "c32", "output_throughput")
        add("Continuous batching, 32 clients, 128 in / 128 out (output tok/s):")
        add("")
        add("| Tram default | Tram `--max-num-seqs 1` | Ratio |")
        add("| --- | --- | --- |")
        add(f"| {fmt(full)} | {fmt(seqs1)} | {ratio(full, seqs1)} |")
        add("")
    sweep = sorted({int(server[len("tram-mbt"):]) for server, _ in runs if server.startswith("tram-mbt")})
    if sweep:
        counts = sorted({len(v) for (server, _), v in runs.items() if server.startswith("tram-mbt")})
        add(f"`--max-num-batched-tokens` sweep (Tram, {'/'.join(map(str, counts))} run(s) each; the itl-long load adds one")
        add("2048-token prompt at a time); `EngineConfiguration.defaultMaxNumBatchedTokens` picks the default by model size from it:")
        add("")
        columns = [(scenario, key, label, digits) for scenario in ("c32", "m8", "itl", "itl-long")
                   for key, label, digits in (("output_throughput", "output tok/s", 1), ("p99_itl_ms", "P99 ITL (ms)", 0),
                                              ("median_ttft_ms", "median TTFT (ms)", 0))
                   if any(metric(f"tram-mbt{value}", scenario, key) for value in sweep)]
        add("| Tokens per step | " + " | ".join(f"{scenario} {label}" for scenario, _, label, _ in columns) + " |")
        add("| --- | " + " | ".join("---" for _ in columns) + " |")
        for value in sweep:
            cells = [(metric(f"tram-mbt{value}", scenario, key), digits) for scenario, key, _, digits in columns]
            add(f"| {value} | " + " | ".join(fmt(c, d) if c else "—" for c, d in cells) + " |")
        add("")
    if startups:
        add(f"Start-up, `tram serve` launch to first successful completion (warm page cache): {fmt([s * 1000 for s in startups], 0)} ms.")
        add("")
    def med(server, scenario, key):
        values = metric(server, scenario, key)
        return statistics.median(values) if values else None
    checks = []
    t, l = med("tram", "c32", "output_throughput"), med("llama-server", "c32", "output_throughput")
    tp, lp = med("tram", "c32", "p99_ttft_ms"), med("llama-server", "c32", "p99_ttft_ms")
    if t and l and tp and lp:
        checks.append((f"32 clients: output tok/s ≥ 1.5× llama-server (aim 2×), with lower P99 TTFT",
                       f"{t / l:.2f}×, P99 TTFT {tp:.0f} vs {lp:.0f} ms", t / l >= 1.5 and tp < lp))
    t, l = med("tram", "c1", "output_throughput"), med("llama-server", "c1", "output_throughput")
    if t and l:
        checks.append(("1 client: output tok/s ≥ 1.0× llama-server", f"{t / l:.2f}×", t / l >= 1.0))
    t, l = med("tram", "ttft512", "median_ttft_ms"), med("llama-server", "ttft512", "median_ttft_ms")
    if t and l:
        checks.append(("1 client: TTFT of a 512-token prompt ≤ 1.0× llama-server", f"{t / l:.2f}×", t / l <= 1.0))
    t, s1 = med("tram", "c32", "output_throughput"), med("tram-seqs1", "c32", "output_throughput")
    if t and s1:
        checks.append(("Continuous batching ≥ 2× `--max-num-seqs 1` at 32 clients", f"{t / s1:.2f}×", t / s1 >= 2.0))
    if startups:
        m = statistics.median(startups)
        checks.append(("Start-up to first successful request < 1 s", f"{m * 1000:.0f} ms", m < 1.0))
    if not checks:
        write_footer(add, results_dir, lines, args)
        return
    add("### Against the performance issue's targets")
    add("")
    add("| Target | Measured (median) | Met |")
    add("| --- | --- | --- |")
    for target, measured, met in checks:
        add(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    add("")
    add("Reading the ITL rows: with prompts arriving, Tram admits new requests at once and prefills them")
    add("in `--max-num-batched-tokens` chunks alongside the running decodes, so their time to first token")
    add("stays short and the running streams slow down a little; llama-server's steadier ITL in those rows")
    add("comes with new requests waiting about three times longer for their first token (median TTFT).")
    add("")
    write_footer(add, results_dir, lines, args)


def write_footer(add, results_dir, lines, args):
    add("The machine is shared and noisy: runs of the same scenario differ by up to a third, in the same")
    add("direction for both servers (they alternate within each run), so the ratios are steadier than the")
    add("absolute figures.")
    add("")
    if getattr(args, "notes", None) and os.path.exists(args.notes):
        with open(args.notes) as f:
            lines.extend(f.read().rstrip("\n").split("\n"))
        add("")
    add("## Raw results")
    add("")
    add(f"Each run's `--save-result` JSON was written to `{results_dir}` (not committed); regenerate with")
    add("")
    add("```sh")
    add("swift build -c release")
    add("scripts/bench/compare.py --llama-server /path/to/llama-server --runs 3 --matrix --dram-gbps GBPS")
    add("```")
    # scripts/bench/speculative.py and `tram bench structured --benchmarks` own sections of
    # their own: kept as they were.
    for name in ("speculative", "structured"):
        section = kept_section(args.old_report, name)
        if section:
            add("")
            lines.extend(section)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
