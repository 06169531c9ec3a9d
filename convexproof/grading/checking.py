"""Checking one student answer: ``convexproof check`` and ``convexproof.check()``.

The order of business for an answer to one part of an exercise variant:

1. read it (verdict words from a fixed vocabulary; everything else through
   :mod:`convexproof.parse`); unreadable answers are ``invalid`` with a reason;
2. compare it with the solver's answer (layered: see :mod:`convexproof.grading.answers`);
3. if it is wrong, look for the exercise file's known mistakes (their message
   and note), then compute feedback from the engine's facts: a negative
   curvature point and a verified chord for a λ that is too small, a proof
   sketch for a λ that is convex but not minimal, a point where two
   expressions disagree (with both values) and recognised slips (sign, a
   dropped term, a factor 2, the first derivative).

Each part type has its checker (:data:`convexproof.grading.checkers.CHECKERS`);
the result, the cached exercise variant and the error handling are in
:mod:`convexproof.grading.base`.

Feedback never states the solver's answer unless ``reveal=True``.
"""

from __future__ import annotations

from convexproof.grading.base import (  # noqa: F401 - the public names of checking (grade and the API use them)
    _CONTEXTS, DEFAULT_TIMEOUT, CheckResult, _context, _context_key, _invalid_on_error, _remember, _shipped,
    _solve_probe, adopt, clear_cache, solved_since, unusable, warm)
from convexproof.grading.checkers import CHECKERS
from convexproof.runtime.errors import AnalysisTimeout, ExerciseError


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------
def check(exercise: str, answer: str | None = None, part: str | None = None, seed: int | None = None,
          reveal: bool = False, exercises_dir=None, timeout: float | None = DEFAULT_TIMEOUT, isolate: bool = True,
          derivation: str | None = None, given: dict | None = None) -> CheckResult:
    """Check ``answer`` to ``part`` (default: the main part) of an exercise variant.

    Raises :class:`ExerciseError` for an unknown exercise or part; an answer
    that cannot be read, or that takes longer than ``timeout`` seconds, is
    ``invalid`` with the reason as feedback.  The exercise is loaded and solved
    here (and cached); the answer is checked in a child process that is killed
    at the time limit (:func:`convexproof.runtime.limits.run_limited`), with a
    cooperative deadline inside.  ``isolate=False`` checks in this process
    with the cooperative deadline only (``grade`` workers add a timer signal).
    ``derivation=text`` (or an answer to a part of type derivation) checks a
    derivation line by line (:mod:`convexproof.grading.derivation`).  ``given`` holds
    the student's answers to other parts (part name -> text): a part marked
    ``follows = "other part"`` is then judged against the student's own
    answer there when that one is wrong (error carried forward).
    """
    from convexproof.runtime.limits import run_limited, solve_timeout

    if isolate and _context_key(exercise, seed, exercises_dir) not in _CONTEXTS and not _shipped(
            exercise, exercises_dir):
        # A teacher's file may be slow to solve: make sure it solves within the limit
        # (in a child process) before solving it here.
        try:
            probed = run_limited(_solve_probe, exercise, seed, exercises_dir, timeout=solve_timeout())
        except AnalysisTimeout:
            raise ExerciseError(f"{exercise}: solving the exercise ran over its time limit") from None
        if probed is not None:  # solved once, in the child: reused here (it used to be solved twice)
            _remember(_context_key(exercise, seed, exercises_dir), probed)
    ctx = _context(exercise, seed, exercises_dir)
    if derivation is not None or ctx.ex.part(part).type == "derivation":
        from convexproof.grading.derivation import check_derivation

        return check_derivation(exercise, answer if derivation is None else derivation, part=part, seed=seed,
                                exercises_dir=exercises_dir, timeout=timeout, isolate=isolate)
    p = ctx.ex.part(part)
    text = answer if isinstance(answer, str) else ""
    result = CheckResult(ctx.ex.id, p.name, text, "invalid", 0.0, "")
    result.feedback = unusable(answer) or ""
    if result.feedback:
        return result
    with _invalid_on_error(result):
        if not isolate:
            return _check_limited(exercise, seed, exercises_dir, p.name, answer, reveal, timeout, given)
        return run_limited(_check_limited, exercise, seed, exercises_dir, p.name, answer, reveal, timeout, given,
                           timeout=timeout)
    return result


def _check_limited(exercise, seed, exercises_dir, part, answer, reveal, timeout, given=None) -> CheckResult:
    """The check proper (in the child process, under the cooperative deadline)."""
    from convexproof.runtime.limits import deadline

    ctx = _context(exercise, seed, exercises_dir)
    p = ctx.ex.part(part)
    result = CheckResult(ctx.ex.id, p.name, answer, "invalid", 0.0, "")
    with _invalid_on_error(result), deadline(timeout or DEFAULT_TIMEOUT):
        CHECKERS[p.type](ctx, p, answer, reveal, result, given).run()
    return result


