#!/usr/bin/env bash
# Runs the official `openai` Python client (test_openai_client.py, pytest) against live `tram serve`
# instances on the default model (smollm2-135m-instruct, see scripts/fetch-model.sh):
#   main   --api-key KEY --max-model-len 2048 --kv-cache-memory 512MiB: everything but the queue-full test
#   queue  --max-num-seqs 1 --max-num-queued-reqs 1: the 503 test, kept apart so that its tiny
#          queue cannot refuse the concurrency test's requests
#   structured  qwen2.5-coder-0.5b-instruct (`tram download` it first, as CI does): structured
#          outputs and tool calling, --enable-auto-tool-choice --tool-call-parser hermes
#          (test_structured_outputs.py; LangChain's ChatOpenAI against it: test_langchain.py)
# The shutdown tests start (and signal) servers of their own from $TRAM_BIN.
# Usage: scripts/client-tests/run.sh [TRAM_BINARY] [pytest args…]
# (binary default: $TRAM_BIN, else .build/release/tram). Needs `pip install -r requirements.txt`
# beside this file. Server logs go to $TRAM_TEST_LOGS (default: a temporary directory); a server
# that does not come up, or any failing test, prints the tail of its log. Exits nonzero on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tram="${1:-${TRAM_BIN:-.build/release/tram}}"
if [ $# -gt 0 ]; then shift; fi
python="${PYTHON:-python3}"
model="smollm2-135m-instruct"   # what `tram serve` without a MODEL argument serves
key="tram-test-$RANDOM$RANDOM"
startup_timeout="${TRAM_TEST_STARTUP_TIMEOUT:-120}"

if [ ! -x "$tram" ]; then echo "run.sh: no tram binary at '$tram' (build it, or pass its path)" >&2; exit 2; fi
logs="${TRAM_TEST_LOGS:-$(mktemp -d)}"
mkdir -p "$logs"

source "$here/../lib/servers.sh"

main_port=$(free_port)
start main "$main_port" --api-key "$key" --max-model-len 2048 --kv-cache-memory 512MiB
export TRAM_TEST_SERVER="http://127.0.0.1:$main_port"

# Without the queue server only its test fails (with a message saying why); the rest still run.
queue_port=$(free_port)
if start queue "$queue_port" --api-key "$key" --max-model-len 2048 --kv-cache-memory 512MiB --max-num-seqs 1 --max-num-queued-reqs 1; then
    export TRAM_TEST_QUEUE_SERVER="http://127.0.0.1:$queue_port"
    queue_ok=1
else
    unset TRAM_TEST_QUEUE_SERVER
    queue_ok=0
fi

structured_port=$(free_port)
if start structured "$structured_port" qwen2.5-coder-0.5b-instruct --api-key "$key" --max-model-len 4096 --kv-cache-memory 512MiB \
        --enable-auto-tool-choice --tool-call-parser hermes; then
    export TRAM_TEST_STRUCTURED_SERVER="http://127.0.0.1:$structured_port"
    structured_ok=1
else
    unset TRAM_TEST_STRUCTURED_SERVER
    structured_ok=0
fi

export TRAM_TEST_API_KEY="$key" TRAM_TEST_MODEL="$model" TRAM_BIN="$tram"
status=0
"$python" -m pytest -q -p no:cacheprovider "$here/test_openai_client.py" "$here/test_structured_outputs.py" "$here/test_langchain.py" "$@" || status=$?

if [ $status -ne 0 ]; then
    show_log main
    [ $queue_ok -eq 1 ] && show_log queue
    [ $structured_ok -eq 1 ] && show_log structured
fi
[ $queue_ok -eq 1 ] && [ $structured_ok -eq 1 ] || status=1
exit $status
