"""Proof documents: text (terminal), Markdown with TeX math, standalone LaTeX (pdflatex) and JSON.

The steps go through the same per-kind templates as the worked solutions
(``convexproof.render.render_steps``); ``proof.j2`` frames them.

:func:`report_command` is what ``convexproof prove`` and ``regularize`` run:
reading the problem, the analysis *and writing the document* happen in one
child process under the command's time limit and memory cap (SymPy's LaTeX
printer alone took 240 s on 15 nested ``exp(-…)``).  The analysis gets
``DEFAULTS["analysis_share"]`` of ``--timeout`` (cooperative deadline), the
document the rest.  When the child is stopped at the hard limit, the parent
prints a short document built without any SymPy printing: the verdict
"unknown" if the analysis itself ran over, or the verdict already found and a
note that the proof could not be written in time (plus one line on stderr).
"""

from __future__ import annotations

import json
from dataclasses import replace

from markupsafe import Markup

from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError
from convexproof.steps import Step

_MAX_TEX_DEPTH = 3  # LaTeX allows 4 nested itemize levels; the document uses one


def _limit_depth(steps: list[Step], depth: int = 0, max_depth: int = _MAX_TEX_DEPTH) -> list[Step]:
    """Copy of the tree where steps deeper than max_depth are lifted to that depth."""
    out = []
    for s in steps:
        kids = s.children
        if depth + 1 >= max_depth:
            flat: list[Step] = []
            stack = list(reversed(kids))
            while stack:
                k = stack.pop()
                flat.append(replace(k, children=[]))
                stack.extend(reversed(k.children))
            out.append(replace(s, children=flat))
        else:
            out.append(replace(s, children=_limit_depth(kids, depth + 1, max_depth)))
    return out


def _point(d) -> str:
    if not d:
        return ""
    if len(d) == 1:
        k, v = next(iter(d.items()))
        return f"{k} = {v}"
    return "(" + ", ".join(f"{k} = {v}" for k, v in d.items()) + ")"


def _witness_ctx(w: dict | None) -> dict | None:
    if not w:
        return None
    out = {"verified": w.get("verified", "exact"), "point": None, "direction": None, "curvature": None,
           "curvature_approx": None, "chord": None, "params": None}
    if w.get("point"):
        out.update(point=_point(w["point"]), direction=_point(w["direction"]), curvature=w["curvature"],
                   curvature_approx=f"{w['curvature_approx']:.6g}")
    if w.get("chord"):
        ch = w["chord"]
        out["chord"] = {"a": _point(ch["a"]), "b": _point(ch["b"]), "t": ch["t"], "lhs": ch["lhs"], "rhs": ch["rhs"],
                        "gap_approx": f"{ch['gap_approx']:.6g}"}
    if w.get("params"):
        out["params"] = _point(w["params"])
    return out


_TFMT = {"md": "md", "text": "text", "latex": "tex", "tex": "tex"}


def render_proof(result, fmt: str = "md") -> str:
    """A ProofResult or RegularizeResult as a document: ``md`` (Markdown, ``$…$`` math; for ``_repr_markdown_``),
    ``text`` (Unicode, for a terminal), ``latex`` (standalone, for ``_repr_latex_`` or pdflatex) or ``json``."""
    return proof_document(result, fmt)


def _math(result, name: str, data: dict):
    """The result's SymPy value ``name`` for the templates to typeset, else its JSON text (or None)."""
    import sympy as sp

    v = getattr(result, name, None)
    if isinstance(v, sp.Basic) and v is not sp.false:
        return v
    return data.get(name) or None


def proof_document(result, fmt: str) -> str:
    """Render a ProofResult or RegularizeResult as text, md, latex or json."""
    from convexproof.render import render_document, render_steps

    data = result.to_dict()
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt not in _TFMT:
        raise ConvexproofError(f"unknown format {fmt!r}; use text, md, latex or json")
    tfmt = _TFMT[fmt]
    steps = _limit_depth(result.steps) if tfmt == "tex" else result.steps
    body = render_steps(steps, tfmt)
    is_reg = "lam_min" in data
    title = ("Smallest regularisation weight" if is_reg else "Convexity proof")
    ctx = dict(
        title=title,
        steps=Markup(body),
        verdict=data.get("verdict", "unknown"),
        condition=_math(result, "condition", data),
        modulus=_math(result, "modulus", data),
        modulus_tight=data.get("modulus_tight"),
        witness=_witness_ctx(data.get("witness")),
        lam_min=(_math(result, "lam_min", data) if is_reg and data.get("lam_min") is not None else
                 ("none: no finite value works" if is_reg and data.get("verdict") == "no finite lam" else None)),
    )
    return render_document("proof.j2", tfmt, **ctx)


