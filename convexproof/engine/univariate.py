"""One variable: the sign of f'' on an interval, and piecewise functions (kinks and continuity)."""

from __future__ import annotations

import sympy as sp

from convexproof.steps import said
from convexproof.engine.domain import Problem, interval_display, is_smooth
from convexproof.engine.registry import NONSMOOTH, lookup
from convexproof.runtime.limits import check_deadline
from convexproof.engine.outcome import Outcome
from convexproof.engine.signs import exact_sign, find_negative, infimum_1d, iv_eval, prove_nonneg
from convexproof.steps.proof import CvxDerivative, CvxKink, CvxModulus, CvxPiece, CvxSign
from convexproof.engine.witness import jump_witness, chord_near, curvature_witness, exact_chord, numeric_chords
from convexproof.parse import as_sympy


def tidy(e: sp.Expr) -> sp.Expr:
    """A short equivalent form for display (never used to decide anything it was not derived from)."""
    ops = sp.count_ops(e)
    if ops > 60:
        return e
    best = e
    rational = all(isinstance(a, sp.exp) for a in e.atoms(sp.Function))
    fns = (sp.together, sp.cancel, sp.factor) if rational and ops < 40 else (sp.together,)
    for fn in fns:
        check_deadline()
        try:
            h = fn(e)
        except Exception:  # noqa: BLE001
            continue
        if sp.count_ops(h) < sp.count_ops(best):
            best = h
    return best


def _not_identically_zero(g, x, I) -> sp.Expr | None:
    """A rational point of I where g != 0 (exactly / 40 digits)."""
    from convexproof.engine.domain import sample_point

    cands = [sample_point(I)]
    lo = I.inf if I.inf != -sp.oo else sp.Integer(-3)
    hi = I.sup if I.sup != sp.oo else sp.Integer(3)
    for k in range(1, 8):
        p = lo + (hi - lo) * sp.Rational(k, 8)
        if p.is_Rational:
            cands.append(p)
        else:
            cands.append(sp.Rational(str(sp.N(p, 12))))
    for p in cands:
        if I.contains(p) is sp.true and exact_sign(g.subs(x, p)) not in (None, 0):
            return p
    return None


def strong_modulus(g, x, I, strict_proved) -> tuple:
    """(modulus, tight, step) when inf f'' > 0 can be shown; else (None, True, None)."""
    inf = infimum_1d(g, x, I)
    if inf.value is not None and inf.value != -sp.oo:
        s = exact_sign(inf.value)
        if s == 1:
            return inf.value, True, CvxModulus(inf.value, said("the infimum of f'' is ", inf.value,
                                                                ", which is positive (", inf.why, ")"))
        return None, True, None
    if strict_proved:
        r = iv_eval(g, {x: I})
        if r is not None and r.a > 0:
            from fractions import Fraction

            lo = Fraction(float(r.a)).limit_denominator(1000)
            q = sp.Rational(lo.numerator, lo.denominator)
            if q > 0 and q <= sp.Float(float(r.a)):
                return q, False, CvxModulus(q, said("bounding each term, f'' is at least ", q, " on the domain, "
                                                    "which is positive"), tight=False)
    return None, True, None


