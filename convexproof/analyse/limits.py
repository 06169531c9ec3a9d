"""Time limits that always hold: a cooperative deadline plus a child process.

Two layers:

* :class:`Deadline` is checked *between* steps of the analysis
  (:func:`check_deadline`).  When it runs out the analysis raises
  :class:`~convexproof.errors.AnalysisTimeout` and the engine turns that into
  an honest "unknown" that keeps the steps done so far.
* :func:`run_isolated` runs the whole analysis in a child process and kills it
  (SIGKILL) if it is still running at the hard limit: a SymPy call that never
  returns cannot hang the caller.  On POSIX the child is made with ``fork`` (a
  copy of the already-imported interpreter, so it starts in milliseconds); it
  works from any thread, and also inside daemonic worker processes, where
  ``multiprocessing.Process`` refuses to start children.  Elsewhere it uses a
  ``multiprocessing`` "spawn" process.  Inside the child, nested calls run in
  process (there is already a hard limit around them).
"""

from __future__ import annotations

import contextvars
import os
import pickle
import select
import signal
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable

from ..errors import AnalysisTimeout, ConvexproofError

_DEADLINE: contextvars.ContextVar["Deadline | None"] = contextvars.ContextVar("convexproof_deadline", default=None)
_IN_CHILD = False


class Deadline:
    """A point in (monotonic) time after which the analysis must stop."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


@contextmanager
def deadline(seconds: float):
    """Run the block with a cooperative deadline (nested deadlines keep the earlier one)."""
    outer = _DEADLINE.get()
    new = Deadline(seconds)
    if outer is not None and outer.end < new.end:
        new = outer
    token = _DEADLINE.set(new)
    try:
        yield new
    finally:
        _DEADLINE.reset(token)


def check_deadline() -> None:
    """Raise AnalysisTimeout if the current deadline has passed."""
    d = _DEADLINE.get()
    if d is not None and d.expired():
        raise AnalysisTimeout(f"the analysis ran over its time limit of {d.seconds:g} s")


def remaining(default: float = 10.0) -> float:
    d = _DEADLINE.get()
    return default if d is None else max(d.remaining(), 0.0)


def in_child() -> bool:
    return _IN_CHILD


def _child_main(fn, args, kwargs):  # pragma: no cover - runs in the child
    try:
        payload = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        payload = ("err", exc)
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # unpicklable result or exception
        return pickle.dumps(("err", ConvexproofError(f"internal error in the analysis ({type(exc).__name__}: {exc})")))


def run_isolated(fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *,
                 timeout: float, grace: float = 0.5) -> Any:
    """Call ``fn(*args, **kwargs)`` in a child process; kill it after ``timeout + grace`` s.

    Raises :class:`AnalysisTimeout` if the child had to be killed.  Exceptions
    raised in the child are re-raised here.  Set CONVEXPROOF_NO_FORK=1 to run in
    process (cooperative deadline only), e.g. under a debugger.
    """
    kwargs = kwargs or {}
    if _IN_CHILD or os.environ.get("CONVEXPROOF_NO_FORK"):
        return fn(*args, **kwargs)
    limit = timeout + grace
    if hasattr(os, "fork"):
        return _run_forked(fn, args, kwargs, limit)
    return _run_spawned(fn, args, kwargs, limit)  # pragma: no cover - non-POSIX


def _run_forked(fn, args, kwargs, limit):
    global _IN_CHILD
    r, w = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(r)
            _IN_CHILD = True
            data = _child_main(fn, args, kwargs)
            view = memoryview(data)
            while view:
                n = os.write(w, view)
                view = view[n:]
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    end = time.monotonic() + limit
    done = False
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            data = os.read(r, 1 << 16)
            if not data:
                done = True
                break
            chunks.append(data)
    finally:
        os.close(r)
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if not done:
        raise AnalysisTimeout(f"the analysis ran over its time limit of {limit:g} s and was stopped")
    return _unpack(b"".join(chunks))


def _unpack(data: bytes):
    if not data:
        raise ConvexproofError("internal error: the analysis process ended without a result")
    status, value = pickle.loads(data)
    if status == "ok":
        return value
    raise value


def _spawn_target(conn, fn, args, kwargs):  # pragma: no cover - child
    global _IN_CHILD
    _IN_CHILD = True
    conn.send_bytes(_child_main(fn, args, kwargs))
    conn.close()


def _run_spawned(fn, args, kwargs, limit):  # pragma: no cover - non-POSIX
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_spawn_target, args=(child, fn, args, kwargs), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(limit):
            return _unpack(parent.recv_bytes())
        raise AnalysisTimeout(f"the analysis ran over its time limit of {limit:g} s and was stopped")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1)
