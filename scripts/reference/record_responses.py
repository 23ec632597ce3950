"""Records the JSON shapes of Tram's responses, for the typed-response tests.

Run against a live `tram serve` (default model) built before the response types changed:
    python3 scripts/reference/record_responses.py http://127.0.0.1:8000 Tests/Fixtures/responses
Each request's body (or its SSE chunks, one JSON object each) is saved as <name>.json.
`TypedResponseTests` checks that today's server answers the same requests with the same shape:
the same keys at every level and the same JSON types (ids, times and texts may differ).
"""
import json
import sys
import urllib.request

REQUESTS = {
    "completion": ("/v1/completions", {"prompt": "The capital of France is", "max_tokens": 4, "temperature": 0}),
    "completion_logprobs_echo": ("/v1/completions", {"prompt": "Hello there", "max_tokens": 3, "temperature": 0, "logprobs": 2, "echo": True}),
    "completion_n2_prompt_logprobs": ("/v1/completions", {"prompt": ["One", "Two"], "max_tokens": 2, "temperature": 0, "n": 2, "prompt_logprobs": 1}),
    "completion_stop": ("/v1/completions", {"prompt": "1, 2, 3,", "max_tokens": 10, "temperature": 0, "stop": [" 5"]}),
    "completion_stream": ("/v1/completions", {"prompt": "Once upon", "max_tokens": 3, "temperature": 0, "stream": True,
                                              "stream_options": {"include_usage": True}, "logprobs": 1}),
    "chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}),
    "chat_logprobs": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "temperature": 0,
                                               "logprobs": True, "top_logprobs": 2, "prompt_logprobs": 1}),
    "chat_stream": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "temperature": 0, "n": 2,
                                             "stream": True, "stream_options": {"include_usage": True}, "logprobs": True}),
    "error_bad_request": ("/v1/completions", {"prompt": "a", "temperature": 9}),
}


def main(base, out):
    for name, (path, body) in REQUESTS.items():
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
        if body.get("stream"):
            value = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
        else:
            value = json.loads(text)
        with open(f"{out}/{name}.json", "w") as f:
            json.dump({"path": path, "request": body, "response": value}, f, indent=1)
            f.write("\n")
        print("recorded", name)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
