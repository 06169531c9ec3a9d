"""Steps as data: the tree a solution or proof is made of.

Modelled on SymPy's ``manualintegrate``: one small class per rule, each with a
one-line docstring stating the rule.  A step holds SymPy objects and plain
strings (prose), never rendered text; ``render`` picks the template
``templates/<fmt>/<kind>.j2`` for each step, where ``kind`` is the class's
``kind`` attribute.  Modules may define further step classes (the engine does,
in ``convexproof/steps/proof.py``); each needs a template per format.  Every
subclass is registered by its ``kind`` in :data:`REGISTRY` when it is defined.

Prose is one kind: :class:`Sentence`, text pieces (escaped on output)
interleaved with SymPy mathematics that each format typesets its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, ClassVar


REGISTRY: dict[str, type] = {}


@dataclass(repr=False, eq=False)
class Step:
    """Base class: a node of the step tree."""

    kind: ClassVar[str] = "step"
    children: list["Step"] = field(default_factory=list, kw_only=True)

    def __init_subclass__(cls, kind: str | None = None, **kwargs):
        """``class Rule(Step, kind="rule")``: a dataclass, registered under its kind.

        Only ``__init__`` is generated per class (each generated method costs a
        compilation at import, about 0.2 ms); equality and repr are Step's own,
        over the fields.
        """
        super().__init_subclass__(**kwargs)
        if kind is not None:
            cls.kind = kind
        dataclass(cls, repr=False, eq=False)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str):
            if kind in REGISTRY and REGISTRY[kind].__qualname__ != cls.__qualname__:
                raise TypeError(f"step kind {kind!r} is defined twice ({REGISTRY[kind].__qualname__}, {cls.__qualname__})")
            REGISTRY[kind] = cls

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self))

    __hash__ = None  # mutable, compared by value (as a dataclass with eq=True)

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in fields(self))})"

    def fields(self) -> dict[str, Any]:
        """The step's own data (everything but ``children``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "children"}

    @property
    def rule(self) -> str:
        return (type(self).__doc__ or "").strip().splitlines()[0] if type(self).__doc__ else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for k, v in self.fields().items():
            out[k] = to_jsonable(v)
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


def to_jsonable(v: Any) -> Any:
    """SymPy objects become SymPy-syntax strings; containers recurse."""
    import sympy as sp

    if isinstance(v, Sentence):
        return plain(v)  # a sentence inside a step's fields (the engine's explanations) is text in JSON
    if isinstance(v, Step):
        return v.to_dict()
    if is_dataclass(v) and not isinstance(v, type) and type(v).__str__ is not object.__str__:
        return str(v)  # a typed expression with its own printer (a vector formula)
    if is_dataclass(v) and not isinstance(v, type):  # a record inside a step (a Witness)
        return {f.name: to_jsonable(getattr(v, f.name)) for f in fields(v) if f.metadata.get("json", True)}
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, sp.Derivative):
        return _plain_math(v)  # f''(x), as the prose writes it
    if isinstance(v, sp.Basic) or hasattr(v, "free_symbols"):
        return sp.sstr(v)
    return str(v)


class Section(Step, kind="section"):
    """A titled group of steps."""

    title: str


class Sentence(Step, kind="sentence"):
    """A sentence of the argument: plain-text pieces (escaped on output) interleaved with typeset mathematics."""

    parts: list = field(default_factory=list)  # [("text", str) | ("math", sympy) | ("eq", (lhs, rhs, op))]
    role: str = ""  # "answer": the one-line answer that opens a part ("**Answer.** ...")

    @property
    def segments(self) -> list:
        return self.parts


def said(*pieces: Any) -> Sentence:
    """A sentence from pieces: a ``str`` is prose, a :class:`Sentence` is spliced in, an ``("eq", (lhs, rhs, op))``
    pair is kept, anything else is mathematics (SymPy objects; Python integers become SymPy integers).

    The engine writes its explanations with it, so the notation is left to the templates:
    ``said("f'' = ", g, " ≥ 0 on the domain")``.
    """
    import sympy as sp

    parts: list = []
    for p in pieces:
        if p is None or p == "":
            continue
        if isinstance(p, str):
            if parts and parts[-1][0] == "text":
                parts[-1] = ("text", parts[-1][1] + p)
            else:
                parts.append(("text", p))
        elif isinstance(p, Sentence):
            for q in p.parts:
                parts.extend(said(q[1]).parts if q[0] == "text" else [q])
        elif isinstance(p, tuple) and len(p) == 2 and p[0] == "eq":
            parts.append(p)
        else:
            parts.append(("math", sp.Integer(p) if isinstance(p, int) and not isinstance(p, bool) else p))
    return Sentence(parts)


def _plain_math(v: Any) -> str:
    import sympy as sp

    if isinstance(v, sp.Eq):
        return f"{_plain_math(v.lhs)} = {_plain_math(v.rhs)}"
    if isinstance(v, sp.Derivative) and len(v.variables) and all(x == v.variables[0] for x in v.variables) \
            and isinstance(v.expr, sp.core.function.AppliedUndef) and v.expr.args == (v.variables[0],):
        return f"{v.expr.func.__name__}{chr(39) * len(v.variables)}({v.variables[0]})"
    return sp.sstr(v) if isinstance(v, sp.Basic) else str(to_jsonable(v))


def plain(value: Any) -> str:
    """A sentence (or a string) as plain text, mathematics in SymPy syntax (JSON, logs)."""
    if isinstance(value, Sentence):
        return "".join(v if k == "text" else (f"{_plain_math(v[0])} {v[2]} {_plain_math(v[1])}" if k == "eq"
                                              else _plain_math(v)) for k, v in value.parts)
    return "" if value is None else str(value)


def is_answer(step: Step) -> bool:
    """The one-line answer a part opens with (a :class:`Sentence` with role "answer")."""
    return isinstance(step, Sentence) and step.role == "answer"


def Paragraph(text: str) -> Sentence:  # noqa: N802 - the constructor's former name
    """A sentence of plain text."""
    return Sentence([("text", text)])


def Claim(text: str, math: Any = None, after: str = "") -> Sentence:  # noqa: N802
    """A sentence ``text <math> after``."""
    parts: list = [("text", text + (" " if math is not None else ""))] if text else []
    if math is not None:
        parts.append(("math", math))
    if after:
        parts.append(("text", after))
    return Sentence(parts)


class Equation(Step, kind="equation"):
    """An identity lhs = rhs, with an optional short justification."""

    lhs: Any
    rhs: Any
    note: str = ""


class Answer(Step, kind="answer"):
    """The final answer of one part."""

    part: str
    value: Any
    text: str = ""


def walk(step: Step):
    """All steps of a tree, depth first."""
    stack = [step]
    while stack:
        s = stack.pop()
        yield s
        stack.extend(reversed(s.children))
