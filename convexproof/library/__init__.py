"""The exercise library: loading, validating and instantiating exercise files.

An exercise is a TOML file in ``exercises/`` (shipped in the wheel), in a
teacher's folder given by ``--exercises DIR`` or ``CONVEXPROOF_EXERCISES``.
The format is documented in ``docs/exercise-format.md``.  Files are untrusted:
every formula goes through :mod:`convexproof.parse`, every name through
:func:`convexproof.parse.parse_name`, and every error names the file, the
field and what is wrong.
"""

from __future__ import annotations

import os
import random
import re
import tomllib
from fractions import Fraction
from pathlib import Path

from convexproof.library.exercise import (  # noqa: F401 - the exercise's data types, re-exported
    _REF_RE, PART_TYPES, SOLVER_NAME_FIELDS, Exercise, Mistake, Param, Part, SelfTest, _parse_any_cached,
)
from convexproof.runtime.errors import ConvexproofError, ExerciseError
from convexproof.runtime.resources import data_dir

MAX_FILE_BYTES = 200_000
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --------------------------------------------------------------------------
# Finding exercise files
# --------------------------------------------------------------------------
def search_dirs(extra: str | os.PathLike | None = None) -> list[Path]:
    """The teacher's folder (option, then environment variable) before the shipped one."""
    dirs: list[Path] = []
    for d in (extra, os.environ.get("CONVEXPROOF_EXERCISES")):
        if d:
            p = Path(d)
            if not p.is_dir():
                raise ExerciseError(f"exercise folder {str(p)[:200]!r} does not exist")
            dirs.append(p)
    dirs.append(data_dir("exercises"))
    return dirs


def exercise_files(extra=None) -> dict[str, Path]:
    """id -> file; a teacher's file overrides a shipped one with the same name."""
    found: dict[str, Path] = {}
    for d in reversed(search_dirs(extra)):
        for f in sorted(d.glob("*.toml")):
            found[f.stem] = f
    return dict(sorted(found.items(), key=lambda kv: _natural_key(kv[0])))


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def load_exercise(ex_id: str, *, seed: int | None = None, exercises_dir=None) -> Exercise:
    """Load and validate one exercise; ``seed`` picks a reproducible variant."""
    if not isinstance(ex_id, str) or not _ID_RE.match(ex_id):
        raise ExerciseError(f"unknown exercise {str(ex_id)[:60]!r}")
    files = exercise_files(exercises_dir)
    if ex_id not in files:
        raise ExerciseError(f"unknown exercise {ex_id!r}; try 'convexproof list'")
    ex = read_exercise(files[ex_id])
    return instantiate(ex, seed)


def list_exercises(exercises_dir=None, errors: list[str] | None = None) -> list[Exercise]:
    """Every exercise, validated.  With ``errors`` a file that cannot be read is skipped and its
    one-line message appended there, so one bad file does not hide the rest of the folder;
    without it, the first bad file raises."""
    out = []
    for p in exercise_files(exercises_dir).values():
        try:
            out.append(read_exercise(p))
        except ConvexproofError as exc:
            if errors is None:
                raise
            errors.append(exc.one_line())
    return out


def instantiate(ex: Exercise, seed: int | None) -> Exercise:
    """Fix the parameter values: defaults without a seed, a seeded choice otherwise."""
    import copy

    out = copy.copy(ex)
    out.seed = seed
    if seed is None:
        out.values = {k: p.default for k, p in ex.params.items()}
    else:
        if not isinstance(seed, int) or isinstance(seed, bool) or not (0 <= seed < 2**63):
            raise ExerciseError("seed must be a non-negative integer")
        rng = random.Random(f"{ex.id}:{seed}")
        out.values = {k: rng.choice(p.choices) for k, p in ex.params.items()}
    return out


