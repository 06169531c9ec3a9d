"""How result objects display themselves in Jupyter, without depending on the renderers.

A result type (``ProofResult``, ``RegularizeResult``, ``Solution``,
``CheckResult``, ``Exercise``) inherits :class:`Displayable`, whose
``_repr_markdown_`` and ``_repr_latex_`` ask this registry for the renderer of
the object's class (or of a base class, by name).  The renderers live above the
result types (:mod:`convexproof.api` registers them), so the engine, the
solvers and the checker never import the rendering layer: the dependency is
inverted through :func:`register`.  ``convexproof/__init__.py`` sets the
:func:`set_loader` hook that imports :mod:`convexproof.api` on the first display.
"""

from __future__ import annotations

from typing import Any, Callable

# class name -> renderer(obj, fmt) with fmt "md" (Markdown with $…$ mathematics) or "latex" (a body, no preamble)
_RENDERERS: dict[str, Callable[[Any, str], str | None]] = {}
_LOADER: list[Callable[[], None]] = []


def register(type_name: str, renderer: Callable[[Any, str], str | None]) -> None:
    """Display objects of the class named ``type_name`` (and its subclasses) with ``renderer(obj, fmt)``."""
    _RENDERERS[type_name] = renderer


def set_loader(loader: Callable[[], None]) -> None:
    """``loader()`` registers the renderers; it is called once, on the first display that finds none."""
    _LOADER[:] = [loader]


def _renderer(obj: Any):
    for cls in type(obj).__mro__:
        if cls.__name__ in _RENDERERS:
            return _RENDERERS[cls.__name__]
    return None


def show(obj: Any, fmt: str) -> str | None:
    """``obj`` rendered as ``fmt``; None (Jupyter then shows the plain repr) when no renderer knows it."""
    fn = _renderer(obj)
    if fn is None and _LOADER:
        _LOADER.pop()()
        fn = _renderer(obj)
    return None if fn is None else fn(obj, fmt)


class Displayable:
    """Mixin: Jupyter shows the object as Markdown (with $…$ mathematics) or as a LaTeX body."""

    def _repr_markdown_(self) -> str | None:
        return show(self, "md")

    def _repr_latex_(self) -> str | None:
        return show(self, "latex")
