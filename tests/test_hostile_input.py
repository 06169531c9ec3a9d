"""Hostile input through every entry point of the command line.

Each case goes through click's CliRunner and must be refused with exit code 2,
a one-line message, no traceback, in under 10 s, and with no side effect: the
test runs in an empty temporary folder and checks that no file appeared
(the code-injection payloads would create one, ``pwned``, if they ran).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from convexproof.cli import cli

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT = 10.0
PWN = "__import__('os').system('touch pwned')"


# --------------------------------------------------------------------------
# The hostile inputs (name, text)
# --------------------------------------------------------------------------
HOSTILE = [
    ("import-os-system", PWN),
    ("import-os-system-double-quotes", '__import__("os").system("touch pwned")'),
    ("globals-via-attribute", "x.diff.__globals__['os'].system('touch pwned')"),
    ("subclasses", "().__class__.__base__.__subclasses__()"),
    ("lambda", "(lambda: __import__('os').system('touch pwned'))()"),
    ("lambda-with-argument", "lambda x: x**2"),
    ("list-comprehension", "[x for x in (1, 2)]"),
    ("generator", "sum(x for x in y)"),
    ("f-string", "f'{__import__(\"os\").system(\"touch pwned\")}'"),
    ("walrus", "(y:=1)"),
    ("statement-separator", "x; import os; os.system('touch pwned')"),
    ("newline-statement", "x\nimport os"),
    ("tower-10-10-10", "10**10**10"),
    ("tower-9-9999", "((9**9)**9999)**9999"),
    ("factorial", "factorial(10**9)"),
    ("5000-digit-integer", "7" * 5000),
    ("60+digit-integer", "9" * 61 + "*x"),
    ("float-overflow", "1e309*x"),
    ("division-by-zero", "1/0"),
    ("400-nested-parentheses", "(" * 400 + "x" + ")" * 400),
    ("sum-of-5000-terms", "+".join(["x"] * 5000)),
    ("10000-leading-minus", "-" * 10000 + "x"),
    ("nul-byte", "x\x00+1"),
    ("zero-width-space", "x\u200b^2"),
    ("byte-order-mark", "\ufeffx^2"),
    ("rtl-override", "x\u202e^2"),
    ("ansi-escape", "x\x1b[2J"),
    ("exp-tower-huge", "exp(exp(exp(exp(10**100))))*x"),
    ("exp-tower-power", "exp(exp(exp(exp(x))))**(10**6)"),
    ("huge-power", "x**(10**6)"),
    ("combined-power", "(((x**100)**100)**100)**100"),
    ("deep-calls", "sin(" * 60 + "x" + ")" * 60),
    ("deep-power-chain", "x" + "**x" * 150),
    ("sqrt-minus-one", "sqrt(-1)*x**2"),
    ("complex-root", "(-8)**(1/3)*x**2"),
    ("log-negative", "log(-2)*x"),
    ("piecewise-no-condition", "Piecewise((x, x))"),
    ("piecewise-code", "Piecewise((x, __import__('os')))"),
    ("piecewise-too-many", "Piecewise(" + ",".join(f"(x, x > {i})" for i in range(25)) + ")"),
    ("infinity", "x + oo"),
    ("cyrillic-homoglyph", "\u0445**2"),  # Cyrillic ha, looks like x
    ("greek-omicron", "\u03bf**2"),
    ("very-long-name", "a" * 100 + "*x"),
    ("builtins", "__builtins__"),
    ("globals-call", "globals()"),
    ("getattr", "getattr(x, 'y')"),
    ("conditional-expression", "x if y else z"),
    ("subscript", "x[0]"),
    ("dict", "{}"),
    ("set", "{x}"),
    ("matmul", "x @ y"),
    ("backslash", "x \\ y"),
    ("latex-input", "\\input{/etc/passwd}"),
    ("string-literal", "'x'"),
    ("bytes-literal", "b'x'"),
    ("keyword-arg", "sin(x=1)"),
    ("starred", "max(*x)"),
    ("eval-name", "eval('1')"),
    ("exec-name", "exec('import os')"),
    ("open-name", "open('/etc/passwd')"),
    ("dunder-name", "x.__class__"),
    ("empty", ""),
    ("whitespace", "   "),
]
IDS = [n for n, _ in HOSTILE]


# --------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------
def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Run in an empty folder; afterwards, no file may have appeared."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("CONVEXPROOF_EXERCISES", raising=False)
    before = _snapshot(work)
    yield tmp_path
    assert not (work / "pwned").exists(), "the payload ran"
    assert _snapshot(work) == before, f"files appeared: {_snapshot(work) - before}"


def run(args: list[str]):
    runner = CliRunner()
    start = time.perf_counter()
    result = runner.invoke(cli, args, catch_exceptions=True)
    elapsed = time.perf_counter() - start
    return result, elapsed


def assert_refused(result, elapsed, *, stream: str = "stderr") -> str:
    """Exit 2, one line on stderr and nothing on stdout, no traceback, fast."""
    out, err = result.stdout, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out and "Traceback" not in err
    assert result.exit_code == 2, (result.exit_code, out, err)
    assert elapsed < TIME_LIMIT, f"took {elapsed:.1f} s"
    if stream == "stderr":
        lines = err.strip("\n").splitlines()
        assert len(lines) == 1, err
        assert out == "", out
        assert lines[0].startswith("convexproof: ")
        return lines[0]
    lines = [ln for ln in (out + err).splitlines() if ln.strip()]
    assert len(lines) == 1, out + err
    return lines[0]


def _safe(msg: str) -> None:
    """The message does not echo a payload in a way a terminal would act on."""
    assert "\x00" not in msg and "\x1b" not in msg and "\u202e" not in msg


# --------------------------------------------------------------------------
# prove EXPR / --where / --wrt, regularize --penalty, check --answer
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name, text", HOSTILE, ids=IDS)
def test_prove_expr(sandbox, name, text):
    msg = assert_refused(*run(["prove", "--", text]))
    _safe(msg)


CONDITIONS = HOSTILE + [
    ("where-not-a-condition", "x + 1"),
    ("where-bare-and", "x and y"),
    ("where-true", "True"),
]


@pytest.mark.parametrize("name, text", CONDITIONS, ids=[n for n, _ in CONDITIONS])
def test_prove_where(sandbox, name, text):
    msg = assert_refused(*run(["prove", "x**2", f"--where={text}"]))
    _safe(msg)


NAMES = [
    ("import-os-system", PWN),
    ("dunder", "__class__"),
    ("two-names", "x y"),
    ("expression", "x+1"),
    ("constant-e", "e"),
    ("constant-pi", "pi"),
    ("function-name", "sin"),
    ("keyword", "import"),
    ("nul", "x\x00"),
    ("homoglyph", "\u0445"),
    ("long", "a" * 100),
    ("number", "2"),
]


@pytest.mark.parametrize("name, text", NAMES, ids=[n for n, _ in NAMES])
def test_prove_wrt(sandbox, name, text):
    msg = assert_refused(*run(["prove", "x**2", f"--wrt={text}"]))
    _safe(msg)


@pytest.mark.parametrize("name, text", HOSTILE, ids=IDS)
def test_regularize_penalty(sandbox, name, text):
    msg = assert_refused(*run(["regularize", "x**4 - 3*x**2", "--wrt=x", f"--penalty={text}"]))
    _safe(msg)


@pytest.mark.parametrize("name, text", HOSTILE, ids=IDS)
def test_check_answer(sandbox, name, text):
    result, elapsed = run(["check", "exercise3", f"--answer={text}"])
    msg = assert_refused(result, elapsed)
    assert "invalid" in msg or msg.startswith("convexproof: "), msg
    _safe(msg)


@pytest.mark.parametrize("name, text", HOSTILE[:12], ids=IDS[:12])
def test_check_answer_json(sandbox, name, text):
    """--format json: an invalid answer is still exit 2, and the JSON says why."""
    import json

    result, elapsed = run(["check", "exercise3", "--format=json", f"--answer={text}"])
    assert result.exit_code == 2 and elapsed < TIME_LIMIT
    assert "Traceback" not in result.output
    data = json.loads(result.stdout)
    assert data["status"] == "invalid" and data["feedback"]


# --------------------------------------------------------------------------
# Exercise files are untrusted: a teacher folder with malicious files
# --------------------------------------------------------------------------
def _base_exercise(ex_id: str) -> str:
    text = (ROOT / "exercises" / "exercise3.toml").read_text(encoding="utf-8")
    return text.replace('id = "exercise3"', f'id = "{ex_id}"', 1)


def _with(ex_id: str, old: str, new: str) -> str:
    text = _base_exercise(ex_id)
    assert old in text, old
    return text.replace(old, new, 1)


# (file id, contents as bytes or a function of the id, field the message must name)
BAD_FILES = [
    ("param-import", lambda i: _with(i, "[params]\n", "[params]\n'__import__(\"os\").system(\"id\")' = { default = 1 }\n"),
     "params."),
    ("variable-import", lambda i: _with(i, 'variables = ["x", "lam"]',
                                        'variables = ["x", "__import__(\\"os\\").system(\\"touch pwned\\")"]'),
     "variables"),
    ("solver-variable-import", lambda i: _with(i, 'variable = "x"', 'variable = "__import__(\'os\').system(\'id\')"'),
     "solver.variable"),
    ("math-code", lambda i: _with(i, 'f0 = "x^4 - a x^2"', f'f0 = "{PWN}"'), "math.f0"),
    ("solver-function-code", lambda i: _with(i, 'function = "x^4 - a x^2"',
                                             'function = "().__class__.__base__.__subclasses__()"'),
     "solver.function"),
    ("solver-function-tower", lambda i: _with(i, 'function = "x^4 - a x^2"', 'function = "10**10**10"'),
     "solver.function"),
    ("assume-code", lambda i: _with(i, 'variables = ["x", "lam"]',
                                    'variables = ["x", "lam"]\nassume = ["x > 0; import os"]'), "assume"),
    ("big-10mb", lambda i: _base_exercise(i) + "\n# " + "A" * (10 * 1024 * 1024) + "\n", "larger than"),
    ("invalid-toml", lambda i: f'id = "{i}"\ntitle = [unclosed\n', "TOML"),
    ("not-utf8", lambda i: _base_exercise(i).replace("λ", "\udce9").encode("utf-8", "surrogateescape"), "UTF-8"),
    ("nul-in-file", lambda i: _with(i, 'f0 = "x^4 - a x^2"', 'f0 = "x\\u0000"'), "math.f0"),
    ("id-mismatch", lambda i: _base_exercise("other-id"), "id"),
    ("params-huge", lambda i: _with(i, "default = 3,", "default = 1e300,"), "params.a.default"),
    ("title-too-long", lambda i: _with(i, 'title = "', 'title = "' + "T" * 500), "title"),
]


def _write_bad(folder: Path, ex_id: str, contents) -> None:
    data = contents(ex_id)
    (folder / f"{ex_id}.toml").write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


@pytest.mark.parametrize("ex_id, contents, field", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_malicious_exercise_file(sandbox, ex_id, contents, field):
    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, ex_id, contents)
    before = _snapshot(sandbox)
    for command in (["solve", ex_id], ["show", ex_id]):
        msg = assert_refused(*run([*command, "--exercises", str(teacher)]))
        assert f"{ex_id}.toml" in msg, msg  # names the file
        assert field.lower() in msg.lower(), msg  # names the field or the problem
        _safe(msg)
    assert _snapshot(sandbox) == before


@pytest.mark.parametrize("ex_id, contents, field", BAD_FILES[:6], ids=[b[0] for b in BAD_FILES[:6]])
def test_malicious_exercise_file_check(sandbox, ex_id, contents, field):
    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, ex_id, contents)
    msg = assert_refused(*run(["check", ex_id, "--answer=3", "--exercises", str(teacher)]))
    assert f"{ex_id}.toml" in msg and field.lower() in msg.lower(), msg


@pytest.fixture
def slow_teacher(sandbox, monkeypatch):
    """A teacher's folder with one exercise that takes minutes to solve, and a 2 s solving limit."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    (teacher / "slow.toml").write_text(
        _with("slow", 'function = "x^4 - a x^2"', 'function = "x^200 - 7x^199 + 3x^150 - x^77 - a x^2 + x^3"'),
        encoding="utf-8")
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", "2")
    return teacher


