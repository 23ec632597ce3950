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
# Logits (numpy reference forward)
# --------------------------------------------------------------------------------------------

N_CONTINUATION = 32
TOP_K = 5

RAW_PROMPTS = [
    ("capital_france", "The capital of France is"),
    ("python_code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
    ("fruit_list", "Here is a list of fruits:\n1. Apple\n2."),
    ("story", "Once upon a time, there was a little robot named"),
    ("json", "{\"name\": \"Alice\", \"age\": 30, \"city\":"),
]

CHAT_PROMPTS = [
    ("chat_capital", [{"role": "user", "content": "What is the capital of France?"}]),
    ("chat_healthy", [{"role": "user", "content": "Give me three tips for staying healthy."}]),
    ("chat_python", [{"role": "user", "content": "Write a Python function that reverses a string."}]),
    ("chat_system_sky", [{"role": "system", "content": "You are a science teacher. Explain things simply."},
                         {"role": "user", "content": "Why is the sky blue?"}]),
    ("chat_multiturn", [{"role": "user", "content": "Hi! My name is Sam."},
                        {"role": "assistant", "content": "Hello Sam! How can I help you today?"},
                        {"role": "user", "content": "Can you suggest a name for my new puppy?"}]),
]

PERPLEXITY_TEXT = (
    "The history of the bicycle begins in the early nineteenth century, when inventors in Europe began to "
    "experiment with two-wheeled machines that riders pushed along with their feet. These early designs were "
    "heavy and uncomfortable, but they showed that a person could balance on two wheels while moving forward. "
    "In the 1860s, French mechanics added pedals to the front wheel, and the new machines quickly became "
    "popular in cities across the continent. Later, engineers built bicycles with a very large front wheel, "
    "which allowed riders to travel faster but made falls dangerous. The safety bicycle, introduced in the "
    "1880s, solved this problem with two wheels of equal size and a chain that drove the rear wheel. Air-filled "
    "tires soon followed, making the ride smoother and more pleasant. By the end of the century, millions of "
    "people owned bicycles, and the new freedom to travel changed daily life, especially for women, who gained "
    "a practical way to move around on their own. Today, bicycles remain one of the most efficient forms of "
    "transport ever invented."
)

# A longer text for a perplexity whose measurement noise is well below the 1% tolerance: over the
# ~200-token text, int8 activation rounding alone moves the quantized path's perplexity by about
# ±0.6% (one standard deviation, seen across kernel variants), too close to 1% to tell a bug.
PERPLEXITY_LONG_TEXT = PERPLEXITY_TEXT + "\n\n" + (
    "Rivers have shaped human settlement for as long as people have farmed. The earliest cities grew along "
    "the banks of the Nile, the Tigris and Euphrates, the Indus and the Yellow River, where yearly floods left "
    "behind rich soil and where boats could carry grain, stone and timber far more cheaply than carts. Farmers "
    "learned to dig canals that spread the water across wide fields, and the work of building and repairing "
    "those canals required cooperation, planning and records. Some historians argue that writing itself began "
    "as a way to keep track of harvests, taxes and the labour owed to the state. Rivers also served as borders "
    "and as highways for armies, so the same water that fed a kingdom could expose it to invasion.\n\n"
    "In the kitchen, bread is one of the simplest foods to make and one of the hardest to make well. Flour, "
    "water, salt and yeast are all that a basic loaf needs. When the dough is kneaded, proteins in the flour "
    "form long elastic strands of gluten, which trap the gas produced by the yeast. A slow rise in a cool room "
    "gives the dough time to develop flavour, while a hot oven and a little steam help the crust to expand "
    "before it sets. Bakers often say that the most important ingredient is patience, because a loaf that is "
    "rushed will be dense and pale, while a loaf that is given time will be light, open and golden brown.\n\n"
    "Computers store every number as a pattern of bits, and the way those bits are arranged decides which "
    "numbers can be represented exactly. Whole numbers are easy: eight bits can count from zero to two hundred "
    "and fifty-five. Fractions are harder. Floating-point formats keep a sign, an exponent and a fraction, "
    "which lets them cover both tiny and enormous values, but most decimal fractions, such as one tenth, can "
    "only be approximated. Programmers who add up many small amounts of money therefore learn to use integer "
    "cents, or special decimal types, instead of ordinary floating-point numbers. Machine learning systems "
    "make the opposite trade: they often store weights in eight or even four bits, accepting small errors in "
    "exchange for models that fit in memory and run quickly.\n\n"
    "A garden changes with every season. In early spring the first green shoots push through cold soil, and "
    "the gardener turns the beds, adds compost and sows peas, lettuce and radishes. By summer the tomatoes "
    "climb their stakes, bees move from flower to flower, and the main work is watering in the evening, when "
    "less water is lost to the heat. Autumn brings the harvest of squash, apples and late potatoes, along with "
    "the job of saving seeds for the following year. In winter the garden rests under frost or snow, but the "
    "gardener is still busy, reading catalogues, mending tools and planning which crops will grow where, so "
    "that the soil is not exhausted by growing the same plants in the same place year after year.\n\n"
    "Good maps are a quiet triumph of science and craft. To draw one, surveyors measured angles between distant "
    "hills with careful instruments and built chains of triangles across whole countries. Astronomers fixed "
    "the positions of a few places by watching the stars, and the rest followed from geometry. Because the "
    "earth is round, every flat map must distort something: areas, distances, shapes or directions. Sailors "
    "preferred charts on which a straight line kept a constant compass bearing, even though those charts make "
    "lands near the poles look far larger than they are. Today satellites measure positions to within a few "
    "centimetres, yet mapmakers still face the old question of which distortion a given map should accept."
)


def perplexity_entry(model, tok, text: str) -> dict:
    import numpy as np
    import llama_ref
    ids = tok.encode(text, add_special_tokens=True).ids
    lp = log_softmax(llama_ref.forward(model, ids).astype(np.float64))
    nll = -np.array([lp[i - 1, ids[i]] for i in range(1, len(ids))])
    mean_nll = float(nll.mean())
    print(f"  perplexity: {len(ids)} tokens, mean NLL {mean_nll:.5f}, ppl {math.exp(mean_nll):.4f}")
    return {"text": text, "ids": ids, "mean_nll": r5(mean_nll), "perplexity": r5(math.exp(mean_nll))}


def r5(x: float) -> float:
    return round(float(x), 5)


def log_softmax(logits):
    import numpy as np
    m = logits.max(axis=-1, keepdims=True)
    z = logits - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def make_logits_fixture(model_path: str) -> str:
    import gguf
    import numpy as np
    import llama_ref
    from tokenizer_json import load_tokenizer

    reader = gguf.GGUFReader(model_path)
    template = gguf_string(reader, "tokenizer.chat_template")
    specials = special_token_strings(reader)
    tok = load_tokenizer(model_path)
    model = llama_ref.load_gguf(model_path)

    prompts = [(n, False, t) for n, t in RAW_PROMPTS]
    prompts += [(n, True, render_chat(template, msgs, True, specials)) for n, msgs in CHAT_PROMPTS]

    out = []
    for name, chat, text in prompts:
        prompt_ids = tok.encode(text, add_special_tokens=True).ids
        cont = llama_ref.greedy(model, prompt_ids, N_CONTINUATION)  # exactly 32 tokens, EOS not a stop
        full = prompt_ids + cont[:-1]
        logits = llama_ref.forward(model, full)                     # teacher forced, no cache
        steps = []
        for i in range(N_CONTINUATION):
            row = logits[len(prompt_ids) - 1 + i]
            top = np.argsort(-row, kind="stable")[:TOP_K]
            if int(top[0]) != cont[i]:
                print(f"  warning: {name} step {i}: teacher-forced argmax {int(top[0])} != cached greedy {cont[i]}")
            steps.append({"top_ids": [int(t) for t in top],
                          "top_logits": [r5(row[t]) for t in top],
                          "margin": r5(row[top[0]] - row[top[1]])})
        print(f"  {name}: {len(prompt_ids)} prompt tokens -> {tok.decode(cont, skip_special_tokens=False)!r}"
              f" (min margin {min(s['margin'] for s in steps):.4f})")
        out.append({"name": name, "chat": chat, "text": text, "prompt_ids": prompt_ids,
                    "continuation_ids": cont, "steps": steps})


    obj = {
        "source": (
            "numpy float32 reference forward (scripts/reference/llama_ref.py): every GGUF tensor dequantized to "
            "float32 with gguf.quants.dequantize, adjacent-pair RoPE, causal full-sequence attention. "
            "continuation_ids: 32 greedy tokens (argmax, KV-cached generation, EOS does not stop). "
            "steps[i]: logits at position len(prompt_ids)+i-1 of a teacher-forced forward over "
            "prompt_ids + continuation_ids[:31]; top_ids/top_logits = top 5 by logit, margin = top1 - top2. "
            "Chat prompts: ChatML rendered from the GGUF template with add_generation_prompt=true. "
            "perplexity: mean NLL of tokens 1..N-1 given their prefix (no BOS), perplexity = exp(mean_nll); "
            "perplexity_long: the same over a ~1000-token text (the short text plus five paragraphs). "
            "Floats rounded to 5 decimals. Regenerate: python3 scripts/reference/make_fixtures.py --only logits"
        ),
        "model": MODEL_FILE,
        "prompts": out,
        "perplexity": perplexity_entry(model, tok, PERPLEXITY_TEXT),
        "perplexity_long": perplexity_entry(model, tok, PERPLEXITY_LONG_TEXT),
    }
    return write_json("logits_smollm2.json", obj)


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
