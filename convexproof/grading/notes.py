"""The feedback note codes: one registry, one record per code with its meaning and an example.

A check result carries a short, stable ``note`` (mathsteps' ``ChangeTypes``
are the model): ``grade --summary`` counts them per part, Gradescope's
``extra_data`` and PrairieLearn's partial scores carry them, and teachers'
exercise files add their own codes in ``[[mistakes]]`` (described there by
their answer and feedback).  Codes never change between variants of an
exercise, so a class can be analysed across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    code: str
    meaning: str
    example: str  # an answer that gets this note, and where


_NOTES = [
    # numbers
    Note("wrong-value", "a number that is not the one asked for, with no known pattern", "exercise9: 0.18"),
    Note("close", "a decimal near the right value but outside the tolerance: give the exact value",
         "exercise9: 0.167 for 1/6"),
    Note("sign-error", "the right size with the wrong sign", "exercise5: -3 for 3"),
    Note("factor-2", "off by a factor of 2", "exercise9: 1/3 for 1/6"),
    Note("strict-bound", "λ > λ* instead of λ ≥ λ*: the smallest value itself works", "exercise3: lam > 3"),
    Note("wrong-direction", "a bound that points the wrong way", "exercise3: lam <= 3"),
    Note("lambda-too-small", "a λ below the minimum: f is still not convex (with a witness)", "exercise3: 2"),
    Note("carried-forward", "wrong, but exactly what the student's own wrong answer to an earlier part gives "
         "(partial credit)", "exercise3: 3/2 after f'' = 12x² − 3 + 2λ"),
    Note("lambda-not-minimal", "a λ that works but is not the smallest", "exercise3: 4"),
    # expressions
    Note("differs", "a formula that differs from the right one at a certified point", "exercise3: 12x^2 - 6"),
    Note("first-derivative", "the first derivative where the second is asked", "exercise3: 4x^3 - 6x + 2λx"),
    Note("not-differentiated", "the function itself where a derivative is asked", "exercise3: x^4 - 3x^2 + λx^2"),
    Note("third-derivative", "one derivative too many", "exercise3: 24x"),
    Note("sign-error-term", "one term with the wrong sign", "exercise3: 12x^2 + 6 + 2λ"),
    Note("dropped-term", "a term left out", "exercise3: 12x^2 + 2λ"),
    Note("constant-factor", "off by a constant factor", "exercise3: 6x^2 - 3 + λ"),
    Note("close-decimal", "a formula with decimals that agrees within the tolerance but is not exact (undecided)",
         "exercise4: 2.718281828459045^x for e^x"),
    # verdicts, conditions, points, matrices
    Note("wrong-verdict", "the wrong verdict (the feedback gives a witness where one is known)",
         "exercise12: convex"),
    Note("stronger-claim", "strictly or strongly convex where convex is asked, not checked automatically (undecided)",
         "exercise4: strictly convex for |x|"),
    Note("not-strictly-convex", "strictly or strongly convex claimed for a function that is affine on a segment "
         "(with the segment)", "exercise4: strictly convex for |x|"),
    Note("wrong-text", "a free-text answer not in the accepted list", "a text part: maybe"),
    Note("wrong-condition", "a condition that holds where it should not, or fails where it should hold",
         "exercise15: 0 < eta <= 1"),
    Note("wrong-shape", "a point or matrix of the wrong size", "exercise17: (1, -1, 0)"),
    Note("wrong-entry", "some coordinates or entries are wrong", "exercise17: (1, 1)"),
    Note("sign-error-entry", "matrix entries with the right size and the wrong sign", "exercise6: [[2, -1], [-1, 2]] "
         "for [[2, 1], [1, 2]]"),
    Note("not-symmetric", "a Hessian that is not symmetric", "exercise7: [[2, 1], [0, 2]]"),
    # no verdict
    Note("undecided", "neither proved equal nor shown to differ: a teacher reviews it",
         "exercise8: a form of σ(u)(1 − σ(u)) that SymPy cannot simplify"),
    Note("timed-out", "checking ran over its time limit: a teacher reviews it (grade only)", "a very heavy formula"),
]

NOTES: dict[str, Note] = {n.code: n for n in _NOTES}


def describe(code: str | None, mistakes=()) -> str:
    """What a note code means: the registry's meaning, or a teacher's mistake entry (its answer and feedback)."""
    if not code:
        return ""
    if code in NOTES:
        return NOTES[code].meaning
    for m in mistakes:
        if getattr(m, "note", None) == code:
            first = m.feedback.strip().split(". ")[0].rstrip(".")
            return f"gave {m.answer}: {first}" if first else f"gave {m.answer}"
    if code.startswith("line-"):
        return f"a derivation whose first wrong line is line {code[5:]}"
    return code