@pytest.mark.parametrize("command", [["solve"], ["handout", "--key"], ["export"]])
def test_solve_of_a_degree_200_teacher_polynomial_stops_at_the_time_limit(slow_teacher, command):
    """Regression: `solve` ran for minutes (no limit) on a teacher's degree-200 polynomial."""
    teacher = slow_teacher
    msg = assert_refused(*run([*command, "slow", "--exercises", str(teacher)]))
    assert "time limit" in msg


def test_check_on_a_slow_teacher_exercise_stops_at_the_time_limit(slow_teacher):
    """Regression: `check` solved the exercise in its own process with no limit (minutes on degree 200)."""
    from convexproof.grading.checking import check
    from convexproof.runtime.errors import ExerciseError

    teacher = slow_teacher
    t0 = time.perf_counter()
    with pytest.raises(ExerciseError, match="time limit"):
        check("slow", "3", exercises_dir=str(teacher), timeout=1)
    assert time.perf_counter() - t0 < 10


def test_selftest_of_a_slow_teacher_exercise_reports_the_time_limit(slow_teacher):
    """Regression: `selftest` solved every variant with no time limit, so one slow file hung it."""
    teacher = slow_teacher
    result, elapsed = run(["selftest", "slow", "--seeds", "1", "--exercises", str(teacher)])
    assert result.exit_code == 1 and "time limit" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr and elapsed < 30


