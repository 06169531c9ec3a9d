"""Batch grading: ``convexproof grade --answers FILE.csv``.

Input: a CSV with a header naming the columns ``student, exercise, part,
answer`` and optionally ``seed`` (any order, case and surrounding spaces
ignored; other columns are ignored).  A file without a header is read in that
order.  The file must be UTF-8 (with or without a BOM) or UTF-16 with a BOM,
with any line ends; anything else (a Latin-1 or Windows-1252 byte) is refused
as a whole, naming the line and the byte, never guessed.  One line is one
row: a quoted field cannot span lines, so an unclosed quote makes only its
own line invalid.  The file is read with a size cap that also holds for
pipes and devices (:mod:`convexproof.runtime.safeio`).

Output: one row per data line (``student, exercise, part, answer, status,
score, feedback, note, line``), in input order, ``line`` being the line
number in the input file, and a summary (counts per status and
per mistake note, per-student totals).  ``csv`` and ``json`` hold the rows
only (JSON is a list of row objects) and the CLI prints the summary on
standard error; ``md`` has the rows and the summary.

A bad row (wrong number of fields, empty answer, unknown exercise or part, an
answer that cannot be read, a bad seed, or one that runs over the per-row time
limit, a control or invisible character such as a mid-file byte-order mark in
the student, exercise or part field) is graded ``invalid`` with the reason as
feedback; it never stops the batch.  Every cell of the CSV output is
neutralised against spreadsheet formulas, and control characters are shown
as escapes (``\\x1b``) in every format.  Identical answers are checked once.  Large batches run in worker
processes (all cores by default); each worker keeps the exercises and
solutions it has loaded, and each row runs under a time limit.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from convexproof.runtime import limits as _limits
from convexproof.runtime.errors import ConvexproofError
from convexproof.runtime.safeio import decode  # noqa: F401 - the CSV text decoder lives with the other input readers

COLUMNS = ("student", "exercise", "part", "answer", "seed")
OUTPUT_COLUMNS = ("student", "exercise", "part", "answer", "status", "score", "feedback", "note", "line")
MAX_FILE_BYTES = 50_000_000
MAX_ROWS = 200_000
ROW_TIMEOUT = _limits.ROW_TIMEOUT  # seconds for checking one answer (convexproof/limits.py DEFAULTS["row_timeout"])
PARALLEL_THRESHOLD = 24  # fewer distinct answers than this are checked in-process


@dataclass
class Row:
    line: int
    student: str = ""
    exercise: str = ""
    part: str = ""
    answer: str = ""
    seed: int | None = None
    error: str | None = None  # a reason the row cannot be graded

    def key(self) -> tuple:
        return (self.exercise, self.seed if self.seed is not None else -1, self.part, self.answer)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
def read_rows(path) -> list[Row]:
    from convexproof.runtime.safeio import read_input
    from convexproof.runtime.safetext import terminal_safe

    name = terminal_safe(str(path))[:200]
    raw = read_input(path, cap=MAX_FILE_BYTES, label=name)
    return parse_rows(decode(raw, name), name=name)


_ID_FIELDS = ("student", "exercise", "part")


def parse_rows(text: str, name: str = "answers") -> list[Row]:
    """One :class:`Row` per data line, in order, each with its line number.

    The file is read line by line.  A quoted field may span lines (a
    derivation, one claim per line) when it closes within MAX_CELL_LINES lines
    and the record then has the header's fields; otherwise an unclosed quote
    makes its own line an invalid row and never swallows the lines after it.
    Blank lines are skipped; every other line after the header becomes exactly
    one row (a multi-line record is one row, numbered by its first line).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    header: list[str] | None = None
    rows: list[Row] = []
    lines = text.split("\n")
    skip_to = 0
    for line, physical in enumerate(lines, start=1):
        if line <= skip_to:
            continue  # a continuation line of a multi-line quoted cell, already read
        if not physical.strip():
            continue  # blank line
        try:
            fields = next(csv.reader([physical], strict=True))
        except csv.Error as exc:
            block = _quoted_block(lines, line, header) if header is not None and "unexpected end" in str(exc) else None
            if block is not None:  # a quoted cell over several lines (a derivation): one row, its first line
                fields, skip_to = block
                rows.append(_row(fields, header, line))
                _check_count(rows, name)
                continue
            reason = ("a quoted field is never closed (a quoted cell may span lines only when it closes and the "
                      "row is complete)"
                      if "unexpected end" in str(exc) else f"cannot read this line ({exc})")
            if header is None:
                raise ConvexproofError(f"{name}: line {line}: cannot read the header: {reason}") from None
            # the row is invalid, but it keeps what can be read of it, so that the teacher sees whose it is
            seen = dict(zip(header, next(csv.reader([physical], strict=False), [])))
            rows.append(Row(line, student=seen.get("student", "").strip(), exercise=seen.get("exercise", "").strip(),
                            part=seen.get("part", "").strip(), answer=seen.get("answer", "").strip(),
                            error=f"line {line}: {reason}"))
            _check_count(rows, name)
            continue
        if not any(f.strip() for f in fields):
            continue  # a line of empty fields
        if header is None:
            names = [f.strip().strip("\ufeff").lower() for f in fields]
            if "answer" in names or "exercise" in names:
                header = names
                missing = [c for c in ("exercise", "answer") if c not in header]
                if missing:
                    raise ConvexproofError(f"{name}: the header has no column {', '.join(missing)}; "
                                           f"expected student,exercise,part,answer[,seed]")
                continue
            if len(fields) in (4, 5):
                header = list(COLUMNS[: len(fields)])
            else:
                raise ConvexproofError(f"{name}: line {line}: expected a header student,exercise,part,answer[,seed]")
        try:
            rows.append(_row(fields, header, line))
        except Exception as exc:  # noqa: BLE001 - a bug in reading one row must not lose the others
            rows.append(Row(line, error=f"line {line}: internal error reading this row ({type(exc).__name__}); "
                                        f"please report this"))
        _check_count(rows, name)
    return rows


