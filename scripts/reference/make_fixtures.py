#!/usr/bin/env python3
"""Write the reference fixtures under Tests/Fixtures/ (deterministic, rerunnable).

    python3 scripts/reference/make_fixtures.py [--model PATH] [--only tokenizer,chat,logits]

* Tests/Fixtures/tokenizer_smollm2.json  -- encode/decode cases (HF `tokenizers` built from GGUF metadata)
* Tests/Fixtures/chat_smollm2.json       -- ChatML renderings of the GGUF chat template (jinja2, HF-style)
* Tests/Fixtures/logits_smollm2.json     -- greedy continuations, top-5 logits per step, perplexity
                                            (numpy float32 reference forward, llama_ref.py)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> str:
    cache = os.environ.get("TRAM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tram")
    return os.path.join(cache, "models", "smollm2-135m-instruct", MODEL_FILE)


def write_json(name: str, obj) -> str:
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

TOKENIZER_TEXTS = [
    # English
    "Hello world",
    "Hello world 2024",
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France?",
    "Once upon a time, in a land far, far away, there lived a king.",
    "HELLO World hello WORLD",
    # contractions
    "don't",
    "I'M here, you're there, we'll see, they've gone, she'd know, it's fine",
    "DON'T STOP, I'm sure he'll",
    # digits, years, numbers
    "1999",
    "3.14159",
    "12345678",
    "In 1999 there were 12,345 people; by 2024, 1,000,000.",
    "version 2.0.1-beta3 at 10:45pm",
    "0x7FFF_FFFF + 1e-5",
    # code
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n\tprint(f\"{i:02d}\")",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)",
    "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}",
    "let xs: [Int] = [1, 2, 3].map { $0 * 2 }",
    "{\"name\": \"Tram\", \"version\": 1, \"tags\": [\"llm\", \"swift\"], \"ok\": true, \"x\": null}",
    "if (a && b || !c) { return -1; } // comment",
    "<div class=\"main\">Hello &amp; welcome</div>",
    # whitespace runs
    "two  spaces",
    "many      spaces   here",
    "tab\tseparated\tvalues",
    "\t\tindented with tabs",
    "trailing spaces   ",
    "   leading spaces",
    "line1\nline2",
    "para1\n\npara2",
    "windows\r\nline\r\nendings",
    "\n",
    "\n\n\n",
    "mixed \t \n  whitespace \n\t end",
    # emoji
    "I love pizza 🍕!",
    "family: 👨‍👩‍👧‍👦 done",
    "flags: 🇫🇷🇯🇵🇺🇸",
    "thumbs 👍🏽 and ❤️",
    # CJK, Arabic, Hindi, others
    "你好，世界！",
    "日本語のテキストです。カタカナ、ひらがな。",
    "한국어 문장입니다",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир!",
    "Γειά σου Κόσμε",
    # accents: NFC and NFD forms
    "café naïve résumé",               # NFC
    "cafe\u0301 nai\u0308ve re\u0301sume\u0301",  # NFD
    "Ångström Zürich São Paulo",
    # punctuation runs
    "Wait... what?!?! (really) [yes] {no} <maybe>",
    "----====****####",
    "!!!???...,,,;;;:::",
    "\"quoted\" 'single' `back`",
    "email@example.com https://example.org/path?q=1&r=2#frag",
    # special tokens inside text
    "<|im_start|>user\nHi<|im_end|>",
    "a<|endoftext|>b",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "text <|im_end|> more",
    "<|im_start|><|im_end|>",
    "<repo_name>tram<file_sep>main.swift",
    "<|im_start", # incomplete special token: plain text
    # edge cases
    "",
    " ",
    "a",
    "  ",
    "supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "antidisestablishmentarianism " * 3,
    "ÿ\u00a0non\u2009breaking\u200bzero width",
]


def make_tokenizer_fixture(model_path: str) -> str:
    from tokenizer_json import load_tokenizer
    import tokenizers

    tok = load_tokenizer(model_path)
    cases = []
    for text in TOKENIZER_TEXTS:
        enc = tok.encode(text, add_special_tokens=True)
        cases.append({
            "text": text,
            "ids": enc.ids,
            "decoded": tok.decode(enc.ids, skip_special_tokens=False),
        })
    obj = {
        "source": (
            f"HF tokenizers {tokenizers.__version__}: Tokenizer built from {MODEL_FILE} tokenizer.ggml.* metadata "
            "by scripts/reference/tokenizer_json.py (BPE, Digits(individual)+ByteLevel pre-tokenizer, ByteLevel "
            "decoder, CONTROL tokens as special added tokens); ids = encode(text, add_special_tokens=True) "
            "(no BOS for this model); decoded = decode(ids, skip_special_tokens=False). "
            "Regenerate: python3 scripts/reference/make_fixtures.py --only tokenizer"
        ),
        "cases": cases,
    }
    return write_json("tokenizer_smollm2.json", obj)


# --------------------------------------------------------------------------------------------
# Chat template
# --------------------------------------------------------------------------------------------

def gguf_string(reader, key: str):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def hf_template_env():
    """A jinja2 environment configured the way transformers' apply_chat_template does."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def special_token_strings(reader) -> dict:
    tokens = gguf_string(reader, "tokenizer.ggml.tokens")
    out = {}
    for name, key in [("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                      ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")]:
        i = gguf_string(reader, f"tokenizer.ggml.{key}")
        if i is not None:
            out[name] = tokens[int(i)]
    return out


