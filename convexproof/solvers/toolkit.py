"""The solver toolkit: everything the exercise solvers share that is not mathematics.

* Sentences and tables: :func:`P` (a sentence mixing text and mathematics), :func:`T`, :class:`E`
  (an equation inside a sentence), :func:`fn_at`, :func:`named`, :func:`join_list`.
* Reading solver inputs from an exercise file through :mod:`convexproof.parse` (never ``sympify``),
  with the variant's parameters substituted: :func:`inputs`, :func:`formula`, :func:`name_field`, ...
* Answers, figures and the step a verified chord becomes (:func:`chord_witness`).

The mathematics (signs, witnesses, convexity of one variable, matrices) is the engine's:
:mod:`convexproof.engine.exact`, :mod:`convexproof.engine.onevar`, :mod:`convexproof.engine.matrices`.
No solver decides a sign or searches for a witness itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.library.exercise import SOLVER_NAME_FIELDS as NAME_FIELDS, Exercise, split_segments
from convexproof.parse import as_sympy, symbol
from convexproof.steps import Sentence, Step

PREC = 50  # digits for high-precision checks of witnesses


# ---------------------------------------------------------------- steps
class Table(Step, kind="table"):
    """A small table; each cell is text or mathematics."""

    header: list = field(default_factory=list)  # [str]
    rows: list = field(default_factory=list)  # [[("text", str) | ("math", sympy)]]


class E(tuple):
    """``E(lhs, rhs)``: an equation inside a sentence, typeset as one formula (``op`` "=" or "≈")."""

    def __new__(cls, lhs, rhs, op: str = "="):
        return super().__new__(cls, (lhs, rhs, op))


_FUNCS: dict[str, type] = {}
_TEX_NAMES = {"σ": r"\sigma", "ℓ": r"\ell", "∇f": r"\nabla f", "∇" : r"\nabla"}


def fn_at(name: str, *args):
    """``f''(-1)`` typeset as such in both formats (a SymPy function named ``name``)."""
    if name not in _FUNCS:
        def _latex(self, printer, _n=name):
            base, primes = _n.rstrip("'"), _n[len(_n.rstrip("'")):]
            inner = ", ".join(printer._print(a) for a in self.args)
            head = _TEX_NAMES.get(base) or printer._print(sp.Symbol(base))
            return f"{head}{primes}\\left({inner}\\right)"
        _FUNCS[name] = type(name, (sp.Function,), {"_latex": _latex})
    return _FUNCS[name](*args)


def _seg(v) -> tuple[str, Any]:
    if isinstance(v, E):
        return ("eq", tuple(v))
    if isinstance(v, str):
        return ("text", v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return ("math", as_sympy(v))
    return ("math", v)


def join_list(vals, flat: bool = False) -> list:
    """Pieces of "a, b and c" for a sentence: the items with separators between them
    (``flat``: each item is itself a list of pieces)."""
    out = []
    for i, v in enumerate(vals):
        if i:
            out.append(" and " if i == len(vals) - 1 else ", ")
        if flat:
            out.extend(v)
        else:
            out.append(v)
    return out


_VAR_RE = None


def prose_vars(text: str) -> list:
    """Prose with its one-letter variables (f, g, L, x, v, X, ...) as mathematics, so a PDF sets them in italics
    like the formulas beside them; a letter followed by "(" or part of a word stays prose."""
    import re

    global _VAR_RE
    if _VAR_RE is None:
        _VAR_RE = re.compile(r"(?<![\w'′’\\/(.\-])([fghLxyvwtmuzXH])(?![\w'′’(])")
    return split_segments(_VAR_RE, text, lambda m: sp.Symbol(m.group(1)))


def segments(*pieces) -> list:
    """Sentence segments from pieces: strings are prose (one-letter variables as maths), everything else maths."""
    segs = []
    for p in pieces:
        if isinstance(p, str):
            segs += prose_vars(p)
        else:
            segs.append(_seg(p))
    return segs


def P(*pieces) -> Sentence:
    """``P("The minimum is ", value, ".")``: strings are prose, everything else is maths."""
    return Sentence(segments(*pieces))


def T(header: list[str], rows: list[list]) -> Table:
    return Table(header=list(header), rows=[[_seg(c) for c in row] for row in rows])


# ---------------------------------------------------------------- inputs
def field_text(ex: Exercise, key: str, default: Any = ...) -> Any:
    if key not in ex.solver:
        if default is ...:
            raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': is missing")
        return default
    return ex.solver[key]


def formula(ex: Exercise, key: str, default: Any = ...):
    """A formula field of the solver table, parsed and with the parameters substituted."""
    text = field_text(ex, key, default)
    if text is default and default is not ...:
        return default
    if not isinstance(text, str):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a formula in quotes")
    return ex.formula(text, where=f"solver.{key}")


def formula_of(ex: Exercise, text: Any, where: str):
    if not isinstance(text, str):
        raise ExerciseError(f"{ex.path.name}: field '{where}': must be a formula in quotes")
    return ex.formula(text, where=where)


def name_text(ex: Exercise, key: str, default: str | None = None) -> str:
    """A name field of the solver table (a variable or function name), read by the whitelist parser."""
    from convexproof.parse import parse_name

    text = ex.solver.get(key, default)
    if not isinstance(text, str):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a name")
    try:
        return parse_name(text)
    except Exception as exc:  # ParseError
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': {exc}") from None


def name_field(ex: Exercise, key: str, default: str | None = None) -> sp.Symbol:
    return symbol(name_text(ex, key, default))


def names_field(ex: Exercise, key: str, default: list[str] | None = None) -> list[sp.Symbol]:
    from convexproof.parse import parse_name

    v = ex.solver.get(key, default)
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a list of variable names")
    try:
        return [symbol(parse_name(s)) for s in v]
    except Exception as exc:
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': {exc}") from None


def want(ex: Exercise, answers: dict) -> dict:
    """Keep the answers the exercise's parts ask for; a part without one is an error."""
    missing = [p for p in ex.parts if p not in answers]
    if missing:
        raise ExerciseError(f"{ex.path.name}: field 'parts': the solver {ex.solver.get('kind')!r} computes no "
                            f"answer for {', '.join(missing)}; it computes {', '.join(sorted(answers))}")
    return {p: answers[p] for p in ex.parts}


