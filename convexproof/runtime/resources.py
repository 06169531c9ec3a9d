"""Where the shipped ``exercises/`` and ``templates/`` folders are.

In a source checkout they sit next to the package; in an installed wheel they
are copied inside it (``convexproof/exercises``, ``convexproof/templates``).
"""

from __future__ import annotations

from pathlib import Path

VERSION = "0.1.0"  # convexproof.__version__ (and pyproject.toml's version); here so that any layer can read it

_HERE = Path(__file__).resolve().parent.parent  # the convexproof package


def data_dir(name: str) -> Path:
    for cand in (_HERE / name, _HERE.parent / name):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"convexproof installation is missing its {name}/ folder")
