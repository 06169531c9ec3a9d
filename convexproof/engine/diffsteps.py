"""The derivative as a tree of rules (after SymPy Gamma's ``diffsteps``).

:func:`diff_steps` builds, for ``d/dx expr``, one small rule object per rule
applied: constant, power, constant multiple, sum, product, quotient, chain,
exp, log, sigmoid, trig, rewrite (and a fallback).  Each holds SymPy objects
only: the expression differentiated, the variable, its sub-steps and the
``result``; ``eval()`` re-evaluates the rule from its sub-steps and agrees
with ``sympy.diff`` (tested on many expressions).

:func:`find_slip` compares a student's derivative with the tree and returns a
:class:`Slip`: the path of rule nodes down to the one whose result the
student got wrong, what they got there, and the kind of slip (a lost
constant factor, a sign, a chain rule without the inner derivative, a
product or quotient rule misapplied, a dropped term).  No prose here: the
checking layer turns a ``Slip`` into a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

_U = sp.Dummy("u", real=True)  # the outer variable of a chain rule


@dataclass(frozen=True)
class Rule:
    """A rule applied to ``d/d(var) expr``; ``result`` is what it gives."""

    expr: sp.Expr
    var: sp.Symbol
    result: sp.Expr

    @property
    def substeps(self) -> tuple["Rule", ...]:
        return ()

    def eval(self) -> sp.Expr:
        return self.result


@dataclass(frozen=True)
class ConstantRule(Rule):
    """d/dx c = 0 for an expression c that does not depend on x."""

    def eval(self) -> sp.Expr:
        return sp.Integer(0)


@dataclass(frozen=True)
class PowerRule(Rule):
    """d/dx xⁿ = n·xⁿ⁻¹ (n a constant)."""

    exponent: sp.Expr = sp.Integer(1)

    def eval(self) -> sp.Expr:
        return self.exponent * self.var ** (self.exponent - 1)


@dataclass(frozen=True)
class ConstantTimesRule(Rule):
    """d/dx c·g = c·g′ for a constant c."""

    constant: sp.Expr = sp.Integer(1)
    other: sp.Expr = sp.Integer(1)
    substep: Rule | None = None

    @property
    def substeps(self):
        return (self.substep,)

    def eval(self) -> sp.Expr:
        return self.constant * self.substep.eval()


@dataclass(frozen=True)
class AddRule(Rule):
    """d/dx (g₁ + … + gₖ) = g₁′ + … + gₖ′."""

    terms: tuple = ()

    @property
    def substeps(self):
        return self.terms

    def eval(self) -> sp.Expr:
        return sp.Add(*[t.eval() for t in self.terms])


@dataclass(frozen=True)
class ProductRule(Rule):
    """d/dx (u·v) = u′·v + u·v′ (for k factors, one term per factor)."""

    factors: tuple = ()
    steps: tuple = ()

    @property
    def substeps(self):
        return self.steps

    def eval(self) -> sp.Expr:
        out = []
        for i, s in enumerate(self.steps):
            out.append(sp.Mul(*[s.eval() if j == i else f for j, f in enumerate(self.factors)]))
        return sp.Add(*out)


@dataclass(frozen=True)
class QuotientRule(Rule):
    """d/dx (u/v) = (u′·v − u·v′)/v²."""

    numer: sp.Expr = sp.Integer(0)
    denom: sp.Expr = sp.Integer(1)
    numer_step: Rule | None = None
    denom_step: Rule | None = None

    @property
    def substeps(self):
        return (self.numer_step, self.denom_step)

    def eval(self) -> sp.Expr:
        u, v = self.numer, self.denom
        return (self.numer_step.eval() * v - u * self.denom_step.eval()) / v**2


@dataclass(frozen=True)
class ChainRule(Rule):
    """d/dx f(g(x)) = f′(g(x))·g′(x)."""

    inner: sp.Expr = sp.Integer(0)
    outer_step: Rule | None = None  # the rule for f at the dummy variable u
    inner_step: Rule | None = None

    @property
    def substeps(self):
        return (self.outer_step, self.inner_step)

    @property
    def outer_derivative(self) -> sp.Expr:
        """f′(g(x)): the chain rule without the inner derivative."""
        return self.outer_step.eval().subs(self.outer_step.var, self.inner)

    def eval(self) -> sp.Expr:
        return self.outer_derivative * self.inner_step.eval()


@dataclass(frozen=True)
class ExpRule(Rule):
    """d/dx eˣ = eˣ."""

    def eval(self) -> sp.Expr:
        return sp.exp(self.var)


@dataclass(frozen=True)
class LogRule(Rule):
    """d/dx log x = 1/x."""

    def eval(self) -> sp.Expr:
        return 1 / self.var


@dataclass(frozen=True)
class SigmoidRule(Rule):
    """d/dx σ(x) = σ(x)·(1 − σ(x)), with σ(x) = 1/(1 + e⁻ˣ)."""

    def eval(self) -> sp.Expr:
        s = 1 / (1 + sp.exp(-self.var))
        return s * (1 - s)


_TRIG = {
    sp.sin: lambda x: sp.cos(x), sp.cos: lambda x: -sp.sin(x), sp.tan: lambda x: 1 + sp.tan(x) ** 2,
    sp.sinh: lambda x: sp.cosh(x), sp.cosh: lambda x: sp.sinh(x), sp.tanh: lambda x: 1 - sp.tanh(x) ** 2,
    sp.asin: lambda x: 1 / sp.sqrt(1 - x**2), sp.acos: lambda x: -1 / sp.sqrt(1 - x**2),
    sp.atan: lambda x: 1 / (1 + x**2),
}


@dataclass(frozen=True)
class TrigRule(Rule):
    """d/dx sin x = cos x, d/dx cos x = −sin x, d/dx tan x = 1 + tan²x (and the hyperbolic and inverse ones)."""

    func: object = None

    def eval(self) -> sp.Expr:
        return _TRIG[self.func](self.var)


@dataclass(frozen=True)
class RewriteRule(Rule):
    """d/dx g = d/dx h when g and h are the same function written differently (e.g. bᵍ = e^(g·log b))."""

    rewritten: sp.Expr = sp.Integer(0)
    substep: Rule | None = None

    @property
    def substeps(self):
        return (self.substep,)

    def eval(self) -> sp.Expr:
        return self.substep.eval().subs(self.rewritten, self.expr)


@dataclass(frozen=True)
class SympyRule(Rule):
    """d/dx g as SymPy computes it (|x|, max, piecewise ...: no rule of ours applies)."""

    def eval(self) -> sp.Expr:
        return sp.diff(self.expr, self.var)


# --------------------------------------------------------------------------
# Building the tree
# --------------------------------------------------------------------------
def diff_steps(expr: sp.Expr, x: sp.Symbol) -> Rule:
    """The rule tree of d/dx expr (its ``result`` equals ``sympy.diff(expr, x)``)."""
    step = _steps(sp.sympify(expr), x, 0)
    return step


def _sigmoid_arg(e: sp.Expr):
    """z when e is 1/(1 + exp(-z)), else None."""
    if isinstance(e, sp.Pow) and e.exp == -1 and isinstance(e.base, sp.Add):
        terms = e.base.args
        if len(terms) == 2 and sp.Integer(1) in terms:
            other = terms[0] if terms[1] == 1 else terms[1]
            if isinstance(other, sp.exp):
                return -other.args[0]
    return None


def _chain(e: sp.Expr, x: sp.Symbol, inner: sp.Expr, outer: sp.Expr, depth: int) -> Rule:
    """f(g(x)) with f = outer (a function of the dummy u) and g = inner."""
    outer_step = _steps(outer, _U, depth + 1)
    inner_step = _steps(inner, x, depth + 1)
    r = ChainRule(e, x, outer_step.result.subs(_U, inner) * inner_step.result, inner=inner,
                  outer_step=outer_step, inner_step=inner_step)
    return r


def _steps(e: sp.Expr, x: sp.Symbol, depth: int) -> Rule:
    if depth > 60:
        return SympyRule(e, x, sp.diff(e, x))
    if not e.has(x):
        return ConstantRule(e, x, sp.Integer(0))
    if e == x:
        return PowerRule(e, x, sp.Integer(1), exponent=sp.Integer(1))
    if isinstance(e, sp.Add):
        terms = tuple(_steps(t, x, depth + 1) for t in e.args)
        return AddRule(e, x, sp.Add(*[t.result for t in terms]), terms=terms)
    z = _sigmoid_arg(e)
    if z is not None:
        if z == x:
            s = 1 / (1 + sp.exp(-x))
            return SigmoidRule(e, x, s * (1 - s))
        return _chain(e, x, z, 1 / (1 + sp.exp(-_U)), depth)
    if isinstance(e, sp.Mul):
        const, rest = e.as_independent(x, as_Add=False)
        if const != 1:
            sub = _steps(rest, x, depth + 1)
            return ConstantTimesRule(e, x, const * sub.result, constant=const, other=rest, substep=sub)
        numer, denom = [], []
        for f in e.args:
            if isinstance(f, sp.Pow) and f.exp.is_number and f.exp.is_negative and f.base.has(x) \
                    and _sigmoid_arg(f) is None:
                denom.append(f.base ** -f.exp)
            else:
                numer.append(f)
        if numer and denom:
            u, v = sp.Mul(*numer), sp.Mul(*denom)
            su, sv = _steps(u, x, depth + 1), _steps(v, x, depth + 1)
            return QuotientRule(e, x, (su.result * v - u * sv.result) / v**2, numer=u, denom=v,
                                numer_step=su, denom_step=sv)
        factors = tuple(e.args)
        steps = tuple(_steps(f, x, depth + 1) for f in factors)
        result = sp.Add(*[sp.Mul(*[s.result if j == i else f for j, f in enumerate(factors)])
                          for i, s in enumerate(steps)])
        return ProductRule(e, x, result, factors=factors, steps=steps)
    if isinstance(e, sp.Pow):
        base, ex = e.base, e.exp
        if not ex.has(x):
            if base == x:
                return PowerRule(e, x, ex * x ** (ex - 1), exponent=ex)
            return _chain(e, x, base, _U**ex, depth)
        rewritten = sp.exp(ex * sp.log(base))
        sub = _steps(rewritten, x, depth + 1)
        return RewriteRule(e, x, sub.result.subs(rewritten, e), rewritten=rewritten, substep=sub)
    if isinstance(e, sp.exp):
        arg = e.args[0]
        if arg == x:
            return ExpRule(e, x, sp.exp(x))
        return _chain(e, x, arg, sp.exp(_U), depth)
    if isinstance(e, sp.log) and len(e.args) == 1:
        arg = e.args[0]
        if arg == x:
            return LogRule(e, x, 1 / x)
        return _chain(e, x, arg, sp.log(_U), depth)
    if type(e) in _TRIG:
        arg = e.args[0]
        if arg == x:
            return TrigRule(e, x, _TRIG[type(e)](x), func=type(e))
        return _chain(e, x, arg, type(e)(_U), depth)
    return SympyRule(e, x, sp.diff(e, x))


def walk(step: Rule):
    """Every node of the tree, parents first."""
    stack = [step]
    while stack:
        s = stack.pop()
        yield s
        stack.extend(reversed([c for c in s.substeps if c is not None]))


# --------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------
@dataclass
class Slip:
    """Where a student's derivative departs from the rule tree.

    ``path`` holds (rule node, what the student got for that node) from the
    root down to the node whose rule was misapplied.  ``kind`` is one of
    ``factor`` (the student's result is ``factor`` times the right one),
    ``sign``, ``chain-inner`` (``f′(g)`` without ``g′``), ``product-rule``
    (``u′·v′``), ``product-term`` (one term of the product rule missing),
    ``quotient-sign``, ``dropped-term`` (a term differentiated to 0 that is
    not constant), ``constant-kept`` (a constant term kept instead of 0),
    ``not-differentiated`` (the term itself) or ``other``.
    """

    kind: str
    path: list = field(default_factory=list)  # [(Rule, got)]
    factor: sp.Expr | None = None
    missing: sp.Expr | None = None  # the inner derivative of a chain rule

    @property
    def node(self) -> Rule:
        return self.path[-1][0]

    @property
    def got(self) -> sp.Expr:
        return self.path[-1][1]

    @property
    def term(self) -> tuple[Rule, sp.Expr]:
        """The top-level term the slip is in (the sum's summand, or the whole)."""
        if len(self.path) > 1 and isinstance(self.path[0][0], AddRule):
            return self.path[1]
        return self.path[0]


def _zero(e: sp.Expr) -> bool:
    if e == 0:
        return True
    try:
        c = sp.cancel(sp.together(e))
        if c == 0:
            return True
        if not c.has(sp.Function) or sp.count_ops(c) > 30:
            return False  # a rational function (of the atoms) that does not cancel to 0 is not 0 here
        return sp.simplify(c) == 0
    except Exception:  # noqa: BLE001 - undecided is "not zero" here; the caller checks soundness
        return False


def _ratio(got: sp.Expr, want: sp.Expr):
    """got/want when it is a nonzero number, else None."""
    if want == 0 or got == 0:
        return None
    try:
        r = sp.cancel(sp.together(got / want))
    except Exception:  # noqa: BLE001
        return None
    if r.is_number and r.is_real and r != 0:
        r = sp.nsimplify(r) if r.is_Float else r
        return r
    return None


def find_slip(step: Rule, got: sp.Expr, _depth: int = 0) -> Slip | None:
    """The slip that turns ``step.result`` into ``got``, or None if they are equal."""
    want = step.result
    if _zero(got - want):
        return None
    here = [(step, got)]
    if _depth < 30:
        inner = _localise(step, got, _depth)
        if inner is not None:
            inner.path = here + inner.path
            return inner
    return _classify(step, got, here)


def _classify(step: Rule, got: sp.Expr, here: list) -> Slip:
    want = step.result
    if isinstance(step, ChainRule) and _zero(got - step.outer_derivative):
        return Slip("chain-inner", here, missing=step.inner_step.result)
    if isinstance(step, ProductRule) and len(step.steps) == 2:
        (a, b), (sa, sb) = step.factors, step.steps
        if _zero(got - sa.result * sb.result):
            return Slip("product-rule", here)
        if _zero(got - sa.result * b) or _zero(got - a * sb.result):
            return Slip("product-term", here)
    if isinstance(step, QuotientRule):
        u, v = step.numer, step.denom
        if _zero(got - (u * step.denom_step.result - step.numer_step.result * v) / v**2):
            return Slip("quotient-sign", here)
    if isinstance(step, ConstantRule) and _zero(got - step.expr):
        return Slip("constant-kept", here)
    if got == 0 or _zero(got):
        return Slip("dropped-term", here)
    if sp.expand(got - step.expr) == 0:
        return Slip("not-differentiated", here)
    r = _ratio(got, want)
    if r is not None:
        return Slip("sign" if r == -1 else "factor", here, factor=r)
    return Slip("other", here)


def _localise(step: Rule, got: sp.Expr, depth: int) -> Slip | None:
    """Push the difference down into one sub-step whose slip we can name."""
    if isinstance(step, ConstantTimesRule):
        return find_slip(step.substep, sp.cancel(got / step.constant), depth + 1)
    if isinstance(step, AddRule):
        delta = got - step.result
        named = []
        for t in step.terms:
            s = find_slip(t, t.result + delta, depth + 1)
            if s is not None and s.kind != "other":
                named.append(s)
        if named:
            # prefer a slip in the term itself over one deep inside it; a factor over 'dropped'
            order = {"chain-inner": 0, "sign": 1, "factor": 2, "product-rule": 3, "product-term": 3,
                     "quotient-sign": 3, "not-differentiated": 4, "dropped-term": 5, "constant-kept": 6}
            named.sort(key=lambda s: order.get(s.kind, 9))
            return named[0]
        return None
    if isinstance(step, ChainRule):
        if _zero(got - step.outer_derivative):
            return None  # classified at this node
        od = step.outer_derivative
        if od != 0:
            s = find_slip(step.inner_step, sp.cancel(got / od), depth + 1)
            if s is not None and s.kind != "other":
                return s
        return None
    if isinstance(step, RewriteRule):
        return None
    return None
