#!/usr/bin/env python3
"""Writes TramTokenizer's test fixtures (run from the repository root).

  Tests/Fixtures/tokenizer_pretokenize.json   pieces of tricky strings under each pre-tokenizer
                                              regex, split with the `regex` module and checked
                                              against Hugging Face `tokenizers` (Oniguruma)
  Tests/Fixtures/tokenizer_smollm2_gguf.json  SmolLM2's GGUF tokenizer metadata (tokens, types,
                                              merges, ids, flags) so tests need no GGUF reader
  Tests/Fixtures/tokenizer_smollm2_hf.json    the tokenizer.json that tokenizer_json.py (beside
                                              this script) builds from the same GGUF, compact
  Tests/Fixtures/tokenizer_smollm2_extra.json extra encode/decode cases made with `tokenizers`
                                              from that tokenizer.json (long words, specials)
  Tests/Fixtures/tokenizer_smollm2_variants.json  SmolLM2's vocabulary under Llama 3's and Qwen2's
                                              pre-tokenizers
  Tests/Fixtures/tokenizer_fuzz.json          seeded random strings: pieces under each regex and
                                              SmolLM2 ids
  Tests/Fixtures/tokenizer_sentencepiece.json a tiny SentencePiece-style vocabulary as GGUF values
                                              and as two tokenizer.json styles, with cases

Needs the pip packages gguf, tokenizers and regex, and the model file:
  python3 scripts/reference/make_pretokenizer_fixtures.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
"""
import json
import os
import random
import sys

import regex
from tokenizers import Regex, Tokenizer
from tokenizers import pre_tokenizers as pt

