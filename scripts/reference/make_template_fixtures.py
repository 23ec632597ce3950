#!/usr/bin/env python3
"""Writes Tests/Fixtures/templates/renders.json: every committed chat template
(Tests/Fixtures/templates/*.jinja) rendered by Python jinja2 the way Hugging Face transformers
renders chat templates, over several conversations each. TramTemplate's tests must reproduce
each `rendered` byte for byte, or raise with the same `error` message.

The environment mirrors transformers' `_compile_jinja_template`:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]),
globals raise_exception / strftime_now, filter tojson = json.dumps(ensure_ascii=False, ...).
`render(messages=, tools=, documents=, add_generation_prompt=, **special tokens)` as
apply_chat_template calls it (tools=None when there are none). strftime_now reports the fixed
date FIXED_NOW so fixtures are reproducible (the Swift test passes the same instant in UTC).

Deterministic: a rerun gives a byte-identical file. Usage:
    python3 scripts/reference/make_template_fixtures.py
"""
import datetime
import json
import pathlib

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "Tests" / "Fixtures" / "templates"
FIXED_NOW = datetime.datetime(2024, 9, 26, 12, 0, 0)  # UTC; Swift: 1727352000


class RaisedError(Exception):
    pass


def make_env():
    def raise_exception(message):
        raise RaisedError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


# Special tokens each model's tokenizer passes to its template.
TOKENS = {
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "llama-3.1": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.2": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2.5-instruct": {"bos_token": None, "eos_token": "<|im_end|>"},
    "mistral-7b-instruct-v0.3": {"bos_token": "<s>", "eos_token": "</s>"},
    "gemma-2": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "gemma-3": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "phi-3.5-mini": {"bos_token": "<s>", "eos_token": "<|endoftext|>"},
    "deepseek-r1-distill-qwen": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
}

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
USER1 = {"role": "user", "content": "What is the capital of France?"}
ASSISTANT1 = {"role": "assistant", "content": "The capital of France is Paris."}
USER2 = {"role": "user", "content": "And of Italy? Answer with \"quotes\", a tab\there and ünïcödé ✓."}
PADDED = {"role": "user", "content": "  \n  spaces around  \n\n"}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number", "default": 1.5}},
                "required": ["a"],
            },
        },
    },
]
WEATHER_QUESTION = {"role": "user", "content": "What's the weather in Paris?"}
TOOL_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "call12345", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}
    ],
}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"}
TOOL_ANSWER = {"role": "assistant", "content": "It is 21 °C and clear in Paris."}


def plain_conversations():
    return [
        ("single user, prompt", [USER1], True),
        ("single user, no prompt", [USER1], False),
        ("multi-turn", [USER1, ASSISTANT1, USER2], True),
        ("multi-turn ending with assistant", [USER1, ASSISTANT1], False),
        ("padded content", [PADDED], True),
    ]


def system_conversations():
    return [
        ("system + user", [SYSTEM, USER1], True),
        ("system multi-turn", [SYSTEM, USER1, ASSISTANT1, USER2], True),
        ("system multi-turn, no prompt", [SYSTEM, USER1, ASSISTANT1, USER2], False),
    ]


def cases_for(name):
    cases = []
    if name not in ("gemma-2",):
        cases += system_conversations()
    cases += plain_conversations()
    tools = []
    if name in ("llama-3.1", "llama-3.2", "qwen2.5-instruct", "mistral-7b-instruct-v0.3"):
        tools += [
            ("tools, question", [WEATHER_QUESTION], True, TOOLS),
            ("tools, system, full tool round trip", [SYSTEM, WEATHER_QUESTION, TOOL_CALL, TOOL_RESULT, TOOL_ANSWER], True, TOOLS),
        ]
        if name.startswith("llama"):
            tools.append(("tools, only a system message raises", [SYSTEM], True, TOOLS))
            tools.append(("two tool calls raise", [WEATHER_QUESTION, {**TOOL_CALL, "tool_calls": TOOL_CALL["tool_calls"] * 2}], True, TOOLS))
    if name == "qwen2.5-instruct":
        tools.append(("tool call with string arguments", [WEATHER_QUESTION, {**TOOL_CALL, "content": "Let me check.", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}, TOOL_RESULT, TOOL_RESULT], True, TOOLS))
    if name in ("gemma-2", "gemma-3", "mistral-7b-instruct-v0.3"):
        cases.append(("bad role order raises", [USER1, USER2], True))
    if name == "gemma-2":
        cases.append(("system raises", [SYSTEM, USER1], True))
    if name == "gemma-3":
        cases.append(("content parts", [SYSTEM, {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "image"}, {"type": "text", "text": " this. "}]}], True))
    if name == "deepseek-r1-distill-qwen":
        cases.append(("assistant with think", [USER1, {"role": "assistant", "content": "<think>\nThe user asks about France.\n</think>\n\nParis."}, USER2], True))
        cases.append(("tool calls", [SYSTEM, WEATHER_QUESTION, {**TOOL_CALL, "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}, {"type": "function", "function": {"name": "add", "arguments": "{\"a\": 1}"}}]}, TOOL_RESULT, TOOL_RESULT, TOOL_ANSWER], True))
    return [(d, m, g, None) for (d, m, g) in cases] + tools


