# Shared by scripts/client-tests/run.sh and scripts/reliability/run.sh: start `tram serve`
# instances in the background, wait for /health, print their logs, stop them on exit.
# Needs: $tram (the binary), $python, $logs (a directory), $startup_timeout (seconds).
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

show_log() {  # name
    echo "---- last 40 lines of $logs/$1.log ----" >&2
    tail -n 40 "$logs/$1.log" >&2 || true
    echo "----" >&2
}

# start NAME PORT [flags…]: starts a server in the background, logging to $logs/NAME.log, and
# waits until GET /health answers 200. Returns nonzero (after printing its log) if the server
# exits or does not answer within $startup_timeout seconds. The pid is in $started_pid.
start() {
    local name="$1" port="$2"
    shift 2
    "$tram" serve --host 127.0.0.1 --port "$port" "$@" >"$logs/$name.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    started_pid=$pid
    local deadline=$((SECONDS + startup_timeout))
    until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$(basename "$0"): the $name server (tram serve --port $port $*) exited during start-up" >&2
            show_log "$name"
            return 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "$(basename "$0"): the $name server did not answer /health within ${startup_timeout}s" >&2
            show_log "$name"
            return 1
        fi
        sleep 0.2
    done
    echo "$(basename "$0"): $name server up on port $port (pid $pid, log $logs/$name.log)"
}