# Prose is data: escaped in LaTeX and Markdown, never a template.
JINJA_PWN = "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch pwned') }}"
TEX_PWN = "<< self.__init__.__globals__.__builtins__.__import__('os').system('touch pwned') >>"
PAYLOAD = (
    r"Read \input{/etc/passwd} and \write18{touch pwned} then \immediate\write18{cat /etc/shadow}. "
    r"Jinja: {% raw %}{{ 7*7 }}{% endraw %} and {{ 7*191 }} and << 7*191 >> and <% if true %>IF<% endif %> "
    "and {# comment #} and <# tex comment #>. "
    + JINJA_PWN + " " + TEX_PWN + " $x$ & % # _ ^ ~ </script><script>alert(1)</script> <img src=x onerror=alert(1)> The function {f0}."
)


def _prose_exercise(ex_id: str) -> str:
    text = _base_exercise(ex_id)
    text = re.sub(r'statement = """.*?"""', lambda m: f"statement = '''{PAYLOAD}'''", text, count=1, flags=re.S)
    text = text.replace("hints = [", f"hints = [\n    '''{PAYLOAD}''',", 1)
    return text


@pytest.mark.parametrize("command", ["solve", "show"])
@pytest.mark.parametrize("fmt", ["latex", "md"])
def test_prose_is_escaped_not_executed(sandbox, command, fmt):
    teacher = sandbox / "teacher"
    teacher.mkdir()
    (teacher / "prose.toml").write_text(_prose_exercise("prose"), encoding="utf-8")
    before = _snapshot(sandbox)
    result, elapsed = run([command, "prose", "--format", fmt, "--exercises", str(teacher)])
    assert result.exit_code == 0, result.output
    assert elapsed < TIME_LIMIT * 3
    out = result.stdout
    prose = re.sub(r"coordinates \{[^}]*\}", "", out)  # a figure's sample values may hold any digits
    assert "1337" not in prose, "a template expression in the prose was evaluated"
    assert "49" not in prose.replace("{{ 7*7 }}", ""), "{{ 7*7 }} was evaluated"
    # printed, not run: the expressions and the block are still there as text (in prose and hint)
    assert out.count("7*191") >= 2, "a template expression in the prose was evaluated"
    assert out.count("if true") >= 1 and out.count("endif") >= 1, "a template block in the prose ran"
    assert out.count("globals") >= 2
    assert not (sandbox / "work" / "pwned").exists()
    assert _snapshot(sandbox) == before
    if fmt == "latex":
        # every backslash of the prose is escaped: no \input, \write18 or \immediate survives
        for bad in (r"\input{", r"\write18{", r"\immediate"):
            assert bad not in out, bad
        assert r"\textbackslash{}input" in out
        assert "</script>" not in out
    else:
        # HTML is neutralised in Markdown: as &lt; or as a backslash-escaped \<
        assert not re.search(r"(?<!\\)<(/?script|img)", out), "raw HTML tag in Markdown"
        assert "{{ 7*7 }}" in out or "{{ 7\\*7 }}" in out  # printed literally
        assert "/etc/passwd" in out  # printed as text, harmlessly


