#!/usr/bin/env python3
"""Picks the schema sample `tram bench structured` runs: JSON schemas with valid instances from
MaskBench (guidance-ai/jsonschemabench, maskbench/data: real-world schemas from GitHub,
Kubernetes, Snowplow, JSON Schema Store, Glaive and BFCL function calls, ...), a fixed number
per collection, chosen by a hash of the file name so the pick is stable.

    python3 scripts/bench/structured/make_sample.py /path/to/jsonschemabench/checkout \
        > Benchmarks/structured/maskbench_sample.jsonl

Each output line: {"source": "guidance-ai/jsonschemabench@<commit>:maskbench/data/<file>",
"collection", "schema", "instances": [up to 2 valid test instances]}.
"""
import hashlib
import json
import subprocess
import sys

PER_COLLECTION = {
    "Github_trivial": 20, "Github_easy": 40, "Github_medium": 40, "Github_hard": 30, "Github_ultra": 10,
    "Glaiveai2K": 40, "Kubernetes": 25, "Snowplow": 20, "JsonSchemaStore": 20, "WashingtonPost": 10,
    "BFCL_simple": 15, "BFCL_multiple": 10, "JME": 10, "Handwritten": 10,
}
MAX_SCHEMA_BYTES = 40_000


def main():
    repo = sys.argv[1]
    git = ["git", "-C", repo]
    commit = subprocess.check_output(git + ["rev-parse", "HEAD"], text=True).strip()
    names = subprocess.check_output(git + ["ls-tree", "-r", "--name-only", "HEAD", "maskbench/data"], text=True).split()
    by_collection = {}
    for path in names:
        base = path.rsplit("/", 1)[1]
        collection = base.split("---")[0].rsplit("_", 1)[0] if "---" not in base else base.split("---")[0]
        by_collection.setdefault(collection, []).append(path)
    for collection, count in PER_COLLECTION.items():
        paths = sorted(by_collection.get(collection, []), key=lambda p: hashlib.sha256(p.encode()).hexdigest())
        taken = 0
        for path in paths:
            if taken == count:
                break
            text = subprocess.check_output(git + ["show", f"{commit}:{path}"], text=True)
            if len(text) > MAX_SCHEMA_BYTES:
                continue
            entry = json.loads(text)
            valid = [t["data"] for t in entry.get("tests", []) if t.get("valid")]
            if not valid:
                continue
            print(json.dumps({
                "source": f"guidance-ai/jsonschemabench@{commit}:{path}",
                "collection": collection,
                "schema": entry["schema"],
                "instances": valid[:2],
            }, ensure_ascii=False))
            taken += 1


if __name__ == "__main__":
    main()
