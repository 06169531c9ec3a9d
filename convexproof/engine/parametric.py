"""Parameters: the exact condition under which f is convex, or convexity for every parameter value."""

from __future__ import annotations

import sympy as sp

from convexproof.engine.domain import REALS, Problem, condition_set
from convexproof.runtime.limits import check_deadline
from convexproof.engine.multivariate import principal_minors
from convexproof.engine.signs import NONNEG, POS, ZERO, SignOracle, infimum_1d, prove_nonneg
from convexproof.steps import said
from convexproof.steps.proof import CvxBound, CvxCondition, CvxMinors, CvxSign


def _fpp_is(x, value):
    """The equation f''(x) = value, unevaluated (a SymPy object: the templates typeset it)."""
    return sp.Eq(sp.Derivative(sp.Function("f", real=True)(x), (x, 2)), value, evaluate=False)


def _times(coeff, G):
    """coeff·G kept as the product of its two factors (the factorisation the argument uses)."""
    return coeff if G == 1 else sp.Mul(coeff, G, evaluate=False)


def set_to_condition(S: sp.Set, p: sp.Symbol, box: sp.Interval):
    """A readable relational for S ⊆ box, leaving out the bounds the box already implies."""
    if S == box:
        return sp.true
    if S.is_empty:
        return sp.false
    if isinstance(S, sp.Union):
        return sp.Or(*[set_to_condition(a, p, box) for a in S.args])
    if isinstance(S, sp.FiniteSet):
        return sp.Or(*[sp.Eq(p, v) for v in S])
    if isinstance(S, sp.Interval):
        parts = []
        if S.inf != -sp.oo and not (S.inf == box.inf and S.left_open == box.left_open):
            parts.append(sp.StrictGreaterThan(p, S.inf) if S.left_open else sp.GreaterThan(p, S.inf))
        if S.sup != sp.oo and not (S.sup == box.sup and S.right_open == box.right_open):
            parts.append(sp.StrictLessThan(p, S.sup) if S.right_open else sp.LessThan(p, S.sup))
        if S.inf == S.sup:
            return sp.Eq(p, S.inf)
        return sp.And(*parts) if parts else sp.true
    return S.as_relational(p)


def cond_to_set(cond, p: sp.Symbol) -> sp.Set:
    """The set of values of p satisfying cond: exact where :func:`~convexproof.engine.domain.condition_set`
    solves it, SymPy's ``as_set`` for the rest."""
    S = condition_set(cond, p, lambda rel: rel.as_set())
    return S if S is not None else cond.as_set()


def simplify_condition(cond, problem: Problem):
    """Simplify on the parameters' ranges: True, False, or an equivalent condition."""
    if cond in (sp.true, sp.false):
        return cond
    params = sorted(cond.free_symbols, key=lambda s: s.name)
    if len(params) == 1:
        p = params[0]
        box = problem.interval(p)
        try:
            S = cond_to_set(cond, p).intersect(box)
        except Exception:  # noqa: BLE001
            return cond
        return set_to_condition(S, p, box)
    oracle = SignOracle(problem.param_box)
    kept = []
    for c in sp.And.make_args(cond):
        if isinstance(c, (sp.GreaterThan, sp.StrictGreaterThan)) and c.rhs == 0:
            s = oracle.sign(c.lhs).sign
            if s == POS or (s in (NONNEG, ZERO) and isinstance(c, sp.GreaterThan)):
                continue
        kept.append(c)
    return sp.And(*kept)


