"""Structured outputs through the official `openai` client against a live `tram serve` on
Qwen2.5-Coder-0.5B-Instruct (started by run.sh as the "structured" server, $TRAM_TEST_STRUCTURED_SERVER).

Every output under a schema must validate with `jsonschema`; regex outputs must full-match;
choices must be one of the list; streaming must equal non-streaming (greedy); bad schemas are 400s.
"""

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import openai
import pytest
from pydantic import BaseModel

SERVER = os.environ.get("TRAM_TEST_STRUCTURED_SERVER", "").rstrip("/")
API_KEY = os.environ.get("TRAM_TEST_API_KEY", "tram-test-key")
MODEL = "qwen2.5-coder-0.5b-instruct"

client = openai.OpenAI(base_url=(SERVER or "http://127.0.0.1:9") + "/v1", api_key=API_KEY, max_retries=0, timeout=300)


def require_server():
    assert SERVER, "TRAM_TEST_STRUCTURED_SERVER is not set: run through scripts/client-tests/run.sh"


def ask(content, max_tokens=160, **kwargs):
    require_server()
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], max_tokens=max_tokens, temperature=0, **kwargs)


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "pattern": "^[a-z]+@[a-z]+\\.com$"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["admin", "user", "guest"]}, "minItems": 1, "maxItems": 3},
        "address": {"$ref": "#/$defs/address"},
        "id": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 8}]},
    },
    "required": ["name", "age", "email", "tags", "address", "id"],
    "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                          "required": ["city", "zip"]}},
}


def schema_format(schema, name="answer"):
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def test_json_object_is_json():
    r = ask("Describe a cat as a JSON object with a few fields.", response_format={"type": "json_object"})
    value = json.loads(r.choices[0].message.content)
    assert isinstance(value, dict)


def test_json_schema_nested_validates():
    r = ask("Make up a user record for Ann.", max_tokens=200, response_format=schema_format(PERSON))
    choice = r.choices[0]
    assert choice.finish_reason == "stop", choice
    jsonschema.validate(json.loads(choice.message.content), PERSON)


def test_parse_with_pydantic():
    class City(BaseModel):
        name: str
        population: int
        country: str

    require_server()
    r = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "Tell me about Paris."}], max_tokens=100, temperature=0,
        response_format=City)
    city = r.choices[0].message.parsed
    assert isinstance(city, City) and city.name


def test_regex_choice_grammar():
    r = ask("What is the phone number?", max_tokens=20, extra_body={"structured_outputs": {"regex": r"\d{3}-\d{4}"}})
    assert re.fullmatch(r"\d{3}-\d{4}", r.choices[0].message.content)
    r = ask("Is the sky blue?", max_tokens=10, extra_body={"structured_outputs": {"choice": ["yes", "no", "maybe"]}})
    assert r.choices[0].message.content in ["yes", "no", "maybe"]
    grammar = 'root ::= "The answer is " num "."\nnum ::= [1-9] [0-9]?'
    r = ask("What is 6 times 7?", max_tokens=20, extra_body={"structured_outputs": {"grammar": grammar}})
    assert re.fullmatch(r"The answer is [1-9][0-9]?\.", r.choices[0].message.content)


def test_streaming_equals_non_streaming():
    fmt = schema_format(PERSON)
    whole = ask("Make up a user record for Bob.", max_tokens=200, response_format=fmt).choices[0].message.content
    stream = ask("Make up a user record for Bob.", max_tokens=200, response_format=fmt, stream=True)
    pieces = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert pieces == whole
    jsonschema.validate(json.loads(whole), PERSON)


def test_n2_and_completions():
    require_server()
    r = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "A user, please."}], max_tokens=200, temperature=0.8, seed=3, n=2,
        response_format=schema_format(PERSON))
    assert len(r.choices) == 2
    for c in r.choices:
        if c.finish_reason == "stop":
            jsonschema.validate(json.loads(c.message.content), PERSON)
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3}
    r = client.completions.create(model=MODEL, prompt="Three fruits as a JSON list:", max_tokens=40, temperature=0,
                                  extra_body={"response_format": schema_format(schema)})
    jsonschema.validate(json.loads(r.choices[0].text), schema)


def test_concurrent_requests_with_different_schemas():
    schemas = [
        {"type": "object", "properties": {f"field{i}": {"type": "integer", "minimum": i, "maximum": i + 10}}, "required": [f"field{i}"]}
        for i in range(8)
    ]

    def run(schema):
        r = ask("Give me the JSON.", max_tokens=40, response_format=schema_format(schema))
        return schema, r.choices[0].message.content

    with ThreadPoolExecutor(8) as pool:
        for schema, text in pool.map(run, schemas):
            jsonschema.validate(json.loads(text), schema)


