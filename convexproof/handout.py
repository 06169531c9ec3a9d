"""Handouts: numbered exercises with optional worked solutions, per-student variants, PDF.

``handout_document(exercises, all_=False, solutions=True, key=False, fmt="md", seed=None,
title=..., roster=None, exercises_dir=None)`` returns Markdown or LaTeX text, or
PDF bytes for ``fmt="pdf"`` (pdflatex in a temporary folder; when pdflatex is
missing this is a one-line :class:`ConvexproofError`).

With ``roster`` (a CSV file with a ``student`` column) every student gets their
own variant, seeded by ``roster_seed(student)`` (SHA-256 of ``"roster:" + id``),
and the document ends with one answer key listing every student's answers.
Every answer comes from the solvers at run time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import limits as _limits
from .errors import ConvexproofError

MAX_ROSTER = 1000
_STUDENT_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")


def roster_seed(student: str) -> int:
    """The deterministic seed of a student's variant."""
    return int(hashlib.sha256(("roster:" + student).encode("utf-8")).hexdigest()[:15], 16)


MAX_ROSTER_BYTES = 2_000_000


def read_roster(path) -> list[str]:
    """Student ids from a CSV file with a 'student' column (BOM and blank lines tolerated).

    Read with a size cap that also holds for pipes and devices (``/dev/zero``
    is "too large", a FIFO that is never written is an error, not a hang).  A
    list of ids already read is returned as it is.
    """
    if isinstance(path, (list, tuple)):
        return list(path)
    from .safeio import read_input
    from .safetext import bad_id_char

    p = Path(path)
    raw = read_input(path, cap=MAX_ROSTER_BYTES, label=f"roster {p.name}")
    from .grade import decode

    text = decode(raw, f"roster {p.name}")  # UTF-8 (with or without a BOM) or UTF-16 with a BOM; else line and byte
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "student" not in fields:
        raise ConvexproofError(f"roster {p.name}: needs a 'student' column (found: {', '.join(fields) or 'nothing'})")
    col = (reader.fieldnames or [])[fields.index("student")]
    students: list[str] = []
    seen = set()
    for line_no, row in enumerate(reader, start=2):
        sid = (row.get(col) or "").strip()
        if not sid:
            continue
        if not _STUDENT_RE.match(sid) or bad_id_char(sid):
            raise ConvexproofError(f"roster {p.name}: line {line_no}: student id is too long or has control characters")
        if sid in seen:
            raise ConvexproofError(f"roster {p.name}: line {line_no}: student {sid[:40]!r} appears twice")
        seen.add(sid)
        students.append(sid)
        if len(students) > MAX_ROSTER:
            raise ConvexproofError(f"roster {p.name}: more than {MAX_ROSTER} students")
    if not students:
        raise ConvexproofError(f"roster {p.name}: no students")
    return students


class _Builder:
    def __init__(self, fmt: str, exercises_dir):
        self.fmt = fmt
        self.env = "md" if fmt == "md" else "tex"
        self.exercises_dir = exercises_dir
        self._base: dict = {}
        self._solved: dict = {}

    def variant(self, ex_id: str, seed: int | None):
        from .library import instantiate, load_exercise

        if ex_id not in self._base:
            self._base[ex_id] = load_exercise(ex_id, exercises_dir=self.exercises_dir)
        return instantiate(self._base[ex_id], seed)

    def solve(self, ex):
        from .solvers import solve

        key = (ex.id, tuple(sorted((k, str(v)) for k, v in ex.values.items())))
        if key not in self._solved:
            self._solved[key] = solve(ex)
        return self._solved[key]

    def item(self, number: int, ex, with_solution: bool) -> dict:
        from markupsafe import Markup

        from .documents import figure_context, render_exercise_body, render_solution_body, trailing_figures

        body = render_exercise_body(ex, self.env, show_hints=True, show_parts=True)
        it = {"number": number, "id": ex.id, "title": ex.title, "body": Markup(body), "solution": None,
              "figures": [], "exercise": ex}
        if with_solution:
            sol = self.solve(ex)
            text = render_solution_body(sol, self.env, heading_level=4)
            it["solution"] = Markup(text)
            it["figures"] = [figure_context(f) for f in trailing_figures(sol)] if self.env == "tex" else []
            it["answers"] = sol.answers
        return it


