"""Solver kinds: one function per kind turns an exercise variant into a Solution.

A solver computes every result with SymPy at run time; nothing in an exercise
file or a template is a result.  Register a solver with ``@register("kind")``
in any module of this package; modules are discovered automatically.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from convexproof.runtime.display import Displayable
from convexproof.runtime.errors import ExerciseError
from convexproof.library.exercise import Exercise
from convexproof.steps import Step

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
    svg_name: str = ""  # set when a Markdown document has this figure as an SVG file beside it


@dataclass
class Solution(Displayable):  # shown in Jupyter as the worked solution (convexproof.api)
    exercise: Exercise
    steps: list[Step]
    answers: dict[str, Any]  # part name -> SymPy object (or a verdict word)
    figures: list[Figure] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # for computed feedback in check

    def answers_text(self) -> dict[str, str]:
        from convexproof.steps import to_jsonable

        return {k: to_jsonable(v) for k, v in self.answers.items()}


def register(kind: str):
    def deco(fn):
        _SOLVERS[kind] = fn
        return fn

    return deco


_REGISTER_RE = re.compile(r"""@register\(\s*["']([A-Za-z0-9_.-]+)["']\s*\)""")
_LOADED_ALL = False


@lru_cache(maxsize=None)
def _kind_index() -> dict[str, str]:
    """kind -> module name, read from the modules' ``@register("kind")`` lines without importing them.

    Importing every solver module costs tens of milliseconds that ``solve exercise3`` does not need;
    a kind registered some other way is still found by :func:`_load_all`.
    """
    import pkgutil
    from pathlib import Path

    index: dict[str, str] = {}
    for m in pkgutil.iter_modules(__path__):
        for folder in __path__:
            src = Path(folder) / f"{m.name}.py"
            if src.is_file():
                try:
                    text = src.read_text(encoding="utf-8")
                except OSError:
                    continue
                for kind in _REGISTER_RE.findall(text):
                    index.setdefault(kind, m.name)
    return index


def _load_all() -> None:
    global _LOADED_ALL
    import pkgutil

    if not _LOADED_ALL:
        for m in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{m.name}")
        _LOADED_ALL = True


def known_kinds() -> set[str]:
    """All registered kinds (imports every solver module; validation uses :func:`is_known_kind`)."""
    _load_all()
    return set(_SOLVERS)


def is_known_kind(kind: str) -> bool:
    return kind in _SOLVERS or kind in _kind_index() or kind in known_kinds()


def solver_for(kind: str) -> Callable[[Exercise], "Solution"]:
    """The solver function of ``kind``, importing only its module when possible."""
    if kind not in _SOLVERS and kind in _kind_index():
        importlib.import_module(f"{__name__}.{_kind_index()[kind]}")
    if kind not in _SOLVERS:
        _load_all()
    if kind not in _SOLVERS:
        raise ExerciseError(f"unknown solver kind {str(kind)[:40]!r}")
    return _SOLVERS[kind]


def solve(ex: Exercise) -> Solution:
    try:
        fn = solver_for(ex.solver["kind"])
    except ExerciseError:
        raise ExerciseError(f"{ex.path.name}: unknown solver kind {ex.solver.get('kind')!r}") from None
    derivations = {p: part for p, part in ex.parts.items() if part.type == "derivation"}
    if derivations:  # the solver never sees derivation parts; their answer is the model derivation
        import copy

        inner = copy.copy(ex)
        inner.parts = {p: part for p, part in ex.parts.items() if p not in derivations}
        solution = fn(inner)
        solution.answers.update({p: part.model for p, part in derivations.items()})
    else:
        solution = fn(ex)
    missing = [p for p in ex.parts if p not in solution.answers]
    if missing:
        raise ExerciseError(f"{ex.path.name}: field 'parts': solver {ex.solver['kind']!r} gives no answer for "
                            f"{', '.join(missing)}")
    solution.answers = {p: solution.answers[p] for p in ex.parts}
    return solution
