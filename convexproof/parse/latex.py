"""What students paste: LaTeX commands and interval notation, rewritten as plain text for the parser.

This is a text-to-text step in front of :func:`convexproof.parse.normalise`; it
evaluates nothing.  The result goes through the same whitelist parser with the
same caps as anything typed.  Every construct is rewritten innermost first by
a bounded loop (no recursion), and an unknown command is refused with a line
that says what to type instead.

* ``\\frac{a}{b}`` (``\\dfrac``, ``\\tfrac``), ``\\sqrt{x}``, ``\\sqrt[n]{x}``,
  ``x^{2}``, ``x_{1}``, ``\\cdot``, ``\\times``, ``\\leq``/``\\geq``/``\\neq``,
  ``\\left(`` / ``\\right)``, Greek letters (``\\lambda`` is λ), ``\\ln``,
  ``\\exp``, ``\\log``, trigonometric names, ``\\infty``, ``\\in``,
  ``\\begin{pmatrix} … \\end{pmatrix}`` (and ``bmatrix``, ``matrix``), spacing
  commands, ``\\text{…}``, and the math delimiters ``$``, ``\\(`` ``\\)``,
  ``\\[`` ``\\]``;
* interval notation ``c in [-2, 2]``, ``η ∈ (0, 1]``, ``x ∈ [0, ∞)`` becomes a
  chained comparison ``-2 <= c <= 2``.
"""

from __future__ import annotations

import re

from convexproof.runtime.errors import ParseError

GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho "
         "varrho sigma tau upsilon phi varphi chi psi omega").split()
_GREEK_CHAR = dict(zip(GREEK, "αβγδεεζηθθικλμνξπρρστυφφχψω"))
_GREEK_CHAR.update({"Lambda": "Λ"})

_WORDS = {
    "cdot": "*", "times": "*", "div": "/", "ast": "*",
    "leq": "<=", "le": "<=", "leqslant": "<=", "geq": ">=", "ge": ">=", "geqslant": ">=",
    "neq": "!=", "ne": "!=", "lt": "<", "gt": ">",
    "infty": "oo", "in": " in ", "land": " and ", "wedge": " and ", "lor": " or ", "vee": " or ",
    "ln": "log", "log": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "max": "max",
    "min": "min", "sgn": "sign", "operatorname": "", "mathrm": "", "text": "", "mathit": "", "textrm": "",
    "mathbf": "", "boldsymbol": "", "displaystyle": "", "quad": " ", "qquad": " ", "Rightarrow": "⇒",
    "implies": "⇒", "Leftrightarrow": "⇔", "iff": "⇔", "Longrightarrow": "⇒", "Longleftrightarrow": "⇔",
    "mid": "|", "vert": "|", "lvert": "|", "rvert": "|",
}
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)\s*"
                     r"(\\[{}|]|[()\[\]|.])")
