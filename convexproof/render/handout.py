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

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from convexproof.library.roster import read_roster, roster_seed  # noqa: F401 - re-exported: a handout's roster
from convexproof.runtime import limits as _limits
from convexproof.runtime.errors import ConvexproofError


class _Builder:
    def __init__(self, fmt: str, exercises_dir):
        self.fmt = fmt
        self.env = fmt if fmt in ("md", "text") else "tex"
        self.exercises_dir = exercises_dir
        self._base: dict = {}
        self._solved: dict = {}

    def variant(self, ex_id: str, seed: int | None):
        from convexproof.library import instantiate, load_exercise

        if ex_id not in self._base:
            self._base[ex_id] = load_exercise(ex_id, exercises_dir=self.exercises_dir)
        return instantiate(self._base[ex_id], seed)

    def solve(self, ex):
        from convexproof.solvers import solve

        key = (ex.id, tuple(sorted((k, str(v)) for k, v in ex.values.items())))
        if key not in self._solved:
            self._solved[key] = solve(ex)
        return self._solved[key]

    def item(self, number: int, ex, with_solution: bool, hints: bool = True, points: int = 2) -> dict:
        from markupsafe import Markup

        from convexproof.render.documents import figure_context, render_exercise_body, render_solution_body, trailing_figures

        # a printed handout never lists the checker's part names (grader identifiers) or their descriptions
        body = render_exercise_body(ex, self.env, show_hints=hints, show_parts=False)
        intro, parts = statement_parts(ex)
        hints_segs = [ex.prose_segments(h) for h in ex.hints] if hints else []
        it = {"number": number, "id": ex.id, "title": ex.title, "body": Markup(body), "solution": None,
              "figures": [], "exercise": ex, "intro": intro, "parts": [{"label": lab, "segments": segs,
                                                                          "points": points} for lab, segs in parts],
              "hints": hints_segs, "points": points * max(len(parts), 1), "params": _params(ex)}
        if with_solution:
            sol = self.solve(ex)
            text = render_solution_body(sol, self.env, heading_level=4)
            it["solution"] = Markup(text)
            it["figures"] = [figure_context(f) for f in trailing_figures(sol)] if self.env == "tex" else []
            it["answers"] = sol.answers
        return it


_PART_RE = re.compile(r"(?:(?<=\s)|^)\(([a-h])\)\s")


def statement_parts(ex) -> tuple[list, list]:
    """The statement's prose segments split at its part labels: (intro, [(label, segments), ...])."""
    segs = ex.prose_segments(ex.statement.strip())
    intro: list = []
    parts: list = []
    for kind, value in segs:
        if kind != "text":
            (parts[-1][1] if parts else intro).append((kind, value))
            continue
        pos = 0
        for m in _PART_RE.finditer(value):
            chunk = value[pos:m.start()]
            if chunk.strip():
                (parts[-1][1] if parts else intro).append(("text", chunk))
            parts.append((m.group(1), []))
            pos = m.end()
        rest = value[pos:]
        if rest.strip() or (rest and (parts[-1][1] if parts else intro)):
            (parts[-1][1] if parts else intro).append(("text", rest))
    return intro, parts


def _params(ex):
    from convexproof.render.documents import param_equations

    return param_equations(ex) if ex.seed is not None else []


def _roster_seeds(b, ids: list[str], students: list[str], allow_canonical: bool) -> dict:
    """(student, exercise) -> seed: distinct variants per exercise while the parameter space lasts, never the
    canonical (default) variant unless ``allow_canonical``.  Deterministic for a given roster order."""
    out: dict = {}
    for ex_id in ids:
        base = b.variant(ex_id, None)
        canon = tuple(sorted((k, str(v)) for k, v in base.values.items()))
        used: set = set()
        for sid in students:
            s0 = roster_seed(sid)
            choice = None
            fallback = None
            for k in range(200):
                seed = (s0 + k) % (2**63)
                vals = tuple(sorted((kk, str(v)) for kk, v in b.variant(ex_id, seed).values.items()))
                if vals == canon and not allow_canonical and vals:
                    continue
                if fallback is None:
                    fallback = (seed, vals)
                if vals not in used:
                    choice = (seed, vals)
                    break
            if choice is None:  # every variant is taken: repeat one (still not the canonical one)
                choice = fallback or (s0, canon)
                used = set()  # start a new round of distinct variants
            used.add(choice[1])
            out[(sid, ex_id)] = choice[0]
    return out


