"""Step kinds of the exercise solvers (data only; templates write the prose).

The solvers' shared helpers are in :mod:`convexproof.solvers.toolkit`; their mathematics
is the engine's (:mod:`convexproof.engine.onevar`, :mod:`convexproof.engine.matrices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from convexproof.steps import Sentence as Prose, Step  # noqa: F401 - Prose: the one sentence kind

# ---------------------------------------------------------------- step kinds


class Minimum(Step, kind="minimum"):
    """A function bounded below on the real line attains its minimum at a critical point."""

    expr: Any  # the function minimised
    var: Any
    critical: list  # critical points (solutions of expr' = 0)
    point: Any  # where the minimum is attained
    value: Any  # the minimum value
    note: str = ""


class Cases(Step, kind="cases"):
    """A case split: the value in each case, valid under its condition."""

    lhs: Any
    cases: list  # [(value, condition)]
    note: str = ""


class SignArgument(Step, kind="sign_argument"):
    """A product or quotient of factors of known sign has the sign given by the sign rule."""

    claim: Any  # e.g. y/p**2 >= 0
    facts: list  # relations for the factors, e.g. [y >= 0, p**2 > 0]
