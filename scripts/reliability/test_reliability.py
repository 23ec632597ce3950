"""The reliability suite: hostile and careless clients against live `tram serve` processes.

Run by scripts/reliability/run.sh (which starts the servers and exports their addresses). Every
request goes to 127.0.0.1; every loop is bounded in count and time. The last test asserts that
each server process is still alive and that every engine gauge is back to 0.
"""
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter

import pytest

KEY = os.environ["TRAM_TEST_API_KEY"]
MAIN = os.environ["TRAM_MAIN"]      # --api-key, --max-model-len 2048
QUEUE = os.environ["TRAM_QUEUE"]    # --max-num-seqs 2 --max-num-queued-reqs 8
FUZZ = os.environ["TRAM_FUZZ"]      # --max-model-len 256 --max-n 4, for schemathesis
TRAM_BIN = os.environ["TRAM_BIN"]
MODEL_PATH = os.environ["TRAM_MODEL_PATH"]
SPEC = os.environ["TRAM_OPENAPI"]
PIDS = [int(p) for p in os.environ["TRAM_SERVER_PIDS"].split()]
AUTH = {"Authorization": f"Bearer {KEY}"}

STATS = Counter()
NOTES = []
_lock = threading.Lock()


def count(key, n=1):
    with _lock:
        STATS[key] += n


@pytest.fixture(scope="session", autouse=True)
def summary():
    yield
    lines = ["reliability suite:"]
    lines += [f"  {k}: {v}" for k, v in sorted(STATS.items())]
    lines += [f"  {n}" for n in NOTES]
    text = "\n".join(lines) + "\n"
    path = os.environ.get("RELIABILITY_SUMMARY")
    if path:
        with open(path, "w") as f:
            f.write(text)
    print("\n" + text)


def hostport(base):
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def request(base, method, path, body=None, headers=None, timeout=60):
    """One HTTP request with the path sent exactly as given; returns (status, headers, bytes)."""
    host, port = hostport(base)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        count("requests sent")
        count(f"status {r.status}")
        return r.status, dict(r.getheaders()), payload
    finally:
        conn.close()


def error_of(payload):
    obj = json.loads(payload)
    assert set(obj) == {"error"}, obj
    e = obj["error"]
    assert set(e) == {"message", "type", "param", "code"}, e
    return e


def raw_post(base, path, body, headers=None):
    """Sends a POST on a bare socket and returns the socket (the caller hangs up when it likes)."""
    host, port = hostport(base)
    s = socket.create_connection((host, port), timeout=30)
    data = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    count("requests sent")
    return s


def gauges(base):
    status, _, payload = request(base, "GET", "/metrics")
    assert status == 200
    values = {}
    for line in payload.decode().splitlines():
        m = re.match(r"tram:(num_requests_running|num_requests_waiting|kv_cache_usage_perc)\{[^}]*\} (\S+)", line)
        if m:
            values[m.group(1)] = float(m.group(2))
    assert set(values) == {"num_requests_running", "num_requests_waiting", "kv_cache_usage_perc"}, values
    return values


def wait_idle(base, seconds):
    """Seconds until every gauge is 0 (fails after `seconds`)."""
    start = time.monotonic()
    while True:
        g = gauges(base)
        if all(v == 0 for v in g.values()):
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, f"gauges still {g} after {seconds} s"
        time.sleep(0.02)


def completion(base, body, timeout=60):
    return request(base, "POST", "/v1/completions", body, AUTH, timeout=timeout)


# 1. One request used to kill the server: n sized an array before any check.
@pytest.mark.parametrize("n", [10**12, 2**62, 100000, 129])
@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_huge_n_is_refused_and_the_server_lives(n, endpoint):
    if endpoint == "completions":
        path, body = "/v1/completions", {"prompt": "Hello", "max_tokens": 2, "n": n}
    else:
        path, body = "/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "n": n}
    status, _, payload = request(MAIN, "POST", path, body, AUTH)
    assert status == 400
    assert error_of(payload)["param"] == "n"
    assert request(MAIN, "GET", "/health")[0] == 200


