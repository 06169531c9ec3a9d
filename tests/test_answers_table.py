"""The answers table (issue #13): every exercise, every checkable part, answers written many ways.

For each part of each shipped exercise the correct answer is typed as the
parser's plain text, as Unicode (what ``solve`` prints), and as LaTeX (what a
student pastes from a typeset solution); each must be *correct*.  Every
``[[mistakes]]`` entry must be *incorrect* with its own note; a near miss of
every number must be *incorrect*; hostile text must be *invalid*, one line.
The count of answers checked is printed by ``-s`` and quoted in the notes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import sympy as sp

from convexproof.grading.checking import _context, check
from convexproof.render.mathtext import latex, unicode

EXERCISES = Path(__file__).parent.parent / "exercises"
SCALAR = ("number", "expression", "condition", "point", "matrix")


def _parts():
    out = []
    for f in sorted(EXERCISES.glob("exercise*.toml"), key=lambda p: int(p.stem[8:])):
        d = tomllib.loads(f.read_text())
        for p in d.get("parts", []):
            if p.get("type") in (*SCALAR, "verdict"):
                out.append((f.stem, p["name"], p["type"]))
    return out


PARTS = _parts()


def _plain(v) -> str:
    if isinstance(v, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(sp.sstr(c) for c in v.row(i)) + "]" for i in range(v.rows)) + "]"
    if isinstance(v, sp.And):
        return " and ".join(sp.sstr(a) for a in v.args)
    if isinstance(v, tuple):
        return "(" + ", ".join(sp.sstr(c) for c in v) + ")"
    return sp.sstr(v)


def _forms(v) -> list[str]:
    forms = [_plain(v)]
    if isinstance(v, (sp.Basic, tuple)) and not (isinstance(v, sp.Basic) and v.has(sp.Piecewise)):
        forms.append(unicode(v))
        if not isinstance(v, tuple):
            forms.append(latex(v))
    return forms


COUNT = {"answers": 0}


@pytest.mark.parametrize("ex, part, typ", PARTS, ids=[f"{e}-{p}" for e, p, _ in PARTS])
def test_correct_answer_in_every_notation_is_correct(ex, part, typ):
    ctx = _context(ex, None, None)
    v = ctx.solution.answers[part]
    if typ == "verdict":
        word = str(v).lower() if not isinstance(v, bool) else ("convex" if v else "not convex")
        forms = [word, word.capitalize() + ".", f"It is {word}."]
    else:
        forms = _forms(v)
    for text in forms:
        COUNT["answers"] += 1
        r = check(ex, text, part=part, isolate=False)
        assert r.status == "correct", (text, r.status, r.feedback)


@pytest.mark.parametrize("ex, part, typ", PARTS, ids=[f"{e}-{p}" for e, p, _ in PARTS])
def test_every_mistake_entry_gets_its_note(ex, part, typ):
    ctx = _context(ex, None, None)
    for m in ctx.ex.mistakes:
        if m.part != part:
            continue
        COUNT["answers"] += 1
        r = check(ex, m.answer, part=part, isolate=False)
        assert (r.status, r.note) == ("incorrect", m.note), (m.answer, r.status, r.note, r.feedback)


NUMBER_PARTS = [p for p in PARTS if p[2] == "number"]


@pytest.mark.parametrize("ex, part, typ", NUMBER_PARTS, ids=[f"{e}-{p}" for e, p, _ in NUMBER_PARTS])
def test_near_misses_of_every_number_are_wrong(ex, part, typ):
    v = _context(ex, None, None).solution.answers[part]
    for near in (v + sp.Rational(1, 1000), v - sp.Rational(1, 10**6), v + sp.Rational(1, 10**40), v + 7):
        COUNT["answers"] += 1
        r = check(ex, sp.sstr(near), part=part, isolate=False)
        assert r.status in ("incorrect", "undecided"), (near, r.status, r.feedback)
    if v != 0 and sp.Rational(f"{float(v):.3f}") != v:
        COUNT["answers"] += 1
        r = check(ex, f"{float(v):.3f}", part=part, isolate=False)  # a rounded decimal
        assert r.status == "incorrect", (float(v), r.status)


HOSTILE = ["__import__('os').system('id')", "x" * 2500, "1/0", r"\input{/etc/passwd}", "exp(exp(exp(99)))",
           "lambda: 1", "' or 1=1 --", "\x1b[31mred", "((((((((((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))))))))))",
           "{{7*7}}", "<script>alert(1)</script>"]


@pytest.mark.parametrize("ex, part, typ", [p for p in PARTS if p[2] in SCALAR][::3])
def test_hostile_answers_are_invalid_in_one_line(ex, part, typ):
    for text in HOSTILE:
        COUNT["answers"] += 1
        r = check(ex, text, part=part, isolate=False)
        assert r.status == "invalid" and "\n" not in r.feedback, (text, r.status, r.feedback)


def test_zz_count(capsys):
    with capsys.disabled():
        print(f"\nanswers table: {COUNT['answers']} answers checked over {len({p[0] for p in PARTS})} exercises")
