"""Shared tools for the exercise-library solvers (no solver is registered here).

* Two step kinds: :class:`Sentence` (a sentence mixing text and mathematics) and
  :class:`Table` (a small table whose cells are text or mathematics).
* Reading solver inputs from an exercise file through :mod:`convexproof.parse`
  (never ``sympify``), with the variant's parameters substituted.
* Sound one-variable convexity: a proof (each smooth piece has f'' >= 0, the
  function is continuous and its slope only jumps upwards at the kinks) or a
  witness verified exactly / in 50-digit arithmetic; otherwise "unknown".
* Positive-semidefiniteness of constant symmetric matrices from exact eigenvalues.

Every claim these helpers return is computed here with SymPy; callers turn
them into steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.engine.exact import is_negative, is_positive  # noqa: F401 - re-exported to solver modules
from convexproof.library import Exercise
from convexproof.parse import as_sympy, symbol
from convexproof.steps import Sentence, Step

PREC = 50  # digits for high-precision checks of witnesses


# ---------------------------------------------------------------- steps
@dataclass
class Table(Step):
    """A small table; each cell is text or mathematics."""

    kind: ClassVar[str] = "table"
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
    out: list = []
    pos = 0
    for m in _VAR_RE.finditer(text):
        if m.start() > pos:
            out.append(("text", text[pos:m.start()]))
        out.append(("math", sp.Symbol(m.group(1))))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


def P(*pieces) -> Sentence:
    """``P("The minimum is ", value, ".")``: strings are prose, everything else is maths."""
    segs = []
    for p in pieces:
        if isinstance(p, str):
            segs += prose_vars(p)
        else:
            segs.append(_seg(p))
    return Sentence(segs)


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


def name_field(ex: Exercise, key: str, default: str | None = None) -> sp.Symbol:
    from convexproof.parse import parse_name

    text = ex.solver.get(key, default)
    if not isinstance(text, str):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a variable name")
    try:
        return symbol(parse_name(text))
    except Exception as exc:  # ParseError
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': {exc}") from None


def names_field(ex: Exercise, key: str, default: list[str] | None = None) -> list[sp.Symbol]:
    from convexproof.parse import parse_name

    v = ex.solver.get(key, default)
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a list of variable names")
    try:
        return [symbol(parse_name(s)) for s in v]
    except Exception as exc:
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': {exc}") from None


def items_field(ex: Exercise, key: str) -> list[dict]:
    v = ex.solver.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(t, dict) for t in v):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a list of tables")
    return v


def want(ex: Exercise, answers: dict) -> dict:
    """Keep the answers the exercise's parts ask for; a part without one is an error."""
    missing = [p for p in ex.parts if p not in answers]
    if missing:
        raise ExerciseError(f"{ex.path.name}: field 'parts': the solver {ex.solver.get('kind')!r} computes no "
                            f"answer for {', '.join(missing)}; it computes {', '.join(sorted(answers))}")
    return {p: answers[p] for p in ex.parts}


# ---------------------------------------------------------------- signs
def hp(value) -> sp.Float:
    """A real number in 50-digit arithmetic (raises if it is not real)."""
    v = sp.N(value, PREC)
    if not v.is_real:
        raise ValueError(f"not a real number: {value}")
    return v


def nonneg_on(expr, x: sp.Symbol, interval: sp.Interval) -> bool | None:
    """Prove ``expr >= 0`` for x in ``interval``: True (proved), False (refuted), None (unknown)."""
    expr = sp.simplify(expr)
    if not expr.has(x):
        if expr.is_nonnegative is True:
            return True
        if expr.is_negative is True:
            return False
        return None
    if interval == sp.S.Reals and expr.is_nonnegative is True:
        return True
    if sp.together(expr).is_rational_function(x):
        try:
            bad = sp.solveset(sp.together(expr) < 0, x, interval)
        except (NotImplementedError, ValueError, TypeError):
            bad = None
        if bad is not None and not isinstance(bad, sp.ConditionSet):
            return bad == sp.S.EmptySet
    # substitution x = a + t (or a + exp(..)) is overkill here; try assumptions on the interval
    if interval.left.is_finite and interval.left == 0 and interval.right == sp.oo:
        t = sp.Symbol("t_pos", positive=True)
        v = expr.subs(x, t)
        if v.is_nonnegative is True:
            return True
    return None


