"""Time and memory limits that work from any thread and on every platform.

Two tools, for two kinds of work (the caps themselves are listed in
``docs/limits.md``):

* :class:`Deadline`: a *cooperative* budget.  Long loops call
  ``deadline.check()`` (or test ``deadline.expired``) between steps and stop
  with :class:`~convexproof.errors.AnalysisTimeout`.  Costs nothing, works in
  any thread, but cannot interrupt a single SymPy call that never returns.

* :func:`run_limited`: a *hard* limit.  The call runs in a child process
  (``fork`` where the platform has it, so nothing needs pickling on the way
  in; ``spawn`` elsewhere, e.g. Windows) and is killed (SIGKILL /
  TerminateProcess) when the time is up.  Use it around one expensive SymPy
  call (``simplify``, ``solve``, ``reduce_inequalities``) that might not
  return.  SIGALRM is not used: it only works in the main thread and not on
  Windows.

Exceptions raised in the child come back as themselves when they pickle, so
a :class:`~convexproof.errors.ConvexproofError` from the child is re-raised in
the parent unchanged; anything else that cannot be pickled comes back as a
``ConvexproofError`` with its one-line description.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from typing import Any, Callable

from .errors import AnalysisTimeout, ConvexproofError

DEFAULT_TIMEOUT = 10.0  # seconds, the default of `prove --timeout` and `regularize --timeout`
KILL_GRACE = 2.0  # seconds to wait for a killed child to go away
#: ``CONVEXPROOF_INPROCESS=1`` runs :func:`run_limited` calls in-process (debugging, profiling).
INPROCESS_ENV = "CONVEXPROOF_INPROCESS"


class Deadline:
    """A cooperative time budget: ``check()`` raises :class:`AnalysisTimeout` once it has passed.

    ``Deadline(None)`` never expires.  ``remaining()`` is what a nested hard
    limit (:func:`run_limited`) should be given, so the two agree.
    """

    __slots__ = ("seconds", "start", "end", "what")

    def __init__(self, seconds: float | None, what: str = "the analysis"):
        self.seconds = seconds
        self.what = what
        self.start = time.monotonic()
        self.end = None if seconds is None else self.start + max(0.0, float(seconds))

    @property
    def expired(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def remaining(self) -> float | None:
        if self.end is None:
            return None
        return max(0.0, self.end - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def check(self) -> None:
        if self.expired:
            raise AnalysisTimeout(f"{self.what} timed out after {self.seconds:g} s")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Deadline({self.seconds!r}, remaining={self.remaining()!r})"


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    # fork is cheap (no re-import of SymPy) and does not need fn to pickle; it
    # exists on Linux and macOS.  Windows only has spawn.
    return "fork" if "fork" in methods else "spawn"


def _child(conn, fn, args, kwargs, memory_mb) -> None:  # runs in the child process
    try:
        if memory_mb:
            _limit_memory(memory_mb)
        result = fn(*args, **kwargs)
        payload = ("ok", result)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        payload = ("error", exc)
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
        what = payload[1]
        if payload[0] == "error":
            msg = (what.one_line() if isinstance(what, ConvexproofError)
                   else f"{type(what).__name__}: {what}")
        else:
            msg = f"the result could not be sent back ({type(exc).__name__})"
        data = pickle.dumps(("error", ConvexproofError(msg)))
    try:
        conn.send_bytes(data)
    finally:
        conn.close()


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time limit still applies
        return
    limit = int(memory_mb) * 1024 * 1024
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            _soft, hard = resource.getrlimit(res)
            soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            resource.setrlimit(res, (soft, hard))
            return
        except (ValueError, OSError):
            continue


def run_limited(fn: Callable[..., Any], *args: Any, timeout: float | None, memory_mb: int | None = None,
                what: str = "the analysis", start_method: str | None = None, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` in a child process; kill it after ``timeout`` seconds.

    Returns the call's result (which must pickle).  Raises
    :class:`AnalysisTimeout` on expiry, re-raises the child's exception, or a
    :class:`ConvexproofError` if the child died without an answer (killed
    by the operating system, out of memory).  ``timeout=None`` means no limit.
    ``memory_mb`` caps the child's address space where the platform allows
    (POSIX ``RLIMIT_AS``); going over it surfaces as ``MemoryError``.

    ``start_method`` overrides the choice of ``fork``/``spawn`` (tests use it).
    Safe to call from any thread.  With the ``spawn`` start method (Windows),
    ``fn`` must be a module-level function and the arguments must pickle.
    """
    if timeout is not None and timeout <= 0:
        raise AnalysisTimeout(f"{what} timed out (no time left)")
    if os.environ.get(INPROCESS_ENV) == "1":
        return fn(*args, **kwargs)
    ctx = multiprocessing.get_context(start_method or _start_method())
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs, memory_mb), daemon=True)
    with _FORK_LOCK:  # two threads forking at once is fine, but keep the pipe ends tidy
        proc.start()
    send.close()
    try:
        if not recv.poll(timeout):
            raise AnalysisTimeout(f"{what} timed out after {timeout:g} s")
        try:
            data = recv.recv_bytes()
        except (EOFError, OSError):
            data = None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join(KILL_GRACE)
        if hasattr(proc, "close") and not proc.is_alive():
            proc.close()
    if data is None:
        raise ConvexproofError(f"{what} stopped unexpectedly (out of memory or killed)")
    status, value = pickle.loads(data)
    if status == "ok":
        return value
    if isinstance(value, (KeyboardInterrupt, SystemExit)):
        raise ConvexproofError(f"{what} was interrupted")
    raise value


_FORK_LOCK = threading.Lock()


def hard_limits_available() -> bool:
    """True when :func:`run_limited` can really kill a runaway call (always, barring a broken install)."""
    try:
        return bool(multiprocessing.get_all_start_methods())
    except Exception:  # noqa: BLE001  # pragma: no cover
        return False


__all__ = ["DEFAULT_TIMEOUT", "Deadline", "run_limited", "hard_limits_available", "INPROCESS_ENV"]
