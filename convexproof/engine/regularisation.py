"""The smallest λ >= 0 for which f + λ·P is convex (P = Σ xᵢ² by default)."""

from __future__ import annotations

import sympy as sp

from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError
from convexproof.steps import said
from convexproof.parse import parse_expr, symbol
from convexproof.engine.domain import Problem, make_problem
from convexproof.engine.prover import _preimport, analyse, domain_check, parametric_outcome
from convexproof.runtime.limits import DEFAULT_TIMEOUT
from convexproof.engine.prover import GRACE
from convexproof.runtime.limits import deadline, report_partial, run_isolated
from convexproof.engine.parametric import cond_to_set
from convexproof.engine.result import RegularizeResult
from convexproof.steps.proof import CvxConclusion, CvxSetup, CvxSign
from convexproof.parse import as_sympy


def _penalty(problem: Problem, penalty, lam) -> tuple[sp.Expr, sp.Expr]:
    if penalty is None:
        P = sp.Add(*[v**2 for v in problem.variables])
        return lam * P, P
    pen = parse_expr(penalty) if isinstance(penalty, str) else as_sympy(penalty)
    if lam not in pen.free_symbols:
        raise ConvexproofError("the penalty must contain lam, e.g. lam*(x**2 + y**2)")
    other = pen.free_symbols - {lam} - set(problem.variables)
    if other:
        raise ConvexproofError("the penalty may only use lam and the variables; unknown: "
                               + ", ".join(sorted(s.name for s in other)))
    P = sp.diff(pen, lam)
    if P.has(lam) or sp.simplify(pen.subs(lam, 0)) != 0:
        raise ConvexproofError("the penalty must be lam times a function of the variables, e.g. lam*abs(x)")
    return pen, P


def _setup(expr, wrt, where, penalty) -> tuple[Problem, sp.Expr, sp.Expr]:
    """Read the problem and the penalty (parsing, substitution, simplify): runs in the limited child."""
    problem = make_problem(expr, wrt=wrt, where=where)
    lam = symbol("lam")
    if lam in problem.variables:
        raise ConvexproofError("lam is the weight of the penalty; it cannot be a variable")
    if lam in problem.expr.free_symbols:
        raise ConvexproofError("the function must not contain lam: lam is the weight of the penalty")
    if problem.parameters:
        raise ConvexproofError("regularize takes a function of the variables only; unknown names: "
                               + ", ".join(str(p) for p in problem.parameters))
    if not problem.variables:
        raise ConvexproofError("the function has no variables")
    pen, P = _penalty(problem, penalty, lam)
    return problem, pen, P


def regularize(expr, wrt=None, where=(), penalty=None, timeout: float = DEFAULT_TIMEOUT) -> RegularizeResult:
    """Smallest λ ≥ 0 with f + λ·P convex; ``lam_min`` is None when no finite λ works or it is unknown.

    Everything, reading the function and the penalty included (the penalty
    check calls ``simplify``), runs in one child process with capped memory
    that is killed ``DEFAULTS["grace"]`` s after ``timeout`` (the verdict is
    then "unknown").
    """
    timeout = float(timeout)
    if not (timeout > 0):
        raise ConvexproofError("the timeout must be a positive number of seconds")
    _preimport()
    try:
        return run_isolated(_child, (expr, wrt, where, penalty, timeout), timeout=timeout, grace=GRACE, reuse=True)
    except AnalysisTimeout as exc:
        return timed_out_regularize(getattr(exc, "partial", None), expr, wrt, penalty, str(exc))


def timed_out_regularize(partial, expr, wrt, penalty, message: str) -> RegularizeResult:
    """The "unknown" result of a run stopped at its hard limit (no SymPy work)."""
    if isinstance(partial, tuple) and len(partial) == 2 and isinstance(partial[0], Problem):
        problem, pen = partial
        r = RegularizeResult(problem.expr, pen, problem.variables, domain=problem.domain_conditions(), timed_out=True)
    else:  # stopped while reading the function or the penalty: show them as typed
        names = [wrt] if isinstance(wrt, (str, sp.Symbol)) else list(wrt or [])
        r = RegularizeResult(expr if isinstance(expr, (str, sp.Basic)) else str(expr),
                             penalty if penalty is not None else "lam*(sum of squares)",
                             tuple(str(v) for v in names), timed_out=True)
    r.steps = [CvxConclusion("unknown", f"{message}; no verdict")]
    return r