# 2. Abandoned fan-out: the largest request the limits allow, given up after a second, is
#    aborted as a whole and the engine is free again at once (aborts once took minutes).
def test_abandoned_fanout_frees_the_engine():
    def abandon(i):
        s = raw_post(MAIN, "/v1/completions", {"prompt": [f"Story {i}", f"Poem {i}"], "n": 128, "max_tokens": 64, "ignore_eos": True}, AUTH)
        time.sleep(1.0)
        s.close()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(abandon, range(8)))
    took = wait_idle(MAIN, 10)
    NOTES.append(f"8 abandoned requests of 2 prompts x n=128 (2,048 sequences): gauges 0 after {took:.2f} s")
    start = time.monotonic()
    status, _, _ = completion(MAIN, {"prompt": "Hello", "max_tokens": 4}, timeout=20)
    assert status == 200
    count("fan-out sequences abandoned", 8 * 256)
    NOTES.append(f"a follow-up request answered in {time.monotonic() - start:.2f} s")


# 3. Every spelling of a /v1 path needs the key.
V1_SPELLINGS = ["/v1/models", "//v1/models", "///v1/models", "/./v1/models", "/x/../v1/models", "/v1//models", "/v1/./models"]


@pytest.mark.parametrize("path", V1_SPELLINGS)
def test_every_spelling_of_models_needs_the_key(path):
    assert request(MAIN, "GET", path)[0] == 401
    assert request(MAIN, "GET", path, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert request(MAIN, "GET", path, headers=AUTH)[0] == 200


@pytest.mark.parametrize("path", ["/v1/completions", "//v1/completions", "///v1/completions", "/v1//completions",
                                  "//v1/chat/completions", "/v1/chat//completions", "/./v1/chat/completions"])
def test_every_spelling_of_generation_needs_the_key(path):
    body = {"prompt": "Hi", "max_tokens": 1} if path.endswith("/completions") and "chat" not in path else \
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
    status, _, payload = request(MAIN, "POST", path, body)
    assert status == 401 and error_of(payload)["type"] == "AuthenticationError"
    assert request(MAIN, "POST", path, body, AUTH)[0] == 200


@pytest.mark.parametrize("path", ["/v1%2Fmodels", "/v1%2fcompletions", "/%2E%2E/v1/models", "/v1/%2e/models", "/v1%5Cmodels", "/../v1/models"])
def test_encoded_separators_and_climbing_are_refused(path):
    status, _, payload = request(MAIN, "GET", path)
    assert status == 400
    error_of(payload)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_v1_get_405_not_the_resource(method):
    status, headers, _ = request(MAIN, method, "/v1/models")
    assert status == 405
    assert headers.get("Allow") == "GET"


def test_unknown_routes_are_openai_404s():
    status, _, payload = request(MAIN, "GET", "/v1/nothing", headers=AUTH)
    assert status == 404 and error_of(payload)["code"] == 404


# 4. A disconnect storm: 200 streams that hang up at random moments (queued, prefilling,
#    decoding) leave nothing behind.
def test_disconnect_storm():
    rng = random.Random(7)
    delays = [rng.uniform(0, 0.5) for _ in range(200)]

    def storm(i):
        s = raw_post(MAIN, "/v1/completions", {"prompt": f"Tell me story number {i}", "max_tokens": 200, "ignore_eos": True, "stream": True}, AUTH)
        time.sleep(delays[i])
        s.close()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        list(pool.map(storm, range(200)))
    took = wait_idle(MAIN, 10)
    count("streams hung up", 200)
    NOTES.append(f"200-stream disconnect storm: gauges 0 after {took:.2f} s")


# 5. An overload burst against a queue limit: only 200s and OpenAI-shaped 503s.
def test_overload_burst_against_the_queue_limit():
    def one(i):
        status, _, payload = request(QUEUE, "POST", "/v1/completions", {"prompt": f"Count to {i}", "max_tokens": 4}, AUTH, timeout=120)
        if status == 503:
            e = error_of(payload)
            assert e["type"] == "ServiceUnavailableError" and e["code"] == 503
        return status
    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        statuses = Counter(pool.map(one, range(300)))
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] >= 10 and statuses[503] >= 1, statuses
    NOTES.append(f"300 concurrent requests against --max-num-queued-reqs 8: {dict(statuses)}")
    wait_idle(QUEUE, 10)