def check_title(title) -> None:
    """A document title is one line of at most 200 characters (handouts and notebooks)."""
    if not isinstance(title, str) or len(title) > 200 or any(ord(c) < 32 for c in title):
        raise ConvexproofError("the title must be one line of at most 200 characters")


def exercise_ids(exercises, all_: bool, exercises_dir=None) -> list[str]:
    """The exercises named, then with ``all_`` every other one; at least one, none twice."""
    from convexproof.library import exercise_files

    ids = list(exercises)
    if all_:
        ids = ids + [e for e in exercise_files(exercises_dir) if e not in ids]
    if not ids:
        raise ConvexproofError("name at least one exercise, or use --all")
    if len(ids) != len(set(ids)):
        raise ConvexproofError("an exercise is named twice")
    return ids


def handout_document(exercises: list[str], all_: bool = False, solutions: bool = True, key: bool = False,
                     fmt: str = "md", seed: int | None = None, title: str = "Convexity exercises",
                     roster=None, exercises_dir=None, hints: bool = True, exam: bool = False, points: int = 2,
                     allow_canonical: bool = False) -> str | bytes:
    from convexproof.render import render_document

    if fmt not in ("md", "text", "latex", "pdf"):  # ipynb: convexproof.platforms.notebook (api.handout_document)
        raise ConvexproofError(f"unknown handout format {str(fmt)[:20]!r}; use md, text, latex or pdf")
    check_title(title)
    if fmt == "pdf" and shutil.which("pdflatex") is None:
        raise ConvexproofError("pdflatex is not installed; install TeX Live (e.g. apt-get install texlive-latex-recommended "
                               "texlive-pictures) or use --format latex")
    ids = exercise_ids(exercises, all_, exercises_dir)
    if roster is not None and seed is not None:
        raise ConvexproofError("--seed and --roster cannot be combined: the roster gives every student a seed")
    b = _Builder(fmt, exercises_dir)
    docs, key_items, roster_key = [], [], []
    subtitle = ""
    if roster is None:
        items = []
        for n, ex_id in enumerate(ids, start=1):
            ex = b.variant(ex_id, seed)
            items.append(b.item(n, ex, solutions, hints, points))
        if solutions and (key or exam):  # an exam keeps its worked solutions for the end
            key_items = items
            items = [dict(it, solution=None, figures=[]) for it in items]
        docs.append({"student": None, "items": items})
        if seed is not None:
            subtitle = f"Variant {seed}"
    else:
        students = read_roster(roster)
        seeds = _roster_seeds(b, ids, students, allow_canonical)
        for sid in students:
            s = roster_seed(sid)
            items, rows = [], []
            for n, ex_id in enumerate(ids, start=1):
                ex = b.variant(ex_id, seeds[(sid, ex_id)])
                it = b.item(n, ex, False, hints, points)
                items.append(it)
                if solutions:
                    sol = b.solve(ex)
                    rows += [{"number": n, "part": p, "value": v} for p, v in sol.answers.items()]
            docs.append({"student": sid, "items": items})
            if solutions:
                roster_key.append({"student": sid, "seed": ", ".join(str(seeds[(sid, e)]) for e in ids)
                                   if len(ids) > 1 else seeds[(sid, ids[0])], "rows": rows})
        subtitle = f"{len(students)} individual problem sets" + (" and one answer key" if solutions else "")
    env = fmt if fmt in ("md", "text") else "tex"
    if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 100:
        raise ConvexproofError("--points must be a whole number from 1 to 100")
    template = "exam.j2" if exam else "handout.j2"
    text = render_document(template, env, title=title, subtitle=subtitle, docs=docs, key=key_items,
                           roster_key=roster_key, hints=hints)
    if env != "tex":
        from convexproof.render.documents import tidy_markdown

        return tidy_markdown(text)
    if fmt == "latex":
        return text
    return compile_pdf(text)


def _has_class(name: str) -> bool:
    exe = shutil.which("kpsewhich")
    if exe is None:
        return True  # cannot tell: let pdflatex say
    try:
        out = subprocess.run([exe, f"{name}.cls"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return True
    return bool(out.stdout.strip())


def compile_pdf(tex: str, timeout: float = _limits.PDF_TIMEOUT) -> bytes:
    """Run pdflatex on ``tex`` in a temporary folder and return the PDF."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise ConvexproofError("pdflatex is not installed; use --format latex")
    if "{exam}" in tex.split("\n", 3)[0] + tex[:400] and not _has_class("exam"):
        raise ConvexproofError("the LaTeX class exam.cls is not installed (apt-get install texlive-latex-extra); "
                               "use --format latex and compile elsewhere, or leave out --exam")
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
