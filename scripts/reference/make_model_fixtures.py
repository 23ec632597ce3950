#!/usr/bin/env python3
"""Fixtures for the second and third models Tram serves: Qwen2.5-Coder-0.5B-Instruct (qwen2) and
Gemma 3 270M (gemma3), both GGUF Q4_K_M. Same schemas as make_fixtures.py's SmolLM2 fixtures.

    python3 scripts/reference/make_model_fixtures.py [--model qwen2.5,gemma3] [--only tokenizer,chat,logits]
                                                     [--gguf PATH]   (with a single --model)

Per model (Tests/Fixtures/):
* tokenizer_<tok>.json  -- {"source", "bos", "cases": [{"text", "ids", "decoded"}]}: HF `tokenizers` built from the
                           GGUF metadata by tokenizer_json.py; ids = encode(text, add_special_tokens=False)
* chat_<tok>.json       -- {"source", "template", "cases": [{"messages", "tools", "add_generation_prompt", "rendered"}]}
* logits_<model>.json   -- {"source", "model", "bos", "prompts": [...], "perplexity", "perplexity_long"} as
                           logits_smollm2.json (qwen2_ref.py / gemma3_ref.py numpy float32 forward)

Deterministic: a rerun gives byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass

# One BLAS thread: the same summation order on every run, so reruns are byte-identical (and a shared
# two-core machine keeps a core). Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_fixtures as mf  # noqa: E402  (write_json, PERPLEXITY_*, log_softmax, r5)
from make_template_fixtures import make_env  # noqa: E402

N_CONTINUATION = 16
TOP_K = 5
HEAD_CHUNK = 128  # rows projected onto the vocabulary at a time (Gemma's head is 262144 wide)


@dataclass
class Spec:
    key: str                 # --model name
    module: str              # reference forward module
    tok_fixture: str
    chat_fixture: str
    logits_fixture: str
    add_bos: bool            # prepend BOS to raw prompts / perplexity texts
    template_source: str     # where the chat template comes from
    bos_note: str


SPECS = {
    "qwen2.5": Spec(
        key="qwen2.5", module="qwen2_ref", tok_fixture="tokenizer_qwen2.5.json", chat_fixture="chat_qwen2.5.json",
        logits_fixture="logits_qwen2.5-coder-0.5b.json", add_bos=False,
        template_source="the GGUF's tokenizer.chat_template (identical to Tests/Fixtures/templates/qwen2.5-instruct.jinja)",
        bos_note=("no BOS: tokenizer.ggml.add_bos_token = false (bos_token_id 151643 <|endoftext|> is never "
                  "prepended); raw prompts and perplexity texts are encoded as they are, chat prompts start "
                  "with <|im_start|> from the template"),
    ),
    # The 1.5B (same tokenizer and template as the 0.5B): logits only, for the large-model check
    # (scripts/check-large-models.sh); f32 forward over 1.5B dequantized weights needs ~8 GB.
    "qwen2.5-1.5b": Spec(
        key="qwen2.5-1.5b", module="qwen2_ref", tok_fixture="tokenizer_qwen2.5.json", chat_fixture="chat_qwen2.5-coder-1.5b.json",
        logits_fixture="logits_qwen2.5-coder-1.5b.json", add_bos=False,
        template_source="the GGUF's tokenizer.chat_template (the 0.5B's but for {{ }} around the tool-call example)",
        bos_note="no BOS, as the 0.5B",
    ),
    "gemma3": Spec(
        key="gemma3", module="gemma3_ref", tok_fixture="tokenizer_gemma3.json", chat_fixture="chat_gemma3.json",
        logits_fixture="logits_gemma-3-270m.json", add_bos=True,
        template_source="Tests/Fixtures/templates/gemma-3.jinja (the GGUF has no chat template)",
        bos_note=("BOS prepended: tokenizer.ggml.add_bos_token = true, <bos> = id 2. Raw prompts and perplexity "
                  "texts are encode(text, add_special_tokens=True) = [2] + encode(text, add_special_tokens=False); "
                  "chat prompts get their <bos> from the template's {{ bos_token }} and are encoded with "
                  "add_special_tokens=False (so exactly one BOS)"),
    ),
}


def ref_module(spec: Spec):
    return __import__(spec.module)


def model_path(spec: Spec, override: str | None) -> str:
    return override or ref_module(spec).default_model_path()


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

COMMON_TEXTS = [
    # English
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France?",
    "HELLO World hello WORLD",
    "don't I'M you're we'll they've she'd it's",
    # digits and numbers
    "1999",
    "12345678901234567890",
    "In 1999 there were 12,345 people; by 2024, 1,000,000.",
    "3.14159 and -0.5e-10",
    "version 2.0.1-beta3 at 10:45pm",
    "0x7FFF_FFFF + 1e-5",
    # code, indentation, tabs
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n\tprint(f\"{i:02d}\")",
    "class Foo:\n    def __init__(self):\n        self.x = [1, 2, 3]\n\n    def bar(self):\n"
    "        return {k: v for k, v in self.__dict__.items()}\n",
    "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}",
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "\t\tindented with tabs\n\t\t\tand more",
    "if (a && b || !c) { return -1; } // comment",
    "<div class=\"main\"><b>Hello</b> &amp; welcome</div>",
    "{\"name\": \"Tram\", \"version\": 1, \"tags\": [\"llm\", \"swift\"], \"ok\": true}",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    # whitespace runs, newlines, CRLF
    "    four leading spaces",
    " leading space",
    "two  spaces",
    "many      spaces   here",
    "trailing spaces   ",
    " " * 40 + "x",
    "line1\nline2",
    "para1\n\npara2\n\n\n\npara3",
    "windows\r\nline\r\nendings\r\n",
    "\n",
    "\r\n",
    "mixed \t \n  whitespace \n\t end",
    # emoji
    "I love pizza 🍕!",
    "family: 👨‍👩‍👧‍👦 done",
    "flags: 🇫🇷🇯🇵",
    "thumbs 👍🏽 and ❤️",
    # scripts
    "你好，世界！",
    "日本語のテキストです。カタカナ、ひらがな。",
    "한국어 문장입니다",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир!",
    # accents: NFC and NFD
    "café naïve résumé",
    "cafe\u0301 nai\u0308ve re\u0301sume\u0301",
    "Ångström Zürich São Paulo",
    # punctuation, urls
    "Wait... what?!?! (really) [yes] {no}",
    "----====****####",
    "email@example.com https://example.org/path?q=1&r=2#frag",
    # edge cases
    "",
    " ",
    "a",
    "supercalifragilisticexpialidocious",
    "ÿ\u00a0non\u2009breaking\u200bzero width",
    "a\u2581b \u2581\u2581c",          # the SentencePiece space mark typed literally
    "<0x41> looks like a byte token",
    "bell\u0007 escape\u001b[0m",
    "<s>struck</s> text",             # llama.cpp turns any "</s>" token into a control EOG token
]

MODEL_TEXTS = {
    "qwen2.5": [
        "<|im_start|>user\nHi<|im_end|>",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n",
        "a<|endoftext|>b",
        "text <|im_end|> more",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
        "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>",
        "<|im_start",
        "<start_of_turn>user\nnot special here<end_of_turn>",
    ],
    "gemma3": [
        "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
        "<bos>hello<eos>",
        "a<end_of_turn>b",
        "text <end_of_turn> more",
        "<start_of_image> and <end_of_image>",
        "<b>bold</b> <code>x = 1</code> <table><tr><td>1</td></tr></table>",
        "<unused0><mask>",
        "<start_of_turn",
        "<|im_start|>user\nnot special here<|im_end|>",
    ],
}


def tokenizer_texts(spec: Spec) -> list[str]:
    return COMMON_TEXTS + MODEL_TEXTS[spec.key]


def make_tokenizer_fixture(spec: Spec, path: str) -> str:
    import gguf
    import tokenizers
    from tokenizer_json import load_tokenizer

    reader = gguf.GGUFReader(path)
    tok = load_tokenizer(path)
    cases = []
    for text in tokenizer_texts(spec):
        ids = tok.encode(text, add_special_tokens=False).ids
        cases.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    pre = mf.gguf_string(reader, "tokenizer.ggml.pre")
    obj = {
        "source": (
            f"HF tokenizers {tokenizers.__version__}: Tokenizer built from {os.path.basename(path)} "
            f"tokenizer.ggml.* metadata (model {mf.gguf_string(reader, 'tokenizer.ggml.model')!r}, pre {pre!r}) "
            "by scripts/reference/tokenizer_json.py; ids = encode(text, add_special_tokens=False), "
            "decoded = decode(ids, skip_special_tokens=False). "
            f"Regenerate: python3 scripts/reference/make_model_fixtures.py --model {spec.key} --only tokenizer"
        ),
        "bos": {"add_bos": spec.add_bos, "bos_id": int(mf.gguf_string(reader, "tokenizer.ggml.bos_token_id")),
                "note": spec.bos_note},
        "cases": cases,
    }
    return mf.write_json(spec.tok_fixture, obj)


# --------------------------------------------------------------------------------------------
# Chat template
# --------------------------------------------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"},
                           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "description": "Current time in a time zone.",
                 "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}},
}
U = lambda c: {"role": "user", "content": c}            # noqa: E731
A = lambda c: {"role": "assistant", "content": c}       # noqa: E731
S = lambda c: {"role": "system", "content": c}          # noqa: E731

# Every message decodes as {role, content: String}: content is "" (not null) on tool-call turns and
# never a list of parts (templates/renders.json covers null and list content).
TOOL_CALL_TURN = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "get_weather",
                                                      "arguments": {"city": "Paris", "unit": "celsius"}}}]}
TWO_TOOL_CALLS_TURN = {"role": "assistant", "content": "Let me check both.", "tool_calls": [
    {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
    {"id": "call_3", "type": "function", "function": {"name": "get_time", "arguments": {"tz": "Asia/Tokyo"}}}]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
               "content": "{\"temperature\": 21, \"sky\": \"clear\"}"}

# (messages, tools, add_generation_prompt)
CHAT_CASES = {
    "qwen2.5": [
        ([U("Hello!")], None, True),                                          # default system prompt
        ([U("Hello!")], None, False),
        ([S("You are a pirate. Answer like one."), U("What is the weather like?")], None, True),
        ([S("Be brief."), U("Name a color."), A("Blue."), U("Another one?")], None, True),
        ([U("What is 2+2?"), A("4")], None, False),
        ([U("Write a haiku.\nMake it about the sea.\n\nThanks!")], None, True),
        ([U("Traduis: « Ça va très bien » — 你好 👋🏽 مرحبا")], None, True),
        ([U("  leading and trailing spaces  "), A("Noted.\n"), U("code:\n```python\nprint('hi')\n```")], None, True),
        ([S(""), U("")], None, True),
        ([U("Tell me about <|im_end|> tokens")], None, True),
        ([U("What's the weather in Paris?")], [WEATHER_TOOL], True),         # tools, default system prompt
        ([S("You are a weather bot."), U("What's the weather in Paris?")], [WEATHER_TOOL, TIME_TOOL], True),
        ([U("What's the weather in Paris?"), TOOL_CALL_TURN, TOOL_RESULT], [WEATHER_TOOL], True),
        ([U("What's the weather in Paris?"), TOOL_CALL_TURN, TOOL_RESULT, A("It is 21 °C and clear in Paris.")],
         [WEATHER_TOOL], False),
        ([S("Use tools when needed."), U("Weather and time in Tokyo?"), TWO_TOOL_CALLS_TURN,
          {"role": "tool", "tool_call_id": "call_2", "name": "get_weather", "content": "{\"temperature\": 18}"},
          {"role": "tool", "tool_call_id": "call_3", "name": "get_time", "content": "09:30"}],
         [WEATHER_TOOL, TIME_TOOL], True),                                   # consecutive tool turns share one user block
        ([U("Hi"), A("Hello!"), S("From now on answer in French."), U("How are you?")], None, True),
    ],
    "gemma3": [
        ([U("Hello!")], None, True),
        ([U("Hello!")], None, False),
        ([S("You are a pirate. Answer like one."), U("What is the weather like?")], None, True),  # folded
        ([S("Be brief."), U("Name a color."), A("Blue."), U("Another one?")], None, True),
        ([U("What is 2+2?"), A("4")], None, False),
        ([U("What is 2+2?"), A("4"), U("And 3+3?")], None, False),
        ([U("Write a haiku.\nMake it about the sea.\n\nThanks!")], None, True),
        ([U("Traduis: « Ça va très bien » — 你好 👋🏽 مرحبا")], None, True),
        ([U("  \n  padded content is trimmed  \n\n"), A("  Noted.  \n"), U("code:\n```python\nprint('hi')\n```")],
         None, True),
        ([S("Answer in one word."), U("Capital of Italy?"), A("Rome."), U("And of Spain?")], None, True),
        ([S(""), U("Empty system prompt.")], None, True),
        ([U("Tell me about <end_of_turn> tokens")], None, True),
    ],
}


def chat_template_and_tokens(spec: Spec, path: str):
    import gguf
    reader = gguf.GGUFReader(path)
    if spec.key == "gemma3":
        import gemma3_ref
        template = gemma3_ref.chat_template()
    else:
        template = mf.gguf_string(reader, "tokenizer.chat_template")
    tokens = mf.special_token_strings(reader)
    if spec.key == "qwen2.5":
        tokens.pop("bos_token", None)  # HF Qwen2.5 has bos_token null; the template never uses it
        tokens.pop("unk_token", None)
    return template, tokens


def render(template: str, tokens: dict, messages, tools, add_generation_prompt: bool) -> str:
    ctx = {"messages": messages, "tools": tools, "documents": None, "add_generation_prompt": add_generation_prompt}
    ctx.update(tokens)
    return make_env().from_string(template).render(**ctx)


def make_chat_fixture(spec: Spec, path: str) -> str:
    import jinja2
    template, tokens = chat_template_and_tokens(spec, path)
    cases = [{"messages": m, "tools": t, "add_generation_prompt": g, "rendered": render(template, tokens, m, t, g)}
             for m, t, g in CHAT_CASES[spec.key.split('-')[0]]]
    obj = {
        "source": (
            f"jinja2 {jinja2.__version__} configured as scripts/reference/make_template_fixtures.py make_env() "
            "(transformers' ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks, loopcontrols), raise_exception, "
            "strftime_now fixed at 2024-09-26 12:00, tojson = json.dumps(ensure_ascii=False)); "
            f"render(messages, tools, documents=None, add_generation_prompt, {', '.join(f'{k}={v!r}' for k, v in tokens.items())}); "
            f"template = {spec.template_source}. Cases with tools need tools and the messages' tool_calls / "
            "tool_call_id / name fields; tool-call turns have content \"\". "
            f"Regenerate: python3 scripts/reference/make_model_fixtures.py --model {spec.key} --only chat"
        ),
        "template": template,
        "special_tokens": tokens,
        "cases": cases,
    }
    return mf.write_json(spec.chat_fixture, obj)


# --------------------------------------------------------------------------------------------
# Logits
# --------------------------------------------------------------------------------------------

# A ~600-token text (the 212-word bicycle paragraph and two more) for the long prompt and perplexity_long.
LONG_TEXT = mf.PERPLEXITY_TEXT + "\n\n" + "\n\n".join(mf.PERPLEXITY_LONG_TEXT.split("\n\n")[1:4])

RAW_PROMPTS = [
    ("capital_france", "The capital of France is"),
    ("python_code", "def is_prime(n: int) -> bool:\n    \"\"\"Return True if n is a prime number.\"\"\"\n"),
    ("fruit_list", "Here is a list of fruits:\n1. Apple\n2."),
    ("swift_code", "// Swift: the sum of an array of integers\nfunc sum(_ xs: [Int]) -> Int {\n"),
    # > 512 tokens: Gemma 3's local layers see only the last 512 positions here
    ("long_summary", LONG_TEXT + "\n\nIn one sentence, the text above is about"),
]

CHAT_PROMPTS = [
    ("chat_code", [U("Write a Python function that reverses a linked list.")]),
    ("chat_fact", [U("What is the boiling point of water at sea level in degrees Celsius?")]),
    ("chat_list", [S("You are a concise assistant."), U("List three primary colors, one per line.")]),
]


def hidden_rows_logits(ref, model, hidden, rows):
    """Logits of the selected rows of final-normed hidden states, projected HEAD_CHUNK rows at a time."""
    import numpy as np
    out = []
    for i in range(0, len(rows), HEAD_CHUNK):
        out.append(ref.project(model, hidden[rows[i:i + HEAD_CHUNK]]))
    return np.concatenate(out, axis=0)


def perplexity_entry(ref, model, ids: list[int], text: str) -> dict:
    import numpy as np
    hidden = ref.forward(model, ids, hidden_only=True)
    nll = []
    for i in range(0, len(ids) - 1, HEAD_CHUNK):
        rows = np.arange(i, min(i + HEAD_CHUNK, len(ids) - 1))
        lp = mf.log_softmax(ref.project(model, hidden[rows]).astype(np.float64))
        nll.extend(-lp[np.arange(len(rows)), np.asarray(ids)[rows + 1]])
    mean_nll = float(np.mean(nll))
    print(f"  perplexity: {len(ids)} tokens, mean NLL {mean_nll:.5f}, ppl {math.exp(mean_nll):.4f}")
    return {"text": text, "ids": ids, "mean_nll": mf.r5(mean_nll), "perplexity": mf.r5(math.exp(mean_nll))}


def window_check(ref, model, ids: list[int]) -> dict:
    """Gemma 3: teacher-forced logits with and without the sliding window (they must differ past 512)."""
    import numpy as np
    W = model.cfg.sliding_window
    rows = np.arange(len(ids))
    a = hidden_rows_logits(ref, model, ref.forward(model, ids, hidden_only=True), rows)
    b = hidden_rows_logits(ref, model, ref.forward(model, ids, hidden_only=True, window=False), rows)
    d = np.abs(a - b).max(axis=-1)
    inside, outside = d[:W], d[W:]
    top_changes = int((a[W:].argmax(-1) != b[W:].argmax(-1)).sum())
    res = {"sliding_window": W, "tokens": len(ids),
           "max_abs_diff_positions_below_window": mf.r5(inside.max()),
           "max_abs_diff_positions_from_window": mf.r5(outside.max()),
           "mean_abs_diff_last_position": mf.r5(np.abs(a[-1] - b[-1]).mean()),
           "argmax_changes_from_window": top_changes}
    print(f"  window check: {res}")
    if not (inside.max() < 1e-4 and outside.max() > 1e-2):
        raise SystemExit("window check failed: the sliding window must change logits only at positions >= W")
    return res


def encode_prompt(spec: Spec, tok, text: str, chat: bool) -> list[int]:
    return tok.encode(text, add_special_tokens=spec.add_bos and not chat).ids


def make_logits_fixture(spec: Spec, path: str) -> str:
    import numpy as np
    from tokenizer_json import load_tokenizer

    ref = ref_module(spec)
    template, tokens = chat_template_and_tokens(spec, path)
    tok = load_tokenizer(path)
    model = ref.load_gguf(path)

    prompts = [(n, False, t) for n, t in RAW_PROMPTS]
    prompts += [(n, True, render(template, tokens, m, None, True)) for n, m in CHAT_PROMPTS]
    out = []
    extra = {}
    for name, chat, text in prompts:
        prompt_ids = encode_prompt(spec, tok, text, chat)
        cont = ref.greedy(model, prompt_ids, N_CONTINUATION)  # exactly 16 tokens, EOS not a stop
        full = prompt_ids + cont[:-1]
        rows = np.arange(len(prompt_ids) - 1, len(full))
        logits = hidden_rows_logits(ref, model, ref.forward(model, full, hidden_only=True), rows)  # teacher forced
        steps = []
        for i in range(N_CONTINUATION):
            row = logits[i]
            top = np.argsort(-row, kind="stable")[:TOP_K]
            if int(top[0]) != cont[i]:
                print(f"  warning: {name} step {i}: teacher-forced argmax {int(top[0])} != cached greedy {cont[i]}")
            steps.append({"top_ids": [int(t) for t in top], "top_logits": [mf.r5(row[t]) for t in top],
                          "margin": mf.r5(row[top[0]] - row[top[1]])})
        print(f"  {name}: {len(prompt_ids)} prompt tokens -> {tok.decode(cont, skip_special_tokens=False)!r}"
              f" (min margin {min(s['margin'] for s in steps):.4f})")
        out.append({"name": name, "chat": chat, "text": text, "prompt_ids": prompt_ids,
                    "continuation_ids": cont, "steps": steps})
        if name == "long_summary" and spec.key == "gemma3":
            extra["window_check"] = window_check(ref, model, full)

    short_ids = tok.encode(mf.PERPLEXITY_TEXT, add_special_tokens=spec.add_bos).ids
    long_ids = tok.encode(LONG_TEXT, add_special_tokens=spec.add_bos).ids
    window_note = ""
    if spec.key == "gemma3":
        window_note = (" Sliding window: local layers (i % 6 != 5) attend to keys k with p - 512 < k <= p; the "
                       "long_summary prompt and perplexity_long exceed 512 tokens, and window_check compares "
                       "long_summary's teacher-forced logits with an all-global (no window) forward: identical "
                       "below position 512, different from it on.")
    obj = {
        "source": (
            f"numpy float32 reference forward (scripts/reference/{spec.module}.py): every GGUF tensor dequantized "
            "to float32 with gguf.quants.dequantize, rotate-half (NEOX) RoPE. "
            f"continuation_ids: {N_CONTINUATION} greedy tokens (argmax, KV-cached generation, EOS does not stop). "
            "steps[i]: logits at position len(prompt_ids)+i-1 of a teacher-forced forward over "
            f"prompt_ids + continuation_ids[:{N_CONTINUATION - 1}]; top_ids/top_logits = top 5 by logit, "
            "margin = top1 - top2. Chat prompts rendered with add_generation_prompt=true from "
            f"{spec.template_source}. perplexity: mean NLL of tokens 1..N-1 given their prefix, "
            "perplexity = exp(mean_nll), over the ~200-token bicycle paragraph; perplexity_long: the same over "
            "~600 tokens (that paragraph and three more)." + window_note +
            " Floats rounded to 5 decimals. "
            f"Regenerate: python3 scripts/reference/make_model_fixtures.py --model {spec.key} --only logits"
        ),
        "model": os.path.basename(path),
        "bos": {"add_bos": spec.add_bos, "note": spec.bos_note},
        "prompts": out,
        "perplexity": perplexity_entry(ref, model, short_ids, mf.PERPLEXITY_TEXT),
        "perplexity_long": perplexity_entry(ref, model, long_ids, LONG_TEXT),
    }
    obj.update(extra)
    return mf.write_json(spec.logits_fixture, obj)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

MAKERS = [("tokenizer", make_tokenizer_fixture), ("chat", make_chat_fixture), ("logits", make_logits_fixture)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5,gemma3", help="any of " + ", ".join(SPECS))
    ap.add_argument("--only", default="tokenizer,chat,logits")
    ap.add_argument("--gguf", default=None, help="model file (only with a single --model)")
    args = ap.parse_args()
    keys = args.model.split(",")
    if args.gguf and len(keys) != 1:
        sys.exit("--gguf needs exactly one --model")
    only = set(args.only.split(","))
    for key in keys:
        spec = SPECS[key]
        path = model_path(spec, args.gguf)
        if not os.path.exists(path):
            sys.exit(f"model not found: {path}")
        for name, fn in MAKERS:
            if name in only:
                t0 = time.time()
                written = fn(spec, path)
                print(f"{key} {name}: wrote {os.path.relpath(written, mf.ROOT)} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