# 6. Streams that hang up while queued leave the queue at once (they were noticed only when
#    their first token failed to write: after the running requests finished).
def test_queued_streams_that_hang_up_leave_the_queue():
    busy = [raw_post(QUEUE, "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 1500, "ignore_eos": True, "stream": True}, AUTH) for _ in range(2)]
    try:
        for s in busy:
            assert s.recv(64).startswith(b"HTTP/1.1 200")
        queued = [raw_post(QUEUE, "/v1/completions", {"prompt": "Hello there", "max_tokens": 16, "stream": True}, AUTH) for _ in range(5)]
        deadline = time.monotonic() + 10
        while gauges(QUEUE)["num_requests_waiting"] < 5:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for s in queued:
            s.close()
        start = time.monotonic()
        while gauges(QUEUE)["num_requests_waiting"] > 0:
            assert time.monotonic() - start < 2, "hung-up queued streams still waiting"
            time.sleep(0.01)
        took = time.monotonic() - start
        assert gauges(QUEUE)["num_requests_running"] == 2
        NOTES.append(f"5 queued streams hung up: num_requests_waiting 0 after {took * 1000:.0f} ms, the 2 running streams untouched")
    finally:
        for s in busy:
            s.close()
    wait_idle(QUEUE, 10)


# 7. Fairness under a prefill flood: 20 clients send 1,500-token prompts and leave after 50 ms;
#    a short interactive request must not wait behind their prefill.
def test_short_request_is_not_stuck_behind_abandoned_prefill():
    chat = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 16, "temperature": 0}

    def timed():
        start = time.monotonic()
        status, _, _ = request(MAIN, "POST", "/v1/chat/completions", chat, AUTH, timeout=60)
        assert status == 200
        return time.monotonic() - start
    idle = sorted(timed() for _ in range(3))[1]
    conns = []
    for i in range(20):
        ids = [100 + (i * 7 + k) % 5000 for k in range(1500)]
        conns.append(raw_post(MAIN, "/v1/completions", {"prompt": ids, "max_tokens": 16, "stream": i % 2 == 0}, AUTH))
    time.sleep(0.05)
    for s in conns:
        s.close()
    flooded = timed()
    count("long prompts abandoned", 20)
    NOTES.append(f"short chat request: {idle * 1000:.0f} ms idle, {flooded * 1000:.0f} ms right after 20 abandoned 1,500-token prompts")
    assert flooded < idle + 3.0, (idle, flooded)
    wait_idle(MAIN, 10)


# 8. Malformed bodies: always a 4xx with OpenAI's error shape, never a 5xx or a dead server.
BAD_BODIES = [
    b"", b"{", b"[]", b"null", b"42", b'"x"', b'{"prompt": }', b"\xff\xfe{}", b'{"prompt": "\xc3\x28"}',
    b'{"prompt": "a", "n": 8.5}', b'{"prompt": "a", "seed": 18446744073709551615}', b'{"prompt": "a", "max_tokens": -1}',
    b'{"prompt": "a", "max_tokens": 1e400}', b'{"prompt": "a", "temperature": "hot"}', b'{"prompt": "a", "stop": [1, 2]}',
    b'{"prompt": "a", "logit_bias": {"x": 1}}', b'{"prompt": "a", "logit_bias": {"99999999": 1}}', b'{"prompt": []}',
    b'{"prompt": [[]]}', b'{"prompt": [-1]}', b'{"prompt": [99999999]}', b'{"prompt": "a", "stream_options": 3}',
    b'{"prompt": "a", "top_p": 0}', b'{"prompt": "a", "min_tokens": 10, "max_tokens": 2}',
    b'{"prompt": "' + b"a" * 20000 + b'", "max_tokens": 2000}',
    b"[" * 100000 + b"]" * 100000,
    b'{"prompt": ' + b"[" * 5000 + b"1" + b"]" * 5000 + b"}",
    b'{"messages": 5}', b'{"messages": [{"content": "x"}]}', b'{"messages": [{"role": "user", "content": 7}]}',
]


@pytest.mark.parametrize("index", range(len(BAD_BODIES)))
@pytest.mark.parametrize("path", ["/v1/completions", "/v1/chat/completions"])
def test_malformed_bodies_get_400(path, index):
    status, _, payload = request(MAIN, "POST", path, BAD_BODIES[index], AUTH)
    count("malformed bodies")
    assert 400 <= status < 500, (status, payload[:300])
    error_of(payload)


# 9. Corrupt model files: a clear error and a non-zero exit (never a signal), or a server that
#    starts and answers; never a hang.
def corrupt_variants(source, directory):
    data = open(source, "rb").read()
    rng = random.Random(11)
    variants = {
        "empty": b"",
        "magic": b"XXXX" + data[4:],
        "version": data[:4] + (99).to_bytes(4, "little") + data[8:],
        "tensor-count": data[:8] + (2**40).to_bytes(8, "little") + data[16:],
        "kv-count": data[:16] + (2**40).to_bytes(8, "little") + data[24:],
        "truncated-header": data[:200],
        "truncated-metadata": data[:4096],
        "truncated-tensors": data[: len(data) // 2],
    }
    for k in range(8):
        flipped = bytearray(data[: 1 << 20])
        for _ in range(16):
            flipped[rng.randrange(24, len(flipped))] ^= 1 << rng.randrange(8)
        variants[f"flips-{k}"] = bytes(flipped) + data[1 << 20:]
    paths = {}
    for name, content in variants.items():
        p = os.path.join(directory, f"{name}.gguf")
        with open(p, "wb") as f:
            f.write(content)
        paths[name] = p
    return paths


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_corrupt_model_starts():
    directory = tempfile.mkdtemp(prefix="tram-corrupt-")
    outcomes = Counter()
    try:
        for name, path in corrupt_variants(MODEL_PATH, directory).items():
            port = free_port()
            proc = subprocess.Popen([TRAM_BIN, "serve", path, "--port", str(port), "--kv-cache-memory", "64MiB"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            count("faults injected")
            started = False
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    if request(f"http://127.0.0.1:{port}", "GET", "/health", timeout=2)[0] == 200:
                        started = True
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            if started:
                outcomes["started and served"] += 1
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=30)
                continue
            assert proc.poll() is not None, f"{name}: neither failed nor started within 60 s"
            output = proc.stdout.read().decode(errors="replace")
            assert proc.returncode > 0, f"{name}: died with signal {-proc.returncode}: {output[-500:]}"
            assert path in output or "error" in output.lower(), f"{name}: unclear error: {output[-500:]}"
            outcomes["refused with an error"] += 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    NOTES.append(f"corrupt model starts: {dict(outcomes)}")


# 10. A fuzz smoke: schemathesis against docs/openapi.yaml on a server with small limits.
def test_fuzz_smoke_against_the_openapi_description():
    cmd = ["schemathesis", "run", SPEC, "--url", FUZZ, "-H", f"Authorization: Bearer {KEY}",
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance",
           "--max-examples", os.environ.get("TRAM_FUZZ_EXAMPLES", "40"), "--seed", "1", "--workers", "2",
           "--request-timeout", "60", "--no-color",
           "--suppress-health-check", "all"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    print(proc.stdout[-4000:])
    generated = re.search(r"(\d+) generated", proc.stdout)
    cases = int(generated.group(1)) if generated else 0
    count("fuzzed bodies (schemathesis test cases)", cases)
    summary = [l.strip() for l in proc.stdout.splitlines() if re.search(r"\d+ generated|\d+ passed|failed", l)]
    NOTES.append("schemathesis: " + " | ".join(summary[-3:]))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert cases > 0


# Last: every server process is alive and every engine gauge is back to 0.
def test_zz_servers_alive_and_idle():
    for pid in PIDS:
        os.kill(pid, 0)
    for base in (MAIN, QUEUE, FUZZ):
        assert request(base, "GET", "/health")[0] == 200
        wait_idle(base, 15)