def smooth_1d(problem: Problem, f: sp.Expr | None = None) -> Outcome:
    f = problem.expr if f is None else f
    x = problem.variables[0]
    I = problem.interval(x)
    check_deadline()
    g = sp.diff(f, x, 2)
    shown = tidy(g)
    out = Outcome(None, second_derivative=shown, method="second derivative")
    out.steps.append(CvxDerivative(sp.Derivative(sp.Function("f", real=True)(x), (x, 2)), shown,
                                   "f is convex on the interval if and only if f'' ≥ 0 there"))
    r = prove_nonneg(g, {x: I}, variables=[x], accept=problem.satisfies)
    if r.status == "proved":
        out.convex = True
        out.steps.extend(r.steps)
        if r.strict:
            out.strict = True
            out.steps.append(CvxSign(shown, "> 0", "so f is strictly convex"))
        else:
            p = _not_identically_zero(g, x, I)
            if p is not None:
                out.strict = True
                out.steps.append(CvxSign(shown, "≠ 0", said("f'' is analytic and not identically 0 (its value at ",
                                                            sp.Eq(x, p, evaluate=False), " is nonzero), so its zeros "
                                                            "are isolated and f is strictly convex")))
        mu, tight, step = strong_modulus(g, x, I, r.strict)
        if mu is not None:
            out.modulus, out.modulus_tight = mu, tight
            out.steps.append(step)
        return out
    if r.status == "disproved":
        w = curvature_witness(f, [x], r.point, {x: sp.Integer(1)}, problem)
        if w is not None:
            out.convex = False
            out.witness = w
            # concave only if f'' <= 0 everywhere: a certified point with f'' > 0 (milliseconds) settles it before
            # the sign analysis (65-210 ms on tanh, sigmoid, log(x)/x)
            up = find_negative(-g, {x: I}, [x], accept=problem.satisfies)
            neg = prove_nonneg(-g, {x: I}, variables=[x], search=False) if up is None else None
            if neg is not None and neg.status == "proved":
                out.concave = True
                out.steps.append(CvxSign(shown, "≤ 0", said("f'' ≤ 0 on the whole domain, so f is concave: ",
                                                             neg.steps[0].reason) if neg.steps else "f is concave"))
    return out


def _intervals(S: sp.Set) -> list:
    if isinstance(S, sp.Union):
        out = []
        for a in S.args:
            out.extend(_intervals(a))
        return out
    if S is sp.EmptySet or S.is_empty:
        return []
    return [S]


