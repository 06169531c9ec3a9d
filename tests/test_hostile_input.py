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
    from convexproof.checking import check
    from convexproof.errors import ExerciseError

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
    assert "1337" not in out, "a template expression in the prose was evaluated"
    assert "49" not in out.replace("{{ 7*7 }}", ""), "{{ 7*7 }} was evaluated"
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
# convexproof.limits: the hard time limit every command relies on
# --------------------------------------------------------------------------
def _sleep(seconds):
    time.sleep(seconds)
    return seconds


def _raise_parse_error():
    from convexproof.errors import ParseError

    raise ParseError("bad formula")


def _allocate(n_bytes):
    return len(bytearray(n_bytes))


@pytest.mark.parametrize("in_thread", [False, True])
def test_run_limited_kills_a_runaway_call(in_thread):
    import threading

    from convexproof.errors import AnalysisTimeout
    from convexproof.limits import run_limited

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
    from convexproof.limits import run_limited

    assert run_limited(fn, *args, timeout=20) == expected


def test_run_limited_reraises_the_childs_error():
    from convexproof.errors import ParseError
    from convexproof.limits import run_limited

    with pytest.raises(ParseError, match="bad formula"):
        run_limited(_raise_parse_error, timeout=20)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="rlimits are POSIX only")
def test_run_limited_memory_cap():
    from convexproof.limits import run_limited

    with pytest.raises(MemoryError):
        run_limited(_allocate, 8 * 1024**3, timeout=20, memory_mb=2048)


@pytest.mark.parametrize("value, expected", [("2", 2.0), ("nan", 60.0), ("inf", 60.0), ("-1", 60.0), ("x", 60.0),
                                             ("", 60.0)])
def test_solve_timeout_from_the_environment(monkeypatch, value, expected):
    from convexproof.limits import SOLVE_TIMEOUT, solve_timeout

    assert SOLVE_TIMEOUT == 60.0
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", value)
    assert solve_timeout() == expected
