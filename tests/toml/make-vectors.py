#!/usr/bin/env python3
"""Writes the TOML test vectors under tests/toml/valid and tests/toml/invalid.

The vectors are the source of truth; this script is how they were written (compactly, by
hand: every expected result below is spelled out, none is produced by the parser). Edit a
case here and rerun it, or edit the files directly.

valid/GROUP/NAME.toml + NAME.json (toml-test tagged JSON), invalid/GROUP/NAME.toml.
"""
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))


def S(v): return {"type": "string", "value": v}
def I(v): return {"type": "integer", "value": str(v)}
def F(v): return {"type": "float", "value": v}
def B(v): return {"type": "bool", "value": "true" if v else "false"}
def ODT(v): return {"type": "datetime", "value": v}
def LDT(v): return {"type": "datetime-local", "value": v}
def LD(v): return {"type": "date-local", "value": v}
def LT(v): return {"type": "time-local", "value": v}


VALID = []
INVALID = []


def valid(name, doc, expected):
    VALID.append((name, doc, expected))


def invalid(name, doc):
    INVALID.append((name, doc))


# --- comments and layout -------------------------------------------------------------
valid("comment/only", "# just a comment\n", {})
valid("comment/after-value", "a = 1 # one\n", {"a": I(1)})
valid("comment/no-space", "a = 1#one\nb = \"x\"#two\n", {"a": I(1), "b": S("x")})
valid("comment/quotes-inside", "a = \"x\" # \"y\" = 2\n", {"a": S("x")})
valid("comment/at-eof-no-newline", "a = 1\n# end", {"a": I(1)})
valid("comment/non-ascii", "# h\u00e9llo \u2603 \U0001F600\na = 1\n", {"a": I(1)})
valid("comment/tab", "#\tx\t\na = 1\t#\t\n", {"a": I(1)})
valid("comment/in-array", "a = [ # c\n  1, # d\n  2 # e\n  # f\n] # g\n", {"a": [I(1), I(2)]})
valid("comment/hash-in-strings", "a = \"#no\"\nb = '#'\nc = \"\"\"\n#\"\"\"\n",
      {"a": S("#no"), "b": S("#"), "c": S("#")})
valid("comment/after-header", "[t] # c\nx = 1\n[[u]] # d\n", {"t": {"x": I(1)}, "u": [{}]})
valid("comment/everywhere",
      "# a\n[t] # b\n# c\nx = [ # d\n1 # e\n, # f\n2 ] # g\ny = { z = 1 } # h\n# i",
      {"t": {"x": [I(1), I(2)], "y": {"z": I(1)}}})
valid("comment/unicode-controls-allowed", "# \u0080 \u009f are not control characters in TOML\n", {})
valid("layout/empty-file", "", {})
valid("layout/only-blank", "\n\n  \t\n\t\n", {})
valid("layout/crlf", "a = 1\r\nb = \"x\"\r\n[t]\r\nc = [\r\n1,\r\n]\r\n", {"a": I(1), "b": S("x"), "t": {"c": [I(1)]}})
valid("layout/bom", "\ufeffa = 1\n", {"a": I(1)})
valid("layout/no-final-newline", "a = 1", {"a": I(1)})
valid("layout/indented", "   a = 1\n\t\tb = 2\n  [t]\n    c = 3\n", {"a": I(1), "b": I(2), "t": {"c": I(3)}})
valid("layout/spaces-around-equals", "a=1\nb  =  2\nc\t=\t3\n", {"a": I(1), "b": I(2), "c": I(3)})
valid("layout/crlf-comment", "# c\r\na = 1 # d\r\n", {"a": I(1)})

# --- keys -------------------------------------------------------------------------------
valid("key/bare", "key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\nABC = 5\n-_- = 6\n",
      {"key": I(1), "bare_key": I(2), "bare-key": I(3), "1234": I(4), "ABC": I(5), "-_-": I(6)})
valid("key/quoted",
      "\"127.0.0.1\" = 1\n\"character encoding\" = 2\n\"\u028e\u01dd\u029e\" = 3\n'key2' = 4\n'quoted \"value\"' = 5\n",
      {"127.0.0.1": I(1), "character encoding": I(2), "\u028e\u01dd\u029e": I(3), "key2": I(4),
       "quoted \"value\"": I(5)})
valid("key/empty-basic", "\"\" = 1\n", {"": I(1)})
valid("key/empty-literal", "'' = 1\n", {"": I(1)})
valid("key/dotted",
      "name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true\n",
      {"name": S("Orange"), "physical": {"color": S("orange"), "shape": S("round")},
       "site": {"google.com": B(True)}})
valid("key/dotted-whitespace", "fruit.name = 1\nfruit. color = 2\nfruit . flavor = 3\nfruit\t.\tsize = 4\n",
      {"fruit": {"name": I(1), "color": I(2), "flavor": I(3), "size": I(4)}})
valid("key/numeric-dotted", "3.14159 = \"pi\"\n", {"3": {"14159": S("pi")}})
valid("key/numeric", "1 = 1\n0 = 0\n-1 = 2\n", {"1": I(1), "0": I(0), "-1": I(2)})
valid("key/special-words", "true = 1\nfalse = 2\ninf = 3\nnan = 4\n",
      {"true": I(1), "false": I(2), "inf": I(3), "nan": I(4)})
valid("key/case-sensitive", "a = 1\nA = 2\n", {"a": I(1), "A": I(2)})
valid("key/escapes", "\"\\n\" = 1\n\"\\u00e9\" = 2\n\"\\\"\" = 3\n\"\\\\\" = 4\n\"\\t\" = 5\n",
      {"\n": I(1), "\u00e9": I(2), "\"": I(3), "\\": I(4), "\t": I(5)})
valid("key/equals-no-space", "a=1\n", {"a": I(1)})
valid("key/dotted-empty-parts", "\"\".a = 1\nb.\"\" = 2\n''.'' = 3\n",
      {"": {"a": I(1), "": I(3)}, "b": {"": I(2)}})
valid("key/dotted-same-table", "a.b = 1\na.c = 2\na.d.e = 3\na.d.f = 4\n",
      {"a": {"b": I(1), "c": I(2), "d": {"e": I(3), "f": I(4)}}})
valid("key/dotted-out-of-order", "apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"\norange.skin = \"thick\"\n",
      {"apple": {"type": S("fruit"), "skin": S("thin")}, "orange": {"type": S("fruit"), "skin": S("thick")}})
