#!/usr/bin/env bash
# The reliability suite (test_reliability.py, pytest): hostile and careless clients against live
# `tram serve` instances on the default model, all on 127.0.0.1 and bounded in count and time:
#   main   --api-key KEY --max-model-len 2048: crash and stall reproductions, auth variants,
#          a disconnect storm, a prefill flood, malformed bodies
#   queue  --max-num-seqs 2 --max-num-queued-reqs 8: an overload burst, queued hang-ups
#   fuzz   --max-model-len 256 --max-n 4: schemathesis against docs/openapi.yaml
# plus corrupt-model starts of the binary itself. It ends by asserting that every server is
# alive and every engine gauge is back to 0, and prints the counts (requests sent, statuses,
# bodies fuzzed, faults injected).
# Usage: scripts/reliability/run.sh [TRAM_BINARY] [pytest args…]; needs
# `pip install -r scripts/reliability/requirements.txt`. Exits nonzero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tram="${1:-${TRAM_BIN:-.build/release/tram}}"
if [ $# -gt 0 ]; then shift; fi
python="${PYTHON:-python3}"
startup_timeout="${TRAM_TEST_STARTUP_TIMEOUT:-120}"
key="tram-reliability-$RANDOM$RANDOM"
if [ ! -x "$tram" ]; then echo "run.sh: no tram binary at '$tram' (build it, or pass its path)" >&2; exit 2; fi
tram="$(cd "$(dirname "$tram")" && pwd)/$(basename "$tram")"
logs="${TRAM_TEST_LOGS:-$(mktemp -d)}"
mkdir -p "$logs"
source "$here/../lib/servers.sh"

model_path="${TRAM_CACHE:-$HOME/.cache/tram}/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$model_path" ] || { echo "run.sh: the default model is missing at $model_path (run scripts/fetch-model.sh)" >&2; exit 2; }

server_pids=()
main_port=$(free_port)
start main "$main_port" --api-key "$key" --max-model-len 2048 --kv-cache-memory 512MiB
server_pids+=("$started_pid")
queue_port=$(free_port)
start queue "$queue_port" --api-key "$key" --max-model-len 2048 --kv-cache-memory 256MiB --max-num-seqs 2 --max-num-queued-reqs 8
server_pids+=("$started_pid")
fuzz_port=$(free_port)
start fuzz "$fuzz_port" --api-key "$key" --max-model-len 256 --max-n 4 --kv-cache-memory 128MiB
server_pids+=("$started_pid")

export TRAM_TEST_API_KEY="$key" TRAM_BIN="$tram" TRAM_MODEL_PATH="$model_path" TRAM_OPENAPI="$root/docs/openapi.yaml"
export TRAM_MAIN="http://127.0.0.1:$main_port" TRAM_QUEUE="http://127.0.0.1:$queue_port" TRAM_FUZZ="http://127.0.0.1:$fuzz_port"
export TRAM_SERVER_PIDS="${server_pids[*]}" RELIABILITY_SUMMARY="$logs/summary.txt"
status=0
"$python" -m pytest -q -p no:cacheprovider "$here/test_reliability.py" "$@" || status=$?
[ -f "$logs/summary.txt" ] && cat "$logs/summary.txt"
if [ $status -ne 0 ]; then
    show_log main; show_log queue; show_log fuzz
fi
exit $status
