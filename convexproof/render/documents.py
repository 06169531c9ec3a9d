"""Statement and solution documents in Markdown, LaTeX and JSON.

``statement_document(ex, fmt)`` and ``solution_document(ex, solution, fmt)``
build whole documents; ``exercise_context``, ``statement_text``,
``render_exercise_body``, ``render_solution_body`` and ``figure_context`` are
the pieces handouts and exports reuse.  Formats are ``md``, ``latex`` and
``json``.  Exercise prose is data: it is split at ``{name}`` references
(typeset as mathematics) and passed to the templates as values, never
compiled as a template.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

from convexproof.runtime.errors import ConvexproofError

FORMATS = ("text", "md", "latex", "json")
_ENV = {"md": "md", "text": "text", "latex": "tex", "tex": "tex"}


def _env_name(fmt: str) -> str:
    if fmt not in _ENV:
        raise ConvexproofError(f"unknown format {str(fmt)[:20]!r}; use one of {', '.join(FORMATS)}")
    return _ENV[fmt]


# ------------------------------------------------------------------ context


def param_equations(ex) -> list:
    """``a = 3`` for every parameter of this variant, as SymPy equations."""
    import sympy as sp

    from convexproof.parse import symbol

    return [sp.Eq(symbol(k), sp.Rational(v.numerator, v.denominator), evaluate=False)
            for k, v in ex.values.items()]


def exercise_context(ex, *, show_hints: bool = True, show_parts: bool = True) -> dict[str, Any]:
    """What the statement templates need: prose as segments, parameters, hints, parts."""
    return {
        "id": ex.id,
        "title": ex.title,
        "seed": ex.seed,
        "statement": ex.prose_segments(ex.statement.strip()),
        "hints": [ex.prose_segments(h) for h in ex.hints],
        "parts": list(ex.parts.values()),
        "params": param_equations(ex),
        "show_params": ex.seed is not None,
        "show_hints": show_hints,
        "show_parts": show_parts,
    }


def segments_text(segments) -> str:
    """Prose segments as plain Unicode text (JSON, Moodle)."""
    from convexproof.render.mathtext import unicode

    return "".join(v if k == "text" else unicode(v) for k, v in segments)


def statement_text(ex) -> str:
    return segments_text(ex.prose_segments(ex.statement.strip()))


def _fmt_number(v: float) -> str:
    text = f"{v:.6g}"
    return "0" if text in ("-0", "0") else text


def _sample(expr, var, xs: list[Fraction]) -> list[tuple[float, float]]:
    """Values of ``expr`` at the points ``xs``: exact for polynomials, else exact substitution."""
    import sympy as sp

    try:
        poly = sp.Poly(expr, var)
        coeffs = [Fraction(int(c.p), int(c.q)) for c in poly.all_coeffs()] if all(
            c.is_Rational for c in poly.all_coeffs()) else None
    except sp.PolynomialError:
        coeffs = None
    out = []
    for x in xs:
        if coeffs is not None:
            y = Fraction(0)
            for c in coeffs:
                y = y * x + c
            out.append((float(x), float(y)))
        else:
            val = expr.subs(var, sp.Rational(x.numerator, x.denominator))
            val = val.evalf(20)
            if val.is_real and val.is_finite:
                out.append((float(x), float(val)))
    return out


_STYLES = ["thick, blue", "thick, red, dashed", "thick, black!60!green, dotted", "thick, orange",
           "thick, violet, dashdotted"]


def figure_context(fig) -> dict[str, Any]:
    """A Figure with its curves sampled into pgfplots coordinates (computed here, from the engine's data)."""
    from markupsafe import Markup

    lo, hi = Fraction(str(fig.xmin)), Fraction(str(fig.xmax))
    n = max(int(fig.samples), 2)
    grid = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    curves = []
    for i, c in enumerate(fig.curves):
        if "points" in c:
            pts = [(float(x), float(y)) for x, y in c["points"]]
        else:
            xs = sorted(set(grid) | {Fraction(str(float(b))) for b in c.get("breaks", ()) if lo <= b <= hi})
            pts = _sample(c["expr"], c["var"], xs)
        coords = " ".join(f"({_fmt_number(x)},{_fmt_number(y)})" for x, y in pts)
        curves.append({"label": c.get("label", ""), "points": pts, "coordinates": Markup(coords),
                       "style": Markup(c.get("style", _STYLES[i % len(_STYLES)]))})
    from convexproof.render.mathtext import latex

    def axis(name):  # a variable's name typeset as mathematics (theta is θ), else prose
        import sympy as sp

        return Markup("$" + latex(sp.Symbol(name)) + "$") if name and name.isidentifier() else name

    return {"title": fig.title, "xmin": _fmt_number(fig.xmin), "xmax": _fmt_number(fig.xmax),
            "ymin": None if fig.ymin is None else _fmt_number(fig.ymin),
            "ymax": None if fig.ymax is None else _fmt_number(fig.ymax),
            "xlabel": axis(fig.xlabel), "ylabel": axis(fig.ylabel), "equal_axes": fig.equal_axes, "curves": curves}


# ----------------------------------------------------------------- renderers


def render_exercise_body(ex, fmt: str, **options) -> str:
    """The statement (and hints, parts) of one exercise, without a document around it."""
    from convexproof.render import render_document

    return render_document("exercise_body.j2", _env_name(fmt), **exercise_context(ex, **options))


def render_solution_body(solution, fmt: str, heading_level: int = 3) -> str:
    """The worked solution's steps, without a document around them.

    In Markdown its sections are headings of ``heading_level`` (3 under the
    "## Solution" of ``solve``); LaTeX sectioning does not depend on it.
    """
    from convexproof.render import render_steps

    env = _env_name(fmt)
    return str(render_steps(solution.steps, env, depth=heading_level - 2 if env != "tex" else 0))


def statement_document(ex, fmt: str = "md") -> str:
    """The statement and hints of ``ex`` (no solution) as a whole document."""
    if fmt == "json":
        return _json({
            "exercise": ex.id, "title": ex.title, "seed": ex.seed, "params": _params_json(ex),
            "statement": statement_text(ex), "hints": [segments_text(ex.prose_segments(h)) for h in ex.hints],
            "parts": [{"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                      for p in ex.parts.values()],
            "tags": ex.tags,
        })
    from convexproof.render import render_document

    text = render_document("statement.j2", _env_name(fmt), **exercise_context(ex))
    return tidy_markdown(text) if fmt in ("md", "text") else text


_SVG_COLOURS = {"blue": "#1f4fd8", "red": "#d62728", "green": "#2a8f2a", "orange": "#f08c00", "violet": "#8a2be2",
                "black": "#222222", "gray": "#888888"}


def _svg_colour(style: str) -> str:
    for word in str(style).replace(",", " ").replace("!", " ").split():
        if word in _SVG_COLOURS:
            return _SVG_COLOURS[word]
    return "#1f4fd8"


def figure_svg(fig) -> str:
    """A figure as a small self-contained SVG file (pure Python: no plotting library)."""
    import html as _html
    import math

    from convexproof.render.mathtext import unicode

    ctx = figure_context(fig)
    W, H, L, R, T, B = 560, 340, 50, 15, 40, 40
    pts = [p for c in ctx["curves"] for p in c["points"] if all(math.isfinite(v) for v in p)]
    if not pts:
        return ""
    x0, x1 = float(fig.xmin), float(fig.xmax)
    ys = [y for _x, y in pts]
    y0 = float(fig.ymin) if fig.ymin is not None else min(ys)
    y1 = float(fig.ymax) if fig.ymax is not None else max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = (y0, y1) if fig.ymin is not None else (y0 - pad, y1 + pad)

    def sx(x):
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def sy(y):
        return H - B - (min(max(y, y0), y1) - y0) / (y1 - y0) * (H - T - B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="12">',
           f"<title>{_html.escape(str(fig.title))}</title>",
           f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="white" stroke="#444"/>']
    if y0 < 0 < y1:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#bbb"/>')
    if x0 < 0 < x1:
        out.append(f'<line y1="{T}" y2="{H - B}" x1="{sx(0):.1f}" x2="{sx(0):.1f}" stroke="#bbb"/>')
    for v, anchor, x, y in ((x0, "start", L, H - B + 15), (x1, "end", W - R, H - B + 15)):
        out.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}">{_fmt_number(v)}</text>')
    for v, y in ((y0, H - B), (y1, T + 10)):
        out.append(f'<text x="{L - 4}" y="{y}" text-anchor="end">{_fmt_number(round(v, 2))}</text>')
    xl = fig.xlabel if isinstance(fig.xlabel, str) else ""
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">'
               f'{_html.escape(unicode(sp_symbol(xl)) if xl.isidentifier() else xl)}</text>')
    lx = L
    for c in ctx["curves"]:
        colour = _svg_colour(c["style"])
        p = [(x, y) for x, y in c["points"] if math.isfinite(x) and math.isfinite(y)]
        if "only marks" in str(c["style"]) or len(p) == 1:
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{colour}"/>' for x, y in p]
        else:
            dash = ' stroke-dasharray="6 4"' if "dashed" in str(c["style"]) else ""
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in p)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        label = c["label"] if isinstance(c["label"], str) else unicode(c["label"])
        if label:
            out.append(f'<rect x="{lx}" y="14" width="14" height="4" fill="{colour}"/>'
                       f'<text x="{lx + 18}" y="20">{_html.escape(label)}</text>')
            lx += 30 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def sp_symbol(name: str):
    import sympy as sp

    return sp.Symbol(name)


def solution_figures(solution, prefix: str) -> dict[str, str]:
    """Name the figures a solution places (``prefix-fig1.svg`` ...) and return their SVG files."""
    files: dict[str, str] = {}
    for s in figure_steps(solution.steps):
        name = f"{prefix}-fig{len(files) + 1}.svg"
        svg = figure_svg(s.figure)
        if svg:
            s.figure.svg_name = name
            files[name] = svg
    return files


def solution_document(ex, solution, fmt: str = "md") -> str:
    """The worked solution as a whole document (md: terminal-friendly; latex: standalone for pdflatex)."""
    if fmt == "json":
        return _json({
            "exercise": ex.id, "title": ex.title, "seed": ex.seed, "params": _params_json(ex),
            "statement": statement_text(ex), "hints": [segments_text(ex.prose_segments(h)) for h in ex.hints],
            "steps": [s.to_dict() for s in solution.steps],
            "answers": solution.answers_text(),
        })
    from markupsafe import Markup

    from convexproof.render import render_document

    env = _env_name(fmt)
    ctx = exercise_context(ex, show_hints=False, show_parts=False)
    ctx["body"] = Markup(render_solution_body(solution, fmt))
    figs = trailing_figures(solution)
    ctx["figures"] = [figure_context(f) for f in figs] if env == "tex" else figs
    text = render_document("solution.j2", env, **ctx)
    return tidy_markdown(text) if env != "tex" else text


def trailing_figures(solution) -> list:
    """The solution's figures that its steps do not already place where they are discussed."""
    if not solution.figures:
        return []
    placed = {id(s.figure) for s in figure_steps(solution.steps)}
    return [f for f in solution.figures if id(f) not in placed]


def figure_steps(steps) -> list:
    """The steps of a tree that place a figure (kind ``figure_step``, :class:`convexproof.solvers.teach.FigureStep`)
    where the text discusses it; documents do not repeat those figures at the end."""
    from convexproof.steps import walk

    return [s for st in steps for s in walk(st) if s.kind == "figure_step"]


def latex_body(document: str) -> str:
    """The body of a standalone LaTeX document (between ``\\begin{document}`` and ``\\end{document}``,
    without ``\\maketitle``): what Jupyter's ``_repr_latex_`` and nbconvert take, no preamble."""
    start, end = document.find("\\begin{document}"), document.rfind("\\end{document}")
    if start < 0 or end < start:
        return document
    body = document[start + len("\\begin{document}"):end].replace("\\maketitle", "")
    for name, n_args, definition in _NEWCOMMAND.findall(document[:start]):  # the preamble's own macros, expanded
        body = _expand_macro(body, name, int(n_args or 0), definition)
    return body.strip() + "\n"


_NEWCOMMAND = re.compile(r"\\newcommand\{(\\[A-Za-z]+)\}(?:\[([01])\])?\{((?:[^{}]|\{[^{}]*\})*)\}")


def _expand_macro(body: str, name: str, n_args: int, definition: str) -> str:
    """``\\name{arg}`` (one argument in balanced braces, or none) replaced by its definition."""
    out, pos = [], 0
    pattern = re.compile(re.escape(name) + r"(?![A-Za-z])")
    while (m := pattern.search(body, pos)) is not None:
        out.append(body[pos:m.start()])
        pos = m.end()
        if n_args == 0:
            out.append(definition)
            continue
        if pos >= len(body) or body[pos] != "{":
            out.append(m.group())
            continue
        depth, i = 0, pos
        while i < len(body):
            depth += {"{": 1, "}": -1}.get(body[i], 0) if body[i - 1:i] != "\\" else 0
            if depth == 0:
                break
            i += 1
        out.append(definition.replace("#1", body[pos + 1:i]))
        pos = i + 1
    out.append(body[pos:])
    return "".join(out)


def tidy_markdown(text: str) -> str:
    """A blank line between an indented (code) block or a displayed formula (``$$…$$``) and the prose
    after it; at most one blank line."""
    out: list[str] = []
    for line in text.splitlines():
        if (out and line.strip() and not line.startswith("    ") and out[-1].startswith("    ")
                and not line.lstrip().startswith(("- ", "* "))):
            out.append("")
        elif out and line.strip() and not line.startswith("$$") and out[-1].startswith("$$"):
            out.append("")
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def _params_json(ex) -> dict[str, str]:
    return {k: str(v) for k, v in ex.values.items()}


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