MAX_CELL_LINES = 60  # a quoted cell may span this many lines (a derivation of up to 60 lines)


def _quoted_block(lines: list[str], first: int, header: list[str]) -> tuple[list[str], int] | None:
    """A record whose quoted cell spans lines first..k, as (fields, k), or None.

    It must close within MAX_CELL_LINES lines, read strictly as CSV, and have
    the header's number of fields; a continuation line that reads on its own
    as a complete row ends the search (an unclosed quote never swallows rows).
    """
    for k in range(first + 1, min(first + MAX_CELL_LINES, len(lines)) + 1):
        nxt = lines[k - 1]
        if '"' not in nxt:
            try:
                alone = next(csv.reader([nxt], strict=True), [])
            except csv.Error:
                alone = []
            if len(alone) == len(header) and all(f.strip() for f in alone[:2]):
                return None  # looks like a row of its own
            continue
        try:
            recs = list(csv.reader(["\n".join(lines[first - 1:k])], strict=True))
        except csv.Error:
            continue
        if len(recs) == 1 and len(recs[0]) == len(header):
            return recs[0], k
        return None
    return None


def _check_count(rows: list[Row], name: str) -> None:
    if len(rows) > MAX_ROWS:
        raise ConvexproofError(f"{name}: more than {MAX_ROWS} rows")


_SEED_RE = re.compile(r"[0-9]{1,18}")


