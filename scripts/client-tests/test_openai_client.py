"""The official `openai` Python client against a live `tram serve` on the real model.

Run through `scripts/client-tests/run.sh`, which starts the servers and sets:
  TRAM_TEST_SERVER        root URL of a server started with --api-key and a small --max-model-len
  TRAM_TEST_API_KEY       its key
  TRAM_TEST_QUEUE_SERVER  root URL of a server with --max-num-seqs 1 --max-num-queued-reqs 1
                          (same key), for the queue-full test
  TRAM_TEST_MODEL         the served model name (default smollm2-135m-instruct)

Expectations follow OpenAI's API and vLLM's OpenAI-compatible server (its extras: `stop_reason`,
`ignore_eos`, `max_model_len`, /tokenize, /detokenize). Generations are short and mostly greedy,
so the whole file runs in well under a minute on two cores.
"""

import json
import os
import signal
import socket
import subprocess
import time
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

SERVER = os.environ.get("TRAM_TEST_SERVER", "http://127.0.0.1:8000").rstrip("/")
API_KEY = os.environ.get("TRAM_TEST_API_KEY", "tram-test-key")
QUEUE_SERVER = os.environ.get("TRAM_TEST_QUEUE_SERVER", "").rstrip("/")
MODEL = os.environ.get("TRAM_TEST_MODEL", "smollm2-135m-instruct")

client = openai.OpenAI(base_url=SERVER + "/v1", api_key=API_KEY, max_retries=0, timeout=120)

STORY = "Once upon a time, in a small village by the sea,"
QUESTION = [{"role": "user", "content": "Write a short story about a dragon who learns to cook."}]


# MARK: - Helpers


