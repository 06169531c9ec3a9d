"""Several variables: the Hessian is PSD on the whole domain, or a direction with vᵀHv < 0.

* Constant Hessians (quadratic functions) get an exact LDLᵀ certificate in
  rational arithmetic (completing squares); a negative or zero-with-coupling
  pivot yields a direction v with vᵀHv < 0, checked exactly.
* Hessians that depend on the variables (or on parameters) use Sylvester's
  criterion with *all* principal minors (the leading ones are not enough for
  PSD: (x+y+z)² has a singular Hessian), each proved ≥ 0 on the whole domain.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from convexproof.steps import said
from convexproof.runtime.limits import check_deadline
from convexproof.engine.signs import exact_sign, prove_nonneg
from convexproof.steps.proof import CvxLDL, CvxMinors, CvxSign


@dataclass
class LDLCert:
    psd: bool
    pd: bool
    L: Any = None  # sympy Matrix (unit lower triangular)
    D: list = field(default_factory=list)
    direction: list | None = None  # rationals, vᵀHv < 0 when not psd
    value: Any = None  # vᵀHv


def _frac(v) -> Fraction:
    """An exact rational entry; anything else (a surd, a float) leaves the fast path."""
    if not v.is_Rational:
        raise ValueError
    return Fraction(int(v.p), int(v.q))


def _bareiss_pd(H: sp.Matrix) -> LDLCert | None:
    """Fast path: fraction-free (Bareiss) elimination in integers; a certificate when every pivot is > 0."""
    n = H.rows
    vals = [[H[i, j] for j in range(n)] for i in range(n)]
    if not all(v.is_Rational for row in vals for v in row):
        return None
    den = 1
    for row in vals:
        for v in row:
            if v.q != 1:
                den = den * int(v.q) // math.gcd(den, int(v.q))
    M = [[int(v.p) * (den // int(v.q)) for v in row] for row in vals]
    prev = 1
    minors = []
    Lm = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    for k in range(n):
        if k % 8 == 0:
            check_deadline()
        p = M[k][k]
        if p <= 0:
            return None
        minors.append(p)
        rowk = M[k]
        for i in range(k + 1, n):
            mik = M[i][k]
            Lm[i][k] = Fraction(mik, p)
            Mi = M[i]
            for j in range(k + 1, n):
                Mi[j] = (p * Mi[j] - mik * rowk[j]) // prev
        prev = p
    D = [sp.Rational(minors[0], den)] + [sp.Rational(minors[k], minors[k - 1] * den) for k in range(1, n)]
    L = sp.Matrix(n, n, lambda i, j: sp.Rational(Lm[i][j].numerator, Lm[i][j].denominator))
    return LDLCert(psd=True, pd=True, L=L, D=D)


def ldl_psd(H: sp.Matrix) -> LDLCert | None:
    """Exact LDLᵀ of a rational symmetric matrix; None if an entry is not rational."""
    n = H.rows
    fast = _bareiss_pd(H) if n > 3 else None
    if fast is not None:
        return fast
    try:
        A = [[_frac(H[i, j]) for j in range(n)] for i in range(n)]
    except (ValueError, TypeError, AttributeError):
        return None
    E = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    Lm = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    D: list[Fraction] = []
    for k in range(n):
        if k % 8 == 0:
            check_deadline()
        d = A[k][k]
        if d < 0:
            v = E[k]
            return _not_psd(H, v)
        if d == 0:
            j = next((j for j in range(k + 1, n) if A[k][j] != 0), None)
            if j is not None:
                a = A[k][j]
                t = -(A[j][j] + 1) / (2 * a)
                v = [t * E[k][c] + E[j][c] for c in range(n)]
                return _not_psd(H, v)
            D.append(Fraction(0))
            continue
        D.append(d)
        rowk = A[k]
        Ek = E[k]
        for i in range(k + 1, n):
            l = A[i][k] / d
            if l == 0:
                continue
            Lm[i][k] = l
            Ai = A[i]
            for j in range(k, n):
                if rowk[j]:
                    Ai[j] -= l * rowk[j]
            Ei = E[i]
            for c in range(k + 1):
                if Ek[c]:
                    Ei[c] -= l * Ek[c]
    L = sp.Matrix(n, n, lambda i, j: sp.Rational(Lm[i][j].numerator, Lm[i][j].denominator))
    Ds = [sp.Rational(d.numerator, d.denominator) for d in D]
    return LDLCert(psd=True, pd=all(d > 0 for d in D), L=L, D=Ds)


def _not_psd(H, v) -> LDLCert:
    vs = [sp.Rational(c.numerator, c.denominator) for c in v]
    # clear denominators for a tidy direction
    den = sp.ilcm(*[c.q for c in vs]) if len(vs) > 1 else vs[0].q
    vs = [c * den for c in vs]
    g = sp.igcd(*[c.p for c in vs]) if len(vs) > 1 else abs(vs[0].p) or 1
    vs = [c / g for c in vs]
    vm = sp.Matrix(vs)
    val = (vm.T * H * vm)[0, 0]
    return LDLCert(psd=False, pd=False, direction=vs, value=val)


def min_eigenvalue(H: sp.Matrix):
    """(exact smallest eigenvalue, tight?) of a rational symmetric matrix; a certified lower bound if n > 6."""
    import numpy as np

    n = H.rows
    if n <= 6:
        cp = H.charpoly()
        roots = sp.real_roots(sp.Poly(cp.as_expr(), *cp.gens))
        if roots:
            m = min(roots, key=lambda r: sp.N(r, 30))
            return m, True
    # certified lower bound: numerical eigenvalue, rounded down, checked by LDL of H - r*I
    ev = float(np.linalg.eigvalsh(np.array(H.tolist(), dtype=float)).min())
    for shrink in (1e-6, 1e-3, 1e-1, 0.5):
        r = sp.Rational(Fraction(ev * (1 - shrink) if ev > 0 else ev).limit_denominator(10**6))
        if r <= 0:
            break
        cert = ldl_psd(H - r * sp.eye(n))
        if cert is not None and cert.psd:
            return r, False
    return None, False


def _det(M: sp.Matrix) -> sp.Expr:
    """Determinant by cofactor expansion, without SymPy's simplification (fast for n <= 5)."""
    n = M.rows
    if n == 1:
        return M[0, 0]
    if n == 2:
        return sp.expand(M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]) if not M.has(sp.Function) else \
            M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
    total = sp.Integer(0)
    for j in range(n):
        if M[0, j] == 0:
            continue
        check_deadline()
        minor = M.extract(list(range(1, n)), [c for c in range(n) if c != j])
        total += (-1) ** j * M[0, j] * _det(minor)
    return sp.expand(total) if not M.has(sp.Function) else total