def piecewise_1d(problem: Problem) -> Outcome | None:
    """Convexity of a piecewise-smooth function of one variable, decided exactly where possible."""
    f = problem.expr
    x = problem.variables[0]
    I = problem.interval(x)
    check_deadline()
    try:
        pairs = split_pieces(f, x, I)
    except _NoSplit:
        return None
    except Uncovered as exc:
        return Outcome(None, [CvxSign(f, "", f"f is not defined for {interval_display(exc.args[0], x)}: no piece of "
                                             "the Piecewise applies there; state the domain with --where")],
                       method="domain")
    if len(pairs) == 1 and isinstance(pairs[0][1], sp.Interval) and pairs[0][1] == I:
        return smooth_1d(problem, pairs[0][0])
    pw = sp.Piecewise(*[(e, S.as_relational(x)) for e, S in pairs]) if len(pairs) < 12 else f
    pieces, points = [], []
    for e, S in pairs:
        for J in _intervals(S):
            if isinstance(J, sp.FiniteSet):
                points.extend((e, p) for p in J)
            elif isinstance(J, sp.Interval):
                if not is_smooth(e):
                    return None
                pieces.append((e, J))
            else:
                return None
    pieces.sort(key=lambda t: sp.N(t[1].inf) if t[1].inf != -sp.oo else -sp.oo)
    out = Outcome(True, method="piecewise analysis")
    out.steps.append(CvxSign(pw, "", f"on the domain f is piecewise smooth with {len(pieces)} piece(s); it is "
                             "convex if and only if every piece is convex, f is continuous, and the slope does not "
                             "decrease at any breakpoint"))
    strict_all = True
    mods = []
    unknown = False
    for e, J in pieces:
        g = sp.diff(e, x, 2)
        interior = sp.Interval.open(J.inf, J.sup)
        r = prove_nonneg(g, {x: interior}, variables=[x],
                         accept=lambda pt: problem.satisfies(pt) and interior.contains(pt[x]) is sp.true)
        step = CvxPiece(e, interval_display(J, x), "")
        if r.status == "proved":
            step.text = said("second derivative ", sp.GreaterThan(tidy(g), 0, evaluate=False), " on this interval")
            step.children = r.steps
            if not r.strict and _not_identically_zero(g, x, interior) is None:
                strict_all = False
            mu, tight, _ = strong_modulus(g, x, interior, r.strict) if strict_all else (None, True, None)
            mods.append(mu)
        elif r.status == "disproved":
            w = curvature_witness(e, [x], r.point, {x: sp.Integer(1)}, problem)
            if w is not None:
                ch = chord_near(f, [x], r.point, {x: sp.Integer(1)}, problem)
                if ch is not None:
                    w["chord"] = ch
                else:
                    w.pop("chord", None)
                step.text = said("second derivative ", tidy(g), " is negative at ", sp.Eq(x, r.point[x], evaluate=False))
                out.steps.append(step)
                return Outcome(False, out.steps, witness=w, method="piecewise analysis")
            unknown = True
            step.text = "its convexity could not be decided"
        else:
            unknown = True
            step.text = "its convexity could not be decided"
        out.steps.append(step)
    # closed ends of the domain where f takes a value of its own: it may jump up, never down
    for p, side in ((I.inf, "+"), (I.sup, "-")):
        if p in (-sp.oo, sp.oo) or I.contains(p) is not sp.true:
            continue
        own = [e for e, q in points if q == p]
        if not own:
            continue  # p lies in a piece's closed interval: f is given there by that piece's smooth formula
        check_deadline()
        near = [e for e, J in pieces if (J.inf if side == "+" else J.sup) == p]
        if not near:
            unknown = True
            continue
        val, L = own[0].subs(x, p), _limit(near[0], x, p, side)
        same = _equal(val, L)
        s_ = 0 if same else exact_sign(val - L)
        if s_ in (0, 1):
            fp = sp.Eq(sp.Function("f", real=True)(p), val, evaluate=False)
            out.steps.append(CvxSign(val, "", said("at the closed end ", sp.Eq(x, p, evaluate=False), " the value ", fp,
                                                   *((" equals the limit from inside",) if s_ == 0 else
                                                     (" is above the limit ", L, " from inside, which convexity allows "
                                                      "at an end")))))
            continue
        if s_ == -1:
            w = jump_witness(f, x, p, problem)
            if w is not None:
                fp = sp.Eq(sp.Function("f", real=True)(p), val, evaluate=False)
                out.steps.append(CvxSign(val, "", said("at the closed end ", sp.Eq(x, p, evaluate=False), " the value ",
                                                       fp, " is below the limit ", L, " from inside: the graph drops "
                                                       "at the end")))
                return Outcome(False, out.steps, witness=w, method="piecewise analysis")
        unknown = True
    # breakpoints
    for (e1, J1), (e2, J2) in zip(pieces, pieces[1:]):
        check_deadline()
        b = J1.sup
        if b != J2.inf:
            unknown = True
            continue
        fb = pw.subs(x, b)
        L, R = _limit(e1, x, b, "-"), _limit(e2, x, b, "+")
        sl, sr = _limit(sp.diff(e1, x), x, b, "-"), _limit(sp.diff(e2, x), x, b, "+")
        cont = all(_equal(a, c) for a, c in ((L, R), (L, fb)))
        slope_diff = sp.expand(sr - sl) if sp.count_ops(sr - sl) < 100 else sr - sl
        s = exact_sign(slope_diff)
        if slope_diff == 0:
            s = 0
        ok = bool(cont) and s in (0, 1)
        out.steps.append(CvxKink(b, L, R, sl, sr, ok, var=x, value=fb, continuous=bool(cont),
                                 decreasing=bool(cont) and s == -1))
        if cont and s == -1:
            ch = chord_near(f, [x], {x: b}, {x: sp.Integer(1)}, problem)
            if ch is not None:
                return Outcome(False, out.steps, witness={"chord": ch, "verified": _kind(ch)},
                               method="piecewise analysis")
            unknown = True
        elif cont is False or cont is None or s is None:
            w = jump_witness(f, x, b, problem) or _chord_search(f, problem)
            if w is not None:
                return Outcome(False, out.steps, witness=w, method="piecewise analysis")
            unknown = True
    for e, p in points:
        if I.contains(p) is sp.true and (p not in (I.inf, I.sup)):
            # an isolated point with its own formula: it must agree with the neighbours
            nb = [pe.subs(x, p) for pe, J in pieces if J.contains(p) is sp.true or J.inf == p or J.sup == p]
            if not all(_equal(e.subs(x, p), v) for v in nb):
                w = jump_witness(f, x, p, problem) or _chord_search(f, problem)
                if w is not None:
                    return Outcome(False, out.steps, witness=w, method="piecewise analysis")
                unknown = True
    if unknown:
        return Outcome(None, out.steps, method="piecewise analysis")
    out.strict = strict_all
    if strict_all and mods and all(m is not None for m in mods):
        out.modulus = min(mods, key=lambda m: sp.N(m))
        out.modulus_tight = False
    return out