_ENV = re.compile(r"\\begin\{(pmatrix|bmatrix|matrix|Bmatrix|vmatrix)\}((?:(?!\\begin\{).)*?)\\end\{\1\}", re.S)
_BRACKETED_ENV = re.compile(r"\\left\s*[\[(]\s*(\\begin\{(matrix|array)\}.*?\\end\{\2\})\s*\\right\s*[\])]", re.S)
_FUNC_POWER = re.compile(r"\\(sin|cos|tan|sinh|cosh|tanh|log|ln|exp)\s*\^\s*\{(\d)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")  # \frac12
_SQRT_N = re.compile(r"\\sqrt\s*\[([^\[\]{}]*)\]\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_SUP = re.compile(r"\^\s*\{([^{}]*)\}")
_SUB = re.compile(r"_\s*\{([A-Za-z0-9]*)\}|_([A-Za-z0-9])")
_WRAPPER = re.compile(r"\\(?:operatorname|mathrm|text|mathit|textrm|mathbf|boldsymbol)\s*\{([^{}]*)\}")
_GROUP = re.compile(r"(?<![A-Za-z}\]])\{([^{}]*)\}")  # a bare group, not the argument of \frac, \sqrt
_COMMAND = re.compile(r"\\([A-Za-z]+)|\\([,;:!])|\\([{}|])")

MAX_ROUNDS = 400


def looks_like_latex(text: str) -> bool:
    return "\\" in text or "$" in text or "^{" in text or "_{" in text


def from_latex(text: str) -> str:
    """Rewrite LaTeX in ``text`` as plain notation (see the module docstring), or refuse it in one line."""
    has_command = bool(re.search(r"\\[A-Za-z]", text))
    s = text.strip().replace("\\{", "(").replace("\\}", ")").replace("\\|", "|")
    for a, b in (("$$", " "), ("$", " "), ("\\(", " "), ("\\)", " "), ("\\[", " "), ("\\]", " ")):
        s = s.replace(a, b)
    s = _BRACKETED_ENV.sub(lambda m: m.group(1), s)  # \left[\begin{matrix} … \end{matrix}\right]: one matrix
    s = _FUNC_POWER.sub(lambda m: f"\\{m.group(1)}^{m.group(2)} ", s)  # \cosh^{2}{(x)}: sin²(x) style
    s = _SIZING.sub(lambda m: {"\\{": "(", "\\}": ")", "\\|": "|", ".": ""}.get(m.group(1), m.group(1)), s)
    for _ in range(MAX_ROUNDS):
        before = s
        s = _ENV.sub(_matrix, s)
        s = _WRAPPER.sub(lambda m: m.group(1), s)
        s = _FRAC.sub(lambda m: f"(({m.group(1)})/({m.group(2)}))", s)
        s = _FRAC_SHORT.sub(lambda m: f"(({m.group(1)})/({m.group(2)}))", s)
        s = _SQRT_N.sub(lambda m: f"(({m.group(2)})^(1/({m.group(1)})))", s)
        s = _SQRT.sub(lambda m: f"sqrt({m.group(1)})", s)
        s = _SUP.sub(lambda m: f"^({m.group(1)})", s)
        s = _SUB.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), s)
        if s == before:
            s = _GROUP.sub(lambda m: f"({m.group(1)})", s)
        if s == before:
            break
    if "\\begin" in s or "\\end" in s:
        raise ParseError("only the matrix environments pmatrix, bmatrix and matrix are read; "
                         "or type a matrix as [[a, b], [c, d]]")
    if has_command:
        s = s.replace("\\ ", " ")  # a control space, as SymPy's latex() writes in tuples
    s = _COMMAND.sub(_command, s)
    if "\\" in s:
        raise ParseError("unexpected character '\\': LaTeX commands such as \\frac{a}{b}, \\sqrt{x} and \\leq are "
                         "read; otherwise type plain notation such as 3/2, sqrt(x), <=")
    return s


def _matrix(m: re.Match) -> str:
    body = m.group(2).strip().rstrip("\\").strip()
    rows = [r.strip() for r in re.split(r"\\\\", body) if r.strip()]
    cells = [[c.strip() or "0" for c in r.split("&")] for r in rows]
    return "[" + ", ".join("[" + ", ".join(r) + "]" for r in cells) + "]"


def _command(m: re.Match) -> str:
    name, space, escaped = m.groups()
    if space is not None:
        return " "
    if escaped is not None:
        return {"{": "(", "}": ")", "|": "|"}[escaped]
    if name in _WORDS:
        return f" {_WORDS[name].strip()} " if _WORDS[name].strip() else " "
    if name in _GREEK_CHAR:
        return f" {_GREEK_CHAR[name]} "
    hint = {"pm": "write the two cases separately", "to": "write the limit in words",
            "sum": "write the sum out, e.g. x1 + x2", "int": "integrals are not read",
            "partial": "write the derivative as a formula", "nabla": "write the gradient as a formula",
            "prime": "write f' as a formula"}.get(name, "type it in plain notation, e.g. x^2, sqrt(x), 3/2, <=, lam")
    raise ParseError(f"the LaTeX command \\{name} is not supported: {hint}")


def intervals(text: str) -> str:
    """``name in [a, b)`` (``in`` or ``∈``) as a chained comparison ``a <= name < b``; other text unchanged."""
    out, i = [], 0
    pat = re.compile(r"(\w+)(?:\s+in|\s*∈)\s*([\[(])")
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        depth, j, cut = 0, m.end(), None
        while j < len(text):
            ch = text[j]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0 and cut is None:
                cut = j
            j += 1
        if j >= len(text) or cut is None:
            raise ParseError("an interval needs two ends and a closing bracket, e.g. x in [0, 1)")
        lo, hi = text[m.end():cut].strip(), text[cut + 1:j].strip()
        if not lo or not hi:
            raise ParseError("an interval needs two ends, e.g. x in [0, 1)")
        name = m.group(1)
        left = "<=" if m.group(2) == "[" else "<"
        right = "<=" if text[j] == "]" else "<"
        infinite = ("oo", "∞", "inf", "infinity", "+oo", "+∞")
        parts = []
        if lo.lstrip("-").strip() not in infinite:
            parts.append(f"({lo}) {left} {name}")
        if hi not in infinite:
            parts.append(f"{name} {right} ({hi})")
        if not parts:
            parts = [f"{name} == {name}"]
        out.append(text[i:m.start()] + "(" + " and ".join(parts) + ")")
        i = j + 1