def condition_1d(g: sp.Expr, x: sp.Symbol, problem: Problem):
    """(condition, steps) with f'' = g >= 0 for all x in the domain  <=>  condition; or (None, [])."""
    check_deadline()
    I = problem.interval(x)
    params = set(problem.parameters)
    # (1) g = c(params) * G(x), G of one sign
    gf = sp.factor_terms(g)
    coeff, G = gf.as_independent(x, as_Add=False)
    if coeff.free_symbols & params and not (G.free_symbols & params):
        for sgn, rel in ((1, sp.GreaterThan), (-1, sp.LessThan)):
            r = prove_nonneg(sgn * G, {x: I}, search=False)
            if r.status == "proved" and r.strict:
                cond = rel(coeff, 0)
                steps = [CvxSign(G, "> 0" if sgn > 0 else "< 0", said("the factor that depends on the variable: ",
                                      r.steps[0].reason if r.steps else ""), children=r.steps[0].children if r.steps else []),
                         CvxCondition(cond, said("the second derivative ", _fpp_is(x, _times(coeff, G)),
                                                 " is nonnegative for every ", x, " if and only if ", cond))]
                return cond, steps
    # (1b) the same when G also depends on the parameters but is positive for all of them (x**(p - 2) on x > 0)
    if coeff.free_symbols & params and G.free_symbols & params:
        sg = SignOracle(problem.full_box()).sign(G)
        if sg.sign == POS:
            cond = sp.GreaterThan(coeff, 0)
            return cond, [CvxSign(G, "> 0", sg.text),
                          CvxCondition(cond, said("the second derivative ", _fpp_is(x, _times(coeff, G)),
                                                  " is nonnegative for every ", x, " if and only if ", cond))]
    # (2) g = A(x) + C(params): C >= -inf A
    ge = sp.expand(g)
    A = sp.Integer(0)
    C = sp.Integer(0)
    mixed = False
    for t in sp.Add.make_args(ge):
        hx, hp = t.has(x), bool(t.free_symbols & params)
        if hx and hp:
            mixed = True
            break
        if hx:
            A += t
        else:
            C += t
    if not mixed and C.free_symbols & params:
        inf = infimum_1d(A, x, I)
        if inf.value is not None:
            if inf.value == -sp.oo:
                cond = sp.false
                text = said(A, " is unbounded below (", inf.why, "), so no parameter value makes the second "
                                "derivative nonnegative")
            else:
                cond = sp.GreaterThan(C + inf.value, 0)
                text = said("the second derivative ", _fpp_is(x, sp.Add(A, C, evaluate=False)),
                            "; the part in ", x, ", ", A, ", has infimum ", inf.value, " on the domain (", inf.why,
                            "), so the second derivative is nonnegative everywhere if and only if ", cond)
            bound = [CvxBound(A, inf.value, inf.why)] if inf.value != -sp.oo else []  # "≥ −∞" says nothing
            return cond, [*bound, CvxCondition(cond, text)]
    # (3) a quadratic in x with parameter coefficients, on the whole line
    if I == REALS:
        try:
            P = sp.Poly(ge, x)
        except sp.PolynomialError:
            P = None
        if P is not None and P.degree() <= 2 and not any(c.has(x) for c in P.all_coeffs()):
            cs = [sp.Integer(0)] * (3 - len(P.all_coeffs())) + P.all_coeffs()
            a, b, c = cs
            cond = sp.Or(sp.And(a > 0, b**2 - 4 * a * c <= 0), sp.And(sp.Eq(a, 0), sp.Eq(b, 0), c >= 0))
            A_, B_, C_ = sp.symbols("alpha beta gamma", real=True)  # the coefficients' names in the rule
            text = said("the second derivative ", _fpp_is(x, sp.Add(A_ * x**2, B_ * x, C_, evaluate=False)), " with ",
                        sp.Eq(A_, a, evaluate=False), ", ", sp.Eq(B_, b, evaluate=False), ", ",
                        sp.Eq(C_, c, evaluate=False), " is nonnegative for every real ", x, " if and only if (",
                        sp.And(A_ > 0, B_**2 - 4 * A_ * C_ <= 0), ") or (", sp.And(sp.Eq(A_, 0), sp.Eq(B_, 0), C_ >= 0),
                        ")")
            return cond, [CvxCondition(cond, text)]
    return None, []


def condition_nd(H: sp.Matrix, problem: Problem):
    """(condition, steps) for a Hessian H that is PSD on the whole domain  <=>  condition; or (None, [])."""
    variables = set(problem.variables)
    if not (H.free_symbols & variables):
        minors = principal_minors(H)
        if minors is None:
            return None, []
        cond = sp.And(*[sp.GreaterThan(m, 0) for _, m in minors])
        return cond, [CvxMinors(H, minors, "the Hessian does not depend on the variables; it is PSD if and only if "
                                           "all its principal minors are ≥ 0")]
    n = H.rows
    if all(H[i, j] == 0 for i in range(n) for j in range(n) if i != j):
        conds, steps = [], []
        for i in range(n):
            h = H[i, i]
            vs = h.free_symbols & variables
            if len(vs) > 1:
                return None, []
            if not vs:
                c = sp.GreaterThan(h, 0)
                conds.append(c)
                continue
            x = next(iter(vs))
            sub = problem.with_expr(problem.expr)
            c, st = condition_1d(h, x, sub)
            if c is None:
                return None, []
            conds.append(c)
            steps.extend(st)
        cond = sp.And(*conds)
        return cond, [CvxSign(H, "", "the Hessian is diagonal: it is PSD if and only if every diagonal entry is ≥ 0 "
                                     "everywhere")] + steps
    return None, []
