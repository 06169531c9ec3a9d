"""Readable plain-text/Unicode mathematics for Markdown and the terminal.

``12*x**2 - 6 + 2*lam`` becomes ``12x² − 6 + 2λ``.  LaTeX output uses
:func:`latex` instead, which is ``sympy.latex`` with our symbol names.
"""

from __future__ import annotations

import re

import sympy as sp
from convexproof.parse import as_sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
GREEK = {"lam": "λ", "mu": "μ", "theta": "θ", "alpha": "α", "beta": "β", "gamma": "γ",
         "eta": "η", "kappa": "κ", "sigma": "σ", "tau": "τ", "rho": "ρ", "delta": "δ",
         "epsilon": "ε", "omega": "ω", "phi": "φ", "psi": "ψ", "xi": "ξ", "nu": "ν"}
_GREEK_RE = re.compile(r"(?<![A-Za-z_])(" + "|".join(sorted(GREEK, key=len, reverse=True)) + r")(?![A-Za-z_0-9])")
_LATEX_NAMES = {"lam": r"\lambda"}


def _primes(expr) -> str | None:
    """f''(x) for a derivative of an undefined function in one variable (order <= 3)."""
    if (isinstance(expr, sp.Derivative) and isinstance(expr.expr, sp.core.function.AppliedUndef)
            and len(expr.variable_count) == 1 and expr.expr.args == (expr.variable_count[0][0],)
            and 1 <= expr.variable_count[0][1] <= 3):
        return "'" * int(expr.variable_count[0][1])
    return None


class _Primes:
    """f''(x) for a derivative of an undefined function in one variable, in both printers."""

    _parens = ("(", ")")

    def _fname(self, f) -> str:
        return f.func.__name__

    def _print_Derivative(self, expr):
        marks = _primes(expr)
        if marks is None:
            return super()._print_Derivative(expr)
        f = expr.expr
        return f"{self._fname(f)}{marks}{self._parens[0]}{self._print(f.args[0])}{self._parens[1]}"


class _StrPrinter(_Primes, StrPrinter):
    """sstr, but |x| for Abs, f''(x) for derivatives and readable cases for Piecewise."""

    def _print_Abs(self, expr):
        return "|" + self._print(expr.args[0]) + "|"

    def _print_Transpose(self, expr):
        return self._print(expr.arg) + "ᵀ"

    def _print_Interval(self, I):  # [a, b), (−∞, 2]: the notation of the prose, not Interval.Ropen(a, b)
        return ("(" if I.left_open else "[") + self._print(I.start) + ", " + self._print(I.end) + \
            (")" if I.right_open else "]")

    def _print_Reals(self, expr):
        return "ℝ"

    def _print_Subs(self, expr):  # an expression evaluated at a point: [e] at x = a (LaTeX has its bar)
        e, xs, pt = expr.args
        at = (f"{self._print(xs[0])} = {self._print(pt[0])}" if len(xs) == 1 else
              f"({', '.join(self._print(v) for v in xs)}) = ({', '.join(self._print(v) for v in pt)})")
        return f"[{self._print(e)}] at {at}"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Unequality(self, expr):
        return f"{self._print(expr.lhs)} != {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        pieces = []
        for value, cond in expr.args:
            v = self._print(value)
            pieces.append(v + ("" if cond == sp.true else " if " + self._print(cond)))
        if len(pieces) > 1 and expr.args[-1][1] == sp.true:
            pieces[-1] += " otherwise"
        return "{" + "; ".join(pieces) + "}"


class _LatexPrinter(_Primes, LatexPrinter):
    _parens = ("\\left(", "\\right)")

    def _fname(self, f) -> str:
        return self._print(sp.Symbol(f.func.__name__))

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, sp.core.function.AppliedUndef) and exp is None:
            args = ", ".join(self._print(a) for a in expr.args)
            return f"{self._print(sp.Symbol(expr.func.__name__))}\\left({args}\\right)"
        return super()._print_Function(expr, exp)



def _order(obj) -> str | None:
    """Polynomials print by descending degree (x⁴ + λx² − 3x²); other expressions in SymPy's "old" order."""
    try:
        exprs = [obj] if isinstance(obj, sp.Expr) else [a for a in getattr(obj, "args", ()) if isinstance(a, sp.Expr)]
        if exprs and all(e.is_polynomial() and not e.has(sp.Derivative) for e in exprs):
            # 1 − y rather than −y + 1: a polynomial whose leading term is negative keeps SymPy's order
            adds = [a for e in exprs for a in sp.preorder_traversal(e) if a.is_Add]
            if any(a.as_ordered_terms(order="grlex")[0].could_extract_minus_sign()
                   and any(not t.could_extract_minus_sign() for t in a.args) for a in adds):
                return "old"
            return "grlex"
    except Exception:  # noqa: BLE001 - printing must never fail on the ordering heuristic
        pass
    return "old"


