"""Typed vector expressions: the tree, its printers and the reader that builds it from text.

A small matrix-calculus language for ML losses (issue #11): a weight vector
``w``, data ``X`` (matrix) and ``y`` (vector) with symbolic or integer shapes,
and scalar parameters such as ``lam``.  Nodes are frozen dataclasses; every
node knows its ``shape``: ``()`` for a scalar, ``(k,)`` for a vector (vectors
have no orientation, ``v.T`` is ``v``), ``(r, c)`` for a matrix.  Dimensions
are SymPy integers or positive integer symbols (``n``, ``d``).

Printing: ``str(node)`` (and ``sympy.sstr``) is the input notation
(``2*X.T@X + 2*lam*I``), which :mod:`convexproof.render.mathtext` turns into Unicode
for Markdown; ``sympy.latex`` (the templates' ``m`` filter) gives LaTeX.

Reading: :func:`read_vector` is the vector reader.  It reuses the whitelist
parser's normalisation, limits and structure checks
(:mod:`convexproof.parse`), tokenises with the parser's scanner extended by
``@`` and ``.T``, parses with ``ast.parse(mode="eval")`` and walks the tree
iteratively against a whitelist.  Scalar sub-formulas (``2*lam``, ``1``) are
handed back to :func:`convexproof.parse.parse_expr` as text: no ``eval``, no
``sympify`` of raw text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, make_dataclass
from typing import Any

import sympy as sp

from convexproof.runtime.errors import ParseError
from convexproof import parse as P

# --------------------------------------------------------------------- nodes


class Node:
    """Base class of the tree (frozen dataclasses below)."""

    shape: tuple = ()

    def __str__(self) -> str:
        return text(self)

    def _sympystr(self, printer=None) -> str:  # sympy.sstr (the notation) and mathtext.unicode (lecture notes)
        from convexproof.render.mathtext import _StrPrinter

        return pretty(self) if isinstance(printer, _StrPrinter) else text(self)

    def _latex(self, printer=None) -> str:  # sympy.latex and the templates' m filter
        return tex(self)

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()

    @property
    def is_vector(self) -> bool:
        return len(self.shape) == 1

    @property
    def is_matrix(self) -> bool:
        return len(self.shape) == 2


@dataclass(frozen=True, eq=True)
class Sym(Node):
    """A shaped name: the variable (role "var") or data (role "data")."""

    name: str
    shape: tuple
    role: str = "data"


def _record(name: str, *fields_: tuple) -> type:
    """A frozen dataclass node base with these fields: the kinds with the same fields are its subclasses
    (equality also compares the class)."""
    return make_dataclass(name, fields_, bases=(Node,), frozen=True, eq=True, namespace={"__module__": __name__})


_SHAPE = ("shape", tuple, field(default=()))
_Value = _record("_Value", ("value", Any), _SHAPE)
_Sized = _record("_Sized", ("k", Any, field(default=None)))
_Unary = _record("_Unary", ("a", Node), _SHAPE)
_Binary = _record("_Binary", ("a", Node), ("b", Node), _SHAPE)
_Named = _record("_Named", ("name", str), ("a", Node), _SHAPE)


class Const(_Value):
    """A scalar constant: a number or an expression in the scalar parameters (SymPy)."""


class Lit(_Value):
    """A concrete numeric matrix or vector written in the formula, e.g. [[1, 2], [3, 4]] (value: ImmutableMatrix)."""


class Eye(_Sized):
    """The identity I (size None until the context fixes it)."""

    @property
    def shape(self):  # type: ignore[override]
        return (self.k, self.k)


class Ones(_Sized):
    """The all-ones vector (from sum(v) = 1ᵀv)."""

    @property
    def shape(self):  # type: ignore[override]
        return (self.k,)


@dataclass(frozen=True, eq=True)
class Add(Node):
    terms: tuple
    shape: tuple = ()


@dataclass(frozen=True, eq=True)
class Scale(Node):
    """c·a with c a scalar SymPy constant (parameters allowed)."""

    c: Any
    a: Node
    shape: tuple = ()


class Mul(_Binary):
    """a*b: by a scalar, or elementwise between equal shapes."""


class MatMul(_Binary):
    """a @ b, the matrix product."""


class Dot(_Binary):
    """aᵀb for vectors a, b (a scalar)."""


class Outer(_Binary):
    """a·bᵀ for vectors a, b."""


class Tr(_Unary):
    """aᵀ, the transpose."""


class Diag(_Unary):
    """diag(v): the diagonal matrix with v on the diagonal."""


@dataclass(frozen=True, eq=True)
class Fn(Node):
    """Elementwise function: exp, log, sigmoid, abs, pos (max(0, ·)), pow (k), and derived forms."""

    name: str
    a: Node
    k: Any = None
    shape: tuple = ()


class Red(_Named):
    """A function of a whole vector: sum, norm2, norm1, lse (log-sum-exp), softmax (a vector)."""


class Spec(_Named):
    """lambda_min(M) or lambda_max(M) of a symmetric matrix M (a scalar); name is "lambda_min" or "lambda_max"."""


@dataclass(frozen=True, eq=True)
class Deriv(Node):
    """phi'(u) or phi''(u), elementwise: a SymPy function of t applied to u."""

    expr: Any  # SymPy expression in T
    a: Node
    label: str = ""
    shape: tuple = ()


