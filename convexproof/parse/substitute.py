"""Checked substitution: a value put into a formula passes the parser's caps.

The parser (:mod:`convexproof.parse`) checks every number, exponent and
exponential *as the formula is built*, so ``3**3**3**3`` or ``x**(10**50)``
typed as such is refused before any arithmetic.  A formula with a symbol in
those places (``a**a**a**a``, ``x**a``) passes the parser, and the danger
comes back when a value is put in: ``--where "a = 3"``, an exercise
parameter, or a parameter in a student's answer.  SymPy's ``subs`` and
``xreplace`` evaluate ``3**7625597484987`` at once and never return.

:func:`substitute` is the one way to put values into a formula.  It rebuilds
the tree bottom-up, like the parser, and applies the same caps
(``LIMITS``: ``max_exponent``, ``max_exponent_digits``, ``max_result_digits``,
``max_exp_argument``, no undefined or non-real constants) to every node
*before* SymPy evaluates it.  A refusal is a :class:`~convexproof.runtime.errors.ParseError`
naming the substitution, e.g. "after substituting a = 3: exponent
7625597484987 is too large (limit 200)".
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy as sp

from convexproof import parse as _p
from convexproof.runtime.errors import ParseError

__all__ = ["substitute"]


def substitute(expr: Any, mapping: Mapping, *, what: str | None = None) -> Any:
    """``expr`` with the symbols of ``mapping`` replaced, every node checked against the parser's caps.

    ``expr`` may be an expression, a condition, a tuple/point or a matrix.
    ``what`` names the substitution in an error ("a = 3" by default).
    """
    if not mapping or not isinstance(expr, sp.Basic):
        return expr
    mapping = {k: _p.as_sympy(v) for k, v in mapping.items()}
    if not (expr.free_symbols & set(mapping)):
        return expr
    try:
        if isinstance(expr, sp.MatrixBase):
            return sp.ImmutableMatrix(expr.rows, expr.cols, [_rebuild(e, mapping) for e in expr])
        return _rebuild(expr, mapping)
    except ParseError as exc:
        raise ParseError(f"after substituting {what or _describe(mapping)}: {exc}") from None
    except (RecursionError, MemoryError, OverflowError):
        raise ParseError(f"after substituting {what or _describe(mapping)}: the formula is too complex") from None
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, ArithmeticError) as exc:
        raise ParseError(f"after substituting {what or _describe(mapping)}: the formula is undefined "
                         f"({type(exc).__name__})") from None


def _describe(mapping: Mapping) -> str:
    def show(v) -> str:
        text = sp.sstr(v)
        return text if len(text) <= 24 else f"{text[:12]}...({len(text)} characters)"

    text = ", ".join(f"{k} = {show(v)}" for k, v in mapping.items())
    return text if len(text) <= 80 else text[:77] + "..."


def _rebuild(expr: sp.Basic, mapping: dict) -> sp.Basic:
    """Iterative post-order rebuild (no recursion on deep input)."""
    wanted = set(mapping)
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    done: dict[int, sp.Basic] = {}
    while stack:
        node, visited = stack.pop()
        if id(node) in done and not visited:
            continue
        if not node.args or not (node.free_symbols & wanted):
            done[id(node)] = mapping.get(node, node) if node.is_Symbol else node
            continue
        if not visited:
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in done)
            continue
        args = [done[id(a)] for a in node.args]
        done[id(node)] = _node(node, args)
    return done[id(expr)]


def _node(node: sp.Basic, args: list[sp.Basic]) -> sp.Basic:
    """One node rebuilt from its (already checked) arguments, with the parser's checks."""
    if all(a is b for a, b in zip(args, node.args)):
        return node
    if isinstance(node, sp.Pow):
        base, ex = args
        if _p._constant(ex) and not ex.is_Number and not _p._constant(base):
            _check_constant_exponent(ex)
        r = _p._safe_pow(base, ex)
        _p._check_real(r)
    elif isinstance(node, sp.exp):
        _p._check_exp_argument(args[0])
        r = sp.exp(args[0])
    elif isinstance(node, (sp.sinh, sp.cosh)):
        _p._check_exp_argument(args[0])
        r = node.func(*args)
    elif isinstance(node, sp.Mul):
        r = sp.Mul(*args)
        _p._check_powers(r)
    elif isinstance(node, sp.Add):
        r = sp.Add(*args)
    else:
        if isinstance(node, sp.log) and args[0] == 0:
            _p._fail("log(0) is undefined")
        r = node.func(*args)
    if isinstance(r, sp.Expr):
        if r in (sp.zoo, sp.nan) or (r in (sp.oo, -sp.oo) and not node.has(sp.oo, -sp.oo)):
            _p._fail("the formula is undefined here (division by zero or an infinite value)")
        if r.is_Rational and _p._digits(r) > _p.LIMITS["max_result_digits"]:
            _p._fail("number is too large")
        if isinstance(node, sp.Function) or isinstance(node, sp.Pow):
            _p._check_real(r)
    return r


def _check_constant_exponent(ex: sp.Expr) -> None:
    """x**(c) with a constant c that is not a plain number (10**50*pi): the same cap as a number."""
    try:
        size = abs(complex(sp.N(ex, 15)))
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        _p._fail("cannot evaluate an exponent in this formula")
    limit = _p.LIMITS["max_exponent"]
    if not size <= limit:  # also nan
        _p._fail(f"exponent {sp.sstr(ex)[:60]} is too large (limit {limit})")
