"""Time and memory limits for any caller: the public face of the engine's limits.

The mechanism lives in :mod:`convexproof.analyse.limits` (the engine needs it
first); this module is what the rest of the package (``check``, ``grade``,
solvers, benchmarks) should import, so there is one implementation and one
set of rules.  Every cap is listed in ``docs/limits.md``.

Two layers:

* a *cooperative* deadline, :func:`deadline` / :func:`check_deadline`: long
  loops call ``check_deadline()`` between steps and stop with
  :class:`~convexproof.errors.AnalysisTimeout`.  Free, works in any thread,
  but cannot interrupt one SymPy call that never returns;
* a *hard* limit, :func:`run_limited`: the call runs in a child process and is
  killed (SIGKILL / TerminateProcess) when the time is up.  On POSIX (Linux,
  macOS) the child is an ``os.fork`` copy of the running interpreter: it starts
  in milliseconds, needs nothing pickled on the way in, works from any thread
  and even inside daemonic worker processes (where ``multiprocessing`` refuses
  to start children).  Elsewhere (Windows) it is a ``multiprocessing`` *spawn*
  process, so ``fn`` must be a module-level function and the arguments must
  pickle.  SIGALRM is not used: it only works in the main thread and not on
  Windows.  Inside a child, nested calls run in-process (the outer hard limit
  still holds).

The result must pickle.  An exception raised in the child is re-raised in the
caller (a :class:`~convexproof.errors.ConvexproofError` unchanged, so the CLI
prints its one line); a child that dies without an answer (killed by the
operating system, out of memory) becomes a ``ConvexproofError``.

``CONVEXPROOF_NO_FORK=1`` runs every hard-limited call in-process (debugging,
profiling): only the cooperative deadline then applies.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .errors import AnalysisTimeout, ConvexproofError

DEFAULT_TIMEOUT = 10.0  # seconds: the default of `prove --timeout` and `regularize --timeout`
SOLVE_TIMEOUT = 60.0  # seconds for `solve`/`show` of one exercise, and per exercise of `handout`/`export`

SOLVE_TIMEOUT_ENV = "CONVEXPROOF_SOLVE_TIMEOUT"  # overrides SOLVE_TIMEOUT (seconds, 0.1 to 3600)

__all__ = ["DEFAULT_TIMEOUT", "SOLVE_TIMEOUT", "solve_timeout", "AnalysisTimeout", "ConvexproofError", "Deadline",
           "deadline", "check_deadline", "remaining", "run_limited"]


def _engine_limits():
    from .analyse import limits  # the one implementation

    return limits


def __getattr__(name: str) -> Any:  # Deadline, deadline, check_deadline, remaining, in_child
    if name in ("Deadline", "deadline", "check_deadline", "remaining", "in_child"):
        return getattr(_engine_limits(), name)
    raise AttributeError(name)


def solve_timeout() -> float:
    """Seconds allowed to solve one exercise: ``$CONVEXPROOF_SOLVE_TIMEOUT`` or :data:`SOLVE_TIMEOUT`."""
    import math
    import os

    raw = os.environ.get(SOLVE_TIMEOUT_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return SOLVE_TIMEOUT
    return value if math.isfinite(value) and 0.1 <= value <= 3600 else SOLVE_TIMEOUT


def run_limited(fn: Callable[..., Any], *args: Any, timeout: float | None, memory_mb: int | None = None,
                what: str | None = None, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` in a child process, killed after ``timeout`` seconds.

    Returns the result; raises :class:`AnalysisTimeout` on expiry and
    re-raises the child's own exception otherwise.  ``timeout=None`` runs the
    call in-process with no limit.  ``memory_mb`` also caps the child's
    address space where the platform has rlimits (POSIX ``RLIMIT_AS``);
    exceeding it surfaces as ``MemoryError`` (the CLI reports "input is too
    complex").  The cap must leave room for the interpreter already loaded
    (SymPy and NumPy take a few hundred MB of address space).  ``what``
    names the work in the timeout message ("solving exercise3 ran over ...").
    """
    if timeout is None:
        return fn(*args, **kwargs)
    if not timeout > 0:  # also nan, which would never expire
        raise AnalysisTimeout(f"{what or 'the analysis'} ran over its time limit (no time left)")
    if memory_mb:
        fn = functools.partial(_with_memory_cap, int(memory_mb), fn)
    try:
        return _engine_limits().run_isolated(fn, args, kwargs, timeout=float(timeout), grace=0.0)
    except AnalysisTimeout:
        if what is None:
            raise
        raise AnalysisTimeout(f"{what} ran over its time limit of {timeout:g} s and was stopped") from None


def _with_memory_cap(memory_mb: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs in the child: lower the address-space limit, then call ``fn``."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still applies
        return fn(*args, **kwargs)
    limit = memory_mb * 1024 * 1024
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            _soft, hard = resource.getrlimit(res)
            resource.setrlimit(res, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
            break
        except (ValueError, OSError):
            continue
    return fn(*args, **kwargs)
