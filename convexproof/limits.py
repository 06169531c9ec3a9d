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

Every hard-limited child also has its address space capped (``RLIMIT_AS``,
:data:`MEMORY_MB` by default, :func:`memory_mb`) and dies with its parent
(``PR_SET_PDEATHSIG`` on Linux); it may send a partial result with
:func:`report_partial`, which the caller finds on ``AnalysisTimeout.partial``.
All the default numbers are in the one table :data:`DEFAULTS`.

The result must pickle.  An exception raised in the child is re-raised in the
caller (a :class:`~convexproof.errors.ConvexproofError` unchanged, so the CLI
prints its one line); a child that dies without an answer (killed by the
operating system, out of memory) becomes a ``ConvexproofError``.

``CONVEXPROOF_NO_FORK=1`` runs every hard-limited call in-process (debugging,
profiling): only the cooperative deadline then applies.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import AnalysisTimeout, ConvexproofError

# --------------------------------------------------------------------------
# The one table of defaults.  docs/limits.md gives the same numbers; every
# module takes its default from here (tests/test_limits.py checks the docs).
# --------------------------------------------------------------------------
DEFAULTS: dict[str, float] = {
    # time, in seconds
    "prove_timeout": 10.0,  # `prove`/`regularize --timeout`: parsing, analysis and writing the proof
    "timeout_min": 0.1,  # smallest --timeout accepted
    "timeout_max": 600.0,  # largest --timeout accepted
    "analysis_share": 0.8,  # of --timeout for the analysis (cooperative deadline); the rest writes the proof
    "grace": 0.25,  # the hard kill comes this long after --timeout
    "solve_timeout": 60.0,  # `solve`/`show` of one exercise variant; per variant in handout/export/selftest/check/grade
    "solve_timeout_max": 3600.0,  # largest $CONVEXPROOF_SOLVE_TIMEOUT accepted
    "pdf_timeout": 300.0,  # pdflatex in `handout --format pdf`
    "check_timeout": 20.0,  # `check`: one answer, parsing to feedback
    "row_timeout": 10.0,  # `grade`: one distinct answer in a worker (a row that runs over is retried once alone)
    # memory, in MB of address space (RLIMIT_AS) of every hard-limited child process
    "memory_mb": 800.0,  # also $CONVEXPROOF_MEMORY_MB (256 to 1048576; 0 turns the cap off)
    "memory_headroom_mb": 512.0,  # the cap is never less than what the child already has mapped plus this
}

DEFAULT_TIMEOUT = DEFAULTS["prove_timeout"]  # seconds: the default of `prove --timeout` and `regularize --timeout`
TIMEOUT_RANGE = (DEFAULTS["timeout_min"], DEFAULTS["timeout_max"])
SOLVE_TIMEOUT = DEFAULTS["solve_timeout"]  # seconds for `solve`/`show` of one exercise, and per exercise of `handout`/`export`
PDF_TIMEOUT = DEFAULTS["pdf_timeout"]
CHECK_TIMEOUT = DEFAULTS["check_timeout"]
ROW_TIMEOUT = DEFAULTS["row_timeout"]
MEMORY_MB = int(DEFAULTS["memory_mb"])

_IMPORTED = __import__("time").monotonic()  # fallback start of the command where /proc is missing

SOLVE_TIMEOUT_ENV = "CONVEXPROOF_SOLVE_TIMEOUT"  # overrides SOLVE_TIMEOUT (seconds, 0.1 to 3600)
MEMORY_ENV = "CONVEXPROOF_MEMORY_MB"  # overrides MEMORY_MB (256 to 1048576; 0 turns the cap off)

__all__ = ["DEFAULTS", "DEFAULT_TIMEOUT", "TIMEOUT_RANGE", "SOLVE_TIMEOUT", "PDF_TIMEOUT", "CHECK_TIMEOUT",
           "ROW_TIMEOUT", "MEMORY_MB", "solve_timeout", "memory_mb", "AnalysisTimeout", "ConvexproofError",
           "Deadline", "deadline", "check_deadline", "remaining", "run_limited", "report_partial", "die_with_parent"]


def _engine_limits():
    from .analyse import limits  # the one implementation

    return limits


def __getattr__(name: str) -> Any:  # Deadline, deadline, check_deadline, remaining, in_child
    if name in ("Deadline", "deadline", "check_deadline", "remaining", "in_child", "report_partial",
                "die_with_parent", "cap_memory"):
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
    return value if math.isfinite(value) and 0.1 <= value <= DEFAULTS["solve_timeout_max"] else SOLVE_TIMEOUT


def process_elapsed() -> float:
    """Seconds since this process started (Python's start-up and imports included; 0 if unknown).

    The CLI's ``--timeout`` covers the whole command, so the time already
    spent before the analysis starts is taken off its budget.
    """
    import os

    try:
        with open("/proc/self/stat", "rb") as fh:
            start_ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        import time

        return max(time.monotonic() - _IMPORTED, 0.0)


def memory_mb() -> int:
    """The address-space cap of a limited child in MB: ``$CONVEXPROOF_MEMORY_MB`` or :data:`MEMORY_MB` (0: off)."""
    import os

    raw = os.environ.get(MEMORY_ENV, "").strip()
    if not raw:
        return MEMORY_MB
    try:
        value = int(raw)
    except ValueError:
        return MEMORY_MB
    return value if value == 0 or 256 <= value <= 1048576 else MEMORY_MB


def run_limited(fn: Callable[..., Any], *args: Any, timeout: float | None, memory_mb: int | None = -1,
                what: str | None = None, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` in a child process, killed after ``timeout`` seconds.

    Returns the result; raises :class:`AnalysisTimeout` on expiry and
    re-raises the child's own exception otherwise.  ``timeout=None`` runs the
    call in-process with no limit.  ``memory_mb`` caps the child's address
    space where the platform has rlimits (POSIX ``RLIMIT_AS``): -1 (the
    default) is :func:`memory_mb`, ``None`` or 0 no cap; exceeding it surfaces
    as ``MemoryError`` (the CLI reports "input is too complex").  The cap is
    never below what the child has already mapped plus
    ``DEFAULTS["memory_headroom_mb"]``.  ``what`` names the work in the
    timeout message ("solving exercise3 ran over ...").  The child dies with
    its parent.
    """
    if timeout is None:
        return fn(*args, **kwargs)
    if not timeout > 0:  # also nan, which would never expire
        raise AnalysisTimeout(f"{what or 'the analysis'} ran over its time limit (no time left)")
    try:
        return _engine_limits().run_isolated(fn, args, kwargs, timeout=float(timeout), grace=0.0,
                                             memory_mb=memory_mb)
    except AnalysisTimeout as exc:
        if what is None:
            raise
        new = AnalysisTimeout(f"{what} ran over its time limit of {timeout:g} s and was stopped")
        new.partial = getattr(exc, "partial", None)
        raise new from None
