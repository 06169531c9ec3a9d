"""The warm worker behind ``prove``: the same limits and the same answers as a one-off child, without a fork per call.

Each test names what a reused process could get wrong: a stale copy of the
parent's code, a deadline left over from an earlier caller, a dead worker, a
worker left in a bad state by a failed call.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

import convexproof.engine.prover as E
from convexproof.engine import prove
from convexproof.runtime import limits as L
from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError


def _pid_and_deadline():
    return os.getpid(), L._DEADLINE.get() is not None


def _check_deadline_now():
    L.check_deadline()
    return "went on"


def _allocate_a_lot():
    return len(bytearray(3 * 1024 ** 3))


def _sleep(seconds):
    time.sleep(seconds)
    return "woke"


@pytest.fixture(autouse=True)
def fresh_worker():
    L._stop_worker()
    yield
    L._stop_worker()


def test_calls_are_served_by_one_process():
    a = L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    b = L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    assert a[0] == b[0] != os.getpid()
    assert L.worker_pid() == a[0]


@pytest.mark.parametrize("expr, convex", [("x**2", True), ("x**3", False), ("exp(x) + x**4", True),
                                          ("log(x)", False), ("x**4 - 3*x**2", False)])
def test_prove_gives_the_one_off_childs_verdict(expr, convex, monkeypatch):
    warm = [prove(expr, wrt="x") for _ in range(3)]  # the 2nd and 3rd calls run in the same warm worker
    assert {"convex" in r.verdict and "not" not in r.verdict for r in warm} == {convex}
    monkeypatch.setenv("CONVEXPROOF_NO_FORK", "1")
    assert prove(expr, wrt="x").verdict == warm[0].verdict == warm[2].verdict


def test_a_patched_engine_function_is_seen_by_the_next_call(monkeypatch):
    """regression: a worker forked before a monkeypatch would have run the old code."""
    prove("x**2")
    prove("x**2")
    first = L.worker_pid()
    monkeypatch.setattr(E, "analyse", lambda problem: time.sleep(60))
    r = prove("x**2", timeout=0.5)
    assert r.timed_out and r.verdict == "unknown"
    assert L.worker_pid() != first


def test_a_changed_setting_renews_the_worker(monkeypatch):
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    first = L.worker_pid()
    monkeypatch.setenv("CONVEXPROOF_MEMORY_MB", "900")
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    assert L.worker_pid() != first


def test_the_callers_deadline_goes_with_the_call_and_no_further():
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)  # the worker exists before the deadline below
    with L.deadline(0.0):
        with pytest.raises(AnalysisTimeout):
            L.run_isolated(_check_deadline_now, timeout=10, reuse=True)
    assert L.run_isolated(_check_deadline_now, timeout=10, reuse=True) == "went on"
    assert L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)[1] is False


def test_a_worker_forked_inside_a_deadline_does_not_keep_it():
    with L.deadline(0.05):
        L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    time.sleep(0.1)
    assert L.run_isolated(_check_deadline_now, timeout=10, reuse=True) == "went on"


def test_a_call_over_its_time_is_stopped_and_the_next_one_runs():
    with pytest.raises(AnalysisTimeout):
        L.run_isolated(_sleep, (30,), timeout=0.3, grace=0.0, reuse=True)
    assert L.worker_pid() is None
    assert L.run_isolated(_sleep, (0,), timeout=10, reuse=True) == "woke"


def test_a_worker_killed_between_calls_is_replaced():
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    pid = L.worker_pid()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)[0] not in (pid, os.getpid())


def test_a_call_out_of_memory_is_an_error_and_the_worker_is_replaced():
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True)
    pid = L.worker_pid()
    with pytest.raises((MemoryError, ConvexproofError)):
        L.run_isolated(_allocate_a_lot, timeout=20, reuse=True, memory_mb=300)
    assert L.worker_pid() != pid
    assert L.run_isolated(_sleep, (0,), timeout=10, reuse=True) == "woke"


def test_an_unpicklable_call_runs_in_a_one_off_child():
    box = []
    assert L.run_isolated(lambda: len(box) + 1, timeout=10, reuse=True) == 1


def _grow(mb):
    global _KEEP
    _KEEP = bytearray(mb * 1024 * 1024)  # kept alive in the worker after the call
    return len(_KEEP)


_KEEP = None


def test_a_worker_left_holding_much_memory_is_replaced():
    L.run_isolated(_pid_and_deadline, timeout=10, reuse=True, memory_mb=600)
    pid = L.worker_pid()
    L.run_isolated(_grow, (350,), timeout=20, reuse=True, memory_mb=600)  # more than half of its 600 MB cap
    assert L.worker_pid() is None or L.worker_pid() != pid
    assert L.run_isolated(_pid_and_deadline, timeout=10, reuse=True, memory_mb=600)[0] != pid
