"""``convexproof selftest``: every exercise's self-tests, and every seeded variant solved.

For each exercise:

1. the canonical variant is solved under the time limit (a failure is reported);
2. when it solves, each ``[[selftests]]`` answer is checked with
   :func:`convexproof.grading.checking.check` and must get its expected status, and
   the solution's own answer to every part must be accepted;
3. the exercise is solved for seeds 1..N; a variant that raises, or whose
   answers are undefined (nan, zoo, infinite) is a failure.  Variants with the
   same parameter values are solved once.

Returns True when nothing failed.  ``echo`` receives one line per exercise
and one per failure.
"""

from __future__ import annotations

import time
from typing import Callable

from convexproof.runtime.errors import ConvexproofError


def _bad_value(v) -> bool:
    import sympy as sp

    if isinstance(v, str):
        return not v.strip()
    if isinstance(v, (sp.Basic, sp.MatrixBase)):
        atoms = v.atoms() if isinstance(v, sp.Basic) else set().union(*(e.atoms() for e in v))
        return any(a in (sp.nan, sp.zoo, sp.oo, -sp.oo) for a in atoms)
    return v is None


def _own_answer_text(v) -> str:
    """An answer as a student would type it (the JSON text of the solution's answer)."""
    from convexproof.steps import to_jsonable

    import sympy as sp

    if isinstance(v, sp.MatrixBase):
        return "[" + ", ".join("[" + ", ".join(sp.sstr(c) for c in v.row(i)) + "]" for i in range(v.rows)) + "]"
    if isinstance(v, sp.logic.boolalg.And):
        return " and ".join(sp.sstr(a) for a in v.args)
    text = to_jsonable(v)
    return text if isinstance(text, str) else str(text)


def _own_answers(ex) -> dict[str, str]:
    """The canonical solution's answers, as a student would type them (run in a child process)."""
    from convexproof.solvers import solve

    return {part: _own_answer_text(v) for part, v in solve(ex).answers.items()}


def _variant_report(var) -> tuple[str, str]:
    """Solve one variant: (what is wrong with it or "", a fingerprint of its solution)."""
    from convexproof.solvers import solve

    s = solve(var)
    bad = [p for p, v in s.answers.items() if _bad_value(v)]
    missing = [p for p in var.parts if p not in s.answers]
    if bad:
        return f"degenerate answer for {', '.join(bad)}", ""
    if missing:
        return f"no answer for {', '.join(missing)}", ""
    return "", repr((sorted(s.answers_text().items()), [st.to_dict() for st in s.steps]))


def _dead_mistake(check, exercise: str, seed, m, exercises_dir) -> str:
    """Why a ``[[mistakes]]`` entry can never fire in this variant, or "" when it fires with its own note."""
    try:
        r = check(exercise, m.answer, part=m.part, seed=seed, exercises_dir=exercises_dir)
    except ConvexproofError as exc:
        return f"cannot be checked ({exc.one_line()})"
    if r.status == "correct":
        return "it is the correct answer, so it can never fire"
    if r.status == "invalid":
        return f"it cannot be read as an answer ({r.feedback}), so it can never fire"
    if r.note != m.note:
        return f"it never fires: that answer gets {r.status} with note {r.note or 'none'}"
    return ""


