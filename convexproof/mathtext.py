"""Readable plain-text/Unicode mathematics for Markdown and the terminal.

``12*x**2 - 6 + 2*lam`` becomes ``12x² − 6 + 2λ``.  LaTeX output uses
:func:`latex` instead, which is ``sympy.latex`` with our symbol names.
"""

from __future__ import annotations

import re

import sympy as sp

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
GREEK = {"lam": "λ", "mu": "μ", "theta": "θ", "alpha": "α", "beta": "β", "gamma": "γ",
         "eta": "η", "kappa": "κ", "sigma": "σ", "tau": "τ", "rho": "ρ", "delta": "δ",
         "epsilon": "ε", "omega": "ω", "phi": "φ", "psi": "ψ", "xi": "ξ", "nu": "ν"}
_GREEK_RE = re.compile(r"(?<![A-Za-z_])(" + "|".join(sorted(GREEK, key=len, reverse=True)) + r")(?![A-Za-z_0-9])")
_LATEX_NAMES = {"lam": r"\lambda"}


def _sstr(obj) -> str:
    if isinstance(obj, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(_sstr(v) for v in obj.row(i)) + "]" for i in range(obj.rows)) + "]"
    return sp.sstr(obj)


def unicode(obj) -> str:
    """A one-line Unicode rendering of a SymPy object (or a plain value)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (list, tuple)):
        return "(" + ", ".join(unicode(o) for o in obj) + ")"
    if isinstance(obj, sp.logic.boolalg.And):
        return " and ".join(unicode(a) if isinstance(a, sp.Basic) else _chain_text(a, unicode) for a in _chain(obj))
    s = _sstr(obj)
    s = re.sub(r"\*\*(\d+)\b(?!\.)", lambda m: m.group(1).translate(_SUP), s)
    s = re.sub(r"\*\*\((-\d+)\)", lambda m: m.group(1).translate(_SUP), s)
    s = s.replace("**", "^")
    s = re.sub(r"(?<![\w.])(\d+)\*(?=[A-Za-z(])", r"\1", s)
    s = s.replace("*", "·")
    s = re.sub(r"\bsqrt\(", "√(", s)
    s = _GREEK_RE.sub(lambda m: GREEK[m.group(1)], s)
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
        obj = sp.sympify(obj)  # a Python number, never text
    names = {s: _LATEX_NAMES[s.name] for s in getattr(obj, "free_symbols", ()) if s.name in _LATEX_NAMES}
    if isinstance(obj, sp.logic.boolalg.And):
        return r" \text{ and } ".join(latex(a) if isinstance(a, sp.Basic) else _chain_text(a, latex) for a in _chain(obj))
    if isinstance(obj, (list, tuple)):
        return r"\left(" + ", ".join(latex(o) for o in obj) + r"\right)"
    return sp.latex(obj, symbol_names=names)
