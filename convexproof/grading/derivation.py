"""Checking a student's derivation line by line (``convexproof check --derivation``).

The student writes one claim per line: definitions ``f(x) = …``, derivatives
``f'(x) = …``, ``L''(p) = …``, a Hessian ``∇²f = [[…]]``, transformations
chained with ``⇔``/``⇒``/``⇐``/``=`` or written on new lines, quantified
claims (``… ≥ 0 for all x``, ``for all p in (0, 1)``) and conclusions
(``so λ* = 3``, ``f is convex``).  Each line gets a status:

* ``follows``: equivalent to the previous claim, a correct derivative of a
  function stated earlier, or a true claim (decided exactly);
* ``implied``: it follows one way only (the reason says which way);
* ``wrong``: with the reason (for a derivative, the rule of
  :mod:`convexproof.engine.diffsteps` that was misapplied) and a point where
  the two sides differ, checked exactly;
* ``unclear``: it cannot be read or judged (the reason says why).

Soundness: "follows" needs an exact argument (a difference that cancels or
simplifies to 0, exact condition sets, the engine's sign proofs); a
difference needs a point where the two sides differ, checked with rationals
or :func:`convexproof.engine.exact.certified_sign`; anything else is "unclear".

Error carried forward: every fact a line states (the student's own f′, f″,
condition) is what later lines are judged against, so after a slip the
consistent work that follows is credited ("follows from your line 2"), with
the credit the exercise part sets (``carry_forward``); ``first_error`` stays
at the slip.

Lines are read by :mod:`convexproof.parse` only: this module splits a line
into its formula parts (connectives, quantifiers, function names, a little
LaTeX) and hands each formula part to ``parse_any``/``parse_expr``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy as sp

from convexproof.grading.base import DEFAULT_TIMEOUT, CheckResult, _context, _invalid_on_error, unusable
from convexproof.runtime.errors import ConvexproofError, ParseError
from convexproof.parse import LIMITS, parse_any, parse_condition, parse_expr, symbol

MAX_LINES = 60
MAX_LINE_CHARS = LIMITS["max_length"]
STATUSES = ("follows", "implied", "wrong", "unclear")
MARKS = {"follows": "✓", "wrong": "✗", "unclear": "?"}
CREDIT = {"follows": 1.0, "implied": 0.5, "wrong": 0.0, "unclear": 0.0}
REALS = sp.Interval(-sp.oo, sp.oo)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
@dataclass
class LineResult:
    n: int
    text: str
    read_as: str
    status: str
    reason: str
    direction: str = ""  # "⇒" or "⇐" for an implied line
    carried: int | None = None  # the wrong line this one follows from (error carried forward)
    credit: float = 0.0

    @property
    def mark(self) -> str:
        if self.status == "implied":
            return self.direction or "⇒"
        return MARKS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "text": self.text, "read_as": self.read_as, "status": self.status,
                "reason": self.reason}


@dataclass
class DerivationResult:
    exercise: str
    part: str
    lines: list[LineResult] = field(default_factory=list)
    first_error: int | None = None
    score: float = 0.0

    @property
    def status(self) -> str:
        """correct (no wrong line), incorrect (a wrong line) or invalid (nothing could be judged)."""
        if self.first_error is not None:
            return "incorrect"
        if not self.lines or all(r.status == "unclear" for r in self.lines):
            return "invalid"
        return "correct"

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "part": self.part, "lines": [r.to_dict() for r in self.lines],
                "first_error": self.first_error, "score": self.score}

    def feedback(self) -> str:
        """One paragraph for grade: the first wrong line and its reason, or the unclear lines."""
        if self.first_error is not None:
            r = next(r for r in self.lines if r.n == self.first_error)
            return f"Line {r.n} is wrong: {r.reason}"
        weak = [r for r in self.lines if r.status in ("implied", "unclear")]
        if weak:
            return " ".join(f"Line {r.n} ({r.status}): {r.reason}" for r in weak[:3])
        return ""

    def to_text(self) -> str:
        head = f"{self.exercise}, part {self.part}: "
        if self.first_error is None:
            head += "no wrong line"
        else:
            head += f"first error in line {self.first_error}"
        head += f"; score {_num(self.score)}"
        width = max((len(str(r.n)) for r in self.lines), default=1)
        out = [head]
        for r in self.lines:
            out.append(f"{str(r.n).rjust(width)} {r.mark}  {r.read_as or r.text}")
            if r.reason:
                out.append(" " * (width + 4) + r.reason)
        out.append("")
        out.append("✓ follows   ⇒/⇐ implied one way   ✗ wrong   ? unclear")
        return "\n".join(out)

    def to_document(self, fmt: str, title: str | None = None) -> str:
        """A whole Markdown or LaTeX document (templates derivation.j2)."""
        from convexproof.render import environment

        env = "tex" if fmt in ("tex", "latex") else "md"
        tmpl = _template_env(env).get_template("derivation.j2")
        return tmpl.render(title=title or f"{self.exercise}: derivation (part {self.part})", result=self,
                           lines=self.lines, score=_num(self.score))


_TEX_MARKS = {"✓": r"$\checkmark$", "✗": r"$\times$", "⇒": r"$\Rightarrow$", "⇐": r"$\Leftarrow$", "?": "?"}
_TEX_MATH = {"⇔": r"$\Leftrightarrow$", "⇒": r"$\Rightarrow$", "⇐": r"$\Leftarrow$", "≠": r"$\neq$",
             "∀": r"$\forall$", "⁷": r"\textsuperscript{7}", "⁸": r"\textsuperscript{8}",
             "⁹": r"\textsuperscript{9}", "⁰": r"\textsuperscript{0}", "ℝ": r"$\mathbb{R}$", "⋆": "*",
             "√": r"$\surd$", "│": "|"}
_TEX_MATH_RE = re.compile("|".join(map(re.escape, _TEX_MATH)))


_MATH_CHARS = {"·": r"\cdot ", "−": "-", "≥": r"\geq ", "≤": r"\leq ", "≠": r"\neq ", "⇔": r"\Leftrightarrow ",
               "⇒": r"\Rightarrow ", "⇐": r"\Leftarrow ", "λ": r"\lambda ", "μ": r"\mu ", "π": r"\pi ",
               "∇": r"\nabla ", "∞": r"\infty ", "ℝ": r"\mathbb{R}", "√": r"\surd ", "…": r"\ldots ", "*": "^{*}",
               "|": "|", "'": "'", "<": "<", ">": ">", "=": "=", "+": "+", "-": "-", "/": "/", "(": "(", ")": ")",
               "[": "[", "]": "]", ",": ",\\,", ".": ".", ":": ":", " ": " "}
_MATH_SUP = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9",
             "⁻": "-"}
_MATH_FUNCS = {"sin", "cos", "tan", "log", "ln", "exp", "sinh", "cosh", "tanh", "min", "max", "inf"}
_MATH_WORDS = {"for", "all", "in", "and", "or", "is", "not", "convex", "concave", "strictly", "on", "the", "every"}
_MATH_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+|.", re.S)


def _tex_math(text: str) -> str | None:
    """A line as we read it, typeset as mathematics; None when it holds anything unexpected."""
    out = []
    text = re.sub(r"\^\(([^()]*)\)", lambda m: "^{" + m.group(1) + "}", str(text))
    for tok in _MATH_TOKEN.findall(text):
        if tok[0] in _MATH_SUP:
            out.append("^{" + "".join(_MATH_SUP[c] for c in tok) + "}")
        elif tok in ("^", "{", "}"):
            out.append(tok)
        elif tok[0].isascii() and tok[0].isalpha():
            if tok in _MATH_FUNCS:
                out.append("\\" + tok + " " if tok != "sigmoid" else r"\operatorname{sigmoid}")
            elif tok in _MATH_WORDS:
                out.append(r"\text{ " + tok + " }")
            elif len(tok) == 1:
                out.append(tok)
            else:
                out.append(r"\mathrm{" + tok + "}")
        elif tok.isascii() and tok.isdigit():
            out.append(tok)
        elif tok in _MATH_CHARS:
            out.append(_MATH_CHARS[tok])
        else:
            return None
    body = "".join(out).strip().replace(" } \\text{ ", " ")
    if not body or any(body.count(a) != body.count(b) for a, b in ("()", "[]", "{}")) or body.endswith("^"):
        return None
    return "$" + body + "$"


def _tex_line(r) -> Any:
    """read_as for LaTeX: mathematics when it reads cleanly (never for an unreadable line), else escaped text."""
    from markupsafe import Markup

    if r.status != "unclear" and len(r.read_as) <= 400:
        m = _tex_math(r.read_as)
        if m is not None:
            return Markup(m)
    return _tex_prose(r.read_as)


def _tex_prose(text) -> Any:
    """Student text and reasons for LaTeX: escaped, with the arrows and symbols render.py does not map."""
    from markupsafe import Markup

    from convexproof.render import tex_escape

    def esc(chunk: str) -> str:
        # a long run without spaces (hostile input) may break anywhere rather than run off the page
        parts = re.split(r"(\S{24})", chunk)
        return r"\allowbreak{}".join(tex_escape(p) for p in parts if p)

    out, pos = [], 0
    text = str(text)
    for m in _TEX_MATH_RE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        out.append(_TEX_MATH[m.group()])
        pos = m.end()
    out.append(esc(text[pos:]))
    return Markup("".join(out))


def _md_cell(text) -> Any:
    from markupsafe import Markup

    from convexproof.render import md_escape

    return Markup(md_escape(" ".join(str(text).split())).replace("|", "\\|"))


@lru_cache(maxsize=None)
def _template_env(fmt: str):
    """The project's Jinja environment for ``fmt``, with the two filters derivation.j2 uses."""
    from markupsafe import Markup

    from convexproof.render import environment

    env = environment(fmt).overlay()
    if fmt == "tex":
        env.filters["prose"] = _tex_prose
        env.filters["mathline"] = _tex_line
        env.filters["markt"] = lambda m: Markup(_TEX_MARKS.get(m, "?"))
    else:
        env.filters["cell"] = _md_cell
    return env


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


# --------------------------------------------------------------------------
# Text to formula parts
# --------------------------------------------------------------------------
_LATEX_WORDS = {
    r"\cdot": "*", r"\times": "*", r"\geq": "≥", r"\ge": "≥", r"\leq": "≤", r"\le": "≤", r"\neq": "≠",
    r"\ne": "≠", r"\iff": " ⇔ ", r"\Leftrightarrow": " ⇔ ", r"\Longleftrightarrow": " ⇔ ",
    r"\implies": " ⇒ ", r"\Rightarrow": " ⇒ ", r"\Longrightarrow": " ⇒ ", r"\impliedby": " ⇐ ",
    r"\Leftarrow": " ⇐ ", r"\Longleftarrow": " ⇐ ", r"\forall": " for all ", r"\in": " in ",
    r"\lambda": "λ", r"\mu": "μ", r"\infty": "∞", r"\nabla": "∇", r"\log": " log ", r"\ln": " ln ",
    r"\exp": " exp ", r"\sin": " sin ", r"\cos": " cos ", r"\tan": " tan ", r"\pi": "π", r"\quad": " ",
    r"\qquad": " ", r"\left": "", r"\right": "", r"\mathbb{R}": "ℝ", r"\R": "ℝ", r"\,": " ", r"\;": " ",
    r"\!": "", r"\prime": "'", r"\sigma": "sigmoid", r"\text{for all}": " for all ", r"\colon": ":",
}
_LATEX_RE = re.compile("|".join(re.escape(k) + (r"(?![A-Za-z])" if k[-1].isalpha() else "")
                                for k in sorted(_LATEX_WORDS, key=len, reverse=True)))