T = sp.Symbol("t", real=True)  # the scalar argument of a loss phi(t)
ZERO = Const(sp.Integer(0))

# ------------------------------------------------------------- constructors


def same(a, b) -> bool:
    """Equal dimensions (None matches anything)."""
    return a is None or b is None or sp.sympify(a) == sp.sympify(b)


def sized(node: Node, k) -> Node:
    """node with every identity or ones of unknown size given size k."""
    if isinstance(node, Eye) and node.k is None:
        return Eye(k)
    if isinstance(node, Ones) and node.k is None:
        return Ones(k)
    if isinstance(node, Scale):
        a = sized(node.a, k)
        return Scale(node.c, a, a.shape)
    if isinstance(node, Add):
        ts = tuple(sized(t, k) for t in node.terms)
        return Add(ts, _fix_shape(node.shape, k))
    if isinstance(node, Mul):
        a, b = sized(node.a, k), sized(node.b, k)
        return Mul(a, b, _fix_shape(node.shape, k))
    return node


def _fix_shape(shape, k):
    return tuple(k if s is None else s for s in shape)


def const(v) -> Const:
    return Const(sp.sympify(v))


def is_const(node: Node, var: str | None = None) -> bool:
    """True when node does not involve the variable."""
    return not has_var(node, var)


def has_var(node: Node, var: str | None = None) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Sym) and n.role == "var" and (var is None or n.name == var):
            return True
        stack.extend(children(n))
    return False


def has_data(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Sym) and n.role == "data":
            return True
        stack.extend(children(n))
    return False


def children(n: Node) -> list:
    if isinstance(n, Add):
        return list(n.terms)
    out = []
    for name in ("a", "b"):
        v = getattr(n, name, None)
        if isinstance(v, Node):
            out.append(v)
    return out


def params_of(n: Node) -> set:
    """The parameters (free symbols of constants and scale factors) a node tree depends on."""
    out = set()
    stack = [n]
    while stack:
        x = stack.pop()
        if isinstance(x, Const):
            out |= x.value.free_symbols
        if isinstance(x, Scale):
            out |= sp.sympify(x.c).free_symbols
        for name in ("a", "b"):
            v = getattr(x, name, None)
            if isinstance(v, Node):
                stack.append(v)
        if isinstance(x, Add):
            stack.extend(x.terms)
    return out


def scale(c, a: Node) -> Node:
    c = sp.sympify(c)
    if c == 0:
        return zero_like(a)
    if c == 1:
        return a
    if isinstance(a, Scale):
        return scale(c * a.c, a.a)
    if isinstance(a, Const):
        return Const(c * a.value)
    if isinstance(a, Add):
        if all(isinstance(t, (Scale, Const)) for t in a.terms):
            return add(*[scale(c, t) for t in a.terms]) or zero_like(a)
        return Scale(c, a, a.shape)
    return Scale(c, a, a.shape)


def zero_like(a: Node) -> Node:
    return ZERO if a.shape == () else Scale(sp.Integer(0), a, a.shape)


def is_zero(a: Node | None) -> bool:
    return a is None or (isinstance(a, Const) and a.value == 0) or (isinstance(a, Scale) and a.c == 0)


def add(*terms) -> Node | None:
    """Sum with Const terms folded, identities merged and zeros dropped (None for an empty sum)."""
    flat: list[Node] = []
    for t in terms:
        if t is None or is_zero(t):
            continue
        flat.extend(t.terms if isinstance(t, Add) else [t])
    consts = [t.value for t in flat if isinstance(t, Const)]
    eye_c, eye = sp.Integer(0), None
    rest = []
    for t in flat:
        if isinstance(t, Const):
            continue
        if isinstance(t, Eye):
            eye_c, eye = eye_c + 1, t
        elif isinstance(t, Scale) and isinstance(t.a, Eye):
            eye_c, eye = eye_c + t.c, t.a
        else:
            rest.append(t)
    c = sp.Add(*consts)
    if eye is not None and eye_c != 0:
        rest.append(scale(eye_c, eye))
    if c != 0:
        if c.could_extract_minus_sign():
            rest.append(Const(c))
        else:
            rest.insert(0, Const(c))
    if not rest:
        return None
    if len(rest) == 1:
        return rest[0]
    return Add(tuple(rest), next((t.shape for t in rest if t.shape != ()), ()))


def matmul(a: Node, b: Node) -> Node:
    if isinstance(a, Eye):
        return b
    if isinstance(b, Eye):
        return a
    if isinstance(a, Scale):
        return scale(a.c, matmul(a.a, b))
    if isinstance(b, Scale):
        return scale(b.c, matmul(a, b.a))
    shape = _matmul_shape(a.shape, b.shape)
    return MatMul(a, b, shape)


def _matmul_shape(sa, sb):
    if len(sa) == 2 and len(sb) == 2:
        return (sa[0], sb[1])
    if len(sa) == 2 and len(sb) == 1:
        return (sa[0],)
    if len(sa) == 1 and len(sb) == 2:
        return (sb[1],)
    return ()


