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

from convexproof.runtime.errors import ConvexproofError

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
    from convexproof.render.mathtext import latex

    out = []
    for kind, value in segments:
        if kind == "text":
            from convexproof.runtime.safetext import safe_links  # Moodle may read Markdown links in prose: none to javascript:

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
    _cdata_text(q, "generalfeedback", feedback_md, "html")
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
    ET.SubElement(fb, "text").text = feedback  # HTML: prose escaped by the caller, mathematics in \\( \\)


def _m(expr) -> str:
    """Inline mathematics for Moodle/STACK: \\( … \\) around sympy.latex (HTML-escaped)."""
    from convexproof.render.mathtext import latex

    return r"\(" + html.escape(latex(expr)) + r"\)"


def _d(latex_text: str) -> str:
    return r"\[" + html.escape(latex_text) + r"\]"


def _html_pieces(segments) -> str:
    from convexproof.render.mathtext import latex

    out = []
    for kind, value in segments:
        if kind == "text":
            from convexproof.runtime.safetext import safe_links

            out.append(html.escape(safe_links(value)).replace("\n\n", "</p><p>").replace("\n", " "))
        elif kind == "eq":
            lhs, rhs, op = value
            out.append(r"\(" + html.escape(latex(lhs) + (" = " if op == "=" else r" \approx ") + latex(rhs)) + r"\)")
        else:
            out.append(_m(value))
    return "".join(out)


def html_steps(steps, depth: int = 0) -> str:
    """A step tree as HTML with MathJax mathematics (Moodle's convention), for feedback."""
    from convexproof.render.mathtext import latex

    out = []
    for st in steps:
        kind = getattr(st, "kind", "")
        f = st.fields() if kind != "figure_step" else {}
        if kind == "section":
            out.append(f"<h{min(4 + depth, 6)}>{html.escape(st.title)}</h{min(4 + depth, 6)}>")
            out.append(html_steps(st.children, depth + 1))
            continue
        if kind == "sentence":
            out.append("<p>" + ("<b>Answer.</b> " if f["role"] == "answer" else "") + _html_pieces(f["parts"]) + "</p>")
        elif kind == "equation":
            out.append(_d(latex(f["lhs"]) + " = " + latex(f["rhs"])))
        elif kind == "diff_line":
            body = latex(f["lhs"]) + (" &= " + latex(f["shown"]) + r" \\ &= " if f["shown"] is not None else " &= ")
            body += latex(f["result"])
            out.append(("<p>By the " + html.escape(f["rules"]) + ":</p>" if f["rules"] else "")
                       + _d(r"\begin{aligned}" + body + r"\end{aligned}"))
        elif kind == "cases":
            rows = r" \\ ".join(latex(v) + " & " + (r"\text{if } " + latex(c) if c is not True and c != True
                                                     else r"\text{otherwise}") for v, c in f["cases"])
            out.append(_d(latex(f["lhs"]) + r" = \begin{cases}" + rows + r"\end{cases}"))
        elif kind == "sign_argument":
            facts = " and ".join(_m(x) for x in f["facts"])
            out.append("<p>" + _m(f["claim"]) + (", since " + facts if facts else "") + ".</p>")
        elif kind == "minimum":
            out.append("<p>The minimum over " + _m(f["var"]) + " is attained at " + _m(f["point"]) + ": "
                       + _m(f["value"]) + ".</p>")
        elif kind == "witness" and f["layout"] == "paragraph":
            w, var = f["witness"], f["witness"].variables[0]
            if w.point is not None:
                out.append("<p><b>Witness (curvature):</b> " + r"\(" + html.escape(f["name"] + "''(" + latex(w.point[var])
                                                                              + ") = " + latex(w.curvature))
                           + r" < 0\)" + ", so the graph bends downwards there.</p>")
            if w.chord:
                out.append("<p><b>Witness (chord):</b> between " + _m(w.chord["a"][var]) + " and " + _m(w.chord["b"][var])
                           + " the graph at the midpoint, " + _m(w.chord["lhs"]) + ", lies above the chord, "
                           + _m(w.chord["rhs"]) + ": Jensen's inequality fails.</p>")
        elif kind == "table":
            head = "".join("<th>" + html.escape(h) + "</th>" for h in f["header"])
            rows = "".join("<tr>" + "".join("<td>" + _html_pieces([c]) + "</td>" for c in r) + "</tr>" for r in f["rows"])
            out.append("<table><tr>" + head + "</tr>" + rows + "</table>")
        elif kind == "figure_step":
            out.append("<p><i>Figure (in the PDF handout): " + html.escape(st.figure.title) + ".</i></p>")
        elif kind == "answer":
            continue
        else:
            continue  # a step kind without an HTML form is left out rather than shown as code
        if st.children and kind != "section":
            out.append(html_steps(st.children, depth + 1))
    return "".join(out)


