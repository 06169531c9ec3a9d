"""Wrong-answer fuzz (issue #16): adversarial wrong answers are never marked correct.

Each answer is a correct answer of a shipped exercise with a perturbation
that hides from sampling: it vanishes on a grid, lives outside the sampled
window, hides behind an overflow, is far below double precision, or holds only
on a discrete set.  Every one is wrong, so ``check`` may call it incorrect,
undecided or invalid, never correct.

The CI run is a fixed-seed smoke slice; ``CONVEXPROOF_SOAK=1`` runs the long
soak (``pytest -m slow tests/test_fuzz_wrong_answers.py``).
"""

from __future__ import annotations

import os
import random
from functools import lru_cache

import pytest
import sympy as sp

from convexproof.grading.checking import _context, check
from convexproof.library import exercise_files

SMOKE = 200
SOAK = 2000


def _text(c) -> str:
    if isinstance(c, sp.And):
        return " and ".join(_text(a) for a in c.args)
    return sp.sstr(c)


@lru_cache(maxsize=1)
def targets() -> list[tuple[str, str, str, str, str | None]]:
    """(exercise, part, type, correct answer as text, a variable of it) for every scalar part."""
    out = []
    for ex in sorted(exercise_files(), key=lambda s: (len(s), s)):
        ctx = _context(ex, None, None)
        parts = ctx.ex.parts.values() if isinstance(ctx.ex.parts, dict) else ctx.ex.parts
        for p in parts:
            if p.type not in ("expression", "number", "condition"):
                continue
            c = ctx.solution.answers.get(p.name)
            if not isinstance(c, sp.Basic) or isinstance(c, sp.Set):
                continue
            syms = sorted(c.free_symbols, key=lambda s: s.name) if p.type != "number" else []
            out.append((ex, p.name, p.type, _text(c), syms[0].name if syms else None))
    return out


def _expression(rng, t, v):
    k, q = rng.randint(20, 60), rng.choice([997, 1000, 1009, 4000, 10**6])
    r = rng.randint(4, 50)
    kinds = [
        f"({t}) + 10^{k}*sin({q}*pi*{v})",
        f"({t}) + max(0, {v}^2 - {r * r})*10^{rng.randint(3, 9)}",
        f"({t}) + 10^-{k}",
        f"({t})*(1 + 10^-{k})",
        f"({t}) + exp(-{rng.randint(700, 999)})",
        f"({t}) + sin(pi*{v})^2/10^{k}",
        f"({t}) + abs({v} - {r}) - ({v} - {r})",
        f"({t}) + Piecewise((1, {v} > {10**rng.randint(4, 8)}), (0, True))",
        f"({t}) + {v}/10^{rng.randint(40, 59)}",
        f"({t}) + sign({v} - 1/{rng.randint(3, 97)})^2 - 1",
        f"({t}) + 10^{k}*max(0, {v} - {r})*max(0, {r} + 1/10^9 - {v})",
        f"({t}) + 10^-{k}*exp({v}^2)",
    ]
    return rng.choice(kinds)


def _number(rng, t):
    k = rng.randint(31, 59)
    kinds = [
        "exp(710)", f"exp({rng.randint(700, 1000)})", f"({t}) + 10^-{k}", f"({t})*(1 + exp(-{rng.randint(700, 999)}))",
        f"({t}) + exp(-exp({rng.randint(4, 6)}))", f"({t}) + log(1 + 10^-{k})", f"({t}) - 10^-{k}",
        f"10^{rng.randint(30, 60)}", f"({t}) + sin(10^{rng.randint(5, 12)})/10^{k}", f"-(({t}) + 10^-{k})",
    ]
    if sp.sympify(t) == 0:  # a multiple of 0 is still 0: not a wrong answer
        kinds = [k for k in kinds if not k.startswith(f"({t})*")]
    return rng.choice(kinds)


def _condition(rng, t, v):
    kinds = [
        f"{t} and cos({rng.choice([4000, 1000, 997])}*pi*{v}) >= 1",
        f"{t} and sin({rng.choice([4000, 1000, 997])}*pi*{v}) == 0",
        f"({t}) or {v} > 10^{rng.randint(4, 9)}",
        f"{t} and {v} != 1/{rng.randint(3, 97)}",
        f"({t}) or {v} == {rng.randint(-9, -2)}",
    ]
    return rng.choice(kinds)


def make_answer(seed: int):
    rng = random.Random(seed)
    ex, part, typ, t, v = rng.choice(targets())
    if typ == "number":
        return ex, part, _number(rng, t)
    if typ == "condition":
        return ex, part, _condition(rng, t, v)
    return ex, part, _expression(rng, t, v or "x")


def _accepted(seeds) -> list[str]:
    bad = []
    for s in seeds:
        ex, part, ans = make_answer(s)
        r = check(ex, ans, part=part, isolate=False, timeout=20)
        if r.status == "correct":
            bad.append(f"seed {s}: {ex}/{part}: {ans!r} marked correct")
    return bad


@pytest.mark.parametrize("chunk", range(4))
def test_wrong_answer_fuzz_smoke(chunk):
    per = SMOKE // 4
    assert not _accepted(range(chunk * per, (chunk + 1) * per))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CONVEXPROOF_SOAK") != "1", reason="long soak: set CONVEXPROOF_SOAK=1")
def test_wrong_answer_fuzz_soak():
    bad = _accepted(range(50_000, 50_000 + SOAK))
    assert not bad, "\n".join(bad)
