"""Gradescope: ``convexproof export --to gradescope`` and the autograder it ships.

:func:`build_autograder` returns the bytes of a zip with, at its root:

* ``setup.sh``: run once by Gradescope; creates a Python >= 3.11 virtual
  environment and installs the vendored copy of convexproof into it;
* ``run_autograder``: run for every submission; calls
  ``python -m convexproof.platforms.gradescope`` and, should Python not even
  start, copies ``fallback-results.json`` (every part 0 with a message);
* ``convexproof-autograder.json``: the exercises, their parts and points,
  the variant (``--seed``) or the roster (``--roster``), the visibility;
* ``answers.toml``: the template a student fills in and uploads;
* ``convexproof-dist/``: the convexproof package (code, exercises,
  templates) and a ``pyproject.toml`` to install it; ``exercises/``: a
  teacher's own exercise files.

The runner (:func:`run`) reads ``$ROOT/submission/answers.toml`` (or
``answers.json``, same shape; ``$ROOT`` is ``CONVEXPROOF_AUTOGRADER_ROOT``,
default ``/autograder``), checks every part with :func:`convexproof.check`
and writes ``$ROOT/results/results.json``.  It never raises: a missing or
malformed answers file gives every part 0 and a message saying what is wrong.
The format of the answers file and of ``results.json`` is in
``docs/gradescope.md``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from convexproof.runtime.errors import ConvexproofError

ROOT_ENV = "CONVEXPROOF_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
CONFIG_NAME = "convexproof-autograder.json"
TEMPLATE_NAME = "answers.toml"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
MAX_SUBMISSION_BYTES = 200_000
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_TEMPLATES = Path(__file__).resolve().parent / "templates"


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def _exercises(exercise_ids, exercises_dir) -> list:
    from convexproof.library import load_exercise

    ids = list(exercise_ids)
    if not ids:
        raise ConvexproofError("name at least one exercise to export")
    if len(ids) != len(set(ids)):
        raise ConvexproofError("an exercise is named twice")
    return [load_exercise(e, exercises_dir=exercises_dir) for e in ids]


def answers_template(exercises) -> str:
    """The answers file a student fills in: one table per exercise, one entry per part (no answers in it)."""
    from convexproof.platforms.common import MULTILINE_TYPES, prose_text

    out = ["# convexproof answers file: fill in every `answer`, keep the rest as it is, and upload this file",
           "# (named answers.toml) to Gradescope.  Type formulas as in `convexproof check`: 3/2, 12x^2 - 6 + 2lam,",
           "# lam >= 3, [[2, 1], [1, 2]], (1, -1), or words such as convex / not convex.",
           "# `derivation` is optional free text for your working; it is not graded automatically.", ""]
    for ex in exercises:
        out.append(f"# {ex.id}: {_one_line(ex.title)}")
        for part in ex.parts.values():
            out.append(f"[{ex.id}.{part.name}]")
            what = f"{part.type}" + (f": {_one_line(prose_text(ex, part.description))}" if part.description else "")
            out.append(f"# {what}")
            if part.type in MULTILINE_TYPES:  # the answer is itself a derivation, several lines
                out += ["answer = '''", "'''"]  # literal string: backslashes stay as typed
            else:
                out += ['answer = ""', "derivation = '''", "'''"]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _config(exercises, seed, students, visibility) -> dict[str, Any]:
    from convexproof.runtime.resources import VERSION as __version__
    from convexproof.platforms.common import part_points

    return {
        "format": 1,
        "convexproof_version": __version__,
        "visibility": visibility,
        "seed": seed,
        "roster": students,
        "exercises": [{"id": ex.id, "title": ex.title,
                       "parts": [{"name": p.name, "type": p.type, "points": part_points(p),
                                  "description": p.description} for p in ex.parts.values()]}
                      for ex in exercises],
    }


def _fallback_results(config: dict) -> dict[str, Any]:
    """results.json for when Python cannot start: every part 0, with a message."""
    msg = ("The autograder could not start, so this part was not checked. Your submission is kept; "
           "tell your teacher, who can re-run the autograder.")
    tests = [{"name": f"{ex['id']}: {p['name']}", "number": f"{i}.{j}", "score": 0.0, "max_score": p["points"],
              "status": "failed", "output": msg, "output_format": "text",
              "extra_data": {"exercise": ex["id"], "part": p["name"], "status": "error", "note": None}}
             for i, ex in enumerate(config["exercises"], start=1) for j, p in enumerate(ex["parts"], start=1)]
    return {"score": 0.0, "output": msg, "visibility": config["visibility"], "stdout_visibility": "hidden",
            "tests": tests, "extra_data": {"convexproof": {
                "version": config.get("convexproof_version"), "error": "the autograder did not start",
                "parts": [{"exercise": t["extra_data"]["exercise"], "part": t["extra_data"]["part"], "status": "error",
                           "note": None, "score": 0.0, "max_score": t["max_score"]} for t in tests],
                "notes": []}}}


def _dist_pyproject() -> str:
    from convexproof.runtime.resources import VERSION as __version__
    from convexproof.platforms.common import runtime_requirements

    deps = ", ".join(json.dumps(r) for r in runtime_requirements())
    return (_TEMPLATES / "dist_pyproject.toml").read_text(encoding="utf-8").replace(
        "@VERSION@", __version__).replace("@DEPENDENCIES@", deps)


def build_autograder(exercise_ids, seed: int | None = None, roster=None, visibility: str = "visible",
                     exercises_dir=None) -> bytes:
    """The autograder zip (bytes) for ``exercise_ids``; see the module docstring."""
    from convexproof.library.roster import read_roster
    from convexproof.library import instantiate
    from convexproof.platforms.common import ensure_solvable, exercise_file, package_files, runtime_requirements

    if visibility not in VISIBILITIES:
        raise ConvexproofError(f"unknown visibility {str(visibility)[:30]!r}; use one of {', '.join(VISIBILITIES)}")
    if seed is not None and roster is not None:
        raise ConvexproofError("--seed and --roster cannot be combined: the roster gives every student a seed")
    exercises = _exercises(exercise_ids, exercises_dir)
    students = read_roster(roster) if roster is not None else None
    ensure_solvable([instantiate(ex, seed) for ex in exercises])
    config = _config(exercises, seed, students, visibility)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name: str, data: str | bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)

        add("setup.sh", (_TEMPLATES / "gradescope_setup.sh").read_text(encoding="utf-8"), 0o755)
        add("run_autograder", (_TEMPLATES / "gradescope_run_autograder.sh").read_text(encoding="utf-8"), 0o755)
        add(CONFIG_NAME, json.dumps(config, ensure_ascii=False, indent=2) + "\n")
        add("fallback-results.json", json.dumps(_fallback_results(config), ensure_ascii=False, indent=2) + "\n")
        add(TEMPLATE_NAME, answers_template(exercises))
        add("requirements.txt", "\n".join(runtime_requirements()) + "\n")
        add("convexproof-dist/pyproject.toml", _dist_pyproject())
        for rel, path in package_files().items():
            add("convexproof-dist/" + rel, path.read_bytes())
        for ex in exercises:
            own = exercise_file(ex)
            if own is not None:
                add(f"exercises/{ex.id}.toml", own.read_bytes())
    return buf.getvalue()


# --------------------------------------------------------------------------
# The runner (inside Gradescope's container)
# --------------------------------------------------------------------------
class SubmissionError(Exception):
    """The answers file is missing or malformed: every part gets this message and 0."""


def find_answers_file(submission: Path) -> Path:
    for name in ("answers.toml", "answers.json"):
        if (submission / name).is_file():
            return submission / name
    found = []
    if submission.is_dir():
        for depth in ("*", "*/*"):
            found += [p for p in sorted(submission.glob(depth))
                      if p.is_file() and p.suffix.lower() in (".toml", ".json") and not p.name.startswith(".")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionError("No answers file was found: upload the answers.toml file from your course, "
                              "with your answers filled in.")
    raise SubmissionError(f"Found {len(found)} answer files ({', '.join(p.name for p in found[:5])}); "
                          "upload only answers.toml.")


def read_submission(path: Path) -> dict[str, Any]:
    """The answers file as a dict (TOML, or JSON of the same shape)."""
    if path.is_symlink() or not path.is_file():
        raise SubmissionError(f"{path.name} is not a regular file; upload the answers file itself.")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SUBMISSION_BYTES + 1)  # never more than the cap, whatever the file's size
    except OSError as exc:
        raise SubmissionError(f"Could not read {path.name}: {exc.strerror or exc}.") from None
    if len(raw) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_SUBMISSION_BYTES // 1000} kB; upload only the "
                              "answers file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name} is not UTF-8 text; save it as UTF-8 and upload it again.") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SubmissionError(f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}).") from None
        except RecursionError:
            raise SubmissionError(f"{path.name} is nested too deeply.") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SubmissionError(f"{path.name} is not valid TOML ({exc}). Compare it with the template: every "
                                  'answer is in double quotes, e.g. answer = "3/2".') from None
        except RecursionError:
            raise SubmissionError(f"{path.name} is nested too deeply.") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{path.name} must hold one table per exercise, as in the template.")
    return data


def _entry(value) -> tuple[str | None, str | None, str | None]:
    """(answer, derivation, problem) of one part's entry."""
    derivation = None
    if isinstance(value, dict):
        derivation = value.get("derivation")
        if derivation is not None and not isinstance(derivation, str):
            return None, None, "`derivation` must be text in quotes."
        if "answer" not in value:
            return None, derivation, "This part has no `answer` entry."
        value = value["answer"]
    if isinstance(value, bool):
        return None, derivation, "The answer must be text in quotes, not true/false."
    if isinstance(value, int):
        return str(value), derivation, None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, derivation, "The answer must be a finite number."
        return repr(value), derivation, None
    if not isinstance(value, str):
        return None, derivation, "The answer must be text in quotes, e.g. answer = \"3/2\"."
    return value, derivation, None


