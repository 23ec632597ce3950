#!/usr/bin/env python3
"""A/B two `tram` binaries under the same load: `tram serve` from each in turn (A B A B …),
measured by `tram bench serve` (the B binary's, for both) with compare.py's scenarios. Prints
each run's output throughput and median TPOT/TTFT, then the medians and the ratio B/A.

    scripts/bench/ab.py --a OLD/tram --b NEW/tram [--scenarios c32,c1] [--runs 2]

Keep other work off the cores while it runs: the load generator shares them with the server.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import DEFAULT_MODEL, SCENARIOS, Server, bench, cpu_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="baseline tram binary")
    parser.add_argument("--b", required=True, help="candidate tram binary (also drives the load)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--scenarios", default="c32,c1")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    logs = tempfile.mkdtemp(prefix="tram-ab-")
    results = {}
    for run in range(args.runs):
        for scenario in args.scenarios.split(","):
            for name, binary in (("A", args.a), ("B", args.b)):
                with Server(f"{name}-{scenario}-{run}", [binary, "serve", args.model, "--port", "{port}", "--served-model-name", "smollm2-135m-instruct"], logs) as server:
                    out = bench(args.b, server.url, "smollm2-135m-instruct", args.model, scenario,
                                os.path.join(logs, f"{name}-{scenario}-{run}.json"), seed=run)
                row = (out["output_throughput"], out["median_tpot_ms"], out["median_ttft_ms"])
                results.setdefault((scenario, name), []).append(row)
                print(f"run {run} {scenario} {name}: {row[0]:.1f} out tok/s, median TPOT {row[1]:.1f} ms, median TTFT {row[2]:.0f} ms", flush=True)
    print(f"\nCPU: {cpu_model()}; medians of {args.runs} alternating runs")
    for scenario in args.scenarios.split(","):
        a = [statistics.median(v) for v in zip(*results[(scenario, "A")])]
        b = [statistics.median(v) for v in zip(*results[(scenario, "B")])]
        print(f"{scenario}: A {a[0]:.1f} tok/s TPOT {a[1]:.1f} ms TTFT {a[2]:.0f} ms | B {b[0]:.1f} tok/s TPOT {b[1]:.1f} ms "
              f"TTFT {b[2]:.0f} ms | B/A throughput {b[0] / a[0]:.3f}")


if __name__ == "__main__":
    main()
