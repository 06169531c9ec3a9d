"""How a worked solution reads: answer first, labelled parts, derivative steps, figures in place.

* :func:`lead`: the one-line answer a solution or a part opens with (a ``Sentence`` with role "answer").
* :func:`part`: a section for one part (a), (b), ... of the statement, opening with its :func:`lead`.
  ``tests/test_solutions.py`` checks that every part of every statement has one.
* :class:`DiffLine` (kind ``diff_line``) and :func:`derivative_steps`: f′ and f″ shown at a textbook's
  level from the rule tree of :mod:`convexproof.engine.diffsteps` (the rules applied, the
  expression they give, then its form under :func:`convexproof.solvers.forms.teacher_form`).
* :class:`FigureStep` (kind ``figure_step``): a figure placed where the text discusses it; in LaTeX it
  is kept on one page with its caption.  :func:`chord_figure` draws f with a witness chord.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from convexproof.steps import Section, Step, is_answer
from convexproof.solvers.toolkit import Sentence, fn_at, segments
from convexproof.solvers.forms import sigma, teacher_form


def lead(*pieces) -> Sentence:
    """The one-line answer; a leading lower-case word is capitalised."""
    segs = segments(*pieces)
    if segs and segs[0][0] == "text" and "a" <= segs[0][1][:1] <= "z":
        segs[0] = ("text", segs[0][1][:1].upper() + segs[0][1][1:])
    return Sentence(segs, role="answer")


def part(label: str, title: str, answer: list | tuple, children: list) -> Section:
    """Section "(label) title" opening with the one-line answer ``answer`` (pieces as for ``P``)."""
    head = f"({label}) {title}" if label else title
    return Section(title=head, children=[lead(*answer), *children])


class DiffLine(Step, kind="diff_line"):
    """A derivative by named rules: lhs = the rules' expression = its simplest form."""

    lhs: Any
    shown: Any  # the expression as the rules give it (None: same as result)
    result: Any
    rules: str = ""  # prose: "the sum and chain rules"


class FigureStep(Step, kind="figure_step"):
    """A figure, placed where the text discusses it (pgfplots in LaTeX, a note in Markdown)."""

    figure: Any = None

    def fields(self) -> dict[str, Any]:
        return {"figure": self.figure, "fig": _LazyContext(self.figure)}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.figure.title}


class _LazyContext:
    """The sampled pgfplots context of a figure, computed only when a template reads it (LaTeX)."""

    def __init__(self, fig):
        self._fig, self._ctx = fig, None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._ctx is None:
            from convexproof.render.documents import figure_context

            self._ctx = figure_context(self._fig)
        return self._ctx[name]


# ------------------------------------------------------------ derivative steps
_RULE_NAMES = {
    "AddRule": "sum rule", "ConstantTimesRule": "constant-multiple rule", "ChainRule": "chain rule",
    "ProductRule": "product rule", "QuotientRule": "quotient rule", "LogRule": "log rule",
    "ExpRule": "exponential rule", "SigmoidRule": "logistic rule σ′ = σ(1 − σ)", "TrigRule": "derivatives of sin and cos",
    "PowerRule": "power rule", "RewriteRule": "a rewrite",
}
_ORDER = list(_RULE_NAMES)


def _sig_display(e, x):
    """1/(1 + e^(−z)) written as σ(z)."""
    return e.replace(lambda a: isinstance(a, sp.Pow) and a.exp == -1 and isinstance(a.base, sp.Add)
                     and len(a.base.args) == 2 and 1 in a.base.args
                     and any(isinstance(t, sp.exp) and t.args[0].could_extract_minus_sign() for t in a.base.args),
                     lambda a: sigma(-next(t for t in a.base.args if isinstance(t, sp.exp)).args[0]))


def _shown(r, depth: int = 0):
    from convexproof.engine import diffsteps as D

    if depth > 2:
        return r.result
    if isinstance(r, D.AddRule):
        terms = [_shown(t, depth + 1) for t in r.terms if not isinstance(t, D.ConstantRule)]
        return sp.Add(*terms, evaluate=False) if len(terms) > 1 else (terms[0] if terms else sp.Integer(0))
    if isinstance(r, D.ConstantTimesRule):
        inner = _shown(r.substep, depth + 1)
        if not isinstance(inner, sp.Add) and not (isinstance(inner, sp.Mul) and any(
                isinstance(a, sp.Add) for a in inner.args)):
            return r.constant * inner
        if r.constant == -1:
            return sp.Mul(-1, inner, evaluate=False)
        return sp.Mul(r.constant, inner, evaluate=False)
    if isinstance(r, D.ChainRule):
        inner = r.inner_step.result
        u = r.outer_step.var
        outer = r.outer_step.result.subs(u, _sig_display(r.inner, r.var))
        if inner == 1:
            return outer
        if inner == -1:
            return -outer
        return sp.Mul(outer, inner, evaluate=False)
    if isinstance(r, D.ProductRule):
        terms = []
        for i, s in enumerate(r.steps):
            if s.result == 0:
                continue
            terms.append(sp.Mul(s.result, *[f for j, f in enumerate(r.factors) if j != i]))
        return sp.Add(*terms, evaluate=False) if len(terms) > 1 else (terms[0] if terms else sp.Integer(0))
    if isinstance(r, D.QuotientRule):
        u, v = r.numer, r.denom
        num = sp.Add(sp.Mul(r.numer_step.result, v, evaluate=False),
                     sp.Mul(-1, u, r.denom_step.result, evaluate=False), evaluate=False)
        return sp.Mul(num, sp.Pow(sp.Pow(v, 2, evaluate=False), -1, evaluate=False), evaluate=False)
    return r.result