def part_feedback(ex, sol, part_name: str) -> str:
    """The worked solution of the statement part that answers ``part_name``, and nothing of the others."""
    from convexproof.steps import Section, is_answer

    home = sol.facts.get("part_sections", {}).get(part_name) if isinstance(sol.facts, dict) else None
    labelled = [s for s in sol.steps if isinstance(s, Section) and s.title.startswith("(")]
    if home:
        mine = [s for s in labelled if s.title.startswith(home)]
        if mine:
            return html_steps(mine)
    value = sol.answers.get(part_name)
    if isinstance(value, str) and "\n" in value.strip():  # a derivation part: its model derivation
        return "<p>A model derivation:</p><pre>" + html.escape(_plain_model(value)) + "</pre>"
    if labelled:  # a part the solver did not place: the one-line answer of the whole exercise
        return html_steps([s for s in sol.steps if is_answer(s)][:1])
    return html_steps([s for s in sol.steps if not is_answer(s)])


def _plain_model(text: str) -> str:
    """A model derivation's formulas without code spellings (sqrt(, exp(, **)."""
    import re

    return re.sub(r"\bsqrt\(", "√(", re.sub(r"\bexp\(", "e^(", text)).replace("**", "^").strip()


def _prose_html(ex, text: str) -> str:
    """Exercise prose (e.g. a mistake's feedback) with its {name} references resolved and typeset."""
    return _html_pieces(ex.prose_segments(text))


def moodle_export(exercise_ids: list[str], seed: int | None = None, exercises_dir=None) -> str:
    import sympy as sp

    from convexproof.library import load_exercise
    from convexproof.solvers import solve

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
        label = ex.id + (f" seed {ex.seed}" if ex.seed is not None else "")
        for part in ex.parts.values():
            value = sol.answers[part.name]
            ask = (f"<p><b>Part {html.escape(part.name)}</b>"
                   + (f": {html.escape(part.description)}" if part.description else "") + "</p>")
            name = f"{label}: {part.name}"
            feedback = part_feedback(ex, sol, part.name)
            if part.type == "number":
                q = _question(quiz, "numerical", name, statement + ask, feedback)
                _answer(q, 100, _number_text(value), "Correct.", tolerance=part.tolerance)
                for m in ex.mistakes:
                    if m.part == part.name:
                        try:
                            wrong = ex.formula(m.answer, where=f"mistakes.{m.note}")
                            _answer(q, 0, _number_text(wrong), _prose_html(ex, m.feedback), tolerance=part.tolerance)
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
                weaker = None
                if right == "convex" and "strictly convex" in [a_.lower() for a_ in part.accept] and \
                        "Strictly convex" in feedback.replace("strictly convex", "Strictly convex"):
                    right, weaker = "strictly convex", "convex"  # the strongest true statement is the answer
                q = _question(quiz, "multichoice", name, statement + ask, feedback)
                ET.SubElement(q, "single").text = "true"
                ET.SubElement(q, "shuffleanswers").text = "true"
                ET.SubElement(q, "answernumbering").text = "abc"
                _answer(q, 100, html.escape(right), "Correct.", fmt="html")
                if weaker:
                    _answer(q, 50, html.escape(weaker), "True, but not the strongest statement: the Hessian is "
                                                         "positive definite.", fmt="html")
                wrong = [w for w in part.reject if w != right.lower() and w != weaker]
                for w in VERDICT_WORDS:
                    if len(wrong) >= 3:
                        break
                    if w not in wrong and w != right.lower() and w not in part.accept and w != weaker:
                        wrong.append(w)
                for w in wrong[:4]:
                    fb = next((_prose_html(ex, m.feedback) for m in ex.mistakes
                               if m.part == part.name and m.answer.lower() == w),
                              "Not quite: see the worked solution.")
                    _answer(q, 0, html.escape(w), fb, fmt="html")
            else:
                from convexproof.render.mathtext import latex, unicode

                q = _question(quiz, "essay", name, statement + ask, feedback)
                ET.SubElement(q, "responseformat").text = "editor"
                ET.SubElement(q, "responsefieldlines").text = "5"
                if isinstance(value, str):  # a derivation part: its model derivation is prose, not a formula
                    expected = "<pre>" + html.escape(_plain_model(value)) + "</pre>"
                else:
                    from convexproof.solvers.forms import teacher_form

                    shown = teacher_form(value, next(iter(sorted(value.free_symbols, key=str)), None)) \
                        if isinstance(value, sp.Expr) and len(value.free_symbols) == 1 else value
                    expected = "\\(" + html.escape(latex(shown)) + "\\)"
                _cdata_text(q, "graderinfo", "<p>Expected: " + expected + "</p>", "html")
    from convexproof.runtime.safetext import xml_text

    for el in quiz.iter():  # well-formed XML whatever the prose holds: no control characters (XML 1.0)
        el.text = xml_text(el.text) if el.text else el.text
        for k, v in el.attrib.items():
            el.set(k, xml_text(v))
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