def _entries(data: dict, config: dict) -> tuple[dict, list[str]]:
    """(exercise, part) -> (answer, derivation, problem), and the keys that were ignored."""
    exercises = config["exercises"]
    ids = {ex["id"] for ex in exercises}
    ignored = [str(k)[:40] for k in data if k not in ids]
    flat = len(exercises) == 1 and exercises[0]["id"] not in data
    out: dict[tuple[str, str], tuple] = {}
    for ex in exercises:
        table = data if flat else data.get(ex["id"], {})
        if not isinstance(table, dict):
            problem = f"[{ex['id']}] must be a table with one entry per part, as in the template."
            for p in ex["parts"]:
                out[(ex["id"], p["name"])] = (None, None, problem)
            continue
        if flat:
            ignored = [k for k in ignored if k not in {p["name"] for p in ex["parts"]}]
        else:
            ignored += [f"{ex['id']}.{str(k)[:40]}" for k in table if k not in {p["name"] for p in ex["parts"]}]
        for p in ex["parts"]:
            out[(ex["id"], p["name"])] = _entry(table[p["name"]]) if p["name"] in table else (None, None, None)
    return out, ignored


def _student_seed(root: Path, students: list[str]) -> tuple[int | None, str | None]:
    """The roster seed of the submitter (Gradescope's submission_metadata.json), else a message."""
    from convexproof.library.roster import roster_seed

    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        users = meta.get("users") or []
    except (OSError, ValueError, AttributeError):
        return None, "The submission has no readable submission_metadata.json, so your variant is unknown."
    by_key = {s.strip().lower(): s for s in students}
    for u in users if isinstance(users, list) else []:
        if not isinstance(u, dict):
            continue
        for field in ("email", "sid", "student_id", "id", "name"):
            v = u.get(field)
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip().lower() in by_key:
                return roster_seed(by_key[str(v).strip().lower()]), None
    return None, ("You are not on the course roster this autograder was built with, so your variant is unknown; "
                  "tell your teacher.")


