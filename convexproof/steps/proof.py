"""The engine's proof steps: one dataclass per rule (templates ``cvx_<rule>.j2``).

Every step carries the mathematics as SymPy objects in structured fields and,
where the rule alone does not say it, a short explanation (``text``, ``reason``):
a :class:`~convexproof.steps.Sentence` made with :func:`~convexproof.steps.said`
(prose pieces and SymPy objects, never string-built mathematics), or plain
prose.  The templates (``templates/<fmt>/cvx_<rule>.j2``) choose the notation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from convexproof.steps import Step


class CvxSetup(Step, kind="cvx_setup"):
    """The problem: the function, its variables, its parameters and the domain."""

    expr: Any
    variables: list
    parameters: list
    domain: list
    notes: list = field(default_factory=list)


class CvxDerivative(Step, kind="cvx_derivative"):
    """Second-order condition: a twice-differentiable f is convex on an interval iff f'' ≥ 0 there."""

    label: Any  # what is differentiated: f''(x) as a SymPy Derivative (or, from older callers, text)
    value: Any
    text: Any = ""


class CvxHessian(Step, kind="cvx_hessian"):
    """Second-order condition: a C² function is convex on an open convex set iff its Hessian is PSD there."""

    matrix: Any
    text: Any = ""


class CvxSign(Step, kind="cvx_sign"):
    """A sign claim about an expression on the domain, justified by the reason and the sub-steps."""

    expr: Any
    relation: str  # ">= 0", "> 0", "< 0" ...
    reason: Any  # a Sentence or plain prose


class CvxPolySign(Step, kind="cvx_poly_sign"):
    """Sturm's theorem: a polynomial with no root inside an interval keeps the sign it has at any point there."""

    poly: Any
    var: Any
    interval: Any
    roots: int
    sample: Any
    value: Any
    text: Any = ""


class CvxSquare(Step, kind="cvx_square"):
    """Completing the square: a·t² + b·t + c = a·(t + b/(2a))² + (c − b²/(4a))."""

    expr: Any
    form: Any
    text: Any = ""


class CvxBound(Step, kind="cvx_bound"):
    """Bounding term by term: a lower bound of every term gives a lower bound of the sum."""

    expr: Any
    lower: Any
    text: Any = ""


class CvxLDL(Step, kind="cvx_ldl"):
    """LDLᵀ certificate: H = L·D·Lᵀ with D ≥ 0 gives vᵀHv = Σ dᵢ·((Lᵀv)ᵢ)² ≥ 0."""

    matrix: Any
    lower: Any
    diagonal: list
    text: Any = ""


class CvxMinors(Step, kind="cvx_minors"):
    """Sylvester's criterion for PSD: a symmetric matrix is PSD iff ALL its principal minors are ≥ 0."""

    matrix: Any
    minors: list  # [(index label, minor expression)]
    text: Any = ""


class CvxDCP(Step, kind="cvx_dcp"):
    """Disciplined convex programming: curvature of an expression from its atoms and the composition rule."""

    expr: Any
    curvature: str
    reason: Any


class CvxPiece(Step, kind="cvx_piece"):
    """A piece of a piecewise function must be convex on its own interval."""

    expr: Any
    interval: Any
    text: Any = ""


class CvxKink(Step, kind="cvx_kink"):
    """At a breakpoint a convex function is continuous and its slope does not decrease."""

    point: Any
    left_value: Any
    right_value: Any
    left_slope: Any
    right_slope: Any
    ok: bool
    text: Any = ""
    var: Any = None  # the variable (the breakpoint is var = point)
    value: Any = None  # f(point)
    continuous: bool = True
    decreasing: bool = False  # the slope is proved to decrease (a concave kink)


class WitnessStep(Step, kind="witness"):
    """A verified witness of non-convexity: negative curvature, a chord below the graph, or a domain that is not convex."""

    witness: Any  # a convexproof.engine.witness.Witness record
    name: str = "f"  # the function's name in the prose
    layout: str = "item"  # "item": a line of a proof; "paragraph": a paragraph of a worked solution
    text: Any = ""  # what the instance shows (vector models), a Sentence or prose
    sizes: Any = None  # vector models: the small instance's sizes, data and function
    data: Any = None
    instance: Any = None

    def verify(self, problem: Any = None) -> bool:
        """The witness, checked again by the engine's :func:`~convexproof.engine.witness.verify_witness` (the
        record's own ``verify``; never a second checker)."""
        return self.witness.verify(problem)


class CvxCondition(Step, kind="cvx_condition"):
    """The exact condition on the parameters under which the function is convex."""

    condition: Any
    text: Any = ""


class CvxModulus(Step, kind="cvx_modulus"):
    """Strong convexity: f − (μ/2)·‖x‖² is convex when the smallest Hessian eigenvalue is at least μ, μ positive."""

    modulus: Any
    text: Any = ""  # why: a Sentence (prose and SymPy objects)
    tight: bool = True  # μ = modulus is the largest modulus (else: a modulus, μ ≥ it)


class CvxNumericCheck(Step, kind="cvx_numeric_check"):
    """A numerical sanity check: random chords on the domain must lie above the graph."""

    samples: int
    violations: int
    text: Any = ""


class CvxConclusion(Step, kind="cvx_conclusion"):
    """The verdict, and what it rests on."""

    verdict: str
    text: Any = ""


class CvxVecTerm(Step, kind="cvx_vec_term"):
    """A term of a vector function: its form, gradient and Hessian in matrix notation, and its curvature."""

    term: Any
    form: str  # affine, quadratic, glm, glm1, lse, dcp, unknown
    gradient: Any = None
    hessian: Any = None
    quadratic_form: Any = None
    curvature: str = ""
    text: Any = ""
    phi: Any = None  # the scalar loss phi(t) of a sum of phi(aᵢᵀw + bᵢ)
    phi2: Any = None  # its second derivative


class CvxVecGradient(Step, kind="cvx_vec_gradient"):
    """The chain rule in matrix form: the gradient of g(Aw + b) is Aᵀ∇g(Aw + b), term by term."""

    gradient: Any
    text: Any = ""


class CvxVecHessian(Step, kind="cvx_vec_hessian"):
    """Second-order condition: f is convex iff vᵀ∇²f(w)v ≥ 0 for every point w and direction v."""

    matrix: Any
    parts: list = field(default_factory=list)  # [{"term", "hessian", "form"}]
    text: Any = ""


class CvxVecConstants(Step, kind="cvx_vec_constants"):
    """μ-strong convexity (∇²f − μI is PSD) and L-smoothness (LI − ∇²f is PSD); the condition number is κ = L/μ."""

    modulus: Any = None
    uniform: Any = None
    smoothness: Any = None
    kappa: Any = None
    nonsmooth: bool = False
    condition: str = ""


STEP_CLASSES = [CvxSetup, CvxDerivative, CvxHessian, CvxSign, CvxPolySign, CvxSquare, CvxBound, CvxLDL,
                CvxMinors, CvxDCP, CvxPiece, CvxKink, WitnessStep, CvxCondition, CvxModulus, CvxNumericCheck,
                CvxConclusion, CvxVecTerm, CvxVecGradient, CvxVecHessian, CvxVecConstants]
