"""Solver kinds: one function per kind turns an exercise variant into a Solution.

A solver computes every result with SymPy at run time; nothing in an exercise
file or a template is a result.  Register a solver with ``@register("kind")``
in any module of this package; modules are discovered automatically.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ExerciseError
from ..library import Exercise
from ..steps import Step

_SOLVERS: dict[str, Callable[[Exercise], "Solution"]] = {}


@dataclass
class Figure:
    """Data for a pgfplots figure (LaTeX only): curves of one variable or contours."""

    title: str  # prose
    # each curve: {"label": prose or SymPy, "expr": SymPy, "var": Symbol} (sampled on [xmin, xmax],
    # plus optional "breaks": x values that must be sampled, e.g. kinks), or {"label", "points": [(x, y)]}
    curves: list[dict[str, Any]] = field(default_factory=list)
    xmin: float = -2.0
    xmax: float = 2.0
    ymin: float | None = None
    ymax: float | None = None
    kind: str = "curves"  # or "contour"
    xlabel: str = "x"  # prose
    ylabel: str = ""  # prose
    samples: int = 61
    equal_axes: bool = False


@dataclass
class Solution:
    exercise: Exercise
    steps: list[Step]
    answers: dict[str, Any]  # part name -> SymPy object (or a verdict word)
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # for computed feedback in check

    def answers_text(self) -> dict[str, str]:
        from ..steps import to_jsonable

        return {k: to_jsonable(v) for k, v in self.answers.items()}


def register(kind: str):
    def deco(fn):
        _SOLVERS[kind] = fn
        return fn

    return deco


def _load_all() -> None:
    import pkgutil

    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")


def known_kinds() -> set[str]:
    _load_all()
    return set(_SOLVERS)


def solve(ex: Exercise) -> Solution:
    _load_all()
    try:
        fn = _SOLVERS[ex.solver["kind"]]
    except KeyError:
        raise ExerciseError(f"{ex.path.name}: unknown solver kind {ex.solver.get('kind')!r}") from None
    solution = fn(ex)
    missing = [p for p in ex.parts if p not in solution.answers]
    if missing:
        raise ExerciseError(f"{ex.path.name}: field 'parts': solver {ex.solver['kind']!r} gives no answer for "
                            f"{', '.join(missing)}")
    solution.answers = {p: solution.answers[p] for p in ex.parts}
    return solution
