"""Class analysis of a graded batch: ``convexproof grade --answers FILE --summary``.

For each part: how many answered, the mean score in points, the status
counts, and each note code with its count, its share of the answers and what
it means ("31 % gave 3/2: the factor 2 of 3x² was lost").  For each student:
points earned out of the points of the parts they answered.  Rendered as
text, Markdown, JSON, or LaTeX with a bar chart per part (pgfplots), which
``--format pdf`` compiles.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from functools import lru_cache
from typing import Any

from convexproof.grading.notes import describe


@lru_cache(maxsize=256)
def _exercise(exercise: str, exercises_dir):
    from convexproof.library import load_exercise

    try:
        return load_exercise(exercise, exercises_dir=exercises_dir)
    except Exception:  # noqa: BLE001 - an unknown exercise's rows are invalid; they count with 1 point
        return None


def _points(exercise: str, part: str, exercises_dir) -> float:
    ex = _exercise(exercise, exercises_dir)
    if ex is None:
        return 1.0
    try:
        return float(getattr(ex.part(part or None), "points", 1.0))
    except Exception:  # noqa: BLE001
        return 1.0


def analyse(results: list[dict], exercises_dir=None) -> dict[str, Any]:
    """The class analysis (see the module docstring) as plain data."""
    parts: "OrderedDict[tuple, dict]" = OrderedDict()
    students: "OrderedDict[str, dict]" = OrderedDict()
    for r in results:
        key = (r.get("exercise", ""), r.get("part", "") or "")
        pts = _points(key[0], key[1], exercises_dir) if r["status"] != "invalid" or key[0] else 1.0
        p = parts.setdefault(key, {"exercise": key[0], "part": key[1], "answers": 0, "points": pts, "earned": 0.0,
                                   "status": Counter(), "notes": Counter(), "examples": {}})
        p["answers"] += 1
        p["earned"] += float(r["score"]) * pts
        p["status"][r["status"]] += 1
        if r.get("note"):
            p["notes"][r["note"]] += 1
            p["examples"].setdefault(r["note"], (r.get("answer", ""), r.get("feedback", "")))
        s = students.setdefault(r.get("student", ""), {"earned": 0.0, "max": 0.0, "answers": 0})
        s["earned"] += float(r["score"]) * pts
        s["max"] += pts
        s["answers"] += 1
    out_parts = []
    for (exercise, part), p in parts.items():
        n = p["answers"]
        out_parts.append({
            "exercise": exercise, "part": part, "answers": n, "points": p["points"],
            "mean_score": round(p["earned"] / n, 4) if n else 0.0,
            "status": dict(p["status"]),
            "notes": [{"note": code, "count": c, "share": round(c / n, 4), "meaning": _meaning(code, p["examples"])}
                      for code, c in p["notes"].most_common()],
        })
    return {"parts": out_parts,
            "students": {k: {"earned": round(v["earned"], 4), "max": v["max"], "answers": v["answers"]}
                         for k, v in students.items()}}


def _meaning(code: str, examples: dict) -> str:
    """The registry's meaning of a note code; for a teacher's own mistake code, an example answer and its feedback."""
    from convexproof.grading.notes import NOTES

    if code in NOTES or code.startswith("line-"):
        return describe(code)
    answer, feedback = examples.get(code, ("", ""))
    first = " ".join(str(feedback).split()).split(". ")[0].rstrip(".")
    short = " ".join(str(answer).split())[:60]
    return (f"gave {short}" + (f": {first}" if first else "")) if short else (first or code)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def to_text(a: dict) -> str:
    lines = []
    for p in a["parts"]:
        st = p["status"]
        lines.append(f"{p['exercise']}, part {p['part'] or '(default)'}: {p['answers']} answers, mean "
                     f"{_num(p['mean_score'])}/{_num(p['points'])} points; "
                     + ", ".join(f"{st[k]} {k}" for k in ("correct", "incorrect", "undecided", "invalid") if st.get(k)))
        for n in p["notes"]:
            lines.append(f"  {_pct(n['share']):>5} {n['note']}: {n['meaning']}")
    lines.append("students:")
    for name, s in a["students"].items():
        lines.append(f"  {name or '(no name)'}: {_num(s['earned'])}/{_num(s['max'])} points")
    return "\n".join(lines) + "\n"


def to_json(a: dict) -> str:
    return json.dumps(a, ensure_ascii=False, indent=2) + "\n"


def to_md(a: dict) -> str:
    from convexproof.render import md_escape

    out = ["# Class analysis", ""]
    for p in a["parts"]:
        st = p["status"]
        out += [f"## {md_escape(p['exercise'])}, part {md_escape(p['part'] or '(default)')}", "",
                f"{p['answers']} answers, mean score {_num(p['mean_score'])} of {_num(p['points'])} points: "
                + ", ".join(f"{st[k]} {k}" for k in ("correct", "incorrect", "undecided", "invalid") if st.get(k))
                + ".", ""]
        if p["notes"]:
            out += ["| share | count | note | meaning |", "|---|---|---|---|"]
            out += [f"| {_pct(n['share'])} | {n['count']} | {md_escape(n['note'])} | {md_escape(n['meaning'])} |"
                    for n in p["notes"]]
            out.append("")
    out += ["## Students", "", "| student | points | of |", "|---|---|---|"]
    out += [f"| {md_escape(k or '(no name)')} | {_num(s['earned'])} | {_num(s['max'])} |" for k, s in a["students"].items()]
    return "\n".join(out) + "\n"


def to_latex(a: dict) -> str:
    from convexproof.render import tex_escape

    out = [r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}", r"\usepackage[T1]{fontenc}",
           r"\usepackage[a4paper,margin=2.5cm]{geometry}", r"\usepackage{pgfplots}", r"\pgfplotsset{compat=1.16}",
           r"\usepackage{booktabs}", r"\begin{document}", r"\section*{Class analysis}"]
    for p in a["parts"]:
        st = p["status"]
        out.append(r"\subsection*{" + tex_escape(f"{p['exercise']}, part {p['part'] or '(default)'}") + "}")
        out.append(tex_escape(f"{p['answers']} answers, mean score {_num(p['mean_score'])} of {_num(p['points'])} "
                              "points: " + ", ".join(f"{st[k]} {k}" for k in ("correct", "incorrect", "undecided",
                                                                              "invalid") if st.get(k)) + ".") + "\n")
        if not p["notes"]:
            continue
        notes = p["notes"][:12]
        labels = ",".join("{" + tex_escape(n["note"]) + "}" for n in notes)
        coords = " ".join(f"({100 * n['share']:.1f},{{{tex_escape(n['note'])}}})" for n in notes)
        out += [r"\begin{center}\begin{tikzpicture}",
                r"\begin{axis}[xbar, width=0.8\textwidth, height=" + f"{1.2 + 0.7 * len(notes):.1f}" + r"cm, "
                r"xmin=0, xmax=100, xlabel={share of answers (\%)}, symbolic y coords={" + labels + "}, "
                r"ytick=data, y dir=reverse, nodes near coords, nodes near coords align={horizontal}, "
                r"enlarge y limits=" + ("0.5" if len(notes) == 1 else "0.15") + "]",
                r"\addplot coordinates {" + coords + "};", r"\end{axis}", r"\end{tikzpicture}\end{center}",
                r"\begin{tabular}{rlp{0.6\textwidth}}\toprule share & note & meaning \\ \midrule"]
        out += [tex_escape(_pct(n["share"])) + " & " + tex_escape(n["note"]) + " & " + tex_escape(n["meaning"])
                + r" \\" for n in p["notes"]]
        out.append(r"\bottomrule\end{tabular}" + "\n")
    out += [r"\subsection*{Students}", r"\begin{tabular}{lrr}\toprule student & points & of \\ \midrule"]
    out += [tex_escape(k or "(no name)") + f" & {_num(s['earned'])} & {_num(s['max'])}" + r" \\"
            for k, s in a["students"].items()]
    out += [r"\bottomrule\end{tabular}", r"\end{document}"]
    return "\n".join(out) + "\n"


def render(a: dict, fmt: str) -> str | bytes:
    if fmt in ("text", "csv"):
        return to_text(a)
    if fmt == "json":
        return to_json(a)
    if fmt == "md":
        return to_md(a)
    if fmt == "latex":
        return to_latex(a)
    if fmt == "pdf":
        from convexproof.render.handout import compile_pdf

        return compile_pdf(to_latex(a))
    from convexproof.runtime.errors import ConvexproofError

    raise ConvexproofError(f"unknown format {fmt!r} for --summary")