def inputs(ex, *names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The solver inputs of ``ex`` as SymPy objects (parameters substituted)."""
    from convexproof.parse import parse_name, symbol

    out: dict[str, Any] = {}
    for name in names + optional:
        if name not in ex.solver:
            if name in optional:
                continue
            raise ExerciseError(f"{ex.path.name}: field 'solver.{name}': is missing (solver {ex.solver['kind']})")
        raw = ex.solver[name]
        where = f"solver.{name}"
        if name in NAME_FIELDS:
            if not isinstance(raw, str):
                raise ExerciseError(f"{ex.path.name}: field '{where}': must be a name")
            out[name] = symbol(parse_name(raw))
        elif isinstance(raw, str):
            out[name] = ex.formula(raw, where=where)
        elif isinstance(raw, list):
            out[name] = [ex.formula(v, where=f"{where}[{i}]") if isinstance(v, str) else rational(v)
                         for i, v in enumerate(raw)]
        elif isinstance(raw, dict):
            out[name] = {k: ex.formula(v, where=f"{where}.{k}") for k, v in raw.items()}
        elif isinstance(raw, bool):  # `penalty = true` crashed the solver (found by the CLI fuzz)
            raise ExerciseError(f"{ex.path.name}: field '{where}': must be a formula in quotes, not {str(raw).lower()}")
        elif isinstance(raw, (int, float)):
            out[name] = rational(raw)
        else:
            out[name] = raw
    return out


def rational(v) -> sp.Rational:
    """An exact rational from a Fraction, int or float (floats by their decimal text), never by parsing."""
    from fractions import Fraction

    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, float):
        v = Fraction(repr(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return sp.Integer(v)
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    raise TypeError(f"not a number: {type(v).__name__}")


def numeric(expr) -> bool:
    return isinstance(expr, sp.Expr) and not expr.free_symbols


def relation(expr, sign: str):
    """An unevaluated relation stating the sign of ``expr``."""
    op = {"pos": sp.StrictGreaterThan, "nonneg": sp.GreaterThan, "neg": sp.StrictLessThan,
          "nonpos": sp.LessThan}[sign]
    return op(expr, 0, evaluate=False)


def function_name(ex, default: str = "f") -> str:
    """The function's letter (``solver.name``, default ``f``), read by the whitelist parser."""
    return name_text(ex, "name", default)


def fn(name: str, var):
    """The undefined function ``name(var)`` (for left-hand sides such as f''(x))."""
    return sp.Function(name, real=True)(var)


def deriv(name: str, var, order: int):
    return sp.Derivative(fn(name, var), (var, order))


def chord_witness(name: str, f: sp.Expr, var: sp.Symbol, x0, domain=None, tries: int = 40):
    """The chord step for :func:`convexproof.engine.onevar.midpoint_chord`'s verified witness, or None."""
    from convexproof.engine.onevar import midpoint_chord
    from convexproof.engine.witness import Witness
    from convexproof.steps.proof import WitnessStep

    w = midpoint_chord(f, var, x0, domain, tries)
    if w is None:
        return None
    chord = {"a": {var: w["x1"]}, "b": {var: w["x2"]}, "t": w["t"], "m": {var: w["point"]}, "lhs": w["f_point"],
             "rhs": w["chord"], "fa": w["f1"], "fb": w["f2"]}
    exact = all(getattr(v, "is_Rational", False) for v in (w["f_point"], w["chord"]))
    return WitnessStep(Witness(function=f, variables=[var], chord=chord, verified="exact" if exact else "40 digits"),
                       name=name, layout="paragraph")


def subjects(functions: dict, variables, domains: dict | None = None) -> dict:
    """Facts for computed feedback on a wrong verdict: each part's own function (part name -> SymPy
    expression), the variables, and each part's domain (part name -> list of conditions).

    ``grading.checking`` reads them (``facts["functions"]``, ``facts["variables"]``, ``facts["domains"]``)
    to give a verified witness or the engine's reason for any solver kind.
    """
    out: dict = {"functions": dict(functions), "variables": list(variables)}
    if domains:
        out["domains"] = {k: list(v) for k, v in domains.items() if v}
    return out


# ---------------------------------------------------------------- numbers
def hp(value) -> sp.Float:
    """A real number in 50-digit arithmetic (raises if it is not real)."""
    v = sp.N(value, PREC)
    if not v.is_real:
        raise ValueError(f"not a real number: {value}")
    return v


def answer_steps(answers: dict) -> list[Step]:
    """One ``Answer`` step per part (verdict words become the answer's text)."""
    from convexproof.steps import Answer

    out: list[Step] = []
    for k, v in answers.items():
        if isinstance(v, str):
            out.append(Answer(part=k, value=named(v, r"\text{" + v.replace("\\", "") + "}")))
        else:
            out.append(Answer(part=k, value=v))
    return out


_NAMED: dict[tuple[str, str], Any] = {}


def named(text: str, tex: str):
    """A symbol printed as ``text`` in Markdown and as the LaTeX ``tex`` (e.g. vᵀHv, ∇f)."""
    key = (text, tex)
    if key not in _NAMED:
        cls = type("Named", (sp.Symbol,), {"_latex": lambda self, printer, _t=tex: _t})
        _NAMED[key] = cls(text)
    return _NAMED[key]


# ---------------------------------------------------------------- contour figures
_LEVEL_STYLES = ["blue", "blue!75!red", "blue!50!red", "blue!25!red", "red", "red!70!orange", "orange",
                 "orange!60!black", "black!60"]


def _march(F, xs, ys, level):
    """Marching squares: segments of {F = level}; end points are keyed by grid edge, so they chain exactly."""
    cache: dict = {}

    def cross(p, q):
        k = (min(p, q), max(p, q))
        if k not in cache:
            (i0, j0), (i1, j1) = k
            a, b = F[j0][i0], F[j1][i1]
            t = (level - a) / (b - a)
            cache[k] = (xs[i0] + t * (xs[i1] - xs[i0]), ys[j0] + t * (ys[j1] - ys[j0]))
        return k

    segs = []
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            hits = []
            for k in range(4):
                p, q = corners[k], corners[(k + 1) % 4]
                a, b = F[p[1]][p[0]], F[q[1]][q[0]]
                if (a >= level) != (b >= level):
                    hits.append(cross(p, q))
            if len(hits) == 2:
                segs.append((hits[0], hits[1]))
            elif len(hits) == 4:
                segs.append((hits[0], hits[1]))
                segs.append((hits[2], hits[3]))
    return segs, cache


def _chain(segs):
    """Join segments sharing an end (a grid-edge key) into polylines."""
    ends: dict = {}
    for idx, (a, b) in enumerate(segs):
        ends.setdefault(a, []).append(idx)
        ends.setdefault(b, []).append(idx)
    used = [False] * len(segs)
    lines = []
    for idx in range(len(segs)):
        if used[idx]:
            continue
        used[idx] = True
        line = [segs[idx][0], segs[idx][1]]
        for forward in (True, False):
            while True:
                tip = line[-1] if forward else line[0]
                nxt = next((j for j in ends.get(tip, []) if not used[j]), None)
                if nxt is None:
                    break
                used[nxt] = True
                a, b = segs[nxt]
                new = b if a == tip else a
                if forward:
                    line.append(new)
                else:
                    line.insert(0, new)
        lines.append(line)
    return lines


def contour_figure(title: str, f, xs, lo: float, hi: float, levels: int = 7, grid: int = 41):
    """A pgfplots figure of contour lines of f(x, y) on [lo, hi]², computed here (no extra dependency)."""
    from convexproof.solvers import Figure

    fn = sp.lambdify(list(xs), f, modules="math")
    pts = [lo + (hi - lo) * i / (grid - 1) for i in range(grid)]
    F = [[float(fn(x, y)) for x in pts] for y in pts]
    flat = sorted(v for row in F for v in row)
    qs = [flat[int(len(flat) * q)] for q in [(k + 0.5) / (levels + 1) for k in range(levels)]]
    qs = sorted(set(round(q, 3) for q in qs))
    curves = []
    for k, level in enumerate(qs):
        style = f"thin, {_LEVEL_STYLES[min(k * len(_LEVEL_STYLES) // max(len(qs), 1), len(_LEVEL_STYLES) - 1)]}"
        segs, where = _march(F, pts, pts, level)
        for line in _chain(segs):
            if len(line) < 3:
                continue
            coords = [where[k] for k in line]
            curves.append({"label": "", "points": [(round(x, 4), round(y, 4)) for x, y in coords], "style": style})
    return Figure(title=f"{title}: contour lines, from low (blue) to high (red)", curves=curves, xmin=lo, xmax=hi,
                  ymin=lo, ymax=hi, kind="contour", xlabel=str(xs[0]), ylabel=str(xs[1]), equal_axes=True)


def approx_value(v, digits: int = 4):
    """A value for display: itself if rational, else a 4-digit float from 50-digit arithmetic."""
    v = sp.nsimplify(v) if isinstance(v, float) else v
    if getattr(v, "is_Rational", False):
        return v
    return sp.Float(hp(v), digits)