def _rules(r, depth: int = 0) -> set[str]:
    from convexproof.engine import diffsteps as D

    out = {type(r).__name__}
    if depth < 3:
        for s in r.substeps:
            if s is not None and not isinstance(s, D.ConstantRule):
                out |= _rules(s, depth + 1)
    return out


def _rules_text(names: set[str]) -> str:
    keep = [n for n in _ORDER if n in names and n not in ("PowerRule", "RewriteRule")]
    if not keep:
        keep = [n for n in _ORDER if n in names][:1]
    words = [_RULE_NAMES[n] for n in keep]
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _plain(e, x):
    return e.subs(sigma(x), 1 / (1 + sp.exp(-x)))


def derivative_steps(name: str, f, x, order: int = 2, forms: list | None = None) -> tuple[list[Step], list]:
    """DiffLine steps for name′, name″ (up to ``order``) and the derivatives in their teacher forms.

    Every node of the rule tree agrees with ``sympy.diff`` (tested in ``tests/test_derivation.py``);
    here the displayed result is also checked against ``sympy.diff`` before it is printed.
    """
    from convexproof.engine.diffsteps import diff_steps

    steps: list[Step] = []
    results = []
    cur = f
    for k in range(1, order + 1):
        tree = diff_steps(_plain(cur, x), x)
        exact = sp.diff(f, x, k)
        res = teacher_form(tree.result, x) if forms is None or len(forms) < k or forms[k - 1] is None else forms[k - 1]
        if sp.simplify(_plain(res, x) - exact) != 0 and sp.N((_plain(res, x) - exact).subs(x, sp.Rational(7, 5)), 30) != 0:
            raise ValueError(f"derivative display disagrees with sympy.diff for {name}")
        shown = _sig_display(_shown(tree), x)
        from convexproof.engine.diffsteps import QuotientRule, walk as _walk

        quotient = any(isinstance(n, QuotientRule) for n in _walk(tree))  # x^(-1/2) read as a quotient: no
        same = quotient or sp.srepr(shown) == sp.srepr(res) or shown == res or \
            len(str(shown)) > 1.6 * len(str(res)) + 12  # a rule expression longer than useful is left out
        steps.append(DiffLine(lhs=fn_at(name + "'" * k, x), shown=None if same else shown, result=res,
                              rules=_rules_text(_rules(tree))))
        results.append(res)
        cur = res
    return steps, results


# ------------------------------------------------------------ figures
def chord_figure(title: str, f, x, a, b, lo=None, hi=None, name: str = "f", xlabel: str | None = None):
    """f on [lo, hi] with the chord from (a, f(a)) to (b, f(b)) and the midpoint of the graph marked."""
    from convexproof.solvers import Figure

    a, b = sp.nsimplify(a), sp.nsimplify(b)
    w = float(b - a)
    lo = float(a) - w / 2 if lo is None else float(lo)
    hi = float(b) + w / 2 if hi is None else float(hi)
    fa, fb = (float(sp.N(f.subs(x, v), 20)) for v in (a, b))
    m = (a + b) / 2
    fm = float(sp.N(f.subs(x, m), 20))
    curves = [{"label": sp.Eq(fn_at(name, x), f, evaluate=False) if len(sp.latex(f)) < 40 else name, "expr": f, "var": x,
               "breaks": [a, b, m]},
              {"label": "chord", "points": [(float(a), fa), (float(b), fb)], "style": "thick, red, mark=*"},
              {"label": "midpoint of the graph", "points": [(float(m), fm)],
               "style": "only marks, mark=square*, black"}]
    return Figure(title=title, curves=curves, xmin=lo, xmax=hi, xlabel=str(x) if xlabel is None else xlabel)


def figure(fig) -> FigureStep:
    return FigureStep(figure=fig)


def sentence(*pieces) -> Sentence:
    from convexproof.solvers.toolkit import P

    return P(*pieces)


def summary_lead(sections) -> Sentence:
    """One line for the whole solution: "(a) … ; (b) … ." from the leads of its labelled parts."""
    pieces: list = []
    for st in sections:
        if not st.children or not is_answer(st.children[0]):
            continue
        segs = list(st.children[0].segments)
        if segs and segs[-1][0] == "text" and segs[-1][1].endswith("."):
            segs[-1] = ("text", segs[-1][1][:-1])
        label = st.title.split(")")[0] + ") " if st.title.startswith("(") else ""
        if label and segs and segs[0][0] == "text" and "A" <= segs[0][1][:1] <= "Z" and segs[0][1][1:2].islower():
            segs[0] = ("text", segs[0][1][:1].lower() + segs[0][1][1:])
        pieces += (["; "] if pieces else []) + ([label] if label else []) + [
            v if k != "eq" else E_(v) for k, v in segs]
    return lead(*pieces, ".")


def E_(v):
    from convexproof.solvers.toolkit import E

    return E(*v)
