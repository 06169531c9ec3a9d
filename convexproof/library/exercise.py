"""An exercise's data: the validated file (:class:`Exercise`) and its parts, parameters, mistakes and self-tests.

The loader (:mod:`convexproof.library`) reads and validates the TOML files and
builds these objects; the solvers, the checker and the renderers use them.
This module imports neither (the solvers import it, the loader asks the
solvers which kinds exist), so the two never form an import cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from convexproof.runtime.display import Displayable
from convexproof.runtime.errors import ConvexproofError, ExerciseError

PART_TYPES = ("number", "expression", "verdict", "condition", "point", "matrix", "text", "derivation",
              "matrix_expression")
_REF_RE = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
# [solver] inputs holding a variable or parameter name rather than a formula
SOLVER_NAME_FIELDS = ("variable", "var", "parameter", "data", "name")


@dataclass
class Part:
    name: str
    type: str
    default: bool = False
    tolerance: float = 1e-9
    accept: list[str] = field(default_factory=list)  # verdict words accepted as correct
    reject: list[str] = field(default_factory=list)  # verdict words known to be wrong
    accept_condition: bool = False  # "minimal λ" parts: "λ ≥ 3" also correct
    variables: list[str] = field(default_factory=list)  # names an answer may use
    assume: list[str] = field(default_factory=list)  # domain, e.g. "0 < p < 1"
    description: str = ""
    # derivation parts (see convexproof/derivation.py and docs/exercise-format.md)
    functions: list[str] = field(default_factory=list)  # the functions a derivation may define
    parameter: str | None = None  # the parameter a derivation's conditions are about (lam)
    extremum: str = "min"  # "λ* = v" is the smallest (min) or largest (max) value allowed
    carry_forward: float = 0.5  # credit for a step that follows from an earlier wrong line
    points: float = 1.0  # the part's weight in a total (grade, Gradescope, PrairieLearn)
    follows: str = ""  # the part this one is computed from: judged against the student's own answer there (ECF)
    model: str = ""  # the model derivation (selftest checks that it has no wrong line)


@dataclass
class Mistake:
    part: str
    answer: str  # formula (may use parameters) or verdict word
    note: str  # short code, e.g. "slip-f2-at-0"
    feedback: str  # prose; {name} refers to math entries and parameters
    score: float = 0.0  # partial credit for this mistake, a fraction of the part's points (WeBWorK AnswerHints)


@dataclass
class SelfTest:
    part: str
    answer: str
    expect: str  # "correct" | "incorrect" | "invalid"
    note: str | None = None


@dataclass
class Param:
    name: str
    default: Fraction
    choices: list[Fraction]


@dataclass
class Exercise(Displayable):
    """An exercise file, validated.  ``values`` holds the parameters of this variant."""

    id: str
    title: str
    path: Path
    tags: list[str]
    statement: str
    hints: list[str]
    solver: dict[str, Any]
    params: dict[str, Param]
    parts: dict[str, Part]
    mistakes: list[Mistake]
    selftests: list[SelfTest]
    math: dict[str, str]
    seed: int | None = None
    values: dict[str, Fraction] = field(default_factory=dict)

    @property
    def default_part(self) -> Part:
        for p in self.parts.values():
            if p.default:
                return p
        return next(iter(self.parts.values()))

    def part(self, name: str | None) -> Part:
        if name is None:
            return self.default_part
        if name not in self.parts:
            raise ExerciseError(f"exercise {self.id} has no part {name!r}; parts: {', '.join(self.parts)}")
        return self.parts[name]

    def subs(self) -> dict:
        """SymPy substitution mapping parameter symbols to this variant's values."""
        import sympy as sp

        from convexproof.parse import symbol

        return {symbol(k): sp.Rational(v.numerator, v.denominator) for k, v in self.values.items()}

    def formula(self, text: str, *, where: str = "formula"):
        """Parse a formula of this exercise file and substitute the parameters."""
        try:
            value = _parse_any_cached(text)
        except ConvexproofError as exc:
            raise ExerciseError(f"{self.path.name}: {where}: {exc}") from None
        if not self.values:
            return value
        from convexproof.parse.substitute import substitute  # the parser's caps hold for the parameter values put in

        try:
            return substitute(value, self.subs())
        except ConvexproofError as exc:
            raise ExerciseError(f"{self.path.name}: {where}: {exc}") from None

    def math_entry(self, name: str):
        if name in self.math:
            return self.formula(self.math[name], where=f"math.{name}")
        if name in self.values:
            import sympy as sp

            v = self.values[name]
            return sp.Rational(v.numerator, v.denominator)
        raise ExerciseError(f"{self.path.name}: unknown reference {{{name}}}")

    def prose_segments(self, text: str) -> list[tuple[str, Any]]:
        """Split prose at ``{name}`` references: [("text", str) | ("math", sympy)]."""
        return split_segments(_REF_RE, text, lambda m: self.math_entry(m.group(1)))


def split_segments(pattern, text: str, math) -> list[tuple[str, Any]]:
    """``text`` cut at the matches of ``pattern``: [("text", str) | ("math", math(match))], in order."""
    out: list[tuple[str, Any]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append(("text", text[pos:m.start()]))
        out.append(("math", math(m)))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out


@lru_cache(maxsize=2048)
def _parse_any_cached(text: str):
    """parse_any for exercise-file formulas; SymPy objects are immutable, so sharing them is safe."""
    from convexproof.parse import parse_any

    return parse_any(text)
