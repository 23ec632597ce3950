#!/usr/bin/env bash
# The real-model tests on the models too large for every CI run (today Qwen2.5-Coder-1.5B-Instruct
# Q4_K_M, 1.1 GB; its f32 path needs ~8 GB of RAM): fetches them, then runs RealModelTests with
# TRAM_TEST_LARGE_MODELS=1 (tokenizer, chat template, f32 and quantized logits against the numpy
# reference in Tests/Fixtures/logits_qwen2.5-coder-1.5b.json, greedy continuations, perplexity).
# About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product tram
.build/release/tram download qwen2.5-coder-1.5b-instruct
TRAM_TEST_LARGE_MODELS=1 swift test -c release --no-parallel --filter RealModelTests