def _braced(text: str, i: int) -> tuple[str, int] | None:
    """The contents of the {...} group starting at text[i], and the index after it."""
    if i >= len(text) or text[i] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
    return None


def delatex(text: str) -> str:
    """A little LaTeX to the plain notation the parser reads (\\frac, \\sqrt, ^{…}, \\geq, \\iff …)."""
    if "\\" not in text and "{" not in text and "$" not in text:
        return text
    text = text.replace("$", " ")
    for _ in range(50):  # \frac{a}{b} and \sqrt{a}, innermost first by repetition
        m = re.search(r"\\[dt]?frac\s*(?=\{)|\\sqrt\s*(?=\{)", text)
        if not m:
            break
        a = _braced(text, m.end())
        if a is None:
            break
        if m.group().startswith("\\sqrt"):
            text = text[:m.start()] + "sqrt(" + a[0] + ")" + text[a[1]:]
            continue
        b = _braced(text, a[1])
        if b is None:
            break
        text = text[:m.start()] + "((" + a[0] + ")/(" + b[0] + "))" + text[b[1]:]
    text = _LATEX_RE.sub(lambda m: _LATEX_WORDS[m.group()], text)
    text = re.sub(r"\\operatorname\{([A-Za-z]+)\}", r"\1", text)
    text = text.replace("{", "(").replace("}", ")")
    return text


_ARROWS = [("<==>", " ⇔ "), ("<=>", " ⇔ "), ("⟺", " ⇔ "), ("↔", " ⇔ "), ("⟹", " ⇒ "), ("==>", " ⇒ "),
           ("⟸", " ⇐ "), ("<==", " ⇐ "), ("→", " ⇒ "), ("′′′", "'''"), ("′′", "''"), ("″", "''"), ("′", "'"),
           ("’", "'"), ("∀", " for all "), ("∈", " in "), ("ℝ", " R ")]
