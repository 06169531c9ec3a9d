"""The whitelist parser reads what people type, exactly, and refuses the rest.

Every row compares the parsed value with a SymPy value built by hand, so a
change in precedence, implicit multiplication or number handling fails here.
"""

from __future__ import annotations

import pytest
import sympy as sp

from convexproof.runtime.errors import ConvexproofError, ParseError
from convexproof.parse import (LIMITS, normalise, parse_any, parse_condition, parse_expr, parse_name, symbol,
                               tokenize)

x, y, p, lam, mu, a, t = (symbol(n) for n in ("x", "y", "p", "lam", "mu", "a", "t"))
R = sp.Rational

# ----------------------------------------------------------------- expressions
EXPRESSIONS = [
    # powers: ^ and ** are the same; right-associative; unary minus binds looser
    ("x^2", x**2),
    ("x**2", x**2),
    ("2^3^2", sp.Integer(2) ** 9),
    ("-x^2", -(x**2)),
    ("x^-1", 1 / x),
    ("x^(1/2)", sp.sqrt(x)),
    ("x^0.5", sp.sqrt(x)),
    # implicit multiplication
    ("12x^2", 12 * x**2),
    ("2(x+1)", 2 * (x + 1)),
    ("2 (x + 1)", 2 * (x + 1)),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("x(x+1)", x * (x + 1)),
    ("2x y", 2 * x * y),
    ("3 sin(x)", 3 * sp.sin(x)),
    ("2pi x", 2 * sp.pi * x),
    ("(x)2", 2 * x),
    ("1/2x", x / 2),  # left to right, like Python: (1/2)*x
    ("007x", 7 * x),
    # lambda, the keyword, and Greek letters
    ("lambda*x^2", lam * x**2),
    ("λx^2", lam * x**2),
    ("λ x²", lam * x**2),
    ("μ + 1", mu + 1),
    ("µ + 1", mu + 1),  # MICRO SIGN, not Greek mu: NFKC maps it
    ("lam", lam),
    # unicode superscripts and subscripts
    ("x²", x**2),
    ("x³ + y⁴", x**3 + y**4),
    ("x⁻¹", 1 / x),
    ("x⁻²", x**-2),
    ("x¹⁰", x**10),
    ("e^x²", sp.exp(x**2)),
    ("sin²(x) + cos²(x)", sp.sin(x) ** 2 + sp.cos(x) ** 2),
    ("sin^2(x)", sp.sin(x) ** 2),
    ("log²(1+x)", sp.log(1 + x) ** 2),
    ("x₁ + x₂", symbol("x1") + symbol("x2")),
    # unicode operators
    ("−x", -x),
    ("x − 1", x - 1),
    ("x – 1", x - 1),  # en dash
    ("2·x", 2 * x),
    ("2×x", 2 * x),
    ("x ÷ 2", x / 2),
    ("√x", sp.sqrt(x)),
    ("√(x+1)", sp.sqrt(x + 1)),
    ("2√2", 2 * sp.sqrt(2)),
    ("√x y", sp.sqrt(x) * y),
    ("π x", sp.pi * x),
    ("½x", x / 2),
    # full-width and mathematical letters (NFKC)
    ("ｘ^2", x**2),
    ("（ｘ＋１）^２", (x + 1) ** 2),
    ("𝑥^2", x**2),
    ("ℯ^x", sp.exp(x)),
    ("x\u00a0+\u00a01", x + 1),  # no-break spaces
    ("x\u3000+ 1", x + 1),  # ideographic space
    ("x +\n1", x + 1),
    # decimals are exact rationals
    ("0.1", R(1, 10)),
    ("0.1 + 0.2", R(3, 10)),
    ("1.5x", R(3, 2) * x),
    (".5", R(1, 2)),
    ("2.", sp.Integer(2)),
    ("1e3", sp.Integer(1000)),
    ("1.5e-3", R(3, 2000)),
    ("2.5E2", sp.Integer(250)),
    ("0.1x^2 + 0.3", R(1, 10) * x**2 + R(3, 10)),
    # constants
    ("e", sp.E),
    ("e^x", sp.exp(x)),
    ("exp(x)", sp.exp(x)),
    ("pi", sp.pi),
    # functions
    ("log(1 + exp(x))", sp.log(1 + sp.exp(x))),
    ("ln(x)", sp.log(x)),
    ("abs(x)", sp.Abs(x)),
    ("max(0, x)", sp.Max(0, x)),
    ("max(0, 1 - x)", sp.Max(0, 1 - x)),
    ("min(x, y)", sp.Min(x, y)),
    ("max(" + ",".join(f"{i}x-{i*i}" for i in range(1, 9)) + ")", sp.Max(*[i * x - i * i for i in range(1, 9)])),
    ("max(0, 1-x) + max(0, 1+2x) + max(0, 1-3x)", sp.Max(0, 1 - x) + sp.Max(0, 1 + 2 * x) + sp.Max(0, 1 - 3 * x)),
    ("sqrt(1 + x^2)", sp.sqrt(1 + x**2)),
    ("cosh(x)", sp.cosh(x)),
    ("arctan(x)", sp.atan(x)),
    ("atan(x)", sp.atan(x)),
    ("sigmoid(x)", 1 / (1 + sp.exp(-x))),
    ("2**pi", sp.Integer(2) ** sp.pi),
    ("exp(999)", sp.exp(999)),
    ("10^200", sp.Integer(10) ** 200),
    ("(x^2)^2", x**4),
    ("x^150 * x^50", x**200),
    ("Piecewise((x, x > 0), (0, True))", sp.Piecewise((x, x > 0), (0, True))),
    # precedence of unary minus and division
    ("-x - -y", -x + y),
    ("-(x+1)", -x - 1),
    ("x/2/3", x / 6),
    ("x / (2 y)", x / (2 * y)),
    # absolute value written with bars (students type |x|, not abs(x))
    ("|x|", sp.Abs(x)),
    ("2|x| + |y|", 2 * sp.Abs(x) + sp.Abs(y)),
    ("|x - 2| + x^2", sp.Abs(x - 2) + x**2),
]


