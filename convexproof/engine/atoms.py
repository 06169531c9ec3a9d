"""CVXPY-style curvature analysis: the registry's facts per function, one composition rule.

Each atom's record (:mod:`convexproof.engine.registry`) states its curvature,
its monotonicity in each argument (which may depend on the sign of the
argument, as for |t| or t²) and the sign of its value.  :func:`compose` is
the single rule that combines them (sums and constant factors are affine
atoms, so they go through it too):

    f(g₁, …, gₖ) is convex if f is convex and, for every i, gᵢ is affine, or
    f is nondecreasing in argument i and gᵢ is convex, or f is nonincreasing
    in argument i and gᵢ is concave (swap convex/concave for concave f).

A convex function of a non-affine argument is therefore *not* automatically
convex: exp(−x²) and (x² − 1)² are not accepted.  The analysis is sound but
incomplete; anything it cannot classify is "unknown".
"""

from __future__ import annotations

import sympy as sp

from convexproof.steps import said
from convexproof.runtime.limits import check_deadline
from convexproof.engine.registry import (AFFINE, ATOMS, CONCAVE, CONST, CONVEX, DECR, INCR, NONE, UNKNOWN, Curv,
                                         compose, lookup, opposite, scale_atom)
from convexproof.engine.registry import _NONNEG
from convexproof.engine.signs import NEG, NONNEG, NONPOS, POS, ZERO, SignOracle
from convexproof.steps.proof import CvxDCP

Atom = Curv  # the curvature facts of one atom (the registry's record)

__all__ = ["AFFINE", "ATOMS", "CONCAVE", "CONST", "CONVEX", "DCP", "DECR", "INCR", "NONE", "UNKNOWN", "Atom",
           "compose", "NEG", "NONNEG", "NONPOS", "POS", "ZERO"]

_SUM_RULE = {CONVEX: "a sum of convex and affine terms is convex",
             CONCAVE: "a sum of concave and affine terms is concave",
             AFFINE: "a sum of affine terms is affine"}


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
        if isinstance(e, sp.Add):  # the sum atom (affine, nondecreasing in each term) in the composition rule
            kids = [self.analyse(a) for a in e.args]
            c, _ = compose(ATOMS["sum"], [k.curvature for k in kids], [None] * len(kids))
            rule = _SUM_RULE.get(c, "a sum mixing convex and concave (or unknown) terms: no conclusion")
            return CvxDCP(e, c, rule, children=kids)
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Pow):
            return self._pow(e)
        if isinstance(e, sp.log):
            lse = self._log_sum_exp(e)
            if lse is not None:
                return lse
        rec = lookup(e)  # an atom: its curvature facts from the registry
        found = rec.curvature(e, self.sign) if rec is not None and rec.curvature is not None else None
        if found is not None:
            return self._atom(e, *found)
        return CvxDCP(e, UNKNOWN, f"{type(e).__name__} of a non-constant argument has no curvature rule")

    def _atom(self, e, atom: Atom, args) -> CvxDCP:
        kids = [self.analyse(a) for a in args]
        signs = [self.sign(a) for a in args]
        c, why = compose(atom, [k.curvature for k in kids], signs)
        return CvxDCP(e, c, f"{atom.text}; {why}", children=kids)

    def _mul(self, e) -> CvxDCP:
        coeff, rest = e.as_independent(*self.vars, as_Add=False)
        var_factors = sp.Mul.make_args(rest)
        if coeff != 1:  # c·t: the scaling atom (affine; monotone by the sign of c) in the composition rule
            inner = self.analyse(rest)
            s = self.sign(coeff)
            c = inner.curvature
            out = CONST if s == ZERO and c not in (CONST, AFFINE) else compose(scale_atom(s), [c], [None])[0]
            rule = said("the factor ", coeff, " is " + ("≥ 0" if s in (POS, NONNEG) else "≤ 0" if s in (NEG, NONPOS)
                                                       else "of unknown sign"),
                        ", which keeps the curvature" if out == c and c not in (CONST, AFFINE) else
                        ", which flips convex and concave" if out == opposite(c) and c != out else "")
            return CvxDCP(e, out, rule, children=[inner])
        # t*log(t) with t affine
        if len(var_factors) == 2:
            a, b = var_factors
            for t, lg in ((a, b), (b, a)):
                if isinstance(lg, sp.log) and sp.expand(lg.args[0] - t) == 0:
                    return self._atom(e, ATOMS["xlogx"], [t])
        found = self._quad_over_lin(e, var_factors)
        if found is not None:
            return found
        return CvxDCP(e, UNKNOWN, "a product of several non-constant factors has no curvature rule")

    def _quad_over_lin(self, e, factors) -> CvxDCP | None:
        """q/t with q = Σ uᵢ², uᵢ affine, and t > 0 shown: the quad-over-lin atom of (u₁, …, uₖ, t)."""
        dens = [f for f in factors if isinstance(f, sp.Pow) and f.exp == -1]
        if len(dens) != 1:
            return None
        t = dens[0].base
        us = self._affine_squares(sp.Mul(*[f for f in factors if f is not dens[0]]))
        if us is None or self.sign(t) != POS:
            return None
        return self._atom(e, ATOMS["quad_over_lin"], [*us, t])

    def _affine_squares(self, q) -> list | None:
        """Affine uᵢ with q = Σ uᵢ² exactly, when q is a quadratic with number coefficients whose homogenised
        matrix [[Q, b/2], [bᵀ/2, c]] (q = zᵀMz, z = (x, 1)) has an exact LDLᵀ with D ≥ 0; else None."""
        from convexproof.engine.multivariate import ldl_psd

        vs = sorted(self.vars & q.free_symbols, key=lambda v: v.name)
        if not vs or len(vs) > 12 or sp.count_ops(q) > 80:
            return None
        try:
            P = sp.Poly(sp.expand(q), *vs)
        except sp.PolynomialError:
            return None
        if P.total_degree() != 2 or not all(c.is_Rational for c in P.coeffs()):
            return None
        n = len(vs)
        z = [*vs, sp.Integer(1)]
        qe = P.as_expr()
        M = sp.Matrix(n + 1, n + 1, lambda i, j: sp.diff(qe, z[i], z[j]) / 2 if i < n and j < n else 0)
        for i in range(n):
            M[i, n] = M[n, i] = sp.diff(qe, vs[i]).subs({v: 0 for v in vs}) / 2
        M[n, n] = qe.subs({v: 0 for v in vs})
        cert = ldl_psd(M)
        if cert is None or not cert.psd or cert.L is None:
            return None
        us = [sp.sqrt(d) * sum(cert.L[j, i] * z[j] for j in range(n + 1)) for i, d in enumerate(cert.D) if d != 0]
        if not us or sp.expand(sum(u_ ** 2 for u_ in us) - qe) != 0:  # the decomposition, checked exactly
            return None
        return us

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
        found = lookup(e).curvature(e, self.sign)  # the member of the t**p family (registry)
        if found is not None:
            return self._atom(e, *found)
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
        """√q with q = Σ uᵢ², uᵢ affine (:meth:`_affine_squares`): the Euclidean norm of an affine map."""
        us = self._affine_squares(e.base)
        if us is None:
            return None
        return CvxDCP(e, CONVEX, said(ATOMS["norm2"].text + "; here the quadratic under the root is ",
                                      sp.Add(*[u_**2 for u_ in us], evaluate=False),
                                      ", so the root is the norm of an affine map"), children=[])