def tr(a: Node) -> Node:
    if a.shape != () and len(a.shape) < 2:
        return a
    if isinstance(a, (Eye, Diag, Const)):
        return a
    if isinstance(a, Tr):
        return a.a
    if isinstance(a, Scale):
        return scale(a.c, tr(a.a))
    if isinstance(a, MatMul) and len(a.a.shape) == 2 and len(a.b.shape) == 2:
        return matmul(tr(a.b), tr(a.a))
    if isinstance(a, Add):
        return Add(tuple(tr(t) for t in a.terms), (a.shape[1], a.shape[0]))
    return Tr(a, (a.shape[1], a.shape[0]))


def gram(A: Node) -> Node:
    """AᵀA, simplified: Iᵀ I = I, (c·M)ᵀ(c·M) = c²·MᵀM, (diag(y) M)ᵀ(diag(y) M) = Mᵀ diag(y**2) M."""
    if isinstance(A, Eye):
        return A
    if isinstance(A, Lit) and A.value.cols > 1:
        G = sp.ImmutableMatrix(A.value.T * A.value)
        return Lit(G, (sp.Integer(G.rows), sp.Integer(G.cols)))
    if isinstance(A, Scale):
        return scale(A.c ** 2, gram(A.a))
    if isinstance(A, MatMul) and isinstance(A.a, Diag):
        M = A.b
        return matmul(matmul(tr(M), Diag(Fn("pow", A.a.a, 2, A.a.a.shape), (A.a.a.shape[0],) * 2)), M)
    if isinstance(A, Outer):  # (a bᵀ)ᵀ(a bᵀ) = ‖a‖² b bᵀ (only a = 1 appears: sum)
        return A
    return MatMul(tr(A), A, (A.shape[1], A.shape[1]))


def diag_times(y: Node, A: Node) -> Node:
    """diag(y)·A (A a matrix) simplified."""
    if isinstance(y, Scale):
        return scale(y.c, diag_times(y.a, A))
    if isinstance(A, Eye):
        return Diag(y, (y.shape[0], y.shape[0]))
    if isinstance(A, Scale):
        return scale(A.c, diag_times(y, A.a))
    return MatMul(Diag(y, (y.shape[0], y.shape[0])), A, (y.shape[0], A.shape[1]))


# ----------------------------------------------------------------- printing
_PREC = {"add": 1, "mul": 2, "neg": 3, "pow": 4, "atom": 5}


def _prec(n: Node) -> int:
    if isinstance(n, Add):
        return 1
    if isinstance(n, Const):
        v = n.value
        if isinstance(v, sp.Add):
            return 1
        if v.could_extract_minus_sign() or isinstance(v, (sp.Mul, sp.Rational)) and not v.is_Integer:
            return 2
        return 5
    if isinstance(n, Scale):
        return 2
    if isinstance(n, (Mul, MatMul)):
        return 2
    if isinstance(n, Fn) and n.name == "pow":
        return 4
    return 5


def _coef_text(c) -> str:
    s = sp.sstr(c)
    return f"({s})" if isinstance(c, sp.Add) else s


def text(n: Node) -> str:
    """The input notation (what read_vector reads back)."""
    return _Printer(tex=False).p(n)


def tex(n: Node) -> str:
    return _Printer(tex=True).p(n)


def pretty(n: Node) -> str:
    """Lecture-note notation for Markdown (Xᵀ(Xw − y), ‖w‖², λ_min(XᵀX)); mathtext adds superscripts and Greek."""
    return _Printer(tex=False, pretty=True).p(n)


