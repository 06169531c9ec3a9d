"""The public API: what ``import convexproof`` offers, and what every CLI command calls.

For notebooks and scripts::

    import convexproof
    convexproof.prove("x**2")                        # a ProofResult (shown as Markdown in Jupyter)
    convexproof.regularize("x**4 - x**2")            # a RegularizeResult
    convexproof.solve("exercise3")                   # a Solution (the worked solution)
    convexproof.check("exercise3", "6*x - 2")        # a CheckResult
    convexproof.load_exercise("exercise3", seed=7)   # an Exercise variant

Every result object displays itself in Jupyter (``_repr_markdown_``: Markdown
with ``$…$`` mathematics; ``_repr_latex_``: the LaTeX body, no preamble, for
nbconvert).  The renderers are registered here with
:mod:`convexproof.runtime.display`, so the result types never import the
rendering layer.

The ``*_document`` functions are the CLI's commands without the option parsing:
each runs the work in a time-limited child process (:mod:`convexproof.runtime.limits`)
and returns what the CLI prints.  This module imports nothing heavy at import
time (``convexproof --help`` and ``list`` stay fast): every function imports
what it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from convexproof.runtime import display
from convexproof.runtime.limits import CHECK_TIMEOUT, DEFAULT_TIMEOUT, PDF_TIMEOUT

__all__ = ["prove", "regularize", "solve", "check", "grade", "load_exercise", "list_exercises"]


# ------------------------------------------------------------------- engine
def prove(expr, wrt=None, where=(), timeout: float = DEFAULT_TIMEOUT, shapes=None):
    """Decide whether ``expr`` is convex: a :class:`~convexproof.engine.result.ProofResult` with a proof, a
    verified witness, or the verdict "unknown".

    ``wrt``: the variables (default: every symbol); ``where``: conditions such as ``"x > 0"`` or
    ``"0 < p < 1"``; ``shapes`` (e.g. ``{"X": ("n", "d"), "w": ("d",)}``): ``expr`` is a vector formula,
    decided for every value of the data.  The analysis runs in a child process killed at ``timeout``.
    """
    if shapes:
        from convexproof.engine.vector import prove_isolated

        return prove_isolated(expr, wrt, where, shapes, _seconds(timeout))
    from convexproof.engine.prover import prove as prove_scalar

    return prove_scalar(expr, wrt=wrt, where=where, timeout=timeout)


def regularize(expr, wrt=None, where=(), penalty=None, timeout: float = DEFAULT_TIMEOUT, shapes=None):
    """The smallest ``lam >= 0`` making ``expr + penalty`` convex (default penalty: lam times the sum of
    squares of the variables; with ``shapes``: ``lam*norm(w)**2``), a
    :class:`~convexproof.engine.result.RegularizeResult` with its steps."""
    if shapes:
        from convexproof.runtime.errors import ConvexproofError

        if penalty is not None:
            raise ConvexproofError("a penalty is not available with shapes (the penalty is lam*norm(w)**2)")
        from convexproof.engine.vector import regularize_isolated

        return regularize_isolated(expr, wrt, where, shapes, _seconds(timeout))
    from convexproof.engine.regularisation import regularize as regularize_scalar

    return regularize_scalar(expr, wrt=wrt, where=where, penalty=penalty, timeout=timeout)


def _seconds(timeout) -> float:
    from convexproof.runtime.errors import ConvexproofError

    timeout = float(timeout)
    if not timeout > 0:  # also false for nan
        raise ConvexproofError("the timeout must be a positive number of seconds")
    return timeout


# ---------------------------------------------------------------- exercises
def load_exercise(exercise: str, seed: int | None = None, exercises_dir=None):
    """The exercise ``exercise`` (an id such as ``"exercise3"``), validated; ``seed`` picks a variant."""
    from convexproof.library import load_exercise as load

    return load(exercise, seed=seed, exercises_dir=exercises_dir)


def list_exercises(exercises_dir=None, errors: list[str] | None = None) -> list:
    """Every exercise (shipped, and the teacher's own in ``exercises_dir``), validated."""
    from convexproof.library import list_exercises as listed

    return listed(exercises_dir, errors=errors)


def solve(exercise, seed: int | None = None, exercises_dir=None):
    """The worked :class:`~convexproof.solvers.Solution` of an exercise (an id or an
    :class:`~convexproof.library.Exercise`); every result is computed by the engine."""
    from convexproof.solvers import solve as run_solver

    ex = exercise if not isinstance(exercise, str) else load_exercise(exercise, seed, exercises_dir)
    return run_solver(ex)


def check(exercise: str, answer: str | None = None, part: str | None = None, seed: int | None = None,
          reveal: bool = False, exercises_dir=None, timeout: float | None = CHECK_TIMEOUT, isolate: bool = True,
          derivation: str | None = None, given: dict | None = None):
    """Check a student's ``answer`` (or ``derivation``, line by line) to ``part`` of an exercise variant:
    a :class:`~convexproof.grading.base.CheckResult` (correct, incorrect, undecided or invalid).

    The answer is checked in a child process killed after ``timeout`` seconds (``isolate=False``: in this
    process, with the cooperative deadline only); ``given`` holds the student's answers to other parts
    (error carried forward)."""
    from convexproof.grading.checking import check as run_check

    return run_check(exercise, answer, part=part, seed=seed, reveal=reveal, exercises_dir=exercises_dir,
                     timeout=timeout, isolate=isolate, derivation=derivation, given=given)


def check_derivation_file(exercise: str, path: str, part: str | None = None, seed: int | None = None,
                          exercises_dir=None):
    """``convexproof check --derivation FILE``: the derivation in FILE (``-``: standard input, size-capped)
    checked line by line; a CheckResult whose ``derivation`` holds the marked lines."""
    from convexproof.grading.derivation import check_derivation, read_derivation_file

    return check_derivation(exercise, read_derivation_file(path), part=part, seed=seed, exercises_dir=exercises_dir)


def grade(answers, jobs: int | None = None, exercises_dir=None):
    """Grade a CSV file of answers (columns student, exercise, part, answer[, seed]): a report whose
    ``rows`` hold one result per answer and ``summary`` the counts."""
    from convexproof.grading.grade import grade as grade_csv

    return grade_csv(answers, jobs=jobs, exercises_dir=exercises_dir)


# ------------------------------------------------------- the CLI's commands
def statement_document(exercise: str, fmt: str = "md", seed: int | None = None, exercises_dir=None) -> str:
    """``convexproof show``: the statement and hints, in a time-limited child."""
    from convexproof.runtime.limits import run_limited, solve_timeout

    return run_limited(_statement, exercise, fmt, seed, exercises_dir, timeout=solve_timeout(),
                       what=f"showing {exercise}")


def _statement(exercise, fmt, seed, exercises_dir) -> str:  # runs in the time-limited child
    from convexproof.render.documents import statement_document as render

    return render(load_exercise(exercise, seed, exercises_dir), fmt)


def figures_prefix(fmt: str, output: str | None) -> str | None:
    """``solve -o FILE.md``: the figures go to SVG files beside FILE, named after its stem; else None."""
    if fmt in ("md", "text") and output and str(output).endswith(".md") and Path(output).stem:
        return Path(output).stem
    return None


def solution_document(exercise: str, fmt: str = "md", seed: int | None = None, exercises_dir=None,
                      output: str | None = None) -> tuple[str, dict[str, str]]:
    """``convexproof solve``: (the worked solution, {path: SVG text} of the figure files to write beside
    ``output``), all computed in a time-limited child."""
    from convexproof.runtime.limits import run_limited, solve_timeout

    prefix = figures_prefix(fmt, output)
    text, files = run_limited(_solution, exercise, fmt, seed, exercises_dir, prefix, timeout=solve_timeout(),
                              what=f"solving {exercise}")
    folder = Path(output).parent if output else Path(".")
    return text, {str(folder / name): svg for name, svg in files.items()}


def _solution(exercise, fmt, seed, exercises_dir, prefix) -> tuple[str, dict[str, str]]:  # in the child
    from convexproof.render.documents import solution_document as render, solution_figures

    ex = load_exercise(exercise, seed, exercises_dir)
    sol = solve(ex)
    files = solution_figures(sol, prefix) if prefix else {}  # names the figures before the text refers to them
    return render(ex, sol, fmt), files


def handout_timeout(exercises, all_: bool, students: int, fmt: str, exercises_dir=None) -> float:
    """Seconds for a handout: the solve limit per exercise variant (each student's and the key's), plus
    pdflatex's own limit for a PDF."""
    from convexproof.runtime.limits import solve_timeout

    n = len(exercises)
    if not n and all_:
        from convexproof.library import exercise_files

        n = len(exercise_files(exercises_dir))
    variants = max(n, 1) * (1 + students)
    return solve_timeout() * variants + (PDF_TIMEOUT if fmt == "pdf" else 0)


def handout_document(exercises, *, all_: bool = False, solutions: bool | None = None, key: bool = False,
                     fmt: str = "md", seed: int | None = None, title: str = "Convexity exercises", roster=None,
                     hints: bool = True, exam: bool = False, points: int = 2, allow_canonical: bool = False,
                     exercises_dir=None) -> str | bytes:
    """``convexproof handout``: numbered exercises, with solutions unless ``solutions=False`` (a notebook,
    ``fmt="ipynb"``, has none unless asked for); ``roster`` gives every student a variant.  Runs in a
    time-limited child; returns text, or bytes for a PDF."""
    from convexproof.runtime.limits import run_limited

    if solutions is None:  # a notebook is for students: no solutions unless asked for
        solutions = fmt != "ipynb"
    if roster is not None:  # read once, with its size cap (a pipe can be read only once; /dev/zero never ends)
        from convexproof.library.roster import read_roster

        roster = read_roster(roster)
    timeout = handout_timeout(list(exercises), all_, len(roster or ()), fmt, exercises_dir)
    if fmt == "ipynb":  # a self-check notebook
        from convexproof.platforms.notebook import notebook_document

        return run_limited(notebook_document, list(exercises), all_=all_, solutions=solutions, key=key, seed=seed,
                           title=title, roster=roster, exercises_dir=exercises_dir, timeout=timeout,
                           what="the handout")
    from convexproof.render.handout import handout_document as render

    return run_limited(render, list(exercises), all_=all_, solutions=solutions, key=key, fmt=fmt, seed=seed,
                       title=title, roster=roster, exercises_dir=exercises_dir, hints=hints, exam=exam,
                       points=points, allow_canonical=allow_canonical, timeout=timeout, what="the handout")


def export(target: str, exercises, *, seed: int | None = None, roster=None, visibility: str | None = None,
           server_files=None, output=None, exercises_dir=None) -> str | bytes | None:
    """``convexproof export``: Moodle XML text, a Gradescope autograder zip (bytes), or PrairieLearn
    question folders written under ``output`` (None)."""
    from convexproof.platforms import export_for
    from convexproof.runtime.limits import run_limited, solve_timeout

    return run_limited(export_for, target, list(exercises), seed=seed, roster=roster, visibility=visibility,
                       server_files=server_files, output=output, exercises_dir=exercises_dir,
                       timeout=solve_timeout() * max(len(exercises), 1), what="the export")


def proof_document(kind: str, expr, *, wrt=None, where=(), penalty=None, shapes=None, fmt: str = "md",
                   timeout: float | None = None, spent: float = 0.0) -> tuple[str, str | None]:
    """``convexproof prove`` (``kind="prove"``) and ``regularize``: (the document, a note for stderr or
    None).  Reading, analysis and writing run in one child under ``timeout`` (less ``spent`` seconds
    already used by the command)."""
    from convexproof.runtime.errors import ConvexproofError

    if shapes:
        from convexproof.render.proof import report_vector

        if penalty is not None:
            raise ConvexproofError("--penalty is not available with --shape (the penalty is lam*norm(w)**2)")
        return report_vector(expr, wrt=wrt, where=list(where), shapes=list(shapes), fmt=fmt, timeout=timeout,
                             kind=kind)
    from convexproof.render.proof import report_command

    return report_command(kind, expr, wrt=wrt, where=list(where), penalty=penalty, fmt=fmt, timeout=timeout,
                          spent=spent)


def grade_document(answers, *, fmt: str = "csv", summary: bool = False, jobs: int | None = None,
                   exercises_dir=None, on_summary: Callable[[str], None] | None = None) -> str | bytes:
    """``convexproof grade``: the graded rows (csv, json, md) or, with ``summary``, the class analysis."""
    from convexproof.grading.grade import grade_file

    return grade_file(answers, fmt=fmt, jobs=jobs, exercises_dir=exercises_dir, summary=summary,
                      on_summary=on_summary)


# ------------------------------------------------------------ Jupyter display
def _document(render_md: Callable[[Any], str], render_latex: Callable[[Any], str]):
    def renderer(obj, fmt: str) -> str:
        if fmt == "md":
            return render_md(obj)
        from convexproof.render.documents import latex_body

        return latex_body(render_latex(obj))

    return renderer


def _proof(result, fmt: str) -> str:
    from convexproof.render.proof import proof_document as render

    return render(result, fmt)


def _solution_repr(solution, fmt: str) -> str:
    from convexproof.render.documents import solution_document as render

    return render(solution.exercise, solution, fmt)


def _exercise_repr(ex, fmt: str) -> str:
    from convexproof.render.documents import statement_document as render

    return render(ex, fmt)


def _check_repr(result, fmt: str) -> str:
    from convexproof.platforms.notebook import feedback_latex, feedback_markdown

    return feedback_markdown(result) if fmt == "md" else feedback_latex(result)


for _name in ("ProofResult", "RegularizeResult"):
    display.register(_name, _document(lambda r: _proof(r, "md"), lambda r: _proof(r, "latex")))
display.register("Solution", _document(lambda s: _solution_repr(s, "md"), lambda s: _solution_repr(s, "latex")))
display.register("Exercise", _document(lambda e: _exercise_repr(e, "md"), lambda e: _exercise_repr(e, "latex")))
display.register("CheckResult", lambda r, fmt: _check_repr(r, fmt))
