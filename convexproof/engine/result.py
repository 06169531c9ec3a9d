"""Results of ``prove`` and ``regularize``: Python objects with ``to_dict()`` (the CLI's JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from convexproof.runtime.display import Displayable
from convexproof.steps import Step, to_jsonable


def _s(v: Any) -> Any:
    return None if v is None else sp.sstr(v)


def witness_to_dict(w: dict | None) -> dict | None:
    if not w:
        return None
    out: dict[str, Any] = {}
    for k in ("point", "direction", "params"):
        if w.get(k):
            out[k] = {str(s): sp.sstr(v) for s, v in w[k].items()}
    if w.get("curvature") is not None:
        out["curvature"] = sp.sstr(w["curvature"])
        out["curvature_approx"] = float(sp.N(w["curvature"]))
    if w.get("chord"):
        ch = w["chord"]
        out["chord"] = {"a": {str(s): sp.sstr(v) for s, v in ch["a"].items()},
                        "b": {str(s): sp.sstr(v) for s, v in ch["b"].items()},
                        "t": sp.sstr(ch["t"]), "lhs": sp.sstr(ch["lhs"]), "rhs": sp.sstr(ch["rhs"]),
                        "gap_approx": float(sp.N(ch["lhs"] - ch["rhs"]))}
    if w.get("domain"):
        d = w["domain"]
        out["domain"] = {k: {str(s): sp.sstr(v) for s, v in d[k].items()} for k in ("a", "b", "m")}
        out["domain"]["t"] = sp.sstr(d["t"])
    out["verified"] = w.get("verified", "exact")
    return out


@dataclass
class ProofResult(Displayable):  # shown in Jupyter as its proof document (convexproof.api)
    expr: sp.Expr
    variables: tuple
    parameters: tuple = ()
    domain: list = field(default_factory=list)  # SymPy conditions (box and extra)
    convex: bool | None = None
    verdict: str = "unknown"
    condition: Any = None  # SymPy Boolean or None
    witness: dict | None = None
    modulus: Any = None
    modulus_tight: bool = True
    strict: bool = False
    second_derivative: Any = None
    hessian: Any = None
    steps: list[Step] = field(default_factory=list)
    method: str = ""
    timed_out: bool = False
    problems: list[str] = field(default_factory=list)  # internal inconsistencies found (bugs to report)
    notes: list[str] = field(default_factory=list)  # why a verdict was not reached (not bugs)
    sufficient_condition: Any = None  # proved sufficient, not shown necessary (the verdict stays "unknown")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "expr": sp.sstr(self.expr),
            "variables": [str(v) for v in self.variables],
            "parameters": [str(p) for p in self.parameters],
            "domain": [sp.sstr(c) for c in self.domain],
            "convex": self.convex,
            "verdict": self.verdict,
            "condition": _s(self.condition),
            "witness": witness_to_dict(self.witness),
            "modulus": _s(self.modulus),
            "modulus_tight": self.modulus_tight if self.modulus is not None else None,
            "method": self.method,
            "timed_out": self.timed_out,
        }
        if self.modulus is not None:
            d["modulus_approx"] = float(sp.N(self.modulus))
        if len(self.variables) <= 1:
            d["second_derivative"] = _s(self.second_derivative)
        else:
            d["hessian"] = None if self.hessian is None else [[sp.sstr(v) for v in self.hessian.row(i)]
                                                              for i in range(self.hessian.rows)]
        if self.problems:
            d["problems"] = list(self.problems)
        if self.notes:
            d["notes"] = list(self.notes)
        if self.sufficient_condition is not None:
            d["sufficient_condition"] = _s(self.sufficient_condition)
        d["steps"] = [s.to_dict() for s in self.steps]
        return to_jsonable(d)


@dataclass
class RegularizeResult(Displayable):
    expr: sp.Expr
    penalty: sp.Expr
    variables: tuple
    lam_min: Any = None  # SymPy number, or None when no finite lam works / unknown
    verdict: str = "unknown"
    found: bool = False  # True when lam_min is established (a number) or proved impossible
    attained: bool = True  # False if every lam > lam_min works but lam_min itself does not
    domain: list = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    proof: ProofResult | None = None
    timed_out: bool = False

    # the report template treats both results alike
    @property
    def convex(self):
        return None

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "expr": sp.sstr(self.expr),
            "penalty": sp.sstr(self.penalty),
            "variables": [str(v) for v in self.variables],
            "domain": [sp.sstr(c) for c in self.domain],
            "lam_min": _s(self.lam_min),
            "lam_min_approx": None if self.lam_min is None else float(sp.N(self.lam_min)),
            "attained": self.attained if self.lam_min is not None else None,
            "verdict": self.verdict,
            "timed_out": self.timed_out,
            "steps": [s.to_dict() for s in self.steps],
        })