valid("key/quoted-same-as-bare", "\"a\" = 1\n'b' = 2\n", {"a": I(1), "b": I(2)})
valid("key/literal-backslash", "'a\\b' = 1\n", {"a\\b": I(1)})
valid("key/quoted-dot", "\"a.b\".c = 1\n'x.y' = 2\n", {"a.b": {"c": I(1)}, "x.y": I(2)})
valid("key/unicode-escape-astral", "\"\\U0001F600\" = 1\n", {"\U0001F600": I(1)})
valid("key/hash-quoted", "'#' = 1\n\"a#b\" = 2\n", {"#": I(1), "a#b": I(2)})
valid("key/space-quoted", "\" a \" = 1\n", {" a ": I(1)})
valid("key/long-dotted", "a.b.c.d.e.f.g.h = 1\n",
      {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": I(1)}}}}}}}})
valid("key/bare-with-digits-dashes", "x-1_y-2 = true\n", {"x-1_y-2": B(True)})
valid("key/dotted-in-subtable", "[t]\na.b = 1\na.c = 2\n", {"t": {"a": {"b": I(1), "c": I(2)}}})
valid("key/dotted-then-header-sub",
      "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
      {"fruit": {"apple": {"color": S("red"), "taste": {"sweet": B(True)}, "texture": {"smooth": B(True)}}}})
valid("key/dotted-root-then-header-sub", "a.b = 1\n[a.c]\nd = 2\n",
      {"a": {"b": I(1), "c": {"d": I(2)}}})
valid("key/unicode-quoted-literal", "'\u00e9t\u00e9' = 1\n", {"\u00e9t\u00e9": I(1)})

# --- strings ----------------------------------------------------------------------------
valid("string/basic", "a = \"I'm a string.\"\n", {"a": S("I'm a string.")})
valid("string/empty-all-kinds", "a = \"\"\nb = ''\nc = \"\"\"\"\"\"\nd = ''''''\n",
      {"a": S(""), "b": S(""), "c": S(""), "d": S("")})
for name, esc, out in [("backspace", "\\b", "\b"), ("tab", "\\t", "\t"), ("newline", "\\n", "\n"),
                       ("formfeed", "\\f", "\f"), ("return", "\\r", "\r"), ("quote", "\\\"", "\""),
                       ("backslash", "\\\\", "\\"), ("u-ascii", "\\u0041", "A"),
                       ("u-latin", "\\u00E9", "\u00e9"), ("u-lower-hex", "\\u00e9", "\u00e9"),
                       ("u-bmp", "\\u2603", "\u2603"), ("U-astral", "\\U0001F600", "\U0001F600"),
                       ("U-bmp", "\\U000000E9", "\u00e9"), ("u-nul", "\\u0000", "\u0000"),
                       ("u-del", "\\u007F", "\u007f"), ("u-last-bmp", "\\uFFFF", "\uffff"),
                       ("U-max", "\\U0010FFFF", "\U0010ffff"), ("u-before-surrogates", "\\uD7FF", "\ud7ff"),
                       ("u-after-surrogates", "\\uE000", "\ue000"), ("u-control", "\\u001f", "\u001f")]:
    valid("string/escape-" + name, "a = \"x" + esc + "y\"\n", {"a": S("x" + out + "y")})
valid("string/escapes-together", "a = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n", {"a": S("\b\t\n\f\r\"\\")})
valid("string/escaped-backslash-u", "a = \"\\\\u0041\"\n", {"a": S("\\u0041")})
valid("string/tab-literal", "a = \"x\ty\"\nb = 'x\ty'\n", {"a": S("x\ty"), "b": S("x\ty")})
valid("string/unicode-literal", "a = \"\u00e9\u2603\U0001F600\"\n", {"a": S("\u00e9\u2603\U0001F600")})
valid("string/c1-controls-allowed", "a = \"\u0080\u009f\"\n", {"a": S("\u0080\u009f")})
valid("string/literal-windows-path", "a = 'C:\\Users\\nodejs\\templates'\n", {"a": S("C:\\Users\\nodejs\\templates")})
valid("string/literal-regex", "a = '<\\i\\c*\\s*>'\n", {"a": S("<\\i\\c*\\s*>")})
valid("string/literal-double-quotes", "a = 'Tom \"Dubs\" Preston-Werner'\n", {"a": S("Tom \"Dubs\" Preston-Werner")})
valid("string/with-hash", "a = \"a#b\"\nb = 'c#d'\n", {"a": S("a#b"), "b": S("c#d")})
valid("string/brackets-in-array", "a = [\"]\", \"[\", \",\", '}']\n", {"a": [S("]"), S("["), S(","), S("}")]})
valid("string/ml-basic", "a = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n", {"a": S("Roses are red\nViolets are blue")})
valid("string/ml-basic-first-line", "a = \"\"\"one\ntwo\"\"\"\n", {"a": S("one\ntwo")})
valid("string/ml-basic-trim-crlf", "a = \"\"\"\r\nx\"\"\"\n", {"a": S("x")})
valid("string/ml-basic-only-one-newline-trimmed", "a = \"\"\"\n\nx\"\"\"\n", {"a": S("\nx")})
valid("string/ml-basic-crlf-content", "a = \"\"\"x\r\ny\r\n\"\"\"\n", {"a": S("x\ny\n")})
valid("string/ml-line-ending-backslash",
      "a = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"\n",
      {"a": S("The quick brown fox jumps over the lazy dog.")})
valid("string/ml-line-ending-backslash-trailing-space", "a = \"\"\"a \\   \n   b\"\"\"\n", {"a": S("a b")})
valid("string/ml-line-ending-backslash-tab", "a = \"\"\"a\\\t\n\tb\"\"\"\n", {"a": S("ab")})
valid("string/ml-line-ending-backslash-crlf", "a = \"\"\"a\\\r\n  b\"\"\"\n", {"a": S("ab")})
valid("string/ml-line-ending-backslash-at-end", "a = \"\"\"\\\n  \"\"\"\n", {"a": S("")})
valid("string/ml-line-ending-backslash-blank-lines", "a = \"\"\"x\\\n\n  \n\t\ny\"\"\"\n", {"a": S("xy")})
valid("string/ml-escaped-backslash-at-eol", "a = \"\"\"x\\\\\ny\"\"\"\n", {"a": S("x\\\ny")})
valid("string/ml-two-quotes-inside", "a = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n",
      {"a": S("Here are two quotation marks: \"\". Simple enough.")})
valid("string/ml-escaped-third-quote", "a = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"\n",
      {"a": S("Here are three quotation marks: \"\"\".")})
valid("string/ml-quotes-at-both-ends", "a = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n",
      {"a": S("\"This,\" she said, \"is just a pointless statement.\"")})
valid("string/ml-one-quote-before-close", "a = \"\"\"x\"\"\"\"\n", {"a": S("x\"")})
valid("string/ml-two-quotes-before-close", "a = \"\"\"x\"\"\"\"\"\n", {"a": S("x\"\"")})
valid("string/ml-only-two-quotes", "a = \"\"\"\"\"\"\"\"\n", {"a": S("\"\"")})
valid("string/ml-only-one-quote", "a = \"\"\"\"\"\"\"\n", {"a": S("\"")})
valid("string/ml-escapes", "a = \"\"\"\\ttab \\u00e9\\n\\\"\"\"\"\n", {"a": S("\ttab \u00e9\n\"")})
valid("string/ml-tab-literal", "a = \"\"\"\tx\t\"\"\"\n", {"a": S("\tx\t")})
valid("string/ml-literal", "a = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''\n",
      {"a": S("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n")})
valid("string/ml-literal-regex", "a = '''I [dw]on't need \\d{2} apples'''\n", {"a": S("I [dw]on't need \\d{2} apples")})
valid("string/ml-literal-many-quotes", "a = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\n",
      {"a": S("Here are fifteen quotation marks: " + "\"" * 15)})
valid("string/ml-literal-quotes-at-ends", "a = ''''That,' she said, 'is still pointless.''''\n",
      {"a": S("'That,' she said, 'is still pointless.'")})
valid("string/ml-literal-two-quotes-before-close", "a = '''x'''''\n", {"a": S("x''")})
valid("string/ml-literal-backslash-kept", "a = '''a\\\nb'''\n", {"a": S("a\\\nb")})
valid("string/ml-literal-trim-crlf", "a = '''\r\nx\r\ny'''\n", {"a": S("x\ny")})
valid("string/ml-literal-tab", "a = '''\tx'''\n", {"a": S("\tx")})
valid("string/ml-literal-one-quote-inside", "a = '''it's'''\n", {"a": S("it's")})
valid("string/ml-in-array", "a = [\"\"\"x\ny\"\"\", '''z\n''']\n", {"a": [S("x\ny"), S("z\n")]})
valid("string/all-kinds", "a = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]\n",
      {"a": [S("all"), S("strings"), S("are the same"), S("type")]})
valid("string/nul-escape-in-middle", "a = \"a\\u0000b\"\n", {"a": S("a\u0000b")})
valid("string/long", "a = \"" + "x" * 5000 + "\"\n", {"a": S("x" * 5000)})
valid("string/literal-with-quote-chars", "a = '\"\\\"'\n", {"a": S("\"\\\"")})
valid("string/escape-then-close", "a = \"\\\\\"\n", {"a": S("\\")})
valid("string/ml-ends-with-escaped-quote", "a = \"\"\"x\\\"\"\"\"\n", {"a": S("x\"")})

# --- integers ----------------------------------------------------------------------------
for name, text, value in [("zero", "0", 0), ("plus-zero", "+0", 0), ("minus-zero", "-0", 0),
                          ("one", "1", 1), ("plus", "+99", 99), ("minus", "-17", -17),
                          ("underscore", "1_000", 1000), ("underscores", "5_349_221", 5349221),
                          ("underscores-uneven", "53_49_221", 5349221), ("underscore-each", "1_2_3_4_5", 12345),
                          ("max", "9223372036854775807", 9223372036854775807),
                          ("min", "-9223372036854775808", -9223372036854775808),
                          ("plus-max", "+9223372036854775807", 9223372036854775807),
                          ("hex-upper", "0xDEADBEEF", 0xDEADBEEF), ("hex-lower", "0xdeadbeef", 0xdeadbeef),
                          ("hex-underscore", "0xdead_beef", 0xdeadbeef), ("hex-zero", "0x0", 0),
                          ("hex-leading-zeros", "0x00ff", 255), ("hex-max", "0x7FFFFFFFFFFFFFFF", 9223372036854775807),
                          ("hex-mixed-case", "0xaBcD", 0xabcd),
                          ("oct", "0o01234567", 0o1234567), ("oct-755", "0o755", 0o755), ("oct-zero", "0o0", 0),
                          ("oct-underscore", "0o777_777", 0o777777), ("oct-max", "0o777777777777777777777", 9223372036854775807),
                          ("bin", "0b11010110", 0b11010110), ("bin-zero", "0b0", 0), ("bin-underscore", "0b1_0", 2),
                          ("bin-max", "0b" + "1" * 63, 9223372036854775807), ("bin-leading-zeros", "0b0001", 1),
                          ("big", "1234567890123", 1234567890123)]:
    valid("integer/" + name, "a = " + text + "\n", {"a": I(value)})
valid("integer/in-array", "a = [1, -2, 0x3, 0o4, 0b101]\n", {"a": [I(1), I(-2), I(3), I(4), I(5)]})
valid("integer/no-space-before-comment", "a = 42#c\n", {"a": I(42)})

# --- floats ------------------------------------------------------------------------------
for name, text, value in [("plus", "+1.0", "1.0"), ("pi", "3.1415", "3.1415"), ("minus", "-0.01", "-0.01"),
                          ("exp-plus", "5e+22", "5e+22"), ("exp-leading-zero", "1e06", "1000000.0"),
                          ("exp-upper-minus", "-2E-2", "-0.02"), ("frac-exp", "6.626e-34", "6.626e-34"),
                          ("underscores", "224_617.445_991_228", "224617.445991228"),
                          ("zero", "0.0", "0.0"), ("plus-zero", "+0.0", "0.0"), ("minus-zero", "-0.0", "-0.0"),
                          ("zero-exp", "0e0", "0.0"), ("minus-zero-exp", "-0e0", "-0.0"),
                          ("exp-underscore", "1e1_0", "1e10"), ("exp-zero-prefixed", "1e007", "1e7"),
                          ("inf", "inf", "inf"), ("plus-inf", "+inf", "inf"), ("minus-inf", "-inf", "-inf"),
                          ("nan", "nan", "nan"), ("plus-nan", "+nan", "nan"), ("minus-nan", "-nan", "nan"),
                          ("exp-frac", "3.0e+5", "300000.0"), ("max", "1.7976931348623157e308", "1.7976931348623157e308"),
                          ("denormal-min", "5e-324", "5e-324"), ("tenth", "0.1", "0.1"), ("small", "1.5e-3", "0.0015"),
                          ("int-exp", "123e-2", "1.23"), ("upper-e", "1E2", "100.0"), ("exp-minus-zero", "1e-0", "1.0"),
                          ("long-fraction", "3.141592653589793238462643383279", "3.141592653589793"),
                          ("zero-point-digits", "0.000001", "1e-06"), ("one-point-zero", "1.0", "1.0")]:
    valid("float/" + name, "a = " + text + "\n", {"a": F(value)})
valid("float/mixed-array", "a = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n",
      {"a": [F("0.1"), F("0.2"), F("0.5"), I(1), I(2), I(5)]})
valid("float/inf-nan-in-inline", "a = { p = inf, n = -inf, q = nan }\n",
      {"a": {"p": F("inf"), "n": F("-inf"), "q": F("nan")}})

# --- booleans -----------------------------------------------------------------------------
valid("bool/true-false", "a = true\nb = false\n", {"a": B(True), "b": B(False)})
valid("bool/in-array", "a = [true, false,true]\n", {"a": [B(True), B(False), B(True)]})
valid("bool/in-inline-end", "a = {b = true}\nc = {d = false}\n", {"a": {"b": B(True)}, "c": {"d": B(False)}})
valid("bool/comment-after", "a = true# c\n", {"a": B(True)})

# --- dates and times -----------------------------------------------------------------------
for name, text, value in [
        ("offset-z", "1979-05-27T07:32:00Z", ODT("1979-05-27T07:32:00Z")),
        ("offset-minus", "1979-05-27T00:32:00-07:00", ODT("1979-05-27T00:32:00-07:00")),
        ("offset-fraction", "1979-05-27T00:32:00.999999-07:00", ODT("1979-05-27T00:32:00.999999-07:00")),
        ("offset-space", "1979-05-27 07:32:00Z", ODT("1979-05-27T07:32:00Z")),
        ("offset-lower-t-z", "1979-05-27t07:32:00z", ODT("1979-05-27T07:32:00Z")),
        ("offset-plus-half-hour", "2021-01-01T12:00:00+05:30", ODT("2021-01-01T12:00:00+05:30")),
        ("offset-max", "2021-01-01T12:00:00+23:59", ODT("2021-01-01T12:00:00+23:59")),
        ("offset-millis", "1977-12-21T10:32:00.555+00:00", ODT("1977-12-21T10:32:00.555+00:00")),
        ("offset-nanos", "1977-12-21T10:32:00.123456789Z", ODT("1977-12-21T10:32:00.123456789Z")),
        ("offset-leap-second", "1990-12-31T23:59:60Z", ODT("1990-12-31T23:59:60Z")),
        ("offset-year-one", "0001-01-01T00:00:00Z", ODT("0001-01-01T00:00:00Z")),
        ("offset-end-of-year", "9999-12-31T23:59:59Z", ODT("9999-12-31T23:59:59Z")),
        ("local-datetime", "1979-05-27T07:32:00", LDT("1979-05-27T07:32:00")),
        ("local-datetime-fraction", "1979-05-27T00:32:00.999999", LDT("1979-05-27T00:32:00.999999")),
        ("local-datetime-space", "1979-05-27 07:32:00", LDT("1979-05-27T07:32:00")),
        ("local-datetime-lower-t", "1979-05-27t07:32:00", LDT("1979-05-27T07:32:00")),
        ("local-date", "1979-05-27", LD("1979-05-27")),
        ("local-date-leap-2000", "2000-02-29", LD("2000-02-29")),
        ("local-date-leap-2024", "2024-02-29", LD("2024-02-29")),
        ("local-date-1900-feb-28", "1900-02-28", LD("1900-02-28")),
        ("local-date-first", "0001-01-01", LD("0001-01-01")),
        ("local-date-last", "9999-12-31", LD("9999-12-31")),
        ("local-date-april-30", "2021-04-30", LD("2021-04-30")),
        ("local-time", "07:32:00", LT("07:32:00")),
        ("local-time-fraction", "00:32:00.999999", LT("00:32:00.999999")),
        ("local-time-end", "23:59:59", LT("23:59:59")),
        ("local-time-long-fraction", "00:00:00.1234567891", LT("00:00:00.1234567891")),
        ("local-time-midnight", "00:00:00", LT("00:00:00")),
]:
    valid("datetime/" + name, "a = " + text + "\n", {"a": value})
valid("datetime/in-array", "a = [1979-05-27, 07:32:00, 1979-05-27T07:32:00Z, 1979-05-27 07:32:00]\n",
      {"a": [LD("1979-05-27"), LT("07:32:00"), ODT("1979-05-27T07:32:00Z"), LDT("1979-05-27T07:32:00")]})
valid("datetime/in-inline", "a = {d = 1979-05-27, t = 07:32:00}\n", {"a": {"d": LD("1979-05-27"), "t": LT("07:32:00")}})
valid("datetime/date-then-comment", "a = 1979-05-27 # a date\n", {"a": LD("1979-05-27")})
valid("datetime/space-date-comma", "a = [1979-05-27 , 1980-01-01]\n", {"a": [LD("1979-05-27"), LD("1980-01-01")]})
valid("datetime/every-month-end",
      "".join("m%02d = 2021-%02d-%02d\n" % (m, m, d) for m, d in
              [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31)]),
      {"m%02d" % m: LD("2021-%02d-%02d" % (m, d)) for m, d in
       [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31)]})

