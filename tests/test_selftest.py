"""`convexproof selftest`: the library's own self-tests, own answers and seeded variants."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.library.selftest import run_selftests

BROKEN_SELFTEST = '''id = "exercise97"
title = "t"
statement = "s"
[params]
a = { default = 2, choices = [1, 2, 3] }
[solver]
kind = "quadratic"
vars = ["x"]
f = "(a/2)*x**2"
threshold = true
[[parts]]
name = "eta_max"
type = "number"
[[selftests]]
part = "eta_max"
answer = "%s"
expect = "correct"
'''


def test_selftest_runs_the_whole_library():
    """The test suite runs the library's self-tests (seeds 1-2 here; the CLI default is 1-50)."""
    lines = []
    seeds = 50 if os.environ.get("CONVEXPROOF_SOAK") == "1" else 1  # CI: the canonical variant and seed 1
    assert run_selftests([], seeds=seeds, echo=lines.append), "\n".join(lines)
    assert lines[-1].startswith("all passed")
    assert sum(1 for ln in lines if ": ok (" in ln) >= 17


@pytest.mark.parametrize("answer,exit_code", [("1", 0), ("2", 1)])
def test_selftest_cli_reports_a_wrong_expectation(tmp_path, answer, exit_code):
    (tmp_path / "exercise97.toml").write_text(BROKEN_SELFTEST % answer, encoding="utf-8")
    res = CliRunner().invoke(cli, ["selftest", "exercise97", "--seeds", "5", "--exercises", str(tmp_path)])
    assert res.exit_code == exit_code, res.output
    if exit_code:
        assert "expected correct, got incorrect" in res.output


def test_selftest_reports_a_variant_that_errors(tmp_path):
    # a = 0 makes the quadratic degenerate: that seed's variant must be reported, not crash the run
    (tmp_path / "exercise97.toml").write_text(
        (BROKEN_SELFTEST % "1").replace("choices = [1, 2, 3]", "choices = [0, 2]"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["selftest", "exercise97", "--seeds", "10", "--exercises", str(tmp_path)])
    assert res.exit_code == 1
    assert "error:" in res.output and "'a': '0'" in res.output


@pytest.mark.parametrize("answer, why", [
    ("3", "it is the correct answer"),  # equal to the correct answer
    ("mu/2", "cannot be read"),  # names a symbol that is not a parameter
    ("lam > 3", "it never fires"),  # the built-in strict-bound note comes first
])
def test_selftest_flags_mistake_entries_that_can_never_fire(tmp_path, answer, why):
    """Regression: dead [[mistakes]] entries (the right answer, unreadable, shadowed) went unnoticed."""
    import tests.fixtures.solver  # noqa: F401 - registers the "check-fixture" solver kind
    from convexproof.library.selftest import run_selftests

    fix = Path(__file__).parent / "fixtures" / "exercises" / "fxp.toml"
    (tmp_path / "fxp.toml").write_text(fix.read_text().replace('answer = "3/2"', f'answer = "{answer}"'))
    lines: list[str] = []
    assert not run_selftests(["fxp"], seeds=0, exercises_dir=str(tmp_path), echo=lines.append, check_own=False)
    assert any(why in line and "slip-f2-at-0" in line for line in lines), lines
