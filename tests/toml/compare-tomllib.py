#!/usr/bin/env python3
"""Cross-checks the TOML parser against an independent one: Python's tomllib (3.11+).

  compare-tomllib.py vectors [DIR]              every vector in DIR (default tests/toml):
                                                valid ones must load in tomllib to the
                                                values of their .json, invalid ones must
                                                fail there too
  compare-tomllib.py fuzz [COUNT] [SEED] [TOOL] mutates the valid vectors at random and
                                                checks TOOL (build/toml-json) agrees with
                                                tomllib on accepting each and on its values

Known, intended differences are reported apart and not counted: values Python cannot hold
(second 60, year 0), this parser's limits (64-bit integers, finite doubles, nesting 128
deep) and the byte order mark (tomllib takes str, not bytes).
"""
import datetime
import json
import math
import os
import random
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = ("leap-second", "year-zero", "layout/bom", "limits/", "overflow", "underflow", "integer/huge")


def tagged(v):
    """tomllib's value as (tag, value) pairs, with tables and arrays kept as is."""
    if isinstance(v, dict):
        return {k: tagged(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tagged(x) for x in v]
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("integer", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, str):
        return ("string", v)
    if isinstance(v, datetime.datetime):
        return ("datetime" if v.tzinfo else "datetime-local", v)
    if isinstance(v, datetime.date):
        return ("date-local", v)
    return ("time-local", v)


def from_json(e):
    """A tagged-JSON tree as the same (tag, value) pairs."""
    if isinstance(e, list):
        return [from_json(x) for x in e]
    if isinstance(e, dict) and set(e) == {"type", "value"} and all(isinstance(x, str) for x in e.values()):
        t, s = e["type"], e["value"]
        if t == "integer":
            return (t, int(s))
        if t == "float":
            return (t, float(s))
        if t == "bool":
            return (t, s == "true")
        if t in ("datetime", "datetime-local"):
            return (t, datetime.datetime.fromisoformat(s.replace("Z", "+00:00")[:26] + s.replace("Z", "+00:00")[26:].lstrip("0123456789")))
        if t == "date-local":
            return (t, datetime.date.fromisoformat(s))
        if t == "time-local":
            return (t, datetime.time.fromisoformat(s[:15]))
        return (t, s)
    return {k: from_json(x) for k, x in e.items()}


def equal(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if not isinstance(b, tuple) or a[0] != b[0]:
        return False
    if a[0] == "float" and math.isnan(a[1]):
        return math.isnan(b[1])
    return a[1] == b[1]


def check_vectors(root):
    counted = known = 0
    for kind in ("valid", "invalid"):
        for d, _, files in sorted(os.walk(os.path.join(root, kind))):
            for f in sorted(files):
                if not f.endswith(".toml"):
                    continue
                path = os.path.join(d, f)
                try:
                    value, problem = tomllib.loads(open(path, "rb").read().decode("utf-8")), None
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
                    value, problem = None, str(ex)
                if kind == "valid" and problem is None:
                    expected = from_json(json.load(open(path[:-5] + ".json", encoding="utf-8")))
                    problem = None if equal(tagged(value), expected) else "values differ"
                elif kind == "invalid":
                    problem = None if problem else "tomllib accepts it"
                if problem:
                    if any(k in path for k in KNOWN):
                        known += 1
                    else:
                        counted += 1
                        print("DIFF: %s: %s" % (path, problem))
    print("%d differences, %d known" % (counted, known))
    return counted


def fuzz(count, seed, tool):
    random.seed(seed)
    seeds = []
    for d, _, files in os.walk(os.path.join(HERE, "valid")):
        seeds += [open(os.path.join(d, f), encoding="utf-8").read().lstrip("\ufeff")
                  for f in files if f.endswith(".toml")]
    pieces = list("abc =.,[]{}\"'\\\n\t#01e+-_:TZxob") + [
        '"""', "'''", "\r\n", "\\u00e9", "1979-05-27", "07:32:00", "true", "inf", "nan", "[[", "]]", "\u00e9"]
    counted = 0
    for _ in range(count):
        s = random.choice(seeds)
        for _ in range(random.randint(1, 3)):
            pos, op = random.randint(0, len(s)), random.random()
            if op < 0.4:
                s = s[:pos] + random.choice(pieces) + s[pos:]
            elif op < 0.7:
                s = s[:pos] + s[pos + random.randint(1, 3):]
            else:
                s = s[:pos] + random.choice(pieces) + s[pos + 1:]
        try:
            ref, ref_error = tagged(tomllib.loads(s)), None
        except tomllib.TOMLDecodeError as ex:
            ref, ref_error = None, str(ex)
        except ValueError as ex:  # a value Python cannot hold: second 60, year 0
            continue
        run = subprocess.run([tool], input=s.encode(), capture_output=True, timeout=10)
        if run.returncode not in (0, 1):
            counted += 1
            print("CRASH (exit %d): %r" % (run.returncode, s[:300]))
        elif (run.returncode == 0) != (ref_error is None):
            if b"64-bit" in run.stderr or ":60" in s:
                continue
            counted += 1
            print("DIFF ours=%s tomllib=%s: %r\n  %s%s" % (run.returncode == 0, ref_error is None, s[:300],
                                                        run.stderr.decode()[:200], ref_error or ""))
        elif ref is not None and not equal(ref, from_json(json.loads(run.stdout))):
            counted += 1
            print("VALUES DIFFER: %r" % s[:300])
    print("%d cases, %d differences" % (count, counted))
    return counted


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "vectors"
    if mode == "vectors":
        return 1 if check_vectors(sys.argv[2] if len(sys.argv) > 2 else HERE) else 0
    if mode == "fuzz":
        count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
        seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        tool = sys.argv[4] if len(sys.argv) > 4 else "build/toml-json"
        return 1 if fuzz(count, seed, tool) else 0
    print(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