GGUF_PATH = os.path.expanduser("~/.cache/tram/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
FIXTURES = "Tests/Fixtures"

GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

PRETOKENIZE_TEXTS = [
    "", " ", "  ", "\n", "a", "Hello world", "Hello, world!", "  leading spaces", "trailing spaces   ",
    "I'm you're he's we've they'll she'd it't", "I'M YOU'RE HE'S WE'VE THEY'LL SHE'D", "DON'T Don'T don't",
    "'s 'S 's's ''s '", "rock 'n' roll", "l'amour d'accord", "it’s typographic ’ apostrophe ‘quoted’",
    "ʼmodifier apostrophe ʼs", "\u017fs long s: '\u017f and '\u017f", "'\u017fV x'\u017ft", "1", "12", "123", "1234", "12345", "123456",
    "1234567", "a1b22c333d4444", "3.14159 and 2,718,281", " 42 ", "x 7", "٣٤٥ arabic-indic ١٢٣٤", "Ⅻ roman ⅷ",
    "½ ¾ ² ³ superscripts", "tab\tseparated\tvalues", "line\nbreak", "crlf\r\nline\r\n", "\r\n\r\n", "a\n\n\nb",
    "a \n b", "a  \n  b", "end with newline\n", "end with spaces and newline  \n", "spaces  \t  mixed \t\n end",
    "word   word", "   ", "\t\t", "!!!", "?!... ...", " (parenthesis) [brackets] {braces}", "a+b=c; x-=1;",
    "email@example.com http://x.io/a?b=c&d=e", "#include <stdio.h>\nint main(){return 0;}",
    "def f(x):\n    return x**2\n", "    indented\n        more", "中文分词测试", "日本語のテキストです。",
    "한국어 텍스트", "mixed中文and English", "emoji 😀👍🏽 family 👨‍👩‍👧", "🎉🎉🎉", "a😀b", "café naïve résumé",
    "cafe\u0301 combining e\u0301 marks", "Ελληνικά κείμενα", "Русский текст, да!", "עברית", "العربية نص",
    "हिन्दी पाठ", "ไทยภาษา", "$100 €200 £300 ¥400", "50% off!!!", "C++ & C#", "snake_case camelCase",
    "__init__", "...", "---", "a--b", "'''", "''s", "\"quoted\"", "non\u00a0breaking\u00a0space",
    "ideographic\u3000space", "zero\u200bwidth", "\u2028line sep", "\x00\x01 controls\x1c\x1f",
    "x\u00a0\u00a0y", "!\n\n", ", \n", "hello!world", "abc\u0300\u0301def", "\t\nfoo", " \r\n bar",
]


def findall(pattern, text):
    return regex.findall(pattern, text)


def digits_then(pattern, text):
    pieces = []
    for chunk in regex.split(r"(\p{N})", text):
        if chunk:
            pieces.extend(findall(pattern, chunk))
    return pieces


def onig_split(pattern, text):
    return [p for p, _ in pt.Split(Regex(pattern), behavior="isolated").pre_tokenize_str(text)]


def make_pretokenize():
    cases = []
    for text in PRETOKENIZE_TEXTS:
        case = {
            "text": text,
            "gpt2": findall(GPT2, text),
            "smollm": digits_then(GPT2, text),
            "llama3": findall(LLAMA3, text),
            "qwen2": findall(QWEN2, text),
        }
        # Cross-check with the engine the models were trained with (Oniguruma via tokenizers).
        for name, pattern in (("gpt2", GPT2), ("llama3", LLAMA3), ("qwen2", QWEN2)):
            assert "".join(case[name]) == text, (name, text)
            assert onig_split(pattern, text) == case[name], (name, text, onig_split(pattern, text), case[name])
        cases.append(case)
    doc = {
        "source": "scripts/reference/make_pretokenizer_fixtures.py (python regex, checked against tokenizers Split)",
        "patterns": {"gpt2": GPT2, "llama3": LLAMA3, "qwen2": QWEN2},
        "cases": cases,
    }
    write("tokenizer_pretokenize.json", doc)


def read_gguf(path):
    import gguf

    reader = gguf.GGUFReader(path)

    def value(key):
        field = reader.fields.get(key)
        return None if field is None else field.contents()

    return {
        "model": value("tokenizer.ggml.model"),
        "pre": value("tokenizer.ggml.pre"),
        "tokens": value("tokenizer.ggml.tokens"),
        "token_types": value("tokenizer.ggml.token_type"),
        "merges": value("tokenizer.ggml.merges"),
        "bos_token_id": value("tokenizer.ggml.bos_token_id"),
        "eos_token_id": value("tokenizer.ggml.eos_token_id"),
        "unknown_token_id": value("tokenizer.ggml.unknown_token_id"),
        "padding_token_id": value("tokenizer.ggml.padding_token_id"),
        "add_bos_token": value("tokenizer.ggml.add_bos_token"),
        "add_eos_token": value("tokenizer.ggml.add_eos_token"),
        "add_space_prefix": value("tokenizer.ggml.add_space_prefix"),
    }


EXTRA_TEXTS = [
    "Hello world", "  two leading spaces", "x 7 and 42 and 1234567", "I'm DON'T you'll", "emoji 😀👍🏽 family 👨‍👩‍👧",
    "中文分词测试 日本語のテキスト", "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|>", "text<|endoftext|>more", "<|im_start", "tab\tand\r\nnewlines\n\n\n", "café naïve",
    "def f(x):\n    return x ** 2\n", "\u00a0\u3000\u200b", "🎉", "a😀b", "\x00\x01\x1c", "", " ", "\n",
    "<|im_start|>  spaced  <|im_end|>", "<empty_output><jupyter_code>", "ſ 'ſ", "Ⅻ ½ ٣٤",
    # Long pieces (more than 64 bytes) take the heap-based merge loop.
    "中文分词测试日本語のテキストです中文分词测试日本語のテキストです中文分词测试",
    "https://example.com/a/very/long/path/with/many/segments/and?query=string&more=params",
    "Pneumonoultramicroscopicsilicovolcanoconiosisandsupercalifragilisticexpialidociousandantidisestablishmentarianism",
    "!" * 100, "_" * 70 + "x", "😀" * 20,
    # Bytes missing from the vocabulary (0x04, lead bytes 0xF1/0xF2): dropped, as there is no unk token.
    "a\x04b", "x\U00050000y\U0008ffff",
]


def byte_level_char(byte):
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    if byte in printable:
        return chr(byte)
    return chr(256 + [b for b in range(256) if b not in printable].index(byte))


# Byte sequences for decoding checks, including ill-formed UTF-8 (lone continuation bytes,
# overlong forms, surrogates, values past U+10FFFF, truncated characters at the end).
DECODE_BYTES = [
    b"\xf0\x9f\x98\x80", b"a\xf0\x9f\x98", b"\x80abc", b"\xc2\xaf\xc2A", b"\xe0\x80\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xe2\x82\x41", b"\xf0\x9f\x41\xf0", b"\xf3\x80\x80", b"x\xe4\xb8", b"\xe4\xb8\xad\xe6\x96\x87",
]


def make_extra(tok):
    decode_cases = []
    for raw in DECODE_BYTES:
        ids = [tok.token_to_id(byte_level_char(b)) for b in raw]
        decode_cases.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    # Out-of-range ids are skipped by tokenizers; special tokens between byte tokens.
    mixed = [tok.token_to_id(byte_level_char(0xF0)), 2, tok.token_to_id(byte_level_char(0x9F)), 10**6, 1]
    decode_cases.append({"ids": mixed, "decoded": tok.decode(mixed, skip_special_tokens=False)})
    cases = []
    for text in EXTRA_TEXTS:
        ids = tok.encode(text, add_special_tokens=True).ids
        cases.append({
            "text": text,
            "ids": ids,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    write("tokenizer_smollm2_extra.json", {
        "source": "tokenizers from a tokenizer.json built from SmolLM2-135M-Instruct.Q4_1.gguf "
                  "(scripts/reference/make_pretokenizer_fixtures.py)",
        "cases": cases,
        "decode_cases": decode_cases,
    })


def write(name, doc):
    path = os.path.join(FIXTURES, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")




# --- Other pre-tokenizers over SmolLM2's vocabulary ---------------------------------------

def make_variants(document):
    """SmolLM2's vocabulary and merges under Llama 3's and Qwen2's pre-tokenizers, laid out as
    their tokenizer.json files do (Split regex, then ByteLevel without regex; Llama 3 ignores
    merges for whole-word tokens; Qwen2 composes the text to NFC first), to check those paths end
    to end on a real vocabulary."""
    texts = [c["text"] for c in json.load(open(os.path.join(FIXTURES, "tokenizer_smollm2.json")))["cases"]] + EXTRA_TEXTS
    variants = {}
    for name, pattern, ignore_merges in (("llama3", LLAMA3, True), ("qwen2", QWEN2, False)):
        variant = json.loads(json.dumps(document))
        variant["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
        variant["model"]["ignore_merges"] = ignore_merges
        if name == "qwen2":
            variant["normalizer"] = {"type": "NFC"}
        variants[name] = Tokenizer.from_str(json.dumps(variant, ensure_ascii=False))
    cases = [{"text": text, **{f"{name}_ids": tok.encode(text).ids for name, tok in variants.items()}} for text in texts]
    write("tokenizer_smollm2_variants.json", {
        "source": "tokenizers with tokenizer_smollm2_hf.json's vocabulary under Llama 3's and Qwen2's "
                  "pre-tokenizers (scripts/reference/make_pretokenizer_fixtures.py)",
        "cases": cases,
    })


# --- Random strings -----------------------------------------------------------------------

FUZZ_ALPHABET = list(" \t\n\r'sStTrReEvVmMlLdD") + list("abcXYZ0123456789") + [
    "  ", "'s", "'LL", "\u00a0", "\u3000", "\u00e9", "e\u0301", "\u4e2d", "\u6587", "\U0001F600", "\U0001F44D\U0001F3FD",
    "\u200d", "!", "?", ".", ",", "-", "_", "\u0663", "\u00bd", "\u216b", "\u017f", "\u2028", "\x0b", "\x1c",
    "<|im_start|>", "<|im_end|>", "<|im_", "\x04", "\u2019",
]


def make_fuzz(tok, count=600):
    """Random strings over an alphabet of the characters the scanners treat specially."""
    rng = random.Random(7)
    cases = []
    for _ in range(count):
        text = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 25)))
        case = {"text": text, "gpt2": findall(GPT2, text), "smollm": digits_then(GPT2, text),
                "llama3": findall(LLAMA3, text), "qwen2": findall(QWEN2, text), "ids": tok.encode(text).ids}
        for name, pattern in (("gpt2", GPT2), ("llama3", LLAMA3), ("qwen2", QWEN2)):
            assert onig_split(pattern, text) == case[name], (name, text)
        cases.append(case)
    write("tokenizer_fuzz.json", {
        "source": "scripts/reference/make_pretokenizer_fixtures.py: seeded random strings; pieces from python "
                  "regex (checked against tokenizers Split), ids from tokenizers with tokenizer_smollm2_hf.json",
        "cases": cases,
    })


# --- SentencePiece-style BPE -------------------------------------------------------------

SPM_CORPUS = [
    "hello world", "the cat sat on the mat", "hello there, world!", "a cat and a hat",
    "the world is wide", "hello hello hello", "what was that?", "this and that",
]

SPM_TEXTS = [
    "hello world", "Hello world", "the cat sat on the mat", "  two  spaces", "new\nline", "hello<s>world",
    "</s>the end", "unknown: ü and 中 and 😀", "thé", "", " ", "a", "hat that what", "hello, world! hello? world.",
    "<unk>", "x<s> y", "catcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcatcat",
]


def spm_vocabulary():
    """Trains a tiny BPE over SPM_CORPUS and lays it out as SentencePiece does: <unk>, <s>,
    </s>, the 256 byte tokens, then pieces by descending score (score = -rank)."""
    from tokenizers import models, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pt.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=90, special_tokens=[], show_progress=False)
    tok.train_from_iterator(SPM_CORPUS, trainer)
    trained = json.loads(tok.to_str())["model"]
    chars = sorted((t for t in trained["vocab"] if len(t) == 1), key=lambda t: trained["vocab"][t])
    merged = []
    for a, b in (m if isinstance(m, list) else m.split(" ") for m in trained["merges"]):
        if a + b not in merged:
            merged.append(a + b)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    # Merged pieces score above single characters so that they form; order follows the merges.
    for rank, piece in enumerate(merged):
        tokens.append(piece)
        types.append(1)
        scores.append(-float(rank))
    for rank, char in enumerate(chars):
        tokens.append(char)
        types.append(1)
        scores.append(-1000.0 - rank)
    return tokens, types, scores


def spm_encode_by_score(tokens, scores, text, add_bos=True):
    """llama.cpp's SentencePiece tokenizer (llm_tokenizer_spm), written out plainly: merge the
    adjacent pair whose concatenation is the highest-scoring token (leftmost on ties), then
    spell pieces missing from the vocabulary as <0xNN> bytes."""
    vocab = {t: i for i, t in enumerate(tokens)}
    specials = [t for t in ("<unk>", "<s>", "</s>")]
    ids = [1] if add_bos else []
    fragments = regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text)
    for fragment in fragments:
        if fragment == "":
            continue
        if fragment in specials:
            ids.append(vocab[fragment])
            continue
        symbols = list(("\u2581" + fragment).replace(" ", "\u2581"))
        while True:
            best = None
            for i in range(len(symbols) - 1):
                merged = symbols[i] + symbols[i + 1]
                if merged in vocab and (best is None or scores[vocab[merged]] > best[0]):
                    best = (scores[vocab[merged]], i)
            if best is None:
                break
            i = best[1]
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        for symbol in symbols:
            if symbol in vocab:
                ids.append(vocab[symbol])
            else:
                ids.extend(vocab[f"<0x{b:02X}>"] for b in symbol.encode("utf-8"))
    return ids


