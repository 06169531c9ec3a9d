"""What the platforms share: grading one part into a platform-neutral dict (:func:`grade_part`), the
part's points, the "read as" echo of an answer, and a vendored copy of the installed package
(:func:`vendor_package`).  Every answer is read by :func:`convexproof.grading.checking.check` (the
whitelist parser); feedback never reveals the correct answer.

Gradescope, PrairieLearn, Moodle and the notebook import this module; :mod:`convexproof.platforms`
re-exports it and dispatches ``convexproof export --to ...``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from convexproof.runtime.errors import ConvexproofError

MAX_ANSWER_CHARS = 20_000
MULTILINE_TYPES = ("derivation", "text")  # parts answered with several lines of text

# Our statuses, as shown to a student (``undecided`` is "a teacher reviews it").
STATUS_TEXT = {
    "correct": "correct",
    "incorrect": "incorrect",
    "invalid": "could not be read",
    "undecided": "could not be decided automatically; your teacher will review it",
    "unanswered": "no answer",
    "error": "could not be checked automatically; your teacher will review it",
}


def prose_text(ex, text: str) -> str:
    """Exercise prose with its ``{name}`` references as Unicode mathematics (plain text)."""
    from convexproof.render.documents import segments_text

    try:
        return segments_text(ex.prose_segments(text))
    except ConvexproofError:
        return text


def part_points(part) -> float:
    """The part's points: its ``points`` field when the exercise has one, else 1."""
    pts = getattr(part, "points", None)
    if isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts < 0 or pts != pts:
        return 1.0
    return float(pts)


def read_as(answer: str, part=None) -> str | None:
    """How the whitelist parser reads ``answer`` (Unicode), or None if it cannot read it."""
    from convexproof.parse import parse_any

    if not isinstance(answer, str) or not answer.strip() or len(answer) > MAX_ANSWER_CHARS:
        return None
    if part is not None and part.type in ("verdict", "text"):
        from convexproof.grading.answers import normalise_words

        return normalise_words(answer) or None
    if part is not None and part.type in MULTILINE_TYPES:
        return None  # several lines: the feedback speaks about them line by line
    try:
        from convexproof.render.mathtext import unicode

        return unicode(parse_any(answer))
    except (ConvexproofError, RecursionError, MemoryError, OverflowError, ValueError, TypeError):
        return None


def read_as_latex(answer: str, part=None) -> str | None:
    """Like :func:`read_as`, typeset as LaTeX (None for verdict words or unreadable answers)."""
    from convexproof.parse import parse_any

    if not isinstance(answer, str) or not answer.strip() or len(answer) > MAX_ANSWER_CHARS:
        return None
    if part is not None and part.type in ("verdict", *MULTILINE_TYPES):
        return None
    try:
        from convexproof.render.mathtext import latex

        return latex(parse_any(answer))
    except (ConvexproofError, RecursionError, MemoryError, OverflowError, ValueError, TypeError):
        return None


def grade_part(exercise: str, part, answer, seed: int | None, exercises_dir=None) -> dict[str, Any]:
    """Check one answer to one part; never raises.

    Returns ``{"exercise", "part", "answer", "status", "fraction", "points",
    "score", "note", "feedback", "read_as"}``: ``fraction`` is in [0, 1],
    ``score = fraction * points``; ``status`` is check's status (correct,
    incorrect, invalid, undecided, ...), ``unanswered`` for a missing or empty
    answer, or ``error`` when the check itself failed.
    """
    from convexproof.grading.checking import check

    points = part_points(part)
    out: dict[str, Any] = {"exercise": exercise, "part": part.name, "answer": answer if isinstance(answer, str) else "",
                           "status": "error", "fraction": 0.0, "points": points, "score": 0.0, "note": None,
                           "feedback": "", "read_as": None}
    if not isinstance(answer, str) or not answer.strip():
        out["status"] = "unanswered"
        out["feedback"] = "No answer was given for this part."
        return out
    if len(answer) > MAX_ANSWER_CHARS:
        out["status"] = "invalid"
        out["feedback"] = f"The answer is longer than {MAX_ANSWER_CHARS} characters."
        return out
    if part.type == "text" and not part.accept:
        out["status"] = "undecided"
        out["feedback"] = "This part is graded by hand: your teacher will read it."
        return out
    try:
        r = check(exercise, answer, part=part.name, seed=seed, exercises_dir=exercises_dir)
    except ConvexproofError as exc:
        out["feedback"] = f"This answer could not be checked automatically ({exc.one_line()}); your teacher will review it."
        return out
    except Exception as exc:  # a bug must not cost the student the whole submission
        out["feedback"] = (f"This answer could not be checked automatically (internal error: {type(exc).__name__}); "
                           "your teacher will review it.")
        return out
    status = r.status if isinstance(r.status, str) else "error"
    out["status"], out["note"] = status, r.note
    fraction = float(r.score) if status == "correct" else 0.0
    if status == "incorrect" and 0 < float(r.score or 0) < 1:  # partial credit, when check gives it
        fraction = float(r.score)
    out["fraction"] = max(0.0, min(1.0, fraction))
    out["score"] = round(out["fraction"] * points, 6)
    feedback = (r.feedback or "").strip()
    if status == "correct" and not feedback:
        feedback = "Correct."
    elif status == "invalid":
        feedback = f"Your answer could not be read: {(feedback or 'not a valid formula').rstrip('.')}."
    elif status == "undecided":
        feedback = ("This answer could not be decided automatically; your teacher will review it."
                    + (" " + feedback if feedback else ""))
    elif status not in ("correct", "incorrect"):
        feedback = f"Status {status}: {feedback}" if feedback else f"Status {status}."
    elif not feedback:
        feedback = "Not correct."
    lines = getattr(r, "derivation", None)  # a derivation part: its lines, each marked and read back
    if lines is not None and hasattr(lines, "to_text"):
        out["summary"] = feedback  # the first wrong line and its reason (one paragraph)
        feedback = lines.to_text().strip()
    out["feedback"] = feedback
    shown = getattr(r, "read_as", None)  # check may echo its own reading one day
    out["read_as"] = shown if isinstance(shown, str) and shown else (read_as(answer, part) if status != "invalid"
                                                                     else None)
    return out