@pytest.mark.parametrize("text, expected", EXPRESSIONS, ids=[t for t, _ in EXPRESSIONS])
def test_parse_expr(text, expected):
    got = parse_expr(text)
    assert got == expected, f"{text!r} parsed as {got}, expected {expected}"
    assert sp.simplify(got - expected) == 0


def test_symbols_are_real_and_shared():
    v = parse_expr("x + y")
    assert all(s.is_real for s in v.free_symbols)
    assert v.free_symbols == {x, y}
    assert symbol("x") is symbol("x")


def test_decimals_are_not_floats():
    v = parse_expr("0.1x + 0.25")
    assert not v.atoms(sp.Float)
    assert v == x / 10 + R(1, 4)


# ------------------------------------------------------------------ conditions
CONDITIONS = [
    ("0 < p < 1", sp.And(sp.StrictLessThan(0, p), sp.StrictLessThan(p, 1))),
    ("0 ≤ p ≤ 1", sp.And(sp.LessThan(0, p), sp.LessThan(p, 1))),
    ("lam >= 3", sp.GreaterThan(lam, 3)),
    ("λ ≥ 3", sp.GreaterThan(lam, 3)),
    ("lambda ≥ 3", sp.GreaterThan(lam, 3)),
    ("x > 0", sp.StrictGreaterThan(x, 0)),
    ("x ⩾ 0", sp.GreaterThan(x, 0)),
    ("x != 0", sp.Ne(x, 0)),
    ("x ≠ 0", sp.Ne(x, 0)),
    ("x > 0 and y > 0", sp.And(x > 0, y > 0)),
    ("x > 0 && y > 0", sp.And(x > 0, y > 0)),
    ("x < -1 or x > 1", sp.Or(x < -1, x > 1)),
    ("−1 < t < 1", sp.And(sp.StrictLessThan(-1, t), sp.StrictLessThan(t, 1))),
    ("a = 2", sp.Eq(a, 2)),
    ("|a| <= 2", sp.LessThan(sp.Abs(a), 2)),
    ("x < -1 || x > 1", sp.Or(x < -1, x > 1)),
]


