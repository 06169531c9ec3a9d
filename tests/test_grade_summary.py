"""Class analysis (grade --summary) and the note-code registry (issue #13)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.grading.notes import NOTES, describe

CSV = """student,exercise,part,answer
ann,exercise3,lambda_min,3
bob,exercise3,lambda_min,3/2
cat,exercise3,lambda_min,3/2
dan,exercise3,lambda_min,2
eve,exercise3,lambda_min,lam >= 3
ann,exercise3,second_derivative,12x^2-6+2lam
bob,exercise3,second_derivative,12x^2-6+lam
cat,exercise3,second_derivative,4x^3-6x+2 lam x
eve,exercise9,min_value,0.167
"""


@pytest.fixture
def answers(tmp_path):
    p = tmp_path / "answers.csv"
    p.write_text(CSV)
    return str(p)


def test_summary_json_counts_and_shares(answers):
    res = CliRunner().invoke(cli, ["grade", "--answers", answers, "--summary", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    lam = next(p for p in data["parts"] if p["part"] == "lambda_min")
    assert lam["answers"] == 5 and lam["status"] == {"correct": 2, "incorrect": 3}
    slip = next(n for n in lam["notes"] if n["note"] == "slip-f2-at-0")
    assert (slip["count"], slip["share"]) == (2, 0.4)
    assert slip["meaning"].startswith("gave 3/2: ") and "{" not in slip["meaning"]  # placeholders resolved
    assert data["students"]["ann"] == {"earned": 2.0, "max": 2.0, "answers": 2}
    assert data["students"]["bob"]["earned"] == 0.0


def test_summary_text_and_md(answers):
    out = CliRunner().invoke(cli, ["grade", "--answers", answers, "--summary"]).stdout
    assert "40 % slip-f2-at-0: gave 3/2" in out and "ann: 2/2 points" in out
    md = CliRunner().invoke(cli, ["grade", "--answers", answers, "--summary", "--format", "md"]).stdout
    assert "| 40 % | 2 | slip-f2-at-0 |" in md


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_summary_pdf_has_a_bar_chart(answers, tmp_path):
    tex = CliRunner().invoke(cli, ["grade", "--answers", answers, "--summary", "--format", "latex"]).stdout
    assert r"\begin{axis}[xbar" in tex
    out = tmp_path / "class.pdf"
    res = CliRunner().invoke(cli, ["grade", "--answers", answers, "--summary", "--format", "pdf", "-o", str(out)])
    assert res.exit_code == 0 and out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args", [["--format", "latex"], ["--format", "text"], ["--summary", "--format", "csv"]])
def test_summary_formats_are_checked(answers, args):
    res = CliRunner().invoke(cli, ["grade", "--answers", answers, *args])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1


def test_every_note_code_the_checker_uses_is_registered_with_an_example():
    grading = Path(__file__).parent.parent / "convexproof" / "grading"
    src = "".join((grading / f"{m}.py").read_text() for m in ("checking", "checkers", "base", "feedback"))
    used = set(re.findall(r'"([a-z0-9]+(?:-[a-z0-9]+)+)"', src)) | {"close", "undecided"}
    missing = sorted(c for c in used if c not in NOTES)
    assert not missing, missing
    for n in NOTES.values():
        assert n.meaning and n.example, n.code


def _notes_set_in(path: Path, call: str) -> set[str]:
    """The string constants passed as the note (third argument) of every call to ``call`` in a module."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == call:
            if len(node.args) > 2 and isinstance(node.args[2], ast.Constant) and isinstance(node.args[2].value, str):
                out.add(node.args[2].value)
    return out


def test_every_note_the_checkers_set_is_registered():
    """Single-word codes too (differs, undecided), and those of the vector checker that a part passes on."""
    root = Path(__file__).parent.parent / "convexproof"
    used = _notes_set_in(root / "grading" / "checkers.py", "set") | _notes_set_in(
        root / "engine" / "vector_check.py", "MatrixCheck")
    assert {"differs", "undecided", "wrong-verdict", "wrong-shape"} <= used  # the scan finds them
    assert sorted(used - set(NOTES)) == []


def test_every_part_type_has_a_checker():
    from convexproof.grading.checkers import CHECKERS
    from convexproof.library import PART_TYPES

    assert set(CHECKERS) | {"derivation"} == set(PART_TYPES)
    for cls in CHECKERS.values():
        assert cls.__doc__ and "\n" not in cls.__doc__.strip(), cls  # a one-line docstring


def test_describe_a_teachers_note():
    assert describe("line-3") == "a derivation whose first wrong line is line 3"
    assert describe("wrong-value") == NOTES["wrong-value"].meaning


def test_grade_carries_errors_forward_within_a_student(tmp_path):
    """A student's λ* is judged against their own f'' row (error carried forward), in any row order."""
    p = tmp_path / "ecf.csv"
    p.write_text("student,exercise,part,answer\n"
                 "ann,exercise3,lambda_min,3/2\nann,exercise3,second_derivative,12x^2-3+2lam\n"
                 "bob,exercise3,lambda_min,3/2\nbob,exercise3,second_derivative,12x^2-6+2lam\n")
    res = CliRunner().invoke(cli, ["grade", "--answers", str(p), "--format", "json"])
    rows = {(r["student"], r["part"]): r for r in json.loads(res.stdout)}
    assert (rows["ann", "lambda_min"]["note"], rows["ann", "lambda_min"]["score"]) == ("carried-forward", 0.5)
    assert (rows["bob", "lambda_min"]["note"], rows["bob", "lambda_min"]["score"]) == ("slip-f2-at-0", 0.0)


def test_a_derivation_in_a_quoted_multi_line_cell_is_one_row(tmp_path):
    """Issue #14: a derivation part's cell is a quoted multi-line cell; an unclosed quote still swallows nothing."""
    p = tmp_path / "d.csv"
    p.write_text('student,exercise,part,answer\n'
                 'ann,exercise3,derivation,"f(x) = x^4 - 3x^2 + λx^2\n'
                 "f'(x) = 4x^3 - 3x + 2λx\n"
                 "f''(x) = 12x^2 - 3 + 2λ\n"
                 'so λ* = 3/2"\n'
                 'bob,exercise3,lambda_min,"3/2\n'
                 'cat,exercise3,lambda_min,3\n'
                 'dan,exercise3,derivation,"f(x) = x^4\n'
                 'eve,exercise3,lambda_min,2\n')
    res = CliRunner().invoke(cli, ["grade", "--answers", str(p), "--format", "json"])
    rows = json.loads(res.stdout)
    assert [(r["student"], r["line"]) for r in rows] == [("ann", 2), ("bob", 6), ("cat", 7), ("dan", 8), ("eve", 9)]
    assert rows[0]["status"] == "incorrect" and rows[0]["note"] == "line-2"  # the lost factor 2 in f'
    assert [r["status"] for r in rows[1:]] == ["invalid", "correct", "invalid", "incorrect"]
