"""The whitelist parser: the only way text becomes a SymPy object.

Student answers, CLI expressions, ``--where`` conditions and exercise files all
come through here.  Nothing is ever handed to ``eval``, ``sympify`` or
``parse_expr``.  The pipeline is

1. *normalise*: refuse control and invisible characters, map Unicode that
   people type (``x²``, ``−``, ``λ``, ``≤``, ``·``) to ASCII, apply NFKC
   (full-width letters become ASCII);
2. *tokenise* with a regular-expression scanner that knows only numbers,
   names and a handful of operators (so quotes, dots after names, ``;``,
   ``:``, ``{``, ``@``, backslashes ... are refused outright), inserting ``*``
   for implicit multiplication (``12x^2``, ``2(x+1)``, ``(a)(b)``);
3. check the limits in :data:`LIMITS` (length, tokens, nesting, names);
4. ``ast.parse(..., mode="eval")`` of the rebuilt token string, then an
   *iterative* walk that admits only whitelisted node types, names and
   functions and builds SymPy objects by hand, checking number and exponent
   sizes before any arithmetic is done.

All symbols are real (``Symbol(name, real=True)``); use :func:`symbol` to
make the same symbol elsewhere.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from convexproof.parse.latex import from_latex, intervals, looks_like_latex
from convexproof.runtime.errors import ParseError

# --------------------------------------------------------------------------
# Limits: documented in one place (docs/limits.md repeats this table).
# --------------------------------------------------------------------------
LIMITS = {
    "max_length": 2000,  # characters of input
    "max_tokens": 600,  # tokens after normalisation
    "max_depth": 40,  # nesting of brackets
    "max_unary_run": 8,  # consecutive unary signs, e.g. "--x"
    "max_nodes": 1200,  # AST nodes
    "max_number_digits": 60,  # digits in one numeric literal
    "max_exponent": 200,  # |exponent| of a numeric power, also after SymPy combines (x**100)**100
    "max_exponent_digits": 12,  # digits of a rational exponent's numerator or denominator
    "max_exp_argument": 1000,  # |a| for exp(a), sinh(a), cosh(a), b**a with constant a (e**1000 ~ 10**434)
    "max_ast_depth": 100,  # nesting of operations (x**x**x**..., f(f(f(...))))
    "max_result_digits": 400,  # digits of an integer produced by folding
    "max_name_length": 24,  # characters of one name
    "max_symbols": 12,  # different names in one formula
    "max_piecewise_pieces": 20,  # (value, condition) pairs in one Piecewise
    "max_minmax_args": 8,  # arguments of one max/min (SymPy compares them pairwise: cost grows as n**2)
    "max_minmax_total": 24,  # arguments of all max/min calls in one formula
}

# Functions a user may call, mapped to SymPy constructors, with arity.
_SIGMOID = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
FUNCTIONS = {
    "sin": (sp.sin, 1), "cos": (sp.cos, 1), "tan": (sp.tan, 1),
    "asin": (sp.asin, 1), "acos": (sp.acos, 1), "atan": (sp.atan, 1),
    "arcsin": (sp.asin, 1), "arccos": (sp.acos, 1), "arctan": (sp.atan, 1),
    "sinh": (sp.sinh, 1), "cosh": (sp.cosh, 1), "tanh": (sp.tanh, 1),
    "exp": (sp.exp, 1), "log": (sp.log, 1), "ln": (sp.log, 1),
    "sqrt": (sp.sqrt, 1), "abs": (sp.Abs, 1), "Abs": (sp.Abs, 1),
    "sign": (sp.sign, 1), "sigmoid": (_SIGMOID, 1),
    "max": (sp.Max, None), "Max": (sp.Max, None),
    "min": (sp.Min, None), "Min": (sp.Min, None),
    "Piecewise": (None, None),  # handled specially
}

CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E, "True": sp.true, "False": sp.false,
             "oo": sp.oo, "inf": sp.oo, "infinity": sp.oo}

# Names people type that we rename (lambda is a Python keyword).
ALIASES = {"lambda": "lam", "λ": "lam", "Λ": "lam", "μ": "mu", "θ": "theta",
           "α": "alpha", "β": "beta", "γ": "gamma", "η": "eta", "κ": "kappa",
           "σ": "sigma", "τ": "tau", "ρ": "rho", "δ": "delta", "ε": "epsilon",
           "ϵ": "epsilon", "ω": "omega", "φ": "phi", "ψ": "psi", "ξ": "xi",
           "ν": "nu", "ζ": "zeta", "χ": "chi"}

# Names of well-known functions (Γ, ζ, ψ; lambda is Python's keyword) that we know only as Greek
# parameters: typed in Latin letters and followed by "(", they are refused rather than read as a
# product (gamma(x) was gamma*x).  Typed as Greek letters, γ(x + 1) stays a product, like λ(x² + y²).
_FUNCTION_LOOKALIKES = ("gamma", "zeta", "psi", "lambda")
_LOOKALIKE_CALL = re.compile(r"(?<![A-Za-z_])(" + "|".join(_FUNCTION_LOOKALIKES) + r")\s*\(")
# 0x10, 0b101, 0o17: Python would read them as numbers, our scanner as 0 times a name
_RADIX_PREFIX = re.compile(r"[xX][0-9A-Fa-f]|[bB][01]|[oO][0-7]")
_RADIX_NAMES = {"x": "hexadecimal", "b": "binary", "o": "octal"}

_PY_KEYWORDS = {"and", "or", "not", "is", "in", "if", "else", "for", "while", "lambda",
                "import", "from", "def", "class", "return", "yield", "with", "as",
                "pass", "del", "global", "nonlocal", "assert", "raise", "try",
                "except", "finally", "break", "continue", "async", "await", "None"}

_SUPERSCRIPTS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                 "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+"}
_SUBSCRIPTS = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6",
               "₇": "7", "₈": "8", "₉": "9"}
_CHAR_MAP = {
    "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-", "∓": "-",
    "×": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "∕": "/",
    "≤": "<=", "⩽": "<=", "≥": ">=", "⩾": ">=", "≠": "!=",
    "π": "pi", "∞": "oo", "√": "sqrt",
}
# Invisible or control characters are refused, never silently dropped.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|<=|>=|==|!=|&&|\|\||[-+*/^()\[\],<>=&|])
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=None)
def symbol(name: str) -> sp.Symbol:
    """The one real symbol with this name that every module uses."""
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op"
    text: str


def _fail(message: str) -> None:
    raise ParseError(message)


def _refuse_char(ch: str, why: str) -> None:
    name = unicodedata.name(ch, "").lower() or "unnamed character"
    _fail(f"{why} U+{ord(ch):04X} ({name}) is not allowed")


def normalise(text: str) -> str:
    """Map what people type to the ASCII our scanner knows, refusing the rest.

    Each character is handled on its own: controls and invisible characters
    (NUL, zero-width spaces, bidirectional overrides ...) are refused, never
    silently dropped; superscript digits become ``^(...)``; ``−``, ``≤``, ``λ``
    and friends are mapped; everything else is NFKC-normalised *per character*
    (full-width ``ｘ`` and mathematical italic ``𝑥`` become ``x``, ``µ`` becomes
    ``μ`` and then ``mu``) and must end up ASCII.  Superscript *letters*
    (``xⁿ``) are refused rather than read as ``xn``.
    """
    if not isinstance(text, str):
        _fail("input must be text")
    if len(text) > LIMITS["max_length"]:
        _fail(f"input is too long ({len(text)} characters; the limit is {LIMITS['max_length']})")
    if looks_like_latex(text):
        text = from_latex(text)  # \frac{3}{2}, \lambda \geq 3, x^{2}: rewritten as plain text, nothing evaluated
    if "∈" in text or " in " in text:
        text = intervals(text)  # c in [-2, 2], η ∈ (0, 1]
    call = _LOOKALIKE_CALL.search(unicodedata.normalize("NFKC", text))
    if call:
        name = call.group(1)
        alias = ALIASES.get(name, name)
        _fail(f"unknown function {name!r} (for a product write {alias}*(...))")
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _SUPERSCRIPTS:
            j = i
            while j < n and text[j] in _SUPERSCRIPTS:
                j += 1
            out.append("^(" + "".join(_SUPERSCRIPTS[c] for c in text[i:j]) + ")")
            i = j
            continue
        i += 1
        if ch < "\x7f" and (ch >= " " or ch in "\t\n\r"):
            out.append(" " if ch in "\t\n\r" else ch)
            continue
        if ch in _SUBSCRIPTS:
            out.append(_SUBSCRIPTS[ch])
            continue
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            _refuse_char(ch, "invisible or control character")
        if ch.isspace():
            out.append(" ")
            continue
        decomposition = unicodedata.decomposition(ch)
        if decomposition.startswith(("<super>", "<sub>")):
            _refuse_char(ch, "superscript or subscript letter (write x^n)")
        mapped = unicodedata.normalize("NFKC", ch)
        if decomposition.startswith("<fraction>"):
            mapped = "(" + mapped.replace("\u2044", "/") + ")"
        for c in mapped:
            if c in _CHAR_MAP:
                m = _CHAR_MAP[c]
                out.append(" " + m + " " if m.isalpha() else m)
            elif c in ALIASES:
                out.append(" " + ALIASES[c] + " ")
            elif " " <= c < "\x7f":
                out.append(c)
            elif c.isspace():
                out.append(" ")
            else:
                kind = "look-alike or unsupported character" if c.isalpha() else "unexpected character"
                _refuse_char(ch, kind)
    # σ(z) is the logistic function, as in the statements (σ alone stays a name)
    return _SIGMA_CALL.sub("sigmoid(", "".join(out))


_SIGMA_CALL = re.compile(r"(?<![A-Za-z_0-9])sigma\s*\(")


def scan(token_re: re.Pattern, text: str):
    """Yield (kind, text, end position) for each token of ``text`` matched by ``token_re`` (its group
    names are the kinds), skipping white space ("ws"); a character no token matches is a ParseError."""
    pos = 0
    while pos < len(text):
        m = token_re.match(text, pos)
        if not m:
            _fail(f"unexpected character {text[pos]!r} at position {pos + 1}")
        pos = m.end()
        if m.lastgroup == "ws":
            continue
        yield m.lastgroup, m.group(), pos


def tokenize(text: str) -> list[Token]:
    """Scan normalised text into tokens, inserting implicit multiplication."""
    raw: list[Token] = []
    abs_open = 0
    for kind, tok, pos in scan(_TOKEN_RE, text):
        if kind == "number":
            if tok == "0" and _RADIX_PREFIX.match(text, pos):
                literal = tok + re.match(r"[xXbBoO][0-9A-Fa-f]*", text[pos:pos + 30]).group()
                _fail(f"{_RADIX_NAMES[text[pos].lower()]} numbers are not supported "
                      f"({literal!r}; write the number in decimal)")
            digits = sum(c.isdigit() for c in tok)
            if digits > LIMITS["max_number_digits"]:
                _fail(f"number with {digits} digits is too large (limit {LIMITS['max_number_digits']})")
            if tok.isdigit():
                tok = tok.lstrip("0") or "0"  # "007" is 7 (Python itself refuses it)
        if kind == "name":
            if tok in ALIASES:
                tok = ALIASES[tok]
            if tok.startswith("_") or "__" in tok:
                _fail(f"name {tok!r} is not allowed")
            if len(tok) > LIMITS["max_name_length"]:
                _fail(f"name {tok[:30]!r} is too long")
            if tok in ("and", "or"):
                kind = "op"
            elif tok in _PY_KEYWORDS:
                _fail(f"{tok!r} is not allowed in a formula")
        if kind == "op":
            tok = {"^": "**", "=": "==", "&&": "and", "||": "or", "&": "and"}.get(tok, tok)
        if tok == "|":  # |x| is abs(x): a bar after an operand closes, any other bar opens
            if abs_open and raw and _is_operand_end(raw[-1]):
                abs_open -= 1
                raw.append(Token("op", ")"))
            else:
                abs_open += 1
                raw += [Token("name", "abs"), Token("op", "(")]
            continue
        raw.append(Token(kind, tok))
        if len(raw) > LIMITS["max_tokens"]:
            _fail(f"formula is too long (more than {LIMITS['max_tokens']} tokens)")
    if abs_open:
        _fail("unbalanced |...|: an absolute-value bar is never closed")
    raw = _function_powers(raw)
    # "√x", "√2": the root of the next number or name (write √(x+1) for more)
    i = 0
    while i < len(raw) - 1:
        if (raw[i].text == "sqrt" and raw[i + 1].kind in ("number", "name")
                and raw[i + 1].text not in FUNCTIONS):
            raw[i + 1:i + 2] = [Token("op", "("), raw[i + 1], Token("op", ")")]
        i += 1
    out: list[Token] = []
    for k, tok in enumerate(raw):
        if (out and tok.text == "(" and out[-1].kind == "name" and len(out[-1].text) > 1
                and out[-1].text not in FUNCTIONS and out[-1].text not in ALIASES.values()):
            _fail(f"unknown function {out[-1].text!r}")
        if out and _implicit_product(out[-1], tok):
            out.append(Token("op", "*"))
        elif (out and tok.text == "[" and k + 1 < len(raw) and raw[k + 1].text == "["
              and out[-1].kind in ("number", "name") and out[-1].text not in FUNCTIONS):
            out.append(Token("op", "*"))  # 2[[1, 0], [0, 1]], λ[[…]]: a scalar times a matrix (x[0] stays refused)
        out.append(tok)
    return out


def _function_powers(raw: list[Token]) -> list[Token]:
    """``sin²(x)`` / ``sin^2(x)`` mean ``sin(x)**2``; ``sin⁻¹(x)`` is refused as ambiguous."""
    i = 0
    while i < len(raw) - 2:
        t = raw[i]
        if not (t.kind == "name" and t.text in FUNCTIONS and raw[i + 1].text == "**"):
            i += 1
            continue
        j = i + 2
        if raw[j].text == "(":
            m = j
            while m < len(raw) and raw[m].text != ")":
                m += 1
            power_tokens, j = raw[j + 1:m], m + 1
        else:
            power_tokens, j = [raw[j]], j + 1
        if j >= len(raw) or raw[j].text != "(":
            i += 1
            continue
        power = power_tokens[0] if len(power_tokens) == 1 else Token("op", "?")
        if power.kind != "number" or not power.text.isdigit():
            _fail(f"write {t.text}(x)^k, not {t.text}^k(x), for a power of {t.text} "
                  f"(and the inverse function by its name, e.g. arcsin)")
        depth, k = 0, j
        while k < len(raw):
            depth += {"(": 1, ")": -1}.get(raw[k].text, 0)
            if depth == 0:
                break
            k += 1
        if depth:
            _fail("unbalanced brackets: an opening bracket is never closed")
        raw = raw[:i + 1] + raw[j:k + 1] + [Token("op", "**"), power] + raw[k + 1:]
        i += 1
    return raw


def _is_operand_end(t: Token) -> bool:
    return t.kind in ("number", "name") or t.text in (")", "]")


def _implicit_product(a: Token, b: Token) -> bool:
    if not _is_operand_end(a):
        return False
    if a.kind == "name" and a.text in FUNCTIONS and b.text == "(":
        return False  # a call
    if a.kind == "number" and b.kind == "number":
        return False  # "2 3" is a mistake, not a product
    if a.text == "]":
        return False
    return b.kind in ("number", "name") or b.text == "("


def _check_structure(tokens: list[Token]) -> None:
    depth = 0
    run = 0
    prev: Token | None = None
    for t in tokens:
        if t.text in ("(", "["):
            depth += 1
            if depth > LIMITS["max_depth"]:
                _fail(f"brackets are nested too deeply (limit {LIMITS['max_depth']})")
        elif t.text in (")", "]"):
            depth -= 1
            if depth < 0:
                _fail("unbalanced brackets: a closing bracket has no opening one")
        if t.text in ("-", "+") and (prev is None or (prev.kind == "op" and prev.text not in (")", "]"))):
            run += 1
            if run > LIMITS["max_unary_run"]:
                _fail("too many signs in a row")
        else:
            run = 0
        prev = t
    if depth != 0:
        _fail("unbalanced brackets: an opening bracket is never closed")


_BINOPS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow}
_CMPOPS = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
           ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}


def _number(text: str) -> sp.Expr:
    if re.fullmatch(r"\d+", text):
        return sp.Integer(int(text))
    # exact decimal: 0.1 -> 1/10; exponent bounded by the digit limit
    mant, _, exp = text.lower().partition("e")
    e = int(exp) if exp else 0
    if abs(e) > LIMITS["max_number_digits"]:
        _fail(f"number {text!r} is out of range")
    if "." in mant:
        whole, frac = mant.split(".")
        num = int((whole or "0") + frac)
        e -= len(frac)
    else:
        num = int(mant)
    return sp.Rational(num * 10 ** max(e, 0), 10 ** max(-e, 0))


def _digits(v: sp.Basic) -> int:
    if v.is_Integer:
        return len(str(abs(int(v))))
    if v.is_Rational:
        return max(_digits(sp.Integer(v.p)), _digits(sp.Integer(v.q)))
    return 0


def _constant(v: sp.Basic) -> bool:
    return isinstance(v, sp.Expr) and not v.free_symbols


def _check_exp_argument(arg: sp.Expr) -> None:
    """exp(a) with a constant a: refuse |a| > max_exp_argument (towers like exp(exp(10**100)))."""
    if not _constant(arg):
        return
    try:
        size = abs(complex(sp.N(arg, 15)))
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        _fail("cannot evaluate a constant in this formula")
    if not size <= LIMITS["max_exp_argument"]:  # also catches nan
        _fail(f"number is too large (an exponential of a constant above {LIMITS['max_exp_argument']})")


def _check_powers(r: sp.Basic) -> None:
    """Exponents after SymPy combined them: (x**100)**100 is x**10000, x**150*x**150 is x**300."""
    for term in (r, *r.args) if isinstance(r, (sp.Pow, sp.Mul)) else (r,):
        if isinstance(term, sp.Pow) and term.exp.is_Number and abs(term.exp) > LIMITS["max_exponent"]:
            _fail(f"exponent {term.exp} is too large (limit {LIMITS['max_exponent']})")


def _safe_pow(base: sp.Expr, ex: sp.Expr) -> sp.Expr:
    if base == sp.E:  # e**a is exp(a)
        _check_exp_argument(ex)
        return sp.exp(ex)
    if ex.is_Number:
        if abs(ex) > LIMITS["max_exponent"]:
            _fail(f"exponent {ex} is too large (limit {LIMITS['max_exponent']})")
        if ex.is_Rational and _digits(ex) > LIMITS["max_exponent_digits"]:
            _fail("exponent has too many digits")
        if base.is_Rational:
            bound = max(_digits(base), 1) * abs(ex)
            if bound > LIMITS["max_result_digits"]:
                _fail("power is too large to compute")
    elif _constant(ex) and not _constant(base):
        # x**(10**50*pi): a constant exponent that is not a plain number is capped like one
        if abs(sp.N(ex, 15)) > LIMITS["max_exponent"]:
            _fail(f"exponent {sp.sstr(ex)[:40]} is too large (limit {LIMITS['max_exponent']})")
    elif _constant(ex) and _constant(base):
        # b**a with a constant, non-numeric a (2**pi, e**(10**100)): bound a*log|b|
        if base == sp.E:
            _check_exp_argument(ex)
        elif base.is_zero:
            pass
        else:
            _check_exp_argument(ex * sp.log(sp.Abs(base)))
    r = sp.Pow(base, ex)
    _check_powers(r)
    return r


def _check_tree_size(tree: ast.AST) -> None:
    """Node count and operation depth, iteratively (no recursion on hostile input).

    A left-leaning chain of + - * / (how ``a + b + c`` parses) does not count as
    nesting, since SymPy flattens it; everything else does.
    """
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > LIMITS["max_nodes"]:
            _fail("formula is too large")
        if depth > LIMITS["max_ast_depth"]:
            _fail(f"formula is nested too deeply (limit {LIMITS['max_ast_depth']})")
        flat = isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div))
        for child in ast.iter_child_nodes(node):
            same_chain = flat and child is node.left and isinstance(child, ast.BinOp)
            stack.append((child, depth if same_chain else depth + 1))


def _to_sympy(tree: ast.AST) -> sp.Basic:
    """Iterative post-order walk over a whitelisted AST."""
    _check_tree_size(tree)
    symbols_seen: set[str] = set()
    counts = {"minmax": 0}
    # stack of (node, visited?)
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    values: dict[int, sp.Basic] = {}
    while stack:
        node, visited = stack.pop()
        children = _children(node)
        if not visited:
            stack.append((node, True))
            for c in reversed(children):
                stack.append((c, False))
            continue
        args = [values.pop(id(c)) for c in children]
        values[id(node)] = _build(node, args, symbols_seen, counts)
    return values[id(tree)]


def arithmetic_children(node: ast.AST, binops) -> list[ast.AST] | None:
    """The operands of an expression, a binary operation (one of ``binops``) or a sign; None for other nodes.

    Shared by this parser's walk and the vector reader's (which allows ``@`` too)."""
    if isinstance(node, ast.Expression):
        return [node.body]
    if isinstance(node, ast.BinOp):
        if type(node.op) not in binops:
            _fail("operator not allowed")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            _fail("operator not allowed")
        return [node.operand]
    return None


def _children(node: ast.AST) -> list[ast.AST]:
    kids = arithmetic_children(node, _BINOPS)
    if kids is not None:
        return kids
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS:
                _fail("comparison not allowed")
        return [node.left, *node.comparators]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            _fail("only calls of known functions with plain arguments are allowed")
        if node.func.id not in FUNCTIONS:
            _fail(f"unknown function {node.func.id!r}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                _fail("starred arguments are not allowed")
        return list(node.args)
    if isinstance(node, (ast.List, ast.Tuple)):
        for a in node.elts:
            if isinstance(a, ast.Starred):
                _fail("starred items are not allowed")
        return list(node.elts)
    if isinstance(node, (ast.Name, ast.Constant)):
        return []
    _fail(f"{type(node).__name__} is not allowed in a formula")
    return []  # pragma: no cover


def _build(node: ast.AST, args: list[sp.Basic], symbols_seen: set[str], counts: dict[str, int]) -> sp.Basic:
    if isinstance(node, ast.Expression):
        return args[0]
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return sp.true if v else sp.false
        if not isinstance(v, (int, float)):
            _fail("only numbers are allowed as constants")
        return _number(str(getattr(node, "_cp_text", v)))
    if isinstance(node, ast.Name):
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            _fail(f"function {name!r} needs an argument in brackets")
        symbols_seen.add(name)
        if len(symbols_seen) > LIMITS["max_symbols"]:
            _fail("too many different names")
        return symbol(name)
    scaled = _scale_list(node, args)
    if scaled is not None:
        return scaled
    for a in args:
        if not isinstance(node, (ast.Compare, ast.BoolOp, ast.Tuple, ast.List, ast.Call)) and (
            _is_non_expr(a)
        ):
            _fail("arithmetic on a comparison, list or point is not allowed")
    if isinstance(node, ast.UnaryOp):
        return -args[0] if isinstance(node.op, ast.USub) else args[0]
    if isinstance(node, ast.BinOp):
        a, b = args
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            r = a * b
            _check_powers(r)
        elif isinstance(node.op, ast.Div):
            if b == 0:
                _fail("division by zero")
            r = a / b
        else:
            r = _safe_pow(a, b)
            _check_real(r)
        if r.has(sp.zoo, sp.nan):
            _fail("the formula is undefined (division by zero)")
        if r.is_Rational and _digits(r) > LIMITS["max_result_digits"]:
            _fail("number is too large")
        return r
    if isinstance(node, ast.Compare):
        if any(_is_non_expr(a) for a in args):
            _fail("a comparison must compare numbers or expressions, e.g. 0 < p < 1")
        rels = []
        left = args[0]
        for op, right in zip(node.ops, args[1:]):
            rels.append(_CMPOPS[type(op)](left, right, evaluate=False))
            left = right
        return sp.And(*rels, evaluate=False) if len(rels) > 1 else rels[0]
    if isinstance(node, ast.BoolOp):
        for a in args:
            if not isinstance(a, (sp.core.relational.Relational, sp.And, sp.Or)):
                _fail("'and'/'or' join comparisons such as x > 0 and x < 1")
        return sp.And(*args) if isinstance(node.op, ast.And) else sp.Or(*args)
    if isinstance(node, ast.Call):
        fname = node.func.id
        func, arity = FUNCTIONS[fname]
        if fname == "Piecewise":
            pairs = []
            for a in args:
                if not isinstance(a, sp.Tuple) or isinstance(a, _ListValue) or len(a) != 2:
                    _fail("Piecewise takes pairs (value, condition)")
                value, cond = a.args
                if _is_non_expr(value):
                    _fail("a Piecewise value must be an expression")
                if not (cond in (sp.true, sp.false)
                        or isinstance(cond, (sp.core.relational.Relational, sp.And, sp.Or))):
                    _fail("a Piecewise condition must be a comparison such as x > 0, or True")
                pairs.append((value, cond))
            if not pairs:
                _fail("Piecewise needs at least one piece")
            if len(pairs) > LIMITS["max_piecewise_pieces"]:
                _fail(f"Piecewise has too many pieces (limit {LIMITS['max_piecewise_pieces']})")
            return sp.Piecewise(*pairs)
        if arity is not None and len(args) != arity:
            _fail(f"{fname} takes {arity} argument{'s' if arity > 1 else ''}")
        if arity is None and len(args) < 1:
            _fail(f"{fname} needs at least one argument")
        for a in args:
            if _is_non_expr(a):
                _fail(f"{fname} takes expressions, not a comparison, list or point")
        if arity is None:
            cls = sp.Max if func is sp.Max else sp.Min
            n_args = sum(len(a.args) if isinstance(a, cls) else 1 for a in args)  # max(max(a, b), c) is flat
            if n_args > LIMITS["max_minmax_args"]:
                _fail(f"{fname} of {n_args} terms is too many (limit {LIMITS['max_minmax_args']})")
            counts["minmax"] += len(args)
            if counts["minmax"] > LIMITS["max_minmax_total"]:
                _fail(f"too many terms in max/min (more than {LIMITS['max_minmax_total']} in one formula)")
        if fname in ("log", "ln") and args[0] == 0:
            _fail("log(0) is undefined")
        if fname in ("exp", "sinh", "cosh", "sigmoid"):
            _check_exp_argument(args[0])
        r = func(*args)
        if r.has(sp.zoo, sp.nan):
            _fail(f"{fname} is undefined here")
        _check_real(r)
        return r
    if isinstance(node, ast.Tuple):
        return sp.Tuple(*args)
    if isinstance(node, ast.List):
        if args and all(isinstance(a, sp.Tuple) and getattr(a, "_cp_list", False) for a in args):
            pass
        return _ListValue(*args)
    _fail(f"{type(node).__name__} is not allowed")
    return sp.S.Zero  # pragma: no cover


def _scale_list(node: ast.AST, args: list[sp.Basic]):
    """A bracketed vector or matrix times or divided by a number or expression (2*[[1, 0], [0, 1]]), else None."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Mult, ast.Div)):
        return None
    a, b = args
    lst, k = (a, b) if isinstance(a, _ListValue) else (b, a) if isinstance(b, _ListValue) else (None, None)
    if lst is None or _is_non_expr(k) or (isinstance(node.op, ast.Div) and lst is not a):
        return None
    if isinstance(node.op, ast.Div) and k == 0:
        _fail("division by zero")

    def scale(v):
        if isinstance(v, _ListValue):
            return _ListValue(*[scale(x) for x in v.args])
        if _is_non_expr(v):
            _fail("arithmetic on a comparison or point is not allowed")
        r = v / k if isinstance(node.op, ast.Div) else k * v
        _check_powers(r)
        return r

    return scale(lst)