# --------------------------------------------------------------------------
# Reading and validating
# --------------------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path, data: dict):
        self.path, self.data = path, data

    def fail(self, fld: str, what: str):
        raise ExerciseError(f"{self.path.name}: field '{fld}': {what}")

    def parsed(self, fld: str, parser, text: str):
        """``parser(text)``; a refusal by the whitelist parser fails the field."""
        try:
            return parser(text)
        except ConvexproofError as exc:
            self.fail(fld, str(exc))

    def get(self, table: dict, key: str, typ, fld: str, default=...):
        if key not in table:
            if default is ...:
                self.fail(fld, "is missing")
            return default
        v = table[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
            name = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            self.fail(fld, f"must be {name}, not {type(v).__name__}")
        return v

    def text(self, table, key, fld, default=..., limit=20_000):
        v = self.get(table, key, str, fld, default)
        if isinstance(v, str) and len(v) > limit:
            self.fail(fld, f"is longer than {limit} characters")
        if isinstance(v, str):
            self.no_controls(fld, v)
        return v

    def no_controls(self, fld: str, text: str) -> None:
        """Refuse control characters (ESC, C1 ...) other than tab and line ends: they would reach a terminal."""
        m = _CONTROL_RE.search(text)
        if m:
            self.fail(fld, f"control character U+{ord(m.group()):04X} is not allowed")

    def strings(self, table, key, fld):
        v = self.get(table, key, list, fld, [])
        for i, s in enumerate(v):
            if not isinstance(s, str):
                self.fail(f"{fld}[{i}]", "must be text")
            self.no_controls(f"{fld}[{i}]", s)
        return v

    def tables(self, key):
        v = self.get(self.data, key, list, key, [])
        for i, t in enumerate(v):
            if not isinstance(t, dict):
                self.fail(f"{key}[{i}]", "must be a table")
        return v


def _fraction(r: _Reader, v, fld: str) -> Fraction:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        r.fail(fld, "must be a number")
    try:
        f = Fraction(v) if not isinstance(v, float) else Fraction(str(v))
    except (ValueError, ZeroDivisionError):
        r.fail(fld, f"{str(v)[:40]!r} is not a number")
    if abs(f) > 10**6 or f.denominator > 10**6:
        r.fail(fld, "is out of range")
    return f


MAX_TOLERANCE = 1.0  # a relative tolerance; above 100 % it accepts almost anything


def _tolerance(r: _Reader, v: float, fld: str) -> float:
    """A part's tolerance: a finite number from 0 to MAX_TOLERANCE (inf and nan would accept anything)."""
    if not (0 <= v <= MAX_TOLERANCE):  # also false for nan
        r.fail(fld, f"must be a number from 0 to {MAX_TOLERANCE:g}, not {v!r}")
    return v


def _derivation_fields(r: _Reader, t: dict, fld: str) -> dict:
    """The fields of a part of type derivation, validated (formulas through the whitelist parser)."""
    from convexproof.parse import parse_name

    functions = r.strings(t, "functions", fld + ".functions")
    for f in functions:
        r.parsed(fld + ".functions", _parse_any_cached, f)
    parameter = r.text(t, "parameter", fld + ".parameter", None, limit=40)
    if parameter is not None:
        parameter = r.parsed(fld + ".parameter", parse_name, parameter)
    extremum = r.text(t, "extremum", fld + ".extremum", "min", limit=10)
    if extremum not in ("min", "max"):
        r.fail(fld + ".extremum", "must be min or max")
    carry = r.get(t, "carry_forward", float, fld + ".carry_forward", 0.5)
    if not 0.0 <= carry <= 1.0:
        r.fail(fld + ".carry_forward", "must be between 0 and 1")
    model = r.text(t, "model", fld + ".model", limit=20_000)
    if not model.strip():
        r.fail(fld + ".model", "a derivation part needs its model derivation")
    return {"functions": functions, "parameter": parameter, "extremum": extremum, "carry_forward": carry,
            "model": model}


MAX_POINTS = 1000.0


def _bounded(r: _Reader, v: float, fld: str, lo: float, hi: float) -> float:
    """A finite number from lo to hi (inf and nan refused), naming the field otherwise."""
    if not (lo <= v <= hi):  # also false for nan
        r.fail(fld, f"must be a number from {lo:g} to {hi:g}, not {v!r}")
    return float(v)




def _check_solver_input(r: _Reader, fld: str, v, *, is_name: bool = False, depth: int = 0) -> None:
    """Solver inputs: names, formulas, numbers, lists of those, or one level of named formulas."""
    from convexproof.parse import parse_name

    if isinstance(v, str):
        r.parsed(fld, parse_name if is_name else _parse_any_cached, v)
    elif isinstance(v, bool):
        return
    elif isinstance(v, (int, float)):
        _fraction(r, v, fld)
    elif isinstance(v, list) and depth == 0:
        if len(v) > 50:
            r.fail(fld, "has more than 50 entries")
        for i, item in enumerate(v):
            _check_solver_input(r, f"{fld}[{i}]", item, depth=1)
    elif isinstance(v, dict) and depth == 0:
        if len(v) > 50:
            r.fail(fld, "has more than 50 entries")
        for k, item in v.items():
            r.parsed(f"{fld}.{k}", parse_name, k)
            if not isinstance(item, str):
                r.fail(f"{fld}.{k}", "must be a formula in quotes")
            _check_solver_input(r, f"{fld}.{k}", item, depth=1)
    else:
        r.fail(fld, f"must be a formula in quotes, a number or a list of those, not {type(v).__name__}")


def read_exercise(path: Path) -> Exercise:
    """Read and validate one exercise file (no solving)."""
    from convexproof.parse import parse_condition, parse_name

    from convexproof.runtime.safeio import read_input
    from convexproof.runtime.safetext import terminal_safe

    path = Path(path)
    # a size cap that holds for devices too; a FIFO or device named *.toml is refused, never read
    raw = read_input(path, cap=MAX_FILE_BYTES, label=terminal_safe(path.name)[:100], regular_only=True,
                     error=ExerciseError)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ExerciseError(f"{path.name}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseError(f"{path.name}: not valid TOML ({exc})") from None
    except (RecursionError, MemoryError):  # tomllib recurses: [[[[...]]]] nested thousands deep
        raise ExerciseError(f"{path.name}: not valid TOML (nested too deeply)") from None
    r = _Reader(path, data)

    ex_id = r.text(data, "id", "id")
    if not _ID_RE.match(ex_id):
        r.fail("id", "must be letters, digits, '-' or '_'")
    if ex_id != path.stem:
        r.fail("id", f"{ex_id!r} does not match the file name {path.stem!r}")
    title = r.text(data, "title", "title", limit=200)
    statement = r.text(data, "statement", "statement")

    math: dict[str, str] = {}
    for k, v in r.get(data, "math", dict, "math", {}).items():
        if not isinstance(v, str):
            r.fail(f"math.{k}", "must be a formula in quotes")
        r.parsed(f"math.{k}", parse_name, k)
        r.parsed(f"math.{k}", _parse_any_cached, v)
        math[k] = v

    params: dict[str, Param] = {}
    for k, spec in r.get(data, "params", dict, "params", {}).items():
        fld = f"params.{k}"
        name = r.parsed(fld, parse_name, k)
        if not isinstance(spec, dict):
            r.fail(fld, "must be a table with 'default' and 'choices'")
        default = _fraction(r, r.get(spec, "default", (int, float, str), fld + ".default"), fld + ".default")
        choices = [_fraction(r, c, f"{fld}.choices") for c in r.get(spec, "choices", list, fld + ".choices", [])]
        if not choices:
            choices = [default]
        params[name] = Param(name, default, choices)

    solver = r.get(data, "solver", dict, "solver")
    from convexproof.solvers import is_known_kind, known_kinds

    kind = r.text(solver, "kind", "solver.kind")
    if not is_known_kind(kind):
        r.fail("solver.kind", f"unknown solver {kind[:40]!r}; known: {', '.join(sorted(known_kinds()))}")
    for k, v in solver.items():
        if k == "kind" or k.endswith("_text"):
            if isinstance(v, str):
                r.no_controls(f"solver.{k}", v)
            continue
        _check_solver_input(r, f"solver.{k}", v, is_name=k in SOLVER_NAME_FIELDS)

    parts: dict[str, Part] = {}
    for i, t in enumerate(r.tables("parts")):
        fld = f"parts[{i}]"
        name = r.text(t, "name", fld + ".name", limit=40)
        if not _ID_RE.match(name):
            r.fail(fld + ".name", "must be letters, digits, '-' or '_'")
        if name in parts:  # a second part of the same name used to replace the first without a word
            first = list(parts).index(name)
            r.fail(fld + ".name", f"part {name!r} is defined twice (also parts[{first}])")
        typ = r.text(t, "type", fld + ".type")
        if typ not in PART_TYPES:
            r.fail(fld + ".type", f"must be one of {', '.join(PART_TYPES)}")
        for opt, types in (("accept", ("verdict", "text")), ("reject", ("verdict", "text")),
                           ("accept_condition", ("number",))):
            if opt in t and typ not in types:  # an option that would silently do nothing
                r.fail(f"{fld}.{opt}", f"has no effect on a part of type {typ} (it is for {' and '.join(types)} parts)")
        variables = r.strings(t, "variables", fld + ".variables")
        for v in variables:
            r.parsed(fld + ".variables", parse_name, v)
        assume = r.strings(t, "assume", fld + ".assume")
        for a in assume:
            r.parsed(fld + ".assume", parse_condition, a)
        parts[name] = Part(
            name=name, type=typ,
            default=r.get(t, "default", bool, fld + ".default", False),
            tolerance=_tolerance(r, r.get(t, "tolerance", float, fld + ".tolerance", 1e-9), fld + ".tolerance"),
            accept=[s.lower() for s in r.strings(t, "accept", fld + ".accept")],
            reject=[s.lower() for s in r.strings(t, "reject", fld + ".reject")],
            accept_condition=r.get(t, "accept_condition", bool, fld + ".accept_condition", False),
            variables=variables, assume=assume,
            description=r.text(t, "description", fld + ".description", "", limit=500),
            points=_bounded(r, r.get(t, "points", float, fld + ".points", 1.0), fld + ".points", 0, MAX_POINTS),
            follows=r.text(t, "follows", fld + ".follows", "", limit=40),
            **({"carry_forward": _bounded(r, r.get(t, "carry_forward", float, fld + ".carry_forward", 0.5),
                                          fld + ".carry_forward", 0, 1)} if typ != "derivation" else {}),
            **(_derivation_fields(r, t, fld) if typ == "derivation" else {}),
        )
    if not parts:
        r.fail("parts", "an exercise needs at least one answer part")
    for i, p in enumerate(parts.values()):
        if p.follows and (p.follows not in parts or p.follows == p.name):
            r.fail(f"parts[{i}].follows", f"no other part named {p.follows!r}")

    mistakes = []
    for i, t in enumerate(r.tables("mistakes")):
        fld = f"mistakes[{i}]"
        part = r.text(t, "part", fld + ".part")
        if part not in parts:
            r.fail(fld + ".part", f"no part named {part!r}")
        mistakes.append(Mistake(part, r.text(t, "answer", fld + ".answer", limit=500),
                                r.text(t, "note", fld + ".note", limit=60),
                                r.text(t, "feedback", fld + ".feedback", limit=2000),
                                _bounded(r, r.get(t, "score", float, fld + ".score", 0.0), fld + ".score", 0, 1)))

    selftests = []
    for i, t in enumerate(r.tables("selftests")):
        fld = f"selftests[{i}]"
        part = r.text(t, "part", fld + ".part", next(iter(parts)))
        if part not in parts:
            r.fail(fld + ".part", f"no part named {part!r}")
        expect = r.text(t, "expect", fld + ".expect")
        if expect not in ("correct", "incorrect", "invalid"):
            r.fail(fld + ".expect", "must be correct, incorrect or invalid")
        selftests.append(SelfTest(part, r.text(t, "answer", fld + ".answer", limit=2000), expect,
                                  r.text(t, "note", fld + ".note", None, limit=60)))

    hints = r.strings(data, "hints", "hints")
    prose = [("statement", statement)] + [(f"hints[{i}]", h) for i, h in enumerate(hints)]
    prose += [(f"mistakes[{i}].feedback", m.feedback) for i, m in enumerate(mistakes)]
    prose += [(f"parts.{p.name}.description", p.description) for p in parts.values()]
    for fld, text in prose:
        for m in _REF_RE.finditer(text):
            if m.group(1) not in math and m.group(1) not in params:
                r.fail(fld, f"{{{m.group(1)}}} refers to nothing: add it to [math] or [params]")

    return Exercise(
        id=ex_id, title=title, path=path,
        tags=r.strings(data, "tags", "tags"), statement=statement,
        hints=hints, solver=solver, params=params,
        parts=parts, mistakes=mistakes, selftests=selftests, math=math,
    )