def test_bad_schemas_are_400s():
    require_server()
    for fmt, needle in [
        (schema_format({"type": "strin"}), "unknown type"),
        (schema_format({"type": "object", "properties": {"a": {"type": "integer"}}, "not": {"required": ["a"]}}), "not"),
        ({"type": "json_schema", "json_schema": {"name": "x"}}, "schema"),
        ({"type": "xml"}, "response_format.type"),
    ]:
        with pytest.raises(openai.BadRequestError) as e:
            ask("hi", max_tokens=5, response_format=fmt)
        assert needle in str(e.value), str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        ask("hi", max_tokens=5, extra_body={"structured_outputs": {"regex": "(a"}})
    assert "regex" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        ask("hi", max_tokens=5, extra_body={"structured_outputs": {"regex": "a", "choice": ["a"]}})
    assert "one kind" in str(e.value)


# MARK: - Tool calling (the server runs --enable-auto-tool-choice --tool-call-parser hermes)

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                       "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "Get the current time in a timezone",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}}},
]
WEATHER = [{"role": "user", "content": "What is the weather like in Paris today?"}]


def chat(messages, **kwargs):
    require_server()
    return client.chat.completions.create(model=MODEL, messages=messages, max_tokens=120, temperature=0, tools=TOOLS, **kwargs)


def check_call(call, names=("get_weather", "get_time")):
    assert call.type == "function" and call.id.startswith("chatcmpl-tool-")
    assert call.function.name in names
    schema = next(t["function"]["parameters"] for t in TOOLS if t["function"]["name"] == call.function.name)
    jsonschema.validate(json.loads(call.function.arguments), schema)


def test_tool_choice_named_and_required():
    r = chat(WEATHER, tool_choice={"type": "function", "function": {"name": "get_weather"}})
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert len(choice.message.tool_calls) == 1 and choice.message.tool_calls[0].function.name == "get_weather"
    check_call(choice.message.tool_calls[0], ["get_weather"])
    r = chat(WEATHER, tool_choice="required")
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    for call in choice.message.tool_calls:
        check_call(call)
    r = chat(WEATHER, tool_choice="required", parallel_tool_calls=False)
    assert len(r.choices[0].message.tool_calls) == 1


def test_tool_choice_none_and_auto_answer():
    r = chat(WEATHER, tool_choice="none")
    assert r.choices[0].message.content and not r.choices[0].message.tool_calls
    r = chat(WEATHER, tool_choice="auto")
    message = r.choices[0].message
    # Whatever the model chose: no call markup in the content, and any call is well formed.
    assert "<tool_call>" not in (message.content or "")
    for call in message.tool_calls or []:
        check_call(call)


def reassemble(stream):
    calls, content, finish = {}, "", None
    for chunk in stream:
        for c in chunk.choices:
            content += c.delta.content or ""
            for d in c.delta.tool_calls or []:
                entry = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                if d.id:
                    assert entry["id"] is None, "a call's id comes once"
                    entry["id"] = d.id
                if d.function and d.function.name:
                    entry["name"] = d.function.name
                if d.function and d.function.arguments:
                    assert entry["name"], "the name comes before the arguments"
                    entry["arguments"] += d.function.arguments
            finish = c.finish_reason or finish
    return content, [calls[i] for i in sorted(calls)], finish


@pytest.mark.parametrize("tool_choice", ["required", {"type": "function", "function": {"name": "get_time"}}])
def test_streamed_tool_calls_reassemble_to_the_plain_ones(tool_choice):
    plain = chat(WEATHER, tool_choice=tool_choice).choices[0]
    content, calls, finish = reassemble(chat(WEATHER, tool_choice=tool_choice, stream=True))
    assert finish == plain.finish_reason == "tool_calls"
    assert [(c["name"], c["arguments"]) for c in calls] == [(c.function.name, c.function.arguments) for c in plain.message.tool_calls]
    assert "<tool_call>" not in content and all(c["id"] for c in calls)


def test_tool_result_round_trip():
    first = chat(WEATHER, tool_choice={"type": "function", "function": {"name": "get_weather"}}).choices[0].message
    call = first.tool_calls[0]
    messages = WEATHER + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 21, "condition": "sunny"})},
    ]
    r = chat(messages, tool_choice="none")
    assert r.choices[0].finish_reason in ("stop", "length") and r.choices[0].message.content


def test_tool_errors_are_400s():
    require_server()
    with pytest.raises(openai.BadRequestError) as e:
        chat(WEATHER, tool_choice={"type": "function", "function": {"name": "nope"}})
    assert "nope" in str(e.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=WEATHER, max_tokens=5, tools=[{"type": "function"}])
    with pytest.raises(openai.BadRequestError):
        chat(WEATHER, tool_choice="required", response_format={"type": "json_object"})