def run_selftests(exercise_ids: list[str], seeds: int = 50, exercises_dir=None,
                  echo: Callable[[str], None] = print, check_own: bool = True,
                  unreadable: list[str] | None = None) -> bool:
    from convexproof.library import instantiate, list_exercises, load_exercise
    from convexproof.runtime.limits import run_limited, solve_timeout

    limit = solve_timeout()  # every solve runs in a child process under this time limit

    try:
        from convexproof.grading.checking import check, warm
    except ImportError as exc:  # grading engine broken: the seeds part still runs, the run fails
        check = None
        echo(f"cannot import convexproof.grading.checking ({exc}); self-tests not run")

    if exercise_ids:
        exercises = [load_exercise(e, exercises_dir=exercises_dir) for e in exercise_ids]
    else:
        # with ``unreadable``, a file that cannot be read is reported there and the others still run
        exercises = list_exercises(exercises_dir, errors=unreadable)
    ok = check is not None
    total_t0 = time.perf_counter()
    n_tests = n_variants = 0
    for base in exercises:
        t0 = time.perf_counter()
        failures: list[str] = []
        ex = instantiate(base, None)
        # 1. the canonical solution, solved under the time limit, and its own answers
        try:
            own = run_limited(_own_answers, ex, timeout=limit, what=f"solving {ex.id}")
        except ConvexproofError as exc:
            failures.append(f"canonical variant does not solve: {exc.one_line()}")
            own = None
        except Exception as exc:  # a solver bug: report, never crash the run
            failures.append(f"canonical variant crashed: {type(exc).__name__}: {exc}")
            own = None
        if own is not None and check is not None:
            warm(ex.id, None, exercises_dir)  # known to solve in time: reuse it for every check below
            # 2. the file's self-tests
            for i, t in enumerate(ex.selftests):
                n_tests += 1
                try:
                    r = check(ex.id, t.answer, part=t.part, exercises_dir=exercises_dir)
                    status = r.status
                except ConvexproofError as exc:
                    status = f"error ({exc.one_line()})"
                if status != t.expect:
                    failures.append(f"selftest {i + 1} (part {t.part}, answer {t.answer!r}): expected {t.expect}, "
                                    f"got {status}")
            # authoring checks: a mistake entry must be readable, wrong, and give its own note
            for i, m in enumerate(ex.mistakes):
                n_tests += 1
                why = _dead_mistake(check, ex.id, None, m, exercises_dir)
                if why:
                    failures.append(f"mistake {i + 1} (part {m.part}, answer {m.answer!r}, note {m.note}): {why}")
            for part, text in (own.items() if check_own else ()):
                n_tests += 1
                try:
                    status = check(ex.id, text, part=part, exercises_dir=exercises_dir).status
                except ConvexproofError as exc:
                    status = f"error ({exc.one_line()})"
                if status != "correct":
                    failures.append(f"own answer to part {part} ({text!r}) is {status}")
        # 3. seeded variants
        seen: dict[tuple, str] = {}
        distinct = set()
        for seed in range(1, seeds + 1):
            var = instantiate(base, seed)
            key = tuple(sorted((k, str(v)) for k, v in var.values.items()))
            if key in seen:
                if seen[key]:
                    failures.append(f"seed {seed}: {seen[key]}")
                continue
            n_variants += 1
            problem = ""
            try:
                problem, fingerprint = run_limited(_variant_report, var, timeout=limit,
                                                   what=f"solving {var.id} with seed {seed}")
                if problem:
                    problem += f" (values {dict(key)})"
                else:
                    distinct.add(fingerprint)
            except ConvexproofError as exc:
                problem = f"error: {exc.one_line()} (values {dict(key)})"
            except Exception as exc:
                problem = f"crash: {type(exc).__name__}: {exc} (values {dict(key)})"
            if not problem and check is not None:
                for i, m in enumerate(var.mistakes):
                    try:
                        r = check(var.id, m.answer, part=m.part, seed=seed, exercises_dir=exercises_dir)
                    except ConvexproofError:
                        continue
                    if r.status == "correct":
                        problem = (f"mistake {i + 1} (note {m.note}, answer {m.answer!r}) is the correct answer in this "
                                   f"variant, so it can never fire (values {dict(key)})")
                        break
            seen[key] = problem
            if problem:
                failures.append(f"seed {seed}: {problem}")
        varying = any(len(p.choices) > 1 for p in base.params.values())
        if seeds >= 5 and varying and len(distinct) < 2:
            failures.append("all seeded variants have the same solution")
        dt = time.perf_counter() - t0
        status = "ok" if not failures else "FAIL"
        echo(f"{base.id}: {status} ({len(ex.selftests)} self-tests, {len(seen)} distinct variants for seeds 1-{seeds}, "
             f"{len(distinct)} distinct solutions, {dt:.1f} s)")
        for f in failures:
            echo(f"  {base.id}: {f}")
        ok = ok and not failures
    echo(f"{'all passed' if ok else 'FAILURES'}: {len(exercises)} exercises, {n_tests} checks, {n_variants} variants "
         f"solved in {time.perf_counter() - total_t0:.1f} s")
    return ok
