"""Boundary soundness fuzz (issue #16): the structures a random chord never sees.

Seeded random one-variable functions with point values, closed and open ends,
partial Piecewise, sign(), removable-looking holes, unions of intervals and
domains written in other forms.  Every verdict is judged by an oracle that
does not use the engine: exact rational Jensen checks at the domain's ends,
the breakpoints, points next to them and random points.

* "convex": no violated chord may exist among those points, and f must be
  defined at every one of them;
* "not convex": the witness chord is re-checked exactly here.

The CI run is a fixed-seed smoke slice; ``CONVEXPROOF_SOAK=1`` runs the long
soak (``pytest -m slow tests/test_fuzz_boundary.py``).
"""

from __future__ import annotations

import itertools
import os
import random

import pytest
import sympy as sp

from convexproof.engine import prove
from convexproof.runtime.errors import ConvexproofError
from convexproof.parse import parse_condition, parse_expr

X = parse_expr("x")
SMOKE = 24
SOAK = 600


def _poly(rng: random.Random) -> str:
    a, b, c = rng.randint(-2, 3), rng.randint(-3, 3), rng.randint(-3, 3)
    return f"({a})*x**2 + ({b})*x + ({c})"


def _cut(rng: random.Random, at: int) -> str:
    op = rng.choice(["<", "<=", "<=", ">", ">="])
    form = rng.randint(0, 2)
    if form == 0:
        return f"x {op} {at}"
    if form == 1:
        return f"2*x {op} {2 * at}"
    return f"-x {dict(zip('<>', '><')).get(op[0]) + op[1:]} {-at}"


def _domain(rng: random.Random) -> list[str]:
    kind = rng.randint(0, 7)
    a = rng.randint(-2, 1)
    b = a + rng.randint(1, 3)
    if kind == 0:
        return []
    if kind == 1:
        return [f"x >= {a}"]
    if kind == 2:
        return [f"x <= {b}"]
    if kind == 3:
        return [f"{a} <= x", f"x < {b}"]
    if kind == 4:
        return [f"2*x >= {2 * a}", f"-x >= {-b}"]
    if kind == 5:
        return [f"x != {rng.randint(-2, 2)}"]
    if kind == 6:
        return [f"x**2 <= {b * b}"]
    return [f"x**2 > {rng.randint(1, 4)}"]