class _Printer:
    def __init__(self, tex: bool, pretty: bool = False):
        self.tex = tex
        self.pretty = pretty and not tex

    def wrap(self, n: Node, prec: int) -> str:
        s = self.p(n)
        return f"({s})" if _prec(n) < prec else s

    def sym(self, name: str) -> str:
        if not self.tex:
            return name
        from convexproof.render.mathtext import latex

        return latex(sp.Symbol(name))

    def num(self, v) -> str:
        if self.tex:
            from convexproof.render.mathtext import latex

            return latex(v)
        return sp.sstr(v)

    def p(self, n: Node) -> str:  # noqa: C901 - one case per node type
        if self.pretty:
            r = self._pretty(n)
            if r is not None:
                return r
        t = self.tex
        if isinstance(n, Sym):
            return self.sym(n.name)
        if isinstance(n, Const):
            return self.num(n.value)
        if isinstance(n, Lit):
            if t:
                from convexproof.render.mathtext import latex

                return latex(n.value if n.value.cols > 1 else n.value.T) + ("^{\\top}" if n.value.cols == 1 else "")
            M = n.value
            if M.cols == 1:
                return "[" + ", ".join(sp.sstr(v) for v in M) + "]"
            return "[" + ", ".join("[" + ", ".join(sp.sstr(v) for v in M.row(i)) + "]" for i in range(M.rows)) + "]"
        if isinstance(n, Eye):
            return r"I" if not t else r"I"
        if isinstance(n, Ones):
            return "ones" if not t else r"\mathbf{1}"
        if isinstance(n, Add):
            out = ""
            for i, term in enumerate(n.terms):
                if isinstance(term, Ones) or isinstance(term, Scale) and isinstance(term.a, Ones):
                    term = Const(term.c if isinstance(term, Scale) else sp.Integer(1))  # broadcast: c in every entry
                neg, body = self._signed(term)
                if i == 0:
                    out = ("-" if neg else "") + body
                else:
                    out += (" - " if neg else " + ") + body
            return out
        if isinstance(n, Scale):
            if n.c == 0:
                return "0"
            neg, body = self._signed(n)
            return ("-" if neg else "") + body
        if isinstance(n, Mul):
            op = r" \odot " if t and n.a.shape != () and n.b.shape != () else (" " if t else "*")
            return self.wrap(n.a, 2) + op + self.wrap(n.b, 3)
        if isinstance(n, MatMul):
            return self.wrap(n.a, 2) + (" " if t else "@") + self.wrap(n.b, 3)
        if isinstance(n, Outer):
            if t:
                return self.wrap(n.a, 3) + " " + self.wrap(n.b, 5) + r"^{\top}"
            return f"outer({self.p(n.a)}, {self.p(n.b)})"
        if isinstance(n, Tr):
            return self.wrap(n.a, 5) + (r"^{\top}" if t else ".T")
        if isinstance(n, Diag):
            return (r"\operatorname{diag}\left(" + self.p(n.a) + r"\right)") if t else f"diag({self.p(n.a)})"
        if isinstance(n, Spec):
            if t:
                return r"\lambda_{\%s}\left(%s\right)" % (n.name.split("_")[1], self.p(n.a))
            return f"{n.name}({self.p(n.a)})"
        if isinstance(n, Fn):
            if n.name == "pow":
                k = n.k
                if t:
                    return self.wrap(n.a, 5) + "^{" + self.num(k) + "}"
                ks = sp.sstr(k)
                return self.wrap(n.a, 5) + "**" + (ks if sp.sympify(k).is_Integer and k >= 0 else f"({ks})")
            if n.name == "pos":
                return (r"\max\left(0, " + self.p(n.a) + r"\right)") if t else f"max(0, {self.p(n.a)})"
            if n.name == "abs":
                return (r"\left|" + self.p(n.a) + r"\right|") if t else f"abs({self.p(n.a)})"
            if t:
                name = {"exp": r"\exp", "log": r"\log", "sigmoid": r"\sigma"}.get(n.name, r"\operatorname{%s}" % n.name)
                return name + r"\left(" + self.p(n.a) + r"\right)"
            return f"{n.name}({self.p(n.a)})"
        if isinstance(n, Red):
            a = self.p(n.a)
            if t:
                return {"sum": r"\mathbf{1}^{\top} " + self.wrap(n.a, 5), "norm2": r"\left\|" + a + r"\right\|_2",
                        "norm1": r"\left\|" + a + r"\right\|_1",
                        "lse": r"\operatorname{logsumexp}\left(" + a + r"\right)",
                        "softmax": r"\operatorname{softmax}\left(" + a + r"\right)"}[n.name]
            return {"sum": f"sum({a})", "norm2": f"norm({a})", "norm1": f"norm({a}, 1)", "lse": f"logsumexp({a})",
                    "softmax": f"softmax({a})"}[n.name]
        if isinstance(n, Dot):
            if t:
                return self.wrap(n.a, 5) + r"^{\top} " + self.wrap(n.b, 5)
            return f"dot({self.p(n.a)}, {self.p(n.b)})"
        if isinstance(n, Deriv):
            return self._deriv(n)
        if hasattr(n, "custom"):
            return n.custom(self)
        return "?"

    def _pretty(self, n: Node) -> str | None:  # noqa: C901
        if isinstance(n, Tr):
            return self.wrap(n.a, 5) + "ᵀ"
        if isinstance(n, MatMul):
            return self.wrap(n.a, 2) + self.wrap(n.b, 3)
        if isinstance(n, Mul) and n.a.shape != () and n.b.shape != ():
            return self.wrap(n.a, 2) + " ⊙ " + self.wrap(n.b, 3)
        if isinstance(n, Dot):
            return self.wrap(n.a, 5) + "ᵀ" + self.wrap(n.b, 5)
        if isinstance(n, Outer):
            return self.wrap(n.a, 5) + self.wrap(n.b, 5) + "ᵀ"
        if isinstance(n, Spec):
            return f"λ_{n.name.split('_')[1]}({self.p(n.a)})"
        if isinstance(n, Red) and n.name in ("norm2", "norm1"):
            return "‖" + self.p(n.a) + "‖" + ("₁" if n.name == "norm1" else "")
        if isinstance(n, Fn) and n.name == "sigmoid":
            return f"σ({self.p(n.a)})"
        if isinstance(n, Fn) and n.name == "abs":
            return f"|{self.p(n.a)}|"
        if isinstance(n, Ones):
            return "𝟏"
        return None

    def _signed(self, n: Node) -> tuple[bool, str]:
        """(negative?, body) of a term, so that sums print as a - b."""
        if isinstance(n, Scale):
            c = n.c
            neg = c.could_extract_minus_sign()
            c = -c if neg else c
            if c == 1:
                return neg, self.wrap(n.a, 2)
            if c.is_Rational and not c.is_Integer and not self.tex:
                num = "" if c.p == 1 else f"{c.p}*"
                return neg, num + self.wrap(n.a, 3 if num else 2) + f"/{c.q}"
            if self.tex:
                from convexproof.render.mathtext import latex

                cs = latex(c)
                cs = f"\\left({cs}\\right)" if isinstance(c, sp.Add) else cs
                return neg, cs + " " + self.wrap(n.a, 2 if isinstance(n.a, MatMul) else 3)
            return neg, _coef_text(c) + "*" + self.wrap(n.a, 2 if isinstance(n.a, MatMul) else 3)
        if isinstance(n, Const) and n.value.could_extract_minus_sign():
            return True, self.num(-n.value)
        return False, self.wrap(n, 2)

    def _deriv(self, n: Deriv) -> str:
        """phi(u) with u substituted, printed with the elementwise notation."""
        node = from_sympy(n.expr, T, n.a)
        if node is None:
            return (n.label or "phi") + "(" + self.p(n.a) + ")"
        return self.p(node)