def _row(fields: list[str], header: list[str], line: int) -> Row:
    from convexproof.runtime.safetext import bad_id_char

    values = dict(zip(header, fields))
    row = Row(line, student=values.get("student", "").strip(), exercise=values.get("exercise", "").strip(),
              part=values.get("part", "").strip(), answer=values.get("answer", "").strip())
    if len(fields) != len(header):
        extra = fields[len(header):]
        absent = header[len(fields):]
        if not (all(not f.strip() for f in extra) and all(c not in ("exercise", "answer") for c in absent)):
            row.error = (f"the row has {len(fields)} fields, the header has {len(header)}"
                         + (" (quote answers that contain commas)" if len(fields) > len(header) else ""))
            return row
    for fld in _ID_FIELDS:
        bad = bad_id_char(getattr(row, fld))
        if bad:
            row.error = f"line {line}: the {fld} field holds {bad}"
            return row
    seed = values.get("seed", "").strip()
    if seed:
        if not _SEED_RE.fullmatch(seed):  # ASCII digits only: '²' and '٣' pass str.isdigit() but not int()
            row.error = f"seed {seed[:20]!r} is not a non-negative integer"
            return row
        row.seed = int(seed)
    if not row.exercise:
        row.error = "no exercise given"
    elif not row.answer:
        row.error = "empty answer"
    return row


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------
def _invalid(reason: str) -> dict:
    return {"status": "invalid", "score": 0.0, "feedback": reason, "note": None, "part": None}


def _timed_out(reason: str) -> dict:
    """A row that ran over its time limit: not a grade.  Status "undecided" (score 0, for the teacher to review);
    ``timed_out`` asks :func:`grade_rows` to retry it once alone, without the pool's contention."""
    return {"status": "undecided", "score": 0.0, "feedback": reason, "note": "timed-out", "part": None,
            "timed_out": True}


class _RowAlarm(BaseException):
    """Raised by the per-row SIGALRM timer (a BaseException: SymPy's ``except Exception`` cannot swallow it)."""


