"""The internal outcome of one method of the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    convex: bool | None  # True proved, False disproved (witness), None unknown/depends
    steps: list = field(default_factory=list)
    witness: dict | None = None
    strict: bool = False
    modulus: Any = None
    modulus_tight: bool = True
    condition: Any = None  # SymPy Boolean on the parameters (None: no condition)
    concave: bool = False
    method: str = ""
    second_derivative: Any = None
    hessian: Any = None
    for_all_params: bool = False