# --- arrays -----------------------------------------------------------------------------
valid("array/integers", "a = [ 1, 2, 3 ]\n", {"a": [I(1), I(2), I(3)]})
valid("array/strings", "a = [ \"red\", \"yellow\", \"green\" ]\n", {"a": [S("red"), S("yellow"), S("green")]})
valid("array/nested", "a = [ [ 1, 2 ], [3, 4, 5] ]\n", {"a": [[I(1), I(2)], [I(3), I(4), I(5)]]})
valid("array/nested-mixed", "a = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\n", {"a": [[I(1), I(2)], [S("a"), S("b"), S("c")]]})
valid("array/mixed-types", "a = [1, \"x\", 1.5, true, 1979-05-27, [2], {b = 3}]\n",
      {"a": [I(1), S("x"), F("1.5"), B(True), LD("1979-05-27"), [I(2)], {"b": I(3)}]})
valid("array/inline-tables", "a = [ { x = 1, y = 2, z = 3 }, { x = 7, y = 8, z = 9 }, { x = 2, y = 4, z = 8 } ]\n",
      {"a": [{"x": I(1), "y": I(2), "z": I(3)}, {"x": I(7), "y": I(8), "z": I(9)}, {"x": I(2), "y": I(4), "z": I(8)}]})
valid("array/contributors", "a = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example.com/bazqux\" }\n]\n",
      {"a": [S("Foo Bar <foo@example.com>"), {"name": S("Baz Qux"), "email": S("bazqux@example.com"), "url": S("https://example.com/bazqux")}]})
