"""Time and memory limits: one table of defaults, one mechanism, for every caller.

This is the one module for limits: the table of defaults, the mechanism
(the engine needs it first) and the wrappers the rest of the package
(``check``, ``grade``, solvers, benchmarks) calls.  Every cap is listed in ``docs/limits.md``.

Two layers:

* a *cooperative* deadline, :func:`deadline` / :func:`check_deadline`: long
  loops call ``check_deadline()`` between steps and stop with
  :class:`~convexproof.runtime.errors.AnalysisTimeout`.  Free, works in any thread,
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
caller (a :class:`~convexproof.runtime.errors.ConvexproofError` unchanged, so the CLI
prints its one line); a child that dies without an answer (killed by the
operating system, out of memory) becomes a ``ConvexproofError``.

``CONVEXPROOF_NO_FORK=1`` runs every hard-limited call in-process (debugging,
profiling): only the cooperative deadline then applies.
"""

from __future__ import annotations

import contextvars
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable

from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError

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



# --------------------------------------------------------------------------
# The mechanism: cooperative deadline and hard-limited child process.
# --------------------------------------------------------------------------
_DEADLINE: contextvars.ContextVar["Deadline | None"] = contextvars.ContextVar("convexproof_deadline", default=None)
_IN_CHILD = False
_CHILD_PIPE: int | None = None  # in a forked child: the write end of the pipe to the parent


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


def remaining(default: float = DEFAULT_TIMEOUT) -> float:
    d = _DEADLINE.get()
    return default if d is None else max(d.remaining(), 0.0)


def in_child() -> bool:
    return _IN_CHILD


