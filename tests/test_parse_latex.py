"""LaTeX and interval notation in answers (issue #13): read through the same whitelist parser."""

from __future__ import annotations

import pytest
import sympy as sp

from convexproof.runtime.errors import ParseError
from convexproof.parse import parse_any, parse_expr

READ = [
    (r"\frac{3}{2}", "3/2"),
    (r"\dfrac{3}{2}", "3/2"),
    (r"\tfrac12", "1/2"),
    (r"\lambda \geq 3", "lam >= 3"),
    (r"\lambda\ge 3", "lam >= 3"),
    (r"3 \leq \lambda", "3 <= lam"),
    (r"x^{2}", "x**2"),
    (r"12x^{2} - 6 + 2\lambda", "12*x**2 - 6 + 2*lam"),
    (r"12 x^2 - 6 + 2 \cdot \lambda", "12*x**2 - 6 + 2*lam"),
    (r"\frac{y}{p^{2}} + \frac{1-y}{(1-p)^{2}}", "y/p**2 + (1-y)/(1-p)**2"),
    (r"\sqrt{2}", "sqrt(2)"),
    (r"\sqrt[3]{x}", "x**(1/3)"),
    (r"\left( 1 - \sigma(z) \right) \sigma(z)", "sigmoid(z)*(1 - sigmoid(z))"),
    (r"\sigma(z)(1-\sigma(z))", "sigmoid(z)*(1 - sigmoid(z))"),
    (r"e^{x}", "exp(x)"),
    (r"\mathrm{e}^{-x}", "exp(-x)"),
    (r"\exp(x) \times 2", "2*exp(x)"),
    (r"\ln(x)", "log(x)"),
    (r"$\frac{3}{2}$", "3/2"),
    (r"\(x^2\)", "x**2"),
    (r"\begin{pmatrix} 2 & 1 \\ 1 & 2 \end{pmatrix}", "[[2, 1], [1, 2]]"),
    (r"\begin{bmatrix} 12x^2 & 0 \\ 0 & 2 \end{bmatrix}", "[[12*x**2, 0], [0, 2]]"),
    (r"\eta \in (0, 1)", "0 < eta < 1"),
    (r"\eta \in (0, 1]", "0 < eta <= 1"),
    (r"c \in [-2, 2]", "-2 <= c <= 2"),
    ("c in [-2, 2]", "-2 <= c <= 2"),
    ("η ∈ (0, 1)", "0 < eta < 1"),
    ("x ∈ [0, ∞)", "x >= 0"),
    ("lam in [3, oo)", "lam >= 3"),
    (r"\kappa = 10", "kappa == 10"),
    (r"w_{1} + w_2", "w1 + w2"),
    (r"\theta\,=\,3", "theta == 3"),
    ("σ(z)", "sigmoid(z)"),
    ("min(x, 1)", "min(x, 1)"),  # 'in' inside a name is not an interval
]


@pytest.mark.parametrize("latex, plain", READ)
def test_latex_is_read_as_plain(latex, plain):
    got, want = parse_any(latex), parse_any(plain)
    if isinstance(want, sp.Expr) and not isinstance(want, sp.MatrixBase):
        assert sp.simplify(got - want) == 0
    else:
        assert got == want or sp.simplify(sp.Equivalent(got, want)) is sp.true, (got, want)


REFUSED = [
    (r"\pm 3", "two cases"),
    (r"\sum_i x_i", "sum"),
    (r"\int x dx", "integrals"),
    (r"\foo{x}", "\\foo"),
    (r"\begin{align} x \end{align}", "matrix"),
    ("x \\", "'\\'"),
    (r"\frac{1}{0}", "zero"),
    (r"\frac{" * 50 + "1" + "}{2}" * 50, ""),  # caps still hold after rewriting
    ("x in [0, 1", "closing bracket"),
    ("x in [0]", "two ends"),
]


@pytest.mark.parametrize("text, needle", REFUSED)
def test_latex_refused_with_a_hint(text, needle):
    with pytest.raises(ParseError) as info:
        parse_any(text)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_latex_goes_through_the_same_caps():
    with pytest.raises(ParseError):
        parse_expr(r"x^{" + "9" * 70 + "}")


@pytest.mark.parametrize("text, want", [
    ("2*[[1, 0], [0, 1]]", [[2, 0], [0, 2]]),
    ("2[[1, 0], [0, 1]]", [[2, 0], [0, 2]]),
    ("[[2, 4], [4, 2]]/2", [[1, 2], [2, 1]]),
    (r"2\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}", [[2, 0], [0, 2]]),
])
def test_scalar_times_matrix(text, want):
    """Regression: a scalar times a matrix was refused as 'arithmetic on a list'."""
    assert parse_any(text) == sp.ImmutableMatrix(want)


@pytest.mark.parametrize("text", ["x[0]", "[[1, 0]] + 1", "(1, 2)*3", "[[1]]*[[1]]"])
def test_other_list_arithmetic_still_refused(text):
    with pytest.raises(ParseError):
        parse_any(text)


@pytest.mark.parametrize("text", ["x**(10**50*pi)", "x^(300*pi)", "x^(201 + pi - pi)"])
def test_constant_exponents_that_are_not_numbers_are_capped(text):
    """Regression: x**(10**50*pi) passed the exponent cap because pi made it 'not a number'."""
    with pytest.raises(ParseError, match="too large"):
        parse_expr(text)


def test_modest_symbolic_exponents_still_read():
    assert parse_expr("x^pi") == sp.Symbol("x", real=True) ** sp.pi