valid("array/multiline-trailing-comma", "a = [\n  1,\n  2,\n]\n", {"a": [I(1), I(2)]})
valid("array/empty", "a = []\n", {"a": []})
valid("array/empty-space", "a = [ ]\n", {"a": []})
valid("array/empty-newline", "a = [\n]\n", {"a": []})
valid("array/empty-comment", "a = [ # c\n]\n", {"a": []})
valid("array/nested-empty", "a = [[]]\nb = [[],[]]\nc = [[[]]]\n", {"a": [[]], "b": [[], []], "c": [[[]]]})
valid("array/no-spaces", "a=[1,2,3]\n", {"a": [I(1), I(2), I(3)]})
valid("array/spaced-trailing-comma", "a = [ 1 , 2 , ]\n", {"a": [I(1), I(2)]})
valid("array/newline-before-comma", "a = [1\n,2\n,]\n", {"a": [I(1), I(2)]})
valid("array/one-element", "a = [1]\n", {"a": [I(1)]})
valid("array/crlf", "a = [\r\n1,\r\n2\r\n]\r\n", {"a": [I(1), I(2)]})
valid("array/strings-with-commas", "a = [\"a,b\", 'c,d', \"\"\"e,\nf\"\"\"]\n", {"a": [S("a,b"), S("c,d"), S("e,\nf")]})
valid("array/string-quote-comma", "a = [ \"x\\\",\", \"y\" ]\n", {"a": [S("x\","), S("y")]})
valid("array/nested-inline-in-array", "a = [ { b = [ { c = 1 } ] } ]\n", {"a": [{"b": [{"c": I(1)}]}]})
valid("array/depth-100", "a = " + "[" * 100 + "]" * 100 + "\n", {"a": json.loads("[" * 100 + "]" * 100)})
valid("array/table-after-static-array", "a = [1]\n[b]\n", {"a": [I(1)], "b": {}})
valid("array/inline-table-multiline-array", "a = { b = [\n  1,\n  2\n] }\n", {"a": {"b": [I(1), I(2)]}})

# --- inline tables -------------------------------------------------------------------------
valid("inline/name", "name = { first = \"Tom\", last = \"Preston-Werner\" }\n",
      {"name": {"first": S("Tom"), "last": S("Preston-Werner")}})
valid("inline/point", "point = { x = 1, y = 2 }\n", {"point": {"x": I(1), "y": I(2)}})
valid("inline/dotted-key", "animal = { type.name = \"pug\" }\n", {"animal": {"type": {"name": S("pug")}}})
valid("inline/dotted-keys-shared", "a = { b.c = 1, b.d = 2, e = 3 }\n", {"a": {"b": {"c": I(1), "d": I(2)}, "e": I(3)}})
valid("inline/empty", "a = {}\n", {"a": {}})
valid("inline/empty-space", "a = { }\n", {"a": {}})
valid("inline/nested", "a = { b = { c = { d = 1 } } }\n", {"a": {"b": {"c": {"d": I(1)}}}})
valid("inline/array-values", "a = { b = [1, 2], c = [] }\n", {"a": {"b": [I(1), I(2)], "c": []}})
valid("inline/then-key", "a = {b = 1}\nc = 2\n", {"a": {"b": I(1)}, "c": I(2)})
valid("inline/no-spaces", "a={b=1,c=2}\n", {"a": {"b": I(1), "c": I(2)}})
valid("inline/quoted-keys", "a = { \"b c\" = 1, 'd' = 2 }\n", {"a": {"b c": I(1), "d": I(2)}})
valid("inline/ml-string-value", "a = { b = \"\"\"x\ny\"\"\" }\n", {"a": {"b": S("x\ny")}})
valid("inline/in-table", "[t]\na = { b = 1 }\n", {"t": {"a": {"b": I(1)}}})
valid("inline/spaces-tabs", "a = {\tb = 1 ,\tc = 2\t}\n", {"a": {"b": I(1), "c": I(2)}})
valid("inline/all-types", "a = { s = \"x\", i = 1, f = 1.5, b = false, d = 2020-01-01, t = 10:00:00, o = 2020-01-01T10:00:00Z, l = 2020-01-01T10:00:00, r = [], n = {} }\n",
      {"a": {"s": S("x"), "i": I(1), "f": F("1.5"), "b": B(False), "d": LD("2020-01-01"), "t": LT("10:00:00"),
             "o": ODT("2020-01-01T10:00:00Z"), "l": LDT("2020-01-01T10:00:00"), "r": [], "n": {}}})
valid("inline/key-same-as-outer", "a = { a = { a = 1 } }\n", {"a": {"a": {"a": I(1)}}})

# --- tables -----------------------------------------------------------------------------
valid("table/empty", "[table]\n", {"table": {}})
valid("table/two", "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456\n",
      {"table-1": {"key1": S("some string"), "key2": I(123)}, "table-2": {"key1": S("another string"), "key2": I(456)}})
valid("table/quoted-dotted", "[dog.\"tater.man\"]\ntype.name = \"pug\"\n", {"dog": {"tater.man": {"type": {"name": S("pug")}}}})
valid("table/whitespace", "[a.b.c]\n[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"\u029e\" . 'l' ]\n",
      {"a": {"b": {"c": {}}}, "d": {"e": {"f": {}}}, "g": {"h": {"i": {}}}, "j": {"\u029e": {"l": {}}}})
valid("table/tab-in-header", "[\ta\t.\tb\t]\n", {"a": {"b": {}}})
valid("table/super-after", "[x.y.z.w]\n[x]\n", {"x": {"y": {"z": {"w": {}}}}})
valid("table/super-after-with-keys", "[x.y]\na = 1\n[x]\nb = 2\n", {"x": {"y": {"a": I(1)}, "b": I(2)}})
valid("table/super-before", "[x]\nb = 2\n[x.y]\na = 1\n", {"x": {"b": I(2), "y": {"a": I(1)}}})
valid("table/empty-name", "[\"\"]\na = 1\n[a.\"\"]\nb = 2\n", {"": {"a": I(1)}, "a": {"": {"b": I(2)}}})
valid("table/empty-literal-name", "['']\nx = 1\n", {"": {"x": I(1)}})
valid("table/keywords", "[true]\n[false]\n[inf]\n[nan]\n", {"true": {}, "false": {}, "inf": {}, "nan": {}})
valid("table/numeric-dotted", "[1.2]\na = 1\n", {"1": {"2": {"a": I(1)}}})
valid("table/hash-in-name", "[\"key#group\"]\nanswer = 42\n", {"key#group": {"answer": I(42)}})
valid("table/reopen-parent-sub", "[a]\n[b]\n[a.c]\n", {"a": {"c": {}}, "b": {}})
valid("table/no-eol", "[a]", {"a": {}})
valid("table/sub-empty", "[a]\n[a.b]\n", {"a": {"b": {}}})
valid("table/after-root-keys", "a = 1\n[t]\nb = 2\n", {"a": I(1), "t": {"b": I(2)}})
valid("table/with-literal-name", "['a']\n[a.'b']\n['a'.\"b\".c]\n", {"a": {"b": {"c": {}}}})
valid("table/with-single-quotes-dots", "['a.b']\nx = 1\n", {"a.b": {"x": I(1)}})
valid("table/implicit-many", "[a.b.c]\nx = 1\n[a.b.d]\ny = 2\n[a.e]\n",
      {"a": {"b": {"c": {"x": I(1)}, "d": {"y": I(2)}}, "e": {}}})
