"""A Jupyter self-check notebook: ``convexproof handout EXERCISE... --format ipynb``.

The notebook has a title cell, a set-up cell, and for every exercise a
statement cell (Markdown, math in ``$…$``), and for every part a Markdown cell
naming the part, an answer cell (``ex1_lambda_min = ""``) and a check cell::

    result = convexproof.check("exercise3", ex1_lambda_min, part="lambda_min", seed=None)
    display(result)

The check result displays itself with :func:`feedback_markdown` (registered by
:mod:`convexproof.api`), which shows the status (correct / incorrect / could not
be read / undecided), how the answer was read (typeset with ``$…$``) and the
feedback.  Worked solutions are cells only with ``solutions=True``; the
notebook never holds an answer otherwise.  Cells carry
``metadata.convexproof = {"role", "exercise", "part"}`` (roles: statement,
answer, check, solution) and tags ``convexproof-<role>``.
"""

from __future__ import annotations

import json
import re

from convexproof.runtime.errors import ConvexproofError

_MD_SPECIAL = re.compile(r"([\\`*_\[\]$])")


def md_escape(text: str) -> str:
    """Plain text for Markdown: the characters that would start emphasis, code, links or math are escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("<", "&lt;").replace(">", "&gt;")


def _md_prose(ex, text: str) -> str:
    from convexproof.render.mathtext import latex

    out = []
    for kind, value in ex.prose_segments(text.strip()):
        out.append(md_escape(value) if kind == "text" else "$" + latex(value) + "$")
    return "".join(out)


def feedback_markdown(result) -> str:
    """The feedback of a :class:`~convexproof.grading.checking.CheckResult` as Markdown with math (for a notebook)."""
    from convexproof.platforms.common import read_as_latex

    status = getattr(result, "status", "invalid")
    head = {"correct": "**correct** ✓", "incorrect": "**incorrect**", "invalid": "**could not read your answer**",
            "undecided": "**undecided**: this answer could not be decided automatically; your teacher will review it"
            }.get(status, f"**{md_escape(status)}**")
    note = getattr(result, "note", None)
    lines = [f"{md_escape(result.exercise)}, part `{result.part}`: {head}" + (f" (`{note}`)" if note else "")]
    if status != "invalid" and getattr(result, "derivation", None) is None:
        shown = read_as_latex(result.answer)
        if shown:
            lines.append(f"Your answer, read as: ${shown}$")
    derivation = getattr(result, "derivation", None)
    if derivation is not None and hasattr(derivation, "to_text"):  # line by line, as the checker marked it
        if result.feedback:
            lines.append(md_escape(result.feedback))
        lines.append("```text\n" + derivation.to_text().strip().replace("```", "\u02cb\u02cb\u02cb") + "\n```")
    elif result.feedback:
        lines.append(md_escape(result.feedback))
    return "\n\n".join(lines)


def feedback_latex(result) -> str:
    """The same feedback as :func:`feedback_markdown`, as a LaTeX body (no preamble): Jupyter's
    ``_repr_latex_`` of a check result, and what nbconvert puts in a PDF."""
    from convexproof.platforms.common import read_as_latex
    from convexproof.render import tex_escape

    status = getattr(result, "status", "invalid")
    head = {"correct": "correct", "incorrect": "incorrect", "invalid": "could not read your answer",
            "undecided": "undecided: this answer could not be decided automatically; your teacher will review it"
            }.get(status, str(status))
    note = getattr(result, "note", None)
    lines = [f"{tex_escape(result.exercise)}, part \\texttt{{{tex_escape(result.part)}}}: \\textbf{{{tex_escape(head)}}}"
             + (f" (\\texttt{{{tex_escape(note)}}})" if note else "")]
    derivation = getattr(result, "derivation", None)
    if status != "invalid" and derivation is None:
        shown = read_as_latex(result.answer)
        if shown:
            lines.append(f"Your answer, read as: ${shown}$")
    if result.feedback:
        lines.append(tex_escape(result.feedback))
    if derivation is not None and hasattr(derivation, "to_text"):  # line by line, as the checker marked it
        lines.append("\\\\\n".join(tex_escape(line) for line in derivation.to_text().strip().splitlines()))
    return "\n\n".join(lines) + "\n"


def _cell_meta(role: str, exercise: str | None = None, part: str | None = None) -> dict:
    meta = {"role": role}
    if exercise:
        meta["exercise"] = exercise
    if part:
        meta["part"] = part
    return {"tags": [f"convexproof-{role}"], "convexproof": meta}


def _variable(n: int, part: str) -> str:
    return f"ex{n}_" + re.sub(r"[^A-Za-z0-9_]", "_", part)


def notebook_document(exercises, all_: bool = False, solutions: bool = False, key: bool = False,
                      seed: int | None = None, title: str = "Convexity exercises", roster=None,
                      exercises_dir=None) -> str:
    """The notebook as JSON text (nbformat 4)."""
    try:
        import nbformat
        from nbformat import v4
    except ImportError:
        raise ConvexproofError("writing notebooks needs nbformat: pip install nbformat") from None
    from convexproof.library import load_exercise
    from convexproof.render.handout import check_title, exercise_ids
    from convexproof.platforms.common import MULTILINE_TYPES

    if roster is not None:
        raise ConvexproofError("--roster is not available for notebooks; use --seed for one variant")
    if key:
        raise ConvexproofError("--key is not available for notebooks; use --solutions")
    check_title(title)
    ids = exercise_ids(exercises, all_, exercises_dir)
    variants = [load_exercise(e, seed=seed, exercises_dir=exercises_dir) for e in ids]

    cells = [v4.new_markdown_cell(
        f"# {md_escape(title)}\n\n"
        + (f"Variant {seed}.\n\n" if seed is not None else "")
        + "For every part, type your answer as text between the quotes of its answer cell "
          "(formulas as in `convexproof check`: `3/2`, `12x^2 - 6 + 2lam`, `lam >= 3`, `[[2, 1], [1, 2]]`, "
          "`(1, -1)`, or words such as `convex`), then run the check cell below it. "
          "Run the set-up cell first; it needs convexproof (`pip install convexproof`).",
        metadata=_cell_meta("title")),
        v4.new_code_cell(
            "# Set-up: run this cell first.\n"
            "from IPython.display import display\n\n"
            "import convexproof",
            metadata=_cell_meta("setup"))]
    for n, ex in enumerate(variants, start=1):
        text = f"## Exercise {n}: {md_escape(ex.title)}\n\n{_md_prose(ex, ex.statement)}"
        if ex.hints:
            text += "\n\n<details><summary>Hints</summary>\n\n" + "\n".join(
                f"- {_md_prose(ex, h)}" for h in ex.hints) + "\n\n</details>"
        cells.append(v4.new_markdown_cell(text, metadata=_cell_meta("statement", ex.id)))
        for part in ex.parts.values():
            var = _variable(n, part.name)
            desc = f": {_md_prose(ex, part.description)}" if part.description else ""
            cells.append(v4.new_markdown_cell(f"### Part `{part.name}` ({part.type}){desc}",
                                              metadata=_cell_meta("part", ex.id, part.name)))
            if part.type in MULTILINE_TYPES:  # several lines: one claim per line
                answer_cell = f'{var} = """\n"""  # your answer to part {part.name}: lines between the quotes'
            else:
                answer_cell = f'{var} = ""  # your answer to part {part.name}, as text'
            cells.append(v4.new_code_cell(answer_cell, metadata=_cell_meta("answer", ex.id, part.name)))
            cells.append(v4.new_code_cell(
                f"result = convexproof.check({json.dumps(ex.id)}, {var}, part={json.dumps(part.name)}, "
                f"seed={seed!r})\n"
                "display(result)  # shown as Markdown: the status, the answer as read and the feedback",
                metadata=_cell_meta("check", ex.id, part.name)))
        if solutions:
            from convexproof.render.documents import render_solution_body
            from convexproof.solvers import solve

            body = render_solution_body(solve(ex), "md", heading_level=4)
            cells.append(v4.new_markdown_cell(f"### Solution of exercise {n}\n\n{body}",
                                              metadata=_cell_meta("solution", ex.id)))
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "convexproof": {"exercises": ids, "seed": seed, "solutions": bool(solutions)},
    })
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"
