"""The convexity engine.

``prove(expr, wrt=None, where=(), timeout=10.0) -> ProofResult`` decides
convexity with a step-by-step proof, a verified witness, or "unknown";
``regularize(...) -> RegularizeResult`` finds the smallest λ making
f + λ·Σxᵢ² convex.  ``find_witness`` gives a verified counterexample for
computed feedback.  See ``docs/architecture.md``.
"""

from __future__ import annotations

from .engine import analyse, prove
from .regularize import regularize
from .result import ProofResult, RegularizeResult
from .witness import find_witness, hessian, second_derivative, verify_witness

__all__ = ["prove", "regularize", "find_witness", "verify_witness", "hessian", "second_derivative",
           "ProofResult", "RegularizeResult", "analyse"]
