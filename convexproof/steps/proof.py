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


@dataclass
class CvxSetup(Step):
    """The problem: the function, its variables, its parameters and the domain."""

    kind: ClassVar[str] = "cvx_setup"
    expr: Any
    variables: list
    parameters: list
    domain: list
    notes: list = field(default_factory=list)


@dataclass
class CvxDerivative(Step):
    """Second-order condition: a twice-differentiable f is convex on an interval iff f'' ≥ 0 there."""

    kind: ClassVar[str] = "cvx_derivative"
    label: Any  # what is differentiated: f''(x) as a SymPy Derivative (or, from older callers, text)
    value: Any
    text: Any = ""


@dataclass
class CvxHessian(Step):
    """Second-order condition: a C² function is convex on an open convex set iff its Hessian is PSD there."""

    kind: ClassVar[str] = "cvx_hessian"
    matrix: Any
    text: Any = ""


@dataclass
class CvxSign(Step):
    """A sign claim about an expression on the domain, justified by the reason and the sub-steps."""

    kind: ClassVar[str] = "cvx_sign"
    expr: Any
    relation: str  # ">= 0", "> 0", "< 0" ...
    reason: Any  # a Sentence or plain prose


@dataclass
class CvxPolySign(Step):
    """Sturm's theorem: a polynomial with no root inside an interval keeps the sign it has at any point there."""

    kind: ClassVar[str] = "cvx_poly_sign"
    poly: Any
    var: Any
    interval: Any
    roots: int
    sample: Any
    value: Any
    text: Any = ""


@dataclass
class CvxSquare(Step):
    """Completing the square: a·t² + b·t + c = a·(t + b/(2a))² + (c − b²/(4a))."""

    kind: ClassVar[str] = "cvx_square"
    expr: Any
    form: Any
    text: Any = ""


@dataclass
class CvxBound(Step):
    """Bounding term by term: a lower bound of every term gives a lower bound of the sum."""

    kind: ClassVar[str] = "cvx_bound"
    expr: Any
    lower: Any
    text: Any = ""


@dataclass
class CvxLDL(Step):
    """LDLᵀ certificate: H = L·D·Lᵀ with D ≥ 0 gives vᵀHv = Σ dᵢ·((Lᵀv)ᵢ)² ≥ 0."""

    kind: ClassVar[str] = "cvx_ldl"
    matrix: Any
    lower: Any
    diagonal: list
    text: Any = ""


@dataclass
class CvxMinors(Step):
    """Sylvester's criterion for PSD: a symmetric matrix is PSD iff ALL its principal minors are ≥ 0."""

    kind: ClassVar[str] = "cvx_minors"
    matrix: Any
    minors: list  # [(index label, minor expression)]
    text: Any = ""


@dataclass
class CvxDCP(Step):
    """Disciplined convex programming: curvature of an expression from its atoms and the composition rule."""

    kind: ClassVar[str] = "cvx_dcp"
    expr: Any
    curvature: str
    reason: Any


@dataclass
class CvxPiece(Step):
    """A piece of a piecewise function must be convex on its own interval."""

    kind: ClassVar[str] = "cvx_piece"
    expr: Any
    interval: Any
    text: Any = ""


@dataclass
class CvxKink(Step):
    """At a breakpoint a convex function is continuous and its slope does not decrease."""

    kind: ClassVar[str] = "cvx_kink"
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


@dataclass
class WitnessStep(Step):
    """A verified witness of non-convexity: negative curvature, a chord below the graph, or a domain that is not convex."""

    kind: ClassVar[str] = "witness"
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


@dataclass
class CvxCondition(Step):
    """The exact condition on the parameters under which the function is convex."""

    kind: ClassVar[str] = "cvx_condition"
    condition: Any
    text: Any = ""


@dataclass
class CvxModulus(Step):
    """Strong convexity: f − (μ/2)·‖x‖² is convex when the smallest Hessian eigenvalue is at least μ, μ positive."""

    kind: ClassVar[str] = "cvx_modulus"
    modulus: Any
    text: Any = ""  # why: a Sentence (prose and SymPy objects)
    tight: bool = True  # μ = modulus is the largest modulus (else: a modulus, μ ≥ it)


@dataclass
class CvxNumericCheck(Step):
    """A numerical sanity check: random chords on the domain must lie above the graph."""

    kind: ClassVar[str] = "cvx_numeric_check"
    samples: int
    violations: int
    text: Any = ""


@dataclass
class CvxConclusion(Step):
    """The verdict, and what it rests on."""

    kind: ClassVar[str] = "cvx_conclusion"
    verdict: str
    text: Any = ""


@dataclass
class CvxVecTerm(Step):
    """A term of a vector function: its form, gradient and Hessian in matrix notation, and its curvature."""

    kind: ClassVar[str] = "cvx_vec_term"
    term: Any
    form: str  # affine, quadratic, glm, glm1, lse, dcp, unknown
    gradient: Any = None
    hessian: Any = None
    quadratic_form: Any = None
    curvature: str = ""
    text: Any = ""
    phi: Any = None  # the scalar loss phi(t) of a sum of phi(aᵢᵀw + bᵢ)
    phi2: Any = None  # its second derivative


@dataclass
class CvxVecGradient(Step):
    """The chain rule in matrix form: the gradient of g(Aw + b) is Aᵀ∇g(Aw + b), term by term."""

    kind: ClassVar[str] = "cvx_vec_gradient"
    gradient: Any
    text: Any = ""


@dataclass
class CvxVecHessian(Step):
    """Second-order condition: f is convex iff vᵀ∇²f(w)v ≥ 0 for every point w and direction v."""

    kind: ClassVar[str] = "cvx_vec_hessian"
    matrix: Any
    parts: list = field(default_factory=list)  # [{"term", "hessian", "form"}]
    text: Any = ""


@dataclass
class CvxVecConstants(Step):
    """μ-strong convexity (∇²f − μI is PSD) and L-smoothness (LI − ∇²f is PSD); the condition number is κ = L/μ."""

    kind: ClassVar[str] = "cvx_vec_constants"
    modulus: Any = None
    uniform: Any = None
    smoothness: Any = None
    kappa: Any = None
    nonsmooth: bool = False
    condition: str = ""


STEP_CLASSES = [CvxSetup, CvxDerivative, CvxHessian, CvxSign, CvxPolySign, CvxSquare, CvxBound, CvxLDL,
                CvxMinors, CvxDCP, CvxPiece, CvxKink, WitnessStep, CvxCondition, CvxModulus, CvxNumericCheck,
                CvxConclusion, CvxVecTerm, CvxVecGradient, CvxVecHessian, CvxVecConstants]