def _check_real(r: sp.Basic) -> None:
    """Refuse constants that are not real numbers: sqrt(-1), log(-2), asin(2), (-8)**(1/3)."""
    if _constant(r) and not r.has(sp.oo, -sp.oo, sp.zoo, sp.nan) and r.is_extended_real is False:
        _fail(f"{sp.sstr(r)[:40]} is not a real number; convexproof works over the reals")


def _is_non_expr(v: sp.Basic) -> bool:
    return not isinstance(v, sp.Expr) or isinstance(v, (sp.Tuple, sp.MatrixBase))


class _ListValue(sp.Tuple):
    """A bracketed list (row of a matrix or a vector)."""


def _parse_tree(text: str) -> sp.Basic:
    tokens = tokenize(normalise(text))
    if not tokens:
        _fail("empty input")
    _check_structure(tokens)
    source = " ".join(t.text for t in tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        _fail("not a valid formula")
    # keep the literal text of numbers so 0.1 stays exactly 1/10
    numbers = iter(t.text for t in tokens if t.kind == "number")
    consts = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Constant) and not isinstance(n.value, bool)),
                    key=lambda n: (n.lineno, n.col_offset))
    for node in consts:
        node._cp_text = next(numbers, str(node.value))  # type: ignore[attr-defined]
    return build_checked(tree)