def find_negative_point(expr, x: sp.Symbol, interval: sp.Interval, candidates=None):
    """A point of ``interval`` where ``expr`` is verified negative, or None."""
    pts = candidates or [sp.Rational(p, q) for q in (1, 2, 4) for p in range(-16, 17)]
    pts = sorted(set(pts), key=lambda v: (sp.Rational(v).q, abs(v), v))
    for p in pts:
        if not interval.contains(p) == sp.true:
            continue
        try:
            val = expr.subs(x, p)
        except (ValueError, TypeError, ZeroDivisionError):
            continue
        if val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue
        if is_negative(val):
            return p
    return None


def jensen_witness(f, point_vars: list[sp.Symbol], centre: list, direction: list, interval_ok=None):
    """Points a = c - h d, b = c + h d with f(c) > (f(a) + f(b))/2, verified; or None."""
    for h in [sp.Rational(1, 2**k) for k in range(0, 8)]:
        a = [c - h * d for c, d in zip(centre, direction)]
        b = [c + h * d for c, d in zip(centre, direction)]
        if interval_ok is not None and not (interval_ok(a) and interval_ok(b)):
            continue
        fa = f.subs(dict(zip(point_vars, a)))
        fb = f.subs(dict(zip(point_vars, b)))
        fc = f.subs(dict(zip(point_vars, centre)))
        gap = sp.simplify(fc - (fa + fb) / 2)
        if is_positive(gap):
            return a, b, fa, fb, fc, gap
    return None


# ---------------------------------------------------------------- one variable
@dataclass
class Piece:
    lo: Any
    hi: Any
    expr: Any
    d1: Any
    d2: Any
    nonneg: bool | None


@dataclass
class Verdict1D:
    """The outcome of :func:`convexity_1d` (everything computed, nothing assumed)."""

    convex: bool | None  # True proved, False refuted with a witness, None unknown
    f: Any
    d1: Any
    d2: Any  # second derivative where f is smooth (None for a piecewise function)
    pieces: list[Piece]
    kinks: list[tuple[Any, Any, Any]]  # (point, left slope, right slope)
    witness: Any = None  # point where f'' < 0
    witness_d2: Any = None
    chord: Any = None  # (a, b, f(a), f(b), f(mid), gap)
    strict: bool = False


def _as_piecewise(f, x):
    g = f.rewrite(sp.Piecewise) if f.has(sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign) else f
    return sp.piecewise_fold(g)


def _breakpoints(g, x) -> list:
    pts = set()
    for pw in g.atoms(sp.Piecewise):
        for _e, c in pw.args:
            for rel in (c.atoms(sp.core.relational.Relational) if c not in (sp.true, sp.false) else []):
                sol = sp.solve(sp.Eq(rel.lhs, rel.rhs), x)
                pts.update(s for s in sol if s.is_real)
    return sorted(pts, key=lambda v: float(v))


def convexity_1d(f, x: sp.Symbol, domain: sp.Interval = sp.S.Reals) -> Verdict1D:
    """Decide convexity of f on ``domain`` soundly (see the module docstring)."""
    g = _as_piecewise(f, x)
    d1 = sp.diff(f, x)
    if not g.has(sp.Piecewise):
        d2 = sp.simplify(sp.diff(f, x, 2))
        ok = nonneg_on(d2, x, domain)
        piece = Piece(domain.left, domain.right, f, sp.simplify(d1), d2, ok)
        v = Verdict1D(None, f, sp.simplify(d1), d2, [piece], [])
        if ok:
            v.convex = True
            # strict: f'' > 0 except at isolated points (polynomial or positive expression)
            # strict: f'' > 0 except at finitely many points
            v.strict = bool(is_positive(d2) if not d2.has(x) else
                            d2.is_positive or (d2.is_polynomial(x) and not d2.is_zero))
            return v
        w = find_negative_point(d2, x, domain)
        if w is not None:
            v.convex, v.witness, v.witness_d2 = False, w, sp.simplify(d2.subs(x, w))
            v.chord = jensen_witness(f, [x], [w], [1], lambda p: domain.contains(p[0]) == sp.true)
        return v
    # piecewise: split the domain at the breakpoints
    pts = [p for p in _breakpoints(g, x) if domain.contains(p) == sp.true and p not in (domain.left, domain.right)]
    edges = [domain.left, *pts, domain.right]
    pieces: list[Piece] = []
    for lo, hi in zip(edges, edges[1:]):
        probe = _probe(lo, hi)
        e = _piece_at(g, x, probe)
        d2 = sp.simplify(sp.diff(e, x, 2))
        pieces.append(Piece(lo, hi, e, sp.simplify(sp.diff(e, x)), d2, nonneg_on(d2, x, sp.Interval.open(lo, hi))))
    # merge neighbouring pieces given by the same formula (a breakpoint that is no kink)
    merged: list[Piece] = []
    for p in pieces:
        if merged and sp.simplify(merged[-1].expr - p.expr) == 0:
            merged[-1] = Piece(merged[-1].lo, p.hi, merged[-1].expr, merged[-1].d1, merged[-1].d2,
                               nonneg_on(merged[-1].d2, x, sp.Interval.open(merged[-1].lo, p.hi)))
            pts = [c for c in pts if c != p.lo]
        else:
            merged.append(p)
    pieces = merged
    kinks = []
    v = Verdict1D(None, f, d1, None, pieces, kinks)
    continuous = True
    for c, left, right in zip(pts, pieces, pieces[1:]):
        if sp.simplify(left.expr.subs(x, c) - right.expr.subs(x, c)) != 0:
            continuous = False
        kinks.append((c, sp.simplify(left.d1.subs(x, c)), sp.simplify(right.d1.subs(x, c))))
    if continuous and all(p.nonneg for p in pieces) and all((r - l).is_nonnegative for _c, l, r in kinks):
        v.convex = True
        return v
    for p in pieces:
        if p.nonneg is False:
            w = find_negative_point(p.d2, x, sp.Interval.open(p.lo, p.hi))
            if w is not None:
                v.convex, v.witness, v.witness_d2 = False, w, sp.simplify(p.d2.subs(x, w))
                v.chord = jensen_witness(f, [x], [w], [1], lambda q: domain.contains(q[0]) == sp.true)
                return v
    for c, l, r in kinks:
        if is_negative(r - l):
            ch = jensen_witness(f, [x], [c], [1], lambda q: domain.contains(q[0]) == sp.true)
            if ch is not None:
                v.convex, v.chord = False, ch
                return v
    return v