valid("table/sibling-of-dotted", "[a]\nb.c = 1\n[a.d]\n", {"a": {"b": {"c": I(1)}, "d": {}}})
valid("table/dotted-deep-header", "[a]\nb.c.d = 1\n[a.b.c.e]\nf = 2\n", {"a": {"b": {"c": {"d": I(1), "e": {"f": I(2)}}}}})
valid("table/unicode-quoted-name", "[\"\u00e9t\u00e9\"]\n", {"\u00e9t\u00e9": {}})

# --- arrays of tables -------------------------------------------------------------------
valid("aot/products", "[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table within the array\n\n[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"\n",
      {"products": [{"name": S("Hammer"), "sku": I(738594937)}, {}, {"name": S("Nail"), "sku": I(284758393), "color": S("gray")}]})
valid("aot/fruits",
      "[[fruits]]\nname = \"apple\"\n\n[fruits.physical]\ncolor = \"red\"\nshape = \"round\"\n\n[[fruits.varieties]]\nname = \"red delicious\"\n\n[[fruits.varieties]]\nname = \"granny smith\"\n\n\n[[fruits]]\nname = \"banana\"\n\n[[fruits.varieties]]\nname = \"plantain\"\n",
      {"fruits": [{"name": S("apple"), "physical": {"color": S("red"), "shape": S("round")},
                   "varieties": [{"name": S("red delicious")}, {"name": S("granny smith")}]},
                  {"name": S("banana"), "varieties": [{"name": S("plantain")}]}]})
valid("aot/empty-elements", "[[a]]\n[[a]]\n", {"a": [{}, {}]})
valid("aot/implicit-parent", "[[albums.songs]]\nname = \"Glory Days\"\n", {"albums": {"songs": [{"name": S("Glory Days")}]}})
valid("aot/implicit-then-explicit", "[[a.b]]\nx = 1\n[a]\ny = 2\n", {"a": {"b": [{"x": I(1)}], "y": I(2)}})
valid("aot/within-dotted", "[fruit]\napple.color = \"red\"\n[[fruit.apple.seeds]]\nsize = 2\n",
      {"fruit": {"apple": {"color": S("red"), "seeds": [{"size": I(2)}]}}})
valid("aot/sub-table-each-element", "[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2\n",
      {"a": [{"b": {"x": I(1)}}, {"b": {"x": I(2)}}]})
valid("aot/spaces-in-brackets", "[[ a ]]\n[[\ta . b\t]]\n", {"a": [{"b": [{}]}]})
valid("aot/nested-deep", "[[a]]\n[[a.b]]\n[[a.b.c]]\nx = 1\n[[a.b]]\n",
      {"a": [{"b": [{"c": [{"x": I(1)}]}, {}]}]})
valid("aot/open-parent-table", "[[parent-table.arr]]\n[parent-table]\nnot-arr = 1\n",
      {"parent-table": {"arr": [{}], "not-arr": I(1)}})
valid("aot/many", "".join("[[a]]\nn = %d\n" % i for i in range(50)), {"a": [{"n": I(i)} for i in range(50)]})
valid("aot/dotted-keys-in-element", "[[a]]\nb.c = 1\n[[a]]\nb.c = 2\n", {"a": [{"b": {"c": I(1)}}, {"b": {"c": I(2)}}]})
valid("aot/quoted-name", "[[\"a b\"]]\n[[\"a b\"]]\nx = 1\n", {"a b": [{}, {"x": I(1)}]})
valid("aot/table-array-table-array", "[[a]]\n[[a.b]]\n[a.b.c]\nd = 1\n", {"a": [{"b": [{"c": {"d": I(1)}}]}]})
valid("aot/string-with-backslash", "[[a]]\nb = \"\\\\x\"\n", {"a": [{"b": S("\\x")}]})

# --- whole documents ---------------------------------------------------------------------
valid("document/config-like",
      "# a runtime configuration\n[hypervisor.qemu]\npath = \"/usr/bin/qemu-system-x86_64\"\nkernel_params = \"\"\nmachine_type = \"q35\"\ndefault_vcpus = 1\ndefault_memory = 2048\nenable_debug = false\n\n[proxy.kata]\npath = \"/usr/libexec/kata-containers/kata-proxy\"\n\n[runtime]\nenable_debug = true\nexperimental = []\n",
      {"hypervisor": {"qemu": {"path": S("/usr/bin/qemu-system-x86_64"), "kernel_params": S(""), "machine_type": S("q35"),
                               "default_vcpus": I(1), "default_memory": I(2048), "enable_debug": B(False)}},
       "proxy": {"kata": {"path": S("/usr/libexec/kata-containers/kata-proxy")}},
       "runtime": {"enable_debug": B(True), "experimental": []}})
valid("document/owner-database",
      "title = \"An example\"\n\n[owner]\nname = \"Someone\"\ndob = 1979-05-27T07:32:00-08:00\n\n[database]\nenabled = true\nports = [ 8000, 8001, 8002 ]\ndata = [ [\"delta\", \"phi\"], [3.14] ]\ntemp_targets = { cpu = 79.5, case = 72.0 }\n\n[servers]\n\n[servers.alpha]\nip = \"10.0.0.1\"\nrole = \"frontend\"\n\n[servers.beta]\nip = \"10.0.0.2\"\nrole = \"backend\"\n",
      {"title": S("An example"), "owner": {"name": S("Someone"), "dob": ODT("1979-05-27T07:32:00-08:00")},
       "database": {"enabled": B(True), "ports": [I(8000), I(8001), I(8002)], "data": [[S("delta"), S("phi")], [F("3.14")]],
                    "temp_targets": {"cpu": F("79.5"), "case": F("72.0")}},
       "servers": {"alpha": {"ip": S("10.0.0.1"), "role": S("frontend")}, "beta": {"ip": S("10.0.0.2"), "role": S("backend")}}})
valid("document/compact", "a=1\n[b]\nc=\"d\"\n[[e]]\nf=[1,{g=2}]\n[e.h]\ni=1979-05-27\n",
      {"a": I(1), "b": {"c": S("d")}, "e": [{"f": [I(1), {"g": I(2)}], "h": {"i": LD("1979-05-27")}}]})
valid("document/many-keys", "".join("k%d = %d\n" % (i, i) for i in range(300)), {"k%d" % i: I(i) for i in range(300)})
valid("document/keys-named-type-value", "type = \"x\"\nvalue = \"y\"\n", {"type": S("x"), "value": S("y")})

valid("datetime/year-zero", "a = 0000-01-01\nb = 0000-01-01T00:00:00Z\n",
      {"a": LD("0000-01-01"), "b": ODT("0000-01-01T00:00:00Z")})
valid("string/astral-literal-char", "a = '\U0010FFFF'\n", {"a": S("\U0010FFFF")})
valid("aot/dotted-then-header-in-element", "[[a]]\nb.c = 1\n[a.b.d]\ne = 2\n",
      {"a": [{"b": {"c": I(1), "d": {"e": I(2)}}}]})
valid("aot/dotted-in-new-element", "[[a]]\n[a.b]\n[[a]]\nb.c = 1\n", {"a": [{"b": {}}, {"b": {"c": I(1)}}]})
valid("inline/nested-dotted-deep", "t = { f = { a.c = 1, a.d.e = 2 }, g.h = 3 }\n",
      {"t": {"f": {"a": {"c": I(1), "d": {"e": I(2)}}}, "g": {"h": I(3)}}})
valid("key/dotted-with-all-kinds", "a.\"b\".'c'.d = 1\n", {"a": {"b": {"c": {"d": I(1)}}}})

# ======================================================================= invalid ==========

CONTROLS = [("nul", "\x00"), ("soh", "\x01"), ("bs", "\x08"), ("vt", "\x0b"), ("ff", "\x0c"),
            ("so", "\x0e"), ("us", "\x1f"), ("del", "\x7f"), ("cr", "\r")]
