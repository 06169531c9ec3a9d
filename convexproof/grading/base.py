"""What every checker shares: the result of a check, the solved exercise variant (cached) and error handling.

:mod:`convexproof.grading.checking` (one answer) and
:mod:`convexproof.grading.derivation` (a derivation, line by line) both build
on this module, so neither imports the other's internals.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from convexproof.runtime.display import Displayable
from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError, ExerciseError
from convexproof.runtime.limits import CHECK_TIMEOUT as DEFAULT_TIMEOUT  # seconds for one answer (limits.DEFAULTS)


@dataclass
class CheckResult(Displayable):  # shown in Jupyter as its feedback (convexproof.api)
    exercise: str
    part: str
    answer: str
    status: str  # "correct" | "incorrect" | "undecided" (a teacher reviews it) | "invalid"
    score: float
    feedback: str
    note: str | None = None
    method: str | None = field(default=None, compare=False)  # exact / numeric / words (not in JSON)
    read_as: str | None = None  # the answer as it was read, in the exercise's notation (STACK's validation echo)

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "part": self.part, "answer": self.answer, "read_as": self.read_as,
                "status": self.status, "score": self.score, "feedback": self.feedback, "note": self.note}

    def to_text(self) -> str:
        head = f"{self.exercise}, part {self.part}: {self.status}"
        if self.note:
            head += f" ({self.note})"
        if self.status == "invalid":
            return head + ": " + self.feedback
        lines = [head]
        if self.read_as:
            lines.append(f"Your answer was read as: {self.read_as}")
        if self.feedback:
            lines.append(self.feedback)
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Exercise context, cached per (exercise, seed, folder)
# --------------------------------------------------------------------------
@dataclass
class _Context:
    ex: Any
    solution: Any
    facts: dict
    domains: dict = field(default_factory=dict)


_CONTEXTS: dict[tuple, _Context] = {}
_MAX_CONTEXTS = 128


def _context_key(exercise: str, seed: int | None, exercises_dir) -> tuple:
    return (exercise, seed, str(exercises_dir) if exercises_dir else None, os.environ.get("CONVEXPROOF_EXERCISES"))


def _context(exercise: str, seed: int | None, exercises_dir) -> _Context:
    """The exercise variant and its solution, loaded and solved in this process (cached)."""
    from convexproof.library import load_exercise
    from convexproof.solvers import solve

    key = _context_key(exercise, seed, exercises_dir)
    if key not in _CONTEXTS:
        ex = load_exercise(exercise, seed=seed, exercises_dir=exercises_dir)
        sol = solve(ex)
        _remember(key, _Context(ex, sol, dict(getattr(sol, "facts", {}) or {})))
    return _CONTEXTS[key]


def _shipped(exercise: str, exercises_dir) -> bool:
    """True for the exercises shipped with convexproof (trusted; selftest keeps them fast)."""
    from convexproof.library import exercise_files
    from convexproof.runtime.resources import data_dir

    path = exercise_files(exercises_dir).get(exercise)
    return path is not None and path.parent == data_dir("exercises")


def _solve_probe(exercise: str, seed: int | None, exercises_dir) -> "_Context | None":
    """Load and solve a variant in a child under the solving limit, and send it back for the parent's cache.

    Checking needs the exercise, the answers and the facts, not the solution's
    steps and figures, which are dropped.  None when the rest cannot be sent
    (pickled); the parent then solves the variant itself, once.
    """
    return _portable(_context(exercise, seed, exercises_dir))


def _portable(ctx: _Context) -> "_Context | None":
    """The context without the solution's steps and figures (checking does not use them), if it pickles."""
    import pickle
    from dataclasses import replace

    try:
        slim = _Context(ctx.ex, replace(ctx.solution, steps=[], figures=[]), ctx.facts)
        pickle.dumps(slim, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - e.g. a SymPy function class in the facts
        return None
    return slim


def solved_since(known: set) -> dict:
    """Variants solved in this process whose key is not in ``known``, ready to send to a parent process."""
    out = {}
    for key, ctx in list(_CONTEXTS.items()):
        if key not in known:
            slim = _portable(ctx)
            if slim is not None:
                out[key] = slim
    return out


def adopt(contexts: dict) -> None:
    """Keep variants solved in a child process (from :func:`solved_since`), so they are not solved again."""
    for key, ctx in contexts.items():
        if key not in _CONTEXTS:
            _remember(key, ctx)


def _remember(key: tuple, ctx: _Context) -> None:
    if len(_CONTEXTS) >= _MAX_CONTEXTS:
        _CONTEXTS.pop(next(iter(_CONTEXTS)))
    _CONTEXTS[key] = ctx


def warm(exercise: str, seed: int | None = None, exercises_dir=None) -> None:
    """Solve the variant in this process, so later checks reuse it (call once it is known to be fast)."""
    _context(exercise, seed, exercises_dir)


def clear_cache() -> None:
    _CONTEXTS.clear()


@contextmanager
def _invalid_on_error(result: CheckResult):
    """An unparsable, too complex or timed-out answer is graded invalid; a broken exercise is raised."""
    try:
        yield
    except AnalysisTimeout as exc:
        _invalid(result, f"timed out: {exc.one_line()}")
        result.method = "timed-out"  # grade reports it as undecided and retries it alone, never as a grade
    except ExerciseError:
        raise
    except ConvexproofError as exc:  # ParseError included
        _invalid(result, exc.one_line())
    except (RecursionError, MemoryError, OverflowError):
        _invalid(result, "the answer is too complex to check")


def _invalid(result: CheckResult, reason: str) -> None:
    result.status, result.score, result.note, result.feedback = "invalid", 0.0, None, reason


def unusable(answer, what: str = "answer") -> str | None:
    """Why ``answer`` cannot be checked at all (not text, or empty), else None."""
    if not isinstance(answer, str):
        return f"the {what} must be text"
    if not answer.strip():
        return f"empty {what}"
    return None