class _NoSplit(Exception):
    pass


class Uncovered(Exception):
    """A Piecewise has no piece for part of the domain (args[0]: that set): f is undefined there."""


def _first_nonsmooth(e):
    """An innermost non-smooth sub-expression (its arguments are smooth)."""
    for a in sp.postorder_traversal(e):
        if isinstance(a, NONSMOOTH):
            return a
    return None


def _branches(a, x):
    """[(replacement, condition)] for one non-smooth sub-expression (the registry's record)."""
    rec = lookup(a)
    if rec is None or rec.branches is None:
        raise _NoSplit
    return rec.branches(a)


def _set_of(c, x, I):
    """Set of x in I where the condition c holds (c may contain non-smooth parts, split into smooth pieces)."""
    from convexproof.engine.domain import condition_set

    def leaf(rel):
        d = rel.lhs - rel.rhs
        if not is_smooth(d):
            return sp.Union(*[S.intersect(_set_of(rel.func(e, 0), x, I)) for e, S in split_pieces(d, x, I)])
        try:
            return rel.as_set()
        except Exception:  # noqa: BLE001
            raise _NoSplit from None

    if c is sp.true:
        return I
    S = condition_set(c, x, leaf)
    if S is None:
        raise _NoSplit
    return S.intersect(I)


def split_pieces(e, x, I, depth: int = 0):
    """[(smooth expression, set)] covering I: e equals the expression on the set."""
    check_deadline()
    if depth > 8:
        raise _NoSplit
    a = _first_nonsmooth(e)
    if a is None:
        return [(e, I)]
    out = []
    rest = I
    for rep, cond in _branches(a, x):
        S = rest.intersect(_set_of(cond, x, rest)) if cond is not sp.true else rest
        rest = rest - S
        if S.is_empty:
            continue
        sub = e.xreplace({a: rep})
        for piece in _intervals(S):
            out.extend(split_pieces(sub, x, piece, depth + 1))
        if rest.is_empty:
            break
    if isinstance(a, sp.Piecewise) and not rest.is_empty:
        raise Uncovered(rest)
    # merge neighbours with the same formula
    out.sort(key=lambda t: (sp.N(t[1].inf) if t[1].inf != -sp.oo else -1e308))
    merged = []
    for e2, S2 in out:
        if merged and isinstance(S2, sp.Interval) and isinstance(merged[-1][1], sp.Interval):
            e1, S1 = merged[-1]
            if S1.sup == S2.inf and sp.expand(e1 - e2) == 0:
                merged[-1] = (e1, S1.union(S2))
                continue
        merged.append((e2, S2))
    return merged


def _piece_sets(pw: sp.Piecewise, x, I):
    """[(expression, set)] for the pieces of pw on I (the first true condition wins)."""
    from convexproof.engine.parametric import cond_to_set

    rest = I
    out = []
    for e, c in pw.args:
        check_deadline()
        if c.free_symbols - {x}:
            return None
        try:
            S = cond_to_set(c, x) if c is not sp.true else sp.Interval(-sp.oo, sp.oo)
        except Exception:  # noqa: BLE001
            return None
        here = rest.intersect(S)
        rest = rest - S
        out.append((e, here))
        if rest.is_empty:
            break
    return out


def _kind(ch) -> str:
    return "exact" if all(as_sympy(v).is_Rational for v in (ch["lhs"], ch["rhs"])) else "40 digits"


def _limit(e, x, b, side):
    v = e.subs(x, b)
    if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        v = sp.limit(e, x, b, side)
    return v


def _equal(a, b):
    d = a - b
    if d == 0:
        return True
    s = exact_sign(d)
    if s in (1, -1):
        return False
    try:
        return True if sp.expand(d) == 0 else None
    except Exception:  # noqa: BLE001
        return None


def _chord_search(f, problem):
    for seed in (1, 5, 9):
        _, bad, chord = numeric_chords(f, problem, seed=seed, n=600)
        if chord is not None:
            w = exact_chord(f, problem, chord)
            if w is not None:
                return w
    return None