# ------------------------------------------------------ the command, limited
def report_command(kind: str, expr, *, wrt=None, where=(), penalty=None, fmt: str = "md",
                   timeout: float | None = None, spent: float = 0.0) -> tuple[str, str | None]:
    """``prove``/``regularize`` as the CLI runs them: (document, note for stderr or None).

    Everything (parsing, substitution, analysis, ``simplify``, rendering) runs
    in one child process killed ``DEFAULTS["grace"]`` s after ``timeout``;
    ``spent`` seconds already used by the command (Python's start-up, the CLI
    passes :func:`convexproof.runtime.limits.process_elapsed`) are taken off.
    """
    import time

    started = time.monotonic()  # the limit covers the set-up here too (importing the engine, the templates)
    from convexproof.runtime.limits import DEFAULT_TIMEOUT, DEFAULTS
    from convexproof.render import environment
    from convexproof.engine.prover import _preimport
    from convexproof.runtime.limits import run_isolated

    if kind not in ("prove", "regularize"):
        raise ValueError(kind)
    if fmt not in ("json", *_TFMT):
        raise ConvexproofError(f"unknown format {fmt!r}; use text, md, latex or json")
    timeout = float(DEFAULT_TIMEOUT if timeout is None else timeout)
    if not timeout > 0:
        raise ConvexproofError("the timeout must be a positive number of seconds")
    _preimport()
    if fmt != "json":  # load the templates before the fork: the child and the fallback both need them
        env = environment(_TFMT[fmt])
        env.get_template("proof.j2")
    left = timeout - max(float(spent), 0.0) - (time.monotonic() - started)
    if left < 0.1:  # the start-up used the whole --timeout: no analysis can finish, say so at once
        return _fallback(kind, None, expr, wrt, penalty, fmt, timeout)
    try:
        text = run_isolated(_report_child, (kind, expr, wrt, where, penalty, fmt, left), timeout=left,
                            grace=DEFAULTS["grace"])
        return text, None
    except AnalysisTimeout as exc:
        return _fallback(kind, getattr(exc, "partial", None), expr, wrt, penalty, fmt, timeout)
    except MemoryError as exc:  # the child's address-space cap: "unknown", like a time-out
        return _fallback(kind, getattr(exc, "partial", None), expr, wrt, penalty, fmt, timeout, memory=True)


def _report_child(kind, expr, wrt, where, penalty, fmt, timeout) -> str:  # runs in the limited child
    from convexproof.runtime.limits import DEFAULTS
    from convexproof.runtime.limits import report_partial

    budget = timeout * DEFAULTS["analysis_share"]
    if kind == "prove":
        from convexproof.engine.prover import prove

        result = prove(expr, wrt=wrt, where=where, timeout=budget)  # in process: this is the child
    else:
        from convexproof.engine.regularisation import regularize

        result = regularize(expr, wrt=wrt, where=where, penalty=penalty, timeout=budget)
    report_partial(("summary", _summary(result)))  # if writing the document runs over, the verdict survives
    return proof_document(result, fmt)


def _s(v) -> str | None:
    import sympy as sp

    return None if v is None else sp.sstr(v)


def _summary(result) -> dict:
    """What the fallback document shows: strings only (no SymPy printing needed later)."""
    out = {"expr": _s(result.expr), "variables": [str(v) for v in result.variables],
           "domain": [_s(c) for c in result.domain], "verdict": result.verdict, "timed_out": result.timed_out}
    if hasattr(result, "lam_min"):
        out.update(penalty=_s(result.penalty), lam_min=_s(result.lam_min), attained=result.attained)
    else:
        from convexproof.engine.result import witness_to_dict

        out.update(parameters=[str(p) for p in result.parameters], convex=result.convex,
                   condition=_s(result.condition), modulus=_s(result.modulus), modulus_tight=result.modulus_tight,
                   witness=witness_to_dict(result.witness))
    return out


def _fallback(kind, partial, expr, wrt, penalty, fmt, timeout, memory: bool = False) -> tuple[str, str | None]:
    """The document after the child was stopped: no SymPy printing here, only strings."""
    from convexproof.engine.domain import Problem

    stage = "analysis"
    if isinstance(partial, tuple) and len(partial) == 2 and partial[0] == "summary":
        info, stage = dict(partial[1]), "rendering"
    else:
        problem, pen = (partial if isinstance(partial, tuple) and len(partial) == 2 else (partial, None))
        if isinstance(problem, Problem):
            info = {"expr": _s(problem.expr), "variables": [str(v) for v in problem.variables],
                    "parameters": [str(p) for p in problem.parameters],
                    "domain": [_s(c) for c in problem.domain_conditions()]}
        else:  # stopped while reading the problem: as typed
            names = [wrt] if isinstance(wrt, str) else list(wrt or [])
            info = {"expr": str(expr), "variables": [str(v) for v in names], "parameters": [], "domain": []}
        if kind == "regularize":
            info["penalty"] = _s(pen) if pen is not None else (str(penalty) if penalty is not None else None)
        info.update(verdict="unknown", timed_out=True)
    from convexproof.runtime.limits import memory_mb

    limit = f"memory limit of {memory_mb()} MB" if memory else f"time limit of {timeout:g} s"
    if stage == "analysis":
        if memory:
            info.update(timed_out=False)
            message = f"the analysis needed more than its {limit} and was stopped; no verdict"
            note = f"the analysis ran out of memory (limit {memory_mb()} MB); the verdict is unknown"
        else:
            message = f"the analysis ran over its {limit} and was stopped; no verdict"
            note = None
    else:
        name = {"md": "Markdown", "text": "text", "json": "JSON"}.get(fmt, "LaTeX")
        message = (f"the verdict was found, but writing the proof as {name} ran over the {limit}; only the "
                   f"verdict is shown" + ("" if memory else " (try a larger --timeout or --format json)"))
        note = f"writing the proof ran over the {limit}; only the verdict is shown"
    return _short_document(kind, info, message, fmt), note