# Small templates pinning one behaviour each (whitespace control, operators, filters, tests,
# loops, macros, Python printing). Written to snippets.json with the same shape as renders.
SNIPPETS = [
    # whitespace: trim_blocks, lstrip_blocks, - and + markers, comments
    ("{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("  {% if true %}\n  x\n  {% endif %}\n", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c", {}),
    ("a\n  {{- 'b' -}}  \nc", {}),
    ("line\n    {# comment #}\nnext", {}),
    ("x {#- c -#} y", {}),
    ("  {%+ if true %}k{% endif +%}\nz", {}),
    ("{% for i in [1,2] %}\n  - {{ i }}\n{% endfor %}\n", {}),
    ("a\r\nb\r\n", {}),
    ("{{ 'x' }}\n", {}),
    ("\t{% set a = 1 %}\t{{ a }}", {}),
    ("{{ {'a': {'b': 1}} }}", {}),
    # literals and printing
    ("{{ 'a\\nb' }}|{{ \"q\\\"q\" }}|{{ 'it\\'s' }}|{{ '\\u00e9\\x41' }}", {}),
    ("{{ 1 }} {{ 1.0 }} {{ 1.5e3 }} {{ 0.1 + 0.2 }} {{ 1e-7 }} {{ 1e20 }} {{ 100000.0 }}", {}),
    ("{{ true }} {{ True }} {{ none }} {{ None }} {{ [1, 'a', none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }}", {}),
    ("{{ ('a', 1)[1] }} {{ [\"it's\", 'say \"hi\"', 'both \\' \"'] }}", {}),
    ("[{{ undefined_thing }}] {{ x is defined }} {{ d.y is defined }} [{{ d.y }}] [{{ d['y'] }}]", {"d": {"z": 1}}),
    # operators and precedence
    ("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1 + 2 * 3 }}", {}),
    ("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 'x' + 'y' }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' in 'cat' }} {{ 2 not in [1, 2] }} {{ 'k' in {'k': 1} }}", {}),
    ("{{ not true or true }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ none and 1 }} {{ [] or [] }}", {}),
    ("{{ 'yes' if 1 > 2 else 'no' }} [{{ 'only' if false }}]", {}),
    ("{{ -1|abs }} {{ -(2) ** 2 }} {{ (1, 2)[0] }}", {}),
    ("{{ [1,2,3,4,5][1:] }} {{ [1,2,3,4,5][::-1] }} {{ [1,2,3,4,5][-2:] }} {{ 'hello'[1:3] }} {{ 'hello'[::-2] }} {{ [1,2,3][:-1] }} {{ [1,2,3,4,5][4:1:-2] }}", {}),
    ("{{ m[0].content }} {{ m[-1]['role'] }} {{ m[5] is defined }} {{ m | length }}", {"m": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}),
    # loops
    ("{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for x in items %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}|{{ loop.cycle('odd', 'even') }} {% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for x in items if x != 'b' %}{{ loop.index }}{{ x }}{{ loop.length }}{% else %}empty{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"z": 1, "a": 2, "m": 3}}),
    ("{% for x in [1,2,3,4,5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("{% set total = 0 %}{% for x in [1,2] %}{% set total = total + x %}{% endfor %}{{ total }}", {}),
    ("{% set ns = namespace(total=0, seen=[]) %}{% for x in [1,2,3] %}{% set ns.total = ns.total + x %}{% endfor %}{{ ns.total }}", {}),
    ("{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("{% for i in range(3) %}{{ i }}{% endfor %} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | join(',') }}", {}),
    # set, macros, call, filter blocks
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = (3, 4) %}{{ t[1] }}{{ t | length }}", {}),
    ("{% set block %}  inside {{ 1 + 1 }}  {% endset %}[{{ block }}] {% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet(greeting='Yo', name='Cy') }}", {}),
    ("{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}body{% endcall %}", {}),
    ("{% filter upper %}hello {{ 'world' }}{% endfilter %}", {}),
    # filters
    ("{{ 'Hello World' | lower }} {{ 'hello world' | upper }} {{ 'hello wORLD-foo (bar)' | title }} {{ 'hELLO world' | capitalize }}", {}),
    ("[{{ '  x y  ' | trim }}] [{{ 'xxhixx' | trim('x') }}] {{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }}", {}),
    ("{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ 'abc' | first }} {{ [1, 2] | join }} {{ ['a', 'b'] | join(', ') }} {{ [{'n': 'x'}, {'n': 'y'}] | join('-', attribute='n') }}", {}),
    ("{{ missing | default('dflt') }} {{ '' | default('empty', true) }} {{ none | default('n') }} {{ missing | d('d') }}", {}),
    ("{{ 'abc' | length }} {{ [1,2] | count }} {{ {'a': 1} | length }} {{ 'ünï' | length }}", {}),
    ("{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 3 | float }} {{ 5 | string }} {{ [1] | string }}", {}),
    ("{{ 'abc' | list }} {{ {'b': 1, 'a': 2} | list }} {% for k, v in {'b': 1, 'a': 2} | items %}{{ k }}{{ v }}{% endfor %} {% for k, v in {'b': 1, 'A': 2, 'c': 0} | dictsort %}{{ k }}{{ v }},{% endfor %} {% for p in {'b': 1, 'a': 2} | dictsort(by='value', reverse=true) %}{{ p[0] }}{% endfor %}", {}),
    ("{{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }}", {}),
    ("{{ users | map(attribute='name') | list }} {{ users | selectattr('admin') | map(attribute='name') | join(',') }} {{ users | rejectattr('admin') | list | length }} {{ users | selectattr('name', 'equalto', 'bo') | list }}", {"users": [{"name": "al", "admin": True}, {"name": "bo", "admin": False}, {"name": "cy", "admin": True}]}),
    ("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ ['a', 'b'] | map('upper') | list }} {{ [1, 2, 3] | select('divisibleby', 3) | list }}", {}),
    ("{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ [1, 2] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ -3 | abs }}", {}),
    ("{{ '<a href=\"x\">&\\'</a>' | e }} {{ '<b>' | safe }}", {}),
    ("{{ 'line1\\nline2\\n\\nline4' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}", {}),
    ("{{ data | tojson }}\n{{ data | tojson(indent=2) }}\n{{ 'é\"\\n' | tojson }} {{ [] | tojson(indent=2) }} {{ {} | tojson }} {{ 1.0 | tojson }}", {"data": {"b": [1, 2.5, None, True], "a": "x\ty", "nested": {"z": {}, "e": []}}}),
    # tests
    ("{{ 1 is number }} {{ 1.5 is number }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ [] is sequence }}", {}),
    ("{{ none is none }} {{ 0 is none }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 2 is even }} {{ 3 is odd }} {{ 3 is not even }} {{ 6 is divisibleby 3 }} {{ x is undefined }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }}", {}),
    ("{{ 'a' is eq 'a' }} {{ 1 is lt 2 }} {{ 2 is ge 3 }} {{ 'b' is in 'abc' }} {{ 'abc' is lower }} {{ 'ABC' is upper }}", {}),
    # methods
    ("[{{ '  pad  '.strip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '  l'.lstrip() }}] [{{ 'r  '.rstrip() }}] {{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(' ', 1) }}", {}),
    ("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('lo', 'x')) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ \"they're here\".title() }} {{ 'aXa'.replace('a', 'b') }} {{ 'hello world'.capitalize() }}", {}),
    ("{{ '{} and {}'.format('x', 1) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='N') }} {{ '-'.join(['a', 'b']) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.count('bc') }}", {}),
    ("{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'fallback') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d['a'] }} {{ d.a }}", {"d": {"a": 1, "b": 2}}),
    ("{{ m.content is string }} {{ m['tool_calls'] is defined }} {{ m.tool_calls }} {{ 'tool_calls' in m }}", {"m": {"role": "user", "content": "x"}}),
    ("{{ raise_exception('custom failure: ' ~ 42) }}", {}),
    ("{{ strftime_now('%d %b %Y') }} | {{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j') }}", {}),
]


def write_snippets(env):
    out = []
    for source, context in SNIPPETS:
        rendered, error = None, None
        try:
            rendered = env.from_string(source).render(**context)
        except RaisedError as e:
            error = str(e)
        out.append({"template": source, "context": context, "rendered": rendered, "error": error})
    (TEMPLATES / "snippets.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(out)} snippets")


def main():
    env = make_env()
    out = []
    for path in sorted(TEMPLATES.glob("*.jinja")):
        name = path.stem
        template = env.from_string(path.read_text())
        for description, messages, add_generation_prompt, tools in cases_for(name):
            context = {"messages": messages, "tools": tools, "documents": None, "add_generation_prompt": add_generation_prompt}
            context.update(TOKENS[name])
            rendered, error = None, None
            try:
                rendered = template.render(**context)
            except RaisedError as e:
                error = str(e)
            except Exception as e:  # a case the template itself cannot render: leave it out
                print(f"skipped {name} / {description}: {type(e).__name__}: {e}")
                continue
            out.append({"template": name, "description": description, "context": context, "rendered": rendered, "error": error})
    (TEMPLATES / "renders.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(out)} cases, jinja2 {jinja2.__version__}")
    write_snippets(env)


if __name__ == "__main__":
    main()
