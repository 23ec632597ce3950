#!/usr/bin/env python3
"""End-to-end cost of structured outputs: median TPOT (time per output token after the first) of
streamed chat requests with a JSON schema against the same requests unconstrained, at 1 and 16
concurrent clients, alternating the two kinds run by run, on a running `tram serve`.

    python3 scripts/bench/structured/e2e.py --base-url http://127.0.0.1:8000 [--runs 2]

Requests are greedy, max_tokens 96, prompts asking for a JSON record (so both kinds write JSON-like
text of similar length); each kind sends the same prompts. Prints one line per (clients, kind,
run) and the ratio of medians constrained / unconstrained per client count.
"""
import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import openai

SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "email": {"type": "string"}, "skills": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                "required": ["street", "city"]}},
    "required": ["name", "age", "email", "skills", "address"]}
PEOPLE = ["a baker in Lyon", "a pilot from Oslo", "a nurse in Lima", "a chef from Osaka", "a teacher in Accra",
          "a coder from Pune", "a farmer in Iowa", "a poet from Cork"]


def one(client, model, prompt, constrained):
    extra = {"response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA}}} if constrained else {}
    times = []
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"Write a JSON record describing {prompt}."}],
        max_tokens=96, temperature=0, stream=True, stream_options={"include_usage": True}, **extra)
    tokens = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            times.append(time.perf_counter())
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    if len(times) < 2 or tokens < 2:
        return None
    return (times[-1] - times[0]) / (tokens - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--api-key", default="none")
    args = ap.parse_args()
    client = openai.OpenAI(base_url=args.base_url + "/v1", api_key=args.api_key, timeout=600)
    model = client.models.list().data[0].id
    one(client, model, PEOPLE[0], True)  # warm-up: compiles the schema once, as a server would have
    for clients in (1, 16):
        medians = {False: [], True: []}
        for run in range(args.runs):
            for constrained in (False, True) if run % 2 == 0 else (True, False):
                prompts = [PEOPLE[i % len(PEOPLE)] for i in range(max(clients, 4))]
                with ThreadPoolExecutor(clients) as pool:
                    tpots = [t for t in pool.map(lambda p: one(client, model, p, constrained), prompts) if t]
                m = statistics.median(tpots) * 1e3
                medians[constrained].append(m)
                print(f"clients {clients:2d} {'json_schema' if constrained else 'free      '} run {run}: median TPOT {m:.2f} ms over {len(tpots)} requests", flush=True)
        ratio = statistics.median(medians[True]) / statistics.median(medians[False])
        print(f"clients {clients:2d}: TPOT constrained / unconstrained = {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
