"""Vector atoms and the DCP composition rules over the typed tree (no prose about proofs beyond reasons).

One :class:`Atom` record per atom: curvature, monotonicity, sign of the value
and the domain it needs.  :func:`dcp` returns the curvature (``"constant"``,
``"affine"``, ``"convex"``, ``"concave"`` or None) and the elementwise sign of
a node for *every* value of the data, with the scalar parameters ranging over
their box.  Data are arbitrary, so a data vector or matrix has unknown sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from convexproof.engine.signs import NEG, NONNEG, NONPOS, POS, ZERO, SignOracle
from convexproof.engine.vector_expr import Add, Const, Dot, Eye, Fn, Lit, MatMul, Mul, Node, Ones, Red, Scale, Spec, Sym, Tr, is_const

CONVEX, CONCAVE, AFFINE, CONST = "convex", "concave", "affine", "constant"
INC, DEC = "increasing", "decreasing"


@dataclass(frozen=True)
class Atom:
    name: str
    curvature: str | None  # CONVEX, CONCAVE, AFFINE or None (neither)
    monotone: str | None  # INC, DEC, "sign" (increasing for arguments >= 0, decreasing for <= 0), None
    sign: str | None  # sign of the value
    domain: str  # "all", "positive" (argument > 0)
    text: str


ATOMS = {
    "exp": Atom("exp", CONVEX, INC, POS, "all", "exp is convex and increasing"),
    "log": Atom("log", CONCAVE, INC, None, "positive", "log is concave and increasing (for positive arguments)"),
    "sigmoid": Atom("sigmoid", None, INC, POS, "all", "the sigmoid is increasing but neither convex nor concave"),
    "abs": Atom("abs", CONVEX, "sign", NONNEG, "all", "|t| is convex"),
    "pos": Atom("pos", CONVEX, INC, NONNEG, "all", "max(0, t) is convex and nondecreasing"),
    "sum": Atom("sum", AFFINE, INC, None, "all", "the sum of the entries is linear and increasing in each entry"),
    "norm2": Atom("norm2", CONVEX, "sign", NONNEG, "all", "the Euclidean norm is convex"),
    "norm1": Atom("norm1", CONVEX, "sign", NONNEG, "all", "the 1-norm is convex"),
    "lse": Atom("lse", CONVEX, INC, None, "all", "log-sum-exp is convex and increasing in each entry"),
}


def pow_atom(k) -> Atom:
    k = sp.sympify(k)
    if k.is_Integer and k % 2 == 0 and k > 0:
        return Atom("pow", CONVEX, "sign", NONNEG, "all", f"t**{k} is convex (an even power)")
    if k.is_Integer and k >= 1:  # odd: defined everywhere, convex (and increasing) only where t >= 0
        return Atom("pow", CONVEX, INC, None, "nonneg-curvature", f"t**{k} is convex and increasing for t >= 0")
    if k >= 1:
        return Atom("pow", CONVEX, INC, NONNEG, "nonnegative", f"t**{k} is convex and increasing for t >= 0")
    if 0 < k < 1:
        return Atom("pow", CONCAVE, INC, NONNEG, "nonnegative", f"t**{k} is concave and increasing for t >= 0")
    return Atom("pow", CONVEX, DEC, POS, "positive", f"t**({k}) is convex and decreasing for t > 0")


@dataclass
class Info:
    curvature: str | None
    sign: str | None  # elementwise sign for every value of the data
    reason: str = ""


_NONNEG_SIGNS = (POS, NONNEG, ZERO)
_NONPOS_SIGNS = (NEG, NONPOS, ZERO)


def _flip_curv(c):
    return {CONVEX: CONCAVE, CONCAVE: CONVEX}.get(c, c)


def _flip_sign(s):
    return {POS: NEG, NEG: POS, NONNEG: NONPOS, NONPOS: NONNEG}.get(s, s)


def _mul_sign(a, b):
    if a == ZERO or b == ZERO:
        return ZERO
    if a is None or b is None:
        return None
    pos = (a in (POS, NONNEG)) == (b in (POS, NONNEG))
    strict = a in (POS, NEG) and b in (POS, NEG)
    return (POS if strict else NONNEG) if pos else (NEG if strict else NONPOS)


def _add_sign(signs):
    if all(s in _NONNEG_SIGNS for s in signs):
        return POS if POS in signs else (NONNEG if NONNEG in signs else ZERO)
    if all(s in _NONPOS_SIGNS for s in signs):
        return NEG if NEG in signs else (NONPOS if NONPOS in signs else ZERO)
    return None


class DCP:
    """Curvature and sign of nodes, memoised; ``problems`` collects domain requirements that fail."""

    def __init__(self, box: dict, var: str):
        self.oracle = SignOracle(box)
        self.var = var
        self.memo: dict = {}
        self.domain_problems: list[str] = []

    def scalar_sign(self, e) -> str | None:
        try:
            return self.oracle.sign(sp.sympify(e)).sign
        except Exception:  # noqa: BLE001 - unknown sign
            return None

    def info(self, n: Node) -> Info:
        stack = [(n, False)]
        while stack:
            x, done = stack.pop()
            if x in self.memo:
                continue
            if not done:
                stack.append((x, True))
                for c in _kids(x):
                    if c not in self.memo:
                        stack.append((c, False))
                continue
            self.memo[x] = self._info(x)
        return self.memo[n]

    def _info(self, n: Node) -> Info:  # noqa: C901 - one rule per node type
        m = self.memo
        if is_const(n, self.var):
            return Info(CONST, self._const_sign(n), "does not depend on the variable")
        if isinstance(n, Sym):
            return Info(AFFINE, None, "the variable")
        if isinstance(n, Add):
            infos = [m[t] for t in n.terms]
            curvs = {i.curvature for i in infos}
            s = _add_sign([i.sign for i in infos])
            if curvs <= {CONST, AFFINE}:
                return Info(AFFINE, s, "a sum of affine terms")
            if curvs <= {CONST, AFFINE, CONVEX}:
                return Info(CONVEX, s, "a sum of convex terms is convex")
            if curvs <= {CONST, AFFINE, CONCAVE}:
                return Info(CONCAVE, s, "a sum of concave terms is concave")
            return Info(None, s, "a sum of convex and concave terms")
        if isinstance(n, Scale):
            i = m[n.a]
            cs = self.scalar_sign(n.c)
            if cs in _NONNEG_SIGNS:
                return Info(i.curvature, _mul_sign(cs, i.sign), "a nonnegative multiple keeps the curvature")
            if cs in _NONPOS_SIGNS:
                return Info(_flip_curv(i.curvature), _mul_sign(cs, i.sign), "a nonpositive multiple flips the curvature")
            return Info(i.curvature if i.curvature in (AFFINE, CONST) else None, None,
                        f"the sign of {n.c} is not known")
        if isinstance(n, Mul):
            a, b = n.a, n.b
            if is_const(a, self.var) or is_const(b, self.var):
                c, x = (a, b) if is_const(a, self.var) else (b, a)
                ic, ix = m[c], m[x]
                s = _mul_sign(ic.sign, ix.sign)
                if ix.curvature in (AFFINE, CONST):
                    return Info(AFFINE, s, "a constant times an affine expression")
                if ic.sign in _NONNEG_SIGNS:
                    return Info(ix.curvature, s, "a nonnegative factor keeps the curvature")
                if ic.sign in _NONPOS_SIGNS:
                    return Info(_flip_curv(ix.curvature), s, "a nonpositive factor flips the curvature")
                return Info(None, s, f"the sign of the factor {c} depends on the data")
            return Info(None, _mul_sign(m[a].sign, m[b].sign), "a product of two expressions in the variable")
        if isinstance(n, (MatMul, Dot)):
            a, b = n.a, n.b
            ca, cb = is_const(a, self.var), is_const(b, self.var)
            if ca or cb:
                x = b if ca else a
                if m[x].curvature in (AFFINE, CONST):
                    return Info(AFFINE, None, "a linear map of an affine expression")
                return Info(None, None, "a data matrix or vector of unknown sign times a nonlinear expression")
            if isinstance(n, Dot) and n.a == n.b and m[n.a].curvature in (AFFINE, CONST):
                return Info(CONVEX, NONNEG, "a sum of squares of affine functions")
            return Info(None, None, "a product of two expressions in the variable")
        if isinstance(n, Tr):
            return m[n.a]
        if isinstance(n, Fn):
            atom = ATOMS.get(n.name) if n.name != "pow" else pow_atom(n.k)
            if atom is None:
                return Info(None, None, f"{n.name} is not an atom")
            return self._compose(atom, m[n.a], n)
        if isinstance(n, Red):
            atom = ATOMS.get(n.name)
            if atom is None:
                return Info(None, None, f"{n.name} is not an atom")
            i = m[n.a]
            r = self._compose(atom, i, n)
            if n.name == "sum":
                r.sign = i.sign if i.sign in (POS, NONNEG, NEG, NONPOS, ZERO) else None
            return r
        return Info(None, None, "no rule applies")

    def _compose(self, atom: Atom, i: Info, n: Node) -> Info:
        arg = i.sign
        if atom.domain == "positive" and arg != POS:
            self.domain_problems.append(f"{n} needs a positive argument, which is not shown for every value of the data")
            return Info(None, atom.sign, "the argument may leave the domain")
        if atom.domain == "nonnegative" and arg not in _NONNEG_SIGNS:
            self.domain_problems.append(f"{n} needs a nonnegative argument, which is not shown for every value of the data")
            return Info(None, atom.sign, "the argument may leave the domain")
        if atom.domain == "nonneg-curvature" and arg not in _NONNEG_SIGNS:
            return Info(None, arg if arg in (POS, NEG, NONNEG, NONPOS) else None,
                        "an odd power is neither convex nor concave where its argument changes sign")
        sign = atom.sign
        if atom.domain == "nonneg-curvature":
            sign = arg
        if atom.name == "pow" and sign == NONNEG and arg in (POS, NEG):
            sign = POS
        mono = atom.monotone
        if mono == "sign":
            mono = INC if arg in _NONNEG_SIGNS else (DEC if arg in _NONPOS_SIGNS else None)
        if atom.curvature == AFFINE:
            return Info(i.curvature if i.curvature in (AFFINE, CONST, CONVEX, CONCAVE) and (
                mono == INC or i.curvature in (AFFINE, CONST)) else None, sign, atom.text)
        if i.curvature in (AFFINE, CONST):
            return Info(atom.curvature, sign, atom.text + ", and its argument is affine")
        if atom.curvature == CONVEX and ((mono == INC and i.curvature == CONVEX) or (mono == DEC and i.curvature == CONCAVE)):
            return Info(CONVEX, sign, atom.text + f" and {mono} where the argument lives, and the argument is "
                        f"{i.curvature}")
        if atom.curvature == CONCAVE and ((mono == INC and i.curvature == CONCAVE) or (mono == DEC and i.curvature == CONVEX)):
            return Info(CONCAVE, sign, atom.text + f", and the argument is {i.curvature}")
        return Info(None, sign, f"no composition rule applies ({atom.text}; the argument is "
                    f"{i.curvature or 'neither convex nor concave'})")

    def _const_sign(self, n: Node) -> str | None:
        if isinstance(n, Const):
            return self.scalar_sign(n.value)
        if isinstance(n, (Eye, Ones)):
            return NONNEG
        if isinstance(n, Lit):
            vals = list(n.value)
            if all(v > 0 for v in vals):
                return POS
            if all(v >= 0 for v in vals):
                return NONNEG
            if all(v < 0 for v in vals):
                return NEG
            return None
        if isinstance(n, Fn):
            a = self._const_sign(n.a)
            atom = ATOMS.get(n.name)
            if n.name == "pow":
                k = sp.sympify(n.k)
                if k.is_Integer and k % 2 == 0:
                    return POS if a in (POS, NEG) else NONNEG
                return a if a in (POS, NONNEG) else None
            if n.name == "log":
                return None
            return atom.sign if atom else None
        if isinstance(n, Red) and n.name in ("norm1", "norm2"):
            return NONNEG
        if isinstance(n, Red) and n.name == "sum":
            return self._const_sign(n.a) if self._const_sign(n.a) in (POS, NONNEG, ZERO) else None
        if isinstance(n, Scale):
            return _mul_sign(self.scalar_sign(n.c), self._const_sign(n.a))
        if isinstance(n, Add):
            return _add_sign([self._const_sign(t) for t in n.terms])
        if isinstance(n, Mul):
            return _mul_sign(self._const_sign(n.a), self._const_sign(n.b))
        if isinstance(n, Dot) and n.a == n.b:
            return NONNEG
        if isinstance(n, Spec):
            return NONNEG
        return None  # data: any sign


def _kids(n: Node) -> list:
    from convexproof.engine.vector_expr import children

    return children(n)


__all__ = ["ATOMS", "Atom", "DCP", "Info", "pow_atom", "CONVEX", "CONCAVE", "AFFINE", "CONST"]