def grade_submission(root: Path, config: dict) -> dict[str, Any]:
    """results.json for the submission under ``root`` (never raises for a bad submission)."""
    from convexproof.library import load_exercise
    from convexproof.platforms.common import feedback_text, grade_part

    source = root / "source"
    exercises_dir = source / "exercises" if (source / "exercises").is_dir() else None
    problem = None
    seed = config.get("seed")
    if config.get("roster"):
        seed, problem = _student_seed(root, config["roster"])
    entries, ignored = {}, []
    if problem is None:
        try:
            data = read_submission(find_answers_file(root / "submission"))
            entries, ignored = _entries(data, config)
        except SubmissionError as exc:
            problem = str(exc)
    tests, parts_extra = [], []
    for i, exc_cfg in enumerate(config["exercises"], start=1):
        ex, ex_problem = None, None
        if problem is None:
            try:
                ex = load_exercise(exc_cfg["id"], seed=seed, exercises_dir=exercises_dir)
            except ConvexproofError as err:
                ex_problem = f"This exercise could not be loaded ({err.one_line()}); your teacher will review it."
        for j, p in enumerate(exc_cfg["parts"], start=1):
            answer, derivation, entry_problem = entries.get((exc_cfg["id"], p["name"]), (None, None, None))
            g = {"status": "invalid", "score": 0.0, "note": None, "read_as": None}
            if problem is not None:
                output = problem
                g["status"] = "invalid-file"
            elif ex_problem is not None:
                output, g["status"] = ex_problem, "error"
            elif entry_problem is not None:
                output = entry_problem
            elif answer is None:
                output, g["status"] = f"No answer: the answers file has no entry [{exc_cfg['id']}.{p['name']}].", \
                    "unanswered"
            else:
                part = ex.parts.get(p["name"])
                if part is None:
                    output, g["status"] = "This part is not in the exercise any more; your teacher will review it.", \
                        "error"
                else:
                    g = grade_part(exc_cfg["id"], part, answer, seed, exercises_dir)
                    output = feedback_text(g)
            if derivation and derivation.strip():
                output += (f"\nYour derivation ({len(derivation.split())} words) was received; it is not graded "
                           "automatically.")
            score = min(float(g.get("score") or 0.0), float(p["points"]))
            tests.append({"name": f"{exc_cfg['id']}: {p['name']}", "number": f"{i}.{j}", "score": score,
                          "max_score": float(p["points"]),
                          "status": "passed" if g["status"] == "correct" else "failed",
                          "output": output, "output_format": "text",
                          "tags": [exc_cfg["id"], p["name"]],
                          "extra_data": {"exercise": exc_cfg["id"], "part": p["name"], "status": g["status"],
                                         "note": g.get("note")}})
            parts_extra.append({"exercise": exc_cfg["id"], "part": p["name"], "status": g["status"],
                                "note": g.get("note"), "score": score, "max_score": float(p["points"])})
    total = sum(t["score"] for t in tests)
    possible = sum(t["max_score"] for t in tests)
    summary = [f"convexproof: {_num(total)} of {_num(possible)} points."]
    if problem is not None:
        summary.append(problem)
    if ignored:
        summary.append("Ignored entries of the answers file (no such exercise or part): " + ", ".join(ignored[:10]))
    return {
        "score": total,
        "output": "\n".join(summary),
        "visibility": config.get("visibility", "visible"),
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"convexproof": {
            "version": config.get("convexproof_version"),
            "seed": seed,
            "parts": parts_extra,
            "notes": [x["note"] for x in parts_extra if x["note"]],
        }},
    }


def _num(x: float) -> str:
    return f"{x:g}"


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run(root: str | os.PathLike | None = None) -> int:
    """Grade the submission under ``root`` (default ``$CONVEXPROOF_AUTOGRADER_ROOT`` or /autograder)."""
    root = Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    results = root / "results" / "results.json"
    try:
        config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _write_json(results, {"score": 0.0, "output": f"The autograder is incomplete ({CONFIG_NAME}: {exc}); "
                              "tell your teacher.", "tests": []})
        return 0
    try:
        data = grade_submission(root, config)
    except BaseException as exc:  # never crash: every part 0 with a message
        data = _fallback_results(config)
        data["output"] = (f"The autograder failed ({type(exc).__name__}); your submission is kept and your teacher "
                          "will review it.")
        for t in data["tests"]:
            t["output"] = data["output"]
        if isinstance(exc, KeyboardInterrupt):
            _write_json(results, data)
            raise
    _write_json(results, data)
    return 0


def main() -> None:
    try:
        code = run()
    except Exception as exc:  # pragma: no cover - last resort; run_autograder copies the fallback
        print(f"convexproof autograder: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
