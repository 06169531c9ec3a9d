"""The LaTeX documents compile with pdflatex, without errors or lines running off the page.

Skipped only when pdflatex is missing (CI installs TeX Live, see .ci/run).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from convexproof.render.documents import solution_document, statement_document
from convexproof.library import load_exercise
from convexproof.solvers import solve

PDFLATEX = shutil.which("pdflatex")
pytestmark = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")


def compile_tex(tmp_path, name: str, text: str) -> str:
    tex = tmp_path / f"{name}.tex"
    tex.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180,
    )
    log = (tmp_path / f"{name}.log").read_text(encoding="latin-1") if (tmp_path / f"{name}.log").exists() else ""
    assert proc.returncode == 0, log[-3000:] or proc.stdout.decode("latin-1")[-3000:]
    assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
    return log


def _overfull(log: str) -> list[str]:
    return re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)


@pytest.mark.parametrize("ex_id", ["exercise1", "exercise2", "exercise3"])
def test_solution_compiles(tmp_path, ex_id):
    ex = load_exercise(ex_id)
    log = compile_tex(tmp_path, ex_id, solution_document(ex, solve(ex), "latex"))
    assert not _overfull(log), f"lines run off the page: {_overfull(log)}"
    assert "Undefined control sequence" not in log


@pytest.mark.parametrize("ex_id", ["exercise1", "exercise2", "exercise3"])
def test_statement_compiles(tmp_path, ex_id):
    ex = load_exercise(ex_id)
    log = compile_tex(tmp_path, ex_id, statement_document(ex, "latex"))
    assert not _overfull(log)


def test_exercise3_figure_is_drawn(tmp_path):
    ex = load_exercise("exercise3")
    text = solution_document(ex, solve(ex), "latex")
    # f'' for three values of λ, and the witness chord figure for the too small λ (curve, chord, midpoint)
    assert text.count(r"\addplot") == 6
    assert text.index(r"\addlegendentry{$\lambda = 0$}") < text.index("Check at")  # placed where discussed
    log = compile_tex(tmp_path, "fig", text)
    assert "pgfplots" in log


def test_hostile_prose_is_escaped(tmp_path):
    """Regression: TeX specials in a teacher's statement must not break the document or run macros."""
    src = load_exercise("exercise3").path.read_text(encoding="utf-8")
    src = src.replace("The function {f0} is not convex.",
                      # a TOML basic string: two backslashes in the file are one in the statement
                      r"The function {f0} is not convex: 100% \\input{/etc/passwd} $x^2_ & # ~ \\\\ }{.")
    (tmp_path / "exercise3.toml").write_text(src, encoding="utf-8")
    ex = load_exercise("exercise3", exercises_dir=tmp_path)
    text = solution_document(ex, solve(ex), "latex")
    assert "/etc/passwd" in text and r"\input{/etc/passwd}" not in text
    compile_tex(tmp_path, "hostile", text)
