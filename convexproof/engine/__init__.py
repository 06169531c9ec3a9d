"""The convexity engine.

``prove(expr, wrt=None, where=(), timeout=DEFAULT_TIMEOUT) -> ProofResult`` (limits.DEFAULTS) decides
convexity with a step-by-step proof, a verified witness, or "unknown";
``regularize(...) -> RegularizeResult`` finds the smallest λ making
f + λ·Σxᵢ² convex.  ``find_witness`` gives a verified counterexample for
computed feedback.  See ``docs/architecture.md``.
"""

from __future__ import annotations

__all__ = ["prove", "regularize", "find_witness", "verify_witness", "hessian", "second_derivative",
           "ProofResult", "RegularizeResult", "analyse"]

# Imported on first use, so that a caller that needs one part does not load the whole engine.
_HOME = {"analyse": "prover", "prove": "prover", "regularize": "regularisation", "ProofResult": "result",
         "RegularizeResult": "result", "find_witness": "witness", "hessian": "witness",
         "second_derivative": "witness", "verify_witness": "witness"}


def __getattr__(name: str):
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(name)
