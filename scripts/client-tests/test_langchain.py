"""LangChain (langchain-openai's ChatOpenAI, as an agent framework calls an OpenAI-compatible
server) against live `tram serve` on Qwen2.5-Coder-0.5B-Instruct: `with_structured_output` with
its default method (`json_schema`) and with `json_mode`, and `bind_tools` with a required and a
named tool choice, then a tool-result round trip. Started by run.sh (the "structured" server,
$TRAM_TEST_STRUCTURED_SERVER), like test_structured_outputs.py.
"""
import json
import os

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

SERVER = os.environ.get("TRAM_TEST_STRUCTURED_SERVER", "").rstrip("/")
API_KEY = os.environ.get("TRAM_TEST_API_KEY", "tram-test-key")
MODEL = "qwen2.5-coder-0.5b-instruct"


def chat(**kwargs):
    assert SERVER, "TRAM_TEST_STRUCTURED_SERVER is not set: run through scripts/client-tests/run.sh"
    return ChatOpenAI(base_url=SERVER + "/v1", api_key=API_KEY, model=MODEL, temperature=0, max_tokens=160,
                      max_retries=0, timeout=300, **kwargs)


class City(BaseModel):
    """A city and the country it is in."""
    name: str = Field(description="the city's name")
    country: str
    population_millions: float = Field(ge=0)


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """The current weather in a city."""
    return json.dumps({"city": city, "temperature": 21, "unit": unit})


@tool
def get_time(zone: str) -> str:
    """The current time in a time zone."""
    return "12:00"


def test_with_structured_output_json_schema():
    # LangChain's default method is json_schema: response_format {"type": "json_schema", strict}.
    structured = chat().with_structured_output(City)
    city = structured.invoke("Describe Paris.")
    assert isinstance(city, City)
    assert city.name and city.country and city.population_millions >= 0


def test_with_structured_output_json_schema_include_raw():
    structured = chat().with_structured_output(City, method="json_schema", include_raw=True)
    out = structured.invoke("Describe Paris.")
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], City)
    City.model_validate_json(out["raw"].content)


def test_with_structured_output_json_mode():
    structured = chat().with_structured_output(City, method="json_mode")
    # json_mode only promises JSON (response_format json_object); the prompt names the fields and
    # LangChain validates the object against the model class.
    out = structured.invoke("Reply with a JSON object with keys name, country and population_millions for Berlin.")
    assert isinstance(out, City)
    assert out.name == "Berlin"


@pytest.mark.parametrize("tool_choice", ["required", "get_weather"])
def test_bind_tools_calls_a_tool(tool_choice):
    model = chat().bind_tools([get_weather, get_time], tool_choice=tool_choice)
    message = model.invoke("What is the weather in Paris?")
    assert message.tool_calls, message
    call = message.tool_calls[0]
    assert call["name"] in ("get_weather", "get_time")
    if tool_choice == "get_weather":
        assert call["name"] == "get_weather"
    assert isinstance(call["args"], dict)
    assert call["id"]
    assert message.response_metadata.get("finish_reason") in ("tool_calls", "stop")


def test_tool_result_round_trip():
    model = chat().bind_tools([get_weather], tool_choice="get_weather")
    question = HumanMessage("What is the weather in Paris?")
    message = model.invoke([question])
    assert message.tool_calls
    call = message.tool_calls[0]
    result = ToolMessage(content=get_weather.invoke(call["args"]), tool_call_id=call["id"])
    answer = chat().bind_tools([get_weather], tool_choice="none").invoke([question, message, result])
    assert isinstance(answer.content, str) and answer.content.strip()
    assert not answer.tool_calls


def test_streamed_tool_call_chunks_reassemble():
    model = chat().bind_tools([get_weather], tool_choice="get_weather")
    plain = model.invoke("Weather in Rome?")
    merged = None
    for chunk in model.stream("Weather in Rome?"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None and merged.tool_calls
    assert merged.tool_calls[0]["name"] == plain.tool_calls[0]["name"] == "get_weather"
    assert merged.tool_calls[0]["args"] == plain.tool_calls[0]["args"]