@pytest.mark.parametrize("text, expected", CONDITIONS, ids=[t for t, _ in CONDITIONS])
def test_parse_condition(text, expected):
    got = parse_condition(text)
    assert got == expected or sp.simplify(sp.Equivalent(got, expected)) == sp.true, f"{text!r} -> {got}"


# ----------------------------------------------------------- answers: parse_any
ANY = [
    ("(1, 2)", sp.Tuple(1, 2)),
    ("(0.5, -1)", sp.Tuple(R(1, 2), -1)),
    ("[[1, 2], [3, 4]]", sp.ImmutableMatrix([[1, 2], [3, 4]])),
    ("[1, 2]", sp.ImmutableMatrix([[1], [2]])),
    ("3/4", R(3, 4)),
    ("lam >= 3", sp.GreaterThan(lam, 3)),
    ("oo", sp.oo),
]


@pytest.mark.parametrize("text, expected", ANY, ids=[t for t, _ in ANY])
def test_parse_any(text, expected):
    assert parse_any(text) == expected


# ------------------------------------------------------------------------ names
NAMES = [("x", "x"), ("lambda", "lam"), ("λ", "lam"), ("  p ", "p"), ("x1", "x1"), ("ｘ", "x"), ("theta", "theta"),
         ("θ", "theta")]


@pytest.mark.parametrize("text, expected", NAMES)
def test_parse_name(text, expected):
    assert parse_name(text) == expected


BAD_NAMES = ["x y", "2x", "__import__", "e", "pi", "sin", "x+1", "", "a" * 40, "x.y", 'x"', "None", "import",
             "__import__(\"os\").system(\"id\")", "х"]


@pytest.mark.parametrize("text", BAD_NAMES)
def test_parse_name_refuses(text):
    with pytest.raises(ParseError):
        parse_name(text)


# ---------------------------------------------------------------- refusals
REFUSED = [
    # (input, a word the message must contain)
    ("__import__('os').system('ls')", "not allowed"),
    ("x.diff", "'.'"),
    ("().__class__", "'.'"),
    ("lambda: 1", "':'"),
    ("[x for x in y]", "'for'"),
    ("f'{x}'", "'"),
    ("(y:=1)", "':'"),
    ("x; import os", "';'"),
    ("x if y else z", "'if'"),
    ("x[0]", "Subscript"),
    ("{}", "'{'"),
    ("x @ y", "'@'"),
    ("x \\ y", "'\\'"),
    ("x % 2", "'%'"),
    ("x // 2", "valid"),
    ("~x", "'~'"),
    ("not x", "'not'"),
    ("getattr(x, 'y')", "'"),
    ("globals()", "globals"),
    ("factorial(10)", "factorial"),
    ("foo(x)", "foo"),
    ("__builtins__", "not allowed"),
    ("x\x00", "U+0000"),
    ("x\u200b+1", "U+200B"),
    ("x\u202e+1", "U+202E"),
    ("x\ufeff", "U+FEFF"),
    ("x\x1b[31m", "U+001B"),
    ("х^2", "U+0445"),  # Cyrillic ha
    ("xⁿ", "superscript"),
    ("xᵀ", "superscript"),
    ("sin⁻¹(x)", "arcsin"),
    ("10**10**10", "exponent"),
    ("((9**9)**9999)**9999", "exponent"),
    ("x**(10**6)", "exponent"),
    ("(x**100)**100", "exponent"),
    ("x^150 * x^150", "exponent"),
    ("2^(1/2)^200", "exponent"),
    ("1" * 61, "digits"),
    ("1e309", "range"),
    ("1e-400", "range"),
    ("1/0", "division by zero"),
    ("0^-1", "undefined"),
    ("1/(x-x)", "division by zero"),
    ("log(0)", "log(0)"),
    ("tan(pi/2)", "undefined"),
    ("sqrt(-1)", "real"),
    ("(-8)^(1/3)", "real"),
    ("log(-2)", "real"),
    ("asin(2)", "real"),
    ("exp(exp(exp(exp(10^100))))", "too large"),
    ("exp(10^60)", "too large"),
    ("e^(10^100)", "too large"),
    ("cosh(2000)", "too large"),
    ("2^(pi*10^10)", "too large"),
    ("(" * 400 + "x" + ")" * 400, "too long"),
    ("(" * 41 + "x" + ")" * 41, "nested"),
    ("sin(" * 41 + "x" + ")" * 41, "nested"),
    ("x" + "^x" * 120, "nested"),
    ("+".join(["x"] * 5000), "too long"),
    ("-" * 10000 + "x", "too long"),
    ("- " * 9 + "x", "signs"),
    ("a" * 30, "too long"),
    ("x +", "valid"),
    ("(x", "never closed"),
    ("x)", "no opening"),
    ("", "empty"),
    ("   ", "empty"),
    ("2 3", "valid"),
    ("sin(x, y)", "1 argument"),
    ("max()", "at least one"),
    ("sin", "needs an argument"),
    ("Piecewise((x, 1))", "condition"),
    ("Piecewise((x, x))", "condition"),
    ("Piecewise(x)", "pairs"),
    ("Piecewise(*x)", "starred"),
    ("x and y", "comparisons"),
    ("(x < 1) < 2", "comparison"),
    ("(1, 2) + 1", "arithmetic"),
    ("sin(x < 1)", "comparison"),
    (" + ".join(f"a{i}" for i in range(13)), "too many"),
    # regression: max of 60 linear terms made SymPy compare 1,770 pairs (34 s)
    ("max(" + ",".join(f"{i}x-{i*i}" for i in range(1, 61)) + ")", "too many"),
    ("max(" + ",".join(f"{i}x-{i*i}" for i in range(1, 10)) + ")", "too many"),
    ("max(max(x, y, 2x, 2y, 3x), max(3y, 4x, 4y, 5x))", "too many"),
    ("+".join(f"max(0, 1 - {i}x)" for i in range(1, 14)), "too many"),
    ("|x + 1", "never closed"),
]