def render_chat(template: str, messages, add_generation_prompt: bool, specials: dict) -> str:
    tmpl = hf_template_env().from_string(template)
    return tmpl.render(messages=messages, add_generation_prompt=add_generation_prompt, **specials)


CHAT_CASES = [
    ([{"role": "user", "content": "Hello!"}], True),
    ([{"role": "user", "content": "Hello!"}], False),
    ([{"role": "system", "content": "You are a pirate. Answer like one."},
      {"role": "user", "content": "What is the weather like?"}], True),
    ([{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Name a color."},
      {"role": "assistant", "content": "Blue."},
      {"role": "user", "content": "Another one?"}], True),
    ([{"role": "user", "content": "What is 2+2?"},
      {"role": "assistant", "content": "4"}], False),
    ([{"role": "user", "content": "Write a haiku.\nMake it about the sea.\n\nThanks!"}], True),
    ([{"role": "user", "content": "Traduis: « Ça va très bien » — 你好 👋🏽 مرحبا"}], True),
    ([{"role": "user", "content": "  leading and trailing spaces  "},
      {"role": "assistant", "content": "Noted.\n"},
      {"role": "user", "content": "code:\n```python\nprint('hi')\n```"}], True),
    ([{"role": "system", "content": ""}, {"role": "user", "content": ""}], True),
    ([{"role": "user", "content": "Tell me about <|im_end|> tokens"}], True),
    ([{"role": "assistant", "content": "I speak first."},
      {"role": "user", "content": "OK."}], False),
]


def make_chat_fixture(model_path: str) -> str:
    import gguf
    import jinja2
    reader = gguf.GGUFReader(model_path)
    template = gguf_string(reader, "tokenizer.chat_template")
    specials = special_token_strings(reader)
    cases = []
    for messages, agp in CHAT_CASES:
        cases.append({"messages": messages, "add_generation_prompt": agp,
                      "rendered": render_chat(template, messages, agp, specials)})
    obj = {
        "source": (f"jinja2 {jinja2.__version__} ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) "
                   f"as transformers apply_chat_template (globals raise_exception, strftime_now; tojson filter; "
                   f"variables {sorted(specials)} = {specials}); template = {MODEL_FILE} tokenizer.chat_template. "
                   "Regenerate: python3 scripts/reference/make_fixtures.py --only chat"),
        "template": template,
        "cases": cases,
    }
    return write_json("chat_smollm2.json", obj)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=default_model_path())
    ap.add_argument("--only", default="tokenizer,chat,logits")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"model not found: {args.model} (run scripts/fetch-model.sh)")
    only = set(args.only.split(","))
    makers = [("tokenizer", make_tokenizer_fixture)]
    if "make_chat_fixture" in globals():
        makers.append(("chat", globals()["make_chat_fixture"]))
    if "make_logits_fixture" in globals():
        makers.append(("logits", globals()["make_logits_fixture"]))
    for name, fn in makers:
        if name in only:
            t0 = time.time()
            path = fn(args.model)
            print(f"{name}: wrote {os.path.relpath(path, ROOT)} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
