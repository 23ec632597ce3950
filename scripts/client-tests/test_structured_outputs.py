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
