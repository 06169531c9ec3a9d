"""The exercise commands through click's CliRunner: list, show, solve, and their one-line errors."""

from __future__ import annotations

import json
import os

import pytest
import sympy as sp
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.parse import parse_any


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, args, env=None):
    return runner.invoke(cli, args, env=env, catch_exceptions=False)


def test_list_text(runner):
    res = run(runner, ["list"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    for ex_id in ("exercise1", "exercise2", "exercise3"):
        assert any(line.split()[0] == ex_id for line in lines)


def test_list_json(runner):
    res = run(runner, ["list", "--format", "json"])
    data = json.loads(res.output)
    ids = {d["id"] for d in data}
    assert {"exercise1", "exercise2", "exercise3"} <= ids
    assert all(d["title"] for d in data)


@pytest.mark.parametrize("ex_id, needle", [("exercise1", "log-loss"), ("exercise2", "L1"), ("exercise3", "regularisation")])
def test_show_has_statement_and_hints_without_solution(runner, ex_id, needle):
    res = run(runner, ["show", ex_id])
    assert res.exit_code == 0
    assert needle in res.output and "Hints" in res.output
    assert "Answer (" not in res.output and "## Solution" not in res.output


@pytest.mark.parametrize("ex_id, part, expected", [
    ("exercise3", "lambda_min", "3"),
    ("exercise3", "second_derivative", "12 x^2 - 6 + 2 lam"),
    ("exercise1", "second_derivative", "y/p^2 + (1 - y)/(1 - p)^2"),
    ("exercise2", "l2_minimizer", "a/(1 + 2 lam)"),
])
def test_solve_json_answers(runner, ex_id, part, expected):
    res = run(runner, ["solve", ex_id, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert sp.simplify(parse_any(data["answers"][part]) - parse_any(expected)) == 0


def test_solve_exercise3_lambda_min_is_exactly_3(runner):
    data = json.loads(run(runner, ["solve", "exercise3", "--format", "json"]).output)
    assert data["answers"]["lambda_min"] == "3"
    assert data["params"] == {"a": "3"} and data["seed"] is None


@pytest.mark.parametrize("fmt, needle", [("md", "**Answer.**"), ("latex", r"\documentclass"), ("json", '"answers"')])
def test_solve_formats(runner, fmt, needle):
    res = run(runner, ["solve", "exercise3", "--format", fmt])
    assert res.exit_code == 0 and needle in res.output


def test_solve_default_is_markdown(runner):
    res = run(runner, ["solve", "exercise3"])
    assert res.output.startswith("# ") and "f''(x) = 12x² + 2λ − 6" in res.output


def test_solve_output_file(runner, tmp_path):
    out = tmp_path / "sol.tex"
    res = run(runner, ["solve", "exercise3", "--format", "latex", "-o", str(out)])
    assert res.exit_code == 0 and res.output == ""
    assert r"\end{document}" in out.read_text(encoding="utf-8")


def test_solve_seed_gives_variant(runner):
    data = json.loads(run(runner, ["solve", "exercise3", "--seed", "3", "--format", "json"]).output)
    assert data["answers"]["lambda_min"] == data["params"]["a"]


@pytest.mark.parametrize("args, message", [
    (["solve", "exercise99"], "unknown exercise"),
    (["show", "nope"], "unknown exercise"),
    (["solve", "../etc/passwd"], "unknown exercise"),
    (["solve", "exercise3", "--format", "pdf"], "format"),
    (["solve", "exercise3", "--bogus"], "bogus"),
    (["solve", "exercise3", "--seed", "-1"], "seed"),
    (["list", "--format", "xml"], "format"),
    (["solve", "exercise3", "-o", "/nonexistent-dir/x/sol.md"], "cannot write"),
    (["solve", "exercise3", "--exercises", "/nonexistent-dir"], "does not exist"),
    # unwritable -o paths that fail even for root
    (["solve", "exercise3", "-o", "/nonexistent-dir/x.md"], "cannot write"),
    (["solve", "exercise3", "-o", "/proc/convexproof.md"], "cannot write"),
    (["solve", "exercise3", "-o", "/"], "directory"),
])
def test_errors_are_one_line_exit_2(runner, args, message):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2, res.output
    err = res.stderr if hasattr(res, "stderr") else res.output
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0].lower(), err
    assert "Traceback" not in err


def test_unwritable_output_directory(runner, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        res = runner.invoke(cli, ["solve", "exercise3", "-o", str(ro / "x.md")])
        assert res.exit_code == 2 and "cannot write" in res.stderr
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("how", ["option", "env"])
def test_teachers_own_folder(runner, tmp_path, how):
    src = (__import__("convexproof.runtime.resources", fromlist=["data_dir"]).data_dir("exercises") / "exercise3.toml")
    text = src.read_text(encoding="utf-8").replace('id = "exercise3"', 'id = "myquartic"')
    text = text.replace('a = { default = 3,', 'a = { default = 5,')
    (tmp_path / "myquartic.toml").write_text(text, encoding="utf-8")
    args = ["solve", "myquartic", "--format", "json"]
    env = None
    if how == "option":
        args += ["--exercises", str(tmp_path)]
    else:
        env = {"CONVEXPROOF_EXERCISES": str(tmp_path)}
    res = runner.invoke(cli, args, env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["answers"]["lambda_min"] == "5"
    listed = runner.invoke(cli, ["list"] + (["--exercises", str(tmp_path)] if how == "option" else []), env=env)
    assert "myquartic" in listed.output and "exercise3" in listed.output


@pytest.mark.parametrize("mutation, field", [
    (('kind = "minimal-regularisation"', 'kind = "no-such-solver"'), "solver.kind"),
    (('function = "x^4 - a x^2"', 'function = "x^4 - import(os)"'), "solver.function"),
    (('[[parts]]\nname = "lambda_min"', '[[parts]]\nname = "lambda min"'), "parts[0].name"),
])
def test_bad_exercise_file_names_file_and_field(runner, tmp_path, mutation, field):
    from convexproof.runtime.resources import data_dir

    text = (data_dir("exercises") / "exercise3.toml").read_text(encoding="utf-8").replace(*mutation)
    (tmp_path / "exercise3.toml").write_text(text, encoding="utf-8")
    res = runner.invoke(cli, ["solve", "exercise3", "--exercises", str(tmp_path)])
    assert res.exit_code == 2
    assert "exercise3.toml" in res.stderr and field in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["list", "show", "solve"])
def test_help_documents_command(runner, command):
    res = run(runner, [command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output