def make_case(seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    kind = rng.randint(0, 5)
    at = rng.randint(-1, 1)
    if kind == 0:  # two pieces with a cut at an integer
        f = f"Piecewise(({_poly(rng)}, {_cut(rng, at)}), ({_poly(rng)}, True))"
    elif kind == 1:  # a point value of its own
        f = f"Piecewise(({rng.randint(-2, 3)}, {_cut(rng, at)} and {_cut(rng, at).replace('<', '>').replace('>>', '>')}), ({_poly(rng)}, True))"
    elif kind == 2:  # sign() terms
        f = f"{_poly(rng)} + ({rng.randint(-2, 2)})*sign(x - ({at}))**{rng.randint(1, 2)}"
    elif kind == 3:  # a Piecewise that may not cover the line
        f = f"Piecewise(({_poly(rng)}, {_cut(rng, at)}), ({_poly(rng)}, {_cut(rng, at + rng.randint(0, 2))}))"
    elif kind == 4:  # abs and max kinks
        f = f"({rng.randint(-1, 2)})*abs(x - ({at})) + ({rng.randint(-1, 2)})*max(x, {at + 1}) + x**2/{rng.randint(1, 4)}"
    else:  # smooth
        f = _poly(rng) + rng.choice(["", " + x**4/4", " - x**3/3", " + exp(x)"])
    return f, _domain(rng)


def _in_domain(where, v) -> bool:
    for w in where:
        c = parse_condition(w).subs(X, v)
        if c is not sp.true:
            return False
    return True


def _value(f, v):
    r = f.subs(X, v)
    if r.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not r.is_number or r.has(sp.Piecewise):
        return None
    return r


def _points(f, where) -> list:
    cands = {sp.Integer(k) for k in range(-4, 5)}
    for rel in [parse_condition(w) for w in where] + list(f.atoms(sp.core.relational.Relational)):
        for r in getattr(rel, "atoms", lambda *_: [])(sp.core.relational.Relational) or [rel]:
            g = sp.expand(r.lhs - r.rhs)
            try:
                roots = sp.Poly(g, X).real_roots() if g.has(X) else []
            except sp.PolynomialError:
                roots = []
            cands.update(roots)
    for a in f.atoms(sp.sign, sp.Abs, sp.Max):
        for arg in a.args:
            try:
                cands.update(sp.Poly(arg, X).real_roots() if arg.has(X) else [])
            except sp.PolynomialError:
                pass
    near = set()
    for c in cands:
        if c.is_Rational:
            for d in (sp.Rational(1, 1000), sp.Rational(1, 10), sp.Rational(1, 2)):
                near.update({c + d, c - d})
    return sorted(c for c in cands | near if c.is_Rational)


def oracle_violation(f, where):
    """A violated Jensen chord (a, b, t) among the special points, or 'undefined' / None."""
    pts = [p for p in _points(f, where) if _in_domain(where, p)]
    vals = {}
    for p in pts:
        v = _value(f, p)
        if v is None:
            return "undefined"
        vals[p] = v
    for a, b in itertools.combinations(pts, 2):
        for t in (sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 1000)):
            m = t * a + (1 - t) * b
            if not _in_domain(where, m):
                continue  # the domain is not convex: a "convex" verdict is refused elsewhere
            fm = _value(f, m)
            if fm is None:
                return "undefined"
            if fm > t * vals[a] + (1 - t) * vals[b]:
                return (a, b, t)
    return None


def _judge(seed: int) -> str | None:
    text, where = make_case(seed)
    f = parse_expr(text)
    try:
        r = prove(text, wrt=["x"], where=where, timeout=20)
    except ConvexproofError:
        return None  # refused with a message (e.g. a domain that is a single point): not a verdict
    if r.convex is True:
        bad = oracle_violation(f, where)
        if bad is not None:
            return f"seed {seed}: {text} on {where}: verdict {r.verdict} but {bad}"
        # a convex verdict on a domain that is not an interval is unsound too
        pts = [p for p in _points(f, where)]
        inside = [p for p in pts if _in_domain(where, p)]
        for a, b in itertools.combinations(inside, 2):
            if not _in_domain(where, (a + b) / 2):
                return f"seed {seed}: {text} on {where}: verdict {r.verdict} on a domain that is not convex"
    elif r.convex is False:
        ch = (r.witness or {}).get("chord")
        if ch is not None:
            a, b, t = ch["a"][X], ch["b"][X], ch["t"]
            if not (_in_domain(where, a) and _in_domain(where, b)):
                return f"seed {seed}: witness outside the domain"
            fa, fb, fm = _value(f, a), _value(f, b), _value(f, t * a + (1 - t) * b)
            if None in (fa, fb, fm) or not sp.N(fm - t * fa - (1 - t) * fb, 50) > 0:
                return f"seed {seed}: {text} on {where}: witness chord does not hold"
    return None


def _run(seeds) -> tuple[list[str], dict]:
    bad, counts = [], {}
    for s in seeds:
        text, where = make_case(s)
        msg = _judge(s)
        if msg:
            bad.append(msg)
    return bad, counts


@pytest.mark.parametrize("chunk", range(4))
def test_boundary_fuzz_smoke(chunk):
    per = SMOKE // 4
    bad, _ = _run(range(chunk * per, (chunk + 1) * per))
    assert not bad, "\n".join(bad)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CONVEXPROOF_SOAK") != "1", reason="long soak: set CONVEXPROOF_SOAK=1")
def test_boundary_fuzz_soak():
    bad, _ = _run(range(10_000, 10_000 + SOAK))
    assert not bad, "\n".join(bad)