# --------------------------------------------------------------------------
# Options and odd arguments
# --------------------------------------------------------------------------
ODD = [
    ("unknown-command", ["pwn"]),
    ("unknown-exercise", ["solve", "no-such-exercise"]),
    ("exercise-id-traversal", ["solve", "../../etc/passwd"]),
    ("exercise-id-code", ["solve", PWN]),
    ("exercises-dir-missing", ["list", "--exercises", "/no/such/dir"]),
    ("negative-seed", ["solve", "exercise3", "--seed", "-1"]),
    ("huge-seed", ["solve", "exercise3", "--seed", str(2**64)]),
    ("timeout-zero", ["prove", "x**2", "--timeout", "0"]),
    ("timeout-nan", ["prove", "x**2", "--timeout", "nan"]),  # nan passes a naive range check
    ("timeout-inf", ["prove", "x**2", "--timeout", "inf"]),
    ("bad-format", ["prove", "x**2", "--format", "html"]),
]


@pytest.mark.parametrize("name, args", ODD, ids=[n for n, _ in ODD])
def test_odd_arguments(sandbox, name, args):
    msg = assert_refused(*run(args))
    _safe(msg)


@pytest.mark.parametrize("name, text", HOSTILE[:20], ids=IDS[:20])
def test_grade_hostile_answers_are_invalid_rows(sandbox, name, text):
    """grade reports hostile answers as invalid rows and never runs them."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", "exercise", "part", "answer"])
    w.writerow(["s1", "exercise3", "lambda_min", text])
    w.writerow(["s2", "exercise3", "lambda_min", "3"])
    answers = sandbox / "answers.csv"
    answers.write_text(buf.getvalue(), encoding="utf-8", newline="")
    result, elapsed = run(["grade", "--answers", str(answers), "--format", "json", "--jobs", "1"])
    assert "Traceback" not in result.output
    assert elapsed < TIME_LIMIT * 2
    assert result.exit_code in (0, 1), result.output
    assert not (sandbox / "work" / "pwned").exists()
    answers.unlink()


@pytest.mark.parametrize("name, args", [("ok-exit-0", ["list"])])
def test_harness_accepts_good_input(sandbox, name, args):
    """The harness itself: a good command exits 0 with output (so refusals above are meaningful)."""
    result, _ = run(args)
    assert result.exit_code == 0 and result.stdout.strip(), result.output


def test_enough_hostile_cases():
    assert len(HOSTILE) >= 30
    assert os.path.basename(__file__) == "test_hostile_input.py"


# --------------------------------------------------------------------------
# convexproof.runtime.limits: the hard time limit every command relies on
# --------------------------------------------------------------------------
def _sleep(seconds):
    time.sleep(seconds)
    return seconds


def _raise_parse_error():
    from convexproof.runtime.errors import ParseError

    raise ParseError("bad formula")


def _allocate(n_bytes):
    return len(bytearray(n_bytes))


@pytest.mark.parametrize("in_thread", [False, True])
def test_run_limited_kills_a_runaway_call(in_thread):
    import threading

    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import run_limited

    outcome = {}

    def go():
        start = time.perf_counter()
        try:
            run_limited(_sleep, 30, timeout=0.5, what="sleeping")
        except AnalysisTimeout as exc:
            outcome["msg"] = str(exc)
        outcome["elapsed"] = time.perf_counter() - start

    if in_thread:
        th = threading.Thread(target=go)
        th.start()
        th.join(20)
    else:
        go()
    assert "sleeping ran over its time limit of 0.5 s" in outcome["msg"]
    assert outcome["elapsed"] < 5


@pytest.mark.parametrize("fn, args, expected", [(_sleep, (0.01,), 0.01), (_allocate, (1000,), 1000)])
def test_run_limited_returns_the_result(fn, args, expected):
    from convexproof.runtime.limits import run_limited

    assert run_limited(fn, *args, timeout=20) == expected


def test_run_limited_reraises_the_childs_error():
    from convexproof.runtime.errors import ParseError
    from convexproof.runtime.limits import run_limited

    with pytest.raises(ParseError, match="bad formula"):
        run_limited(_raise_parse_error, timeout=20)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="rlimits are POSIX only")
def test_run_limited_memory_cap():
    from convexproof.runtime.limits import run_limited

    with pytest.raises(MemoryError):
        run_limited(_allocate, 8 * 1024**3, timeout=20, memory_mb=2048)


@pytest.mark.parametrize("value, expected", [("2", 2.0), ("nan", 60.0), ("inf", 60.0), ("-1", 60.0), ("x", 60.0),
                                             ("", 60.0)])
def test_solve_timeout_from_the_environment(monkeypatch, value, expected):
    from convexproof.runtime.limits import SOLVE_TIMEOUT, solve_timeout

    assert SOLVE_TIMEOUT == 60.0
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", value)
    assert solve_timeout() == expected


# --------------------------------------------------------------------------
# Issue 16: -o (checked first, written through to pipes and devices, mode kept)
# --------------------------------------------------------------------------
# each command with arguments that would fail *in the work* with another message:
# if the output is checked first, the message is about the output
OUTPUT_COMMANDS = [
    ("solve", ["solve", "no-such-exercise"]),
    ("prove", ["prove", "x^"]),
    ("regularize", ["regularize", "x^"]),
    ("handout", ["handout", "no-such-exercise"]),
    ("grade", ["grade", "--answers", "/no/such/answers.csv"]),
    ("export", ["export", "no-such-exercise"]),
]


@pytest.mark.parametrize("name, args", OUTPUT_COMMANDS, ids=[n for n, _ in OUTPUT_COMMANDS])
def test_output_missing_dir_is_reported_before_any_work(tmp_path, name, args):
    """Regression: grade -o no/such/dir/out.csv graded everything and then failed."""
    msg = assert_refused(*run([*args, "-o", str(tmp_path / "no" / "such" / "dir" / "out.txt")]))
    assert "does not exist" in msg, msg


@pytest.mark.parametrize("name, args", OUTPUT_COMMANDS[:5], ids=[n for n, _ in OUTPUT_COMMANDS[:5]])
def test_output_under_a_regular_file_is_reported_before_any_work(tmp_path, name, args):
    (tmp_path / "file").write_text("x")
    msg = assert_refused(*run([*args, "-o", str(tmp_path / "file" / "out.txt")]))
    assert "cannot write" in msg, msg


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write a read-only folder")
@pytest.mark.parametrize("name, args", OUTPUT_COMMANDS[:5], ids=[n for n, _ in OUTPUT_COMMANDS[:5]])
def test_output_read_only_dir_is_reported_before_any_work(tmp_path, name, args):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        msg = assert_refused(*run([*args, "-o", str(ro / "out.txt")]))
    finally:
        ro.chmod(0o755)
    assert "not writable" in msg, msg


def test_output_is_a_folder_is_refused(tmp_path):
    msg = assert_refused(*run(["prove", "x^2", "-o", str(tmp_path)]))
    assert "folder" in msg or "directory" in msg


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o755])
def test_output_keeps_the_mode_of_an_existing_file(tmp_path, mode):
    """Regression: an existing 0644 file became 0600 (mkstemp's mode) after -o."""
    out = tmp_path / "proof.md"
    out.write_text("old\n")
    out.chmod(mode)
    result, _ = run(["prove", "x^2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out.stat().st_mode & 0o7777) == mode
    assert "convex" in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["proof.md"]  # no temporary file left


def test_output_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        result, _ = run(["prove", "x^2", "-o", str(tmp_path / "new.md")])
    finally:
        os.umask(old)
    assert result.exit_code == 0
    assert ((tmp_path / "new.md").stat().st_mode & 0o777) == 0o640


def test_output_through_a_symlink_keeps_the_link(tmp_path):
    """Regression: -o replaced a symbolic link with a regular file."""
    target = tmp_path / "real.md"
    target.write_text("old\n")
    target.chmod(0o644)
    link = tmp_path / "link.md"
    link.symlink_to(target)
    result, _ = run(["prove", "x^2", "-o", str(link)])
    assert result.exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "convex" in target.read_text() and (target.stat().st_mode & 0o777) == 0o644


def test_output_writes_through_a_fifo(tmp_path):
    """Regression: -o replaced a FIFO with a regular file."""
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a program reading the pipe
    try:
        result, _ = run(["prove", "x^2", "--format", "json", "-o", str(fifo)])
        data = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert b'"verdict"' in data


def test_output_fifo_with_no_reader_is_an_error_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    msg = assert_refused(*run(["prove", "x^2", "-o", str(fifo)]))
    assert "no program is reading" in msg
    import stat

    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("via_link", [False, True])
def test_output_to_dev_null_writes_through(tmp_path, via_link):
    """Regression: -o /dev/null (as root) replaced the device with a regular file."""
    import stat

    path = "/dev/null"
    if via_link:
        (tmp_path / "null").symlink_to("/dev/null")
        path = str(tmp_path / "null")
    result, _ = run(["prove", "x^2", "-o", path])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if via_link:
        assert (tmp_path / "null").is_symlink()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_to_dev_full_is_one_line():
    import stat

    msg = assert_refused(*run(["prove", "x^2", "-o", "/dev/full"]))
    assert "No space left" in msg or "cannot write" in msg
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


# --------------------------------------------------------------------------
# Issue 16: special input files (--roster, exercise files)
# --------------------------------------------------------------------------
def test_roster_from_dev_zero_stops_at_the_cap():
    """Regression: --roster /dev/zero read (line by line, and there is no line end) until memory ran out."""
    msg = assert_refused(*run(["handout", "exercise3", "--roster", "/dev/zero"]))
    assert "larger than" in msg


def test_roster_pipe_that_is_never_written_is_an_error_not_a_hang(monkeypatch):
    import convexproof.runtime.safeio as S

    monkeypatch.setattr(S, "READ_TIMEOUT", 0.2)
    rfd, wfd = os.pipe()
    try:
        msg = assert_refused(*run(["handout", "exercise3", "--roster", f"/dev/fd/{rfd}"]))
    finally:
        os.close(rfd)
        os.close(wfd)
    assert "no data arrived" in msg


def test_roster_from_a_pipe_is_read_once(tmp_path):
    """The roster is read once, so a pipe (read only once) works."""
    rfd, wfd = os.pipe()
    os.write(wfd, b"student\nann\nbob\n")
    os.close(wfd)
    try:
        result, _ = run(["handout", "exercise3", "--roster", f"/dev/fd/{rfd}", "--no-solutions"])
    finally:
        os.close(rfd)
    assert result.exit_code == 0, result.output
    assert "ann" in result.stdout and "bob" in result.stdout


@pytest.mark.parametrize("student", ["\x1b[2Jann", "bob\x9b31m", "\u202eeve"])
def test_roster_id_with_terminal_escape_is_refused(tmp_path, student):
    roster = tmp_path / "r.csv"
    roster.write_text("student\n" + student + "\n", encoding="utf-8")
    msg = assert_refused(*run(["handout", "exercise3", "--roster", str(roster)]))
    assert "control characters" in msg
    _safe(msg)


# --------------------------------------------------------------------------
# Issue 16: exercise folders (one bad file does not break list or selftest)
# --------------------------------------------------------------------------
def _deep(i):
    return _base_exercise(i) + "\nnested = " + "[" * 5000 + "]" * 5000 + "\n"


def _parts_twice(i):
    text = _base_exercise(i)
    start = text.index("[[parts]]")
    end = text.index("[[parts]]", start + 1)
    return text + "\n" + text[start:end]  # the first part again, at the end


FOLDER_BAD = [
    ("deep-nesting", _deep, "nested too deeply"),
    ("tolerance-inf", lambda i: _with(i, "[[parts]]\n", "[[parts]]\ntolerance = inf\n"), "tolerance"),
    ("tolerance-nan", lambda i: _with(i, "[[parts]]\n", "[[parts]]\ntolerance = nan\n"), "tolerance"),
    ("tolerance-negative", lambda i: _with(i, "[[parts]]\n", "[[parts]]\ntolerance = -1.0\n"), "tolerance"),
    ("duplicate-part", _parts_twice, "defined twice"),
    ("title-escape", lambda i: _with(i, 'title = "', 'title = "\\u001b[2J\\u009b31m'), "title"),
    ("hint-escape", lambda i: _with(i, "hints = [", 'hints = [\n    "\\u001b]0;pwned\\u0007",'), "hints"),
    ("not-toml", lambda i: f'id = "{i}"\ntitle = [unclosed\n', "TOML"),
]


@pytest.mark.parametrize("ex_id, contents, what", FOLDER_BAD, ids=[b[0] for b in FOLDER_BAD])
def test_one_bad_file_does_not_break_list(sandbox, ex_id, contents, what):
    """Regression: one bad file made `list` fail for the whole folder (and deep nesting named no file)."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, ex_id, contents)
    (teacher / "good.toml").write_text(_base_exercise("good"), encoding="utf-8")
    result, _ = run(["list", "--exercises", str(teacher)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{ex_id}.toml" in lines[0] and what.lower() in lines[0].lower(), lines
    _safe(lines[0])
    assert "good " in result.stdout and "exercise3 " in result.stdout  # the rest is listed
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_special_file_in_the_exercise_folder_is_refused_not_read(sandbox, kind):
    """Regression: a FIFO or /dev/zero named *.toml hung `list` or read until memory ran out."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    bad = teacher / "special.toml"
    if kind == "fifo":
        os.mkfifo(bad)
    elif kind == "dev-zero":
        bad.symlink_to("/dev/zero")
    else:
        bad.mkdir()
    result, _ = run(["list", "--exercises", str(teacher)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "special.toml" in lines[0], lines
    assert "exercise3 " in result.stdout


def test_one_bad_file_does_not_break_selftest(sandbox, monkeypatch):
    """Regression: selftest stopped at the first bad file of the folder."""
    import convexproof.library as L

    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, "broken", lambda i: f'id = "{i}"\ntitle = [unclosed\n')
    (teacher / "good.toml").write_text(_base_exercise("good"), encoding="utf-8")
    only_teacher = {p.stem: p for p in sorted(teacher.glob("*.toml"))}
    monkeypatch.setattr(L, "exercise_files", lambda extra=None: dict(only_teacher))
    result, _ = run(["selftest", "--seeds", "0", "--exercises", str(teacher)])
    assert result.exit_code == 2, result.output
    assert "good: ok" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.toml" in lines[0] and "TOML" in lines[0]


def test_duplicate_part_names_are_refused_naming_file_and_part(sandbox):
    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, "dup", _parts_twice)
    msg = assert_refused(*run(["show", "dup", "--exercises", str(teacher)]))
    assert "dup.toml" in msg and "lambda_min" in msg and "twice" in msg, msg


# --------------------------------------------------------------------------
# Issue 16: the parser's silent misreadings
# --------------------------------------------------------------------------
MISREADINGS = [
    ("0x10*x", "hexadecimal numbers are not supported"),
    ("0X1F + x", "hexadecimal numbers are not supported"),
    ("0b101*x", "binary numbers are not supported"),
    ("0o17*x", "octal numbers are not supported"),
    ("gamma(x)", "unknown function 'gamma'"),
    ("lambda(x)", "unknown function 'lambda'"),
    ("2*lambda (x + 1)", "unknown function 'lambda'"),
    ("x^2 + zeta(x)", "unknown function 'zeta'"),
    ("\uff47\uff41\uff4d\uff4d\uff41(x)", "unknown function 'gamma'"),  # full-width letters
]


@pytest.mark.parametrize("text, message", MISREADINGS, ids=[t for t, _ in MISREADINGS])
def test_silent_misreadings_are_refused(sandbox, text, message):
    """Regression: 0x10*x was read as 0, gamma(x) and lambda(x) as products."""
    msg = assert_refused(*run(["prove", "--", text]))
    assert message in msg, msg
    msg = assert_refused(*run(["check", "exercise3", "--part", "second_derivative", f"--answer={text}"]))
    assert message in msg, msg


@pytest.mark.parametrize("text, expected", [
    ("2x", "2*x"), ("x y", "x*y"), ("λx", "lam*x"), ("λ(x+1)", "lam*(x + 1)"), ("lam(x+1)", "lam*(x + 1)"),
    ("γ(x+1)", "gamma*(x + 1)"), ("gamma*x", "gamma*x"), ("0x", "0"), ("10x1", "10*x1"), ("lambda x", "lam*x"),
])
def test_implicit_products_still_read(text, expected):
    import sympy as sp

    from convexproof.parse import parse_any

    assert sp.sstr(parse_any(text)) == expected


# --------------------------------------------------------------------------
# Issue 16: output injection (links, XML, terminals) and stderr noise
# --------------------------------------------------------------------------
LINKS = ("[notes](javascript:alert(1)) [a](JaVa&#x53;cript:alert(2)) [b]( java\tscript:alert(3)) "
         "![i](data:text/html;base64,PHNjcmlwdD4=) [c](vbscript:msgbox) [ok](https://example.org)")
_UNSAFE_LINK = re.compile(r"\]\s*\(\s*<?\s*(?:j|data|vb)", re.I)


def _link_exercise(ex_id: str, extra: str = "") -> str:
    text = _base_exercise(ex_id)
    i = text.index('statement = """') + len('statement = """')
    text = text[:i] + LINKS + extra + "\n" + text[i:]
    return text.replace("hints = [", "hints = [\n    '''" + LINKS + "''',", 1)


@pytest.mark.parametrize("command", [["show"], ["solve"], ["handout", "--key"]])
def test_markdown_output_keeps_no_javascript_links(sandbox, command):
    """Regression: a teacher's [x](javascript:...) stayed a live link in Markdown."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    (teacher / "links.toml").write_text(_link_exercise("links"), encoding="utf-8")
    result, _ = run([*command, "links", "--exercises", str(teacher)])
    assert result.exit_code == 0, result.output
    assert not _UNSAFE_LINK.search(result.stdout), _UNSAFE_LINK.search(result.stdout)
    assert "[ok](https://example.org)" in result.stdout  # web links stay links
    assert "javascript" in result.stdout.lower()  # printed as text, not dropped


def test_moodle_export_is_well_formed_and_keeps_no_javascript_links(sandbox):
    """Regression: Moodle XML kept javascript: links and was not well formed with U+FFFE/U+FFFF in prose."""
    import xml.etree.ElementTree as ET

    teacher = sandbox / "teacher"
    teacher.mkdir()
    (teacher / "links.toml").write_text(_link_exercise("links", " odd \\uFFFE\\uFFFF end"), encoding="utf-8")
    result, _ = run(["export", "links", "--exercises", str(teacher)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.stdout.encode("utf-8"))  # well formed
    texts = " ".join(t for el in root.iter() for t in (el.text or "",))
    assert not _UNSAFE_LINK.search(texts)
    assert "\ufffe" not in result.stdout and "\uffff" not in result.stdout


def test_moodle_export_strips_control_characters_whatever_reaches_it(monkeypatch):
    """Even prose that slipped past validation cannot make the XML ill-formed."""
    import xml.etree.ElementTree as ET

    import convexproof.library as L
    from convexproof.platforms.moodle import moodle_export

    real = L.load_exercise

    def dirty(ex_id, **kw):
        ex = real(ex_id, **kw)
        ex.statement = "NUL \x00 ESC \x1b[2J BEL \x07 VT \x0b " + ex.statement
        return ex

    monkeypatch.setattr(L, "load_exercise", dirty)
    xml = moodle_export(["exercise7"])
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "quiz"
    assert not any(c in xml for c in "\x00\x1b\x07\x0b")


def test_terminal_escapes_in_exercise_text_are_refused(sandbox):
    teacher = sandbox / "teacher"
    teacher.mkdir()
    (teacher / "esc.toml").write_text(_with("esc", 'title = "', 'title = "\\u001b[2J'), encoding="utf-8")
    msg = assert_refused(*run(["show", "esc", "--exercises", str(teacher)]))
    assert "esc.toml" in msg and "title" in msg and "U+001B" in msg
    _safe(msg)


def test_error_messages_never_carry_terminal_escapes(sandbox):
    msg = assert_refused(*run(["grade", "--answers", "/no/such/\x1b[2J\x9b.csv"]))
    assert "\x1b" not in msg and "\x9b" not in msg


@pytest.mark.parametrize("args", [["prove", "exp(exp(x))"], ["prove", "exp(exp(x))", "--format", "json"]])
def test_no_numpy_warning_on_stderr(tmp_path, args):
    """Regression: 'RuntimeWarning: invalid value encountered in subtract' (witness.py) on a successful run."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONWARNINGS="default")
    proc = subprocess.run([sys.executable, "-m", "convexproof", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr


def test_numeric_chords_emit_no_runtime_warning(monkeypatch):
    import warnings

    from convexproof.engine import prove

    monkeypatch.setenv("CONVEXPROOF_NO_FORK", "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prove("exp(exp(x))", timeout=30)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]


NUL_NAMES = [
    ("answers", ["grade", "--answers", "a\x00.csv"]),
    ("output", ["solve", "exercise7", "-o", "out\x00.md"]),
    ("exercises-dir", ["list", "--exercises", "dir\x00"]),
    ("roster", ["handout", "exercise3", "--roster", "r\x00.csv"]),
]


@pytest.mark.parametrize("name, args", NUL_NAMES, ids=[n for n, _ in NUL_NAMES])
def test_nul_in_a_file_name_is_one_line_not_an_internal_error(sandbox, name, args):
    """Found by the CLI fuzz: os.stat inside click.Path raised ValueError, exit 3."""
    msg = assert_refused(*run(args))
    assert "NUL" in msg


FUZZ_FOUND_FILES = [
    ("penalty-true", lambda i: _with(i, 'penalty = "lam x^2"', "penalty = true"), "solver.penalty"),
    ("penalty-number", lambda i: _with(i, 'penalty = "lam x^2"', "penalty = 0"), "penalty"),
    ("plot-formula", lambda i: _with(i, 'plot = ["-3/2", "3/2"]', 'plot = "x**x**x**x"'), "solver.plot"),
    ("plot-reversed", lambda i: _with(i, 'plot = ["-3/2", "3/2"]', 'plot = ["3/2", "-3/2"]'), "solver.plot"),
]


@pytest.mark.parametrize("ex_id, contents, field", FUZZ_FOUND_FILES, ids=[b[0] for b in FUZZ_FOUND_FILES])
@pytest.mark.parametrize("command", [["solve"], ["export"]])
def test_solver_inputs_of_the_wrong_kind_are_one_line_not_exit_3(sandbox, ex_id, contents, field, command):
    """Found by the CLI fuzz: penalty = true and plot = "x**x" crashed the solver (exit 3)."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    _write_bad(teacher, ex_id, contents)
    msg = assert_refused(*run([*command, ex_id, "--exercises", str(teacher)]))
    assert f"{ex_id}.toml" in msg and field in msg, msg


@pytest.mark.parametrize("answer", ["3\x9b31m", "3\u202e", "3\x1b[2J", "3\x85"])
def test_check_json_never_echoes_terminal_escapes(sandbox, answer):
    """check --format json echoed the student's answer with raw C1 controls and bidi overrides."""
    import json

    result, _ = run(["check", "exercise3", "--format=json", f"--answer={answer}"])
    assert result.exit_code == 2
    assert not any(c in result.stdout for c in "\x1b\x9b\x85\u202e"), repr(result.stdout)
    assert json.loads(result.stdout)["answer"] == answer  # the same data, as JSON escapes


def test_roster_not_utf8_names_line_and_byte(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_bytes(b"student\nann\nJos\xe9\n")
    msg = assert_refused(*run(["handout", "exercise3", "--roster", str(roster)]))
    assert "line 3" in msg and "0xE9" in msg


def test_univariate_function_without_its_domain_is_one_line_not_exit_3(sandbox):
    """Found by the CLI fuzz: exercise19 with `domains = {}` met log(-1) in a chord and crashed (exit 3)."""
    teacher = sandbox / "teacher"
    teacher.mkdir()
    text = (ROOT / "exercises" / "exercise19.toml").read_text(encoding="utf-8").replace(
        'id = "exercise19"', 'id = "nodomain"', 1)
    text = re.sub(r"(?m)^domains = \{.*\}$", "domains = {}", text, count=1)
    (teacher / "nodomain.toml").write_text(text, encoding="utf-8")
    msg = assert_refused(*run(["solve", "nodomain", "--exercises", str(teacher)]))
    assert "nodomain.toml" in msg and "solver.domains" in msg, msg


@pytest.mark.parametrize("data", [b"student,email\nann,a\rx\nbob,b\n", b"student\n" + b"a" * 200_000 + b"\n"])
def test_roster_csv_syntax_is_one_line_not_exit_3(tmp_path, data):
    """Found by the CLI fuzz: a lone carriage return in a roster raised csv.Error (exit 3)."""
    roster = tmp_path / "r.csv"
    roster.write_bytes(data)
    result, _ = run(["handout", "exercise7", "--roster", str(roster), "--no-solutions"])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1
    else:
        assert "ann" in result.stdout and "bob" in result.stdout
