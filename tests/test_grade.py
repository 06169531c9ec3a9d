"""Batch grading: one output row per input row, bad rows invalid, never a crash.

Covers issue 6's robustness list: a BOM, Windows line ends, a wrong encoding
(Latin-1 bytes), missing and extra columns, empty answers, 10,000 rows, and
no partial output over an existing file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time

import pytest
from click.testing import CliRunner

import tests.fixtures.solver  # noqa: F401 - registers the "check-fixture" solver kind
from convexproof.cli import cli
from convexproof.grading.grade import grade, grade_file, parse_rows

HEADER = "student,exercise,part,answer\n"

ROWS = [
    # (student, exercise, part, answer, expected status, expected note)
    ("ann", "exercise3", "lambda_min", "3", "correct", None),
    ("ann", "exercise3", "second_derivative", "12x^2-6+2λ", "correct", None),
    ("bob", "exercise3", "lambda_min", "3/2", "incorrect", "slip-f2-at-0"),
    ("bob", "exercise3", "second_derivative", "4x^3 - 6x + 2λx", "incorrect", "first-derivative"),
    ("cat", "exercise3", "", "λ ≥ 3", "correct", None),  # empty part: the default part
    ("cat", "exercise3", "lambda_min", "2", "incorrect", "lambda-too-small"),
    ("dan", "exercise3", "lambda_min", "__import__('os').system('touch pwned')", "invalid", None),
    ("dan", "nope", "x", "3", "invalid", None),
    ("dan", "exercise3", "nope", "3", "invalid", None),
    ("eve", "exercise7", "verdict", "psd", "correct", None),
]


def _csv(rows, header=("student", "exercise", "part", "answer")) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r[: len(header)])
    return buf.getvalue()


def _grade_text(tmp_path, text: str | bytes, fmt="json", **kw):
    path = tmp_path / "answers.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    out = grade_file(path, fmt=fmt, **kw)
    return json.loads(out) if fmt == "json" else out


def test_rows_in_order_with_status_and_note(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _grade_text(tmp_path, _csv(ROWS), jobs=1)
    assert len(out) == len(ROWS)
    for got, row in zip(out, ROWS):
        assert (got["student"], got["exercise"], got["answer"]) == (row[0], row[1], row[3])
        assert (got["status"], got["note"]) == (row[4], row[5]), got
        assert set(got) == {"student", "exercise", "part", "answer", "status", "score", "feedback", "note", "line"}
    assert [got["line"] for got in out] == list(range(2, len(ROWS) + 2))
    assert out[4]["part"] == "lambda_min"  # the default part is named in the output
    assert "unknown exercise" in out[7]["feedback"]
    assert "no part" in out[8]["feedback"]
    assert not (tmp_path / "pwned").exists()


def test_summary_counts(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(_csv(ROWS), encoding="utf-8")
    rep = grade(path, jobs=1)
    assert rep.summary["status"] == {"correct": 4, "incorrect": 3, "invalid": 3}
    assert rep.summary["notes"] == {"slip-f2-at-0": 1, "first-derivative": 1, "lambda-too-small": 1}
    assert rep.summary["students"]["ann"] == {"rows": 2, "correct": 2, "incorrect": 0, "invalid": 0, "score": 2.0}
    assert rep.summary["students"]["dan"]["invalid"] == 3


@pytest.mark.parametrize("name, data", [
    ("bom", ("\ufeff" + HEADER + "s1,exercise3,lambda_min,3\n").encode("utf-8")),
    ("crlf", (HEADER + "s1,exercise3,lambda_min,3\r\n").replace("\n", "\r\n").encode("utf-8")),
    ("bom-crlf", ("\ufeff" + HEADER + "s1,exercise3,lambda_min,3\n").replace("\n", "\r\n").encode("utf-8")),
    ("old-mac-cr", (HEADER + "s1,exercise3,lambda_min,3\n").replace("\n", "\r").encode("utf-8")),
    ("utf-8-accents", (HEADER + "Jos\xe9,fx1,d2,y/p\xb2 + (1-y)/(1-p)\xb2\n").encode("utf-8")),
    ("utf-8-dash", (HEADER + "s1,exercise3,lambda_min,\u2013(\u20133)\n").encode("utf-8")),
    ("utf-16", (HEADER + "s1,exercise3,lambda_min,3\n").encode("utf-16")),
    ("upper-header", ("Student , EXERCISE,Part,Answer\n" + "s1,exercise3,lambda_min,3\n").encode()),
    ("reordered", ("answer,exercise,student\n" + "3,exercise3,s1\n").encode()),
    ("extra-column", ("student,exercise,part,answer,email\n" + "s1,exercise3,lambda_min,3,a@b.c\n").encode()),
    ("no-header", "s1,exercise3,lambda_min,3\n".encode()),
    ("seed-column", ("student,exercise,part,answer,seed\n" + "s1,exercise3,lambda_min,3,\n").encode()),
])
def test_encodings_and_layouts_are_read(tmp_path, name, data):
    out = _grade_fx(tmp_path, data) if name == "utf-8-accents" else _grade_text(tmp_path, data, jobs=1)
    assert len(out) == 1
    assert out[0]["status"] == "correct", out[0]


def _grade_fx(tmp_path, data):
    from pathlib import Path

    fix = str(Path(__file__).parent / "fixtures" / "exercises")
    out = _grade_text(tmp_path, data, jobs=1, exercises_dir=fix)
    assert out[0]["student"] == "José"
    return out


@pytest.mark.parametrize("line, reason", [
    ("s1,exercise3,lambda_min", "fields"),  # missing column
    ("s1,exercise3,lambda_min,3,extra", "fields"),  # extra column
    ("s1,exercise3,lambda_min,(0, -1", "fields"),  # an unquoted comma in the answer
    ("s1,exercise3,lambda_min,", "empty answer"),
    ("s1,exercise3,lambda_min,   ", "empty answer"),
    ("s1,,lambda_min,3", "no exercise"),
    ('s1,exercise3,lambda_min,"3\x00"', "control character"),
    ("s1,exercise3,lambda_min,x^", "formula"),
])
def test_bad_rows_are_invalid_and_the_rest_is_graded(tmp_path, line, reason):
    text = HEADER + "ok1,exercise3,lambda_min,3\n" + line + "\n" + "ok2,exercise3,lambda_min,2\n"
    out = _grade_text(tmp_path, text, jobs=1)
    assert [r["status"] for r in out] == ["correct", "invalid", "incorrect"]
    assert reason in out[1]["feedback"], out[1]


def test_bad_seed_is_an_invalid_row(tmp_path):
    text = "student,exercise,part,answer,seed\ns1,exercise3,lambda_min,3,-4\ns2,exercise3,lambda_min,3,1\n"
    out = _grade_text(tmp_path, text, jobs=1)
    assert out[0]["status"] == "invalid" and "seed" in out[0]["feedback"]
    assert out[1]["status"] in ("correct", "incorrect")


def test_missing_answer_column_is_one_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("student,exercise,part\ns1,exercise3,lambda_min\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["grade", "--answers", str(path)])
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0 and "answer" in r.stderr


def test_ten_thousand_rows(tmp_path):
    answers = ["3", "3/2", "2", "4", "λ ≥ 3", "x +", "", "6", "3.0", "sqrt(9)"]
    lines = [f"s{i % 300},exercise3,lambda_min,{answers[i % len(answers)]}" for i in range(10_000)]
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    rep = grade(path)
    assert time.perf_counter() - start < 120
    assert len(rep.rows) == 10_000
    assert rep.summary["status"] == {"correct": 4000, "incorrect": 4000, "invalid": 2000}
    assert len(rep.summary["students"]) == 300


def test_parallel_and_serial_agree(tmp_path):
    """Enough distinct answers to use the worker pool; the results do not depend on it."""
    rows = [(f"s{i}", "exercise3", "lambda_min", f"{i}/7", "", None) for i in range(40)]
    rows += [(f"t{i}", "exercise3", "second_derivative", f"12x^2 - 6 + {i}λ", "", None) for i in range(10)]
    text = _csv(rows)
    par = _grade_text(tmp_path, text, jobs=2)
    ser = _grade_text(tmp_path, text, jobs=1)
    assert par == ser
    assert [r["status"] for r in par].count("correct") == 2  # 21/7 and 2λ
    assert par[21]["status"] == "correct" and par[42]["status"] == "correct"


def test_per_row_time_limit(tmp_path, monkeypatch):
    """One pathological answer cannot stall the batch."""
    import convexproof.grading.answers as A
    import convexproof.grading.grade as G

    real = A.compare_expressions

    def slow(student, *a, **k):
        if "9" in str(student):
            time.sleep(60)
        return real(student, *a, **k)

    monkeypatch.setattr(A, "compare_expressions", slow)
    monkeypatch.setattr(G, "ROW_TIMEOUT", 1.0)
    text = HEADER + "s1,exercise3,second_derivative,9x^2\ns2,exercise3,second_derivative,12x^2-6+2λ\n"
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    rep = grade(path, jobs=1, timeout=1.0)
    assert time.perf_counter() - start < 20
    # a time-out is not a grade: undecided (score 0, for the teacher), after one retry alone (#16)
    assert rep.rows[0]["status"] == "undecided" and "timed out" in rep.rows[0]["feedback"]
    assert rep.rows[0]["score"] == 0.0 and "teacher" in rep.rows[0]["feedback"]
    assert rep.rows[1]["status"] == "correct"


def test_a_slow_teacher_exercise_is_invalid_once_and_does_not_stall_the_batch(tmp_path, monkeypatch):
    """Regression: each row of an exercise that solves slowly waited 60 s (two rows took 2 minutes)."""
    from convexproof.runtime.resources import data_dir

    teacher = tmp_path / "teacher"
    teacher.mkdir()
    src = (data_dir("exercises") / "exercise3.toml").read_text(encoding="utf-8")
    (teacher / "slow.toml").write_text(src.replace('id = "exercise3"', 'id = "slow"').replace(
        'function = "x^4 - a x^2"', 'function = "x^200 - 7x^199 + 3x^150 - x^77 - a x^2 + x^3"'), encoding="utf-8")
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", "2")
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "a,slow,lambda_min,3\nb,exercise3,lambda_min,3\nc,slow,lambda_min,2\n", encoding="utf-8")
    start = time.perf_counter()
    rep = grade(path, jobs=1, exercises_dir=str(teacher))
    assert time.perf_counter() - start < 15
    assert [r["status"] for r in rep.rows] == ["undecided", "correct", "undecided"]  # not a grade (#16)
    assert "could not be solved within 2 s" in rep.rows[0]["feedback"]


# --------------------------------------------------------------------- output
def test_csv_output_one_row_per_input_row(tmp_path):
    out = _grade_text(tmp_path, _csv(ROWS), fmt="csv", jobs=1)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(ROWS)
    assert list(rows[0]) == ["student", "exercise", "part", "answer", "status", "score", "feedback", "note", "line"]
    assert rows[2]["note"] == "slip-f2-at-0" and rows[0]["score"] == "1"


def test_csv_output_neutralises_spreadsheet_formulas(tmp_path):
    text = HEADER + '"=HYPERLINK(""http://x"")",exercise3,lambda_min,"=1+2"\n'
    out = _grade_text(tmp_path, text, fmt="csv", jobs=1)
    row = list(csv.DictReader(io.StringIO(out)))[0]
    assert row["student"].startswith("'=") and row["answer"].startswith("'=")


def test_md_output_has_rows_and_summary(tmp_path):
    out = _grade_text(tmp_path, _csv(ROWS), fmt="md", jobs=1)
    assert "## Mistakes" in out and "| slip\\-f2\\-at\\-0 | 1 |" not in out
    assert "slip-f2-at-0 | 1 |" in out and "## Students" in out
    assert out.count("\n| ann |") == 3 and "| ann | 2 | 2 | 2 | 0 | 0 |" in out  # 2 answers + 1 total
    assert "4x^3 \\* " not in out  # answers are escaped, not mangled
    assert "\\_\\_import\\_\\_" in out  # underscores escaped: no Markdown emphasis


def test_cli_grade_json_and_summary_on_stderr(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(_csv(ROWS), encoding="utf-8")
    r = CliRunner().invoke(cli, ["grade", "--answers", str(path), "--format", "json", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert isinstance(data, list) and len(data) == len(ROWS)
    assert "graded 10 rows: 4 correct, 3 incorrect, 3 invalid" in r.stderr
    assert "slip-f2-at-0 1" in r.stderr


def test_cli_grade_writes_atomically_and_keeps_old_output_on_failure(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text(_csv(ROWS), encoding="utf-8")
    out = tmp_path / "report.csv"
    out.write_text("previous report\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("student,exercise\ns1,exercise3\n", encoding="utf-8")  # no answer column
    r = CliRunner().invoke(cli, ["grade", "--answers", str(bad), "-o", str(out)])
    assert r.exit_code == 2
    assert out.read_text() == "previous report\n"
    r = CliRunner().invoke(cli, ["grade", "--answers", str(good), "-o", str(out), "--jobs", "1"])
    assert r.exit_code == 0
    assert out.read_text().startswith("student,exercise,part,answer,status,score,feedback,note")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_cli_grade_missing_file():
    r = CliRunner().invoke(cli, ["grade", "--answers", "/no/such/file.csv"])
    assert r.exit_code == 2 and r.stderr.startswith("convexproof: ")


def test_parse_rows_skips_blank_lines_and_keeps_line_numbers():
    rows = parse_rows(HEADER + "\n\na,exercise3,lambda_min,3\n\n")
    assert len(rows) == 1 and rows[0].line == 4


# ------------------------------------------------- issue 16: data loss, encodings, injection
def _cli_grade(path, *args):
    return CliRunner().invoke(cli, ["grade", "--answers", str(path), "--jobs", "1", *args])


@pytest.mark.parametrize("seed", ["²", "١", "1²", "³3", "+1", "1.0", "1e3", "9" * 19, "-4", "0x10", "٣"])
def test_bad_seed_cell_does_not_abort_batch(tmp_path, seed):
    """Regression: a seed cell '²' passed str.isdigit(), int() raised, the batch died with exit 3."""
    path = tmp_path / "a.csv"
    path.write_text("student,exercise,part,answer,seed\n"
                    f"s1,exercise3,lambda_min,3,{seed}\ns2,exercise3,lambda_min,3,\n", encoding="utf-8")
    r = _cli_grade(path, "--format", "json")
    assert r.exit_code == 0, (r.exit_code, r.stderr)
    rows = json.loads(r.stdout)
    assert [(x["status"], x["line"]) for x in rows] == [("invalid", 2), ("correct", 3)]
    assert "seed" in rows[0]["feedback"]


@pytest.mark.parametrize("bad_line, reason", [
    ('s1,exercise3,lambda_min,"3', "never closed"),
    ('"s1,exercise3,lambda_min,3', "never closed"),
    ('s1,exercise3,lambda_min,"3"x', "cannot read this line"),
    ('s1,exercise3,"lambda_min,3', "never closed"),
])
def test_unclosed_quote_is_reported_at_its_line_and_grading_goes_on(tmp_path, bad_line, reason):
    """Regression: one unclosed quote swallowed every later row without a word."""
    text = HEADER + "a,exercise3,lambda_min,3\n" + bad_line + "\n" + "b,exercise3,lambda_min,2\nc,exercise3,lambda_min,3\n"
    out = _grade_text(tmp_path, text, jobs=1)
    assert [(r["line"], r["status"]) for r in out] == [(2, "correct"), (3, "invalid"), (4, "incorrect"), (5, "correct")]
    assert "line 3" in out[1]["feedback"] and reason in out[1]["feedback"], out[1]
    assert [r["student"] for r in out][::2] == ["a", "b"] and out[1]["student"].startswith("s1")  # whose it is


def test_every_data_line_is_one_output_row_in_order(tmp_path):
    """Nothing lost, nothing duplicated: one output row per non-blank data line, with its line number."""
    lines = [
        "a,exercise3,lambda_min,3",
        's1,exercise3,lambda_min,"3',            # unclosed quote
        "",                                       # blank: no row
        'b,exercise3,lambda_min,"3',              # unclosed again
        'c,exercise3,lambda_min,"(0,',            # a quoted field that spans lines and closes ...
        '1)"',                                    # ... is one CSV record: one row, numbered by its first line
        "d,exercise3,lambda_min",                 # too few fields
        ",,,",                                    # empty fields: no row
        "e,exercise3,lambda_min,3,extra",         # too many
        '"f""g",exercise3,lambda_min,2',          # doubled quote inside a quoted field: fine
        "h,exercise3,lambda_min,3",
    ]
    text = HEADER + "\r\n".join(lines) + "\r\n"
    out = _grade_text(tmp_path, text, jobs=1)
    expected_lines = [i + 2 for i, ln in enumerate(lines) if ln.strip(", ") and ln != '1)"']
    assert [r["line"] for r in out] == expected_lines
    assert [r["student"] for r in out][-2:] == ['f"g', "h"]
    assert out[0]["status"] == "correct" and out[-1]["status"] == "correct"


@pytest.mark.parametrize("data, where", [
    (HEADER.encode() + b"ann,exercise3,lambda_min,3\nJos\xe9,exercise3,lambda_min,3\n", "line 3, character 4: byte 0xE9"),
    (HEADER.encode() + b"s1,exercise3,lambda_min,\x963\n", "line 2, character 25: byte 0x96"),  # cp1252 dash
    (b"\xef\xbb\xbf" + HEADER.encode() + b"s1,exercise3,lambda_min,3\r\ns2,exercise3,lambda_min,\xb2\r\n",
     "line 3, character 25: byte 0xB2"),
])
def test_non_utf8_file_is_refused_naming_line_and_byte(tmp_path, data, where):
    """Regression: one Latin-1 byte made the whole file decode as cp1252 (every other character with it)."""
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    r = _cli_grade(path)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""
    assert where in r.stderr and "UTF-8" in r.stderr, r.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_mid_file_bom_does_not_end_up_in_an_id(tmp_path, fmt):
    """Regression: two files joined left a byte-order mark inside a student id."""
    data = ("\ufeff" + HEADER + "s1,exercise3,lambda_min,3\n" + "\ufeffs2,exercise3,lambda_min,3\n"
            + "s3,exercise3,\ufefflambda_min,3\n").encode("utf-8")
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    r = _cli_grade(path, "--format", fmt)
    assert r.exit_code == 0
    assert "\ufeff" not in r.stdout and "\ufeff" not in r.stderr
    if fmt == "json":
        rows = json.loads(r.stdout)
        assert [x["status"] for x in rows] == ["correct", "invalid", "invalid"]
        assert "U+FEFF" in rows[1]["feedback"] and "student" in rows[1]["feedback"]
        assert "part" in rows[2]["feedback"]


INJECTIONS = ["=1+2", '+HYPERLINK("http://evil","x")', "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\t=1+2",
              " =1+2", "=cmd|' /C calc'!A0", "-x"]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("column", ["student", "exercise", "part", "answer"])
def test_csv_formula_injection_is_neutralised_in_every_column(tmp_path, payload, column):
    """Regression: +HYPERLINK( and the exercise and part columns were passed through to the spreadsheet."""
    cells = {"student": "s1", "exercise": "exercise3", "part": "lambda_min", "answer": "3", column: payload}
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["student", "exercise", "part", "answer"],
                                                    [cells[c] for c in ("student", "exercise", "part", "answer")]])
    path = tmp_path / "a.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    r = _cli_grade(path)
    assert r.exit_code == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert len(rows) == 2
    for cell in rows[1]:
        first = cell.lstrip(" ")[:1]
        assert first not in ("=", "+", "-", "@", "\t", "\r") or cell.strip().lstrip("+-").replace(".", "").isdigit(), cell
    assert any(cell.startswith("'") for cell in rows[1])


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_terminal_escapes_in_student_ids_never_reach_the_terminal(tmp_path, fmt):
    """Regression: ESC [2J (and the 8-bit CSI) in a student id went straight to the terminal."""
    text = HEADER + "\x1b[2Jmallory,exercise3,lambda_min,3\n" + "eve\x9b31m,exercise3,lambda_min,3\n" \
        + "ok,exercise3,lambda_min,\"3\x1b]0;title\x07\"\n" + "\u202eevil,exercise3,lambda_min,3\n"
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8", newline="")
    r = _cli_grade(path, "--format", fmt)
    assert r.exit_code == 0
    for stream in (r.stdout, r.stderr):
        assert not any(c in stream for c in "\x1b\x9b\x07\u202e"), repr(stream)
    assert "x1b" in r.stdout and "mallory" in r.stdout  # shown as an escape, not dropped


def test_answers_from_dev_zero_stop_at_the_size_cap(monkeypatch):
    """Regression: --answers /dev/zero read until memory ran out."""
    import convexproof.grading.grade as G

    monkeypatch.setattr(G, "MAX_FILE_BYTES", 100_000)
    r = CliRunner().invoke(cli, ["grade", "--answers", "/dev/zero"])
    assert r.exit_code == 2 and "larger than" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_answers_from_a_pipe_are_read(tmp_path):
    """A pipe (as from a shell's <(...)) is read to its end, within the cap."""
    rfd, wfd = os.pipe()
    os.write(wfd, (HEADER + "s1,exercise3,lambda_min,3\n").encode())
    os.close(wfd)
    try:
        r = CliRunner().invoke(cli, ["grade", "--answers", f"/dev/fd/{rfd}", "--jobs", "1", "--format", "json"])
    finally:
        os.close(rfd)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["status"] == "correct"


def test_answers_from_a_pipe_that_is_never_written_is_an_error_not_a_hang(monkeypatch):
    """Regression: a FIFO given as --answers hung grade forever."""
    import convexproof.runtime.safeio as S

    monkeypatch.setattr(S, "READ_TIMEOUT", 0.2)
    rfd, wfd = os.pipe()  # the writer end stays open and silent
    try:
        r = CliRunner().invoke(cli, ["grade", "--answers", f"/dev/fd/{rfd}"])
    finally:
        os.close(rfd)
        os.close(wfd)
    assert r.exit_code == 2 and "no data arrived" in r.stderr


def test_answers_fifo_without_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "answers.csv"
    os.mkfifo(fifo)
    r = CliRunner().invoke(cli, ["grade", "--answers", str(fifo)])
    assert r.exit_code in (0, 2) and "Traceback" not in r.output  # an empty file: no rows


def test_grade_output_dir_checked_before_any_work(tmp_path, monkeypatch):
    """Regression: grade -o no/such/dir/out.csv graded everything first and then failed."""
    import convexproof.grading.grade as G

    def boom(*a, **k):
        raise AssertionError("graded before the output was checked")

    monkeypatch.setattr(G, "grade_file", boom)
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "s1,exercise3,lambda_min,3\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["grade", "--answers", str(path), "-o", str(tmp_path / "no" / "such" / "out.csv")])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "does not exist" in r.stderr


@pytest.mark.parametrize("seed", range(40))
def test_parse_rows_never_loses_or_duplicates_a_line(seed):
    """Property: after random mutations (quotes, commas, line ends, BOMs, NUL), every non-empty line
    after the header is exactly one row, in order, carrying its own line number."""
    import random

    rng = random.Random(seed)
    lines = [f"s{i},exercise3,lambda_min,{i}" for i in range(30)]
    junk = ['"', '""', ",", "\r", "\r\n", "\n", "\x00", "\ufeff", "'", "\\", " ", "=", "é", "\u2028"]
    text = "\n".join(lines)
    for _ in range(rng.randint(1, 25)):
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(junk) + text[i:]
    text = HEADER + text + "\n"
    rows = parse_rows(text)
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    expected = []
    for n, ln in enumerate(physical[1:], start=2):
        if not ln.strip():
            continue
        try:
            fields = next(csv.reader([ln], strict=True))
        except csv.Error:
            expected.append(n)
            continue
        if any(f.strip() for f in fields):
            expected.append(n)
    assert [r.line for r in rows] == expected