def principal_minors(H: sp.Matrix, max_n: int = 5):
    n = H.rows
    if n > max_n:
        return None
    out = []
    for k in range(1, n + 1):
        for idx in itertools.combinations(range(n), k):
            check_deadline()
            sub = H.extract(list(idx), list(idx))
            m = _det(sub) if k > 1 else sub[0, 0]
            if k > 1 and sp.count_ops(m) < 120:
                try:
                    m = sp.cancel(sp.together(m))
                    if m.is_polynomial() and sp.count_ops(m) < 120:
                        m = sp.factor(m)
                except Exception:  # noqa: BLE001
                    pass
            label = "".join(str(i + 1) for i in idx)
            out.append((label, m))
    return out


def minors_step(H, minors, text) -> CvxMinors:
    return CvxMinors(H, [(lab, m) for lab, m in minors], text)


def prove_minors(H: sp.Matrix, box: dict, accept=None):
    """Prove all principal minors ≥ 0 on the box.

    Returns (status, steps, point, strict): "proved", "disproved" (point where
    some minor is < 0, so H is not PSD there) or "unknown".
    """
    minors = principal_minors(H)
    if minors is None:
        return "unknown", [], None, False
    steps = [minors_step(H, minors, "all principal minors (indices listed) must be ≥ 0 on the domain")]
    proofs = []
    unknown = False
    for lab, m in minors:
        r = prove_nonneg(m, box, label=f"minor {lab}", accept=accept)
        if r.status == "disproved":
            return "disproved", steps, r.point, False
        if r.status == "unknown":
            unknown = True
            continue
        proofs.append((lab, m, r))
    if unknown:
        return "unknown", steps, None, False
    n = H.rows
    leading = {"".join(str(i + 1) for i in range(k)) for k in range(1, n + 1)}
    strict = all(r.strict for lab, m, r in proofs if lab in leading)
    for lab, m, r in proofs:
        steps.extend(CvxSign(s.expr, s.relation, said(f"minor {lab}: ", s.reason), children=s.children) for s in r.steps)
    return "proved", steps, None, strict


def ldl_step(H, cert: LDLCert) -> CvxLDL:
    if cert.psd:
        text = ("every pivot dᵢ is ≥ 0, so H = L·D·Lᵀ is positive semidefinite"
                + ("; all are > 0, so it is positive definite" if cert.pd else
                   "; a zero pivot means H is singular (positive semidefinite, not definite)"))
        return CvxLDL(H, cert.L, cert.D, text)
    n = len(cert.direction)
    v, Hs = sp.MatrixSymbol("v", n, 1), sp.MatrixSymbol("H", n, n)
    return CvxLDL(H, None, [], said("elimination meets a negative curvature: the direction ", sp.Symbol("v"), " = ",
                                    tuple(cert.direction), " gives ",
                                    sp.Eq(v.T * Hs * v, cert.value, evaluate=False), ", which is negative"))


def matrix_at(H: sp.Matrix, point: dict) -> sp.Matrix:
    return H.xreplace(point)


def direction_at(Hp: sp.Matrix) -> list | None:
    """A rational direction with vᵀ Hp v < 0 (exact LDL if rational, else numerical and rounded)."""
    import numpy as np

    cert = ldl_psd(Hp)
    if cert is not None:
        return None if cert.psd else cert.direction
    try:
        M = np.array(Hp.evalf(30).tolist(), dtype=float)
    except (TypeError, ValueError):
        return None
    w, V = np.linalg.eigh(M)
    if w[0] >= 0:
        return None
    v = V[:, 0] / np.max(np.abs(V[:, 0]))
    for d in (2, 10, 100, 10**4):
        vs = [sp.Rational(round(float(c) * d), d) for c in v]
        vm = sp.Matrix(vs)
        if exact_sign((vm.T * Hp * vm)[0, 0]) == -1:
            return vs
    return None
