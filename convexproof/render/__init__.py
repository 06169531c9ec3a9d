"""Rendering step trees and documents through Jinja templates.

One environment per format, all with ``StrictUndefined``:

* ``text``: Markdown-like text that reads well in a terminal; mathematics as Unicode
  (``12x² − 6``), inline formulas in backticks, displayed ones as indented lines.
* ``md``: real Markdown with TeX mathematics, ``$…$`` inline and ``$$…$$`` displayed
  (the GitHub/Jupyter/Quarto convention).  It uses the *same* templates as ``text``
  (``templates/md``); only the math filters differ, so both come from one step tree.
* ``tex``: LaTeX.  Delimiters are ``<< >>``, ``<% %>`` and ``<# #>`` so they do
  not clash with TeX braces.  Every value is escaped by ``finalize`` unless it
  is ``Markup``; only the ``m`` filter (``sympy.latex`` of a validated SymPy
  object) and already-rendered step bodies are Markup.

Exercise text is data: it is passed to templates as values and never compiled
as a template, so ``{% raw %}`` in a statement is printed, not run.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from convexproof.render import mathtext
from convexproof.runtime.resources import data_dir
from convexproof.steps import Step

FORMATS = ("md", "text", "tex")
_TEMPLATE_DIR = {"md": "md", "text": "md", "tex": "tex"}

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
    "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}",
    "%": r"\%", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_TEX_UNICODE = {
    "λ": r"$\lambda$", "μ": r"$\mu$", "θ": r"$\theta$", "η": r"$\eta$", "κ": r"$\kappa$",
    "σ": r"$\sigma$", "α": r"$\alpha$", "β": r"$\beta$", "ε": r"$\varepsilon$",
    "≤": r"$\leq$", "≥": r"$\geq$", "≠": r"$\neq$", "−": "$-$", "·": r"$\cdot$",
    "²": r"$^{2}$", "³": r"$^{3}$", "⁴": r"$^{4}$",
    "×": r"$\times$", "→": r"$\to$", "∞": r"$\infty$", "√": r"$\surd$", "′": "'", "″": "''",
    "‖": r"$\|$", "∈": r"$\in$", "ᵀ": r"$^{T}$", "…": r"\ldots{}",
    "“": "``", "”": "''", "‘": "`", "’": "'", "–": "--", "—": "---", "∂": r"$\partial$",
    "∇": r"$\nabla$", "Σ": r"$\Sigma$", "≈": r"$\approx$", "⁻": r"$^{-}$",
    "¹": r"$^{1}$", "½": r"$\frac12$",
    # subscripts, hats and a few more symbols used in exercise prose (exercise library)
    "₀": "$_{0}$", "₁": "$_{1}$", "₂": "$_{2}$", "₃": "$_{3}$", "₄": "$_{4}$", "ᵢ": "$_{i}$", "ᵏ": "$^{k}$",
    "ℝ": r"$\mathbb{R}$", "ⁿ": r"$^{n}$", "ᵈ": r"$^{d}$",
    "⁵": r"$^{5}$", "⁶": r"$^{6}$", "ŷ": r"$\hat{y}$", "δ": r"$\delta$", "π": r"$\pi$",
    "ℓ": r"$\ell$", "ρ": r"$\rho$", "↦": r"$\mapsto$", "⋆": r"$\star$",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in list(_TEX_ESCAPES) + list(_TEX_UNICODE)))


_PRIMES = re.compile(r"(?<=[A-Za-z])('{1,3})(?=\()")


def tex_escape(text: str) -> str:
    """Escape prose for LaTeX: every TeX special character, and Unicode we can map.

    Primes in prose (``f''(x)``) become math primes, not a closing quote;
    control characters are dropped.
    """
    out = _TEX_RE.sub(lambda m: _TEX_ESCAPES.get(m.group(), _TEX_UNICODE.get(m.group(), "")), str(text))
    out = _PRIMES.sub(lambda m: "$" + m.group(1) + "$", out)  # safe: applied to escaped text
    # anything else outside Latin-1 would break pdflatex: drop to '?'
    return "".join(c if 32 <= ord(c) < 256 or c in "\n\t" else ("?" if ord(c) >= 256 else "") for c in out)


_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


def md_escape(text: str) -> str:
    """Markdown prose: neutralise HTML tags (``<b`` becomes ``\\<b``) and links to ``javascript:``,
    ``data:`` or ``vbscript:`` targets (:func:`convexproof.runtime.safetext.safe_links`), and keep
    comparisons such as ``0 < p`` readable in a terminal."""
    from convexproof.runtime.safetext import safe_links

    return _HTML_START.sub(r"\\<", safe_links(str(text)))


def _tex_finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return tex_escape(str(value))


def _text_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return md_escape(value) if isinstance(value, str) else mathtext.unicode(value)


_DOLLAR = re.compile(r"(?<!\\)\$")


def md_prose_escape(text: str) -> str:
    """Prose for Markdown with TeX math: :func:`md_escape`, and a ``$`` in prose is ``\\$`` (not a formula)."""
    return _DOLLAR.sub(r"\\$", md_escape(text))


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, str):
        return md_prose_escape(value)
    if isinstance(value, (bool, int)):
        return str(value)
    try:
        return "$" + mathtext.latex(value) + "$"
    except Exception:  # noqa: BLE001 - not a SymPy object (a dict, a record): its plain text
        return md_prose_escape(mathtext.unicode(value))


def _m_text(obj: Any) -> Markup:
    return Markup(mathtext.unicode(obj))


def _mi_text(obj: Any) -> Markup:
    return Markup("`" + mathtext.unicode(obj) + "`")


def _m_mdtex(obj: Any) -> Markup:
    return Markup("$" + mathtext.latex(obj) + "$")


_OPS_TEX = {"=": "=", "≈": r"\approx", "≤": r"\leq", "≥": r"\geq", "<": "<", ">": ">", "≠": r"\neq",
            "<=": r"\leq", ">=": r"\geq", "!=": r"\neq"}


def _op_tex(op: str) -> Markup:
    """A relation symbol inside TeX math."""
    return Markup(_OPS_TEX.get(str(op).strip(), r"\text{" + tex_escape(str(op)) + "}"))


# notation the templates write themselves, per format: {{ N.vHv }} is vᵀ∇²f v in text, v^\top ∇²f v in TeX
NOTATION = {
    "vHv": (r"v^{\top} \nabla^2 f \, v", "vᵀ∇²f v"),
    "geq": (r"\geq", "≥"), "leq": (r"\leq", "≤"), "approx": (r"\approx", "≈"),
    "mu": (r"\mu", "μ"), "lam": (r"\lambda", "λ"),
    "fpp": (r"f''", "f''"),
    "chord_lhs": (r"f(t a + (1-t) b)", "f(t·a + (1−t)·b)"),
    "chord_rhs": (r"t f(a) + (1-t) f(b)", "t·f(a) + (1−t)·f(b)"),
    "hess_w": (r"\nabla^2 f(w)", "∇²f(w)"), "grad_w": (r"\nabla f(w)", "∇f(w)"),
    "succeq": (r"\succeq", "⪰"), "preceq": (r"\preceq", "⪯"), "muI": (r"\mu I", "μ·I"), "LI": (r"L I", "L·I"),
    "kappa_def": (r"\kappa = L/\mu", "κ = L/μ"), "vHv_short": (r"v^{\top} \nabla^2 v", "vᵀ∇²v"),
    "phi": (r"\varphi(t)", "φ(t)"), "phi2": (r"\varphi''(t)", "φ''(t)"),
}


def _m_tex(obj: Any) -> Markup:
    return Markup(mathtext.latex(obj))


def sentence_filter(fmt: str):
    """The ``say`` filter: a :class:`~convexproof.steps.Sentence` (or plain prose) inline, in ``fmt``'s notation.

    The engine's steps hold their explanations as sentences (prose and SymPy objects); the text format
    writes their mathematics bare (``f'' = 12x² − 6 ≥ 0``), md as ``$…$`` and tex as ``$…$`` TeX."""
    from convexproof.steps import Sentence

    if fmt == "tex":
        prose, math = tex_escape, lambda v: "$" + mathtext.latex(v) + "$"
        eq = lambda v: "$" + mathtext.latex(v[0]) + " " + _op_tex(v[2]) + " " + mathtext.latex(v[1]) + "$"
    elif fmt == "md":
        prose, math = md_prose_escape, lambda v: "$" + mathtext.latex(v) + "$"
        eq = lambda v: "$" + mathtext.latex(v[0]) + " " + _op_tex(v[2]) + " " + mathtext.latex(v[1]) + "$"
    else:
        prose, math = md_escape, mathtext.unicode
        eq = lambda v: mathtext.unicode(v[0]) + " " + str(v[2]) + " " + mathtext.unicode(v[1])

    def say(value: Any) -> Markup:
        if value is None:
            return Markup("")
        if isinstance(value, Markup):
            return value
        if not isinstance(value, Sentence):
            return Markup(prose(str(value)))
        return Markup("".join(prose(v) if k == "text" else eq(v) if k == "eq" else math(v) for k, v in value.parts))

    return say


def number_filter(fmt: str):
    """The ``num`` filter: an exact value as mathematics, with a decimal approximation when it is not a plain
    rational (only the approximation when the exact form is long); delimiters included (none in text)."""
    import sympy as sp

    def num(v: Any) -> Markup:
        v = sp.sympify(v)
        approx = None
        if not v.is_Rational:
            try:
                approx = f"{float(sp.N(v)):.6g}"
            except (TypeError, ValueError):
                approx = None
        exact = v.is_Rational or approx is None or sp.count_ops(v) <= 12
        if fmt == "text":
            s = (mathtext.unicode(v) if exact else "") + ((" ≈ " if exact else "≈ ") + approx if approx else "")
            return Markup(s)
        body = (mathtext.latex(v) if exact else "") + ((r" \approx " if exact else r"\approx ") + approx if approx else "")
        return Markup("$" + body + "$")

    return num


# per format: how prose is escaped (finalize, esc), how mathematics is typeset (m: a value on its own, mi: inside
# prose, mr: bare inside delimiters the template writes, op: a relation) and the inline/display delimiters
_FORMAT_SPECS = {
    "tex": dict(finalize=_tex_finalize, esc=tex_escape, m=_m_tex, mr=_m_tex, mi=_m_mdtex, op=_op_tex,
                inline=("$", "$"), display=(r"\[", r"\]")),
    "md": dict(finalize=_md_finalize, esc=md_prose_escape, m=_m_mdtex, mr=_m_tex, mi=_m_mdtex, op=_op_tex,
               inline=("$", "$"), display=("$$", "$$")),
    "text": dict(finalize=_text_finalize, esc=md_escape, m=_m_text, mr=_m_text, mi=_mi_text,
                 op=lambda op: Markup(str(op)), inline=("`", "`"), display=("    ", "")),
}


@lru_cache(maxsize=None)
def environment(fmt: str) -> jinja2.Environment:
    """The Jinja environment of ``fmt`` (md, text or tex).

    Filters every template can use: ``m`` (a SymPy object as mathematics: Unicode in text, ``$…$`` in md,
    bare TeX in tex, where the template writes the ``$``), ``mi`` (inline mathematics in prose: backticks in
    text, ``$…$`` in md), ``mr`` (the bare notation, inside delimiters the template writes with the globals
    ``I0``/``I1`` inline and ``D0``/``D1`` displayed) and ``op`` (a relation symbol).  ``N.<name>`` is
    notation the templates write themselves (``N.vHv``), typeset per format.
    """
    if fmt not in FORMATS:
        raise ValueError(fmt)
    loader = jinja2.FileSystemLoader(str(data_dir("templates") / _TEMPLATE_DIR[fmt]))
    delimiters = dict(block_start_string="<%", block_end_string="%>", variable_start_string="<<",
                      variable_end_string=">>", comment_start_string="<#", comment_end_string="#>")
    spec = _FORMAT_SPECS[fmt]
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             finalize=spec["finalize"], **(delimiters if fmt == "tex" else {}))
    env.filters.update(m=spec["m"], mr=spec["mr"], mi=spec["mi"], op=spec["op"],
                       esc=lambda s, _e=spec["esc"]: Markup(_e(s)))
    (i0, i1), (d0, d1) = spec["inline"], spec["display"]
    notation = {k: v[1] if fmt == "text" else v[0] for k, v in NOTATION.items()}
    p = "" if fmt == "text" else "$"  # P0/P1: a formula that is plain text in the terminal
    env.globals.update(I0=Markup(i0), I1=Markup(i1), D0=Markup(d0), D1=Markup(d1), P0=Markup(p), P1=Markup(p),
                       N={k: Markup(i0 + v + i1 if fmt == "md" else v) for k, v in notation.items()},
                       NR={k: Markup(v) for k, v in notation.items()})
    env.globals["fmt"] = fmt
    env.filters["say"] = sentence_filter(fmt)
    env.filters["num"] = number_filter(fmt)
    env.filters["u"] = mathtext.unicode
    env.bytecode_cache = _bytecode_cache()
    return env


def _bytecode_cache():
    """Keep compiled templates between runs (Jinja's per-user cache folder, checked by Jinja).

    Compiling a dozen templates costs more than solving exercise3; with the cache a run only
    unmarshals them.  Set CONVEXPROOF_NO_TEMPLATE_CACHE=1 to turn it off.
    """
    import os

    if os.environ.get("CONVEXPROOF_NO_TEMPLATE_CACHE"):
        return None
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None  # no usable cache folder: compile every time


def render_step(step: Step, fmt: str, depth: int = 0) -> Markup:
    """Render one step and (post-order) its children with ``<kind>.j2``."""
    env = environment(fmt)
    body = Markup("").join(render_step(c, fmt, depth + 1) for c in step.children)
    tmpl = env.get_template(f"{step.kind}.j2")
    return Markup(tmpl.render(step=step, body=body, depth=depth, rule=step.rule, **step.fields()))


def render_steps(steps: list[Step], fmt: str, depth: int = 0) -> Markup:
    """Render a list of steps; ``depth`` nests them (Markdown headings start at level depth + 2)."""
    return Markup("").join(render_step(s, fmt, depth) for s in steps)


def render_document(template: str, fmt: str, **context: Any) -> str:
    """Render a whole document template (``solution.j2``, ``proof.j2``, ``handout.j2`` ...)."""
    return environment(fmt).get_template(template).render(**context)