def _sstr(obj) -> str:
    if isinstance(obj, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(_sstr(v) for v in obj.row(i)) + "]" for i in range(obj.rows)) + "]"
    order = _order(obj)
    try:
        return (_StrPrinter({"order": order}) if order else _StrPrinter()).doprint(obj)
    except ValueError:  # an integer too long for Python to print (over 4300 digits): show its size instead
        big = [a for a in sp.preorder_traversal(obj) if isinstance(a, sp.Integer) and abs(a) > 10**4000]
        reps = {a: sp.Symbol(f"({'-' if a < 0 else ''}a number of about {int(abs(a.p).bit_length() * 0.30103)} digits)")
                for a in big}
        return (_StrPrinter({"order": order}) if order else _StrPrinter()).doprint(obj.xreplace(reps))


def unicode(obj) -> str:
    """A one-line Unicode rendering of a SymPy object (or a plain value)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (list, tuple)):
        return "(" + ", ".join(unicode(o) for o in obj) + ")"
    if isinstance(obj, sp.logic.boolalg.And):
        return " and ".join(unicode(a) if isinstance(a, sp.Basic) else _chain_text(a, unicode) for a in _chain(obj))
    if isinstance(obj, sp.logic.boolalg.Or):
        return " or ".join(("(" + unicode(a) + ")") if isinstance(a, sp.logic.boolalg.And) else unicode(a)
                           for a in sorted(obj.args, key=sp.default_sort_key))
    s = _sstr(obj)
    s = re.sub(r"\*\*(\d+)\b(?!\.)", lambda m: m.group(1).translate(_SUP), s)
    s = re.sub(r"\*\*\((-\d+)\)", lambda m: m.group(1).translate(_SUP), s)
    s = s.replace("**", "^")
    s = re.sub(r"(?<![\w.])(\d+)\*(?=[A-Za-z(])", r"\1", s)
    s = s.replace("*", "·")
    s = re.sub(r"(?<![A-Za-z_])sqrt\(", "√(", s)
    s = _GREEK_RE.sub(lambda m: GREEK[m.group(1)], s)
    s = re.sub(r"(?<![A-Za-z_])pi(?![A-Za-z_0-9])", "π", s)
    s = s.replace(">=", "≥").replace("<=", "≤").replace("!=", "≠")
    s = s.replace("-", "−")
    s = s.replace("oo", "∞")
    return s


def _chain(cond):
    """Group the parts of an And so that 0 < p and p < 1 reads as 0 < p < 1.

    Returns SymPy relations and, for merged bounds, tuples (low, op, sym, op, high).
    """
    lows, highs, rest = {}, {}, []
    for a in cond.args:
        if isinstance(a, sp.core.relational.Relational) and not isinstance(a, (sp.Eq, sp.Ne)):
            lhs, rhs = (a.lhs, a.rhs) if a.rel_op in ("<", "<=") else (a.rhs, a.lhs)
            op = a.rel_op.replace(">", "<")
            if rhs.is_Symbol and lhs.is_number and rhs not in lows:
                lows[rhs] = (lhs, op)
                continue
            if lhs.is_Symbol and rhs.is_number and lhs not in highs:
                highs[lhs] = (rhs, op)
                continue
        rest.append(a)
    out = []
    for s in sorted(set(lows) | set(highs), key=sp.default_sort_key):
        if s in lows and s in highs:
            out.append((lows[s][0], lows[s][1], s, highs[s][1], highs[s][0]))
        elif s in lows:
            out.append(sp.Rel(lows[s][0], s, lows[s][1]))
        else:
            out.append(sp.Rel(s, highs[s][0], highs[s][1]))
    return out + sorted(rest, key=sp.default_sort_key)


def _chain_text(t, fmt) -> str:
    lo, op1, s, op2, hi = t
    sym = {"<": "<", "<=": "≤"} if fmt is unicode else {"<": "<", "<=": r"\leq"}
    return f"{fmt(lo)} {sym[op1]} {fmt(s)} {sym[op2]} {fmt(hi)}"


def latex(obj) -> str:
    """``sympy.latex`` with the project's symbol names (lam is λ)."""
    if isinstance(obj, str):
        raise TypeError("latex() takes SymPy objects; prose is escaped, not typeset")
    if isinstance(obj, (int, float)):
        obj = as_sympy(obj)  # a Python number, never text
    names = {s: _LATEX_NAMES[s.name] for s in getattr(obj, "free_symbols", ()) if s.name in _LATEX_NAMES}
    if isinstance(obj, sp.logic.boolalg.And):
        return r" \text{ and } ".join(latex(a) if isinstance(a, sp.Basic) else _chain_text(a, latex) for a in _chain(obj))
    if isinstance(obj, sp.logic.boolalg.Or):
        return r" \text{ or } ".join((r"\left(" + latex(a) + r"\right)") if isinstance(a, sp.logic.boolalg.And)
                                     else latex(a) for a in sorted(obj.args, key=sp.default_sort_key))
    if isinstance(obj, (list, tuple)):
        return r"\left(" + ", ".join(latex(o) for o in obj) + r"\right)"
    settings = {"symbol_names": names}
    order = _order(obj)
    if order:
        settings["order"] = order
    return _LatexPrinter(settings).doprint(obj)