def from_sympy(e: sp.Expr, t: sp.Symbol, u: Node) -> Node | None:
    """A SymPy expression in t as an elementwise node in u (None if it uses something else)."""
    sig = sp.Symbol("_sig", real=True)
    e = rewrite_sigmoid(e, t, sig)
    stack: list[tuple[sp.Expr, bool]] = [(e, False)]
    vals: dict = {}
    while stack:
        x, done = stack.pop()
        if not done:
            stack.append((x, True))
            if not (x.is_Number or x.is_Symbol):
                stack.extend((a, False) for a in x.args)
            continue
        if x == t:
            vals[x] = u
        elif x == sig:
            vals[x] = Fn("sigmoid", u, None, u.shape)
        elif not x.free_symbols & {t, sig}:
            vals[x] = Const(x)
        elif isinstance(x, sp.Add):
            vals[x] = add(*[vals[a] for a in x.args])
        elif isinstance(x, sp.Mul):
            c = sp.Mul(*[a for a in x.args if not a.free_symbols & {t, sig}])
            rest = [vals[a] for a in x.args if a.free_symbols & {t, sig}]
            node = rest[0]
            for r in rest[1:]:
                node = Mul(node, r, u.shape)
            vals[x] = scale(c, node)
        elif isinstance(x, sp.Pow) and not x.exp.free_symbols:
            vals[x] = Fn("pow", vals[x.base], x.exp, u.shape)
        elif isinstance(x, sp.exp):
            vals[x] = Fn("exp", vals[x.args[0]], None, u.shape)
        elif isinstance(x, sp.log):
            vals[x] = Fn("log", vals[x.args[0]], None, u.shape)
        elif isinstance(x, sp.Abs):
            vals[x] = Fn("abs", vals[x.args[0]], None, u.shape)
        else:
            return None
    return vals[e]


def rewrite_sigmoid(e: sp.Expr, t: sp.Symbol, sig: sp.Symbol) -> sp.Expr:
    """Write e in terms of sigma(t) when that is simpler (e^t/(1 + e^t)^2 is sigma(t)(1 - sigma(t)))."""
    s = 1 / (1 + sp.exp(-t))
    for cand in (sig * (1 - sig), -sig * (1 - sig), sig * (1 - sig) * (1 - 2 * sig), sig, sig - 1, 1 - sig):
        try:
            if sp.simplify((e - cand.subs(sig, s)).rewrite(sp.exp)) == 0:
                return cand
        except Exception:  # noqa: BLE001 - only a nicer form
            pass
    return e