for cname, ch in CONTROLS:
    invalid("control/basic-" + cname, "a = \"x" + ch + "y\"\n")
    invalid("control/literal-" + cname, "a = 'x" + ch + "y'\n")
    invalid("control/ml-basic-" + cname, "a = \"\"\"x" + ch + "y\"\"\"\n")
    invalid("control/ml-literal-" + cname, "a = '''x" + ch + "y'''\n")
    invalid("control/comment-" + cname, "a = 1 # x" + ch + "y\n")
    invalid("control/bare-" + cname, "a = 1\n" + ch + " b = 2\n")
invalid("control/lf-in-basic", "a = \"x\ny\"\n")
invalid("control/lf-in-literal", "a = 'x\ny'\n")
invalid("control/cr-line-ending", "a = 1\rb = 2\r")
invalid("control/cr-after-value", "a = [1,\r2]\n")
invalid("control/vertical-tab-as-space", "a =\x0b1\n")
invalid("control/formfeed-as-space", "a\x0c= 1\n")

ENC = [("lone-continuation-string", b"a = \"\x80\"\n"), ("overlong-slash", b"a = \"\xc0\xaf\"\n"),
       ("overlong-3byte", b"a = \"\xe0\x80\xaf\"\n"), ("surrogate", b"a = \"\xed\xa0\x80\"\n"),
       ("above-max", b"a = \"\xf4\x90\x80\x80\"\n"), ("f5-lead", b"a = \"\xf5\x80\x80\x80\"\n"),
       ("truncated-at-end", b"a = \"x\"\n# \xe2\x82"), ("ff-byte", b"a = \"\xff\"\n"),
       ("in-comment", b"# \xfe\na = 1\n"), ("in-literal", b"a = '\xc3'\n"), ("in-ml-basic", b"a = \"\"\"\xc3\x28\"\"\"\n"),
       ("in-ml-literal", b"a = '''\xa0'''\n"), ("in-key", b"\"\xc3\" = 1\n"), ("utf16-bom", b"\xff\xfea\x00=\x001\x00"),
       ("utf16-le", b"a\x00 \x00=\x00 \x001\x00\n\x00"), ("bom-not-at-start", "a = 1\n\ufeffb = 2\n".encode()),
       ("bom-twice", "\ufeff\ufeffa = 1\n".encode()), ("latin1", b"a = \"caf\xe9\"\n")]
for name, data in ENC:
    invalid("encoding/" + name, data)

for name, esc in [("a", "\\a"), ("e", "\\e"), ("x", "\\x41"), ("single-quote", "\\'"), ("slash", "\\/"),
                  ("zero", "\\0"), ("v", "\\v"), ("capital-n", "\\N"), ("space", "\\ "), ("percent", "\\%"),
                  ("u-short", "\\u12"), ("u-bad-digit", "\\u123G"), ("u-surrogate-high", "\\uD800"),
                  ("u-surrogate-low", "\\uDFFF"), ("U-surrogate", "\\U0000D800"), ("U-too-big", "\\U00110000"),
                  ("U-all-f", "\\UFFFFFFFF"), ("u-empty", "\\u"), ("U-short", "\\U1234567"), ("u-sign", "\\u+123"),
                  ("tab", "\\\t"), ("backslash-at-end", "\\")]:
    invalid("string/bad-escape-" + name, "a = \"x" + esc + "\"\n")
for name, esc in [("a", "\\a"), ("u-surrogate", "\\uDABC"), ("U-too-big", "\\U00120000"), ("x", "\\x00"),
                  ("space-then-text", "\\ x\n"), ("tab-then-text", "\\\tx\n")]:
    invalid("string/ml-bad-escape-" + name, "a = \"\"\"x" + esc + "\"\"\"\n")
invalid("string/key-bad-escape", "\"\\q\" = 1\n")
invalid("string/unterminated-basic", "a = \"abc\n")
invalid("string/unterminated-basic-eof", "a = \"abc")
invalid("string/unterminated-literal", "a = 'abc\n")
invalid("string/unterminated-ml-basic", "a = \"\"\"abc\n")
invalid("string/unterminated-ml-literal", "a = '''abc\n")
invalid("string/unterminated-ml-basic-two-quotes", "a = \"\"\"abc\"\"\n")
invalid("string/unterminated-ml-literal-two-quotes", "a = '''abc''")
invalid("string/escaped-close", "a = \"abc\\\"\n")
invalid("string/ml-six-quotes", "a = \"\"\"x\"\"\"\"\"\"\n")
invalid("string/ml-literal-six-quotes", "a = '''x''''''\n")
invalid("string/ml-three-quotes-inside", "a = \"\"\"x\"\"\"y\"\"\"\n")
invalid("string/ml-literal-three-quotes-inside", "a = '''x'''y'''\n")
invalid("string/text-after", "a = \"x\" y\n")
invalid("string/two-strings", "a = \"x\"\"y\"\n")
invalid("string/literal-two-strings", "a = 'x''y'\n")
invalid("string/wrong-close", "a = \"x'\n")
invalid("string/ml-key", "\"\"\"a\"\"\" = 1\n")
invalid("string/ml-literal-key", "'''a''' = 1\n")
invalid("string/literal-apostrophe", "a = 'it's'\n")
invalid("string/missing-quotes", "a = hello\n")
invalid("string/single-quote-mismatch", "a = '''x'\n")
invalid("string/basic-across-lines", "a = \"x\\\ny\"\n")
invalid("string/concat", "a = \"a\" \"b\"\n")
invalid("string/backslash-in-literal-key-not-escape", "'a' \\ = 1\n")

for name, text in [("leading-zero", "01"), ("leading-zero-plus", "+01"), ("leading-zero-minus", "-01"),
                   ("double-zero", "00"), ("zero-underscore-zero", "0_0"), ("leading-zeros-many", "0000123"),
                   ("leading-underscore", "_1"), ("trailing-underscore", "1_"), ("double-underscore", "1__2"),
                   ("hex-leading-underscore", "0x_1"), ("hex-trailing-underscore", "0x1_"), ("bin-leading-underscore", "0b_1"),
                   ("oct-leading-underscore", "0o_1"), ("trailing-underscore-group", "1_000_"),
                   ("capital-hex", "0X1"), ("capital-oct", "0O1"), ("capital-bin", "0B1"),
                   ("plus-hex", "+0x1"), ("minus-oct", "-0o7"), ("minus-bin", "-0b1"), ("plus-bin", "+0b1"),
                   ("bin-digit-2", "0b2"), ("oct-digit-8", "0o8"), ("hex-digit-g", "0xG"),
                   ("hex-empty", "0x"), ("oct-empty", "0o"), ("bin-empty", "0b"),
                   ("double-plus", "++1"), ("double-minus", "--1"), ("plus-minus", "+-1"), ("sign-only", "+"),
                   ("minus-only", "-"), ("overflow", "9223372036854775808"), ("underflow", "-9223372036854775809"),
                   ("hex-overflow", "0x8000000000000000"), ("oct-overflow", "0o1000000000000000000000"),
                   ("bin-overflow", "0b1" + "0" * 63), ("huge", "99999999999999999999999999"),
                   ("text-after", "123abc"), ("space-inside", "1 2"), ("hex-float", "0x1.5"),
                   ("underscore-after-sign", "+_1"), ("comma-group", "1,000"), ("hex-space", "0x 1"),
                   ("dot-prefix-oct", "0o1.2"), ("leading-zero-hex-style", "00x1")]:
    invalid("integer/" + name, "a = " + text + "\n")