def _probe(lo, hi):
    if lo == -sp.oo and hi == sp.oo:
        return sp.S.Zero
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _piece_at(g, x, probe):
    """The smooth expression g equals on the open piece containing ``probe``."""
    def pick(e):
        if isinstance(e, sp.Piecewise):
            for val, cond in e.args:
                if cond == sp.true or bool(cond.subs(x, probe)):
                    return pick(val)
            raise ValueError("no piece")
        if e.args and e.has(sp.Piecewise):
            return e.func(*[pick(a) for a in e.args])
        return e
    return sp.simplify(pick(g))


# ---------------------------------------------------------------- matrices
def definiteness(H: sp.Matrix) -> dict:
    """Eigenvalues (exact, with multiplicity) of a constant symmetric matrix and its class."""
    H = sp.Matrix(H)
    ev = []
    for val, mult in H.eigenvals().items():
        ev += [sp.simplify(val)] * mult  # exact: no numeric "simplification"
    ev.sort(key=lambda v: float(v))
    pos = [is_positive(v) for v in ev]
    neg = [is_negative(v) for v in ev]
    zero = [v == 0 for v in ev]
    if all(pos):
        cls = "positive definite"
    elif all(p or z for p, z in zip(pos, zero)):
        cls = "positive semidefinite"
    elif all(neg):
        cls = "negative definite"
    elif all(n or z for n, z in zip(neg, zero)):
        cls = "negative semidefinite"
    elif any(pos) and any(neg):
        cls = "indefinite"
    else:
        cls = "unknown"
    psd = cls in ("positive definite", "positive semidefinite")
    return {"eigenvalues": ev, "class": cls, "psd": psd, "pd": all(pos), "indefinite": cls == "indefinite"}


def eigenvector(H: sp.Matrix, value) -> sp.Matrix:
    for val, _m, vecs in sp.Matrix(H).eigenvects():
        if sp.simplify(val - value) == 0:
            v = vecs[0]
            # clear denominators for a tidy vector
            den = sp.ilcm(*[sp.fraction(sp.nsimplify(c))[1] for c in v]) if all(c.is_Rational for c in v) else 1
            return sp.ImmutableMatrix(v * den)
    raise ValueError("no such eigenvalue")


def principal_minors(H: sp.Matrix) -> list:
    n = H.shape[0]
    return [sp.simplify(H[:k, :k].det()) for k in range(1, n + 1)]


def point(*coords) -> sp.Tuple:
    return sp.Tuple(*[sp.nsimplify(c) if isinstance(c, float) else c for c in coords])


def curve(label: str, expr, var) -> dict:
    return {"label": label, "expr": expr, "var": var}


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


VHV = ("vᵀHv", r"v^{\top} H v")


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
