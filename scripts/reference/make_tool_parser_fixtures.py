#!/usr/bin/env python3
"""Writes Tests/Fixtures/tool_parsers.json: model outputs in the formats of vLLM's tool-call
parsers (llama3_json, mistral, pythonic) with the calls Python itself reads out of them — `ast`
for the pythonic lists (as vLLM's pythonic parser: keyword arguments, literal values), `json` for
the JSON forms — so TramTools' parsers are checked against an independent reader. `arguments`
is the JSON value of a call's arguments (compared as values: number spellings may differ);
`content` is the text outside the calls (null when there is none).

Deterministic: a rerun gives a byte-identical file. Usage:
    python3 scripts/reference/make_tool_parser_fixtures.py
"""
import ast
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "tool_parsers.json"

PYTHONIC = [
    "[get_weather(city='Paris', unit=\"celsius\")]",
    "[get_weather(city='San Francisco'), get_time(zone='UTC', twelve_hour=False)]",
    "[get_time()]",
    " [f(a=1, b=-2.5, c=1e3, d=.5, e=1_000, f=None, g=True)]",
    "[f(items=[1, 2, 3], pair=(4, 'x'), nested={'k': [1, {'deep': None}], \"q\": 'it\\'s'},)]",
    "[search(query='say \"hi\"\\n\\tand \\\\ go', emoji='caf\\xe9 \\u00e9 \u00fc\u4e2d')]",
    "[f(x=[], y={}, z=())]",
    "[a_b1(value = 'spaced' , other= 2 ) , c()]",
    "[f(s='unknown \\q escape')]",
]
PYTHONIC_TEXT = [  # not a list of calls: all content
    "The answer is 42.",
    "[1, 2, 3]",
    "[Note] this is prose",
]

LLAMA3 = [
    '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}}',
    '<|python_tag|>{"name": "get_weather", "arguments": {"city": "Paris"}}',
    '{"name": "a", "parameters": {"x": [1, {"y": 2}]}}; {"name": "b", "parameters": {}}',
    '  {"name": "escape", "parameters": {"s": "a \\"quoted\\" }; brace"}}',
]
LLAMA3_TEXT = ["Paris is the capital of France.", '{"not": "a call"}']

MISTRAL = [
    '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]',
    '[TOOL_CALLS] [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {"s": "]}"}}]',
    '[TOOL_CALLS]get_weather{"city": "Paris", "unit": "celsius"}',
    '[TOOL_CALLS]a{"x": {"y": [1, 2]}}[TOOL_CALLS]b{}',
]
MISTRAL_WITH_CONTENT = ['Let me look that up.[TOOL_CALLS][{"name": "f", "arguments": {"q": "x"}}]']
MISTRAL_TEXT = ["No tools needed: the answer is 4."]


def literal(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        return {k.value: literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(v) for v in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -literal(node.operand)
    raise ValueError(ast.dump(node))


def pythonic(text):
    tree = ast.parse(text.strip()).body[0].value
    assert isinstance(tree, ast.List) and all(isinstance(e, ast.Call) for e in tree.elts)
    return [{"name": e.func.id, "arguments": {k.arg: literal(k.value) for k in e.keywords}} for e in tree.elts]


def llama3(text):
    text = text.strip()
    if text.startswith("<|python_tag|>"):
        text = text[len("<|python_tag|>"):]
    decoder, calls, i = json.JSONDecoder(), [], 0
    while i < len(text):
        while i < len(text) and text[i] in " \n\t;":
            i += 1
        if i == len(text):
            break
        obj, i = decoder.raw_decode(text, i)
        calls.append({"name": obj["name"], "arguments": obj.get("arguments", obj.get("parameters"))})
    return calls


def mistral(text):
    body = text.split("[TOOL_CALLS]", 1)[1].strip()
    if body.startswith("["):
        return [{"name": c["name"], "arguments": c["arguments"]} for c in json.loads(body)]
    decoder, calls = json.JSONDecoder(), []
    for part in text.split("[TOOL_CALLS]")[1:]:
        name, brace = part[:part.index("{")], part.index("{")
        arguments, _ = decoder.raw_decode(part, brace)
        calls.append({"name": name, "arguments": arguments})
    return calls


def main():
    cases = []
    for t in PYTHONIC:
        cases.append({"parser": "pythonic", "output": t, "content": None, "calls": pythonic(t)})
    for t in PYTHONIC_TEXT:
        cases.append({"parser": "pythonic", "output": t, "content": t, "calls": []})
    for t in LLAMA3:
        cases.append({"parser": "llama3_json", "output": t, "content": None, "calls": llama3(t)})
    for t in LLAMA3_TEXT:
        cases.append({"parser": "llama3_json", "output": t, "content": t, "calls": []})
    for t in MISTRAL:
        cases.append({"parser": "mistral", "output": t, "content": None, "calls": mistral(t)})
    for t in MISTRAL_WITH_CONTENT:
        cases.append({"parser": "mistral", "output": t, "content": t.split("[TOOL_CALLS]")[0], "calls": mistral(t)})
    for t in MISTRAL_TEXT:
        cases.append({"parser": "mistral", "output": t, "content": t, "calls": []})
    OUT.write_text(json.dumps({"source": "scripts/reference/make_tool_parser_fixtures.py (Python ast and json)",
                               "cases": cases}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