def build_checked(tree: ast.AST):
    """The whitelist walk of an already-read tree, with SymPy's failures turned into one-line ParseErrors."""
    try:
        return _to_sympy(tree)
    except ParseError:
        raise
    except (RecursionError, MemoryError, OverflowError):
        _fail("formula is too complex")
    except (TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        _fail(f"cannot build this formula ({type(exc).__name__})")
    return sp.S.Zero  # pragma: no cover


def _finish(value: sp.Basic) -> sp.Basic:
    if isinstance(value, _ListValue):
        rows = list(value.args)
        if rows and all(isinstance(r, _ListValue) for r in rows):
            widths = {len(r.args) for r in rows}
            if len(widths) != 1:
                _fail("matrix rows have different lengths")
            return sp.ImmutableMatrix([list(r.args) for r in rows])
        return sp.ImmutableMatrix([list(rows)]).T  # column vector
    return value


def parse_expr(text: str, *, allowed: set[str] | None = None) -> sp.Expr:
    """Parse an arithmetic expression (no comparisons, lists or points)."""
    value = _parse_tree(text)
    if _is_non_expr(value):
        _fail("expected an expression such as x**2 + 1, not a comparison, list or point")
    if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        _fail("the expression is infinite or undefined")
    _check_names(value, allowed)
    return value


def parse_condition(text: str, *, allowed: set[str] | None = None) -> sp.Basic:
    """Parse a condition such as ``0 < p < 1`` or ``lam >= 3`` (And of relations)."""
    value = _parse_tree(text)
    if isinstance(value, sp.Expr) or not isinstance(value, sp.logic.boolalg.Boolean) or value in (sp.true, sp.false):
        _fail("expected a condition such as 0 < p < 1")
    _check_names(value, allowed)
    return value


def parse_any(text: str, *, allowed: set[str] | None = None) -> sp.Basic:
    """Parse an answer: an expression, a condition, a point (tuple) or a matrix."""
    value = _finish(_parse_tree(text))
    _check_names(value, allowed)
    return value


def _check_names(value: sp.Basic, allowed: set[str] | None) -> None:
    if allowed is None:
        return
    bad = sorted(s.name for s in value.free_symbols if s.name not in allowed)
    if bad:
        _fail(f"unknown name{'s' if len(bad) > 1 else ''} {', '.join(bad)}; expected only "
              f"{', '.join(sorted(allowed)) or 'numbers'}")


def parse_name(text: str) -> str:
    """Validate a variable or parameter name (used for --wrt and exercise files)."""
    tokens = tokenize(normalise(text.strip()))
    if len(tokens) != 1 or tokens[0].kind != "name" or tokens[0].text in CONSTANTS or tokens[0].text in FUNCTIONS:
        _fail(f"{text[:40]!r} is not a valid variable name")
    return tokens[0].text


def as_sympy(value) -> sp.Basic:
    """A Python number or a SymPy object as SymPy; text is refused (it must be parsed)."""
    import numbers
    from fractions import Fraction

    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        return sp.true if value else sp.false
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Real):
        return sp.Float(float(value))
    raise TypeError(f"as_sympy takes numbers or SymPy objects, not {type(value).__name__}")