def _short_document(kind: str, info: dict, message: str, fmt: str) -> str:
    from convexproof.render import md_escape, md_prose_escape, render_document, tex_escape

    is_reg = kind == "regularize"
    if fmt == "json":
        if is_reg:
            data = {"expr": info.get("expr"), "penalty": info.get("penalty"), "variables": info.get("variables", []),
                    "domain": info.get("domain", []), "lam_min": info.get("lam_min"), "lam_min_approx": None,
                    "attained": info.get("attained") if info.get("lam_min") is not None else None,
                    "verdict": info.get("verdict", "unknown"), "timed_out": info.get("timed_out", True)}
        else:
            data = {"expr": info.get("expr"), "variables": info.get("variables", []),
                    "parameters": info.get("parameters", []), "domain": info.get("domain", []),
                    "convex": info.get("convex"), "verdict": info.get("verdict", "unknown"),
                    "condition": info.get("condition"), "witness": info.get("witness"), "modulus": info.get("modulus"),
                    "modulus_tight": info.get("modulus_tight") if info.get("modulus") else None, "method": "",
                    "timed_out": info.get("timed_out", True)}
        data["notes"] = [message]
        data["steps"] = [{"kind": "cvx_conclusion", "verdict": info.get("verdict", "unknown"), "text": message}]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    tfmt = _TFMT[fmt]
    what = f"Function: {info.get('expr')}"
    if info.get("variables"):
        what += f"; variables: {', '.join(info['variables'])}"
    if info.get("domain"):
        what += f"; domain: {', '.join(str(d) for d in info['domain'])}"
    if is_reg and info.get("penalty"):
        what += f"; penalty: {info['penalty']}"
    if tfmt in ("md", "text"):
        esc = md_escape if tfmt == "text" else md_prose_escape
        body = f"- {esc(what)}.\n- **Conclusion ({esc(info.get('verdict', 'unknown'))}):** " \
               f"{esc(message)}.\n"
    else:
        body = f"\\item {tex_escape(what)}.\n\\item \\textbf{{Conclusion ({tex_escape(info.get('verdict', 'unknown'))}):}} " \
               f"{tex_escape(message)}.\n"
    lam_min = info.get("lam_min") if is_reg else None
    if is_reg and lam_min is None and info.get("verdict") == "no finite lam":
        lam_min = "none: no finite value works"
    return render_document("proof.j2", tfmt, title="Smallest regularisation weight" if is_reg else "Convexity proof",
                           steps=Markup(body), verdict=info.get("verdict", "unknown"),
                           condition=info.get("condition"), modulus=info.get("modulus"),
                           modulus_tight=info.get("modulus_tight"), witness=_witness_ctx(info.get("witness")),
                           lam_min=lam_min)


# ------------------------------------------------- the vector command, limited
def _vector_child(expr, wrt, where, shapes, fmt, timeout, kind="prove") -> str:  # runs in the limited child
    from convexproof.engine.vector import prove_vector, regularize_vector
    from convexproof.runtime.limits import DEFAULTS

    analyse = regularize_vector if kind == "regularize" else prove_vector
    return proof_document(analyse(expr, wrt, where, shapes, timeout * DEFAULTS["analysis_share"]), fmt)


def report_vector(expr, *, wrt=None, where=(), shapes=None, fmt: str = "md", timeout: float | None = None,
                  kind: str = "prove") -> tuple[str, str | None]:
    """``convexproof prove --shape ...``: (document, note for stderr or None), all in one limited child."""
    from convexproof.engine.vector import timed_out_vector
    from convexproof.runtime.limits import DEFAULT_TIMEOUT, DEFAULTS, run_isolated

    if fmt not in ("json", *_TFMT):
        raise ConvexproofError(f"unknown format {fmt!r}; use text, md, latex or json")
    timeout = float(DEFAULT_TIMEOUT if timeout is None else timeout)
    if not timeout > 0:
        raise ConvexproofError("the timeout must be a positive number of seconds")
    try:
        return run_isolated(_vector_child, (expr, wrt, where, shapes, fmt, timeout, kind), timeout=timeout,
                            grace=DEFAULTS["grace"]), None
    except AnalysisTimeout as exc:
        return (proof_document(timed_out_vector(expr, wrt, shapes, str(exc)), fmt),
                "the analysis ran over its time limit")
