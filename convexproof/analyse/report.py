"""Proof documents: Markdown (terminal), standalone LaTeX (pdflatex) and JSON.

The steps go through the same per-kind templates as the worked solutions
(``convexproof.render.render_steps``); ``proof.j2`` frames them.
"""

from __future__ import annotations

import json
from dataclasses import replace

from markupsafe import Markup

from ..errors import ConvexproofError
from ..steps import Step

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


def proof_document(result, fmt: str) -> str:
    """Render a ProofResult or RegularizeResult as md, latex or json."""
    from ..render import render_document, render_steps

    data = result.to_dict()
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt not in ("md", "latex", "tex"):
        raise ConvexproofError(f"unknown format {fmt!r}; use md, latex or json")
    tfmt = "md" if fmt == "md" else "tex"
    steps = _limit_depth(result.steps) if tfmt == "tex" else result.steps
    body = render_steps(steps, tfmt)
    is_reg = "lam_min" in data
    title = ("Smallest regularisation weight" if is_reg else "Convexity proof")
    ctx = dict(
        title=title,
        steps=Markup(body),
        verdict=data.get("verdict", "unknown"),
        condition=data["condition"] if data.get("condition") else None,
        modulus=data.get("modulus"),
        modulus_tight=data.get("modulus_tight"),
        witness=_witness_ctx(data.get("witness")),
        lam_min=(data.get("lam_min") if is_reg and data.get("lam_min") is not None else
                 ("none: no finite value works" if is_reg and data.get("verdict") == "no finite lam" else None)),
    )
    return render_document("proof.j2", tfmt, **ctx)