_CONNECTIVE = re.compile(r"⇔|⇒|⇐|(?<![<>=!])=>|\biff\b|\bimplies\b|\bhence\b")
_LEAD = re.compile(r"^\s*(?:(?:so|hence|thus|therefore|then|which gives|this gives|and so|and|ie|we have|we get|"
                   r"now|also|this means|which means|it follows that|finally)\b|∴|i\.e\.)[,:]?\s*", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{3,}")


def _strip_comments(seg: str, names: set | frozenset = frozenset()) -> str:
    """Drop a trailing remark in brackets, "(take x = 0)", "(since y ≥ 0)": words are not mathematics."""
    from convexproof.parse import CONSTANTS, FUNCTIONS

    m = re.search(r"\s*\(([^()]*)\)\s*$", seg)
    if m and m.start() > 0:
        words = [w for w in _WORD.findall(m.group(1)) if w not in FUNCTIONS and w not in CONSTANTS
                 and w.lower() not in ("lam", "lambda") and _alias(w) not in names]
        if words:
            return seg[:m.start()]
    return seg


def _split_commas(seg: str) -> list[str]:
    """"λ ≥ 3, λ* = 3": two claims; a comma inside brackets or before a bare name ("for all x, y") is kept."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(seg):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            rest = seg[i + 1:]
            if re.search(r"[=<>≥≤≠]|\bconvex\b|\bconcave\b", rest) and re.search(r"[=<>≥≤≠]|\bconvex\b",
                                                                                 seg[start:i]):
                parts.append(seg[start:i])
                start = i + 1
    parts.append(seg[start:])
    return [p.strip() for p in parts if p.strip()]


_BARE_CALL = re.compile(r"\b(log|ln|exp|sin|cos|tan|sqrt)\s+([A-Za-z]\w*|\d+)(?![\w(])")


def normalise_line(text: str) -> str:
    text = delatex(text)
    for a, b in _ARROWS:
        text = text.replace(a, b)
    text = _BARE_CALL.sub(r"\1(\2)", text)  # "log p" is log(p)
    return " ".join(text.split())


def split_line(text: str) -> list[tuple[str, str]]:
    """[(connective, segment)]: the connective before each segment ("" for the first, unless given)."""
    out: list[tuple[str, str]] = []
    pos, conn = 0, ""
    for m in _CONNECTIVE.finditer(text):
        seg = text[pos:m.start()].strip()
        if seg or out or conn:
            out.append((conn, seg))
        c = m.group()
        conn = {"=>": "⇒", "iff": "⇔", "implies": "⇒", "hence": "⇒"}.get(c, c)
        pos = m.end()
    out.append((conn, text[pos:].strip()))
    split: list[tuple[str, str]] = []
    for c, s in out:
        pieces = _split_commas(s) if s else [s]
        split.append((c, pieces[0]))
        split.extend(("", p) for p in pieces[1:])
    return [(c, s) for c, s in split if s or c]


# quantifiers: "for all x", "for all x in (0, 1)", "for all x > 0", "for x ≠ 0", "∀x ∈ ℝ"
_QUANT_TAIL = re.compile(
    r"[,;]?\s*\b(?:for\s+(?:all|every|each|any)\s+(?:real\s+)?|for\s+(?=[A-Za-zλ]\w*\s*(?:>|<|≥|≤|≠|!=|in\b)))"
    r"(?P<var>[A-Za-zλμ]\w*(?:\s*,\s*[A-Za-zλμ]\w*)*)\s*(?P<dom>(?:(?:in|on)\b.*|[<>≥≤≠!=].*)?)$", re.IGNORECASE)
_QUANT_HEAD = re.compile(r"^\s*for\s+(?:all|every|each|any)\s+(?:real\s+)?(?P<var>[A-Za-zλμ]\w*)\s*"
                         r"(?P<dom>(?:in\s*[\(\[][^:]*?[\)\]]|in\s+R|[<>≥≤≠][^:,]*)?)\s*[:,]\s*", re.IGNORECASE)
_ON_TAIL = re.compile(r"\s+on\s+(?P<dom>[\(\[].*[\)\]]|R|the real line|the reals|the whole real line|"
                      r"[A-Za-z]\w*\s*[<>≥≤≠].*)$", re.IGNORECASE)


@dataclass
class Quant:
    var: str
    domain: sp.Set
    text: str
    explicit_domain: bool

    @property
    def vars(self) -> list[str]:
        return [_alias(v.strip()) for v in self.var.split(",")]


def _endpoint(text: str) -> sp.Expr:
    t = text.strip()
    if t in ("∞", "oo", "inf", "+∞", "+oo", "infinity"):
        return sp.oo
    if t in ("-∞", "-oo", "-inf", "−∞", "−oo"):
        return -sp.oo
    return parse_expr(t)


def _interval(text: str) -> sp.Set | None:
    t = text.strip()
    if t.lower() in ("r", "the real line", "the reals", "the whole real line", "(-∞, ∞)", "(-oo, oo)"):
        return REALS
    m = re.fullmatch(r"([\(\[])\s*(.+?)\s*,\s*(.+?)\s*([\)\]])", t)
    if not m:
        return None
    lo, hi = _endpoint(m.group(2)), _endpoint(m.group(3))
    return sp.Interval(lo, hi, m.group(1) == "(" or lo == -sp.oo, m.group(4) == ")" or hi == sp.oo)


def _domain(var: str, dom: str) -> tuple[sp.Set, bool]:
    dom = dom.strip().rstrip(".,;")
    var = var.split(",")[0].strip()
    if not dom:
        return REALS, False
    m = re.match(rf"{re.escape(var)}\s*(?=[<>≥≤≠!])", dom)
    if m:
        dom = dom[m.end():]
    m = re.match(r"(?:in|on)\s+(.*)$", dom, re.IGNORECASE)
    if m:
        inner = m.group(1).strip()
        iv = _interval(inner)
        if iv is not None:
            return iv, True
        dom = inner
        if re.match(r"[A-Za-zλμ]\w*\s*[<>≥≤≠]", dom):
            m2 = re.match(r"([A-Za-zλμ]\w*)\s*(.*)$", dom)
            var, dom = m2.group(1), m2.group(2)
    from convexproof.engine.domain import condition_set

    cond = parse_condition(f"{var} {dom}".replace("≠", "!="))
    s = condition_set(cond, symbol(_alias(var)))
    if s is None:
        raise ParseError(f"cannot read the domain {dom!r}")
    return s, True


def _alias(name: str) -> str:
    from convexproof.parse import ALIASES

    return {"lambda": "lam"}.get(name, ALIASES.get(name, name))


def split_quantifier(seg: str) -> tuple[str, Quant | None]:
    m = _QUANT_HEAD.match(seg)
    if m:
        dom, explicit = _domain(m.group("var"), m.group("dom") or "")
        return seg[m.end():].strip(), Quant(_alias(m.group("var")), dom, m.group().strip(" :,"), explicit)
    m = _QUANT_TAIL.search(seg)
    if m and m.start() > 0:
        dom, explicit = _domain(m.group("var"), m.group("dom") or "")
        return seg[:m.start()].strip(), Quant(_alias(m.group("var")), dom, m.group().strip(" ,;"), explicit)
    return seg, None


# --------------------------------------------------------------------------
# The part's specification and the student's facts
# --------------------------------------------------------------------------
@dataclass
class Fact:
    """A function (or one of its derivatives) as the student stated it."""

    expr: Any  # SymPy expression, or a matrix for a Hessian
    line: int
    taint: int | None  # the wrong line this depends on, or None


@dataclass
class Func:
    name: str
    vars: tuple
    orders: dict = field(default_factory=dict)  # 0, 1, 2, "hessian" -> Fact


@dataclass
class Truth:
    """A claim's meaning: the set of parameter values for which it holds (U for true, ∅ for false)."""

    S: sp.Set
    point: dict | None = None  # where a false claim fails (variables)
    note: str = ""


@dataclass
class _Prop:
    truth: Truth
    line: int
    taint: int | None
    universal: bool  # quantified over the variables (not an instance at a point)
    equiv: bool  # equivalent to the goal through ⇔ steps


class _Stop(Exception):
    """A segment's verdict (raised to end its judging)."""

    def __init__(self, status: str, reason: str, direction: str = "", taint: int | None = None):
        super().__init__(reason)
        self.status, self.reason, self.direction, self.taint = status, reason, direction, taint


def _u(obj) -> str:
    from convexproof.render.mathtext import unicode

    return unicode(obj)


_NAME_RE = r"[A-Za-z][A-Za-z0-9_]*"
_HEAD_RE = re.compile(rf"^(?P<nabla>∇\s*\^?\s*\(?2\)?|∇²|∇)?\s*(?P<name>{_NAME_RE})(?P<primes>'{{0,3}})\s*"
                      rf"(?:\((?P<args>[^()]*)\))?\s*=\s*(?P<rhs>.+)$")
_REF_RE = re.compile(rf"(?<![A-Za-z0-9_'])(?P<name>{_NAME_RE})(?P<primes>'{{0,3}})\((?P<args>[^()]*)\)")
_MIN_RE = re.compile(rf"(?<![A-Za-z0-9_])(?:min|inf)\s*(?:_\s*\(?\s*[A-Za-z]\w*\s*\)?)?\s*(?P<name>{_NAME_RE})"
                     rf"(?P<primes>'{{0,3}})(?:\((?P<args>[^()]*)\))?")
_BARE_REF_RE = re.compile(rf"(?<![A-Za-z0-9_])(?P<name>{_NAME_RE})(?P<primes>'{{1,3}})(?![\w(])")
_CONVEX_RE = re.compile(rf"^(?P<name>{_NAME_RE})(?:\([^()]*\))?\s+(?:is\s+)?(?P<neg>not\s+)?(?P<strict>strictly\s+)?"
                        r"(?P<what>convex|concave)\b(?P<rest>.*)$", re.IGNORECASE)
_OPT_RE = re.compile(r"^(?:the\s+(?:smallest|minimal|minimum|largest|maximal|maximum|best)\s+(?:value\s+(?:of\s+)?)?)?"
                     rf"(?P<name>λ|{_NAME_RE}?)\s*(?:\*|_\*|\^\*|\^\(\*\)|_\(\*\)|_min|_max|_\(min\)|_\(max\)|⋆)"
                     r"\s*(?:=|is)\s*(?P<val>.+)$", re.IGNORECASE)
_OPT_WORDS_RE = re.compile(r"^the\s+(?:smallest|minimal|minimum|largest|maximal|maximum|best)\s+"
                           rf"(?P<name>λ|{_NAME_RE})\s+is\s+(?P<val>.+)$", re.IGNORECASE)


class DerivationChecker:
    """Judges the lines of one derivation against one exercise part (see the module docstring)."""

    def __init__(self, ex, part, subs: dict | None = None):
        from convexproof.engine.domain import condition_set

        self.ex, self.part = ex, part
        self.subs = dict(subs or {})
        spec = part
        self.var_names = list(spec.variables) or ["x"]
        self.vars = [symbol(v) for v in self.var_names]
        self.lam = symbol(spec.parameter) if getattr(spec, "parameter", None) else None
        self.extremum = getattr(spec, "extremum", "min") or "min"
        self.carry = float(getattr(spec, "carry_forward", 0.5))
        self.param_names = {s.name for s in self.subs}
        self.allowed = set(self.var_names) | self.param_names | ({self.lam.name} if self.lam else set())
        # the domain box: each variable's interval from the part's assumptions
        self.box: dict = {v: REALS for v in self.vars}
        self.U = sp.FiniteSet(0) if self.lam is None else REALS
        self.extra_conditions = []
        for a in spec.assume:
            cond = parse_condition(a).subs(self.subs)
            syms = cond.free_symbols
            if len(syms) == 1:
                (s,) = syms
                S = condition_set(cond, s)
                if S is not None and s in self.box:
                    self.box[s] = sp.Intersection(self.box[s], S)
                    continue
                if S is not None and self.lam is not None and s == self.lam:
                    self.U = sp.Intersection(self.U, S)
                    continue
            self.extra_conditions.append(cond)
        for v in self.vars:
            self.box[v] = _as_interval(self.box[v])
        # the functions of the exercise (their definitions may be restated)
        self.declared: list[sp.Expr] = []
        for text in getattr(spec, "functions", []) or []:
            self.declared.append(parse_any(text).subs(self.subs))
        self.funcs: dict[str, Func] = {}
        self.current: str | None = None
        self.prop: _Prop | None = None
        self.last_expr: tuple[sp.Expr, int, int | None] | None = None  # (expression, line, taint)
        self.lines: list[LineResult] = []
        self.last_instance: tuple | None = None  # (line, point) of the last claim about one point

    # ------------------------------------------------------------ entry point
    def run(self, text: str) -> DerivationResult:
        from convexproof.runtime.limits import check_deadline

        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text.strip():
            # one physical line (a grade cell): claims separated by ';' or by a typed \n
            text = re.sub(r"\\n(?![A-Za-z])|;", "\n", text)
        raw_lines = text.split("\n")
        numbered = [(i + 1, ln) for i, ln in enumerate(raw_lines) if ln.strip() and not ln.lstrip().startswith("#")]
        if not numbered:
            raise ParseError("empty derivation")
        if len(numbered) > MAX_LINES:
            raise ParseError(f"the derivation has {len(numbered)} lines; the limit is {MAX_LINES}")
        for n, ln in numbered:
            if len(ln) > MAX_LINE_CHARS:
                raise ParseError(f"line {n} is too long ({len(ln)} characters; the limit is {MAX_LINE_CHARS})")
        result = DerivationResult(self.ex.id, self.part.name)
        for n, ln in numbered:
            check_deadline()
            r = self.line(n, ln.strip())
            self.lines.append(r)
            if r.status == "wrong" and result.first_error is None:
                result.first_error = n
        result.lines = self.lines
        result.score = round(sum(r.credit for r in self.lines) / len(self.lines), 3)
        return result

    def line(self, n: int, text: str) -> LineResult:
        worst = None
        read = []
        order = {"follows": 0, "implied": 1, "unclear": 2, "wrong": 3}
        try:
            norm = normalise_line(text)
            norm = _LEAD.sub("", norm)
            segments = split_line(norm)
        except ConvexproofError as exc:
            return self._result(n, text, "", "unclear", f"cannot read this line: {exc.one_line()}")
        if not segments:
            return self._result(n, text, "", "unclear", "nothing to check on this line")
        verdicts = []
        for conn, seg in segments:
            if not seg:
                v = _Stop("unclear", f"nothing after {conn}")
                shown = ""
            else:
                try:
                    shown = self.segment(n, conn, seg)
                    v = _Stop("follows", "")
                except _Stop as stop:
                    v, shown = stop, getattr(stop, "shown", seg)
                except ConvexproofError as exc:
                    msg = re.sub(r"Zzref\d+(, )?", "", exc.one_line())  # our placeholders are not the student's
                    v, shown = _Stop("unclear", f"cannot read {seg[:60]!r}: {msg}"), seg
                except (RecursionError, MemoryError, OverflowError):
                    v, shown = _Stop("unclear", "this formula is too complex to check"), seg
                except Exception as exc:  # noqa: BLE001 - a SymPy failure on odd input: never "follows"
                    from convexproof.runtime.errors import AnalysisTimeout

                    if isinstance(exc, AnalysisTimeout):
                        raise
                    v, shown = _Stop("unclear", f"cannot check this ({type(exc).__name__})"), seg
            sep = "" if not read else (" " if conn else ", ")
            read.append(sep + ((conn + " ") if conn and shown else conn) + shown)
            verdicts.append(v)
        for v in verdicts:
            if worst is None or order[v.status] > order[worst.status]:
                worst = v
        reasons = [v.reason for v in verdicts if v.reason and v.status == worst.status]
        if worst.status == "follows" and not reasons:
            reasons = [v.reason for v in verdicts if v.reason]
        taint = next((v.taint for v in verdicts if v.taint is not None), None)
        r = self._result(n, text, "".join(read), worst.status, " ".join(dict.fromkeys(reasons)),
                         worst.direction, taint if worst.status == "follows" else None)
        return r

    def _result(self, n, text, read_as, status, reason, direction="", carried=None) -> LineResult:
        credit = CREDIT[status]
        if status == "follows" and carried is not None:
            credit = self.carry
            extra = f"follows from your line {carried}, which was wrong (error carried forward)"
            reason = (extra + ("; " + reason if reason else "")) if "error carried forward" not in reason else reason
        return LineResult(n, text, read_as, status, reason, direction, carried, credit)

    # ------------------------------------------------------------ one segment
    def segment(self, n: int, conn: str, seg: str) -> str:
        seg = _strip_comments(seg.strip().rstrip(".;,"), self.allowed).rstrip(".;, ")
        body, quant = split_quantifier(seg)
        # a trailing domain "on (0, 1)" of a convexity claim is handled there
        m = _CONVEX_RE.match(body)
        if m:
            return self.convexity(n, conn, m, quant)
        m = _OPT_RE.match(body) or _OPT_WORDS_RE.match(body)
        if m and self.lam is not None and _alias(m.group("name") or self.lam.name) in (self.lam.name, ""):
            return self.optimum(n, m.group("val"))
        if conn == "=" or body.startswith("="):
            return self.continuation(n, body.lstrip("= "))
        m = _HEAD_RE.match(body)
        if m and m.group("name") not in _known_functions() and (
                m.group("args") is not None or m.group("nabla") or m.group("primes")):
            args = m.group("args")
            if m.group("nabla") or args is None or self._are_vars(args):
                return self.head(n, m, quant, conn)
        return self.claim(n, conn, body, quant)

    def _are_vars(self, args: str) -> bool:
        names = [a.strip() for a in args.split(",")]
        return all(re.fullmatch(_NAME_RE + "|λ", a) and _alias(a) in self.var_names for a in names)

    # ------------------------------------------------------------ parsing
    def parse(self, text: str, kind: str = "any"):
        """Parse a formula part: function references become the student's expressions first."""
        taints: list[int] = []
        instances: list[dict] = []
        values: dict = {}

        def ref(name, primes, args):
            f = self._lookup(name, args)
            if f is None:
                return None
            order = len(primes)
            val, taint = self.derivative(f, order)
            if args is not None:
                arg_vals = [self._parse_plain(a, "expr") for a in _split_args(args)]
                if len(arg_vals) != len(f.vars):
                    raise ParseError(f"{name} takes {len(f.vars)} argument{'s' if len(f.vars) > 1 else ''}")
                mapping = dict(zip(f.vars, arg_vals))
                if any(v != k for k, v in mapping.items()):
                    if all(not v.free_symbols for v in arg_vals):
                        instances.append(mapping)
                    val = val.subs(mapping, simultaneous=True)
            if taint is not None:
                taints.append(taint)
            key = f" Zzref{len(values)} "
            values[symbol(key.strip())] = val
            return key

        def sub(m):
            out = ref(m.group("name"), m.group("primes"), m.group("args"))
            return out if out is not None else m.group()

        def sub_bare(m):
            out = ref(m.group("name"), m.group("primes"), None)
            return out if out is not None else m.group()

        def sub_min(m):
            # "min f''", "min_x f''(x)": the exact minimum over x of the student's function
            f = self._lookup(m.group("name"), m.group("args"))
            if f is None or len(f.vars) != 1:
                return m.group()
            val, taint = self.derivative(f, len(m.group("primes")))
            key = f" Zzref{len(values)} "
            values[symbol(key.strip())] = self._minimum(val, f.vars[0], m.group("name") + m.group("primes"))
            if taint is not None:
                taints.append(taint)
            return key

        t = _MIN_RE.sub(sub_min, text)
        t = _REF_RE.sub(sub, t)
        t = _BARE_REF_RE.sub(sub_bare, t)
        self.last_refs = len(values)
        allowed = self.allowed | {s.name for s in values}
        if kind == "expr":
            value = parse_expr(t, allowed=allowed)
        else:
            value = parse_any(t, allowed=allowed)
        mapping = {**self.subs, **values}
        if mapping:
            value = _subs_keep(value, mapping)
        return value, (min(taints) if taints else None), instances

    def _minimum(self, val, x, shown: str):
        """min over x (in the domain) of val = h(x) + k(λ), exactly, or a ParseError saying why not."""
        from convexproof.engine.signs import infimum_1d

        if _blowup(val):
            raise ParseError(f"cannot compute the minimum of {shown} exactly")
        k, h = sp.expand(val).as_independent(x, as_Add=True)
        if self.lam is not None and h.has(self.lam):
            raise ParseError(f"the minimum of {shown} over {x} depends on {_u(self.lam)} in a way not handled here")
        inf = infimum_1d(h, x, _as_interval(self.box.get(x, REALS)))
        if inf.value is None:
            raise ParseError(f"cannot compute the minimum of {shown} exactly")
        if inf.value == -sp.oo:
            raise ParseError(f"{shown} has no minimum (it is unbounded below)")
        return k + inf.value

    def _parse_plain(self, text: str, kind: str = "expr"):
        v = parse_expr(text, allowed=self.allowed) if kind == "expr" else parse_any(text, allowed=self.allowed)
        return v.subs(self.subs) if self.subs else v

    def _lookup(self, name: str, args: str | None = None) -> Func | None:
        if name in self.funcs:
            return self.funcs[name]
        if name in _known_functions():
            return None
        if len(self.declared) == 1 and len(name) <= 2 and name not in self.allowed:
            # the statement's one function, used before the student restated it
            used = tuple(v for v in self.vars if v in self.declared[0].free_symbols) or tuple(self.vars[:1])
            if args is not None and self._are_vars(args):
                used = tuple(symbol(_alias(a.strip())) for a in args.split(","))
            elif len(used) > 1 and self.box.get(used[-1]) != REALS:
                used = used[:1]  # a label such as y in [0, 1] is not an argument
            f = Func(name, used)
            f.orders[0] = Fact(self.declared[0], 0, None)
            self.funcs[name] = f
            return f
        return None

    def derivative(self, f: Func, order):
        """The student's order-th derivative (their own if stated, else computed from the highest stated)."""
        if order in f.orders:
            fact = f.orders[order]
            return fact.expr, fact.taint
        lower = max((k for k in f.orders if isinstance(k, int) and k < order), default=None)
        if lower is None:
            raise ParseError(f"{f.name} is not defined yet")
        fact = f.orders[lower]
        if len(f.vars) != 1:
            raise ParseError(f"{f.name} has {len(f.vars)} variables: write its gradient or Hessian")
        val = _diff(fact.expr, f.vars[0], order - lower)
        return val, fact.taint

    # ------------------------------------------------------------ definitions and derivatives
    def head(self, n: int, m, quant, conn) -> str:
        name, primes, nabla = m.group("name"), m.group("primes"), m.group("nabla")
        args, rhs_text = m.group("args"), m.group("rhs")
        order = len(primes)
        hessian = bool(nabla) and nabla.strip() != "∇"
        gradient = bool(nabla) and nabla.strip() == "∇"
        rhs, taint, inst = self.parse(rhs_text)
        refs = self.last_refs
        rel = None
        if isinstance(rhs, (sp.core.relational.Relational, sp.And)) and not hessian and not gradient:
            # "f''(x) = 12x^2 - 6 + 2λ ≥ 0": the derivative, then a claim about it
            first = rhs.args[0] if isinstance(rhs, sp.And) else rhs
            rhs, rel = first.lhs, rhs
        shown = f"{name}{primes}" + (f"({args})" if args is not None else "")
        shown = ("∇²" if hessian else "∇" if gradient else "") + shown + " = " + _u(rhs)
        if quant is not None and rel is None:
            shown += f" {quant.text}"
        f = self.funcs.get(name)
        fvars = tuple(symbol(_alias(a.strip())) for a in args.split(",")) if args else (f.vars if f else tuple(self.vars))
        try:
            if hessian or gradient:
                self.matrix_claim(n, name, rhs, taint, hessian)
            elif order == 0:
                self.definition(n, name, fvars, rhs, taint, refs)
            else:
                self.derivative_claim(n, name, fvars, order, rhs, taint)
        except _Stop as stop:
            stop.shown = shown
            if stop.status != "follows" or rel is None:
                raise
            taint = stop.taint if stop.taint is not None else taint
        if rel is not None:
            shown += " " + _rel_tail(rel) + (f" {quant.text}" if quant else "")
            try:
                self.condition(n, conn, rel, quant, taint, inst, universal=True, from_head=True)
            except _Stop as stop:
                stop.shown = shown
                raise
            return shown
        return shown + (f" {quant.text}" if quant else "")

    def definition(self, n, name, fvars, rhs, taint, refs=0) -> None:
        if not isinstance(rhs, sp.Expr) or isinstance(rhs, sp.MatrixBase):
            raise _Stop("unclear", "a definition needs a formula on the right-hand side")
        old = self.funcs.get(name)
        previous = self.current
        matched = any(_same(rhs, d, self.box) is True for d in self.declared)
        built = refs > 0
        restated = old is not None and 0 in old.orders and _same(rhs, old.orders[0].expr, self.box) is True
        f = Func(name, tuple(fvars))
        self.current = name
        self.last_expr = (rhs, n, taint)
        if restated:
            f = old
            self.funcs[name] = f
            return
        self.funcs[name] = f
        f.orders[0] = Fact(rhs, n, taint)
        if matched or built:
            return
        if not self.declared:
            return
        # compare with the exercise's function(s)
        best = self.declared[0] if len(self.declared) == 1 else None
        if best is None:
            self.current = previous  # an unknown function is checked, but is not what conditions are about
            raise _Stop("unclear", "this is none of the functions of the exercise")
        pt = _differ_point(rhs - best, self.box, self._sample_syms(rhs - best))
        if pt is None:
            raise _Stop("unclear", "cannot decide whether this is the function of the exercise")
        f.orders[0] = Fact(rhs, n, n)
        raise _Stop("wrong", f"this is not the function of the exercise, {_u(best)}: at {_pt(pt)} it gives "
                             f"{_u(rhs.subs(pt))}, not {_u(best.subs(pt))}")

    def derivative_claim(self, n, name, fvars, order, rhs, taint) -> None:
        f = self._lookup(name, ", ".join(v.name for v in fvars) if fvars else None)
        if f is None:
            raise _Stop("unclear", f"{name} is not defined in an earlier line (write {name}({', '.join(self.var_names[:1])}) = … first)")
        if len(f.vars) != 1:
            raise _Stop("unclear", f"{name} has several variables: write its Hessian ∇²{name} = [[…]]")
        x = f.vars[0]
        self.current = name
        base, base_taint = self.derivative(f, order - 1)
        want = _diff(base, x, 1)
        primes = "'" * order
        same = _same(rhs, want, self.box)
        self.last_expr = (rhs, n, base_taint)
        if same is True:
            f.orders[order] = Fact(rhs, n, base_taint)
            for k in [k for k in f.orders if isinstance(k, int) and k > order]:
                del f.orders[k]
            raise _Stop("follows", "", taint=base_taint)
        # the right derivative of the exercise's function, though not of the student's own line?
        if base_taint is not None and 0 in f.orders:
            true = _diff(f.orders[0].expr, x, order)
            if f.orders[0].taint is None and _same(rhs, true, self.box) is True:
                f.orders[order] = Fact(rhs, n, None)
                raise _Stop("follows", f"the {_ordinal(order)} derivative of {name} (line {f.orders[0].line})")
        pt = _differ_point(rhs - want, self.box, self._sample_syms(rhs - want))
        f.orders[order] = Fact(rhs, n, n)
        for k in [k for k in f.orders if isinstance(k, int) and k > order]:
            del f.orders[k]
        if same is None and pt is None:
            raise _Stop("unclear", f"cannot decide whether this is the derivative of {_u(base)}")
        lower = max((k for k in f.orders if isinstance(k, int) and k < order - 1), default=None)
        origin = None
        if (order - 1) not in f.orders and lower is not None:
            origin = (f.orders[lower].expr, order - 1 - lower)
        reason = self.slip_reason(base, x, rhs, f"{name}{primes[:-1]}", origin)
        if pt is not None:
            from_ = (f"the derivative of {name}{primes[:-1]}" if (order - 1) in f.orders
                     else f"{name} differentiated {order} times")
            reason += (f" {'At ' + _pt(pt) + ': y' if pt else 'Y'}our {name}{primes} is "
                       f"{_uv((rhs.subs(pt)))}, but {from_} gives {_uv((want.subs(pt)))}.")
        raise _Stop("wrong", reason.strip())

    def slip_reason(self, base, x, got, base_name: str, origin=None) -> str:
        """The reason a derivative is wrong, from the rule tree; ``origin`` = (g, k) when base is g's k-th
        derivative that the student never wrote (the term is then named as a term of g)."""
        from convexproof.engine.diffsteps import diff_steps, find_slip

        if _blowup(base) or _blowup(got):
            return f"this is not the derivative of {base_name}."
        # sign(x) (the slope of |x|) is constant away from its jump: a symbol for the rule tree
        base = base.replace(lambda a: isinstance(a, sp.sign),
                            lambda a: sp.Symbol(f"sign({_u(a.args[0])})", real=True))
        try:
            tree = diff_steps(base, x)
            slip = find_slip(tree, got)
        except Exception:  # noqa: BLE001 - no diagnosis is fine; the point below still shows the error
            slip = None
        dx = f"d/d{x}"
        if slip is None or slip.kind == "other" and slip.term is slip.path[0]:
            return (f"{dx} of {_u(base)} is {_u(_tidy(_strip_delta(_diff(base, x, 1))))}, "
                    f"not {_u(_strip_delta(got))}.")
        node, got_term = slip.term
        term, dk = node.expr, dx
        if origin is not None:
            g, k = origin
            for t in sp.Add.make_args(sp.expand(g) if not _blowup(g) else g):
                if t.has(x) and _diff(t, x, k) == node.expr:
                    sup = {2: "²", 3: "³", 4: "⁴"}.get(k + 1, f"^{k + 1}")
                    term, dk = t, f"d{sup}/d{x}{sup}"
                    break
        head = f"{dk} of {_u(term)} is {_u(_tidy(_strip_delta(node.result)))}"
        if slip.kind == "dropped-term":
            text = head + ", but it is missing"
        elif slip.kind == "constant-kept":
            text = f"{dk} of the constant {_u(term)} is 0"
        else:
            text = head + f", not {_u(_tidy(_strip_delta(got_term)))}"
        why = _slip_why(slip, x)
        if dk != dx and slip.kind == "factor":
            why = why.split("; ")[-1]  # the rule at the last step would name f', which the student never wrote
        return text + (f" ({why})." if why else ".")

    def matrix_claim(self, n, name, rhs, taint, hessian: bool) -> None:
        f = self._lookup(name)
        if f is None or 0 not in f.orders:
            raise _Stop("unclear", f"{name} is not defined in an earlier line")
        if not isinstance(rhs, sp.MatrixBase):
            raise _Stop("unclear", "expected a matrix [[…], […]]" if hessian else "expected a vector [… , …]")
        fx = f.orders[0].expr
        xs = list(f.vars)
        self.current = name
        want = sp.hessian(fx, xs) if hessian else sp.Matrix([sp.diff(fx, v) for v in xs])
        want = want.applyfunc(_strip_delta)
        key = "hessian" if hessian else "gradient"
        base_taint = f.orders[0].taint
        grad = f.orders.get("gradient")
        if hessian and grad is not None and grad.taint is not None and grad.expr.shape == (len(xs), 1):
            # error carried forward: the Hessian of the student's own (wrong) gradient
            own = sp.Matrix([[sp.diff(grad.expr[i, 0], v) for v in xs] for i in range(len(xs))])
            if rhs.shape == own.shape and all(_same(rhs[i, j], own[i, j], self.box) is True
                                              for i in range(own.rows) for j in range(own.cols)):
                f.orders[key] = Fact(rhs, n, grad.taint)
                raise _Stop("follows", "", taint=grad.taint)
        if rhs.shape != want.shape:
            f.orders[key] = Fact(rhs, n, n)
            raise _Stop("wrong", f"{'the Hessian' if hessian else 'the gradient'} of {name} is "
                                 f"{want.shape[0]}×{want.shape[1]}, not {rhs.shape[0]}×{rhs.shape[1]}")
        bad, differ = [], []
        for i in range(want.rows):
            for j in range(want.cols):
                s = _same(rhs[i, j], want[i, j], self.box)
                if s is not True:
                    bad.append((i, j))
                    if s is False:
                        differ.append((i, j))
        if not bad:
            f.orders[key] = Fact(rhs, n, base_taint)
            raise _Stop("follows", "", taint=base_taint)
        f.orders[key] = Fact(rhs, n, n)
        if not differ:
            i, j = bad[0]
            raise _Stop("unclear", f"cannot decide entry ({i + 1}, {j + 1})" if hessian else
                        f"cannot decide component {i + 1}")
        bad = differ
        i, j = bad[0]
        d = rhs[i, j] - want[i, j]
        pt = _differ_point(d, self.box, self._sample_syms(d))
        if pt is None:
            raise _Stop("unclear", f"cannot decide entry ({i + 1}, {j + 1})")
        part = (sp.diff(fx, xs[i]) if hessian else fx)
        part = _strip_delta(part)
        xj = xs[j] if hessian else xs[i]
        reason = self.slip_reason(part, xj, rhs[i, j], name)
        many = len(bad) > 1
        if hessian:
            cells = ", ".join(f"({a + 1}, {b + 1})" for a, b in bad)
            what, one = ("entries" if many else "entry") + " " + cells, f"entry ({i + 1}, {j + 1})"
        else:
            what = ("components " if many else "component ") + ", ".join(str(a + 1) for a, _ in bad)
            one = f"component {i + 1}"
        at = f"At {_pt(pt)}, {one}" if pt else one[0].upper() + one[1:]
        raise _Stop("wrong", f"{what} {'are' if many else 'is'} not right: {reason} {at} is "
                             f"{_uv((want[i, j].subs(pt)))}, not {_uv((rhs[i, j].subs(pt)))}.")

    def _sample_syms(self, e) -> list:
        return sorted(getattr(e, "free_symbols", set()), key=lambda s: s.name)

    # ------------------------------------------------------------ expressions continued with "="
    def continuation(self, n, text) -> str:
        rhs, _taint, _ = self.parse(text, "expr")
        if self.last_expr is None:
            raise _Stop("unclear", "'=' continues nothing: there is no expression before it")
        prev, line, ptaint = self.last_expr
        s = _same(rhs, prev, self.box)
        self.last_expr = (rhs, n, ptaint)
        shown = "= " + _u(rhs)
        if s is True:
            raise _StopShown("follows", "", shown, taint=ptaint)
        pt = _differ_point(rhs - prev, self.box, self._sample_syms(rhs - prev))
        if pt is None:
            raise _StopShown("unclear", "cannot decide whether the two sides are equal", shown)
        self.last_expr = (rhs, n, n)
        raise _StopShown("wrong", f"this is not equal to {_u(prev)} (line {line}): at {_pt(pt)} it is "
                                  f"{_uv((rhs.subs(pt)))}, not {_uv((prev.subs(pt)))}",
                         shown)

    # ------------------------------------------------------------ claims
    def claim(self, n, conn, body, quant) -> str:
        value, taint, inst = self.parse(body)
        shown = (_pretty_raw(body) if self.last_refs else _u(value)) + (f" {quant.text}" if quant else "")
        try:
            if isinstance(value, sp.MatrixBase) or isinstance(value, sp.Tuple):
                raise _Stop("unclear", "a matrix or point on its own is not a claim")
            if isinstance(value, sp.Expr):
                self.last_expr = (value, n, taint)
                raise _Stop("unclear", "a formula without a claim: write what it equals or how it compares to 0")
            if value in (sp.true, sp.false):
                if value is sp.true:
                    raise _Stop("follows", "true", taint=taint)
                raise _Stop("wrong", "this is false")
            self.condition(n, conn, value, quant, taint, inst)
        except _Stop as stop:
            stop.shown = shown
            raise
        return shown

    def condition(self, n, conn, rel, quant, taint, inst, universal=True, from_head=False) -> None:
        """A relation or chain of relations: an identity, a claim for all x, or a condition on λ."""
        rels = list(rel.args) if isinstance(rel, sp.And) else [rel]
        eqs = [r for r in rels if isinstance(r, sp.Eq)]
        if isinstance(rel, sp.Or) or any(not isinstance(r, sp.core.relational.Relational) for r in rels):
            raise _Stop("unclear", "only comparisons joined by 'and' can be checked")
        qbox = dict(self.box)
        pieces = [None]
        if quant is not None:
            for name in quant.vars:
                qv = symbol(name)
                if qv not in self.box:
                    raise _Stop("unclear", f"{name} is not a variable of this exercise")
                qbox[qv] = _as_interval(quant.domain)
            if not isinstance(quant.domain, sp.Interval) and isinstance(quant.domain, sp.Union) and all(
                    isinstance(a, sp.Interval) for a in quant.domain.args) and len(quant.vars) == 1:
                pieces = list(quant.domain.args)  # x ≠ 0: each side on its own (a point at 0 proves nothing)
        others = [r for r in rels if not isinstance(r, sp.Eq)]
        # identities: an equation with a function value or a variable in it holds for every value
        for e in eqs:
            d = e.lhs - e.rhs
            if inst or self.last_refs or d.has(*self.vars) or self.lam is None or not d.has(self.lam):
                s = _same(e.lhs, e.rhs, qbox)
                if s is True:
                    self.last_expr = (e.rhs, n, taint)
                    continue
                pt = _differ_point(d, qbox, self._sample_syms(d))
                if pt is None:
                    raise _Stop("unclear", f"cannot decide whether {_u(e.lhs)} = {_u(e.rhs)}")
                raise _Stop("wrong", f"{_u(e.lhs)} ≠ {_u(e.rhs)}: at {_pt(pt)} the left side is "
                                     f"{_uv((e.lhs.subs(pt)))} and the right side "
                                     f"{_uv((e.rhs.subs(pt)))}" if pt else
                            f"{_u(e.lhs)} ≠ {_u(e.rhs)}: they differ by {_uv(d)}")
            others.append(e)
        if not others:
            raise _Stop("follows", "", taint=taint)
        if pieces == [None]:
            truth = self.truth(others, qbox)
        else:
            truth = self.truth_on_pieces(others, qbox, symbol(quant.vars[0]), pieces)
        parametric = self.lam is not None and any(r.has(self.lam) for r in others)
        if inst and not parametric:
            self.last_instance = (n, inst[0])
        self.judge(n, conn, truth, parametric, taint, universal=not inst, instance=inst, quant=quant,
                   rels=others, qbox=qbox)

    def truth(self, rels, qbox) -> Truth | None:
        S = self.U
        point = None
        for r in rels:
            t = self._truth1(r, qbox)
            if t is None:
                return None
            S = sp.Intersection(S, t.S)
            if t.point is not None and point is None:
                point = t.point
        return Truth(_simp_set(S), point)

    def truth_on_pieces(self, rels, qbox, v, pieces) -> Truth | None:
        """The claim on each interval of a union (for all x ≠ 0): all must hold."""
        S, point = self.U, None
        for I in pieces:
            t = self.truth(rels, {**qbox, v: I})
            if t is None:
                return None
            S = sp.Intersection(S, t.S)
            point = point or t.point
        return Truth(_simp_set(S), point)

    def _truth1(self, r, qbox) -> Truth | None:
        from convexproof.engine.domain import condition_set

        if _blowup(r):
            return None
        if r in (sp.true, sp.false):
            return Truth(self.U if r is sp.true else sp.EmptySet)
        op = r.rel_op
        g = r.lhs - r.rhs
        qvars = [v for v in self.vars if g.has(v)]
        lam = self.lam
        if op == "!=":
            return None
        if op in ("<", "<="):
            g, op = -g, {"<": ">", "<=": ">="}[op]
        strict = op == ">"
        if op == "==":
            if qvars:
                return None
            if lam is not None and g.has(lam):
                S = condition_set(sp.Eq(g, 0), lam)
                return None if S is None else Truth(sp.Intersection(S, self.U))
            return self._closed(g, "==", {})
        if not qvars:
            if lam is not None and g.has(lam):
                S = condition_set(sp.StrictGreaterThan(g, 0, evaluate=False) if strict else sp.GreaterThan(g, 0, evaluate=False), lam)
                return None if S is None else Truth(sp.Intersection(S, self.U))
            return self._closed(g, op, {})
        if lam is None or not g.has(lam):
            return self._forall(g, strict, qbox)
        # g = h(x) + k(λ): the condition is k + inf h ≥ 0 (> 0 if strict and the infimum is attained)
        k, h = sp.expand(g).as_independent(*qvars, as_Add=True)
        if h.has(lam) or k.has(*self.vars):
            return None
        from convexproof.engine.signs import infimum_1d

        groups: dict = {}
        for t in sp.Add.make_args(sp.expand(h)):
            vs = [v for v in qvars if t.has(v)]
            if len(vs) != 1:
                return None
            groups[vs[0]] = groups.get(vs[0], 0) + t
        total, attained = sp.Integer(0), True
        for v, hv in groups.items():
            inf = infimum_1d(hv, v, _as_interval(qbox.get(v, REALS)))
            if inf.value is None:
                return None
            if inf.value == -sp.oo:
                return Truth(sp.EmptySet)
            total += inf.value
            attained = attained and inf.attained_at is not None
        cond = k + total
        rel = sp.StrictGreaterThan(cond, 0, evaluate=False) if strict and attained else sp.GreaterThan(cond, 0, evaluate=False)
        if not cond.has(lam):
            return self._closed(cond, ">" if strict and attained else ">=", {})
        S = condition_set(rel, lam)
        return None if S is None else Truth(sp.Intersection(S, self.U))

    def _closed(self, g, op, pt) -> Truth | None:
        from convexproof.engine.exact import certified_sign

        s = certified_sign(g)
        if s is None:
            return None
        ok = {"==": s == 0, ">": s > 0, ">=": s >= 0}[op]
        return Truth(self.U if ok else sp.EmptySet, None if ok else pt or None)

    def _forall(self, g, strict: bool, qbox, _depth: int = 0) -> Truth | None:
        from convexproof.runtime.limits import deadline
        from convexproof.engine.signs import prove_nonneg

        box = {v: _as_interval(qbox.get(v, REALS)) for v in g.free_symbols if v in qbox}
        with deadline(5.0):
            r = prove_nonneg(g, box, search=False)
        if r.status == "proved" and (r.strict or not strict):
            return Truth(self.U)
        if g.has(sp.sin, sp.cos) and len(box) == 1:
            # a trigonometric minimum is best shown where it is attained (x = π/2), exactly
            from convexproof.engine.signs import infimum_1d
            from convexproof.engine.exact import certified_sign

            (v, I), = box.items()
            inf = infimum_1d(g, v, I)
            if inf.value is not None and inf.attained_at is not None and I.contains(inf.attained_at) is sp.true:
                if certified_sign(g.subs(v, inf.attained_at)) in ((-1, 0) if strict else (-1,)):
                    return Truth(sp.EmptySet, point={v: inf.attained_at})
        simple = _negative_point(g, box, strict)  # a simple counterexample reads better than the engine's
        if simple is not None:
            return Truth(sp.EmptySet, point=simple)
        if len(box) > 1 and _depth < 2:
            # affine in a variable with a bounded closed range (a label y in [0, 1]): the sign on the box
            # is decided at the two ends of that range
            for v, I in box.items():
                if not (I.inf.is_finite and I.sup.is_finite and not I.left_open and not I.right_open):
                    continue
                try:
                    affine = g.has(v) and sp.diff(g, v, 2) == 0 or sp.cancel(sp.diff(g, v, 2)) == 0
                except Exception:  # noqa: BLE001
                    continue
                if not affine:
                    continue
                rest = {w: J for w, J in qbox.items() if w != v}
                ends = [self._forall(g.subs(v, e), strict, rest, _depth + 1) for e in (I.inf, I.sup)]
                if all(t is not None and t.S == self.U for t in ends):
                    return Truth(self.U)
                break
        if r.status != "proved" and len(box) > 1:
            # a combined fraction may hide a sum of same-sign fractions: try partial fractions
            for v in [v for v in self.vars if v in box and g.has(v)][:1]:
                try:
                    parts = sp.apart(sp.together(g), v)
                except Exception:  # noqa: BLE001 - not a rational function of v
                    continue
                with deadline(5.0):
                    r2 = prove_nonneg(parts, box, search=False)
                if r2.status == "proved" and (r2.strict or not strict):
                    return Truth(self.U)
        if r.status != "proved":
            with deadline(5.0):
                r = prove_nonneg(g, box)
        if r.status == "disproved":
            return Truth(sp.EmptySet, point=r.point)
        if r.status == "proved" and strict:
            pt = _zero_point(g, box)
            if pt is not None:
                return Truth(sp.EmptySet, point=pt)
        return None

    # ------------------------------------------------------------ the goal
    def goal(self, name: str | None, negate=False, strict=False, box=None,
             own=True) -> tuple[Truth | None, int | None, str]:
        """The convexity of a function of the student's, as a Truth, the taint, and a witness text."""
        f = self.funcs.get(name) if name else None
        if f is None and name:
            f = self._lookup(name)
        if f is None or 0 not in f.orders:
            return None, None, ""
        box = box or self.box
        if len(f.vars) == 1:
            x = f.vars[0]
            fx = f.orders[0].expr
            if not _defined_on(fx, x, _as_interval(box.get(x, REALS))):
                return None, None, ""
            kinks = _strip_kinks(fx, x)
            if kinks is None:
                return None, None, ""
            smooth, had_kinks = kinks
            if had_kinks or 2 not in f.orders or not own:
                g2, taint = _diff(smooth, x, 2), f.orders[0].taint
                if not had_kinks and 1 in f.orders and own:
                    g2, taint = self.derivative(f, 2)
            else:
                g2, taint = f.orders[2].expr, f.orders[2].taint
            if negate:
                g2 = -g2
            t = self._truth1(sp.StrictGreaterThan(g2, 0, evaluate=False) if strict else sp.GreaterThan(g2, 0, evaluate=False), box)
            wit = ""
            if t is not None and t.point:
                val = _simplify_num(g2.subs(t.point) * (-1 if negate else 1))
                rel = "= 0" if val == 0 else ("> 0" if negate else "< 0")
                val_text = "" if val == 0 else f" = {_uv(val)}"
                own_text = "your " if taint is not None else ""
                if set(t.point) == {x}:
                    wit = f"{own_text}{name}''({_u(t.point[x])}){val_text} {rel}"
                else:
                    wit = f"at {_pt(t.point)}, {own_text}{name}''{val_text} {rel}"
            return t, taint, wit
        H = f.orders.get("hessian") if own else None
        if H is not None:
            M, taint = H.expr, H.taint
        else:
            M, taint = sp.hessian(f.orders[0].expr, list(f.vars)).applyfunc(_strip_delta), f.orders[0].taint
        if negate:
            M = -M
        if M.is_diagonal():
            rels = [sp.GreaterThan(M[i, i], 0, evaluate=False) for i in range(M.rows)]
        elif not M.free_symbols & set(f.vars) and M.rows == 2:
            a, b, c = M[0, 0], M[0, 1], M[1, 1]
            rels = [sp.GreaterThan(a, 0, evaluate=False), sp.GreaterThan(c, 0, evaluate=False), sp.GreaterThan(sp.expand(a * c - b * b), 0, evaluate=False)]
        else:
            return None, taint, ""
        return self.truth(rels, box), taint, ""

    # ------------------------------------------------------------ linking claims
    def judge(self, n, conn, truth: Truth | None, parametric: bool, taint, universal=True, instance=None,
              quant=None, rels=None, qbox=None) -> None:
        if truth is None:
            raise _Stop("unclear", "cannot decide this claim exactly")
        if not parametric:
            self.prop = None
            if truth.S == self.U:
                raise _Stop("follows", "", taint=taint)
            # false: give the point, and say when only the domain was dropped
            reason = "this is false"
            if truth.point:
                vals = [f"{_u(r.lhs.subs(truth.point))} {_relop(r)} {_u(r.rhs.subs(truth.point))} fails"
                        for r in (rels or []) if _fails(r, truth.point)]
                reason = f"this fails at {_pt(truth.point)}" + (f": {vals[0]}" if vals else "")
            if quant is not None and quant.var in self.var_names and rels:
                t2 = self.truth(rels, self.box)
                v = symbol(quant.var)
                if t2 is not None and t2.S == self.U and self.box[v] != REALS:
                    reason += (f" (the claim is for all real {_u(v)}; it holds on the domain "
                               f"{_u(self.box[v].as_relational(v))}: you dropped the domain)")
            raise _Stop("wrong", reason)
        prev = self.prop
        if prev is None or (conn == "" and prev.line != n and self.prop_is_stale(prev)):
            g, gtaint, _ = self.goal(self.current)
            if g is None:
                # a condition on its own: judged as the start of a chain
                self.prop = _Prop(truth, n, taint, universal, False)
                raise _Stop("unclear", "cannot tell what this condition is meant to be equivalent to "
                                       "(state the function and its second derivative first)")
            prev = _Prop(g, n, gtaint, True, True)
            if gtaint is not None:
                # the student's own (wrong) second derivative, or the right one: either may be meant
                g0, g0taint, _ = self.goal(self.current, own=False)
                if g0 is not None and g0taint is None and _compare(g0, truth, conn, self.lam)[0] == "follows":
                    prev = _Prop(g0, n, None, True, True)
        status, reason, direction, _point = _compare(prev.truth, truth, conn, self.lam)
        link_taint = taint if taint is not None else prev.taint
        equiv = prev.equiv and status == "follows"
        one_point = bool(instance) and prev.universal and status in ("follows", "implied") and direction != "⇐"
        if one_point:
            pt = instance[0]
            where = _pt(pt)
            reason = (f"this checks one point only ({where}): the claim for all {self._qname(pt)} implies it, "
                      f"but not conversely" + ("; it happens to give the same condition here, but you need the "
                                               "minimum over all points" if status == "follows" else "")
                      + (f" ({reason})" if reason and status != "follows" else ""))
            status, direction, equiv = "implied", "⇒", False
        self.prop = _Prop(truth, n, link_taint if status != "wrong" else n, not instance, equiv)
        if status == "wrong":
            raise _Stop("wrong", reason)
        raise _Stop(status, reason, direction, taint=link_taint if status == "follows" else None)

    def _qname(self, pt) -> str:
        return ", ".join(_u(k) for k in pt)

    def prop_is_stale(self, prev: _Prop) -> bool:
        """A new line without a connective continues the chain of the line just before it, not an older one."""
        return bool(self.lines) and self.lines[-1].n != prev.line

    # ------------------------------------------------------------ conclusions
    def convexity(self, n, conn, m, quant) -> str:
        name = m.group("name")
        neg = bool(m.group("neg"))
        strict = bool(m.group("strict"))
        concave = m.group("what").lower() == "concave"
        rest = m.group("rest").strip()
        shown = f"{name} is {'not ' if neg else ''}{'strictly ' if strict else ''}{m.group('what').lower()}"
        box = dict(self.box)
        if rest:
            dm = re.match(r"^(?:on|over)\s+(.*)$", rest, re.IGNORECASE)
            if dm is None:
                raise _StopShown("unclear", f"cannot read {rest!r} (write e.g. 'f is convex on (0, 1)')", shown)
            f = self.funcs.get(name) or self._lookup(name)
            if f is None or len(f.vars) != 1:
                raise _StopShown("unclear", f"{name} is not defined in an earlier line", shown)
            dom = dm.group(1).strip()
            iv = _interval(dom)
            if iv is None:
                iv, _ = _domain(f.vars[0].name, dom if re.match(r"[A-Za-zλ]", dom) else dom)
            box[f.vars[0]] = _as_interval(iv)
            I = box[f.vars[0]]
            shown += " on " + ("ℝ" if I == REALS else _u(I.as_relational(f.vars[0])))
        if quant is not None:
            shown += " " + quant.text
        if name not in self.funcs and self._lookup(name) is None:
            raise _StopShown("unclear", f"{name} is not defined in an earlier line", shown)
        self.current = name
        f = self.funcs.get(name) or self._lookup(name)
        if f is not None and len(f.vars) == 1 and 0 in f.orders:
            I = _as_interval(box.get(f.vars[0], REALS))
            if not _defined_on(f.orders[0].expr, f.vars[0], I):
                raise _StopShown("unclear", f"{name} is not shown to be defined and continuous on all of "
                                            f"{'ℝ' if I == REALS else _u(I.as_relational(f.vars[0]))}", shown)
        t, taint, wit = self.goal(name, negate=concave, strict=strict, box=box)
        if t is None:
            raise _StopShown("unclear", f"cannot decide whether {name} is {'strictly ' if strict else ''}"
                                        f"{'concave' if concave else 'convex'}", shown)
        if strict and t.S != self.U and not neg:
            t2, _, _ = self.goal(name, negate=concave, strict=False, box=box)
            if t2 is not None and t2.S == self.U:
                raise _StopShown("unclear", f"{name} is convex; strictness needs more than f'' ≥ 0", shown)
        if neg:
            t = Truth(_simp_set(sp.Complement(self.U, t.S)), t.point)
        if quant is not None and self.lam is not None and quant.vars == [self.lam.name]:
            # "f is convex for λ ≥ 3": every such λ must be in the set where the claim holds
            D = _simp_set(sp.Intersection(quant.domain, self.U))
            missing = _simp_set(sp.Complement(D, t.S))
            if missing is sp.EmptySet:
                self.prop = None
                raise _StopShown("follows", "", shown, taint=taint)
            p = _pick(missing)
            if p is None:
                raise _StopShown("unclear", "cannot compare the two conditions exactly", shown)
            raise _StopShown("wrong", f"at {_u(self.lam)} = {_u(p)}, {name} is "
                                      f"{'' if neg else 'not '}{'concave' if concave else 'convex'}", shown)
        parametric = self.lam is not None and t.S not in (self.U, sp.EmptySet) or (
            self.lam is not None and self.prop is not None and conn != "")
        try:
            if not parametric:
                self.prop = None
                if t.S == self.U:
                    raise _Stop("follows", "", taint=taint)
                if neg:
                    raise _Stop("wrong", f"{name} is {'concave' if concave else 'convex'}: "
                                         f"its second derivative is {'≤' if concave else '≥'} 0 on the whole domain")
                before = self.lines[-1] if self.lines else None
                if before is not None and before.status == "wrong" and not _HEAD_RE.match(before.text):
                    # the student's own (wrong) claim on the line before says it: credit the conclusion
                    raise _Stop("follows", "", taint=before.n)
                reason = (f"{name} is not {'strictly ' if strict else ''}{'concave' if concave else 'convex'}"
                          + (f": {wit}" if wit else ""))
                if taint is not None:
                    reason += f" (by your line {taint})"
                if self.last_instance is not None:
                    reason += (f" (line {self.last_instance[0]} checks one point only, {_pt(self.last_instance[1])}; "
                               f"convexity needs the sign everywhere)")
                elif self.lines and any("one point only" in r.reason for r in self.lines[-2:]):
                    reason += " (one point does not decide the sign of the second derivative everywhere)"
                raise _Stop("wrong", reason)
            self.judge(n, conn or "⇔", t, True, taint, universal=True)
        except _Stop as stop:
            stop.shown = shown
            raise
        return shown

    def optimum(self, n, val_text) -> str:
        val, _taint, _ = self.parse(val_text, "expr")
        lam = self.lam
        word = "largest" if self.extremum == "max" else "smallest"
        shown = f"{_u(lam)}* = {_u(val)}"
        prev = self.prop
        g, gtaint, _ = self.goal(self.current)
        base = prev if prev is not None else (_Prop(g, n, gtaint, True, True) if g is not None else None)
        if base is None:
            raise _StopShown("unclear", f"there is no condition on {_u(lam)} before this line", shown)

        def best(S):
            S = _simp_set(sp.Intersection(S, self.U))
            if S is sp.EmptySet:
                return None, "no value satisfies it"
            end = S.sup if self.extremum == "max" else S.inf
            if end in (sp.oo, -sp.oo) or not S.contains(end) is sp.true:
                return None, f"{_cond_text(S, lam)} has no {word} value"
            return end, ""

        v, why = best(base.truth.S)
        if v is not None and _same(val, v, {}) is True:
            if base.equiv or prev is None:
                note = ""
                if base.taint is not None:
                    # credit for consistent work, but the student should know the value itself is off
                    g0, g0taint, _ = self.goal(self.current, own=False)
                    if g0 is not None and g0taint is None:
                        v0, _ = best(g0.S)
                        if v0 is not None and _same(val, v0, {}) is not True:
                            note = f"but because of line {base.taint} this is not the {word} {_u(lam)}"
                raise _StopShown("follows", note, shown, taint=base.taint)
            # the value is right for the student's condition, but that condition is not the whole story
            if g is not None:
                gv, _ = best(g.S)
                if gv is not None and _same(val, gv, {}) is True:
                    raise _StopShown("implied", f"the value is right, but the argument before it goes one way only "
                                                f"(see line {base.line})", shown, "⇒")
                if gv is not None:
                    raise _StopShown("wrong", self._optimum_wrong(val, g, gv), shown)
            raise _StopShown("implied", f"follows from line {base.line}, which is not equivalent to convexity", shown,
                             "⇒")
        if v is None:
            raise _StopShown("wrong", f"line {base.line}: {why}", shown)
        # never state the right value or condition: that would give the answer away
        if base.truth.S.contains(val) is sp.true:
            why = (f"{_u(lam)} = {_u(val)} works but is not the {word} value: a "
                   f"{'larger' if self.extremum == 'max' else 'smaller'} {_u(lam)} works too")
        else:
            why = (f"{_u(lam)} = {_u(val)} does not satisfy line {base.line}, so it is not the {word} {_u(lam)}"
                   + self._too_small_point(val))
        raise _StopShown("wrong", why, shown)

    def _optimum_wrong(self, val, g, gv) -> str:
        lam = self.lam
        word = "largest" if self.extremum == "max" else "smallest"
        # the reason never states the right condition (that would give the answer away); it shows why
        if g.S.contains(val) is sp.true:
            return (f"{_u(lam)} = {_u(val)} works but is not the {word} value: a "
                    f"{'larger' if self.extremum == 'max' else 'smaller'} {_u(lam)} works too")
        return (f"{_u(lam)} = {_u(val)} is too {'large' if self.extremum == 'max' else 'small'}: with it the function "
                "is not convex" + self._too_small_point(val))

    def _too_small_point(self, val) -> str:
        """Where f'' < 0 for the parameter value val (exactly), as a sentence tail, or ''."""
        f = self.funcs.get(self.current) if self.current else None
        if f is None or len(f.vars) != 1 or 0 not in f.orders:
            return ""
        x = f.vars[0]
        try:
            g2, _ = self.derivative(f, 2)
            g2 = g2.subs(self.lam, val)
            pt = _negative_point(g2, {x: self.box.get(x, REALS)}, False)
        except ConvexproofError:
            return ""
        if pt is None or x not in pt:
            return ""
        return f"; at {_u(self.lam)} = {_u(val)}, {f.name}''({_u(pt[x])}) = {_u(g2.subs(pt))} < 0"


class _StopShown(_Stop):
    def __init__(self, status, reason, shown, direction="", taint=None):
        super().__init__(status, reason, direction, taint)
        self.shown = shown


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
_PRETTY = [(">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("**", "^"), ("lambda", "λ")]


def _pretty_raw(text: str) -> str:
    """The student's own text of a claim with function values, with ASCII comparisons made readable."""
    for a, b in _PRETTY:
        text = text.replace(a, b)
    return re.sub(r"\blam\b", "λ", text)


def _subs_keep(value, mapping):
    """Substitute without letting a relation evaluate to True/False (exp(x) > 0 stays a claim)."""
    if isinstance(value, sp.core.relational.Relational):
        return type(value)(value.lhs.subs(mapping), value.rhs.subs(mapping), evaluate=False)
    if isinstance(value, (sp.And, sp.Or)):
        return type(value)(*[_subs_keep(a, mapping) for a in value.args], evaluate=False)
    return value.subs(mapping)


def _known_functions() -> set:
    from convexproof.parse import CONSTANTS, FUNCTIONS

    return set(FUNCTIONS) | set(CONSTANTS) | {"d", "for", "is", "so"}


def _split_args(args: str) -> list[str]:
    return [a.strip() for a in args.split(",") if a.strip()] or [""]


def _rel_tail(rel) -> str:
    rels = list(rel.args) if isinstance(rel, sp.And) else [rel]
    return " ".join(f"{_relop(r)} {_u(r.rhs)}" for r in rels)


_RELOP = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}


def _relop(r) -> str:
    return _RELOP.get(r.rel_op, r.rel_op)


def _fails(r, pt) -> bool:
    """True when the relation r certainly fails at pt (decided by a certified sign)."""
    from convexproof.grading.answers import _truth

    return _truth(r, pt) is False


def _pt(pt: dict) -> str:
    return ", ".join(f"{_u(k)} = {_u(v)}" for k, v in sorted(pt.items(), key=lambda kv: kv[0].name))


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(k, f"{k}th")


def _as_interval(S):
    """An Interval for the sign engine (x ≠ c is taken on the whole line; its convex hull)."""
    if isinstance(S, sp.Interval):
        return S
    try:
        return sp.Interval(S.inf, S.sup, S.inf not in S or S.inf == -sp.oo, S.sup not in S or S.sup == sp.oo)
    except Exception:  # noqa: BLE001
        return REALS


def _simp_set(S):
    try:
        return sp.simplify(S) if not isinstance(S, sp.Set) else S.doit() if hasattr(S, "doit") else S
    except Exception:  # noqa: BLE001
        return S


def _strip_delta(e):
    """Derivatives where the function is twice differentiable: |x|'' = 2δ(x) is 0 away from the kink."""
    if isinstance(e, sp.Basic) and e.has(sp.DiracDelta):
        e = e.replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.Integer(0))
    if isinstance(e, sp.Basic) and e.has(sp.sign):
        e = e.replace(lambda a: isinstance(a, sp.Pow) and isinstance(a.base, sp.sign) and a.exp == 2,
                      lambda a: sp.Integer(1))
    return e


def _diff(e, x, k: int):
    return _strip_delta(sp.diff(e, x, k)) if k > 0 else e


@lru_cache(maxsize=256)
def _defined_on(fx, x, I) -> bool:
    """True when fx is (provably) continuous on the whole interval I (1/x² on the real line is not)."""
    from sympy.calculus.util import continuous_domain

    if _blowup(fx):
        return False
    try:
        D = continuous_domain(fx, x, I)
        return bool(sp.Complement(I, D) is sp.EmptySet)
    except Exception:  # noqa: BLE001 - undecided: not shown to be defined
        return False


def _strip_kinks(fx, x):
    """(smooth part, had kinks): f minus its terms c·|affine| with c ≥ 0; None for other non-smooth terms.

    A convex kink term does not change convexity: f is convex exactly when its
    smooth part has a second derivative ≥ 0 everywhere.
    """
    from convexproof.engine.exact import certified_sign

    if not fx.has(sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign):
        return fx, False
    smooth = sp.Integer(0)
    had = False
    for t in sp.Add.make_args(sp.expand(fx)):
        if not t.has(sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign):
            smooth += t
            continue
        c, rest = t.as_independent(x, as_Add=False)
        if isinstance(rest, sp.Abs) and sp.Poly(rest.args[0], x).degree() == 1 and certified_sign(c) in (0, 1):
            had = True
            continue
        return None
    return smooth, had


def _tidy(e):
    """The shortest of a few equivalent forms (for showing a derivative)."""
    if not isinstance(e, sp.Expr) or sp.count_ops(e) > 60:
        return e
    forms = [e]
    fns = [sp.factor, lambda a: sp.factor_terms(sp.cancel(a)), lambda a: -sp.factor(-a)]
    if e.has(sp.Function):
        fns.append(sp.simplify)
    for fn in fns:
        try:
            forms.append(fn(e))
        except Exception:  # noqa: BLE001
            pass
    forms.append(sp.together(e))
    return min(forms, key=lambda a: (_u(a).count("(−1 + "), sp.count_ops(a), len(_u(a))))


def _uv(v) -> str:
    """A value for a reason: exact, but a number with more than 30 digits is shown rounded (≈)."""
    v = _simplify_num(v)
    if isinstance(v, sp.Rational) and max(len(str(abs(v.p))), len(str(v.q))) > 30:
        return "≈ " + f"{float(v):.6g}".replace("-", "−")
    return _u(v)


def _simplify_num(v):
    if isinstance(v, sp.Expr) and not v.free_symbols and not v.is_Rational:
        try:
            s = sp.nsimplify(sp.simplify(v)) if v.count_ops() < 40 else v
            return s if s.is_Rational else sp.simplify(v)
        except Exception:  # noqa: BLE001
            return v
    return sp.simplify(v) if isinstance(v, sp.Expr) and v.count_ops() < 40 else v


def _positive_version(e, box):
    """e with variables known positive on the box made positive symbols (for simplification only)."""
    from convexproof.engine.exact import certified_sign

    reps = {}
    for v, I in box.items():
        if isinstance(I, sp.Interval) and certified_sign(I.inf) in (0, 1) and v in e.free_symbols:
            if certified_sign(I.inf) == 1 or I.left_open:
                reps[v] = sp.Symbol(v.name, positive=True)
            else:
                reps[v] = sp.Symbol(v.name, nonnegative=True)
    return e.xreplace(reps) if reps else e


MAX_EXPANDED_POWER = 40  # (a + b)^n with a larger n is never expanded (a hostile line must not take minutes)


def _blowup(e) -> bool:
    """True when expanding or cancelling e could take very long: a large power of a sum."""
    if not isinstance(e, sp.Basic):
        return False
    for p in e.atoms(sp.Pow):
        if isinstance(p.base, sp.Add) and p.exp.is_Number and abs(p.exp) > MAX_EXPANDED_POWER:
            return True
    return sp.count_ops(e) > 400


def _same(a, b, box) -> bool | None:
    """True when a = b is proved (the difference cancels or simplifies to 0); False when a point differs; else None."""
    if not isinstance(a, sp.Expr) or not isinstance(b, sp.Expr):
        return None
    d = a - b
    if d == 0:
        return True
    if _blowup(d):
        pt = _differ_point(d, box, sorted(d.free_symbols, key=lambda s: s.name))
        return False if pt is not None else None
    try:
        if sp.cancel(sp.together(sp.expand(d))) == 0:
            return True
        if sp.count_ops(d) < 200:
            if sp.simplify(d) == 0 or sp.simplify(_positive_version(d, box)) == 0:
                return True
    except Exception:  # noqa: BLE001 - undecided
        pass
    pt = _differ_point(d, box, sorted(d.free_symbols, key=lambda s: s.name))
    return False if pt is not None else None


def _differ_point(d, box, syms) -> dict | None:
    """A simple point of the box (rationals) where d is certainly nonzero, or None (the engine's search)."""
    from convexproof.engine.witness import simple_point

    return simple_point(d, _boxed(box, syms), (-1, 1), syms=syms, limit=60)


def _negative_point(g, box, strict: bool) -> dict | None:
    """A simple rational point of the box where g < 0 (or = 0 when strict), certified; else None."""
    from convexproof.engine.witness import simple_point

    syms = sorted(g.free_symbols, key=lambda s: s.name)
    if len(syms) > 3:
        return None
    return simple_point(g, _boxed(box, syms), (-1, 0) if strict else (-1,), syms=syms, limit=80)


def _zero_point(g, box) -> dict | None:
    """A simple point of the box where g (of one variable) is 0, certified; else None."""
    from convexproof.engine.witness import simple_point

    syms = sorted(g.free_symbols, key=lambda s: s.name)
    if len(syms) != 1:
        return None
    return simple_point(g, _boxed(box, syms), (0,), syms=syms)


def _boxed(box, syms) -> dict:
    """The box's sets as Intervals for the engine (their convex hulls)."""
    return {s: REALS if box.get(s) is None else _as_interval(box[s]) for s in syms}


def _compare(A: Truth, B: Truth, conn: str, lam) -> tuple[str, str, str, dict | None]:
    """(status, reason, direction, point) for the step from claim A to claim B."""
    SA, SB = A.S, B.S
    a_not_b = _simp_set(sp.Complement(SA, SB))
    b_not_a = _simp_set(sp.Complement(SB, SA))
    if not isinstance(a_not_b, sp.Set) or not isinstance(b_not_a, sp.Set):
        return "unclear", "cannot compare the two conditions exactly", "", None
    fwd = a_not_b is sp.EmptySet  # A ⇒ B
    bwd = b_not_a is sp.EmptySet  # B ⇒ A
    if not fwd and _pick(a_not_b) is None or not bwd and _pick(b_not_a) is None:
        return "unclear", "cannot compare the two conditions exactly", "", None

    def cond_text(S):
        return _cond_text(S, lam)

    if fwd and bwd:
        return "follows", "", "", None
    name = _u(lam) if lam is not None else "the parameter"
    if fwd:  # only ⇒
        p = _pick(b_not_a)
        if conn == "⇐":
            return ("wrong", f"the implication goes the other way (⇒): at {name} = {_u(p)} this line holds but the "
                             f"previous one does not", "", {lam: p})
        return ("implied", f"only ⇒ holds: at {name} = {_u(p)} this line holds but the previous claim "
                           f"({cond_text(SA)}) does not", "⇒", {lam: p})
    if bwd:  # only ⇐
        p = _pick(a_not_b)
        if conn == "⇒":
            return ("wrong", f"the implication goes the other way (⇐): at {name} = {_u(p)} the previous claim "
                             f"holds ({cond_text(SA)}) but this one does not", "", {lam: p})
        return ("implied", f"only ⇐ holds (this is a stronger condition, sufficient but not necessary): at "
                           f"{name} = {_u(p)} the previous claim ({cond_text(SA)}) holds but this one does not",
                "⇐", {lam: p})
    p = _pick(a_not_b)
    return ("wrong", f"this does not follow: at {name} = {_u(p)} the previous claim ({cond_text(SA)}) holds but "
                     f"this one ({cond_text(SB)}) does not", "", {lam: p})


def _cond_text(S, lam) -> str:
    """λ ≥ 3 rather than 3 ≤ λ."""
    if lam is None:
        return "true" if S != sp.EmptySet else "false"
    L = _u(lam)
    if isinstance(S, sp.Interval):
        lo, hi = S.inf, S.sup
        if hi == sp.oo and lo != -sp.oo:
            return f"{L} {'>' if S.left_open else '≥'} {_u(lo)}"
        if lo == -sp.oo and hi != sp.oo:
            return f"{L} {'<' if S.right_open else '≤'} {_u(hi)}"
    if S is sp.EmptySet:
        return "no value of " + L
    if isinstance(S, sp.FiniteSet):
        return " or ".join(f"{L} = {_u(v)}" for v in S.args)
    if isinstance(S, sp.Union):
        return " or ".join(_cond_text(a, lam) for a in S.args)
    if isinstance(S, sp.Interval):
        lo, hi = S.inf, S.sup
        return f"{_u(lo)} {'<' if S.left_open else '≤'} {L} {'<' if S.right_open else '≤'} {_u(hi)}"
    try:
        return _u(S.as_relational(lam))
    except Exception:  # noqa: BLE001
        return _u(S)


def _pick(S) -> sp.Expr | None:
    """A simple rational point of S (exact), or None."""
    if S is sp.EmptySet:
        return None
    if isinstance(S, sp.FiniteSet):
        for v in S.args:
            if v.is_Rational:
                return v
        return S.args[0] if S.args else None
    if isinstance(S, sp.Union):
        for a in S.args:
            p = _pick(a)
            if p is not None:
                return p
        return None
    if isinstance(S, sp.Interval):
        lo, hi = S.inf, S.sup
        if lo == -sp.oo and hi == sp.oo:
            return sp.Integer(0)
        if lo == -sp.oo:
            c = sp.floor(hi) - 1 if hi.is_finite else sp.Integer(0)
            return sp.Integer(c)
        if hi == sp.oo:
            return sp.Integer(sp.ceiling(lo) + 1) if not (lo.is_Rational and lo.is_integer and not S.left_open) else lo
        if lo == hi:
            return lo if lo.is_Rational else None
        mid = (lo + hi) / 2
        if not mid.is_Rational:
            mid = sp.nsimplify(sp.Float(mid.evalf(15), 15), rational=True, tolerance=abs(sp.N(hi - lo)) / 10)
        return mid if S.contains(mid) is sp.true else None
    return None


# --------------------------------------------------------------------------
# Reasons for a misapplied rule (the prose the rule tree leaves out)
# --------------------------------------------------------------------------
def _slip_why(slip, x) -> str:
    from convexproof.engine import diffsteps as D

    node = slip.node
    if slip.kind == "chain-inner":
        return (f"chain rule: multiply by the derivative of the inner function {_u(node.inner)}, "
                f"which is {_u(slip.missing)}")
    if slip.kind == "product-rule":
        return "product rule: (u·v)′ = u′·v + u·v′, not u′·v′"
    if slip.kind == "product-term":
        return "product rule: (u·v)′ = u′·v + u·v′ has two terms"
    if slip.kind == "quotient-sign":
        return "quotient rule: (u/v)′ = (u′·v − u·v′)/v², the numerator has the opposite sign"
    if slip.kind == "not-differentiated":
        return "this term was not differentiated"
    rule = _RULE_NAMES.get(type(node).__name__)
    if slip.kind == "sign":
        return "a sign error" + (f" in the {rule}" if rule else "")
    if slip.kind == "factor" and slip.factor is not None:
        r = slip.factor
        what = (f"a factor {_u(1 / r)} was lost" if (1 / r).is_Integer else f"off by a factor {_u(r)}")
        if isinstance(node, D.PowerRule):
            return f"power rule: d/d{x} {_u(node.expr)} = {_u(node.result)}; {what}"
        return what + (f" ({rule})" if rule else "")
    if slip.kind == "dropped-term":
        return ""
    return rule or ""


_RULE_NAMES = {
    "PowerRule": "power rule", "ConstantTimesRule": "constant multiple rule", "AddRule": "sum rule",
    "ProductRule": "product rule", "QuotientRule": "quotient rule", "ChainRule": "chain rule",
    "ExpRule": "derivative of exp", "LogRule": "derivative of log", "SigmoidRule": "derivative of the sigmoid",
    "TrigRule": "derivative of a trigonometric function", "RewriteRule": "", "SympyRule": "",
}


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------
def check_derivation_text(ex, part, text: str) -> DerivationResult:
    """Judge ``text`` (one claim per line) against ``part`` of the exercise variant ``ex``."""
    if not isinstance(text, str):
        raise ParseError("the derivation must be text")
    if len(text) > MAX_LINES * (MAX_LINE_CHARS + 1):
        raise ParseError(f"the derivation is too long (more than {MAX_LINES * (MAX_LINE_CHARS + 1)} characters)")
    checker = DerivationChecker(ex, part, ex.subs() if ex.values else {})
    return checker.run(text)


class DerivationCheckResult(CheckResult):
    """A CheckResult (for grade and the API) that carries the line-by-line result."""

    def __init__(self, exercise, part, answer, status, score, feedback, note=None, method=None,
                 derivation: DerivationResult | None = None):
        super().__init__(exercise, part, answer, status, score, feedback, note, method)
        self.derivation = derivation

    def to_dict(self) -> dict[str, Any]:
        if self.derivation is None:
            return {**super().to_dict(), "lines": [], "first_error": None}
        d = self.derivation.to_dict()
        d["status"] = self.status
        return d

    def to_text(self) -> str:
        if self.derivation is None:
            return super().to_text()
        return self.derivation.to_text()


def derivation_part(ex, part: str | None):
    """The derivation part asked for (default: the exercise's first part of type derivation)."""
    from convexproof.runtime.errors import ExerciseError

    if part is not None:
        p = ex.part(part)
        if p.type != "derivation":
            raise ExerciseError(f"part {p.name!r} of {ex.id} is not a derivation part")
        return p
    for p in ex.parts.values():
        if p.type == "derivation":
            return p
    raise ExerciseError(f"exercise {ex.id} has no derivation part")


def check_derivation(exercise: str, text, part: str | None = None, seed: int | None = None, exercises_dir=None,
                     timeout: float | None = None, isolate: bool = True):
    """``convexproof.check(..., derivation=text)``: a CheckResult whose ``derivation`` holds the lines.

    The status is ``correct`` when no line is wrong, ``incorrect`` when one is,
    ``invalid`` when the text cannot be checked at all (too many lines, a line
    too long, nothing readable, over the time limit); the score is the
    derivation's score.  Checked in a child process under the time limit
    unless ``isolate=False``.
    """
    from convexproof.runtime.limits import run_limited

    ctx = _context(exercise, seed, exercises_dir)
    p = derivation_part(ctx.ex, part)
    result = DerivationCheckResult(ctx.ex.id, p.name, text if isinstance(text, str) else "", "invalid", 0.0, "")
    result.feedback = unusable(text, "derivation") or ""
    if result.feedback:
        return result
    timeout = timeout or DEFAULT_TIMEOUT
    with _invalid_on_error(result):
        if isolate:
            d = run_limited(_derivation_limited, exercise, seed, exercises_dir, p.name, text, timeout,
                            timeout=timeout)
        else:
            d = _derivation_limited(exercise, seed, exercises_dir, p.name, text, timeout)
        result.derivation = d
        result.status, result.score = d.status, d.score
        result.feedback = d.feedback() if d.status != "invalid" else "no line of the derivation could be checked"
        result.note = f"line-{d.first_error}" if d.first_error is not None else None
    return result


def _derivation_limited(exercise, seed, exercises_dir, part, text, timeout) -> DerivationResult:
    """The check proper (in the child process, under the cooperative deadline)."""
    from convexproof.runtime.limits import deadline

    ctx = _context(exercise, seed, exercises_dir)
    with deadline(timeout):
        return check_derivation_text(ctx.ex, ctx.ex.part(part), text)


MAX_FILE_BYTES = MAX_LINES * (MAX_LINE_CHARS + 1) * 4  # UTF-8: at most 4 bytes a character


def read_derivation_file(path: str) -> str:
    """The text of a derivation file ('-' is standard input), size-capped, UTF-8."""
    import sys

    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConvexproofError(f"cannot read {str(path)[:200]}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConvexproofError(f"{str(path)[:200]}: the derivation is larger than {MAX_FILE_BYTES} bytes")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConvexproofError(f"{str(path)[:200]}: not UTF-8 text (byte {exc.start + 1})") from None