def handout_document(exercises: list[str], all_: bool = False, solutions: bool = True, key: bool = False,
                     fmt: str = "md", seed: int | None = None, title: str = "Convexity exercises",
                     roster=None, exercises_dir=None) -> str | bytes:
    from .library import exercise_files
    from .render import render_document

    if fmt == "ipynb":  # a self-check notebook (convexproof/platforms/notebook.py)
        from .platforms.notebook import notebook_document

        return notebook_document(exercises, all_=all_, solutions=solutions, key=key, seed=seed, title=title,
                                 roster=roster, exercises_dir=exercises_dir)
    if fmt not in ("md", "latex", "pdf"):
        raise ConvexproofError(f"unknown handout format {str(fmt)[:20]!r}; use md, latex, pdf or ipynb")
    if not isinstance(title, str) or len(title) > 200 or any(ord(c) < 32 for c in title):
        raise ConvexproofError("the title must be one line of at most 200 characters")
    if fmt == "pdf" and shutil.which("pdflatex") is None:
        raise ConvexproofError("pdflatex is not installed; install TeX Live (e.g. apt-get install texlive-latex-recommended "
                               "texlive-pictures) or use --format latex")
    ids = list(exercises)
    if all_:
        ids = ids + [e for e in exercise_files(exercises_dir) if e not in ids]
    if not ids:
        raise ConvexproofError("name at least one exercise, or use --all")
    if len(ids) != len(set(ids)):
        raise ConvexproofError("an exercise is named twice")
    if roster is not None and seed is not None:
        raise ConvexproofError("--seed and --roster cannot be combined: the roster gives every student a seed")
    b = _Builder(fmt, exercises_dir)
    docs, key_items, roster_key = [], [], []
    subtitle = ""
    if roster is None:
        items = []
        for n, ex_id in enumerate(ids, start=1):
            ex = b.variant(ex_id, seed)
            items.append(b.item(n, ex, solutions))
        if solutions and key:
            key_items = items
            items = [dict(it, solution=None, figures=[]) for it in items]
        docs.append({"student": None, "items": items})
        if seed is not None:
            subtitle = f"Variant {seed}"
    else:
        students = read_roster(roster)
        for sid in students:
            s = roster_seed(sid)
            items, rows = [], []
            for n, ex_id in enumerate(ids, start=1):
                ex = b.variant(ex_id, s)
                it = b.item(n, ex, False)
                items.append(it)
                if solutions:
                    sol = b.solve(ex)
                    rows += [{"number": n, "part": p, "value": v} for p, v in sol.answers.items()]
            docs.append({"student": sid, "items": items})
            if solutions:
                roster_key.append({"student": sid, "seed": s, "rows": rows})
        subtitle = f"{len(students)} individual problem sets" + (" and one answer key" if solutions else "")
    env = "md" if fmt == "md" else "tex"
    text = render_document("handout.j2", env, title=title, subtitle=subtitle, docs=docs, key=key_items,
                           roster_key=roster_key)
    if env == "md":
        from .documents import tidy_markdown

        return tidy_markdown(text)
    if fmt == "latex":
        return text
    return compile_pdf(text)


def compile_pdf(tex: str, timeout: float = _limits.PDF_TIMEOUT) -> bytes:
    """Run pdflatex on ``tex`` in a temporary folder and return the PDF."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise ConvexproofError("pdflatex is not installed; use --format latex")
    with tempfile.TemporaryDirectory(prefix="convexproof-") as tmp:
        src = Path(tmp) / "handout.tex"
        src.write_text(tex, encoding="utf-8")
        try:
            proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                                   "handout.tex"], cwd=tmp, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ConvexproofError(f"pdflatex took longer than {timeout:.0f} s") from None
        pdf = Path(tmp) / "handout.pdf"
        if proc.returncode != 0 or not pdf.exists():
            log = proc.stdout.decode("utf-8", "replace")
            err = next((ln for ln in log.splitlines() if ln.startswith("!")), "see the LaTeX log")
            raise ConvexproofError(f"pdflatex failed: {err[:200]}")
        return pdf.read_bytes()