# ------------------------------------------------------------------ reading
_VEC_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<tr>\.T(?![A-Za-z_0-9]))
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/^()\[\],@])
    """,
    re.VERBOSE,
)

VECTOR_FUNCTIONS = {"exp": 1, "log": 1, "sigmoid": 1, "abs": 1, "max": 2, "sum": 1, "dot": 2, "norm": None,
                    "logsumexp": 1, "diag": 1}


def _fail(msg: str):
    raise ParseError(msg)


_VEC_BINOPS = P._BINOPS | {ast.MatMult}  # the scalar parser's operators and @


def _tokens(text: str) -> list:
    s = P.normalise(text)
    out: list[P.Token] = []
    for kind, tok, _ in P.scan(_VEC_TOKEN_RE, s):
        if kind == "tr":
            if not out or not P._is_operand_end(out[-1]):
                _fail("'.T' must follow a name or a bracket")
            out.append(P.Token("op", ".T"))
            continue
        if kind == "number":
            digits = sum(c.isdigit() for c in tok)
            if digits > P.LIMITS["max_number_digits"]:
                _fail(f"number with {digits} digits is too large (limit {P.LIMITS['max_number_digits']})")
            if tok.isdigit():
                tok = tok.lstrip("0") or "0"
        if kind == "name":
            tok = P.ALIASES.get(tok, tok)
            if tok.startswith("_") or "__" in tok:
                _fail(f"name {tok!r} is not allowed")
            if len(tok) > P.LIMITS["max_name_length"]:
                _fail(f"name {tok[:30]!r} is too long")
            if tok in P._PY_KEYWORDS or tok in ("and", "or"):
                _fail(f"{tok!r} is not allowed in a formula")
        if tok == "^":
            tok = "**"
        t = P.Token(kind, tok)
        if out and P._implicit_product(out[-1], t) and not (out[-1].kind == "name" and out[-1].text in VECTOR_FUNCTIONS
                                                             and t.text == "("):
            out.append(P.Token("op", "*"))
        out.append(t)
        if len(out) > P.LIMITS["max_tokens"]:
            _fail(f"formula is too long (more than {P.LIMITS['max_tokens']} tokens)")
    return out


def dim(v) -> sp.Expr:
    """A dimension: a positive integer, or a name (a positive integer symbol)."""
    if isinstance(v, int) and not isinstance(v, bool):
        if not 1 <= v <= 50:
            _fail(f"a dimension must be between 1 and 50, not {v}")
        return sp.Integer(v)
    s = str(v).strip()
    if re.fullmatch(r"\d{1,3}", s):
        return dim(int(s))
    name = P.parse_name(s)
    return sp.Symbol(name, integer=True, positive=True)


def read_shapes(shapes) -> dict[str, tuple]:
    """{"X": ("n", "d"), "w": ("d",)} or ["X=n,d", "w=d"] -> {name: (dims...)}."""
    if isinstance(shapes, dict):
        items = list(shapes.items())
    else:
        items = []
        for s in shapes or ():
            if not isinstance(s, str) or "=" not in s:
                _fail(f"a shape is written NAME=DIM or NAME=DIM,DIM (e.g. X=n,d), not {str(s)[:40]!r}")
            name, _, dims = s.partition("=")
            items.append((name, [x for x in dims.split(",")]))
    out: dict[str, tuple] = {}
    if len(items) > P.LIMITS["max_symbols"]:
        _fail("too many shapes")
    for name, dims in items:
        name = P.parse_name(str(name))
        if name in out:
            _fail(f"the shape of {name} is given twice")
        if name in ("I", "ones") or name in VECTOR_FUNCTIONS or name in P.FUNCTIONS:
            _fail(f"{name!r} cannot be given a shape")
        if isinstance(dims, (str, int)):
            dims = [dims]
        dims = list(dims)
        if any(str(x).strip() == "" for x in dims):
            _fail(f"empty dimension in the shape of {name}")
        if not 0 <= len(dims) <= 2:
            _fail(f"{name} must be a vector (one dimension) or a matrix (two), not {len(dims)} dimensions")
        out[name] = tuple(dim(x) for x in dims)
    clash = sorted({str(s) for sh in out.values() for s in sh if isinstance(s, sp.Symbol)} & set(out))
    if clash:
        _fail(f"{clash[0]} is both a dimension and a vector or matrix; use another name for one of them")
    return out


def read_vector(text: str, shapes: dict[str, tuple], wrt: str, scalar: bool = True) -> tuple[Node, set]:
    """Read a vector formula; returns (tree, names of scalar parameters).  ``scalar=False`` admits any shape."""
    if not isinstance(text, str):
        _fail("input must be text")
    tokens = _tokens(text)
    if not tokens:
        _fail("empty input")
    P._check_structure(tokens)
    source = " ".join(t.text for t in tokens).replace(" .T", ".T")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        _fail("not a valid formula")
    P._check_tree_size(tree)
    # keep the literal text of numbers so 0.1 stays exactly 1/10 (as the scalar parser does)
    numbers = iter(t.text for t in tokens if t.kind == "number")
    consts = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Constant) and not isinstance(n.value, bool)),
                    key=lambda n: (n.lineno, n.col_offset))
    for c in consts:
        c._cp_text = next(numbers, str(c.value))  # type: ignore[attr-defined]
    dims = {str(s) for sh in shapes.values() for s in sh if isinstance(s, sp.Symbol)}
    reader = _Reader(shapes, wrt, dims)
    try:
        node = reader.run(tree)
    except (RecursionError, MemoryError, OverflowError):
        _fail("formula is too complex")
    if scalar and node.shape != ():
        _fail(f"the function must be a scalar, but this formula is a {_shape_word(node.shape)}")
    if isinstance(node, Eye) and node.k is None:
        node = Eye(shapes[wrt][0]) if wrt in shapes else node
    if not has_var(node):
        pass
    return node, reader.params


def _broadcast(a: Node, shape) -> Node:
    """A scalar added to a vector means that scalar in every entry."""
    if a.shape != () or shape == ():
        return a
    if isinstance(a, Const):
        return scale(a.value, Ones(shape[0]))
    return Mul(a, Ones(shape[0]), shape)


def _shape_word(shape) -> str:
    if shape == ():
        return "scalar"
    if len(shape) == 1:
        return f"vector of length {shape[0]}"
    return f"{shape[0]}×{shape[1]} matrix"


class _Reader:
    def __init__(self, shapes, wrt, dims):
        self.shapes, self.wrt, self.dims = shapes, wrt, dims
        self.params: set[str] = set()

    def run(self, tree) -> Node:
        stack = [(tree, False)]
        vals: dict[int, Node] = {}
        while stack:
            node, done = stack.pop()
            if not done:
                if self._scalar_only(node):
                    vals[id(node)] = self._scalar(node)
                    continue
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(self._kids(node)))
                continue
            args = [vals.pop(id(c)) for c in self._kids(node)]
            vals[id(node)] = self.build(node, args)
        return vals[id(tree)]

    # --- scalar sub-formulas go back through the whitelist parser
    def _scalar_only(self, node) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and (n.id in self.shapes or n.id in ("I", "ones")):
                return False
            if isinstance(n, (ast.Attribute, ast.List)) or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult)):
                return False
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in (
                    "sum", "dot", "norm", "logsumexp", "diag"):
                return False
        return not isinstance(node, ast.Expression)

    def _scalar(self, node) -> Node:
        # the whitelist parser's own walk builds the scalar (its node checks, number and exponent caps)
        v = P.build_checked(ast.Expression(body=node))
        if P._is_non_expr(v):
            _fail("expected an expression, not a comparison, list or point")
        if v.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            _fail("the expression is infinite or undefined")
        # a dimension (n in norm(X@w - y)**2/n) is a positive integer, the same symbol as in the shapes
        v = v.xreplace({P.symbol(name): sp.Symbol(name, integer=True, positive=True) for name in self.dims})
        self.params |= {s.name for s in v.free_symbols if s.name not in self.dims}
        if len(self.params) + len(self.shapes) > P.LIMITS["max_symbols"]:
            _fail("too many different names")
        return Const(v)

    def _kids(self, node) -> list:
        kids = P.arithmetic_children(node, _VEC_BINOPS)
        if kids is not None:
            return kids
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                _fail("only .T (transpose) may follow a name")
            return [node.value]
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                _fail("only calls of known functions with plain arguments are allowed")
            if node.func.id not in VECTOR_FUNCTIONS:
                _fail(f"{node.func.id!r} cannot be applied to a vector or matrix (vector functions: "
                      "exp, log, sigmoid, abs, max(0, ·), sum, dot, norm, logsumexp)")
            for a in node.args:
                if isinstance(a, ast.Starred):
                    _fail("starred arguments are not allowed")
            return list(node.args)
        if isinstance(node, ast.List):
            return list(node.elts)
        if isinstance(node, (ast.Name, ast.Constant)):
            return []
        _fail(f"{type(node).__name__} is not allowed in a formula")
        return []

    def build(self, node, args) -> Node:  # noqa: C901
        if isinstance(node, ast.Expression):
            return args[0]
        if isinstance(node, ast.Name):
            if node.id == "I" and node.id not in self.shapes:
                return Eye(None)
            if node.id == "ones" and node.id not in self.shapes:
                return Ones(None)
            shape = self.shapes[node.id]
            if shape == ():
                _fail(f"{node.id} has an empty shape; leave scalars out of --shape")
            return Sym(node.id, shape, "var" if node.id == self.wrt else "data")
        if isinstance(node, ast.List):
            return self._literal(node, args)
        if isinstance(node, ast.Constant):
            return self._scalar(node)
        if isinstance(node, ast.UnaryOp):
            return args[0] if isinstance(node.op, ast.UAdd) else scale(-1, args[0])
        if isinstance(node, ast.Attribute):
            a = args[0]
            if a.is_scalar:
                _fail("'.T' applies to a vector or a matrix, not a scalar")
            return tr(a)
        if isinstance(node, ast.BinOp):
            return self._binop(node.op, *args)
        if isinstance(node, ast.Call):
            return self._call(node.func.id, args)
        _fail("not allowed")
        return ZERO  # pragma: no cover

    def _literal(self, node, args) -> Node:
        if not args:
            _fail("an empty list is not a vector")
        rows = []
        for a in args:
            if isinstance(a, Lit) and a.value.cols == 1:
                rows.append(list(a.value))
            elif isinstance(a, Const) and not a.value.free_symbols:
                rows.append(a.value)
            else:
                _fail("a matrix literal holds numbers only, e.g. [[1, 2], [3, 4]]")
        if all(isinstance(r, list) for r in rows):
            if len({len(r) for r in rows}) != 1:
                _fail("matrix rows have different lengths")
            M = sp.ImmutableMatrix(rows)
            return Lit(M, (sp.Integer(M.rows), sp.Integer(M.cols)))
        if any(isinstance(r, list) for r in rows):
            _fail("a matrix literal is a list of rows of numbers")
        M = sp.ImmutableMatrix(rows)
        return Lit(M, (sp.Integer(M.rows),))

    def _binop(self, op, a: Node, b: Node) -> Node:
        if isinstance(op, (ast.Add, ast.Sub)):
            if a.shape == () and b.shape != () or b.shape == () and a.shape != ():
                if len(a.shape) == 2 or len(b.shape) == 2:
                    _fail(f"cannot add a scalar and a {_shape_word(a.shape if a.shape else b.shape)}")
                a, b = _broadcast(a, b.shape), _broadcast(b, a.shape)
            a, b = self._unify(a, b)
            if isinstance(op, ast.Sub):
                b = scale(-1, b)
            r = add(a, b)
            return r if r is not None else zero_like(a)
        if isinstance(op, ast.Mult):
            if isinstance(a, Const) and not isinstance(b, Const):
                return scale(a.value, b)
            if isinstance(b, Const) and not isinstance(a, Const):
                return scale(b.value, a)
            if isinstance(a, Const) and isinstance(b, Const):
                return Const(a.value * b.value)
            if a.shape == ():
                return Mul(a, b, b.shape)
            if b.shape == ():
                return Mul(b, a, a.shape)
            a, b = self._unify(a, b)
            if len(a.shape) == 2:
                _fail("'*' between matrices is elementwise and not supported; use '@' for the matrix product")
            return Mul(a, b, a.shape)
        if isinstance(op, ast.Div):
            if not isinstance(b, Const):
                _fail("division only by a constant or a parameter")
            if b.value == 0:
                _fail("division by zero")
            return scale(1 / b.value, a)
        if isinstance(op, ast.Pow):
            if not isinstance(b, Const) or b.value.free_symbols or not b.value.is_Rational:
                _fail("the exponent must be a number")
            k = b.value
            if abs(k) > P.LIMITS["max_exponent"]:
                _fail(f"exponent {k} is too large (limit {P.LIMITS['max_exponent']})")
            if len(a.shape) == 2:
                _fail("powers of a matrix are not supported (elementwise powers are for vectors)")
            if k == 1:
                return a
            return Fn("pow", a, k, a.shape)
        if isinstance(op, ast.MatMult):
            if a.shape == () or b.shape == ():
                _fail("'@' needs a vector or a matrix on each side (use '*' for a scalar)")
            if isinstance(a, Eye) and a.k is None:
                a = Eye(b.shape[0])
            if isinstance(b, Eye) and b.k is None:
                b = Eye(a.shape[-1])
            if isinstance(b, Ones) and b.k is None:
                b = Ones(a.shape[-1])
            if isinstance(a, Ones) and a.k is None:
                a = Ones(b.shape[0])
            a, b = sized(a, b.shape[0]), sized(b, a.shape[-1])
            if not same(a.shape[-1], b.shape[0]):
                _fail(f"shapes do not match in '@': {_shape_word(a.shape)} @ {_shape_word(b.shape)}")
            if len(a.shape) == 1 and len(b.shape) == 1:
                return Dot(a, b, ())
            return matmul(a, b)
        _fail("operator not allowed")
        return ZERO  # pragma: no cover

    def _unify(self, a: Node, b: Node) -> tuple[Node, Node]:
        if len(a.shape) != len(b.shape):
            if a.shape == () or b.shape == ():
                return a, b
            _fail(f"shapes do not match: {_shape_word(a.shape)} and {_shape_word(b.shape)}")
        if len(a.shape) >= 1:
            k = next((s for s in (*a.shape, *b.shape) if s is not None), None)
            a, b = sized(a, k), sized(b, k)
        if any(not same(x, y) for x, y in zip(a.shape, b.shape)):
            _fail(f"shapes do not match: {_shape_word(a.shape)} and {_shape_word(b.shape)}")
        return a, b

    def _call(self, name: str, args: list) -> Node:
        arity = VECTOR_FUNCTIONS[name]
        if arity is not None and len(args) != arity:
            _fail(f"{name} takes {arity} argument{'s' if arity > 1 else ''}")
        if name == "max":
            a, b = args
            if isinstance(a, Const) and a.value == 0:
                x = b
            elif isinstance(b, Const) and b.value == 0:
                x = a
            else:
                _fail("max of a vector expression must be max(0, ·), elementwise")
            return Fn("pos", x, None, x.shape)
        if name in ("exp", "log", "sigmoid", "abs"):
            a = args[0]
            if len(a.shape) == 2:
                _fail(f"{name} of a matrix is not supported")
            return Fn(name, a, None, a.shape)
        if name == "sum":
            a = args[0]
            if len(a.shape) != 1:
                _fail("sum takes a vector")
            return Red("sum", a)
        if name == "logsumexp":
            a = args[0]
            if len(a.shape) != 1:
                _fail("logsumexp takes a vector")
            return Red("lse", a)
        if name == "dot":
            a, b = args
            if len(a.shape) != 1 or len(b.shape) != 1 or not same(a.shape[0], b.shape[0]):
                _fail("dot takes two vectors of the same length")
            return Dot(a, b, ())
        if name == "norm":
            if len(args) not in (1, 2):
                _fail("norm takes a vector and optionally 1 or 2: norm(v), norm(v, 1)")
            a = args[0]
            if len(a.shape) != 1:
                _fail("norm takes a vector (the Euclidean norm); matrix norms are not supported")
            p = args[1] if len(args) == 2 else Const(sp.Integer(2))
            if not isinstance(p, Const) or p.value not in (1, 2):
                _fail("norm(v, p) supports p = 1 or 2")
            return Red("norm1" if p.value == 1 else "norm2", a)
        if name == "diag":
            a = args[0]
            if len(a.shape) != 1:
                _fail("diag takes a vector")
            return Diag(a, (a.shape[0], a.shape[0]))
        _fail(f"unknown function {name!r}")
        return ZERO  # pragma: no cover