def _child(expr, wrt, where, penalty, timeout: float) -> RegularizeResult:
    with deadline(max(timeout * 0.9 - 0.05, 0.05)):
        problem, pen, P = _setup(expr, wrt, where, penalty)
        report_partial((problem, pen))  # if the child is killed, the parent still knows the problem
        try:
            return _analyse(problem, pen, P)
        except AnalysisTimeout as exc:
            r = RegularizeResult(problem.expr, pen, problem.variables, domain=problem.domain_conditions(),
                                 timed_out=True)
            r.steps = [CvxConclusion("unknown", f"{exc}; no verdict")]
            return r


def _analyse(problem: Problem, pen, P) -> RegularizeResult:
    lam = symbol("lam")
    f = problem.expr
    res = RegularizeResult(f, pen, problem.variables, domain=problem.domain_conditions())
    res.steps.append(CvxSetup(f + pen, list(problem.variables), [lam], problem.domain_conditions() + [lam >= 0],
                              [said("we look for the smallest λ ≥ 0 for which f plus the penalty ", pen,
                                    " is convex")]))
    pres = analyse(problem.with_expr(P))
    if pres.convex is not True:
        res.verdict = "unknown"
        res.steps.append(CvxConclusion("unknown", said("the penalty ", P, " is not shown to be convex, so convexity "
                                                       "for one λ need not persist for larger λ")))
        return res
    res.steps.append(CvxSign(P, "", said("the penalty direction ", P, f" is {pres.verdict}, so if f + λ·P is convex "
                                         "for some λ it stays convex for every larger λ")))
    fres = analyse(problem)
    res.proof = fres
    if fres.convex is True:
        res.lam_min, res.found, res.verdict = sp.Integer(0), True, "lam_min = 0"
        res.steps.append(CvxSign(f, "", f"f itself is {fres.verdict} (proof below), so λ = 0 already works",
                                 children=fres.steps[1:]))
        res.steps.append(CvxConclusion(res.verdict, "the smallest λ is 0: f needs no regularisation"))
        return res
    if fres.convex is False:
        res.steps.append(CvxSign(f, "", "f alone is not convex (verified witness below), so λ must be positive",
                                 children=[s for s in fres.steps if s.kind == "witness"]))
    g = f + lam * P
    box = dict(problem.box)
    box[lam] = sp.Interval(0, sp.oo)
    prob2 = Problem(expr=g, variables=problem.variables, parameters=(lam,), box=box, where=problem.where,
                    extra=problem.extra)
    out = parametric_outcome(prob2)
    res.steps.extend(out.steps)
    L0 = sp.Interval(0, sp.oo)
    if out.convex is True:
        S = L0
    elif out.condition is not None:
        try:
            S = cond_to_set(out.condition, lam).intersect(L0)
        except Exception:  # noqa: BLE001
            S = None
    elif out.convex is False:
        S = sp.EmptySet
    else:
        S = None
    if S is None:
        res.verdict = "unknown"
        res.steps.append(CvxConclusion("unknown", "the engine could not determine the set of λ that work"))
        return res
    if not (problem.exact_box and not problem.nonconvex):
        # the λ-set was derived on a box that contains the domain: it is sufficient, not shown to be minimal
        res.verdict = "unknown"
        why = domain_check(problem)
        res.steps.append(CvxConclusion("unknown", why if why is not None else (
            said("the domain is not a box: every λ in ", S, " works (shown on a larger box), but a smaller λ may work "
                 "on the domain itself"))))
        return res
    if S.is_empty:
        res.found, res.lam_min = True, None
        res.verdict = "no finite lam"
        res.steps.append(CvxConclusion(res.verdict, "no finite λ ≥ 0 makes f + λ·P convex"))
        return res
    lo = S.inf
    res.found, res.lam_min = True, lo
    res.attained = S.contains(lo) is sp.true
    res.verdict = f"lam_min = {sp.sstr(lo)}"
    lam_ = sp.Symbol("lam")
    res.steps.append(CvxConclusion(res.verdict, said("the smallest λ is ", lo, *(() if res.attained else (
        " (as an infimum: every ", sp.StrictGreaterThan(lam_, lo, evaluate=False), " works, ",
        sp.Eq(lam_, lo, evaluate=False), " itself does not)")))))
    return res
