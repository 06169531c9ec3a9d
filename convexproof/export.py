"""Moodle XML export: one question per answer part.

* ``number`` parts become ``numerical`` questions with the part's tolerance;
* ``point`` parts become one ``numerical`` question per coordinate;
* ``verdict`` parts become single-answer ``multichoice`` questions: the
  engine's verdict is the right choice, the part's ``reject`` words (and the
  other standard verdicts) are distractors, with the feedback of a matching
  known mistake;
* ``expression``, ``matrix`` and ``condition`` parts become ``essay``
  questions whose grader information holds the engine's answer.

The statement is HTML with MathJax ``\\( … \\)`` mathematics; the worked
solution goes into the general feedback (Markdown format).  Every answer comes
from the solvers at run time.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from .errors import ConvexproofError

VERDICT_WORDS = ["convex", "not convex", "strictly convex", "concave", "positive definite",
                 "positive semidefinite", "indefinite", "not strongly convex", "strongly convex", "unknown"]


def _cdata_text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if fmt:
        el.set("format", fmt)
    t = ET.SubElement(el, "text")
    t.text = text
    return el


def _html_segments(segments) -> str:
    from .mathtext import latex

    out = []
    for kind, value in segments:
        if kind == "text":
            from .safetext import safe_links  # Moodle may read Markdown links in prose: none to javascript:

            out.append(html.escape(safe_links(value)).replace("\n\n", "</p><p>").replace("\n", " "))
        else:
            out.append(r"\(" + html.escape(latex(value)) + r"\)")
    return "<p>" + "".join(out) + "</p>"


def _number_text(v) -> str:
    import sympy as sp

    v = sp.nsimplify(v) if isinstance(v, float) else v
    if getattr(v, "is_Integer", False):
        return str(int(v))
    f = sp.N(v, 17)
    if not f.is_real or not f.is_finite:
        raise ConvexproofError(f"answer {v} is not a finite real number")
    return format(float(f), ".15g")


def _question(quiz: ET.Element, qtype: str, name: str, text_html: str, feedback_md: str) -> ET.Element:
    q = ET.SubElement(quiz, "question", type=qtype)
    _cdata_text(q, "name", name)
    _cdata_text(q, "questiontext", text_html, "html")
    _cdata_text(q, "generalfeedback", feedback_md, "markdown")
    ET.SubElement(q, "defaultgrade").text = "1"
    ET.SubElement(q, "penalty").text = "0.3333333"
    ET.SubElement(q, "hidden").text = "0"
    return q


def _answer(q: ET.Element, fraction: int, text: str, feedback: str = "", tolerance: float | None = None,
            fmt: str | None = None) -> None:
    a = ET.SubElement(q, "answer", fraction=str(fraction))
    if fmt:
        a.set("format", fmt)
    ET.SubElement(a, "text").text = text
    if tolerance is not None:
        ET.SubElement(a, "tolerance").text = repr(float(tolerance))
    fb = ET.SubElement(a, "feedback", format="html")
    ET.SubElement(fb, "text").text = html.escape(feedback)


def moodle_export(exercise_ids: list[str], seed: int | None = None, exercises_dir=None) -> str:
    from .documents import solution_document
    from .library import load_exercise
    from .solvers import solve

    if not exercise_ids:
        raise ConvexproofError("name at least one exercise to export")
    quiz = ET.Element("quiz")
    cat = ET.SubElement(quiz, "question", type="category")
    _cdata_text(cat, "category", "$course$/convexproof")
    for ex_id in exercise_ids:
        ex = load_exercise(ex_id, seed=seed, exercises_dir=exercises_dir)
        sol = solve(ex)
        statement = _html_segments(ex.prose_segments(ex.statement.strip()))
        if ex.seed is not None:
            statement += "<p>(Variant " + str(ex.seed) + ")</p>"
        feedback = solution_document(ex, sol, "md")
        label = ex.id + (f" seed {ex.seed}" if ex.seed is not None else "")
        for part in ex.parts.values():
            value = sol.answers[part.name]
            ask = (f"<p><b>Part {html.escape(part.name)}</b>"
                   + (f": {html.escape(part.description)}" if part.description else "") + "</p>")
            name = f"{label}: {part.name}"
            if part.type == "number":
                q = _question(quiz, "numerical", name, statement + ask, feedback)
                _answer(q, 100, _number_text(value), "Correct.", tolerance=part.tolerance)
                for m in ex.mistakes:
                    if m.part == part.name:
                        try:
                            wrong = ex.formula(m.answer, where=f"mistakes.{m.note}")
                            _answer(q, 0, _number_text(wrong), m.feedback, tolerance=part.tolerance)
                        except ConvexproofError:
                            continue
            elif part.type == "point":
                coords = list(value) if hasattr(value, "__iter__") else [value]
                for i, c in enumerate(coords, start=1):
                    q = _question(quiz, "numerical", f"{name} (coordinate {i})",
                                  statement + ask + f"<p>Give coordinate {i} of {len(coords)}.</p>", feedback)
                    _answer(q, 100, _number_text(c), "Correct.", tolerance=part.tolerance)
            elif part.type == "verdict":
                right = str(value)
                q = _question(quiz, "multichoice", name, statement + ask, feedback)
                ET.SubElement(q, "single").text = "true"
                ET.SubElement(q, "shuffleanswers").text = "true"
                ET.SubElement(q, "answernumbering").text = "abc"
                _answer(q, 100, html.escape(right), "Correct.", fmt="html")
                wrong = [w for w in part.reject if w != right.lower()]
                for w in VERDICT_WORDS:
                    if len(wrong) >= 3:
                        break
                    if w not in wrong and w != right.lower() and w not in part.accept:
                        wrong.append(w)
                for w in wrong[:4]:
                    fb = next((m.feedback for m in ex.mistakes if m.part == part.name and m.answer.lower() == w),
                              "Not quite: see the worked solution.")
                    _answer(q, 0, html.escape(w), fb, fmt="html")
            else:
                from .mathtext import latex, unicode

                q = _question(quiz, "essay", name, statement + ask, feedback)
                ET.SubElement(q, "responseformat").text = "editor"
                ET.SubElement(q, "responsefieldlines").text = "5"
                if isinstance(value, str):  # a derivation part: its model derivation is prose, not a formula
                    expected = "<pre>" + html.escape(value) + "</pre>"
                else:
                    expected = "\\(" + html.escape(latex(value)) + "\\) (" + html.escape(unicode(value)) + ")"
                _cdata_text(q, "graderinfo", "<p>Expected: " + expected + "</p>", "html")
    from .safetext import xml_text

    for el in quiz.iter():  # well-formed XML whatever the prose holds: no control characters (XML 1.0)
        el.text = xml_text(el.text) if el.text else el.text
        for k, v in el.attrib.items():
            el.set(k, xml_text(v))
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