@pytest.mark.parametrize("text, needle", REFUSED, ids=[repr(t[:30]) for t, _ in REFUSED])
def test_refused(text, needle):
    with pytest.raises(ParseError) as info:
        parse_any(text)
    msg = str(info.value)
    assert needle.lower() in msg.lower(), msg
    assert "\n" not in msg and len(msg) < 300


EXPR_ONLY_REFUSED = ["oo", "x + oo", "x > 0", "(1, 2)", "[1, 2]", "True"]


@pytest.mark.parametrize("text", EXPR_ONLY_REFUSED)
def test_parse_expr_wants_a_finite_expression(text):
    with pytest.raises(ParseError):
        parse_expr(text)


@pytest.mark.parametrize("text", ["x + 1", "x", "True", "(1, 2)", "x and y"])
def test_parse_condition_wants_a_condition(text):
    with pytest.raises(ParseError):
        parse_condition(text)


@pytest.mark.parametrize("text, allowed, ok", [
    ("x + 1", {"x"}, True), ("x + y", {"x"}, False), ("2", set(), True), ("lam x", {"x", "lam"}, True)])
def test_allowed_names(text, allowed, ok):
    if ok:
        parse_expr(text, allowed=allowed)
    else:
        with pytest.raises(ConvexproofError, match="unknown name"):
            parse_expr(text, allowed=allowed)


def test_non_text_is_refused():
    for bad in (None, 3, b"x"):
        with pytest.raises(ParseError):
            parse_expr(bad)  # type: ignore[arg-type]


def test_limits_are_documented():
    """Every key of LIMITS appears in docs/limits.md with its value."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text(encoding="utf-8")
    for key, value in LIMITS.items():
        assert f"`{key}`" in doc, key
        row = next(line for line in doc.splitlines() if f"`{key}`" in line)
        assert f"{value:,}" in row or str(value) in row, (key, row)


def test_normalise_and_tokenize_are_public():
    assert normalise("x²") == "x^(2)"
    assert [tok.text for tok in tokenize("2x")] == ["2", "*", "x"]


@pytest.mark.parametrize("n_ok", [LIMITS["max_depth"]])
def test_nesting_at_the_limit_is_accepted(n_ok):
    assert parse_expr("(" * n_ok + "x" + ")" * n_ok) == x


def test_exponent_at_the_limit_is_accepted():
    assert parse_expr(f"x^{LIMITS['max_exponent']}") == x ** LIMITS["max_exponent"]
