"""The simplification policy: which of several equal forms a worked solution prints.

A result is shown in the form a teacher would write on the board, chosen by one
documented cost function, never ad hoc per exercise:

1. **Candidates.**  For an expression e we build equal forms: e itself,
   ``expand``, ``factor``, ``cancel``, ``together``, ``simplify``, and, when e
   contains exponentials e^(±z) of one argument z, the same forms after
   rewriting e as a rational function of t = e^z and factoring (so
   ``exp(z)/(1 + 2exp(z) + exp(2z))`` becomes e^z/(1 + e^z)²), and after
   substituting the logistic function σ(z) = 1/(1 + e^(−z)) (so the same
   expression becomes σ(z)(1 − σ(z))).  Every candidate is checked equal to e
   (symbolically, or by exact evaluation at sample points when SymPy cannot
   simplify the difference); a candidate that is not provably equal is
   dropped.

2. **Cost.**  ``cost(e)`` = the number of operations (``count_ops``) +
   2 per exponential with a negative argument (e^(−z) where e^z will do) +
   4 per hyperbolic function (teachers write exponentials) + 10 per floating
   point number + 2 per sum nested inside a denominator's sum + 1 per
   product of two non-constant factors in a polynomial (u²/2 + u beats
   u(u + 2)/2, because a polynomial is read term by term).

3. **Choice.**  The cheapest candidate wins.  Ties go to a form in σ (the
   logistic function is the course's own notation), then to the earlier
   candidate in the order above (the expression as computed comes first).

``teacher_form(e, var)`` applies the policy; ``sigma(z)`` is the printed
logistic function σ(z) used by the σ-candidates.
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.exact import is_negative
from convexproof.solvers.toolkit import fn_at

_HYPERBOLIC = (sp.sinh, sp.cosh, sp.tanh, sp.coth, sp.sech, sp.csch)


def sigma(z):
    """σ(z), printed as such (a SymPy function named σ)."""
    return fn_at("σ", z)


def cost(e) -> int:
    """The documented cost of a printed form (see the module docstring)."""
    if not isinstance(e, sp.Basic):
        return 0
    c = int(sp.count_ops(e, visual=False))
    for a in sp.preorder_traversal(e):
        if isinstance(a, sp.exp) and a.args[0].could_extract_minus_sign():
            c += 2
        elif isinstance(a, _HYPERBOLIC):
            c += 4
        elif isinstance(a, sp.Float):
            c += 10
        elif isinstance(a, sp.Pow) and is_negative(a.exp) and isinstance(a.base, sp.Add):
            c += 2 * sum(1 for t in a.base.args if isinstance(t, sp.Add) or (isinstance(t, sp.Mul) and any(
                isinstance(f, sp.Add) for f in t.args)))
    for a in sp.preorder_traversal(e):  # one fraction over a sum: term by term reads better
        if isinstance(a, sp.Mul):
            num, den = sp.fraction(a)
            if den.free_symbols and isinstance(num, sp.Add) and sum(1 for t in num.args if t.free_symbols) >= 2:
                c += 3
        if isinstance(a, sp.Add) and a.as_coeff_add()[0] < 0 and all(
                t.could_extract_minus_sign() is False for t in a.as_coeff_add()[1]):
            c += 1  # −1 + y where 1 − y... is written the other way round
    syms = e.free_symbols
    if syms and isinstance(e, sp.Expr) and e.is_polynomial(*syms):
        for a in sp.preorder_traversal(e):
            if isinstance(a, sp.Mul) and sum(1 for f in a.args if f.free_symbols) >= 2 and any(
                    isinstance(f, sp.Add) for f in a.args):
                c += 1
    return c


def _equal(a, b, var) -> bool:
    d = sp.simplify(a - b)
    if d == 0:
        return True
    syms = sorted((a.free_symbols | b.free_symbols) - {var} if var is not None else set(), key=str)
    pts = [sp.Rational(1, 3), sp.Rational(7, 5), sp.Rational(-5, 4), sp.Rational(11, 3)]
    try:
        for k, p in enumerate(pts):
            sub = {s: sp.Rational(2 + k + i, 3 + i) for i, s in enumerate(syms)}
            if var is not None:
                sub[var] = p
            va, vb = a.subs(sub), b.subs(sub)
            if va.has(sp.zoo, sp.nan) or vb.has(sp.zoo, sp.nan):
                continue
            if abs(sp.N(va - vb, 40)) > sp.Float(10) ** -30:
                return False
        return True
    except (TypeError, ValueError):
        return False


def _exp_candidates(e, var):
    """Forms of e as a rational function of t = e^var (factored), and of σ(var)."""
    import math

    out = []
    if var is None or not e.has(sp.exp, *_HYPERBOLIC):
        return out
    t = sp.Dummy("t", positive=True)
    r = e.rewrite(sp.exp)
    ks = [sp.simplify(a.args[0] / var) for a in r.atoms(sp.exp) if a.args[0].has(var)]
    if not ks or not all(k.is_Rational for k in ks):
        return out
    q = math.lcm(*[int(k.q) for k in ks])
    r = r.replace(lambda a: isinstance(a, sp.exp) and a.args[0].has(var),
                  lambda a: t ** (sp.simplify(a.args[0] / var) * q))
    if r.has(var):
        return out
    r = sp.factor(sp.cancel(r))
    if q != 1:  # t stands for e^(var/q): square up to e^var where possible
        r2 = sp.factor(sp.cancel(r.subs(t, sp.sqrt(t)))) if q == 2 else None
        if r2 is not None and not any(isinstance(a, sp.Pow) and a.base == t and not a.exp.is_Integer
                                      for a in sp.preorder_traversal(r2)):
            r, q = r2, 1
        else:
            out.append(r.subs(t, sp.exp(var / q)))
            return out
    out.append(r.subs(t, sp.exp(var)))
    s = sp.Dummy("s", positive=True)  # sigma form: e^var = s/(1 - s)
    rs = sp.factor(sp.cancel(r.subs(t, s / (1 - s))))
    if not rs.has(t):
        rs = _positive_factors(rs).subs(s, sigma(var))
        if isinstance(rs, sp.Mul):  # σ(z)(1 − σ(z)): the bare σ first, as it is written
            rs = sp.Mul(*sorted(rs.args, key=lambda a: (isinstance(a, sp.Add), sp.default_sort_key(a))),
                        evaluate=False)
        out.append(rs)
    return out


def _positive_factors(e):
    """-(s - 1)s as s(1 - s): a product whose sign sits on a factor with a negative constant term."""
    if not isinstance(e, sp.Mul):
        return e
    coeff, factors = e.as_coeff_mul()
    if coeff >= 0:
        return e
    for i, f in enumerate(factors):
        if isinstance(f, sp.Add) and f.as_coeff_add()[0] < 0:
            flipped = list(factors)
            flipped[i] = -f
            return sp.Mul(-coeff, *flipped)
    return e


def _flip_signs(e):
    """(y − 1)/(p − 1)² as −(1 − y)/(1 − p)²: even powers of a sum whose constant is negative are flipped,
    and a product's sign moves onto a factor with a negative constant term."""
    def flip_pow(a):
        return (isinstance(a, sp.Pow) and isinstance(a.base, sp.Add) and a.exp.is_Integer and a.exp % 2 == 0
                and a.base.as_coeff_add()[0] < 0)

    e = e.replace(flip_pow, lambda a: sp.Pow(-a.base, a.exp))
    return e.replace(lambda a: isinstance(a, sp.Mul), _positive_factors)


def _plain(e, var):
    """σ(var) replaced by its formula, for equality checks."""
    if var is None:
        return e
    return e.subs(sigma(var), 1 / (1 + sp.exp(-var)))


def teacher_form(e, var=None):
    """The cheapest equal form of ``e`` under :func:`cost` (``var``: the variable, for the σ/e^z forms)."""
    if not isinstance(e, sp.Expr) or e.is_number:
        return e
    cands = [e, _flip_signs(e)]
    for f in (sp.expand, sp.factor, sp.cancel, sp.together, sp.simplify):
        try:
            cands.append(f(e))
        except (sp.PolynomialError, NotImplementedError, TypeError, ValueError):
            continue
    try:
        cands += _exp_candidates(e, var)
    except (sp.PolynomialError, NotImplementedError, TypeError, ValueError, ZeroDivisionError):
        pass
    best, best_cost = e, cost(e)
    for c in cands[1:]:
        k = cost(c)
        better = k < best_cost or (k == best_cost and var is not None and c.has(sigma(var))
                                   and not best.has(sigma(var)))
        if better and _equal(_plain(c, var), e, var):
            best, best_cost = c, k
    return best