def feedback_text(g: dict[str, Any]) -> str:
    """The feedback of :func:`grade_part` with the "read as" echo, as plain text."""
    lines = []
    if g.get("read_as"):
        lines.append(f"Your answer, read as: {g['read_as']}")
    lines.append(g["feedback"])
    return "\n".join(lines)


# --------------------------------------------------------------------------
# A copy of the installed package (autograder zip, PrairieLearn serverFilesCourse)
# --------------------------------------------------------------------------
def package_files() -> dict[str, Path]:
    """Relative path -> file for the whole convexproof package, exercises and templates included."""
    from convexproof.runtime.resources import data_dir

    root = Path(__file__).resolve().parent.parent
    files: dict[str, Path] = {}
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if f.is_file() and "__pycache__" not in rel.parts and f.suffix not in (".pyc", ".pyo"):
            files[str(Path("convexproof") / rel)] = f
    for name in ("exercises", "templates"):
        d = data_dir(name)
        if d.parent != root:  # a source checkout: the folders sit next to the package
            for f in sorted(d.rglob("*")):
                rel = f.relative_to(d)
                if f.is_file() and "__pycache__" not in rel.parts:
                    files[str(Path("convexproof") / name / rel)] = f
    return files


VENDOR_MARK = ".copied-by-convexproof-export"


def vendor_package(dest: Path) -> list[str]:
    """Copy the package into ``dest/convexproof``; returns the relative paths.

    An earlier copy (it holds the file :data:`VENDOR_MARK`) is replaced; any
    other ``dest/convexproof`` (a source checkout, the installed package) is
    refused, never deleted.
    """
    from convexproof.runtime.safetext import terminal_safe

    show = terminal_safe(str(dest))[:200]
    try:
        if not str(dest).strip():  # before Path(), which reads "" as the current folder
            raise ConvexproofError("give a folder, e.g. --server-files serverFilesCourse")
        dest = Path(dest)
        target = dest / "convexproof"
        own = Path(__file__).resolve().parent.parent
        if target.exists() or target.is_symlink():
            if target.resolve() == own or not (target / VENDOR_MARK).is_file() or target.is_symlink():
                raise ConvexproofError(f"{show}/convexproof exists and is not a copy made by convexproof export; "
                                       "remove it first or choose another folder")
            shutil.rmtree(target)
        files = package_files()
        for rel, src in files.items():
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out)
        (target / VENDOR_MARK).write_text("convexproof export replaces this folder when run again.\n",
                                          encoding="utf-8")
    except OSError as exc:
        raise ConvexproofError(f"cannot write {show}: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise ConvexproofError(f"cannot write {show}: {exc}") from None
    return sorted(files)


def runtime_requirements() -> list[str]:
    """convexproof's runtime requirements, from its installed metadata (extras left out)."""
    try:
        from importlib.metadata import PackageNotFoundError, requires

        reqs = requires("convexproof") or []
    except PackageNotFoundError:
        reqs = []
    out = [r.split(";")[0].strip() for r in reqs if "extra ==" not in r]
    return out or ["sympy>=1.12", "numpy>=1.24", "click>=8.1", "jinja2>=3.1"]


def ensure_solvable(exercises) -> None:
    """Solve each exercise variant once, so that a broken or too slow exercise fails the export, not the students.

    (The CLI runs the export under the solving time limit.)
    """
    from convexproof.solvers import solve

    for ex in exercises:
        solve(ex)


def exercise_file(ex) -> Path | None:
    """The exercise's TOML file when it is a teacher's own (not shipped), else None."""
    from convexproof.runtime.resources import data_dir

    path = Path(ex.path)
    return None if path.parent.resolve() == data_dir("exercises").resolve() else path