def report_partial(obj: Any) -> None:
    """In a limited child, send ``obj`` to the parent now (it must pickle).

    If the child is killed later, the parent's :class:`AnalysisTimeout` carries
    the last object sent as ``.partial``.  Outside a forked child this does
    nothing.
    """
    if _CHILD_PIPE is None:
        return
    try:
        _write_frame(_CHILD_PIPE, pickle.dumps(("partial", obj), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - a partial result is optional
        pass


def _child_main(fn, args, kwargs):  # pragma: no cover - runs in the child
    try:
        payload = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        payload = ("err", exc)
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps(("err", MemoryError()))
    except Exception as exc:  # unpicklable result or exception
        return pickle.dumps(("err", ConvexproofError(f"internal error in the analysis ({type(exc).__name__}: {exc})")))


def run_isolated(fn: Callable[..., Any], args: tuple = (), kwargs: dict | None = None, *,
                 timeout: float, grace: float = 0.5, memory_mb: int | None = -1, reuse: bool = False) -> Any:
    """Call ``fn(*args, **kwargs)`` in a child process; kill it after ``timeout + grace`` s.

    ``reuse=True`` (short, frequent calls such as one ``prove``) runs the call
    in the warm worker (:func:`_run_in_worker`): the same limits, without the
    price of a fork and a cold child per call.

    Raises :class:`AnalysisTimeout` if the child had to be killed (with
    ``.partial``, the last :func:`report_partial` object, or None).  Exceptions
    raised in the child are re-raised here.  ``memory_mb`` caps the child's
    address space (-1: the default, :func:`convexproof.runtime.limits.memory_mb`;
    None or 0: no cap).  Set CONVEXPROOF_NO_FORK=1 to run in process
    (cooperative deadline only), e.g. under a debugger.
    """
    kwargs = kwargs or {}
    if _IN_CHILD or os.environ.get("CONVEXPROOF_NO_FORK"):
        return fn(*args, **kwargs)
    limit = timeout + grace
    if memory_mb == -1:
        memory_mb = default_memory_mb()
    if hasattr(os, "fork"):
        if reuse:
            value = _run_in_worker(fn, args, kwargs, limit, memory_mb)
            if value is not _NO_WORKER:
                return value
        return _run_forked(fn, args, kwargs, limit, memory_mb)
    return _run_spawned(fn, args, kwargs, limit)  # pragma: no cover - non-POSIX


# ------------------------------------------------------------ the child's lot
_LIBC = None


def _libc():
    """libc for prctl, loaded in the parent (no dlopen after a fork)."""
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        try:
            import ctypes

            _LIBC = ctypes.CDLL(None, use_errno=True)
        except (OSError, ImportError, AttributeError):
            _LIBC = False
    return _LIBC or None


def die_with_parent(parent_pid: int) -> None:
    """Make this process die (SIGKILL) when its parent does; exit at once if the parent is already gone.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``.  Elsewhere: a daemon thread
    polls the parent's pid.  Also used as the ``grade`` pool's worker initializer.
    """
    libc = _libc()
    ok = False
    if libc is not None:
        try:
            ok = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG = 1
        except Exception:  # noqa: BLE001
            ok = False
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    if not ok:
        def watch():  # pragma: no cover - non-Linux
            while True:
                time.sleep(0.5)
                if os.getppid() != parent_pid:
                    os._exit(1)

        threading.Thread(target=watch, daemon=True, name="convexproof-parent-watch").start()


def _address_space_mb() -> int:
    """The address space this process has mapped now, in MB (0 if unknown)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def cap_memory(memory_mb: int | None) -> None:
    """Cap this process's address space (``RLIMIT_AS``) at ``memory_mb`` MB.

    Never below what is already mapped plus ``DEFAULTS["memory_headroom_mb"]``
    (NumPy's thread buffers can make a process's address space large before
    any work is done).  No-op without rlimits (Windows) or with memory_mb falsy.
    """
    if not memory_mb:
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: the time limit still applies
        return
    mb = max(int(memory_mb), _address_space_mb() + int(DEFAULTS["memory_headroom_mb"]))
    limit = mb * 1024 * 1024
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            soft, hard = resource.getrlimit(res)
            new = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            if soft != resource.RLIM_INFINITY and soft < new:
                new = soft  # a lower cap set by the caller (or an outer limit) stays
            resource.setrlimit(res, (new, hard))
            break
        except (ValueError, OSError):
            continue


def _child_setup(parent_pid: int, memory_mb: int | None) -> None:  # pragma: no cover - runs in the child
    """Right after the fork: die with the parent, default SIGTERM, capped memory."""
    die_with_parent(parent_pid)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):
            pass
    cap_memory(memory_mb)


def _write_frame(fd: int, data: bytes) -> None:
    for part in (struct.pack("!Q", len(data)), data):  # no concatenated copy: memory may be short
        view = memoryview(part)
        while view:
            n = os.write(fd, view)
            view = view[n:]


_MEMORY_ERROR = pickle.dumps(("err", MemoryError()))  # ready-made: sent when nothing else can be built


def _frames(data: bytes) -> list:
    """The complete frames in ``data`` (a killed child may leave a partial one at the end)."""
    out: list = []
    _read_frames(data, 0, out)
    return out


def _read_frames(data, i: int, out: list) -> int:
    """Append the complete frames of ``data`` from offset ``i`` to ``out``; the offset after the last one."""
    while i + 8 <= len(data):
        (n,) = struct.unpack_from("!Q", data, i)
        if i + 8 + n > len(data):
            break
        try:
            out.append(pickle.loads(data[i + 8:i + 8 + n]))
        except Exception:  # noqa: BLE001 - an unreadable frame is dropped
            pass
        i += 8 + n
    return i


def _fork(memory_mb, answer_fd: int, parent_only: tuple, body: Callable[[], Any]) -> int:
    """Fork a limited child that runs ``body()`` and exits; it answers on ``answer_fd``.

    The child closes the parent's ends ``parent_only``, dies with its parent and
    has its memory capped.  Returns the child's pid (in the parent).
    """
    global _IN_CHILD, _CHILD_PIPE
    _libc()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    parent_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            for fd in parent_only:
                os.close(fd)
            _IN_CHILD = True
            _CHILD_PIPE = answer_fd
            _child_setup(parent_pid, memory_mb)
            body()
        except BaseException as exc:  # noqa: BLE001
            code = 1
            if isinstance(exc, MemoryError):
                try:
                    _write_frame(answer_fd, _MEMORY_ERROR)
                except BaseException:  # noqa: BLE001
                    pass
        finally:
            os._exit(code)
    return pid


def _partial(frames: list):
    """The last partial result among the frames, or None."""
    return next((v for tag, v in reversed(frames) if tag == "partial"), None)


def _await_answer(fd: int, limit: float) -> list:
    """The child's frames up to its answer, or up to ``("died", None)`` if it ended without one.

    Returns as soon as the answer is complete: the end of file comes only once the child's address space
    is torn down (milliseconds for a large parent, paid on every call).  Raises AnalysisTimeout (with
    ``.partial``) after ``limit`` s.
    """
    frames: list = []
    buf = bytearray()
    pos = 0
    end = time.monotonic() + limit
    while not (frames and frames[-1][0] != "partial"):
        left = end - time.monotonic()
        if left <= 0:
            exc = AnalysisTimeout(f"the analysis ran over its time limit of {limit:g} s and was stopped")
            exc.partial = _partial(frames)
            raise exc
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 1 << 16)
        if not data:
            frames.append(("died", None))
            return frames
        buf += data
        pos = _read_frames(buf, pos, frames)
    return frames


def _answer(frames: list):
    """The call's value from its final frame, or its exception raised (with the last partial result on it)."""
    tag, value = frames[-1]
    if tag == "ok":
        return value
    try:  # e.g. a MemoryError after the verdict was found: the caller can still use it
        value.partial = _partial(frames)
    except (AttributeError, TypeError):
        pass
    raise value


def _run_forked(fn, args, kwargs, limit, memory_mb=None):
    r, w = os.pipe()
    pid = _fork(memory_mb, w, (r,), lambda: _write_frame(w, _child_main(fn, args, kwargs)))
    os.close(w)
    try:
        frames = _await_answer(r, limit)
    except BaseException:  # the time limit (or SIGTERM, Ctrl-C): the child goes with the call
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap_later(pid)  # the kernel frees a large child's memory slowly: do not wait for it
        raise
    finally:
        os.close(r)
    if frames[-1][0] != "died":
        _reap_later(pid)
        return _answer(frames)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        raise ConvexproofError("the analysis process was killed (out of memory?) before it gave a result")
    raise ConvexproofError("internal error: the analysis process ended without a result")


# ------------------------------------------------------------ the warm worker
# A fork costs little, but the child pays for it: every object it touches is
# copied on write, and every cache it fills is lost when it ends.  For short,
# frequent calls (one ``prove``: 10 to 50 ms of work) that is half the time.
# The warm worker is one forked child that serves calls one after another over
# a pair of pipes, under the same limits: it is killed when a call runs over
# its time (the next call forks a new one), its address space is capped, it
# dies with its parent, and it is replaced after an internal failure or a
# MemoryError, when it holds more than WORKER_MEMORY_SHARE of its cap, after
# WORKER_CALLS calls, and whenever the parent's state may differ from the one
# it was forked from (a module global of the package rebound, e.g. by a test's
# monkeypatch, or a CONVEXPROOF_* variable changed): it always computes what a
# fresh child would.
WORKER_CALLS = 400
WORKER_MEMORY_SHARE = 0.5  # a worker whose resident memory passes this share of its cap is replaced after the call

_NO_WORKER = object()  # "use a one-off child instead"
_POOL: "dict[str, Any]" = {"worker": None}  # one object, never rebound (module globals are the worker's fingerprint)
_WORKER_LOCK = threading.Lock()
WORKER_STATS = {"started": 0, "calls": 0}


def _state_key(memory_mb) -> int:
    """A fingerprint of what a forked child inherits and the package may read: its module globals, its variables."""
    parts: list = [memory_mb, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CONVEXPROOF")))]
    for name, mod in list(sys.modules.items()):
        if name.startswith("convexproof") and mod is not None:
            parts.append((name, tuple(map(id, vars(mod).values()))))
    return hash(tuple(parts))


def _read_exact(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _worker_loop(req: int, resp: int) -> None:  # pragma: no cover - runs in the worker
    _DEADLINE.set(None)  # each call brings the caller's own deadline
    while True:
        head = _read_exact(req, 8)
        if head is None:
            return  # the parent closed its end
        data = _read_exact(req, struct.unpack("!Q", head)[0])
        if data is None:
            return
        try:
            fn, args, kwargs, left = pickle.loads(data)
        except BaseException as exc:  # noqa: BLE001
            _write_frame(resp, pickle.dumps(("err", ConvexproofError(f"internal error: the call did not reach "
                                                                      f"the worker ({type(exc).__name__})"))))
            continue
        if left is None:
            _write_frame(resp, _child_main(fn, args, kwargs))
        else:
            with deadline(left):
                _write_frame(resp, _child_main(fn, args, kwargs))


def _stop_worker() -> None:
    w, _POOL["worker"] = _POOL["worker"], None
    if w is None:
        return
    for fd in (w["req"], w["resp"]):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        os.kill(w["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap_later(w["pid"])


def _start_worker(memory_mb, key) -> dict:
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    pid = _fork(memory_mb, resp_w, (req_w, resp_r), lambda: _worker_loop(req_r, resp_w))
    os.close(req_r)
    os.close(resp_w)
    WORKER_STATS["started"] += 1
    return {"pid": pid, "req": req_w, "resp": resp_r, "owner": os.getpid(), "key": key, "calls": 0,
            "thread": threading.get_ident()}


def worker_pid() -> int | None:
    """The warm worker's process id, if one is running (benchmarks read its CPU time)."""
    w = _POOL["worker"]
    return None if w is None else w["pid"]


def _run_in_worker(fn, args, kwargs, limit, memory_mb):
    """Run the call in the warm worker; ``_NO_WORKER`` if it cannot be sent there (then a one-off child runs it)."""
    try:
        outer = _DEADLINE.get()  # a fork would inherit the caller's deadline: the worker is told it
        request = pickle.dumps((fn, args, kwargs, None if outer is None else max(outer.remaining(), 0.0)),
                               protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a closure or an unpicklable argument: a one-off child inherits it instead
        return _NO_WORKER
    if not _WORKER_LOCK.acquire(blocking=False):
        return _NO_WORKER  # another thread is using the worker
    try:
        _libc()  # loaded before the fingerprint is taken: loading it later would change it
        key = _state_key(memory_mb)
        w = _POOL["worker"]
        if w is not None and (w["owner"] != os.getpid() or w["key"] != key or w["calls"] >= WORKER_CALLS
                              or w["thread"] != threading.get_ident() or _ended(w["pid"])):
            if w["owner"] == os.getpid():
                _stop_worker()
            _POOL["worker"] = w = None
        if w is None:
            _POOL["worker"] = w = _start_worker(memory_mb, key)
        w["calls"] += 1
        WORKER_STATS["calls"] += 1
        try:
            _write_frame(w["req"], request)
        except OSError:
            _stop_worker()
            return _NO_WORKER
        try:
            frames = _await_answer(w["resp"], limit)
        except BaseException:  # SIGTERM, Ctrl-C, a time-out: the worker goes with the call
            _stop_worker()
            raise
        if frames[-1][0] == "died":  # killed (out of memory?) or ended
            _stop_worker()
            if len(frames) == 1 and w["calls"] > 1:
                return _NO_WORKER  # it may have died between calls: the call runs in a one-off child
            raise ConvexproofError("the analysis process was killed (out of memory?) before it gave a result")
        tag, value = frames[-1]
        if (memory_mb and _resident_mb(w["pid"]) > WORKER_MEMORY_SHARE * memory_mb) or (
                tag != "ok" and (not isinstance(value, ConvexproofError) or isinstance(value, MemoryError))):
            _stop_worker()  # a large heap left behind, or an internal failure that may have left a bad state
        return _answer(frames)
    finally:
        _WORKER_LOCK.release()


def _resident_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def _ended(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def _at_exit() -> None:
    w = _POOL["worker"]
    if w is not None and w["owner"] == os.getpid():
        _stop_worker()


__import__("atexit").register(_at_exit)


def _reap_later(pid: int) -> None:
    """Collect a child that has ended or been killed, without waiting for its teardown."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return
    except ChildProcessError:
        return

    def reap():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    threading.Thread(target=reap, daemon=True, name=f"convexproof-reap-{pid}").start()


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


# --------------------------------------------------------------------------
# What callers use.
# --------------------------------------------------------------------------
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
        return run_isolated(fn, args, kwargs, timeout=float(timeout), grace=0.0,
                                             memory_mb=memory_mb)
    except AnalysisTimeout as exc:
        if what is None:
            raise
        new = AnalysisTimeout(f"{what} ran over its time limit of {timeout:g} s and was stopped")
        new.partial = getattr(exc, "partial", None)
        raise new from None


default_memory_mb = memory_mb  # the module-level reader, for functions whose parameter is called memory_mb