for name, text in [("leading-point", ".5"), ("trailing-point", "5."), ("leading-point-plus", "+.5"),
                   ("trailing-point-minus", "-5."), ("point-before-exp", "1.e5"), ("exp-empty", "1e"),
                   ("exp-sign-only", "1e+"), ("exp-leading-underscore", "1e_5"), ("exp-trailing-underscore", "1e5_"),
                   ("underscore-before-point", "1_.5"), ("underscore-after-point", "1._5"), ("trailing-underscore", "1.5_"),
                   ("leading-zero", "01.5"), ("leading-zero-minus", "-01.5"), ("leading-zero-plus", "+01.5"),
                   ("leading-zeros-exp", "00e1"), ("double-point", "1.2.3"), ("double-exp", "1e2e3"),
                   ("exp-with-point", "1e2.3"), ("double-e", "1ee2"), ("upper-e-empty", "1.5E"),
                   ("inf-underscore", "inf_"), ("inf-capital", "Inf"), ("nan-capital", "NaN"), ("infinity", "infinity"),
                   ("inf-incomplete", "in"), ("nan-incomplete", "na"), ("plus-inf-incomplete", "+in"),
                   ("nan-suffix", "-nan1"), ("nan-underscore", "nan_"), ("inf-upper", "INF"), ("overflow", "1e400"),
                   ("overflow-negative", "-1.8e308"), ("exp-only", "e5"), ("leading-underscore", "_1.5"),
                   ("double-underscore", "1__0.5"), ("double-sign", "+-1.5"), ("exp-double-sign", "1e+-5"),
                   ("comma-decimal", "1,5"), ("point-only", "."), ("minus-point", "-.")]:
    invalid("float/" + name, "a = " + text + "\n")

for name, text in [("capital-true", "True"), ("capital-false", "FALSE"), ("almost-true", "tru"), ("almost-false", "fals"),
                   ("true-extra", "truee"), ("false-extra", "falsey"), ("just-t", "t"), ("just-f", "f"), ("yes", "yes"),
                   ("mixed-case", "tRUE"), ("quoted-then-text", "true false"), ("true-dash", "true-1")]:
    invalid("bool/" + name, "a = " + text + "\n")

for name, text in [("feb-30", "1979-02-30"), ("feb-29-non-leap", "2023-02-29"), ("feb-29-1900", "1900-02-29"),
                   ("month-13", "1979-13-01"), ("month-00", "1979-00-01"), ("day-00", "1979-01-00"),
                   ("day-32", "1979-01-32"), ("april-31", "1979-04-31"), ("june-31", "1979-06-31"),
                   ("sept-31", "1979-09-31"), ("nov-31", "1979-11-31"),
                   ("short-year", "79-05-27"), ("short-month", "1979-5-27"), ("short-day", "1979-05-7"),
                   ("hour-25", "1979-05-27T25:00:00"), ("hour-24", "1979-05-27T24:00:00"), ("minute-60", "1979-05-27T07:60:00"),
                   ("second-61", "1979-05-27T07:32:61"), ("no-seconds", "1979-05-27T07:32"), ("no-seconds-z", "1979-05-27T07:32Z"),
                   ("short-hour", "1979-05-27T7:32:00"), ("empty-fraction", "1979-05-27T07:32:00."),
                   ("offset-hour-24", "1979-05-27T07:32:00+24:00"), ("offset-minute-60", "1979-05-27T07:32:00+07:60"),
                   ("offset-no-colon", "1979-05-27T07:32:00+0700"), ("offset-hours-only", "1979-05-27T07:32:00-07"),
                   ("bad-offset-letter", "1979-05-27T07:32:00X"), ("trailing-t", "1979-05-27T"),
                   ("bad-separator", "1979-05-27X07:32:00"), ("two-spaces", "1979-05-27  07:32:00"),
                   ("time-no-seconds", "07:32"), ("time-short-hour", "7:32:00"), ("time-with-z", "07:32:00Z"),
                   ("time-with-offset", "07:32:00+01:00"), ("time-hour-24", "24:00:00"), ("time-minute-60", "07:60:00"),
                   ("time-second-61", "07:32:61"), ("time-empty-fraction", "07:32:00."),
                   ("double-offset", "1979-05-27T07:32:00Z+01:00"), ("space-before-z", "1979-05-27 07:32:00 Z"),
                   ("five-digit-year", "19790-05-27"), ("slashes", "1979/05/27"), ("date-trailing-text", "1979-05-27x"),
                   ("underscore", "1979-05-27T07:32:00_0"), ("fraction-letters", "07:32:00.5a"),
                   ("lower-offset-letter", "1979-05-27T07:32:00y"), ("date-minus-sign", "-1979-05-27"),
                   ("time-single-digit-seconds", "07:32:0"), ("month-letters", "1979-MM-27"),
                   ("datetime-extra-colon", "1979-05-27T07:32:00:00")]:
    invalid("datetime/" + name, "a = " + text + "\n")

for name, doc in [("space-in-bare", "a b = 1\n"), ("empty-key", "= 1\n"), ("no-value", "a = \n"),
                  ("no-value-eof", "a ="), ("value-next-line", "a =\n1\n"), ("no-equals", "a\n"), ("no-equals-eof", "a"),
                  ("unterminated-quoted", "\"a = 1\n"), ("dot-before-equals", "a. = 1\n"), ("leading-dot", ".a = 1\n"),
                  ("double-dot", "a..b = 1\n"), ("two-equals", "a = = 1\n"), ("double-equals", "a == 1\n"),
                  ("two-pairs-one-line", "a = 1 b = 2\n"), ("after-header", "[a] b = 1\n"), ("after-array", "a = [1] b = 2\n"),
                  ("after-inline", "a = {} b = 2\n"), ("non-ascii-bare", "\u00e9 = 1\n"), ("at-sign", "a@ = 1\n"),
                  ("partial-quoted", "\"a\"b = 1\n"), ("bare-then-quoted", "a\"b\" = 1\n"), ("newline-before-equals", "a\n= 1\n"),
                  ("comment-before-equals", "a # c\n= 1\n"), ("dollar", "$ = 1\n"), ("lone-equals-line", "a = 1\n= 2\n"),
                  ("colon", "a: 1\n"), ("key-with-slash", "a/b = 1\n"), ("open-bracket-key", "[a = 1\n"),
                  ("plus-key", "+a = 1\n"), ("star", "* = 1\n"), ("dotted-trailing-space-dot", "a . = 1\n"),
                  ("empty-bare-between-dots", "a. .b = 1\n"), ("hash-key", "# only\n#\n= 1\n"), ("tilde", "~ = 1\n"),
                  ("value-then-key", "a = 1 b\n"), ("start-dot-header-key", "[.]\n"),
                  ("key-only-quotes-unclosed", "' = 1\n"), ("equals-in-bare", "a=b=1\n")]:
    invalid("key/" + name, doc)