@contextmanager
def _row_alarm(seconds: float):
    """A hard per-row limit in the main thread of a POSIX process (each grade worker).

    Forking a child per row (what ``check`` does on its own) costs ~20 ms of
    copy-on-write per row in a worker that has solved many exercises, and
    loses the worker's caches; a timer signal interrupts the pure-Python SymPy
    work just as well.  The cooperative deadline inside ``check`` and the
    parent's per-chunk limit are the other two layers.
    """
    import signal

    old = signal.signal(signal.SIGALRM, _raise_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _raise_alarm(signum, frame):
    raise _RowAlarm()


def _can_alarm() -> bool:
    import signal
    import threading

    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_UNSOLVED: dict[tuple, str] = {}  # variants whose solving ran over the limit, in this worker


def check_key(key: tuple, exercises_dir=None, timeout: float = ROW_TIMEOUT) -> dict:
    """Check one distinct answer; every failure becomes an invalid result (never raises)."""
    from convexproof.grading.checking import check
    from convexproof.runtime.errors import AnalysisTimeout

    exercise, seed, part, answer, *rest = key
    given = dict(rest[0]) if rest and rest[0] else None
    alarm = _can_alarm()
    try:
        if alarm:
            # loading and solving the exercise (cached per worker) gets the solving limit;
            # a variant that ran over it is not tried again for its other rows
            from convexproof.grading.checking import _context
            from convexproof.runtime.limits import solve_timeout

            variant = (exercise, seed, str(exercises_dir))
            if variant in _UNSOLVED:
                return _timed_out(_UNSOLVED[variant])
            try:
                with _row_alarm(solve_timeout()):
                    _context(exercise, None if seed == -1 else seed, exercises_dir)
            except _RowAlarm:
                _UNSOLVED[variant] = f"timed out: the exercise could not be solved within {solve_timeout():g} s"
                return _timed_out(_UNSOLVED[variant])
            with _row_alarm(timeout + 1):
                r = check(exercise, answer, part=part or None, seed=None if seed == -1 else seed,
                          exercises_dir=exercises_dir, timeout=timeout, isolate=False, given=given)
        else:  # not the main thread: check() isolates the answer in a child process instead
            r = check(exercise, answer, part=part or None, seed=None if seed == -1 else seed,
                      exercises_dir=exercises_dir, timeout=timeout, given=given)
        if getattr(r, "method", None) == "timed-out":  # check() ran out of time: not a grade
            return {**_timed_out(r.feedback), "part": r.part}
        return {"status": r.status, "score": r.score, "feedback": r.feedback, "note": r.note, "part": r.part}
    except _RowAlarm:
        return _timed_out(f"timed out: checking this answer took longer than {timeout:g} s")
    except AnalysisTimeout as exc:
        return _timed_out(f"timed out: {exc.one_line()}")
    except ConvexproofError as exc:
        return _invalid(exc.one_line())
    except (RecursionError, MemoryError, OverflowError):
        return _invalid("the answer is too complex to check")
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the batch
        return _invalid(f"internal error ({type(exc).__name__}); please report this")


def _check_chunk(args) -> list[tuple[tuple, dict]]:
    keys, exercises_dir, timeout = args
    return [(k, check_key(k, exercises_dir, timeout)) for k in keys]


def grade_rows(rows: list[Row], jobs: int | None = None, exercises_dir=None,
               timeout: float = ROW_TIMEOUT) -> list[dict]:
    """One output row (dict with OUTPUT_COLUMNS) per input row, in order."""
    rowkey = _keys_with_given(rows, exercises_dir)
    keys = sorted({rowkey[id(r)] for r in rows if r.error is None}, key=lambda k: (k[0], k[1], k[2], k[3], k[4]))
    done: dict[tuple, dict] = {}
    ncpu = os.cpu_count() or 1
    jobs = max(1, min(jobs or ncpu, 64))
    if jobs == 1 or len(keys) < PARALLEL_THRESHOLD:
        done = _serial(keys, exercises_dir, timeout)
    else:
        done = _parallel(keys, jobs, exercises_dir, timeout)
    retry = [k for k in keys if done[k].get("timed_out")]
    if retry:  # under the pool's contention a heavy but correct answer can run over: once more, alone
        done.update(_retry_alone(retry, exercises_dir, timeout))
    from convexproof.runtime.safetext import terminal_safe as shown  # no escape sequence from a CSV reaches a terminal

    out = []
    for r in rows:
        res = _invalid(r.error) if r.error is not None else done[rowkey[id(r)]]
        out.append({"student": shown(r.student), "exercise": shown(r.exercise), "part": shown(res.get("part") or r.part),
                    "answer": shown(r.answer), "status": res["status"], "score": res["score"],
                    "feedback": shown(res["feedback"]), "note": shown(res["note"]) if res["note"] else res["note"],
                    "line": r.line})
    return out


def _keys_with_given(rows: list[Row], exercises_dir) -> dict[int, tuple]:
    """Each row's key: (exercise, seed, part, answer, given), where ``given`` holds the same student's answer
    to the part this one ``follows`` (error carried forward), so that it is judged against their own work."""
    from convexproof.library import load_exercise

    follows: dict[tuple, str] = {}
    for ex_id, part in {(r.exercise, r.part) for r in rows if r.error is None}:
        try:
            follows[(ex_id, part)] = load_exercise(ex_id, exercises_dir=exercises_dir).part(part or None).follows or ""
        except Exception:  # noqa: BLE001 - an unknown exercise or part is reported by its own row
            follows[(ex_id, part)] = ""
    answers = {(r.student, r.exercise, r.seed, r.part): r.answer for r in rows if r.error is None}
    out = {}
    for r in rows:
        src = follows.get((r.exercise, r.part), "")
        mine = answers.get((r.student, r.exercise, r.seed, src)) if src else None
        out[id(r)] = (*r.key(), ((src, mine),) if mine else ())
    return out


def _serial(keys: list[tuple], exercises_dir, timeout: float) -> dict[tuple, dict]:
    """A small batch, checked one row after the other in one hard-limited child (memory cap, dies with us).

    The per-row timer signal cannot interrupt a call that stays in C; the
    child's hard limit (the pool's per-chunk budget) still ends it, and its
    rows are then retried alone like any other time-out.
    """
    from convexproof.grading.checking import _CONTEXTS, adopt
    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import run_limited, solve_timeout

    if not keys:
        return {}
    budget = len({k[:2] for k in keys}) * solve_timeout() + len(keys) * (timeout + 2) + 10
    try:
        results, solved = run_limited(_check_serial, keys, exercises_dir, timeout, set(_CONTEXTS), timeout=budget,
                                      what="grading")
        adopt(solved)  # the variants the child solved are kept here, as when grading ran in this process
        return dict(results)
    except AnalysisTimeout:
        return {k: _timed_out(f"timed out: grading was stopped after {budget:g} s") for k in keys}
    except (ConvexproofError, MemoryError, RecursionError) as exc:
        return {k: _timed_out(f"timed out: grading stopped ({type(exc).__name__})") for k in keys}


def _check_serial(keys, exercises_dir, timeout, known: set):  # in a limited child
    from convexproof.grading.checking import solved_since

    return _check_chunk((keys, exercises_dir, timeout)), solved_since(known)


def _check_alone(keys, exercises_dir, timeout) -> list[tuple[tuple, dict]]:  # in a limited child
    _UNSOLVED.clear()  # the retry gets the full solving limit too
    return _check_chunk((keys, exercises_dir, timeout))


def _retry_alone(keys: list[tuple], exercises_dir, timeout: float) -> dict[tuple, dict]:
    """Rows that timed out, checked once more one variant at a time in a hard-limited child (no other work).

    A row that runs over again stays "undecided" (score 0) with the reason, for the teacher to review.
    """
    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import run_limited, solve_timeout

    twice = (f"timed out twice: checking this answer took longer than {timeout:g} s, also when retried alone; "
             "it was not graded, a teacher should review it")
    groups: dict[tuple, list[tuple]] = {}
    for k in keys:
        groups.setdefault(k[:2], []).append(k)
    out: dict[tuple, dict] = {}
    for group in groups.values():
        try:
            results = run_limited(_check_alone, group, exercises_dir, timeout,
                                  timeout=solve_timeout() + len(group) * (timeout + 2), what="the retry")
        except AnalysisTimeout:
            results = [(k, _timed_out(twice)) for k in group]
        except (ConvexproofError, MemoryError, RecursionError) as exc:
            results = [(k, _timed_out(f"{twice} ({type(exc).__name__})")) for k in group]
        for k, v in results:
            if v.get("timed_out"):
                v = {**_timed_out(twice if v["feedback"].startswith("timed out: checking") else
                                  f"{v['feedback']} (also when retried alone); a teacher should review it"),
                     "part": v.get("part")}
            v.pop("timed_out", None)
            out[k] = v
    return out


def _worker_init(parent_pid: int) -> None:
    """A grade worker dies with the parent, quietly on SIGTERM (no traceback), ignores Ctrl-C (the parent
    stops the pool), and has the same memory cap as every limited child."""
    import signal

    from convexproof.runtime.limits import cap_memory, die_with_parent, memory_mb

    die_with_parent(parent_pid)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by _parallel around the fork (see there)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    cap_memory(memory_mb())


def _parallel(keys: list[tuple], jobs: int, exercises_dir, timeout: float) -> dict[tuple, dict]:
    import multiprocessing as mp

    from convexproof.grading import checking as _check_module  # noqa: F401 - imported once here, inherited by forked workers
    from convexproof.solvers import known_kinds

    known_kinds()  # the solver modules too
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # no fork (Windows, macOS default): spawn works too, just slower to start
        ctx = mp.get_context("spawn")
    # one chunk per exercise variant (split when large), so that each variant is
    # loaded and solved by one worker; the largest chunks go first
    groups: dict[tuple, list[tuple]] = {}
    for k in keys:
        groups.setdefault(k[:2], []).append(k)
    size = max(8, -(-len(keys) // (jobs * 4)))
    chunks = [g[i:i + size] for g in groups.values() for i in range(0, len(g), size)]
    chunks.sort(key=len, reverse=True)
    done: dict[tuple, dict] = {}
    import signal

    # SIGTERM stays blocked while the workers are forked, so that none of them runs the CLI's SIGTERM handler
    # (a traceback) before _worker_init restores the default; the parent gets it right after
    mask = hasattr(signal, "pthread_sigmask")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if mask else None
    try:
        pool = ctx.Pool(jobs, initializer=_worker_init, initargs=(os.getpid(),))
    except (OSError, AssertionError, ValueError):  # no processes here (a daemon, a sandbox): check serially
        return {k: check_key(k, exercises_dir, timeout) for k in keys}
    finally:
        if mask:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    try:
        pending = [(c, pool.apply_async(_check_chunk, ((c, exercises_dir, timeout),))) for c in chunks]
        for chunk, res in pending:
            try:
                for k, v in res.get(timeout=len(chunk) * (timeout + 2) + 120):
                    done[k] = v
            except mp.TimeoutError:
                for k in chunk:
                    done.setdefault(k, _timed_out("timed out (the worker was stopped)"))
            except Exception as exc:  # noqa: BLE001 - a crashed worker: the rows are invalid, the batch goes on
                for k in chunk:
                    done.setdefault(k, _invalid(f"internal error ({type(exc).__name__}); please report this"))
    finally:
        pool.terminate()
        pool.join()
    return done


# --------------------------------------------------------------------------
# Summary and output
# --------------------------------------------------------------------------
def summarize(results: list[dict]) -> dict[str, Any]:
    status = Counter({"correct": 0, "incorrect": 0, "invalid": 0})  # and "undecided" when there are such rows
    notes: Counter = Counter()
    students: "OrderedDict[str, dict]" = OrderedDict()
    for r in results:
        status[r["status"]] += 1
        if r["note"] and r["status"] != "undecided":  # a time-out is not a mistake
            notes[r["note"]] += 1
        s = students.setdefault(r["student"], {"rows": 0, "correct": 0, "incorrect": 0, "invalid": 0, "score": 0.0})
        s["rows"] += 1
        s[r["status"]] = s.get(r["status"], 0) + 1
        s["score"] += float(r["score"])
    return {"rows": len(results), "status": dict(status), "notes": dict(notes.most_common()),
            "students": dict(students)}


def summary_text(summary: dict, max_students: int = 30) -> str:
    st = summary["status"]
    lines = [f"graded {summary['rows']} rows: {st.get('correct', 0)} correct, {st.get('incorrect', 0)} incorrect, "
             f"{st.get('invalid', 0)} invalid"
             + (f", {st['undecided']} undecided (not graded: a teacher should review them)" if st.get("undecided")
                else "")]
    if summary["notes"]:
        lines.append("mistakes: " + ", ".join(f"{k} {v}" for k, v in summary["notes"].items()))
    items = list(summary["students"].items())
    for name, s in items[:max_students]:
        lines.append(f"  {name or '(no name)'}: {_num(s['score'])}/{s['rows']} "
                     f"({s['correct']} correct, {s['incorrect']} incorrect, {s['invalid']} invalid"
                     + (f", {s['undecided']} undecided" if s.get("undecided") else "") + ")")
    if len(items) > max_students:
        lines.append(f"  ... and {len(items) - max_students} more students (all are in --format md)")
    return "\n".join(lines)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def to_csv(results: list[dict]) -> str:
    """The rows as CSV; no cell (student, exercise, part, answer, feedback ...) runs as a spreadsheet formula."""
    from convexproof.runtime.safetext import csv_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OUTPUT_COLUMNS)
    for r in results:
        w.writerow([csv_cell(c) for c in (r["student"], r["exercise"], r["part"], r["answer"], r["status"],
                                          _num(r["score"]), r["feedback"], r["note"] or "", r.get("line", ""))])
    return buf.getvalue()


def to_json(results: list[dict]) -> str:
    return json.dumps(results, ensure_ascii=False, indent=2) + "\n"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#{}!~"})


def md_escape(text: str) -> str:
    return " ".join(str(text).split()).translate(_MD_SPECIAL)


def to_md(results: list[dict], summary: dict) -> str:
    st = summary["status"]
    out = ["# Grading report", "",
           f"{summary['rows']} answers: {st.get('correct', 0)} correct, {st.get('incorrect', 0)} incorrect, "
           f"{st.get('invalid', 0)} invalid"
           + (f", **{st['undecided']} undecided** (not graded: timed out or not decidable automatically; "
              f"a teacher should review them)" if st.get("undecided") else "") + ".", "", "## Answers", "",
           "| " + " | ".join(OUTPUT_COLUMNS) + " |", "|" + "---|" * len(OUTPUT_COLUMNS)]
    for r in results:
        cells = [r["student"], r["exercise"], r["part"], r["answer"], r["status"], _num(r["score"]), r["feedback"],
                 r["note"] or "", r.get("line", "")]
        out.append("| " + " | ".join(md_escape(c) for c in cells) + " |")
    out += ["", "## Mistakes", ""]
    if summary["notes"]:
        out += ["| note | count |", "|---|---|"] + [f"| {md_escape(k)} | {v} |" for k, v in summary["notes"].items()]
    else:
        out.append("No known mistakes.")
    out += ["", "## Students", "", "| student | score | rows | correct | incorrect | invalid |", "|---|---|---|---|---|---|"]
    for name, s in summary["students"].items():
        out.append(f"| {md_escape(name)} | {_num(s['score'])} | {s['rows']} | {s['correct']} | {s['incorrect']} | "
                   f"{s['invalid']} |")
    return "\n".join(out) + "\n"


@dataclass
class GradeReport:
    rows: list[dict]
    summary: dict

    def render(self, fmt: str) -> str:
        if fmt == "csv":
            return to_csv(self.rows)
        if fmt == "json":
            return to_json(self.rows)
        if fmt == "md":
            return to_md(self.rows, self.summary)
        raise ConvexproofError(f"unknown format {fmt!r}")

    def _repr_markdown_(self) -> str:
        """Jupyter shows the graded rows and the summary as the Markdown report."""
        return self.render("md")


def grade(path, jobs: int | None = None, exercises_dir=None, timeout: float = ROW_TIMEOUT) -> GradeReport:
    """Grade a CSV file of answers (see the module docstring)."""
    rows = read_rows(path)
    results = grade_rows(rows, jobs=jobs, exercises_dir=exercises_dir, timeout=timeout)
    return GradeReport(results, summarize(results))


def grade_file(path, fmt: str = "csv", jobs: int | None = None, exercises_dir=None,
               on_summary: Callable[[str], None] | None = None, summary: bool = False) -> str | bytes:
    """The CLI's entry point: the rendered report; the summary text goes to ``on_summary`` (csv/json).

    With ``summary`` the result is the class analysis (:mod:`convexproof.grading.classreport`) instead of the rows.
    """
    if fmt not in (("text", "md", "json", "latex", "pdf") if summary else ("csv", "json", "md")):
        raise ConvexproofError(f"unknown format {fmt!r}")
    if summary:
        from convexproof.grading import classreport

        if exercises_dir:
            from convexproof.library import search_dirs

            search_dirs(exercises_dir)
        report = grade(path, jobs=jobs, exercises_dir=exercises_dir)
        return classreport.render(classreport.analyse(report.rows, exercises_dir), fmt)
    if exercises_dir:
        from convexproof.library import search_dirs

        search_dirs(exercises_dir)  # a missing folder is one error for the file, not one per row
    report = grade(path, jobs=jobs, exercises_dir=exercises_dir)
    if on_summary is not None and fmt != "md":
        on_summary(summary_text(report.summary))
    return report.render(fmt)
