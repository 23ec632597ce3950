#!/usr/bin/env python3
"""Property-test cases for Tram's JSON Schema → grammar compiler, labelled by jsonschema.

Draws ~250 random schemas from a small feature set (type / type lists, properties with
`additionalProperties: false`, required, items + minItems/maxItems, string length / pattern /
format "date" / enum, integer and number bounds, enum, const, anyOf of two types, a root
`$defs` entry behind a `$ref`), nested up to depth 3. For each schema it builds valid values by
construction and invalid ones by mutating a valid one (wrong type, out of range, pattern /
length / enum miss, missing required key, extra key, too many / too few items, ...).

Every value's `valid` is `jsonschema.Draft202012Validator(schema).is_valid(value)`, never the
generator's intent; values whose verdict differs from the intent are dropped (and counted).
Values are written in the canonical form the compiler accepts: `json.dumps` with Python's
default separators, keys in the schema's `properties` order (extra keys last), numbers with
no exponent and at most 3 decimals, strings of [A-Za-z0-9 -_.,:;] only. `format: "date"`
positions only ever hold real dates (jsonschema does not assert formats by default; a
second validator with the format checker must agree, or the value is dropped).

Usage:  python3 scripts/grammar-oracle/make_schema_cases.py
Writes: Tests/Fixtures/grammar_schema_cases.json
Needs:  pip install jsonschema (standard library otherwise)
"""
from __future__ import annotations

import collections
import importlib.metadata
import json
import os
import random
import re

from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "grammar_schema_cases.json")

SEED = 20261204
CASES = 250
MAX_DEPTH = 3  # containers at depths 0..2, only scalars at depth 3

NAMES = [
    "id", "name", "age", "tags", "email", "score", "active", "kind", "count", "items",
    "city", "note", "level", "price", "code", "owner", "when", "status", "size", "color",
]
EXTRA_NAMES = ["extra", "other", "zzz", "Name", "id2"]
DEF_NAMES = ["address", "point", "entry", "label", "money"]
WORDS = ["alpha", "beta", "gamma", "red", "green", "blue", "cat", "dog", "yes", "no", "open", "closed", "small", "big"]
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;"
SAFE = re.compile(r"[A-Za-z0-9 \-_.,:;]*")
TYPES = ["object", "array", "string", "integer", "number", "boolean", "null"]


def _lower(r, a, b):
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(a, b)))


