"""Certified signs of SymPy values: the one place the project decides "< 0" or "> 0".

Rationals are decided exactly.  Other constants are evaluated to ``digits``
significant digits and decided only outside a band around zero, so a value
that might be zero is never given a sign.  Expressions with free symbols are
decided only by SymPy's assumptions (e.g. ``-x**2 - 1`` for real x).
Witnesses, sign arguments and definiteness classes all go through here.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from convexproof.parse import as_sympy


def certified_sign(value: Any, digits: int = 50) -> int | None:
    """-1, 0 or 1 when certain; None when undecided (too close to 0, not real, symbolic)."""
    v = as_sympy(value)
    if v.is_Rational:
        return int(bool(v > 0)) - int(bool(v < 0))
    if v == sp.oo:
        return 1
    if v == -sp.oo:
        return -1
    if v.has(sp.nan, sp.zoo):
        return None
    if v.free_symbols:
        if v.is_zero is True:
            return 0
        if v.is_positive is True:
            return 1
        if v.is_negative is True:
            return -1
        return None
    if isinstance(v, sp.Float):
        v = sp.Rational(v)  # a float is taken at its exact binary value
        return int(bool(v > 0)) - int(bool(v < 0))
    try:
        # strict: SymPy raises instead of returning a number without correct digits (tanh(x)·cosh(x) − sinh(x)
        # at x = −1370 came back as 0.e+435, a "sign" with no accuracy at all)
        approx = v.evalf(digits, strict=True)
    except Exception:  # noqa: BLE001 - precision exhausted or an evaluation failure: "undecided", never a sign
        return 0 if v.is_zero is True else None
    if not approx.is_Number or approx.is_real is not True:
        return None
    if approx == sp.oo:
        return 1
    if approx == -sp.oo:
        return -1
    if abs(approx) < sp.Float(10) ** (-min(30, digits - 10)):
        return 0 if v.is_zero is True else None
    return 1 if approx > 0 else -1


def is_negative(value: Any) -> bool:
    """True only when ``value`` is certainly negative."""
    return certified_sign(value) == -1


def is_positive(value: Any) -> bool:
    """True only when ``value`` is certainly positive."""
    return certified_sign(value) == 1


def is_nonnegative(value: Any) -> bool:
    """True only when ``value`` is certainly >= 0 (with free symbols: by SymPy's assumptions, e.g. ``x**2``)."""
    v = as_sympy(value)
    if v.free_symbols and v.is_nonnegative is True:
        return True
    return certified_sign(v) in (0, 1)