for name, doc in [("twice", "a = 1\na = 2\n"), ("bare-then-quoted", "a = 1\n\"a\" = 2\n"),
                  ("bare-then-literal", "a = 1\n'a' = 2\n"), ("dotted-twice", "a.b = 1\na.b = 2\n"),
                  ("dotted-then-plain", "a.b = 1\na = 2\n"), ("plain-then-dotted", "a = 1\na.b = 2\n"),
                  ("inline-then-dotted", "a = {}\na.b = 1\n"), ("table-twice", "[a]\nb = 1\n[a]\nc = 2\n"),
                  ("empty-table-twice", "[a]\n[a]\n"), ("super-twice", "[a.b]\n[a]\n[a]\n"),
                  ("key-then-table", "[a]\nb = 1\n[a.b]\n"), ("dotted-then-header", "[fruit]\napple.color = \"red\"\n[fruit.apple]\n"),
                  ("dotted-deep-then-header", "[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]\n"),
                  ("header-then-dotted", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n"),
                  ("implicit-header-then-dotted", "[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1\n"),
                  ("aot-then-dotted", "[[a.b]]\n[a]\nb.y = 2\n"), ("aot-then-table", "[[a]]\n[a]\n"),
                  ("table-then-aot", "[a]\n[[a]]\n"), ("static-array-then-aot", "a = []\n[[a]]\n"),
                  ("static-inline-array-then-aot", "a = [{}]\n[[a]]\n"), ("value-then-table", "a = 1\n[a]\n"),
                  ("value-then-aot", "a = 1\n[[a]]\n"), ("value-then-subtable", "a = 1\n[a.b]\n"),
                  ("array-then-subtable", "a = [1]\n[a.b]\n"), ("static-aot-then-subtable", "a = [{b = 1}]\n[a.c]\n"),
                  ("inline-then-subtable", "a = {b = 1}\n[a.c]\n"), ("inline-then-table", "a = {b = 1}\n[a]\n"),
                  ("inline-then-dotted-key", "a = {b = 1}\na.c = 2\n"), ("inline-dotted-then-extend", "a = {b.c = 1}\na.b.d = 2\n"),
                  ("inline-nested-extend", "a = {b = {c = 1}, b.d = 2}\n"), ("inline-key-twice", "a = {b = 1, b = 2}\n"),
                  ("inline-dotted-twice", "a = {b.c = 1, b.c = 2}\n"), ("inline-value-then-dotted", "a = {b = 1, b.c = 2}\n"),
                  ("array-implicit-then-aot", "[[albums.songs]]\nname = \"Glory Days\"\n[[albums]]\nname = \"Born in the USA\"\n"),
                  ("dotted-then-inline", "a.b = 1\na = {}\n"), ("inline-in-table-then-header", "[a]\nb = {}\n[a.b]\n"),
                  ("dotted-table-reopen-header", "[a]\nb.c = 1\n[a]\n"), ("bool-then-dotted", "a = true\na.b = 1\n"),
                  ("int-then-deeper", "a.b = 1\na.b.c = 2\n"), ("quoted-and-bare-in-table", "[t]\n\"a\" = 1\na = 2\n"),
                  ("key-vs-header-defined-sub", "[a.b]\n[a]\nb = 1\n"), ("aot-subtable-twice", "[[a]]\n[a.b]\n[a.b]\n"),
                  ("quoted-dot-header-twice", "[\"a.b\"]\n['a.b']\n"), ("whitespace-header-twice", "[ a ]\n[a]\n"),
                  ("dotted-header-twice", "[a.b]\n[a . b]\n"), ("aot-after-static-in-table", "[t]\na = [1]\n[[t.a]]\n"),
                  ("inline-then-aot-sub", "a = {}\n[[a.b]]\n"), ("root-dotted-then-table", "a.b = 1\n[a.b]\n"),
                  ("empty-key-twice", "\"\" = 1\n'' = 2\n"), ("nul-key-twice", "\"\\u0000\" = 1\n\"\\u0000\" = 2\n"),
                  ("escaped-same-key", "\"\\u0061\" = 1\na = 2\n"), ("aot-element-key-twice", "[[a]]\nb = 1\nb = 2\n"),
                  ("dotted-into-aot", "[[a]]\n[b]\n[a]\n")]:
    invalid("redefine/" + name, doc)

for name, doc in [("trailing-comma", "a = {b = 1,}\n"), ("newline-inside", "a = {b = 1\n}\n"),
                  ("newline-after-open", "a = {\nb = 1}\n"), ("double-comma", "a = {b = 1,, c = 2}\n"),
                  ("only-comma", "a = {,}\n"), ("no-comma", "a = {b = 1 c = 2}\n"), ("key-without-value", "a = {b}\n"),
                  ("empty-value", "a = {b = }\n"), ("unclosed", "a = {b = 1\n"), ("unclosed-eof", "a = {b = 1"),
                  ("comment-inside", "a = { # c\n}\n"), ("trailing-comma-space", "a = {b = 1, }\n"),
                  ("leading-comma", "a = {, b = 1}\n"), ("close-bracket", "a = {b = 1]\n"), ("semicolon", "a = {b = 1; c = 2}\n"),
                  ("newline-between-pairs", "a = {b = 1,\nc = 2}\n"), ("text-after", "a = {} x\n"),
                  ("colon", "a = {b: 1}\n"), ("nested-unclosed", "a = {b = {c = 1}\n"), ("double-open", "a = {{b = 1}}\n")]:
    invalid("inline/" + name, doc)

for name, doc in [("double-comma", "a = [1,,2]\n"), ("only-comma", "a = [,]\n"), ("leading-comma", "a = [,1]\n"),
                  ("no-comma", "a = [1 2]\n"), ("unclosed", "a = [1\n"), ("unclosed-comma", "a = [1,\n"),
                  ("unclosed-eof", "a = ["), ("text-after", "a = [1] 2\n"), ("double-trailing-comma", "a = [1, 2,, ]\n"),
                  ("strings-no-comma", "a = [ \"a\" \"b\" ]\n"), ("bare-word", "a = [ 1, a ]\n"), ("extra-close", "a = [1]]\n"),
                  ("close-brace", "a = [1}\n"), ("table-inside", "a = [\n[b]\n]\n"), ("key-value-inside", "a = [b = 1]\n"),
                  ("semicolon", "a = [1; 2]\n"), ("nested-unclosed", "a = [[1]\n"), ("text-before-comma", "a = [1 x, 2]\n"),
                  ("cr-inside", "a = [1\r,2]\n"), ("comment-eats-close", "a = [1 # ]\n")]:
    invalid("array/" + name, doc)

for name, doc in [("empty", "[]\n"), ("unclosed", "[a\n"), ("unclosed-eof", "[a"), ("extra-close", "[a]]\n"),
                  ("aot-unclosed", "[[a]\n"), ("aot-space-close", "[[a] ]\n"), ("aot-space-open", "[ [a]]\n"),
                  ("space-in-name", "[a b]\n"), ("trailing-dot", "[a.]\n"), ("leading-dot", "[.a]\n"), ("double-dot", "[a..b]\n"),
                  ("text-after", "[a] x\n"), ("equals", "[a] = 1\n"), ("newline-inside", "[a\n]\n"), ("aot-empty", "[[]]\n"),
                  ("aot-extra-close", "[[a]]]\n"), ("nested-brackets", "[ [\"a\"] ]\n"), ("newline-after-dot", "[a.\nb]\n"),
                  ("partial-quoted", "[\"a\"b]\n"), ("hash-in-bare", "[a#b]\n"), ("equals-in-name", "[a=b]\n"),
                  ("ml-string-name", "[\"\"\"a\"\"\"]\n"), ("ml-literal-name", "['''a''']\n"), ("llbrace", "[ [table]]\n"),
                  ("rrbrace", "[[table] ]\n"), ("brace", "{a}\n"), ("non-ascii-bare", "[\u00e9]\n"), ("value-name", "[1979-05-27]x\n"),
                  ("aot-text-after", "[[a]] b = 1\n"), ("unclosed-quote", "[\"a]\n")]:
    invalid("table/" + name, doc)

invalid("limits/array-depth-200", "a = " + "[" * 200 + "]" * 200 + "\n")
invalid("limits/inline-depth-200", "a = " + "{b=" * 200 + "1" + "}" * 200 + "\n")
invalid("limits/dotted-key-200-parts", ".".join(["k"] * 200) + " = 1\n")
invalid("limits/header-200-parts", "[" + ".".join(["k"] * 200) + "]\n")
invalid("limits/aot-header-200-parts", "[[" + ".".join(["k"] * 200) + "]]\n")
invalid("limits/mixed-depth", "[" + ".".join(["k"] * 100) + "]\na = " + "[" * 40 + "]" * 40 + "\n")
invalid("redefine/inline-nested-conflict", "t = { f = { a.c = 1 }, f.a.t = { s = true } }\n")
invalid("redefine/aot-element-header-then-table", "[[a]]\n[a.b]\nx = 1\n[a]\n")
invalid("redefine/header-subtable-of-inline-in-aot", "[[a]]\nb = {}\n[a.b.c]\n")
invalid("datetime/year-three-digits", "a = 999-01-01\n")
invalid("datetime/month-three-digits", "a = 1999-001-01\n")
invalid("string/ml-literal-control-in-first-line", "a = '''\x01\n'''\n")
invalid("misc/bare-value", "1\n")
invalid("misc/bare-string", "\"a\"\n")
invalid("misc/only-equals", "=\n")
invalid("misc/garbage", "!!!\n")
invalid("misc/text-after-value-newline-key", "a = 1 2\n")
invalid("misc/unicode-space", "a\u00a0= 1\n")
invalid("misc/fullwidth-equals", "a \uff1d 1\n")
invalid("misc/json", "{\"a\": 1}\n")
invalid("misc/ini-semicolon-comment", "; comment\na = 1\n")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))


def main():
    for kind in ("valid", "invalid"):
        shutil.rmtree(os.path.join(ROOT, kind), ignore_errors=True)
    names = set()
    for name, doc, expected in VALID:
        assert name not in names, name
        names.add(name)
        write(os.path.join(ROOT, "valid", name + ".toml"), doc)
        write(os.path.join(ROOT, "valid", name + ".json"),
              json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    for name, doc in INVALID:
        assert ("!" + name) not in names, name
        names.add("!" + name)
        write(os.path.join(ROOT, "invalid", name + ".toml"), doc)
    print("%d valid, %d invalid" % (len(VALID), len(INVALID)))


if __name__ == "__main__":
    sys.exit(main())