def spm_tokenizer_json(tokens, types, scores, style):
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for piece in sorted((t for t, ty in zip(tokens, types) if ty == 1 and len(t) > 1), key=lambda t: -scores[vocab[t]]):
        for cut in range(1, len(piece)):
            if piece[:cut] in vocab and piece[cut:] in vocab:
                merges.append([piece[:cut], piece[cut:]])
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(tokens[:3])]
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": [" ".join(m) for m in merges] if style == "llama2" else merges},
    }
    if style == "llama2":
        # Llama 2 as Hugging Face ships it: normalizer prepends and replaces, no pre-tokenizer,
        # merges as "a b" strings.
        doc["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
        doc["pre_tokenizer"] = None
        doc["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    else:
        # Newer files: a Metaspace pre-tokenizer that splits words, merges as pairs.
        doc["normalizer"] = None
        doc["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
        doc["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
    return doc


def make_sentencepiece():
    tokens, types, scores = spm_vocabulary()
    doc = {
        "source": "scripts/reference/make_pretokenizer_fixtures.py: tiny BPE trained with tokenizers, laid out "
                  "as a SentencePiece vocabulary; ids from tokenizers (tokenizer.json) and from a plain "
                  "Python port of llama.cpp's score-based merge loop (gguf)",
        "gguf": {"model": "llama", "tokens": tokens, "token_types": types, "scores": scores,
                 "bos_token_id": 1, "eos_token_id": 2, "unknown_token_id": 0,
                 "add_bos_token": True, "add_space_prefix": True},
    }
    for style in ("llama2", "metaspace"):
        document = spm_tokenizer_json(tokens, types, scores, style)
        tok = Tokenizer.from_str(json.dumps(document, ensure_ascii=False))
        cases = []
        for text in SPM_TEXTS:
            ids = tok.encode(text, add_special_tokens=True).ids
            case = {"text": text, "ids": ids,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)}
            if style == "llama2":
                case["gguf_ids"] = spm_encode_by_score(tokens, scores, text)
            cases.append(case)
        doc[style] = {"tokenizer_json": document, "cases": cases}
    write("tokenizer_sentencepiece.json", doc)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else GGUF_PATH
    make_pretokenize()
    meta = read_gguf(path)
    write("tokenizer_smollm2_gguf.json", meta)
    import tokenizer_json  # scripts/reference/tokenizer_json.py

    document = tokenizer_json.tokenizer_dict(path)
    write("tokenizer_smollm2_hf.json", document)
    make_extra(Tokenizer.from_str(json.dumps(document, ensure_ascii=False)))
    make_fuzz(Tokenizer.from_str(json.dumps(document, ensure_ascii=False)))
    make_variants(document)
    make_sentencepiece()


if __name__ == "__main__":
    main()
