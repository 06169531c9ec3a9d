"""convexproof: symbolic convexity proofs and worked exercises for ML courses.

The public API is imported lazily so that ``convexproof list`` does not pay
for modules it does not use.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["prove", "regularize", "check", "ConvexproofError"]


def __getattr__(name: str):
    if name in ("prove", "regularize"):
        from convexproof import engine as analyse

        return getattr(analyse, name)
    if name == "check":
        from convexproof.grading.checking import check

        return check
    if name == "ConvexproofError":
        from convexproof.runtime.errors import ConvexproofError

        return ConvexproofError
    raise AttributeError(name)
