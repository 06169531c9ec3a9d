"""CVXPY-style curvature analysis: a table of local facts per function, one composition rule.

Each atom states its curvature, its monotonicity in each argument (which may
depend on the sign of the argument, as for |t| or t²) and the sign of its
value.  :func:`compose` is the single rule that combines them:

    f(g₁, …, gₖ) is convex if f is convex and, for every i, gᵢ is affine, or
    f is nondecreasing in argument i and gᵢ is convex, or f is nonincreasing
    in argument i and gᵢ is concave (swap convex/concave for concave f).

A convex function of a non-affine argument is therefore *not* automatically
convex: exp(−x²) and (x² − 1)² are not accepted.  The analysis is sound but
incomplete; anything it cannot classify is "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from convexproof.render.mathtext import unicode as u
from convexproof.runtime.limits import check_deadline
from convexproof.engine.signs import NEG, NONNEG, NONPOS, POS, ZERO, SignOracle
from convexproof.steps.proof import CvxDCP

CONST, AFFINE, CONVEX, CONCAVE, UNKNOWN = "constant", "affine", "convex", "concave", "unknown"
INCR, DECR, NONE = "nondecreasing", "nonincreasing", "not monotone"

_NONNEG = (POS, NONNEG, ZERO)
_NONPOS = (NEG, NONPOS, ZERO)


def _by_sign(s: str | None) -> str:
    """Monotonicity of |t|, t², cosh(t): nondecreasing for t >= 0, nonincreasing for t <= 0."""
    if s in _NONNEG:
        return INCR
    if s in _NONPOS:
        return DECR
    return NONE


@dataclass(frozen=True)
class Atom:
    name: str
    curvature: str  # CONVEX or CONCAVE
    monotone: Callable[[str | None], str]  # argument sign -> monotonicity
    text: str  # the local fact, in words
    needs: str | None = None  # sign the argument must have (domain), e.g. NONNEG


ATOMS: dict[str, Atom] = {
    "exp": Atom("exp", CONVEX, lambda s: INCR, "exp is convex and increasing"),
    "log": Atom("log", CONCAVE, lambda s: INCR, "log is concave and increasing", needs=POS),
    "abs": Atom("abs", CONVEX, _by_sign, "|t| is convex; nondecreasing for t ≥ 0, nonincreasing for t ≤ 0"),
    "max": Atom("max", CONVEX, lambda s: INCR, "max is convex and nondecreasing in each argument"),
    "min": Atom("min", CONCAVE, lambda s: INCR, "min is concave and nondecreasing in each argument"),
    "cosh": Atom("cosh", CONVEX, _by_sign, "cosh is convex; increasing for t ≥ 0, decreasing for t ≤ 0"),
    "even_power": Atom("even_power", CONVEX, _by_sign,
                       "t^(2k) is convex; nondecreasing for t ≥ 0, nonincreasing for t ≤ 0"),
    "power_ge1": Atom("power_ge1", CONVEX, lambda s: INCR, "t^p (p ≥ 1) is convex and increasing on t ≥ 0",
                      needs=NONNEG),
    "power_01": Atom("power_01", CONCAVE, lambda s: INCR, "t^p (0 < p < 1) is concave and increasing on t ≥ 0",
                     needs=NONNEG),
    "power_neg": Atom("power_neg", CONVEX, lambda s: DECR, "t^p (p < 0) is convex and decreasing on t > 0",
                      needs=POS),
    "power_neg_even_negarg": Atom("power_neg_even_negarg", CONVEX, lambda s: INCR,
                                  "t^p (p < 0 even) is convex and increasing on t < 0", needs=NEG),
    "power_odd_negarg": Atom("power_odd_negarg", CONCAVE, lambda s: INCR,
                             "t^p (p ≥ 3 odd) is concave and increasing on t ≤ 0", needs=NONPOS),
    "power_neg_odd_negarg": Atom("power_neg_odd_negarg", CONCAVE, lambda s: DECR,
                                 "t^p (p < 0 odd) is concave and decreasing on t < 0", needs=NEG),
    "log_sum_exp": Atom("log_sum_exp", CONVEX, lambda s: INCR,
                        "log(c₀ + Σ cᵢ·exp(tᵢ)) with cᵢ > 0, c₀ ≥ 0 (log-sum-exp, softplus) is convex and "
                        "increasing in each tᵢ"),
    "norm2": Atom("norm2", CONVEX, lambda s: NONE,
                  "√(Σ cᵢ·tᵢ² + c₀) with cᵢ > 0, c₀ ≥ 0 is a Euclidean norm: convex in the tᵢ"),
    "xlogx": Atom("xlogx", CONVEX, lambda s: NONE, "t·log(t) is convex on t > 0", needs=POS),
}


def compose(atom: Atom, arg_curvatures: list[str], arg_signs: list[str | None]) -> tuple[str, str]:
    """The one composition rule; returns (curvature, explanation)."""
    if all(c == CONST for c in arg_curvatures):
        return CONST, "all arguments are constant"
    for c, s in zip(arg_curvatures, arg_signs):
        if atom.needs == POS and s != POS:
            return UNKNOWN, "the argument is not shown to be > 0"
        if atom.needs == NONNEG and s not in _NONNEG:
            return UNKNOWN, "the argument is not shown to be ≥ 0"
        if atom.needs == NEG and s != NEG:
            return UNKNOWN, "the argument is not shown to be < 0"
        if atom.needs == NONPOS and s not in _NONPOS:
            return UNKNOWN, "the argument is not shown to be ≤ 0"
    want = atom.curvature
    reasons = []
    for c, s in zip(arg_curvatures, arg_signs):
        mono = atom.monotone(s)
        if c in (CONST, AFFINE):
            reasons.append(f"an {c} argument" if c == AFFINE else "a constant argument")
            continue
        good = (mono == INCR and c == want) or (mono == DECR and c == _opposite(want))
        if not good:
            return UNKNOWN, (f"a {c} argument inside a function that is {mono} there: "
                             "the composition rule does not apply")
        reasons.append(f"a {c} argument in a {mono} position")
    return want, "; ".join(dict.fromkeys(reasons))


def _opposite(c: str) -> str:
    return {CONVEX: CONCAVE, CONCAVE: CONVEX}.get(c, c)


def _sum(cs: list[str]) -> str:
    if all(c == CONST for c in cs):
        return CONST
    if all(c in (CONST, AFFINE) for c in cs):
        return AFFINE
    if UNKNOWN in cs:
        return UNKNOWN
    if all(c in (CONST, AFFINE, CONVEX) for c in cs):
        return CONVEX
    if all(c in (CONST, AFFINE, CONCAVE) for c in cs):
        return CONCAVE
    return UNKNOWN


class DCP:
    """Curvature of expressions in the given variables, with the proof tree as CvxDCP steps."""

    def __init__(self, variables, box):
        self.vars = set(variables)
        self.oracle = SignOracle(box)

    def sign(self, e) -> str | None:
        return self.oracle.sign(e).sign

    def analyse(self, e: sp.Expr) -> CvxDCP:
        check_deadline()
        if not (e.free_symbols & self.vars):
            return CvxDCP(e, CONST, "it does not depend on the variables")
        if e.is_Symbol:
            return CvxDCP(e, AFFINE, "a variable is affine")
        if isinstance(e, sp.Add):
            kids = [self.analyse(a) for a in e.args]
            c = _sum([k.curvature for k in kids])
            rule = ("a sum of convex and affine terms is convex" if c == CONVEX else
                    "a sum of concave and affine terms is concave" if c == CONCAVE else
                    "a sum of affine terms is affine" if c == AFFINE else
                    "a sum mixing convex and concave (or unknown) terms: no conclusion")
            return CvxDCP(e, c, rule, children=kids)
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Pow):
            return self._pow(e)
        if isinstance(e, sp.exp):
            return self._atom(e, ATOMS["exp"], [e.args[0]])
        if isinstance(e, sp.log):
            lse = self._log_sum_exp(e)
            if lse is not None:
                return lse
            return self._atom(e, ATOMS["log"], [e.args[0]])
        if isinstance(e, sp.Abs):
            return self._atom(e, ATOMS["abs"], [e.args[0]])
        if isinstance(e, sp.Max):
            return self._atom(e, ATOMS["max"], list(e.args))
        if isinstance(e, sp.Min):
            return self._atom(e, ATOMS["min"], list(e.args))
        if isinstance(e, sp.cosh):
            return self._atom(e, ATOMS["cosh"], [e.args[0]])
        return CvxDCP(e, UNKNOWN, f"{type(e).__name__} of a non-constant argument has no curvature rule")

    def _atom(self, e, atom: Atom, args) -> CvxDCP:
        kids = [self.analyse(a) for a in args]
        signs = [self.sign(a) for a in args]
        c, why = compose(atom, [k.curvature for k in kids], signs)
        return CvxDCP(e, c, f"{atom.text}; {why}", children=kids)

    def _mul(self, e) -> CvxDCP:
        coeff, rest = e.as_independent(*self.vars, as_Add=False)
        var_factors = sp.Mul.make_args(rest)
        if coeff != 1:
            inner = self.analyse(rest)
            s = self.sign(coeff)
            c = inner.curvature
            if c in (CONST, AFFINE):
                out = c
            elif s in (POS,):
                out = c
            elif s in (NEG,):
                out = _opposite(c)
            elif s == ZERO:
                out = CONST
            elif s == NONNEG and c in (CONVEX, CONCAVE):
                out = c
            elif s == NONPOS and c in (CONVEX, CONCAVE):
                out = _opposite(c)
            else:
                out = UNKNOWN
            rule = (f"the factor {u(coeff)} is {'≥ 0' if s in (POS, NONNEG) else '≤ 0' if s in (NEG, NONPOS) else 'of unknown sign'}"
                    + (", which keeps the curvature" if out == c and c not in (CONST, AFFINE) else
                       ", which flips convex and concave" if out == _opposite(c) and c != out else ""))
            return CvxDCP(e, out, rule, children=[inner])
        # t*log(t) with t affine
        if len(var_factors) == 2:
            a, b = var_factors
            for t, lg in ((a, b), (b, a)):
                if isinstance(lg, sp.log) and sp.expand(lg.args[0] - t) == 0:
                    return self._atom(e, ATOMS["xlogx"], [t])
        return CvxDCP(e, UNKNOWN, "a product of several non-constant factors has no curvature rule")

    def _pow(self, e) -> CvxDCP:
        b, p = e.args
        if b == sp.E:
            return self._atom(e, ATOMS["exp"], [p])
        if p.free_symbols & self.vars or not p.is_number:
            if not (b.free_symbols & self.vars) and self.sign(b - 1) in (POS, NONNEG) or (
                    not (b.free_symbols & self.vars) and self.sign(b) == POS):
                # c**g = exp(g*log c)
                return self.analyse(sp.exp(p * sp.log(b)))
            return CvxDCP(e, UNKNOWN, "a power with a variable exponent has no curvature rule")
        if p == sp.Rational(1, 2):
            norm = self._norm(e)
            if norm is not None:
                return norm
        s = self.sign(b)
        if p.is_Integer and p > 0 and p % 2 == 0:
            return self._atom(e, ATOMS["even_power"], [b])
        if p.is_Integer and p > 0:  # odd
            if s in _NONPOS and s != ZERO:
                return self._atom(e, ATOMS["power_odd_negarg"], [b])
            return self._atom(e, ATOMS["power_ge1"], [b])
        if p > 1:
            return self._atom(e, ATOMS["power_ge1"], [b])
        if 0 < p < 1:
            return self._atom(e, ATOMS["power_01"], [b])
        if p < 0:
            if s == NEG and p.is_Integer:
                return self._atom(e, ATOMS["power_neg_even_negarg" if p % 2 == 0 else "power_neg_odd_negarg"], [b])
            return self._atom(e, ATOMS["power_neg"], [b])
        return CvxDCP(e, UNKNOWN, "no curvature rule for this power")

    def _log_sum_exp(self, e) -> CvxDCP | None:
        arg = e.args[0]
        terms = sp.Add.make_args(arg)
        inner = []
        const_ok = True
        for t in terms:
            if not (t.free_symbols & self.vars):
                if self.sign(t) not in _NONNEG:
                    const_ok = False
                continue
            c, rest = t.as_independent(*self.vars, as_Add=False)
            if isinstance(rest, sp.exp) and self.sign(c) == POS:
                inner.append(rest.args[0] + (sp.log(c) if c != 1 else 0))
            elif isinstance(rest, sp.Pow) and rest.base == sp.E and self.sign(c) == POS:
                inner.append(rest.exp + (sp.log(c) if c != 1 else 0))
            else:
                return None
        if not inner or not const_ok:
            return None
        return self._atom(e, ATOMS["log_sum_exp"], inner)

    def _norm(self, e) -> CvxDCP | None:
        arg = sp.expand(e.base) if sp.count_ops(e.base) < 80 else e.base
        try:
            P = sp.Poly(arg, *sorted(self.vars & arg.free_symbols, key=lambda s: s.name))
        except sp.PolynomialError:
            return None
        if P.total_degree() != 2:
            return None
        # a PSD quadratic form plus ... : complete squares via the Hessian (constant)
        from convexproof.engine.multivariate import ldl_psd

        gens = P.gens
        H = sp.Matrix(len(gens), len(gens), lambda i, j: sp.diff(arg, gens[i], gens[j]))
        if H.free_symbols:
            return None
        cert = ldl_psd(H)
        if cert is None or not cert.psd:
            return None
        # minimum of the quadratic must be >= 0 for sqrt to be a norm: q(x) = ||A x + b||^2 + c, c >= 0
        grad = [sp.diff(arg, g) for g in gens]
        sol = sp.solve(grad, gens, dict=True)
        if not sol:
            return None
        m = arg.subs(sol[0])
        if m.free_symbols & self.vars or self.sign(m) not in _NONNEG:
            return None
        return CvxDCP(e, CONVEX, ATOMS["norm2"].text + f"; here the quadratic under the root is a PSD form "
                      f"with minimum {u(m)} ≥ 0, so the root is the norm of an affine map", children=[])
