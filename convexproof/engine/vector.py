"""Convexity of ML losses in any dimension: a weight vector, data as symbols (issue #11).

``prove_vector(expr, wrt, where, shapes)`` reads the formula with the vector
reader (:mod:`.vector_expr`) and decides, for *every* value of the data and
the parameters in their ``where`` range:

* the function is split into terms ``c·g``; each term is recognised as affine,
  a quadratic ``‖Aw + b‖²`` (Hessian ``2AᵀA``), a generalised linear model
  ``Σᵢ φ(aᵢᵀw + bᵢ)`` or ``φ(aᵀw + b)`` (Hessian ``Aᵀ diag(φ''(Aw + b)) A``;
  φ is a scalar function decided by the scalar engine), a log-sum-exp
  ``logsumexp(Aw + b)`` (Hessian ``Aᵀ(diag p − p pᵀ)A``), or is handled by the
  DCP composition rules of :mod:`.vector_atoms`;
* the strong-convexity modulus (a proved lower bound) and the smoothness
  constant are sums over the terms, with ``lambda_min``/``lambda_max`` of data
  matrices where they cannot be made numbers;
* "not convex" needs a witness: a small instance (sizes, data, parameter
  values) scalarised into explicit components, with a point and a direction
  (or a chord) verified exactly by :func:`.witness.verify_witness`;
* everything else is "unknown".

No prose beyond the short reasons that steps carry; the templates write the text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError
from convexproof.parse import parse_condition, symbol
from convexproof.runtime.limits import check_deadline, deadline
from convexproof.engine.result import ProofResult, RegularizeResult, witness_to_dict
from convexproof.engine.signs import NEG, NONNEG, NONPOS, POS, ZERO
from convexproof.steps.proof import CvxConclusion, CvxSetup
from convexproof.engine.vector_atoms import AFFINE, CONCAVE, CONST, CONVEX, DCP
from convexproof.engine.vector_expr import (T, Add, Const, Deriv, from_sympy, Diag, Dot, Eye, Fn, Lit, MatMul, Mul, Node, Ones, Outer, Red,
                          Scale, Spec, Sym, Tr, add, children, diag_times, gram, has_data, has_var, is_const,
                          matmul, read_shapes, read_vector, scale, text, tr)

_NONNEG = (POS, NONNEG, ZERO)


# =================================================================== affine maps
def _const_times_affine(n, var):
    """For a product of two factors, one constant in ``var``: (the constant, the other factor, its affine
    form), or None when neither factor is constant or the other is not affine."""
    a, b = n.a, n.b
    if is_const(b, var):
        a, b = b, a
    if not is_const(a, var):
        return None
    r = affine(b, var)
    if r is None:
        return None
    return a, b, r


def affine(n: Node, var: str):
    """(A, b) with n = A w + b (vector n: A a matrix node; scalar n: A the gradient vector), or None.

    A is None when n does not depend on w; b is None when it is 0.
    """
    if is_const(n, var):
        return None, n
    if isinstance(n, Sym):
        return (Eye(n.shape[0]), None) if n.is_vector else None
    if isinstance(n, Add):
        As, bs = [], []
        for t in n.terms:
            r = affine(t, var)
            if r is None:
                return None
            As.append(r[0])
            bs.append(r[1])
        return add(*As), add(*bs)
    if isinstance(n, Scale):
        r = affine(n.a, var)
        if r is None:
            return None
        return (scale(n.c, r[0]) if r[0] is not None else None), (scale(n.c, r[1]) if r[1] is not None else None)
    if isinstance(n, Tr):
        return affine(n.a, var) if n.a.is_vector else None
    if isinstance(n, Mul):
        ar = _const_times_affine(n, var)
        if ar is None:
            return None
        a, b, (A, c) = ar
        if a.is_scalar:
            if isinstance(a, Const):
                return scale(a.value, A), (scale(a.value, c) if c is not None else None)
            return None
        if a.is_vector and b.is_vector:
            return diag_times(a, A), (Mul(a, c, c.shape) if c is not None else None)
        return None
    if isinstance(n, MatMul):
        a, b = n.a, n.b
        if is_const(a, var) and b.is_vector:
            r = affine(b, var)
            if r is None:
                return None
            M = a if a.is_matrix else None
            if M is None:
                return None
            return matmul(M, r[0]), (matmul(M, r[1]) if r[1] is not None else None)
        if is_const(b, var) and a.is_vector and b.is_matrix:
            r = affine(a, var)
            if r is None:
                return None
            M = tr(b)
            return matmul(M, r[0]), (matmul(M, r[1]) if r[1] is not None else None)
        return None
    if isinstance(n, Dot):
        ar = _const_times_affine(n, var)
        if ar is None:
            return None
        a, _, r = ar
        return matmul(tr(r[0]), a), (Dot(a, r[1], ()) if r[1] is not None else None)
    if isinstance(n, Red) and n.name == "sum":
        r = affine(n.a, var)
        if r is None:
            return None
        k = n.a.shape[0]
        return matmul(tr(r[0]), Ones(k)), (Red("sum", r[1]) if r[1] is not None else None)
    return None


def affine_node(A: Node, b: Node | None, w: Node) -> Node:
    """A w + b as a node (for printing)."""
    return add(matmul(A, w), b)


# =================================================================== terms
@dataclass
class Term:
    node: Node  # the whole term c·g
    g: Node
    coef: Any  # SymPy
    kind: str = "unknown"  # affine, quadratic, glm, glm1, lse, dcp, unknown
    curvature: str | None = None
    smooth: bool = True
    gradient: Node | None = None
    hessian: Node | None = None
    form: Node | None = None  # vᵀ∇²v
    mu: list = field(default_factory=list)  # [(coef, Spec | None)] lower bound of the modulus
    L: list | None = None  # [(coef, Spec | None)] upper bound of the smoothness; None: no bound
    reason: str = ""
    eye_part: Any = None  # q with Hessian q·I (a data-free quadratic), else None
    vanishes: bool = False  # affine in w when every data value is 0
    A: Node | None = None
    b: Node | None = None
    phi: Any = None  # SymPy in T
    phi2_sup: Any = None
    coef_sign: str | None = None
    phi_node: Any = None  # phi(t) of a GLM term, for the template
    phi2_node: Any = None  # phi''(t)


def split_terms(f: Node) -> list[tuple[Any, Node]]:
    stack = [(sp.Integer(1), f)]
    out = []
    while stack:
        c0, t = stack.pop(0)
        if isinstance(t, Add):
            stack[:0] = [(c0, x) for x in t.terms]
            continue
        c, g = (t.c, t.a) if isinstance(t, Scale) else (sp.Integer(1), t)
        c = c0 * c
        while isinstance(g, Red) and g.name == "sum" and isinstance(g.a, Scale):  # sum(c*v) = c*sum(v)
            c, g = c * g.a.c, Red("sum", g.a.a)
        if isinstance(g, Red) and g.name == "sum" and isinstance(g.a, Add):  # sum(u + v) = sum(u) + sum(v)
            stack[:0] = [(c, Red("sum", x)) for x in g.a.terms]
            continue
        if isinstance(g, Add):
            stack[:0] = [(c, x) for x in g.terms]
            continue
        out.append((c, g))
    return out


def _quadratic_parts(g: Node, var: str):
    """(u, v) with g = uᵀv for affine u, v (both depending on w), or None."""
    if isinstance(g, Fn) and g.name == "pow" and g.k == 2 and isinstance(g.a, Red) and g.a.name == "norm2":
        return g.a.a, g.a.a
    if isinstance(g, Dot):
        return g.a, g.b
    if isinstance(g, Red) and g.name == "sum":
        x = g.a
        if isinstance(x, Fn) and x.name == "pow" and x.k == 2:
            return x.a, x.a
        if isinstance(x, Mul) and x.a.shape == x.b.shape:
            return x.a, x.b
    return None


def _elementwise_leaf(E: Node, var: str):
    """The one affine leaf u of an elementwise expression E (all else constant scalars), or None."""
    leaves: list[Node] = []
    stack = [E]
    while stack:
        n = stack.pop()
        if is_const(n, var):
            if has_data(n):
                return None
            continue
        r = affine(n, var)
        if r is not None and n.shape == E.shape:
            if n not in leaves:
                leaves.append(n)
            continue
        if isinstance(n, (Fn, Add, Scale)) or (isinstance(n, Mul) and n.shape == E.shape):
            stack.extend(children(n))
            continue
        return None
    return leaves[0] if len(leaves) == 1 else None


def to_sympy_elem(E: Node, u: Node) -> sp.Expr | None:
    """E with the leaf u replaced by the scalar T, as SymPy."""
    if E == u:
        return T
    if isinstance(E, Const):
        return E.value
    if isinstance(E, Ones):
        return sp.Integer(1)
    if isinstance(E, Add):
        parts = [to_sympy_elem(t, u) for t in E.terms]
        return None if any(p is None for p in parts) else sp.Add(*parts)
    if isinstance(E, Scale):
        a = to_sympy_elem(E.a, u)
        return None if a is None else E.c * a
    if isinstance(E, Mul):
        a, b = to_sympy_elem(E.a, u), to_sympy_elem(E.b, u)
        return None if a is None or b is None else a * b
    if isinstance(E, Fn):
        a = to_sympy_elem(E.a, u)
        if a is None:
            return None
        return {"exp": sp.exp, "log": sp.log, "abs": sp.Abs, "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
                "pos": lambda z: sp.Max(0, z), "pow": lambda z: z ** E.k}[E.name](a)
    return None


class Analysis:
    def __init__(self, f: Node, wrt: str, shapes: dict, box: dict, problem):
        self.f, self.wrt, self.shapes, self.box, self.problem = f, wrt, shapes, box, problem
        self.w = Sym(wrt, shapes[wrt], "var")
        self.v = Sym("v", shapes[wrt], "dir")
        self.dcp = DCP(box, wrt)
        self.d = shapes[wrt][0]

    def sign(self, e) -> str | None:
        return self.dcp.scalar_sign(e)

    # ------------------------------------------------------------- one term
    def term(self, c, g: Node) -> Term:
        t = Term(node=scale(c, g), g=g, coef=c, coef_sign=self.sign(c))
        var, w = self.wrt, self.w
        r = affine(g, var)
        if r is not None:
            A, b = r
            t.kind, t.curvature = "affine", AFFINE
            t.gradient = scale(c, A) if A is not None else None
            t.hessian = None
            t.mu, t.L = [], []
            t.reason = "an affine function has zero Hessian: it is convex and concave"
            t.vanishes = True
            return t
        q = _quadratic_parts(g, var)
        if q is not None:
            ra, rb = affine(q[0], var), affine(q[1], var)
            if ra is not None and rb is not None and ra[0] is not None and rb[0] is not None and q[0].is_vector:
                if self._quadratic(t, c, q[0], ra, q[1], rb):
                    return t
        if g.is_scalar and isinstance(g, Red) and g.name == "lse" or self._is_lse(g):
            u = g.a if isinstance(g, Red) else g.a.a.a
            r = affine(u, var)
            if r is not None and r[0] is not None:
                self._lse(t, c, u, r)
                return t
        E, vec = (g.a, True) if isinstance(g, Red) and g.name == "sum" else (g, False)
        u = _elementwise_leaf(E, var)
        if u is not None and (u.is_vector if vec else u.is_scalar):
            phi = to_sympy_elem(E, u)
            if phi is not None and self._glm(t, c, u, phi, vec):
                return t
        self._dcp(t)
        return t

    def _is_lse(self, g: Node) -> bool:
        return (isinstance(g, Fn) and g.name == "log" and isinstance(g.a, Red) and g.a.name == "sum"
                and isinstance(g.a.a, Fn) and g.a.a.name == "exp")

    def _quadratic(self, t: Term, c, u, ra, v, rb) -> bool:
        A, a = ra
        B, b = rb
        w = self.w
        if u != v:
            return self._bilinear(t, c, u, A, a, v, B, b)
        if u == v:
            G = gram(A)
            t.kind = "quadratic"
            t.A, t.b = A, a
            t.hessian = scale(2 * c, G)
            t.gradient = scale(2 * c, matmul(tr(A), u))
            t.form = scale(2 * c, Fn("pow", Red("norm2", matmul(A, self.v)), 2))
            t.vanishes = _vanishes(t.node, self.wrt)  # affine in w when every data value is 0
            if isinstance(G, Eye) or isinstance(G, Scale) and isinstance(G.a, Eye):
                t.eye_part = 2 * c * (G.c if isinstance(G, Scale) else 1)
            self._by_coefficient(t, c, lambda: self._spectrum(2 * c, G),
                                 "vᵀ∇²v = 2c‖Av‖² ≥ 0 for every direction v, with c ≥ 0: a nonnegative multiple of a "
                                 "squared norm of an affine map is convex",
                                 "a nonpositive multiple of a squared norm of an affine map is concave")
            return True
        return False

    def _bilinear(self, t: Term, c, u, A, a, v, B, b) -> bool:
        """uᵀv with u = Aw + a, v = Bw + b: Hessian c(AᵀB + BᵀA); PSD when AᵀB is a Gram matrix MᵀM."""
        S = matmul(tr(A), B)
        if not (isinstance(S, MatMul) and isinstance(S.a, Tr) and S.a.a == S.b or isinstance(S, Eye)):
            return False
        t.kind = "quadratic"
        t.hessian = scale(2 * c, S)
        t.gradient = scale(c, add(matmul(tr(A), v), matmul(tr(B), u)))
        M = S.b if isinstance(S, MatMul) else S
        t.form = scale(2 * c, Fn("pow", Red("norm2", matmul(M, self.v)), 2))
        t.vanishes = _vanishes(t.node, self.wrt)
        self._by_coefficient(t, c, lambda: self._spectrum(2 * c, S),
                             "AᵀB is a Gram matrix MᵀM, so the Hessian c(AᵀB + BᵀA) = 2c·MᵀM and vᵀ∇²v = 2c‖Mv‖² ≥ 0 "
                             "with c ≥ 0",
                             "a nonpositive multiple of a Gram quadratic form is concave")
        return True

    @staticmethod
    def _by_coefficient(t: Term, c, bounds, convex: str, concave: str) -> None:
        """c·g with g convex: convex for c ≥ 0 (``bounds()`` gives its (mu, L) lists), concave for c ≤ 0, else open."""
        if t.coef_sign in _NONNEG:
            t.curvature, t.reason = CONVEX, convex
            t.mu, t.L = bounds()
        elif t.coef_sign in (NEG, NONPOS):
            t.curvature, t.reason = CONCAVE, concave
        else:
            t.curvature, t.reason = None, f"the sign of the coefficient {c} is not known"

    def _spectrum(self, factor, G: Node) -> tuple[list, list]:
        """(mu, L) of factor·G: its smallest and largest eigenvalue bounds."""
        return [(factor, self._spec("lambda_min", G))], [(factor, self._spec("lambda_max", G))]

    def _spec(self, name: str, G: Node):
        """(factor, Spec or None): lambda of G, a number times the spectral node."""
        if isinstance(G, Eye):
            return None
        if isinstance(G, Scale) and isinstance(G.a, Eye):
            return None  # handled by the factor below
        if isinstance(G, Lit) or not has_data(G):
            M = _lit_matrix(G)
            if M is not None:
                ev = _eigen_bound(M, name)
                if ev is not None:
                    return ev
        return Spec(name, G)

    def _lse(self, t: Term, c, u, r):
        A, b = r
        t.kind = "lse"
        t.A, t.b = A, b
        p = Red("softmax", u, u.shape)
        t.gradient = scale(c, matmul(tr(A), p))
        inner = add(Diag(p, (u.shape[0],) * 2), scale(-1, Outer(p, p, (u.shape[0],) * 2)))
        t.hessian = scale(c, matmul(matmul(tr(A), inner), A))
        z = matmul(A, self.v)
        t.form = scale(c, add(Dot(p, Fn("pow", z, 2, z.shape), ()), scale(-1, Fn("pow", Dot(p, z, ()), 2))))
        t.vanishes = _vanishes(t.node, self.wrt)
        self._by_coefficient(t, c, lambda: ([], [(c / 2, self._spec("lambda_max", gram(A)))]),
                             "with p = softmax(u) and z = Av, vᵀ∇²v = Σᵢ pᵢ zᵢ² − (Σᵢ pᵢ zᵢ)² is the variance of z under "
                             "the probabilities p, hence ≥ 0; I/2 − (diag(p) − p pᵀ) is positive semidefinite (Gershgorin: "
                             "each row sums 2pᵢ(1 − pᵢ) ≤ 1/2 in absolute value)",
                             "a nonpositive multiple of log-sum-exp is concave")

    def _glm(self, t: Term, c, u: Node, phi: sp.Expr, vec: bool) -> bool:
        from convexproof.engine.domain import is_smooth, make_problem
        from convexproof.engine.prover import analyse

        if phi.free_symbols - {T} - set(self.box) or sp.count_ops(phi) > 16:
            return False  # a long phi is left to the composition rules
        try:
            sub = analyse(make_problem(phi, wrt=[T], where=self.problem.where))
        except (ConvexproofError, AnalysisTimeout):
            raise
        except Exception:  # noqa: BLE001
            return False
        convex = sub.convex is True
        sub_c = sub.verdict
        r = affine(u, self.wrt)
        A, b = r
        t.kind = "glm" if vec else "glm1"
        t.A, t.b, t.phi = A, b, phi
        smooth = is_smooth(phi)
        t.smooth = smooth
        t.vanishes = _vanishes(t.node, self.wrt)
        s = t.coef_sign
        if convex and s in _NONNEG:
            t.curvature = CONVEX
        elif convex and s in (NEG, NONPOS) and phi.is_polynomial(T) and sp.degree(phi, T) <= 1:
            t.curvature = CONCAVE
        else:
            # is phi concave?  then c·Σ phi is concave for c >= 0
            try:
                neg = analyse(make_problem(-phi, wrt=[T], where=self.problem.where))
            except (ConvexproofError, AnalysisTimeout):
                raise
            except Exception:  # noqa: BLE001
                neg = None
            if neg is not None and neg.convex is True and s in _NONNEG:
                t.curvature = CONCAVE
            elif convex and s in (NEG, NONPOS):
                t.curvature = CONCAVE
            elif neg is not None and neg.convex is True and s in (NEG, NONPOS):
                t.curvature = CONVEX
                convex = True
            else:
                t.curvature = None
        from convexproof.render.mathtext import unicode as _u

        tsym = Sym("t", (), "data")
        t.phi_node = from_sympy(phi, T, tsym) or Deriv(phi, tsym, "phi")  # shown by the template, not in prose
        if not smooth:
            t.reason = (f"phi is {sub_c} (scalar engine) and the argument is affine in w, so each "
                        f"phi(aᵢᵀw + bᵢ) is {sub_c}, and so is their sum" if vec else
                        f"phi is {sub_c} (scalar engine) and its argument is affine in w")
            if t.curvature == CONVEX:
                t.mu, t.L = [], None
            return True
        d1 = sp.diff(phi, T)
        d2 = sp.diff(phi, T, 2)
        D1 = Deriv(d1, u, "phi'", u.shape)
        D2 = Deriv(d2, u, "phi''", u.shape)
        if vec:
            s0, A0 = (A.c, A.a) if isinstance(A, Scale) else (sp.Integer(1), A)
            if isinstance(A0, MatMul) and isinstance(A0.a, Diag):
                y, M = A0.a.a, A0.b
                t.gradient = scale(c * s0, matmul(tr(M), Mul(y, D1, y.shape)))
                H = matmul(matmul(tr(M), Diag(Mul(Fn("pow", y, 2, y.shape), D2, y.shape), (y.shape[0],) * 2)), M)
            else:
                t.gradient = scale(c * s0, matmul(tr(A0), D1))
                H = matmul(matmul(tr(A0), Diag(D2, (u.shape[0],) * 2)), A0)
            t.hessian = scale(c * s0 ** 2, H)
            if isinstance(A0, MatMul) and isinstance(A0.a, Diag):  # vᵀHv = Σᵢ yᵢ² φ''(uᵢ) (xᵢᵀv)²
                y, M = A0.a.a, A0.b
                z = matmul(M, self.v)
                dvec = Mul(Fn("pow", y, 2, y.shape), D2, y.shape)
            else:
                z, dvec = matmul(A0, self.v), D2
            t.form = scale(c * s0 ** 2, Red("sum", Mul(dvec, Fn("pow", z, 2, z.shape), z.shape)))
        else:
            t.gradient = scale(c, Mul(D1, A, A.shape))
            t.hessian = scale(c, Mul(D2, Outer(A, A, (A.shape[0],) * 2), (A.shape[0],) * 2))
            t.form = scale(c, Mul(D2, Fn("pow", Dot(A, self.v, ()), 2), ()))
        sup = _sup_bound(d2) if t.curvature == CONVEX else None  # only a convex term needs its smoothness
        t.phi2_sup = sup
        if t.curvature == CONVEX:
            t.mu = []
            t.L = None if sup is None else [(c * sup, self._spec("lambda_max", gram(A)) if vec else Dot(A, A, ()))]
            t.phi2_node = Deriv(d2, tsym, "phi''")
            t.reason = (f"phi'' ≥ 0 (scalar engine: phi is {sub_c}), so vᵀ∇²v = c·Σᵢ phi''(uᵢ)·(aᵢᵀv)² ≥ 0" if vec
                        else f"phi'' ≥ 0 (scalar engine: phi is {sub_c}), so vᵀ∇²v = c·phi''(u)·(aᵀv)² ≥ 0")
        elif t.curvature == CONCAVE:
            t.reason = "phi with the coefficient's sign makes the term concave"
        else:
            t.reason = f"phi is {sub_c} (scalar engine), so the term is not shown convex"
        return True

    def _dcp(self, t: Term):
        info = self.dcp.info(t.node)
        t.kind = "dcp"
        t.curvature = info.curvature if info.curvature in (CONVEX, CONCAVE, AFFINE, CONST) else None
        if t.curvature in (AFFINE, CONST):
            t.curvature = AFFINE
        t.smooth = False
        t.reason = info.reason
        if t.curvature == CONVEX:
            t.mu, t.L = [], None
        t.vanishes = _vanishes(t.node, self.wrt)


def _vanishes(n: Node, var: str) -> bool:
    """Is n affine in w when every data symbol is 0?"""
    z = zero_data(n)
    return z is None or affine(z, var) is not None


def zero_data(n: Node) -> Node | None:
    """n with every data symbol set to 0 (None when n becomes 0)."""
    if isinstance(n, Sym) and n.role == "data":
        return None
    if isinstance(n, Add):
        return add(*[zero_data(t) for t in n.terms])
    if isinstance(n, Scale):
        a = zero_data(n.a)
        return None if a is None else scale(n.c, a)
    if isinstance(n, (Mul, MatMul, Dot, Outer)):
        a, b = zero_data(n.a), zero_data(n.b)
        if a is None or b is None:
            return None
        return type(n)(a, b, n.shape)
    if isinstance(n, Tr):
        a = zero_data(n.a)
        return None if a is None else Tr(a, n.shape)
    if isinstance(n, Fn):
        a = zero_data(n.a)
        if a is None:
            v = {"exp": sp.Integer(1), "log": None, "abs": 0, "pos": 0, "sigmoid": sp.Rational(1, 2),
                 "pow": None}[n.name]
            if n.name == "pow" and n.k > 0:
                v = 0
            if v is None:
                return n  # keep: not a simple value
            return _const_like(v, n)
        return Fn(n.name, a, n.k, n.shape)
    if isinstance(n, Red):
        a = zero_data(n.a)
        if a is None:
            if n.name == "lse":
                return Const(sp.log(n.a.shape[0]))
            return None
        return Red(n.name, a, n.shape)
    return n


def _const_like(v, n: Node) -> Node | None:
    v = sp.sympify(v)
    if v == 0:
        return None
    if n.is_scalar:
        return Const(v)
    return Scale(v, Ones(n.shape[0]), n.shape)


def _lit_matrix(G: Node):
    """A concrete matrix for a data-free node (literals, I, products, transposes), or None."""
    try:
        return _num(G)
    except _NotNumeric:
        return None


class _NotNumeric(Exception):
    pass


def _num(n: Node):
    if isinstance(n, Lit):
        return sp.Matrix(n.value)
    if isinstance(n, Eye) and n.k is not None and n.k.is_Integer:
        return sp.eye(int(n.k))
    if isinstance(n, Scale):
        if n.c.free_symbols:
            raise _NotNumeric
        return n.c * _num(n.a)
    if isinstance(n, Tr):
        return _num(n.a).T
    if isinstance(n, MatMul):
        return _num(n.a) * _num(n.b)
    if isinstance(n, Add):
        out = None
        for t in n.terms:
            m = _num(t)
            out = m if out is None else out + m
        return out
    raise _NotNumeric


def _eigen_bound(M, name: str):
    """The exact smallest/largest eigenvalue of a small symmetric numeric matrix (as a SymPy number)."""
    if M.rows > 4:
        return None
    try:
        ev = list(sp.Matrix(M).eigenvals(multiple=True))
        ev = [sp.nsimplify(sp.re(e)) if False else sp.simplify(e) for e in ev]
        vals = sorted(ev, key=lambda e: float(sp.re(sp.N(e))))
        v = vals[0] if name == "lambda_min" else vals[-1]
        return Const(v)
    except Exception:  # noqa: BLE001
        return None


def _sup_bound(d2: sp.Expr):
    """A proved upper bound M of phi'' on ℝ (phi''(t) ≤ M for every t), or None."""
    import math

    from convexproof.engine.signs import prove_nonneg

    if not d2.has(T):
        return d2 if not d2.free_symbols else None
    if d2.free_symbols - {T}:
        return None
    try:
        f = sp.lambdify(T, d2, "math")
        best, arg = -math.inf, 0.0
        for i in range(-400, 401):
            x = i / 20
            try:
                y = float(f(x))
            except (OverflowError, ValueError, ZeroDivisionError):
                continue
            if y > best:
                best, arg = y, x
        for far in (60.0, -60.0, 200.0, -200.0):
            try:
                if float(f(far)) > best + 1e-9:
                    return None  # grows at infinity
            except (OverflowError, ValueError):
                return None
        cand = []
        for p in (sp.Rational(round(arg * 20), 20), sp.Integer(round(arg))):
            cand.append(d2.subs(T, p))
        cand.append(sp.Rational(math.ceil(best * 1000), 1000))
        for M in cand:
            M = sp.nsimplify(M) if M.is_Float else M
            if not M.is_number:
                continue
            r = prove_nonneg(M - d2, {T: sp.Interval(-sp.oo, sp.oo)}, search=False)
            if r.status == "proved":
                return sp.simplify(M)
    except (AnalysisTimeout, ConvexproofError):
        raise
    except Exception:  # noqa: BLE001
        return None
    return None


# =================================================================== instances
def scalarise(n: Node, env: dict):
    """The node as a SymPy scalar or column Matrix, with env: name -> value, 'dims': {Symbol: int}."""
    dims = env["dims"]
    if isinstance(n, Sym):
        return env[n.name]
    if isinstance(n, Const):
        return n.value.xreplace({**env.get("params", {}), **dims})
    if isinstance(n, Lit):
        return sp.Matrix(n.value)
    if isinstance(n, Eye):
        return sp.eye(int(sp.sympify(n.k).xreplace(dims)))
    if isinstance(n, Ones):
        return sp.ones(int(sp.sympify(n.k).xreplace(dims)), 1)
    if isinstance(n, Add):
        vals = [scalarise(t, env) for t in n.terms]
        out = vals[0]
        for v in vals[1:]:
            out = out + v
        return out
    if isinstance(n, Scale):
        return sp.sympify(n.c).xreplace({**env.get("params", {}), **dims}) * scalarise(n.a, env)
    if isinstance(n, Mul):
        a, b = scalarise(n.a, env), scalarise(n.b, env)
        if isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase):
            return a.multiply_elementwise(b)
        return a * b
    if isinstance(n, MatMul):
        a, b = scalarise(n.a, env), scalarise(n.b, env)
        if n.a.is_vector:
            a = a.T
        r = a * b
        return r[0, 0] if n.shape == () else (r.T if n.a.is_vector and not n.b.is_vector else r)
    if isinstance(n, Dot):
        a, b = scalarise(n.a, env), scalarise(n.b, env)
        return (a.T * b)[0, 0]
    if isinstance(n, Tr):
        a = scalarise(n.a, env)
        return a.T if n.a.is_matrix else a
    if isinstance(n, Fn):
        a = scalarise(n.a, env)
        fn = {"exp": sp.exp, "log": sp.log, "abs": sp.Abs, "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
              "pos": lambda z: sp.Max(0, z), "pow": lambda z: z ** n.k}[n.name]
        return a.applyfunc(fn) if isinstance(a, sp.MatrixBase) else fn(a)
    if isinstance(n, Red):
        a = scalarise(n.a, env)
        if n.name == "sum":
            return sum(a, sp.Integer(0))
        if n.name == "norm2":
            return sp.sqrt(sum((x ** 2 for x in a), sp.Integer(0)))
        if n.name == "norm1":
            return sum((sp.Abs(x) for x in a), sp.Integer(0))
        if n.name == "lse":
            return sp.log(sum((sp.exp(x) for x in a), sp.Integer(0)))
    if isinstance(n, Diag):
        a = scalarise(n.a, env)
        return sp.diag(*list(a))
    raise ConvexproofError(f"cannot instantiate {type(n).__name__}")


def instance_env(shapes: dict, wrt: str, sizes: dict, data: dict, params: dict) -> dict:
    d = int(sp.sympify(shapes[wrt][0]).xreplace(sizes))
    ws = [symbol(f"{wrt}{i + 1}") for i in range(d)]
    env = {"dims": sizes, "params": params, wrt: sp.Matrix(ws), **data}
    return env


def random_data(shapes: dict, wrt: str, sizes: dict, rng: random.Random, kind: str = "random", lo=-3, hi=3) -> dict:
    data = {}
    for name, sh in shapes.items():
        if name == wrt:
            continue
        dims = [int(sp.sympify(s).xreplace(sizes)) for s in sh]
        r, c = (dims[0], 1) if len(dims) == 1 else dims
        if kind == "zero":
            M = sp.zeros(r, c)
        elif kind == "ones":
            M = sp.ones(r, c)
        else:
            M = sp.Matrix(r, c, lambda i, j: sp.Integer(rng.randint(lo, hi)))
        data[name] = M
    return data


def dimension_symbols(shapes: dict) -> list:
    out = []
    for sh in shapes.values():
        for s in sh:
            if isinstance(s, sp.Symbol) and s not in out:
                out.append(s)
    return out


# =================================================================== the result
@dataclass
class VectorProofResult(ProofResult):
    shapes: dict = field(default_factory=dict)
    hessian_node: Any = None
    gradient_node: Any = None
    modulus_node: Any = None
    modulus_uniform: Any = None  # the part of the modulus valid for all data (a SymPy expression)
    smoothness_node: Any = None
    kappa_node: Any = None
    strong_condition: Any = None  # e.g. lambda_min(X.T@X) > 0 (data-dependent strong convexity)
    data_condition: Any = None  # e.g. lam >= -lambda_min(X.T@X): convex for given data exactly when (text)

    def to_dict(self) -> dict:
        from convexproof.steps import to_jsonable

        d = {
            "expr": text(self.expr) if isinstance(self.expr, Node) else sp.sstr(self.expr),
            "variables": [str(v) for v in self.variables],
            "shapes": {k: [sp.sstr(s) for s in v] for k, v in self.shapes.items()},
            "parameters": [str(p) for p in self.parameters],
            "domain": [sp.sstr(c) for c in self.domain],
            "convex": self.convex,
            "verdict": self.verdict,
            "condition": None if self.condition is None else sp.sstr(self.condition),
            "witness": _witness_dict(self.witness),
            "gradient": None if self.gradient_node is None else text(self.gradient_node),
            "hessian": None if self.hessian_node is None else text(self.hessian_node),
            "modulus": None if self.modulus_node is None else text(self.modulus_node),
            "modulus_for_all_data": None if self.modulus_uniform is None else sp.sstr(self.modulus_uniform),
            "modulus_tight": self.modulus_tight if self.modulus_node is not None else None,
            "strongly_convex_iff": None if self.strong_condition is None else str(self.strong_condition),
            "condition_on_data": self.data_condition,
            "smoothness": None if self.smoothness_node is None else text(self.smoothness_node),
            "condition_number": None if self.kappa_node is None else text(self.kappa_node),
            "method": self.method,
            "timed_out": self.timed_out,
        }
        if self.problems:
            d["problems"] = list(self.problems)
        if self.notes:
            d["notes"] = list(self.notes)
        if self.sufficient_condition is not None:
            d["sufficient_condition"] = sp.sstr(self.sufficient_condition)
        d["steps"] = [s.to_dict() for s in self.steps]
        return to_jsonable(d)


def _witness_dict(w):
    if not w:
        return None
    out = witness_to_dict(w) or {}
    out["sizes"] = {str(k): int(v) for k, v in (w.get("sizes") or {}).items()}
    out["data"] = {k: [[sp.sstr(x) for x in M.row(i)] for i in range(M.rows)] if M.cols > 1 else [sp.sstr(x) for x in M]
                   for k, M in (w.get("data") or {}).items()}
    if w.get("instance") is not None:
        out["instance"] = sp.sstr(w["instance"])
    return out


# =================================================================== the decision
def _combine(parts: list, uniform: bool = False):
    """Sum of (coef, Spec|Const|Dot|None) pairs as (node, data-free SymPy part)."""
    plain = sp.Integer(0)
    nodes = []
    for c, s in parts:
        if c == 0:
            continue
        if s is None:
            plain += c
        elif isinstance(s, Const):
            plain += c * s.value
        else:
            nodes.append(scale(c, s))
    node = add(Const(plain) if plain != 0 else None, *nodes)
    return (node if node is not None else Const(sp.Integer(0))), plain


def prove_vector(expr, wrt=None, where=(), shapes=None, timeout: float | None = None) -> VectorProofResult:
    """Decide convexity of a vector formula for every value of the data (in process; see :func:`prove`)."""
    from convexproof.runtime.limits import DEFAULT_TIMEOUT

    with deadline(float(timeout or DEFAULT_TIMEOUT)):
        return _prove(expr, wrt, where, shapes)


def read_problem(expr, wrt, where, shapes):
    from convexproof.engine.domain import make_problem

    shp = read_shapes(shapes)
    if not shp:
        raise ConvexproofError("give the shapes of the vectors and matrices, e.g. --shape X=n,d --shape w=d")
    if isinstance(wrt, (list, tuple)):
        names = [str(x) for x in wrt]
    elif wrt is None:
        names = []
    else:
        names = [str(wrt)]
    names = [n.strip() for x in names for n in x.split(",") if n.strip()]
    if len(names) != 1:
        cands = [k for k, v in shp.items() if len(v) == 1]
        if not names and len(cands) == 1:
            names = cands
        else:
            raise ConvexproofError("with --shape, give exactly one vector variable with --wrt (e.g. --wrt w)")
    var = names[0]
    if var not in shp:
        raise ConvexproofError(f"the variable {var} needs a shape (e.g. --shape {var}=d)")
    if len(shp[var]) != 1:
        raise ConvexproofError(f"the variable {var} must be a vector (one dimension), e.g. --shape {var}=d")
    if not isinstance(expr, str):
        raise ConvexproofError("a vector formula is given as text")
    f, params = read_vector(expr, shp, var)
    for name in params:
        if name in shp:
            raise ConvexproofError(f"{name} has a shape but is used as a scalar")
    conds = list(where or ())
    for c in conds:
        if not isinstance(c, str):
            raise ConvexproofError("--where conditions are given as text")
        cond = parse_condition(c)
        bad = {s.name for s in cond.free_symbols} & (set(shp) | {str(s) for s in dimension_symbols(shp)})
        if bad:
            raise ConvexproofError(f"--where may restrict only scalar parameters, not {', '.join(sorted(bad))}")
    dummy = symbol(var)  # the parameters' problem: the variable's name stands in for w (it is not in f as a scalar)
    pexpr = sp.Add(dummy, *[symbol(p) for p in sorted(params)])
    problem = make_problem(pexpr, wrt=[dummy], where=conds)
    problem = problem.with_expr(sp.Add(*[symbol(p) for p in sorted(params)]), variables=())
    return f, var, shp, problem


def _prove(expr, wrt, where, shapes) -> VectorProofResult:
    f, var, shp, problem = read_problem(expr, wrt, where, shapes)
    box = problem.full_box()
    for s in dimension_symbols(shp):
        box[s] = sp.Interval(1, sp.oo)  # a dimension is a positive integer
    params = tuple(problem.parameters)
    w = Sym(var, shp[var], "var")
    res = VectorProofResult(expr=f, variables=(symbol(var),), parameters=params, domain=problem.domain_conditions(),
                            shapes=shp)
    shape_notes = ", ".join(f"{k} is {'×'.join(sp.sstr(s) for s in v)}" for k, v in shp.items())
    setup = CvxSetup(f, [symbol(var)], list(params), problem.domain_conditions(),
                     [f"shapes: {shape_notes}; every name with a shape other than {var} is data, and the verdict "
                      "holds for every value of the data" + (" (and of the parameters in their range)" if params else "")])
    res.steps.append(setup)
    res.method = "vector"
    try:
        _decide(f, var, shp, problem, box, res)
    except AnalysisTimeout as exc:
        res.timed_out = True
        res.convex, res.verdict, res.witness = None, "unknown", None
        res.steps.append(CvxConclusion("unknown", f"{exc}; no verdict"))
        return res
    except ConvexproofError:
        raise
    except Exception as exc:  # noqa: BLE001 - an engine bug must not become a verdict
        res.problems.append(f"internal error in the vector analysis ({type(exc).__name__}: {exc})")
        res.convex, res.verdict = None, "unknown"
        res.steps.append(CvxConclusion("unknown", "no verdict: " + "; ".join(res.problems)))
    return res


def _decide(f, var, shp, problem, box, res: VectorProofResult) -> None:
    from convexproof.steps.proof import CvxVecConstants, CvxVecGradient, CvxVecHessian, CvxVecTerm

    an = Analysis(f, var, shp, box, problem)
    an.dcp.info(f)  # domain requirements
    if an.dcp.domain_problems:
        res.notes.extend(dict.fromkeys(an.dcp.domain_problems))
        res.steps.append(CvxConclusion("unknown", "no verdict: f is not shown to be defined for every w and every "
                                                  "value of the data (" + "; ".join(dict.fromkeys(an.dcp.domain_problems)) + ")"))
        return
    if not has_var(f):
        res.convex, res.verdict = True, "convex"
        res.steps.append(CvxConclusion("convex", f"f does not depend on {var}: a constant function is convex"))
        return
    terms = _merge_quadratics(an, [an.term(c, g) for c, g in split_terms(f)])
    res.data_condition = data_condition(an, terms)
    if res.data_condition:
        res.notes.append(f"for given data, f is convex if and only if {res.data_condition} (the Hessian is "
                         "2c·G + q·I and G commutes with I)")
    for t in terms:
        check_deadline()
        res.steps.append(CvxVecTerm(t.node, t.kind, t.gradient, t.hessian, t.form, t.curvature or "not shown convex",
                                    t.reason, phi=t.phi_node, phi2=t.phi2_node))
    eye = [t for t in terms if t.eye_part is not None]
    rest = [t for t in terms if t.eye_part is None]
    q = sp.Add(*[t.eye_part for t in eye])
    rest_convex = all(t.curvature in (CONVEX, AFFINE) for t in rest)
    smooth = all(t.smooth and (t.hessian is not None or t.kind == "affine") for t in terms)
    qs = an.sign(q) if eye else ZERO
    if smooth:
        res.gradient_node = add(*[t.gradient for t in terms]) or Const(0)
        res.hessian_node = add(*[t.hessian for t in terms]) or _zero_matrix(an.d)
        res.steps.append(CvxVecGradient(res.gradient_node, "the chain rule, term by term"))
    if rest_convex and qs in _NONNEG:
        _convex(an, terms, q, res, smooth)
        return
    if rest_convex and eye and q.free_symbols and qs not in (NEG,):
        _condition(an, terms, q, res, smooth)
        return
    if eye and qs == NEG and all(t.vanishes for t in rest) and an.problem.parameters:
        # for every parameter value in range q < 0, and with all data 0 the Hessian is q·I: not convex
        from convexproof.engine.domain import sample_point

        pv = {p: sample_point(an.problem.interval(p)) for p in an.problem.parameters}
        wit = _zero_data_witness(an, pv)
        if wit is not None:
            res.convex, res.verdict, res.witness = False, "not convex", wit
            res.steps.append(_witness_step(wit, "q < 0 for every parameter value in range, and with all data 0 f is "
                                                "a negative multiple of ‖w‖² plus an affine function; for example"))
            res.steps.append(CvxConclusion("not convex", "f is not convex for any parameter value in range: with all "
                                                         "data 0 its Hessian is a negative multiple of I"))
            return
    if smooth and res.hessian_node is not None:
        res.steps.append(CvxVecHessian(res.hessian_node, [], "the Hessian is not positive semidefinite for every "
                                                             "value of the data, as far as these rules show"))
    _search(an, f, var, shp, problem, res, terms)


def _merge_quadratics(an: Analysis, terms: list) -> list:
    """Quadratic terms c_k‖A_k w + b_k‖² with the same Gram matrix G = A_kᵀA_k have Hessian 2(Σ c_k)G together."""
    groups: dict = {}
    for t in terms:
        if t.kind == "quadratic" and t.eye_part is None and t.A is not None:
            groups.setdefault(gram(t.A), []).append(t)
    out = []
    done = set()
    for t in terms:
        G = gram(t.A) if t.kind == "quadratic" and t.eye_part is None and t.A is not None else None
        group = groups.get(G) if G is not None else None
        if not group or len(group) < 2 or all(x.curvature == CONVEX for x in group):
            out.append(t)
            continue
        if id(group) in done:
            continue
        done.add(id(group))
        c = sp.Add(*[x.coef for x in group])
        m = Term(node=add(*[x.node for x in group]), g=G, coef=c, kind="quadratic", coef_sign=an.sign(c))
        m.A, m.hessian = group[0].A, scale(2 * c, G)
        m.gradient = add(*[x.gradient for x in group])
        m.form = scale(2 * c, Fn("pow", Red("norm2", matmul(group[0].A, an.v)), 2))
        m.vanishes = all(x.vanishes for x in group)
        if m.coef_sign in _NONNEG:
            m.curvature = CONVEX
            m.mu = [(2 * c, an._spec("lambda_min", G))]
            m.L = [(2 * c, an._spec("lambda_max", G))]
            m.reason = (f"these terms share the Gram matrix {text(G)}, so together their Hessian is "
                        f"2·({sp.sstr(c)})·{text(G)}, positive semidefinite since {sp.sstr(c)} ≥ 0")
        else:
            m.curvature = CONCAVE if m.coef_sign in (NEG, NONPOS) else None
            m.reason = f"together their Hessian is 2·({sp.sstr(c)})·{text(G)}, and {sp.sstr(c)} is not shown ≥ 0"
        out.append(m)
    return out


def _zero_matrix(d):
    return Scale(sp.Integer(0), Eye(d), (d, d))


def _convex(an: Analysis, terms, q, res: VectorProofResult, smooth: bool) -> None:
    from convexproof.steps.proof import CvxVecConstants, CvxVecHessian

    if smooth:
        parts = [(t.node, t.hessian, t.form) for t in terms if t.hessian is not None]
        res.steps.append(CvxVecHessian(res.hessian_node, [{"term": p[0], "hessian": p[1], "form": p[2]} for p in parts],
                                       "for every direction v, vᵀ∇²f(w)v is a sum of the terms' contributions, each "
                                       "≥ 0, so ∇²f(w) is positive semidefinite for every w and every value of the data"))
    eye_terms = [t for t in terms if t.eye_part is not None]
    rest = [t for t in terms if t.eye_part is None]
    # the data-free part q·I of the Hessian counts once, exactly; every other term adds its own lower bound
    mu_parts = ([(q, None)] if eye_terms else []) + [p for t in rest for p in t.mu]
    mu_parts = [p for p in mu_parts if p[0] != 0]
    mu_node, plain = _combine(mu_parts)
    spectral = [p for p in mu_parts if p[1] is not None and not isinstance(p[1], Const)]
    ps = an.sign(plain)
    res.convex = _sanity(an, res)
    if res.convex is not True:
        return
    L_parts = None if any(t.L is None for t in rest) else (
        ([(q, None)] if eye_terms else []) + [p for t in rest for p in t.L])
    strong = ps == POS
    nonsmooth_convex = any(not t.smooth or t.kind == "dcp" for t in terms)
    if mu_parts and (strong or spectral):
        res.modulus_node = mu_node
        res.modulus_uniform = plain
        res.modulus = plain
        tight_terms = [t for t in terms if t.kind not in ("affine",)]
        res.modulus_tight = (all(t.kind == "quadratic" for t in tight_terms)
                             and sum(1 for t in tight_terms if t.eye_part is None) <= 1)
        if not strong and spectral:
            conds = " and ".join(f"{text(s)} > 0" for _, s in spectral)
            res.strong_condition = conds
            res.notes.append(f"f is strongly convex with modulus {text(mu_node)} when {conds} (for X: full column "
                             "rank); for all data only convex")
    if L_parts is not None and smooth:
        res.smoothness_node, _ = _combine(L_parts)
        if strong:
            Lsm = res.smoothness_node
            res.kappa_node = (Const(sp.simplify(Lsm.value / plain)) if isinstance(Lsm, Const)
                              else _Ratio(Lsm, Const(plain)))
    if strong:
        res.verdict = "strongly convex"
        res.strict = True
    else:
        res.verdict = "convex"
    res.steps.append(CvxVecConstants(res.modulus_node, Const(plain) if strong else None, res.smoothness_node,
                                     res.kappa_node, nonsmooth_convex,
                                     res.strong_condition or ""))
    from convexproof.steps import said

    mu = sp.Symbol("mu")
    what = (said("f is strongly convex with modulus ", sp.GreaterThan(mu, plain, evaluate=False),
                 " for every value of the data", *((" (and ", mu, " ≥ ", mu_node, ")") if spectral else ()))
            if strong else
            "f is convex for every value of the data" + ("" if not res.strong_condition else
                                                         f"; strongly convex exactly when {res.strong_condition}"))
    res.steps.append(CvxConclusion(res.verdict, what))


@dataclass(frozen=True, eq=True)
class _Ratio(Node):
    a: Node
    b: Node
    shape: tuple = ()

    def custom(self, printer):
        if printer.tex:
            return r"\frac{" + printer.p(self.a) + "}{" + printer.p(self.b) + "}"
        return printer.wrap(self.a, 3) + "/" + printer.wrap(self.b, 3)


def _sanity(an: Analysis, res: VectorProofResult) -> bool | None:
    """A proof of "convex" must survive random chords on a few instances; a verified violation is a bug."""
    from convexproof.engine.domain import make_problem, sample_point
    from convexproof.engine.witness import exact_chord, numeric_chords

    shp, var = an.shapes, an.wrt
    dims = dimension_symbols(shp)
    rng = random.Random(23)
    params = {p: sample_point(an.problem.interval(p)) for p in an.problem.parameters}
    for trial in range(2):
        check_deadline()
        sizes = {s: 2 + trial for s in dims}
        data = random_data(shp, var, sizes, rng)
        try:
            fs, ws = instance(an.f, shp, var, sizes, data, params)
        except Exception:  # noqa: BLE001
            continue
        prob = make_problem(fs, wrt=ws)
        count, bad, chord = numeric_chords(fs, prob, n=120, seed=5 + trial)
        if chord is not None:
            wit = exact_chord(fs, prob, chord)
            if wit is not None:
                res.problems.append("BUG: the proof says convex but a verified chord of an instance violates "
                                    "Jensen's inequality; the verdict is withdrawn")
                res.convex, res.verdict = None, "unknown"
                res.steps.append(CvxConclusion("unknown", "no verdict: " + res.problems[-1]))
                return None
    return True


def instance(f: Node, shp, var, sizes, data, params):
    env = instance_env(shp, var, sizes, data, params)
    fs = scalarise(f, env)
    if isinstance(fs, sp.MatrixBase):
        fs = fs[0, 0]
    ws = list(env[var])
    return sp.sympify(fs), ws


def _condition(an: Analysis, terms, q, res: VectorProofResult, smooth: bool) -> None:
    """Convex iff q >= 0, where q·I is the data-free part of the Hessian (the rest is convex)."""
    from convexproof.engine.domain import sample_point

    cond = _simplify_cond(q, an.problem)
    res.steps.append(_cond_step(cond, q))
    iff = all(t.vanishes for t in terms if t.eye_part is None)
    params = list(an.problem.parameters)
    wit = None
    if iff:
        # a parameter value in range with q < 0, data 0: f is a negative multiple of ‖w‖² plus an affine function
        for p in params:
            I = an.problem.interval(p)
            for val in (sp.Integer(-1), sp.Integer(-2), sp.Rational(-1, 2), sp.Integer(-10), sp.Integer(1)):
                pv = {s: (val if s == p else sample_point(an.problem.interval(s))) for s in params}
                if not an.problem.satisfies(pv):
                    continue
                if an.sign(q.xreplace(pv)) != NEG:
                    continue
                wit = _zero_data_witness(an, pv)
                if wit is not None:
                    break
            if wit is not None:
                break
    if iff and wit is not None:
        res.condition = cond
        res.convex = None
        res.verdict = f"convex iff {sp.sstr(cond)}"
        res.witness = wit
        res.steps.append(_witness_step(wit, "for a parameter value that breaks the condition, with all data 0, "
                                            "f is a negative multiple of ‖w‖² plus an affine function"))
        res.steps.append(CvxConclusion(res.verdict, f"f is convex for every value of the data if and only if {cond}"))
        return
    res.sufficient_condition = cond
    res.notes.append(f"{cond} is sufficient for convexity for every value of the data; it is not shown to be necessary")
    res.steps.append(CvxConclusion("unknown", f"{cond} is sufficient, not shown necessary: no verdict"))


def _cond_step(cond, q):
    from convexproof.steps.proof import CvxCondition

    from convexproof.steps import said

    return CvxCondition(cond, said("the data-free part of the Hessian is ", sp.Mul(q, sp.Symbol("I", commutative=False)),
                                   " and every other term is convex for every value of the data, so f is convex when "
                                   "this holds"))


def _simplify_cond(q, problem):
    free = sorted(q.free_symbols, key=lambda s: s.name)
    rel = sp.GreaterThan(q, 0)
    if len(free) == 1:
        try:
            c = sp.solve_univariate_inequality(rel, free[0], relational=True)
            c = c.simplify() if hasattr(c, "simplify") else c
            if isinstance(c, sp.And):
                c = sp.And(*[a for a in c.args if not (isinstance(a, sp.core.relational.Relational) and a.has(sp.oo))])
            return c
        except Exception:  # noqa: BLE001
            return rel
    return rel


def _zero_data_witness(an: Analysis, pv: dict):
    from convexproof.engine.domain import make_problem
    from convexproof.engine.witness import curvature_witness, verify_witness

    dims = dimension_symbols(an.shapes)
    sizes = {s: 1 for s in dims}
    data = random_data(an.shapes, an.wrt, sizes, random.Random(0), "zero")
    fs, ws = instance(an.f, an.shapes, an.wrt, sizes, data, pv)
    prob = make_problem(fs, wrt=ws)
    point = {x: sp.Integer(0) for x in ws}
    direction = {x: sp.Integer(1 if i == 0 else 0) for i, x in enumerate(ws)}
    w = curvature_witness(fs, ws, point, direction, prob)
    if w is None or not verify_witness(fs, ws, w, prob):
        return None
    w.update(params=dict(pv), sizes=sizes, data=data, instance=fs, variables=ws)
    return w


def _witness_step(w: dict, text_):
    """The witness on its small instance as a step (the record verifies on the instance's function)."""
    from convexproof.engine.witness import Witness
    from convexproof.steps.proof import WitnessStep

    data = {sp.Symbol(k): M for k, M in (w.get("data") or {}).items()}
    return WitnessStep(Witness.from_dict(w, function=w.get("instance"), variables=w.get("variables")),
                       text=text_, sizes=dict(w.get("sizes") or {}), data=data, instance=w.get("instance"))


def _search(an: Analysis, f, var, shp, problem, res: VectorProofResult, terms) -> None:
    """Not proved convex: look for a verified witness on small instances."""
    wit = find_instance_witness(an, f, var, shp, problem)
    from convexproof.engine.vector_expr import params_of

    curved = [t for t in terms if t.kind != "affine"]
    depends = any(params_of(t.node) & set(problem.parameters) for t in curved)
    if wit is not None and wit.get("params") and depends:
        # a counterexample for some parameter values says nothing about the others: no verdict
        from convexproof.render.mathtext import unicode as u

        pv = ", ".join(f"{k} = {u(v)}" for k, v in wit["params"].items())
        res.convex, res.verdict = None, "unknown"
        res.notes.append(f"f is not convex for {pv} (a verified counterexample); other parameter values are not "
                         "decided")
        from convexproof.steps import said

        res.steps.append(_witness_step(wit, said("for ", *[q for i, (k, v) in enumerate(wit["params"].items())
                                                          for q in ((", " if i else ""), sp.Eq(k, v, evaluate=False))],
                                                 " an instance is not convex")))
        res.steps.append(CvxConclusion("unknown", f"f is not convex for {pv}, but other parameter values in range are "
                                                  "not decided: no verdict"))
        return
    if wit is not None:
        res.convex = False
        res.verdict = "not convex"
        res.witness = wit
        res.steps.append(_witness_step(wit, "an instance with these sizes, data and parameter values is not convex"))
        res.steps.append(CvxConclusion("not convex", "f is not convex: the instance above is a verified counterexample "
                                                     "(some data and some point break convexity)"))
        return
    res.convex, res.verdict = None, "unknown"
    bad = [t for t in terms if t.curvature not in (CONVEX, AFFINE)]
    why = "; ".join(f"{text(t.node)}: {t.reason}" for t in bad) or "no rule applies"
    res.notes.append("the terms could not all be shown convex (" + why + ") and no counterexample was found")
    res.steps.append(CvxConclusion("unknown", "the engine could neither prove nor disprove convexity for every value "
                                              "of the data: unknown"))


def find_instance_witness(an: Analysis, f, var, shp, problem):
    from convexproof.engine.domain import is_smooth, make_problem, sample_point
    from convexproof.engine.witness import curvature_witness, search_witness, verify_witness

    dims = dimension_symbols(shp)
    params = list(problem.parameters)
    pvals = [{p: sample_point(problem.interval(p)) for p in params}]
    for val in (sp.Integer(1), sp.Integer(-1), sp.Integer(2), sp.Rational(1, 2)):
        pv = {p: val for p in params}
        if params and problem.satisfies(pv) and pv not in pvals:
            pvals.append(pv)
    rng = random.Random(7)
    size_list = [{s: k for s in dims} for k in (1, 2)] if dims else [{}]
    fixed = [int(s) for sh in shp.values() for s in sh if not isinstance(s, sp.Symbol)]
    small = not fixed or max(fixed) <= 4  # larger instances: only the cheap curvature checks at the origin
    for sizes in size_list:
        for kind in ("zero", "ones", "random", "random", "random"):
            for pv in pvals:
                check_deadline()
                data = random_data(shp, var, sizes, rng, kind)
                try:
                    fs, ws = instance(f, shp, var, sizes, data, pv)
                except (AnalysisTimeout, ConvexproofError):
                    raise
                except Exception:  # noqa: BLE001
                    continue
                if not fs.free_symbols & set(ws):
                    continue
                prob = make_problem(fs, wrt=ws)
                smooth = is_smooth(fs)
                w = None
                if smooth:
                    origin = {x: sp.Integer(0) for x in ws}
                    for i in range(len(ws)):
                        direction = {x: sp.Integer(1 if j == i else 0) for j, x in enumerate(ws)}
                        w = curvature_witness(fs, ws, origin, direction, prob)
                        if w is not None:
                            break
                if w is None and small:
                    w = search_witness(fs, prob, smooth=smooth)
                if w is not None and verify_witness(fs, ws, w, prob):
                    w.update(params=dict(pv) if pv else None, sizes=sizes, data=data, instance=fs, variables=ws)
                    if not w["params"]:
                        w.pop("params")
                    return w
    return None


# =================================================================== regularize
def regularize_vector(expr, wrt=None, where=(), shapes=None, timeout: float | None = None):
    """The minimal L2 weight λ* = max(0, −λ_min(∇²f)/2) making f + λ‖w‖² convex, when ∇²f is constant."""
    from convexproof.runtime.limits import DEFAULT_TIMEOUT
    from convexproof.engine.result import RegularizeResult
    from convexproof.steps.proof import CvxVecHessian

    with deadline(float(timeout or DEFAULT_TIMEOUT)):
        f, var, shp, problem = read_problem(expr, wrt, where, shapes)
        box = problem.full_box()
        box.update({s: sp.Interval(1, sp.oo) for s in dimension_symbols(shp)})
        an = Analysis(f, var, shp, box, problem)
        terms = [an.term(c, g) for c, g in split_terms(f)]
        lam = symbol("lam")
        w = Sym(var, shp[var], "var")
        pen = Fn("pow", Red("norm2", w), 2)
        res = VectorRegularizeResult(expr=f, penalty=scale(lam, pen), variables=(symbol(var),),
                                     domain=problem.domain_conditions())
        res.steps.append(CvxSetup(f, [symbol(var)], list(problem.parameters), problem.domain_conditions(), []))
        if not all(t.kind in ("affine", "quadratic") for t in terms):
            res.steps.append(CvxConclusion("unknown", "the Hessian of f is not constant (f is not quadratic in w); "
                                                      "no closed form for λ*"))
            return res
        H = add(*[t.hessian for t in terms]) or _zero_matrix(an.d)
        res.steps.append(CvxVecHessian(H, [], "f is quadratic in w, so its Hessian is constant; adding λ‖w‖² adds "
                                              "2λ·I, which shifts every eigenvalue up by 2λ"))
        M = _lit_matrix(H)
        if M is not None and not problem.parameters:
            ev = _eigen_bound(M, "lambda_min")
            if ev is not None:
                lmin = ev.value
                res.lam_min = sp.Max(0, -lmin / 2)
                res.found = True
                res.verdict = f"lam >= {sp.sstr(res.lam_min)}"
                res.steps.append(CvxConclusion(res.verdict, f"λ_min(∇²f) = {sp.sstr(lmin)}, so λ* = max(0, −λ_min/2) "
                                                            f"= {sp.sstr(res.lam_min)}"))
                return res
        lmin = spectral_min(an, _merge_quadratics(an, terms)) or Spec("lambda_min", H)
        res.lam_min = _MaxNode(scale(sp.Rational(-1, 2), lmin))
        res.found = True
        res.verdict = f"lam >= {res.lam_min}"
        res.steps.append(CvxConclusion(res.verdict, f"λ_min(∇²f) = {text(lmin)}, so λ* = max(0, −λ_min(∇²f)/2) = "
                                                    f"{res.lam_min} (it depends on the data)"))
        return res


def spectral_min(an: Analysis, terms: list) -> Node | None:
    """λ_min(∇²f) exactly, when ∇²f = 2c·G + q·I (one Gram matrix G and the identity commute), else None."""
    if not all(t.kind in ("affine", "quadratic") for t in terms):
        return None
    q = sp.Add(*[t.eye_part for t in terms if t.eye_part is not None])
    grams = [t for t in terms if t.kind == "quadratic" and t.eye_part is None]
    if not grams:
        return Const(q)
    if len(grams) != 1 or grams[0].A is None:
        return None
    t = grams[0]
    G = gram(t.A)
    c = t.coef
    if t.coef_sign in _NONNEG:
        part = scale(2 * c, Spec("lambda_min", G))
    elif t.coef_sign in (NEG, NONPOS):
        part = scale(2 * c, Spec("lambda_max", G))
    else:
        return None
    return add(part, Const(q) if q != 0 else None)


def data_condition(an: Analysis, terms: list):
    """For ∇²f = 2c·G + q(p)·I with q linear in one parameter p: the exact condition on p and the data, as text."""
    lmin = spectral_min(an, terms)
    if lmin is None or not isinstance(lmin, Add):
        return None
    spec = [x for x in lmin.terms if isinstance(x, Scale) and isinstance(x.a, Spec)]
    consts = [x for x in lmin.terms if isinstance(x, Const)]
    if len(spec) != 1 or len(consts) != 1:
        return None
    a, q = spec[0].c, consts[0].value
    ps = sorted(q.free_symbols, key=lambda x: x.name)
    if len(ps) != 1 or not q.is_polynomial(ps[0]) or sp.degree(q, ps[0]) != 1:
        return None
    p = ps[0]
    k, q0 = q.coeff(p), q.subs(p, 0)
    ks = an.sign(k)
    if ks not in (POS, NEG):
        return None
    bound = add(scale(-a / k, spec[0].a), Const(-q0 / k) if q0 != 0 else None)
    return f"{p} {'>=' if ks == POS else '<='} {text(bound)}"


@dataclass
class VectorRegularizeResult(RegularizeResult):
    """A RegularizeResult whose λ* may be a closed form in the data (max(0, −lambda_min(H)/2))."""

    def to_dict(self) -> dict:
        from convexproof.steps import to_jsonable

        number = self.lam_min is not None and not isinstance(self.lam_min, Node)
        return to_jsonable({
            "expr": text(self.expr) if isinstance(self.expr, Node) else str(self.expr),
            "penalty": None if self.penalty is None else text(self.penalty),
            "variables": [str(v) for v in self.variables], "domain": [sp.sstr(c) for c in self.domain],
            "lam_min": None if self.lam_min is None else (sp.sstr(self.lam_min) if number else str(self.lam_min)),
            "lam_min_approx": float(sp.N(self.lam_min)) if number else None,
            "attained": self.attained if self.lam_min is not None else None,
            "verdict": self.verdict, "timed_out": self.timed_out,
            "steps": [s.to_dict() for s in self.steps],
        })


@dataclass(frozen=True, eq=True)
class _MaxNode(Node):
    a: Node
    shape: tuple = ()

    def custom(self, printer):
        if printer.tex:
            return r"\max\left(0, " + printer.p(self.a) + r"\right)"
        return f"max(0, {printer.p(self.a)})"


__all__ = ["prove_vector", "regularize_vector", "VectorProofResult", "scalarise", "instance", "affine"]


# =================================================================== limited runs
def timed_out_vector(expr, wrt, shapes, message: str) -> VectorProofResult:
    """The "unknown" result of a vector analysis stopped at its time limit."""
    res = VectorProofResult(expr=str(expr), variables=tuple(str(v) for v in ([wrt] if isinstance(wrt, str) else
                                                                              list(wrt or []))), timed_out=True)
    res.steps = [CvxConclusion("unknown", f"{message}; no verdict")]
    return res


def prove_isolated(expr, wrt, where, shapes, timeout: float) -> VectorProofResult:
    """:func:`prove_vector` in a child process killed at the time limit (the result is then "unknown")."""
    from convexproof.runtime.limits import DEFAULTS
    from convexproof.runtime.limits import run_isolated

    try:
        return run_isolated(prove_vector, (expr, wrt, where, shapes, max(timeout * 0.9 - 0.05, 0.05)),
                            timeout=timeout, grace=DEFAULTS["grace"], reuse=True)
    except AnalysisTimeout as exc:
        return timed_out_vector(expr, wrt, shapes, str(exc))


def regularize_isolated(expr, wrt, where, shapes, timeout: float):
    """:func:`regularize_vector` in a child process killed at the time limit (the result is then "unknown")."""
    from convexproof.runtime.limits import DEFAULTS, run_isolated

    try:
        return run_isolated(regularize_vector, (expr, wrt, where, shapes, max(timeout * 0.9 - 0.05, 0.05)),
                            timeout=timeout, grace=DEFAULTS["grace"], reuse=True)
    except AnalysisTimeout as exc:
        unknown = timed_out_vector(expr, wrt, shapes, str(exc))  # the formula was not read: no penalty node
        return VectorRegularizeResult(expr=unknown.expr, penalty=None, variables=unknown.variables, timed_out=True,
                                      steps=unknown.steps)