def http(method, path, body=None, key=API_KEY, server=SERVER):
    """A raw request, for vLLM's non-OpenAI endpoints and for headers the client always sends.
    Returns (status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if key is not None:
        request.add_header("authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def tokenize(prompt=None, messages=None):
    body = {"model": MODEL}
    if prompt is not None:
        body["prompt"] = prompt
    if messages is not None:
        body["messages"] = messages
    status, out = http("POST", "/tokenize", body)
    assert status == 200, out
    return out["tokens"]


def complete(prompt, **kwargs):
    kwargs.setdefault("temperature", 0)
    kwargs.setdefault("max_tokens", 12)
    return client.completions.create(model=MODEL, prompt=prompt, **kwargs)


def chat(messages, **kwargs):
    kwargs.setdefault("temperature", 0)
    kwargs.setdefault("max_tokens", 12)
    return client.chat.completions.create(model=MODEL, messages=messages, **kwargs)


def extra(obj, name):
    """A field that is not in the client's OpenAI types (vLLM's extras such as stop_reason)."""
    return obj.to_dict().get(name)


# MARK: - Models, tokenizer, health


def test_models_list_has_served_name_and_max_model_len():
    models = client.models.list().data
    ids = [m.id for m in models]
    assert MODEL in ids
    served = next(m for m in models if m.id == MODEL)
    assert served.object == "model"
    assert isinstance(extra(served, "max_model_len"), int) and extra(served, "max_model_len") > 0


def test_tokenize_detokenize_round_trip_and_match_usage():
    text = "The capital of France is"
    status, out = http("POST", "/tokenize", {"model": MODEL, "prompt": text, "add_special_tokens": False})
    assert status == 200, out
    assert out["count"] == len(out["tokens"]) > 0
    assert out["max_model_len"] == max_model_len()
    status, back = http("POST", "/detokenize", {"model": MODEL, "tokens": out["tokens"]})
    assert status == 200, back
    assert back["prompt"] == text
    # The ids /tokenize gives with its defaults are the ones the completion endpoint counts.
    ids = tokenize(text)
    assert complete(text, max_tokens=1).usage.prompt_tokens == len(ids)


def test_health_needs_no_key():
    status, _ = http("GET", "/health", key=None)
    assert status == 200


def max_model_len():
    return next(extra(m, "max_model_len") for m in client.models.list().data if m.id == MODEL)


# MARK: - Completions


def test_completion_string_prompt():
    r = complete(STORY, max_tokens=8)
    assert r.object == "text_completion"
    assert r.model == MODEL
    assert r.id
    assert len(r.choices) == 1 and r.choices[0].index == 0
    assert r.choices[0].text
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens == len(tokenize(STORY))
    assert 0 < r.usage.completion_tokens <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_completion_list_of_prompts_matches_single_prompts():
    prompts = [STORY, "The three primary colors are", "def fibonacci(n):"]
    r = complete(prompts, max_tokens=8)
    assert [c.index for c in r.choices] == [0, 1, 2]
    for prompt, choice in zip(prompts, r.choices):
        assert choice.text == complete(prompt, max_tokens=8).choices[0].text
    assert r.usage.prompt_tokens == sum(len(tokenize(p)) for p in prompts)


def test_completion_token_id_prompt_matches_text_prompt():
    ids = tokenize(STORY)
    by_ids = complete(ids, max_tokens=8)
    by_text = complete(STORY, max_tokens=8)
    assert by_ids.choices[0].text == by_text.choices[0].text
    assert by_ids.usage.prompt_tokens == len(ids)
    # A list of token-id lists is a batch, like a list of strings.
    both = complete([ids, ids], max_tokens=8)
    assert [c.text for c in both.choices] == [by_text.choices[0].text] * 2


def test_completion_stream_equals_non_stream_with_usage():
    expected = complete(STORY, max_tokens=10, extra_body={"ignore_eos": True})
    chunks = list(complete(STORY, max_tokens=10, extra_body={"ignore_eos": True}, stream=True,
                           stream_options={"include_usage": True}))
    assert len(chunks) >= 2
    *text_chunks, last = chunks
    # The usage chunk comes last, with no choices; the chunks before it carry no usage.
    assert last.choices == []
    assert last.usage.completion_tokens == 10 == expected.usage.completion_tokens
    assert last.usage.prompt_tokens == expected.usage.prompt_tokens
    assert last.usage.total_tokens == last.usage.prompt_tokens + 10
    assert all(c.usage is None for c in text_chunks)
    assert all(len(c.choices) == 1 and c.choices[0].index == 0 for c in text_chunks)
    assert all(c.id == last.id for c in chunks)
    assert "".join(c.choices[0].text for c in text_chunks) == expected.choices[0].text
    assert text_chunks[-1].choices[0].finish_reason == "length"
    assert all(c.choices[0].finish_reason is None for c in text_chunks[:-1])


def test_completion_stream_without_usage_has_no_usage_chunk():
    chunks = list(complete(STORY, max_tokens=4, stream=True))
    assert chunks and all(len(c.choices) == 1 for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_completion_max_tokens_finishes_with_length():
    r = complete("Count to one hundred: 1, 2, 3,", max_tokens=5, extra_body={"ignore_eos": True})
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 5


def test_completion_stop_string():
    full = complete(STORY, max_tokens=24, extra_body={"ignore_eos": True}).choices[0].text
    words = full.split()
    assert len(words) >= 4, full
    stop = words[3]
    r = complete(STORY, max_tokens=24, stop=[stop, "zzzz-never"], extra_body={"ignore_eos": True})
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert extra(choice, "stop_reason") == stop
    assert stop not in choice.text
    assert choice.text == full[: full.index(stop)]


def test_completion_n_2():
    r = complete(STORY, n=2, temperature=1, seed=7, max_tokens=6, extra_body={"ignore_eos": True})
    assert sorted(c.index for c in r.choices) == [0, 1]
    assert all(c.text for c in r.choices)
    assert r.usage.completion_tokens == 12


def test_completion_seed_reproducible():
    def sample(seed):
        return complete(STORY, temperature=1, seed=seed, max_tokens=16).choices[0].text

    first = sample(1234)
    assert sample(1234) == first
    others = {sample(s) for s in (1, 2, 3)}
    assert others - {first}, "three other seeds all gave the text of seed 1234"


def test_completion_echo():
    prompt = "The three primary colors are"
    plain = complete(prompt, max_tokens=4).choices[0].text
    r = complete(prompt, max_tokens=4, echo=True)
    assert r.choices[0].text.startswith(prompt)
    assert r.choices[0].text == prompt + plain
    assert r.usage.prompt_tokens == len(tokenize(prompt))
    assert r.usage.completion_tokens == 4 or r.choices[0].finish_reason == "stop"


def test_completion_logprobs():
    r = complete(STORY, max_tokens=8, logprobs=2)
    choice = r.choices[0]
    assert choice.finish_reason == "length", choice.text
    lp = choice.logprobs
    assert lp is not None
    n = r.usage.completion_tokens
    assert n == 8
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n
    # Tokens are text pieces of the completion; offsets advance by each piece's length.
    assert "".join(lp.tokens) == choice.text
    for i in range(n - 1):
        assert lp.text_offset[i + 1] - lp.text_offset[i] == len(lp.tokens[i])
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert logprob <= 0
        # The top 2, plus the sampled token if it is not among them.
        assert 2 <= len(top) <= 3, top
        assert all(v <= 0 for v in top.values())
        # Greedy: the chosen token is the most likely one.
        assert token in top
        assert top[token] == pytest.approx(logprob, abs=1e-4)
        assert logprob == pytest.approx(max(top.values()), abs=1e-4)


# MARK: - Chat


def test_chat_system_and_user():
    system = [{"role": "system", "content": "You are a helpful assistant who answers briefly."}]
    r = chat(system + QUESTION, max_tokens=8)
    assert r.object == "chat.completion"
    assert r.model == MODEL
    assert len(r.choices) == 1
    message = r.choices[0].message
    assert message.role == "assistant"
    assert message.content
    assert r.choices[0].finish_reason in ("stop", "length")
    ids = tokenize(messages=system + QUESTION)
    assert r.usage.prompt_tokens == len(ids)
    # Both messages reach the model through its template (SmolLM2's adds a default system
    # message when there is none, so compare texts rather than lengths).
    status, rendered = http("POST", "/detokenize", {"model": MODEL, "tokens": ids})
    assert status == 200, rendered
    assert system[0]["content"] in rendered["prompt"]
    assert QUESTION[0]["content"] in rendered["prompt"]


def test_chat_list_of_parts_content_equals_joined_text():
    parts = [{"role": "user", "content": [{"type": "text", "text": "Name a fruit"},
                                          {"type": "text", "text": "that is yellow."}]}]
    joined = [{"role": "user", "content": "Name a fruit\nthat is yellow."}]
    a = chat(parts, max_tokens=8)
    b = chat(joined, max_tokens=8)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.prompt_tokens == b.usage.prompt_tokens


def test_chat_stream_equals_non_stream_with_usage():
    expected = chat(QUESTION, max_tokens=10)
    chunks = list(chat(QUESTION, max_tokens=10, stream=True, stream_options={"include_usage": True}))
    *text_chunks, last = chunks
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert text_chunks[0].choices[0].delta.role == "assistant"
    assert last.choices == []
    assert last.usage.completion_tokens == expected.usage.completion_tokens
    assert last.usage.prompt_tokens == expected.usage.prompt_tokens
    assert all(c.usage is None for c in text_chunks)
    text = "".join(c.choices[0].delta.content or "" for c in text_chunks)
    assert text == expected.choices[0].message.content
    assert text_chunks[-1].choices[0].finish_reason == expected.choices[0].finish_reason


def test_chat_max_tokens_finishes_with_length():
    for field in ("max_tokens", "max_completion_tokens"):
        r = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, **{field: 5})
        assert r.choices[0].finish_reason == "length", field
        assert r.usage.completion_tokens == 5, field


def test_chat_stop_string():
    full = chat(QUESTION, max_tokens=24).choices[0].message.content
    words = full.split()
    assert len(words) >= 4, full
    stop = words[3]
    r = chat(QUESTION, max_tokens=24, stop=stop)
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert extra(choice, "stop_reason") == stop
    assert stop not in choice.message.content
    assert choice.message.content == full[: full.index(stop)]


def test_chat_n_2():
    r = chat(QUESTION, n=2, temperature=1, seed=11, max_tokens=6)
    assert sorted(c.index for c in r.choices) == [0, 1]
    assert all(c.message.role == "assistant" and c.message.content for c in r.choices)


def test_chat_seed_reproducible():
    def sample(seed):
        return chat(QUESTION, temperature=1, seed=seed, max_tokens=16).choices[0].message.content

    first = sample(99)
    assert sample(99) == first
    assert {sample(s) for s in (1, 2, 3)} - {first}, "three other seeds all gave the text of seed 99"


def test_chat_logprobs():
    r = chat(QUESTION, max_tokens=8, logprobs=True, top_logprobs=2)
    choice = r.choices[0]
    assert choice.finish_reason == "length", choice.message.content
    assert choice.logprobs is not None and choice.logprobs.content is not None
    content = choice.logprobs.content
    assert len(content) == r.usage.completion_tokens == 8
    assert "".join(c.token for c in content) == choice.message.content
    for c in content:
        assert c.logprob <= 0
        assert isinstance(c.bytes, list) and all(0 <= b < 256 for b in c.bytes)
        if c.token.isascii():
            assert bytes(c.bytes) == c.token.encode()
        assert len(c.top_logprobs) == 2
        assert all(t.logprob <= 0 for t in c.top_logprobs)
        assert c.top_logprobs[0].logprob >= c.top_logprobs[1].logprob
        # Greedy: the chosen token is the top one.
        assert c.token == c.top_logprobs[0].token
        assert c.logprob == pytest.approx(c.top_logprobs[0].logprob, abs=1e-4)


# MARK: - Concurrency


def test_16_concurrent_greedy_requests_equal_sequential():
    topics = ["apples", "rivers", "trains", "music", "winter", "robots", "bread", "the moon",
              "chess", "gardens", "volcanoes", "libraries", "bicycles", "owls", "glass", "storms"]

    def run(i):
        if i % 2 == 0:
            r = complete(f"A fact about {topics[i]}:", max_tokens=16, extra_body={"ignore_eos": True})
            return r.choices[0].text
        r = chat([{"role": "user", "content": f"Tell me about {topics[i]}."}], max_tokens=16)
        return r.choices[0].message.content

    start = threading.Barrier(16)

    def run_together(i):
        start.wait(timeout=30)
        return run(i)

    with ThreadPoolExecutor(16) as pool:
        concurrent = list(pool.map(run_together, range(16)))
    sequential = [run(i) for i in range(16)]
    for i, (a, b) in enumerate(zip(concurrent, sequential)):
        assert a == b, f"request {i}: concurrent {a!r} != sequential {b!r}"


# MARK: - Errors


@pytest.mark.parametrize("field,value", [("temperature", 3), ("top_p", 0), ("n", 0), ("max_tokens", -1)])
def test_invalid_values_are_400(field, value):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=MODEL, prompt="Hi", **{"max_tokens": 4, field: value})
    assert e.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=QUESTION, **{"max_tokens": 4, field: value})


def test_too_long_prompt_is_400():
    prompt = "hello " * (max_model_len() + 16)
    with pytest.raises(openai.BadRequestError) as e:
        complete(prompt, max_tokens=1)
    assert "maximum context length" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        chat([{"role": "user", "content": prompt}], max_tokens=1)
    assert "maximum context length" in e.value.message
    # A short prompt whose max_tokens does not fit is refused too.
    with pytest.raises(openai.BadRequestError) as e:
        complete("Hi", max_tokens=max_model_len() + 1)
    assert "maximum context length" in e.value.message


def test_unknown_model_is_404():
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="no-such-model", prompt="Hi", max_tokens=1)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=QUESTION, max_tokens=1)


def test_wrong_or_missing_api_key_is_401():
    wrong = openai.OpenAI(base_url=SERVER + "/v1", api_key="wrong-" + API_KEY, max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError):
        wrong.completions.create(model=MODEL, prompt="Hi", max_tokens=1)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=1)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    # No Authorization header at all (the client always sends one).
    status, body = http("POST", "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 1}, key=None)
    assert status == 401, body
    assert "error" in body


def test_full_queue_is_503():
    assert QUEUE_SERVER, ("TRAM_TEST_QUEUE_SERVER is not set: run.sh sets it to a server started with "
                          "--max-num-seqs 1 --max-num-queued-reqs 1 (see run.sh's output if it did not start)")
    queued = openai.OpenAI(base_url=QUEUE_SERVER + "/v1", api_key=API_KEY, max_retries=0, timeout=120)
    count = 6
    start = threading.Barrier(count)

    def long_request(_):
        start.wait(timeout=30)
        try:
            return queued.completions.create(model=MODEL, prompt=STORY, temperature=0, max_tokens=96,
                                             extra_body={"ignore_eos": True})
        except openai.APIStatusError as e:
            return e

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(long_request, range(count)))
    refused = [r for r in results if isinstance(r, openai.APIStatusError)]
    served = [r for r in results if not isinstance(r, openai.APIStatusError)]
    # One runs, one waits; the others find the queue full.
    assert all(isinstance(e, openai.InternalServerError) and e.status_code == 503 for e in refused), refused
    assert refused, "no request was refused with 503"
    assert served, "every request was refused"
    assert all(r.usage.completion_tokens == 96 for r in served)
    # Once the queue drains the server takes requests again.
    r = queued.completions.create(model=MODEL, prompt=STORY, temperature=0, max_tokens=2)
    assert r.usage.completion_tokens == 2


# MARK: - Shutdown (servers of their own, signalled)


def start_own_server(*flags):
    """Starts `tram serve` from $TRAM_BIN on a free port; returns (process, base URL)."""
    binary = os.environ.get("TRAM_BIN")
    assert binary, "TRAM_BIN is not set: run.sh sets it to the tram binary under test"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "1024",
                                "--kv-cache-memory", "256MiB", *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start: " + process.stdout.read())


def stream_in_background(base, max_tokens):
    """Starts a streamed completion in a thread; returns (first-chunk event, result dict, thread)."""
    own = openai.OpenAI(base_url=base + "/v1", api_key="none", max_retries=0, timeout=120)
    first = threading.Event()
    result = {}

    def run():
        text, finish = "", None
        try:
            for chunk in own.completions.create(model=MODEL, prompt=STORY, temperature=0, max_tokens=max_tokens,
                                                stream=True, extra_body={"ignore_eos": True}):
                if chunk.choices:
                    text += chunk.choices[0].text
                    finish = chunk.choices[0].finish_reason or finish
                first.set()
            result["text"], result["finish"] = text, finish
        except Exception as e:  # noqa: BLE001 — the test inspects what happened
            result["error"] = e
            first.set()

    thread = threading.Thread(target=run)
    thread.start()
    return first, result, thread


def test_sigterm_drains_in_flight_requests_then_exits():
    process, base = start_own_server("--shutdown-timeout", "60")
    try:
        # Long enough to be still streaming while the drain is checked (SmolLM2 decodes 48 tokens
        # in about 0.25 s on a 2-core Zen 5), short enough to finish well inside the timeout.
        first, result, thread = stream_in_background(base, 400)
        assert first.wait(60), "no first chunk"
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Draining: unhealthy, and new work is refused with 503.
        status, _ = http("GET", "/health", key=None, server=base)
        assert status == 503
        status, body = http("POST", "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 1}, key=None, server=base)
        assert status == 503, body
        thread.join(120)
        assert "error" not in result, result.get("error")
        assert result["finish"] == "length"
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_shutdown_timeout_aborts_what_is_left():
    process, base = start_own_server("--shutdown-timeout", "0.5")
    try:
        first, result, thread = stream_in_background(base, 900)
        assert first.wait(60), "no first chunk"
        started = time.time()
        process.send_signal(signal.SIGINT)
        thread.join(60)
        # The stream ends with an error event instead of 900 tokens, and the server exits.
        assert isinstance(result.get("error"), openai.APIError), result
        assert process.wait(30) == 0
        assert time.time() - started < 15
    finally:
        if process.poll() is None:
            process.kill()


def scrape(server=SERVER):
    with urllib.request.urlopen(server + "/metrics", timeout=30) as r:
        assert r.headers["content-type"].startswith("text/plain")
        lines = r.read().decode().splitlines()
    values = {}
    for line in lines:
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_count_what_was_served():
    label = f'model_name="{MODEL}"'
    before = scrape()
    r = complete(STORY, max_tokens=5, extra_body={"ignore_eos": True})
    after = scrape()
    key = f'tram:request_success_total{{finished_reason="length",{label}}}'
    assert after[key] >= before.get(key, 0) + 1
    generated = f"tram:generation_tokens_total{{{label}}}"
    assert after[generated] >= before[generated] + r.usage.completion_tokens
    for gauge in ("num_requests_running", "num_requests_waiting", "kv_cache_usage_perc"):
        assert f"tram:{gauge}{{{label}}}" in after
    for histogram in ("time_to_first_token_seconds", "e2e_request_latency_seconds", "inter_token_latency_seconds"):
        assert after[f"tram:{histogram}_count{{{label}}}"] >= 1