def _digits(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


# (pattern, generator of a matching string)
PATTERNS = [
    ("^[a-z]+$", lambda r: _lower(r, 1, 8)),
    ("^[A-Z][a-z]{1,4}$", lambda r: r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + _lower(r, 1, 4)),
    ("^[0-9]{3}-[0-9]{2}$", lambda r: _digits(r, 3) + "-" + _digits(r, 2)),
    ("^(cat|dog)s?$", lambda r: r.choice(["cat", "dog"]) + r.choice(["", "s"])),
    ("^[a-z]{2,4}_[0-9]{1,3}$", lambda r: _lower(r, 2, 4) + "_" + _digits(r, r.randint(1, 3))),
    ("^(red|green|blue)$", lambda r: r.choice(["red", "green", "blue"])),
    ("^[A-Z]{2}[0-9]{2,3}$", lambda r: "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(2)) + _digits(r, r.randint(2, 3))),
    ("^v[0-9]\\.[0-9]{1,2}$", lambda r: "v" + _digits(r, 1) + "." + _digits(r, r.randint(1, 2))),
    ("^[a-z]+( [a-z]+)?$", lambda r: _lower(r, 1, 5) + r.choice(["", " " + _lower(r, 1, 5)])),
    ("^[0-9]+(\\.[0-9]{1,2})?$", lambda r: _digits(r, r.randint(1, 4)) + r.choice(["", "." + _digits(r, r.randint(1, 2))])),
]
PATTERN_GEN = dict(PATTERNS)


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.root: dict = {}
        self.kind = ""

    # ------------------------------------------------------------------ schemas

    def schema(self, depth: int) -> dict:
        r = self.r
        containers = depth < MAX_DEPTH
        p_container = [0.75, 0.35, 0.2, 0.0][depth]
        if containers and r.random() < p_container:
            return self.typed("object" if r.random() < 0.65 else "array", depth)
        x = r.random()
        if x < 0.08:
            return {"enum": self.scalar_set(r.randint(2, 3))}
        if x < 0.13:
            return {"const": self.scalar_set(1)[0]}
        if x < 0.22:
            return self.any_of(depth)
        if x < 0.30:
            return self.type_list(depth)
        t = r.choices(["string", "integer", "number", "boolean", "null"], [5, 3, 3, 1.2, 0.5])[0]
        return self.typed(t, depth)

    def families(self, depth: int, k: int) -> list[str]:
        fams = ["string", "numeric", "boolean", "null"]
        if depth < MAX_DEPTH:
            fams += ["object", "array"]
        picked = self.r.sample(fams, k)
        return [self.r.choice(["integer", "number"]) if f == "numeric" else f for f in picked]

    def any_of(self, depth: int) -> dict:
        return {"anyOf": [self.typed(t, depth) for t in self.families(depth, 2)]}

    def type_list(self, depth: int) -> dict:
        r = self.r
        if r.random() < 0.75:
            t = r.choices(["string", "integer", "number", "boolean", "object", "array"], [4, 3, 2, 1, 1, 1])[0]
            if t in ("object", "array") and depth >= MAX_DEPTH:
                t = "string"
            types = [t, "null"] if r.random() < 0.8 else ["null", t]
        else:
            types = [t for t in self.families(depth, 2)]
        out: dict = {"type": types}
        for t in types:
            body = self.typed(t, depth)
            body.pop("type")
            body.pop("enum", None)  # an enum would apply to every type of the list
            out.update(body)
        return out

    def typed(self, t: str, depth: int) -> dict:
        r = self.r
        s: dict = {"type": t}
        if t == "object":
            names = r.sample(NAMES, r.randint(1, 4))
            s["properties"] = {n: self.schema(depth + 1) for n in names}
            req = [n for n in names if r.random() < 0.5]
            if req:
                s["required"] = req
            s["additionalProperties"] = False
        elif t == "array":
            s["items"] = self.schema(depth + 1)
            if r.random() < 0.4:
                s["minItems"] = r.randint(0, 2)
            if r.random() < 0.4:
                s["maxItems"] = r.randint(s.get("minItems", 0), 4)
        elif t == "string":
            kind = r.choices(["none", "length", "pattern", "date", "enum"], [3, 2, 2, 1, 1.2])[0]
            if kind == "length":
                which = r.choice(["min", "max", "both"])
                lo = r.randint(0, 6)
                if which in ("min", "both"):
                    s["minLength"] = lo
                if which == "max":
                    s["maxLength"] = r.randint(0, 6)
                if which == "both":
                    s["maxLength"] = r.randint(lo, 6)
            elif kind == "pattern":
                s["pattern"] = r.choice(PATTERNS)[0]
            elif kind == "date":
                s["format"] = "date"
            elif kind == "enum":
                s["enum"] = r.sample(WORDS, r.randint(2, 3))
        elif t in ("integer", "number"):
            self.bounds(s)
        return s

    def bounds(self, s: dict) -> None:
        r = self.r
        while True:
            b: dict = {}
            lo = r.choices(["none", "min", "xmin", "both"], [3, 3, 2, 0.5])[0]
            hi = r.choices(["none", "max", "xmax", "both"], [3, 3, 2, 0.5])[0]
            a = r.randint(-50, 50)
            if lo in ("min", "both"):
                b["minimum"] = a
            if lo in ("xmin", "both"):
                b["exclusiveMinimum"] = a if lo == "xmin" else a + r.choice([-1, 0, 1])
            c = r.randint(-50, 50)
            if lo != "none" and r.random() < 0.7:
                c = min(50, a + r.randint(0, 20))
            if hi in ("max", "both"):
                b["maximum"] = c
            if hi in ("xmax", "both"):
                b["exclusiveMaximum"] = c if hi == "xmax" else c + r.choice([-1, 0, 1])
            lo_b, hi_b = range_of(b, s["type"])
            if nonempty(lo_b, hi_b, s["type"]):
                s.update(b)
                return

    def scalar_set(self, k: int) -> list:
        r = self.r
        out, seen = [], set()
        while len(out) < k:
            x = r.random()
            if x < 0.45:
                v = r.choice(WORDS)
            elif x < 0.75:
                v = r.randint(-5, 100)
            elif x < 0.9:
                v = r.choice([True, False])
            else:
                v = None
            key = json.dumps(v)
            if key not in seen:
                seen.add(key)
                out.append(v)
        return out

    def root_schema(self) -> dict:
        r = self.r
        s = self.schema(0)
        while "const" in s or s.get("type") in ("boolean", "null"):
            s = self.schema(0)  # too few distinct valid values for a case
        if "properties" in s and r.random() < 0.18:
            name = r.choice(DEF_NAMES)
            target = self.typed(r.choice(["object", "object", "string", "integer", "number", "array"]), 1)
            prop = r.choice(list(s["properties"]))
            s["properties"][prop] = {"$ref": f"#/$defs/{name}"}
            s["$defs"] = {name: target}
        return s

    # ------------------------------------------------------------------ valid values

    def resolve(self, s: dict) -> dict:
        while "$ref" in s:
            s = self.root["$defs"][s["$ref"].rsplit("/", 1)[1]]
        return s

    def valid(self, s: dict):
        r = self.r
        s = self.resolve(s)
        if "anyOf" in s:
            return self.valid(r.choice(s["anyOf"]))
        if "enum" in s:
            return r.choice(s["enum"])
        if "const" in s:
            return s["const"]
        t = s["type"]
        if isinstance(t, list):
            t = r.choice(t)
        return self.valid_typed(s, t)

    def valid_typed(self, s: dict, t: str):
        r = self.r
        if t == "object":
            req = set(s.get("required", []))
            return {k: self.valid(v) for k, v in s["properties"].items() if k in req or r.random() < 0.6}
        if t == "array":
            lo = s.get("minItems", 0)
            hi = s.get("maxItems", lo + 3)
            return [self.valid(s["items"]) for _ in range(r.randint(lo, hi))]
        if t == "string":
            if "pattern" in s:
                return PATTERN_GEN[s["pattern"]](r)
            if s.get("format") == "date":
                return date_string(r)
            if "minLength" in s or "maxLength" in s:
                lo = s.get("minLength", 0)
                hi = s.get("maxLength", lo + 5)
                return random_text(r, r.randint(lo, hi))
            return random_text(r, r.randint(0, 8))
        if t == "integer":
            lo_b, hi_b = range_of(s, "integer")
            lo = lo_b[0] if lo_b else None
            hi = hi_b[0] if hi_b else None
            if lo is not None and hi is not None:
                edge = r.random() < 0.25
                return r.choice([lo, hi]) if edge else r.randint(lo, hi)
            if lo is not None:
                return lo if r.random() < 0.2 else lo + r.randint(0, r.choice([10, 100, 100000]))
            if hi is not None:
                return hi if r.random() < 0.2 else hi - r.randint(0, r.choice([10, 100, 100000]))
            return r.randint(-r.choice([10, 1000, 999999]), r.choice([10, 1000, 999999]))
        if t == "number":
            return self.valid_number(s)
        if t == "boolean":
            return r.choice([True, False])
        if t == "null":
            return None
        raise ValueError(t)

    def valid_number(self, s: dict):
        r = self.r
        lo_b, hi_b = range_of(s, "number")
        for _ in range(200):
            lo = lo_b[0] if lo_b else (hi_b[0] - r.choice([10, 1000, 99999]) if hi_b else -r.choice([10, 1000, 99999]))
            hi = hi_b[0] if hi_b else lo + r.choice([10, 1000, 99999])
            x = r.random()
            if x < 0.15 and lo_b and lo_b[1]:
                v = lo_b[0]
            elif x < 0.3 and hi_b and hi_b[1]:
                v = hi_b[0]
            elif x < 0.55:
                v = r.randint(int(lo), int(hi))
            else:
                v = clean_float(r.uniform(lo, hi))
            if v is not None and in_range(v, lo_b, hi_b):
                return v
        raise RuntimeError(f"no number in {s}")

    # ------------------------------------------------------------------ invalid values

    def wrong_type(self, allowed: set[str]):
        r = self.r
        if "number" in allowed:
            allowed = allowed | {"integer"}
        choices = [t for t in TYPES if t not in allowed]
        t = r.choice(choices)
        return {
            "object": lambda: r.choice([{}, {"k": 1}, {"name": "x"}]),
            "array": lambda: r.choice([[], [1, 2], ["a"], [None]]),
            "string": lambda: r.choice(["abc", "12", "true", "null", "", "x y", "2024-01-01"]),
            "integer": lambda: r.randint(-60, 60),
            "number": lambda: r.choice([2.5, -0.125, 17.75, 0.001]),
            "boolean": lambda: r.choice([True, False]),
            "null": lambda: None,
        }[t]()

    def invalid(self, s: dict, value, siblings: frozenset = frozenset()):
        """A mutation of the valid `value` meant to break `s` (jsonschema has the last word).

        `siblings`: types the other branches of an enclosing anyOf admit (a wrong type avoids them).
        Sets `self.kind` to the innermost mutation applied (for the summary)."""
        r = self.r
        s = self.resolve(s)
        if "anyOf" in s:
            branch = next(b for b in s["anyOf"] if json_type_fits(value, b["type"]))
            if r.random() < 0.3:
                self.kind = "anyOf: type of neither branch"
                return self.wrong_type(set(b["type"] for b in s["anyOf"]))
            return self.invalid(branch, value, siblings | {b["type"] for b in s["anyOf"]})
        if "enum" in s or "const" in s:
            word = "enum" if "enum" in s else "const"
            options = s["enum"] if "enum" in s else [s["const"]]
            x = r.random()
            if isinstance(value, str) and x < 0.5:
                self.kind = f"{word}: near-miss string"
                return near_miss(r, value, lambda v: v not in options)
            if x < 0.8 and "type" in s:
                self.kind = "wrong type"
                return self.wrong_type({s["type"]} | siblings)
            self.kind = f"{word}: other scalar"
            for _ in range(50):
                v = self.scalar_set(1)[0]
                if json.dumps(v) not in {json.dumps(o) for o in options}:
                    return v
            return "not-in-enum"
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        t = py_json_type(value)
        if t == "integer" and "integer" not in types:
            t = "number"
        ops = [("wrong type", lambda: self.wrong_type(set(types) | siblings))]
        if t == "object":
            present_req = [k for k in s.get("required", []) if k in value]
            if present_req:
                def drop():
                    k = r.choice(present_req)
                    return {a: b for a, b in value.items() if a != k}
                ops += [("object: required key missing", drop)] * 2
            def extra():
                name = r.choice([n for n in NAMES + EXTRA_NAMES if n not in s["properties"]])
                out = dict(value)
                out[name] = r.choice([1, "x", True, None, 2.5])
                return out
            ops += [("object: extra key", extra)] * 2
            if value:
                def child():
                    k = r.choice(list(value))
                    return {a: (self.invalid(s["properties"][a], b) if a == k else b) for a, b in value.items()}
                ops += [("child", child)] * 4
        elif t == "array":
            if "maxItems" in s:
                def more():
                    out = list(value)
                    while len(out) <= s["maxItems"]:
                        out.append(self.valid(s["items"]))
                    return out
                ops += [("array: above maxItems", more)] * 2
            if s.get("minItems", 0) > 0:
                ops += [("array: below minItems", lambda: list(value[: s["minItems"] - 1]))] * 2
            if value:
                def item():
                    i = r.randrange(len(value))
                    return [self.invalid(s["items"], v) if j == i else v for j, v in enumerate(value)]
                ops += [("child", item)] * 4
        elif t == "string":
            if "pattern" in s:
                pat = re.compile(s["pattern"])
                ops += [("string: pattern miss", lambda: near_miss(r, value, lambda v: not pat.search(v)))] * 3
            elif "minLength" in s or "maxLength" in s:
                if s.get("minLength", 0) > 0:
                    ops += [("string: below minLength", lambda: random_text(r, r.randint(0, s["minLength"] - 1)))] * 2
                if "maxLength" in s:
                    ops += [("string: above maxLength",
                             lambda: random_text(r, r.randint(s["maxLength"] + 1, s["maxLength"] + 4)))] * 2
        elif t in ("integer", "number"):
            lo_b, hi_b = range_of(s, t)
            if lo_b:
                ops += [(f"{t}: below lower bound", lambda: below(r, lo_b, t))] * 2
            if hi_b:
                ops += [(f"{t}: above upper bound", lambda: above(r, hi_b, t))] * 2
            if t == "integer" and "number" not in types:
                def fractional():
                    for _ in range(50):
                        v = clean_float(value + r.choice([-0.5, 0.5, 0.25, -0.75, 0.001]))
                        if v is not None and in_range(v, lo_b, hi_b):
                            return v
                    return clean_float(value + 0.5)
                ops += [("integer: fractional", fractional)] * 2
        self.kind, op = r.choice(ops)
        return op()


# ---------------------------------------------------------------------- helpers


def range_of(s: dict, t: str):
    """(value, inclusive) lower and upper bounds, or None; integers: both inclusive ints."""
    lo = hi = None
    if "minimum" in s:
        lo = (s["minimum"], True)
    if "exclusiveMinimum" in s and (lo is None or s["exclusiveMinimum"] >= lo[0]):
        lo = (s["exclusiveMinimum"], False)
    if "maximum" in s:
        hi = (s["maximum"], True)
    if "exclusiveMaximum" in s and (hi is None or s["exclusiveMaximum"] <= hi[0]):
        hi = (s["exclusiveMaximum"], False)
    if t == "integer":
        lo = (lo[0] + (0 if lo[1] else 1), True) if lo else None
        hi = (hi[0] - (0 if hi[1] else 1), True) if hi else None
    return lo, hi


def nonempty(lo, hi, t):
    if lo is None or hi is None:
        return True
    if lo[1] and hi[1]:
        return lo[0] <= hi[0]
    return lo[0] < hi[0]


def in_range(v, lo, hi):
    if lo and not (v >= lo[0] if lo[1] else v > lo[0]):
        return False
    if hi and not (v <= hi[0] if hi[1] else v < hi[0]):
        return False
    return True


def clean_float(x):
    """x rounded to 3 decimals, or None when that is integral, tiny, huge or exponent-shaped."""
    v = round(x, 3)
    if v == int(v) or abs(v) < 0.001 or abs(v) >= 1e6 or "e" in repr(v).lower():
        return None
    return v


def below(r, lo, t):
    v, inclusive = lo
    x = r.random()
    if x < 0.5:
        return v - 1 if inclusive else v  # the boundary
    if t == "number" and x < 0.75:
        return clean_float(v - r.choice([0.5, 0.001, 0.25])) or v - 1
    return v - r.randint(2, 1000)


def above(r, hi, t):
    v, inclusive = hi
    x = r.random()
    if x < 0.5:
        return v + 1 if inclusive else v
    if t == "number" and x < 0.75:
        return clean_float(v + r.choice([0.5, 0.001, 0.25])) or v + 1
    return v + r.randint(2, 1000)


def date_string(r):
    return f"{r.randint(1970, 2035):04d}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"


def random_text(r, n):
    return "".join(r.choice(ALPHABET) for _ in range(n))


def near_miss(r, s: str, ok):
    """A small edit of s (insert, delete, replace, case change) that `ok` accepts."""
    for _ in range(200):
        op = r.choice(["insert", "delete", "replace", "case", "append"])
        t = s
        if op == "insert" or (op in ("delete", "replace") and not s):
            i = r.randint(0, len(s))
            t = s[:i] + r.choice(ALPHABET) + s[i:]
        elif op == "delete":
            i = r.randrange(len(s))
            t = s[:i] + s[i + 1:]
        elif op == "replace":
            i = r.randrange(len(s))
            t = s[:i] + r.choice(ALPHABET) + s[i + 1:]
        elif op == "case":
            t = s.swapcase() if s.swapcase() != s else s + "X"
        else:
            t = s + r.choice(["s", "1", " ", "-", "X", "."])
        if ok(t):
            return t
    return s + "!invalid"  # never reached in practice; unsafe chars would fail the text check


def py_json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    raise TypeError(v)


def json_type_fits(v, t):
    vt = py_json_type(v)
    return vt == t or (vt == "integer" and t == "number")


def check_canonical(v):
    """Raises unless v is free of exponents, integral floats, NaN and unsafe string characters."""
    if isinstance(v, float):
        assert v == v and abs(v) < 1e6 and v != int(v) and abs(v) >= 0.001, v
        assert "e" not in repr(v).lower() and len(repr(v).split(".")[1]) <= 3, v
    elif isinstance(v, str):
        assert SAFE.fullmatch(v), v
    elif isinstance(v, list):
        for x in v:
            check_canonical(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            assert SAFE.fullmatch(k), k
            check_canonical(x)


def key_order_ok(s: dict, v, root: dict) -> bool:
    """Keys of every object follow its schema's `properties` order (extras after them)."""
    while "$ref" in s:
        s = root["$defs"][s["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in s:
        return any(key_order_ok(b, v, root) for b in s["anyOf"] if json_type_fits(v, b["type"])) or not any(
            json_type_fits(v, b["type"]) for b in s["anyOf"])
    if isinstance(v, dict) and "properties" in s:
        props = list(s["properties"])
        known = [k for k in v if k in s["properties"]]
        extras = [k for k in v if k not in s["properties"]]
        if list(v) != known + extras or known != sorted(known, key=props.index):
            return False
        return all(key_order_ok(s["properties"][k], v[k], root) for k in known)
    if isinstance(v, list) and "items" in s:
        return all(key_order_ok(s["items"], x, root) for x in v)
    return True


def features(s, acc: collections.Counter):
    if isinstance(s, dict):
        for k, v in s.items():
            if k == "properties":
                acc[k] += 1
                for sub in v.values():
                    features(sub, acc)
                continue
            if k == "$defs":
                acc[k] += 1
                for sub in v.values():
                    features(sub, acc)
                continue
            if k == "type":
                acc["type:" + ("list" if isinstance(v, list) else v)] += 1
            elif k == "format":
                acc["format:" + v] += 1
            else:
                acc[k] += 1
            features(v, acc)
    elif isinstance(s, list):
        for x in s:
            features(x, acc)


def main():
    g = Gen(SEED)
    r = g.r
    cases = []
    mismatch = collections.Counter()
    feats = collections.Counter()
    kinds = collections.Counter()
    while len(cases) < CASES:
        schema = g.root_schema()
        Draft202012Validator.check_schema(schema)
        g.root = schema
        plain = Draft202012Validator(schema)
        strict = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        total = r.randint(8, 12)
        want_valid = (total + 1) // 2
        values, seen, valids = [], set(), []
        case_kinds = collections.Counter()

        def add(v, intended: bool) -> bool:
            check_canonical(v)
            text = json.dumps(v, ensure_ascii=False)
            if text in seen:
                return False
            assert "e" not in re.sub(r'"[^"]*"', "", text).lower().replace("true", "").replace("false", ""), text
            parsed = json.loads(text)
            label = plain.is_valid(parsed)
            if label != strict.is_valid(parsed):
                mismatch["format checker disagrees (dropped)"] += 1
                return False
            if label != intended:
                mismatch[f"intended {'valid' if intended else 'invalid'}, jsonschema says {label} (dropped)"] += 1
                if os.environ.get("VERBOSE"):
                    print("  dropped:", g.kind if not intended else "", json.dumps(schema), text)
                return False
            if not key_order_ok(schema, parsed, schema):
                mismatch["key order (dropped)"] += 1
                return False
            seen.add(text)
            values.append({"text": text, "valid": label})
            return True

        for _ in range(60):
            if len(valids) >= want_valid:
                break
            v = g.valid(schema)
            if add(v, True):
                valids.append(v)
        if not valids:
            continue  # cannot happen for these features; keep the loop honest
        total = len(valids) + max(8 - len(valids), total - want_valid)  # few valid: fewer values
        tries = 0
        while len(values) < total and tries < 200:
            tries += 1
            if add(g.invalid(schema, r.choice(valids)), False):
                case_kinds[g.kind] += 1
        if len(values) < 8 or sum(not v["valid"] for v in values) < 2:
            mismatch["schema skipped (too few values)"] += 1
            continue
        r.shuffle(values)
        features(schema, feats)
        kinds.update(case_kinds)
        cases.append({"schema": schema, "values": values})

    doc = {
        "generator": f"scripts/grammar-oracle/make_schema_cases.py (random.Random({SEED})): random JSON schemas, "
                     "valid values by construction and invalid ones by mutation, labelled by "
                     "jsonschema Draft202012Validator.is_valid; canonical json.dumps text, keys in properties order",
        "jsonschema_version": importlib.metadata.version("jsonschema"),
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")

    n_values = sum(len(c["values"]) for c in cases)
    n_valid = sum(v["valid"] for c in cases for v in c["values"])
    per_case = collections.Counter(len(c["values"]) for c in cases)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {os.path.getsize(OUT):,} bytes")
    print(f"cases {len(cases)}, values {n_values} (valid {n_valid}, invalid {n_values - n_valid})")
    print("values per case:", dict(sorted(per_case.items())))
    print("keyword occurrences:", ", ".join(f"{k} {n}" for k, n in sorted(feats.items())))
    print("invalid values by mutation (innermost):",
          ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    print("dropped / skipped:", dict(mismatch) or "none")


if __name__ == "__main__":
    main()
