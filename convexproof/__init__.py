"""convexproof: symbolic convexity proofs and worked exercises for ML courses.

For notebooks and scripts (see :mod:`convexproof.api`)::

    import convexproof
    convexproof.prove("x**2")                   # ProofResult: a proof, a verified witness, or "unknown"
    convexproof.regularize("x**4 - x**2")       # RegularizeResult: the smallest lam, with its steps
    convexproof.solve("exercise3")              # Solution: the worked solution of an exercise
    convexproof.check("exercise3", "6*x - 2")   # CheckResult: correct, incorrect, undecided or invalid
    convexproof.grade("answers.csv")            # the graded rows of a class
    convexproof.load_exercise("exercise3")      # Exercise

Every result object shows itself in Jupyter (Markdown with $…$ mathematics).
The API is imported lazily, so ``convexproof --help`` and ``convexproof list``
do not pay for modules they do not use.
"""

from __future__ import annotations

from convexproof.runtime import display as _display
from convexproof.runtime.resources import VERSION as __version__

_FUNCTIONS = ("prove", "regularize", "solve", "check", "grade", "load_exercise")
_TYPES = ("ProofResult", "RegularizeResult", "Solution", "CheckResult", "Exercise", "ConvexproofError")
__all__ = [*_FUNCTIONS, *_TYPES]


def __getattr__(name: str):
    if name in _FUNCTIONS:
        from convexproof import api

        return getattr(api, name)
    if name in ("ProofResult", "RegularizeResult"):
        from convexproof.engine import result

        return getattr(result, name)
    if name == "Solution":
        from convexproof.solvers import Solution

        return Solution
    if name == "CheckResult":
        from convexproof.grading.base import CheckResult

        return CheckResult
    if name == "Exercise":
        from convexproof.library.exercise import Exercise

        return Exercise
    if name == "ConvexproofError":
        from convexproof.runtime.errors import ConvexproofError

        return ConvexproofError
    raise AttributeError(f"module 'convexproof' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__", "api"])


def _load_renderers() -> None:
    """The result types' Jupyter display: :mod:`convexproof.api` registers the renderers when imported."""
    from convexproof import api  # noqa: F401


_display.set_loader(_load_renderers)
