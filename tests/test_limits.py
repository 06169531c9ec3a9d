"""Limits that hold everywhere (issue #16, "High: limits not kept").

Each test is named after what broke.  Commands that used to hang run in a
subprocess whose ``timeout`` is only a generous sanity cap (a hang fails the
test instead of hanging the suite); how close each command stays to its
documented limit is measured by ``benchmarks/bench_hostile.py``, not asserted
here (no timed assertions in tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANITY = 120  # seconds: a hang fails the test, it does not hang the suite


def cli(*args: str, timeout: float = SANITY, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("CONVEXPROOF_EXERCISES", None)
    return subprocess.run([sys.executable, "-m", "convexproof", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def one_line_exit_2(proc: subprocess.CompletedProcess) -> str:
    """Exit 2, exactly one line on stderr starting 'convexproof: ', no traceback."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-500:])
    lines = proc.stderr.strip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("convexproof: "), proc.stderr
    return lines[0]


def _exercise(folder: Path, ex_id: str, old: str, new: str) -> None:
    text = (ROOT / "exercises" / "exercise3.toml").read_text(encoding="utf-8")
    text = text.replace('id = "exercise3"', f'id = "{ex_id}"', 1)
    assert old in text
    (folder / f"{ex_id}.toml").write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------
# Values put into a formula pass the parser's caps (convexproof.substitute)
# --------------------------------------------------------------------------
def test_parameter_tower_fixed_by_where_is_refused():
    """`prove "x**2 + a**a**a**a*x" --where "a = 3"` never returned (3**7625597484987)."""
    msg = one_line_exit_2(cli("prove", "x**2 + a**a**a**a*x", "--wrt", "x", "--where", "a = 3"))
    assert "a = 3" in msg and "exponent" in msg and "too large" in msg


def test_exponent_fixed_by_where_is_capped():
    """`x**a` with `--where "a = 10**50"` slipped past the exponent cap of 200."""
    msg = one_line_exit_2(cli("prove", "x**a", "--wrt", "x", "--where", "a = 10**50"))
    assert "limit 200" in msg


def test_substitute_applies_every_parser_cap():
    import sympy as sp

    from convexproof.errors import ParseError
    from convexproof.parse import parse_any, symbol
    from convexproof.substitute import substitute

    a = symbol("a")
    refused = [("a**a**a**a*x", 3, "exponent"), ("x**a", 10**50, "exponent"), ("x**(a*pi)", 10**50, "exponent"),
               ("exp(exp(exp(a)))*x", 10, "exponential"), ("sinh(a)*x", 10**4, "exponential"),
               ("(a**60)**10 + x", 10, "too large"), ("1/a + x", 0, "undefined"), ("log(a)*x", 0, r"log\(0\)"),
               ("sqrt(a)*x", -1, "real"), ("[[a**a**a, 1], [1, x]]", 9, "exponent")]
    for text, value, word in refused:
        with pytest.raises(ParseError, match=word):
            substitute(parse_any(text), {a: value})
    x = symbol("x")
    assert substitute(parse_any("x**a + a**a"), {a: 3}) == x**3 + 27
    assert substitute(parse_any("Piecewise((x, x > a), (x**2, True))"), {a: 2}) == sp.Piecewise((x, x > 2),
                                                                                                 (x**2, True))
    assert substitute(parse_any("a*x > 3"), {a: 2}) == (2 * x > 3)


def test_parameter_tower_in_a_student_answer_is_invalid():
    """A student's `a^a^a^a` with the exercise's a = 3 went through xreplace, which evaluates the tower."""
    msg = one_line_exit_2(cli("check", "exercise3", "--answer", "a^a^a^a"))
    assert "invalid" in msg and "exponent" in msg


def test_parameter_tower_in_an_exercise_file_names_the_field(tmp_path):
    """An exercise parameter put into `a^a^a^a` by the file's own formula is refused, naming file and field."""
    _exercise(tmp_path, "tower", 'function = "x^4 - a x^2"', 'function = "x^4 - a x^2 + a^a^a^a x"')
    msg = one_line_exit_2(cli("solve", "tower", "--exercises", str(tmp_path)))
    assert "tower.toml" in msg and "solver.function" in msg and "exponent" in msg
