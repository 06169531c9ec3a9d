"""CLI fuzz: random seeded mutations of valid command lines, CSV files and exercise files.

Every invocation goes through click's CliRunner (in-process, exactly the
console script's error handling) in its own empty folder, and must:

* exit with 0, 1 or 2 (never 3, "internal error", never an uncaught exception);
* print no traceback, no Python or NumPy warning, and no ESC, CSI or U+202E;
* on exit 2, print exactly one line on stderr, starting ``convexproof:``;
  otherwise at most one line on stderr (``grade``'s summary is the one
  documented exception: it starts ``graded N rows``).

Three generators, one seeded ``random.Random`` per case (the case number is
the seed, so a failure names the case to replay with ``_case(n)``):

* **command lines**: a valid command line of every command, mutated 1-3
  times (a token dropped, duplicated, swapped, replaced by a hostile string,
  characters inserted or replaced, an option inserted with a random value);
* **CSV files** for ``grade`` (and rosters for ``handout --roster``): bytes inserted (quotes, commas, line ends,
  NUL, BOMs, Latin-1 bytes, escapes), lines dropped, repeated or swapped, the
  file cut short;
* **exercise files** in a teacher's folder, then ``list``, ``show``,
  ``check``, ``solve`` or ``selftest``: lines dropped, repeated or swapped,
  values replaced (strings by hostile text, numbers by inf, nan, 1e300 ...),
  bytes inserted.

CI runs a fixed-seed smoke slice (``SMOKE`` cases).  The long run (``SOAK``
cases, marked slow) runs with ``CONVEXPROOF_SOAK=1``::

    CONVEXPROOF_SOAK=1 .venv/bin/python -m pytest -q tests/test_cli_fuzz.py -k soak -s

and prints its figures (invocations, exit codes, time).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from convexproof.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SMOKE = 150
SOAK = int(os.environ.get("CONVEXPROOF_CLI_FUZZ_N", "2000"))
SOAK_SEED = 1_000_000  # the long run's cases are disjoint from the smoke slice's

# exercise files to mutate: several solver kinds (regularisation, Hessian, penalised, univariate)
BASES = {name: (ROOT / "exercises" / f"{name}.toml").read_text(encoding="utf-8")
         for name in ("exercise3", "exercise7", "exercise8", "exercise12", "exercise19")}
CSV_OK = ("student,exercise,part,answer,seed\n"
          "ann,exercise3,lambda_min,3,\n"
          "bob,exercise3,lambda_min,3/2,\n"
          "cat,exercise3,second_derivative,12x^2-6+2λ,\n"
          'dan,exercise7,verdict,psd,\n'
          "eve,exercise3,,λ ≥ 3,2\n")

HOSTILE = [
    "", " ", "-", "--", "-o", "--help", "nan", "inf", "-inf", "-1", "0", "1e309", "99999999999999999999999",
    "²", "٣", "0x10", "0x10*x", "gamma(x)", "lambda(x)", "λ(x+1)", "x^", "x**x**x**x", "10**10**10",
    "(" * 50 + "x" + ")" * 50, "__import__('os').system('touch pwned')", "x\x00", "\x1b[2J", "x\u202e",
    "\ufeffx", "é", "\udce9", "ｘ²", "x; y", "a,b", '"', "'", "=1+2", "+HYPERLINK(\"x\")", "../x", "/dev/null",
    "/dev/zero", "/no/such/dir/out.txt", "exercise3", "exercise7", "no-such-exercise", "lambda_min", "verdict",
    "x > 0", "2 < 1", "x != 0", "lam >= 3", "Piecewise((x, x > 0), (0, True))", "max(0, 1 - x)", "|x|",
    "x" * 3000, "a" * 30, "e", "pi", "oo", "λ", "λx", "sqrt(-1)", "1/0", "log(0)", "[[1, 2], [2, 1]]", "(1, 2)",
]
OPTIONS = {
    "--format": ["md", "latex", "json", "text", "csv", "html", "", "ipynb"],
    "--seed": ["0", "1", "-1", "9223372036854775807", "9223372036854775808", "²", "x"],
    "--part": ["lambda_min", "second_derivative", "verdict", "nope", "", "\x1b"],
    "--answer": ["3", "3/2", "x^", "12x^2-6+2λ", "", "exp(710)", "0x10"],
    "--wrt": ["x", "y", "x,y", "lam", "sin", "", "x y"],
    "--where": ["x > 0", "0 < x < 1", "x", "2*x > 2", "2 < 1", "True", ""],
    "--timeout": ["1", "0", "nan", "inf", "600", "601", "-1", "x"],
    "--penalty": ["lam*x**2", "x", "lam*(x**2+y**2)", "", "lam*exp(x)"],
    "--jobs": ["1", "2", "0", "65", "x"],
    "--exercises": ["teacher", "/no/such/dir", "", "."],
    "--output": ["out.txt", "no/such/dir/out.txt", ".", "/dev/null", ""],
    "-o": ["out.txt", "no/such/dir/out.txt", ".", "/dev/null", ""],
    "--answers": ["answers.csv", "/dev/zero", "/no/such.csv", "."],
    "--roster": ["roster.csv", "/dev/zero", "/no/such.csv"],
    "--title": ["T", "", "\x1b[2J", "x" * 300],
    "--to": ["moodle", "gradescope", "prairielearn", "x"],
    "--seeds": ["0", "1", "-1", "1001"],
}
FLAGS = ["--key", "--reveal", "--solutions", "--no-solutions", "-h", "--version"]

# Valid command lines; {answers}, {roster}, {teacher} name files in the case's folder.
# Commands whose mutations could start a very long run (selftest of everything, handout --all,
# --format pdf) are left out of the command-line generator; selftest runs on exercise files.
COMMANDS = [
    ["list"],
    ["list", "--format", "json"],
    ["show", "exercise3"],
    ["show", "exercise7", "--format", "json", "--seed", "3"],
    ["solve", "exercise3", "--format", "json"],
    ["solve", "exercise7", "-o", "out.md"],
    ["prove", "x**4 - 3*x**2 + lam*x**2", "--wrt", "x", "--format", "json", "--timeout", "5"],
    ["prove", "x**2 + y**2", "--where", "x > 0", "--timeout", "5"],
    ["prove", "log(1 + exp(x))", "-o", "proof.md", "--timeout", "5"],
    ["regularize", "x**4 - 3*x**2", "--wrt", "x", "--timeout", "5"],
    ["check", "exercise3", "--answer", "3"],
    ["check", "exercise3", "--part", "second_derivative", "--answer", "12x^2-6+2λ", "--format", "json"],
    ["check", "exercise7", "--answer", "psd", "--reveal"],
    ["grade", "--answers", "answers.csv", "--jobs", "1"],
    ["grade", "--answers", "answers.csv", "--jobs", "1", "--format", "json", "-o", "out.json"],
    ["grade", "--answers", "answers.csv", "--jobs", "1", "--format", "md"],
    ["handout", "exercise3", "--no-solutions"],
    ["handout", "exercise7", "--roster", "roster.csv", "--key"],
    ["export", "exercise7"],
    ["export", "exercise3", "--seed", "2", "-o", "quiz.xml"],
]


# ------------------------------------------------------------------ mutators
def _mutate_text(rng: random.Random, s: str) -> str:
    alphabet = ['"', "'", ",", "\\", "\x00", "\x1b", "\u202e", "\ufeff", "é", "²", "λ", "(", ")", "^", "*", " ",
                "\n", "\t", "0", "9", "x", "{", "}", "[", "]", "=", "#"]
    if not s or rng.random() < 0.3:
        return s + rng.choice(alphabet)
    i = rng.randrange(len(s))
    op = rng.randrange(3)
    if op == 0:
        return s[:i] + rng.choice(alphabet) + s[i:]
    if op == 1:
        return s[:i] + s[i + 1:]
    return s[:i] + rng.choice(alphabet) + s[i + 1:]


def mutate_values(rng: random.Random, argv: list[str]) -> list[str]:
    """Keep the command line's shape; replace one or two values (arguments, option values) by hostile text."""
    argv = list(argv)
    values = [i for i in range(1, len(argv)) if not argv[i].startswith("-")]
    for i in rng.sample(values, min(len(values), rng.randint(1, 2))):
        argv[i] = rng.choice(HOSTILE) if rng.random() < 0.6 else _mutate_text(rng, argv[i])
    return argv


def mutate_argv(rng: random.Random, argv: list[str]) -> list[str]:
    argv = list(argv)
    if rng.random() < 0.5:
        return mutate_values(rng, argv)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0 and len(argv) > 1:  # drop a token (never the command itself)
            del argv[rng.randrange(1, len(argv))]
        elif op == 1:  # duplicate
            i = rng.randrange(len(argv))
            argv.insert(i, argv[i])
        elif op == 2 and len(argv) > 2:  # swap two arguments
            i, j = rng.sample(range(1, len(argv)), 2)
            argv[i], argv[j] = argv[j], argv[i]
        elif op == 3 and len(argv) > 1:  # replace an argument by a hostile string
            argv[rng.randrange(1, len(argv))] = rng.choice(HOSTILE)
        elif op == 4 and len(argv) > 1:  # edit characters of an argument
            i = rng.randrange(1, len(argv))
            argv[i] = _mutate_text(rng, argv[i])
        elif op == 5:  # insert an option with a random value
            opt = rng.choice(list(OPTIONS))
            argv[rng.randrange(1, len(argv) + 1):0] = [opt, rng.choice(OPTIONS[opt] + HOSTILE[:20])]
        else:  # insert a flag
            argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(FLAGS))
    return argv


def _bounded(argv: list[str]) -> list[str]:
    """No mutation may start a run of minutes: selftest of everything, handout --all, pdflatex."""
    if argv and argv[0] == "selftest":
        argv[0] = "list"
    return [a for a in argv if a not in ("--all", "pdf")]


_BYTES = [b'"', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xe9", b"\xff\xfe", b"\x1b[2J", b"\xc2\xb2",
          b"=", b"+", b"'", b"\\", b" ", b"\t", b"\xe2\x80\xae", b"\x96", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80"]


def mutate_bytes(rng: random.Random, data: bytes, n: int | None = None) -> bytes:
    for _ in range(n or rng.randint(1, 4)):
        op = rng.randrange(6)
        lines = data.split(b"\n")
        if op == 0 and data:  # insert bytes
            i = rng.randrange(len(data) + 1)
            data = data[:i] + rng.choice(_BYTES) + data[i:]
        elif op == 1 and data:  # delete a run
            i = rng.randrange(len(data))
            data = data[:i] + data[i + rng.randint(1, 8):]
        elif op == 2 and len(lines) > 1:  # drop a line
            del lines[rng.randrange(len(lines))]
            data = b"\n".join(lines)
        elif op == 3 and lines:  # repeat a line
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif op == 4 and len(lines) > 2:  # swap two lines
            i, j = rng.sample(range(len(lines)), 2)
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == 5 and data:  # cut short
            data = data[:rng.randrange(len(data))]
    return data


_TOML_VALUES = ['"x^"', '"__import__(\'os\')"', '"0x10*x"', '"gamma(x)"', "inf", "nan", "-inf", "1e300", "-1", "0",
                '"\\u001b[2J"', '"\\uFFFE"', '""', "[]", "{}", "true", '"' + "x" * 300 + '"', "[[[[1]]]]",
                '"lambda_min"', '"x**x**x**x"', '"10**10**10"', "99999999999999999999"]


def mutate_csv(rng: random.Random, text: str) -> bytes:
    """Cells replaced by hostile text (quoting left as it falls), or bytes mutated."""
    if rng.random() < 0.4:
        return mutate_bytes(rng, text.encode("utf-8"))
    rows = [line.split(",") for line in text.strip("\n").split("\n")]
    for _ in range(rng.randint(1, 3)):
        r = rng.randrange(len(rows))
        c = rng.randrange(len(rows[r]))
        rows[r][c] = rng.choice(HOSTILE) if rng.random() < 0.7 else _mutate_text(rng, rows[r][c])
    return ("\n".join(",".join(row) for row in rows) + "\n").encode("utf-8", "surrogateescape")


def mutate_toml(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = 0 if rng.random() < 0.6 else rng.randrange(1, 5)
        if op == 0:  # replace a value
            candidates = [i for i, ln in enumerate(lines) if re.match(r"^\s*[A-Za-z_]+\s*=", ln)]
            if candidates:
                i = rng.choice(candidates)
                lines[i] = lines[i].split("=", 1)[0] + "= " + rng.choice(_TOML_VALUES)
        elif op == 1 and len(lines) > 1:
            del lines[rng.randrange(len(lines))]
        elif op == 2:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif op == 3 and len(lines) > 2:
            i, j = rng.sample(range(len(lines)), 2)
            lines[i], lines[j] = lines[j], lines[i]
        else:
            return mutate_bytes(rng, "\n".join(lines).encode("utf-8"), 1).decode("utf-8", "surrogateescape")
    return "\n".join(lines)


# ------------------------------------------------------------------ one case
def _case(n: int, work: Path) -> list[str]:
    """Build case ``n`` in the empty folder ``work``: its files, and its command line."""
    rng = random.Random(n)
    (work / "answers.csv").write_text(CSV_OK, encoding="utf-8")
    (work / "roster.csv").write_text("student\nann\nbob\n", encoding="utf-8")
    teacher = work / "teacher"
    teacher.mkdir()
    kind = rng.random()
    if kind < 0.55:
        argv = _bounded(mutate_argv(rng, rng.choice(COMMANDS)))
    elif kind < 0.75:
        (work / "answers.csv").write_bytes(mutate_csv(rng, CSV_OK))
        argv = ["grade", "--answers", "answers.csv", "--jobs", "1", "--format", rng.choice(["csv", "json", "md"])]
    elif kind < 0.8:
        (work / "roster.csv").write_bytes(mutate_csv(rng, "student,email\nann,a@x\nbob,b@x\ncat,c@x\n"))
        argv = ["handout", "exercise7", "--roster", "roster.csv", "--no-solutions"]
    else:
        ex_id = "fz"
        base = rng.choice(sorted(BASES))
        text = BASES[base].replace(f'id = "{base}"', f'id = "{ex_id}"', 1)
        (teacher / f"{ex_id}.toml").write_text(mutate_toml(rng, text), encoding="utf-8", errors="surrogateescape")
        argv = rng.choice([
            ["list", "--exercises", "teacher"],
            ["show", ex_id, "--exercises", "teacher"],
            ["check", ex_id, "--answer", rng.choice(["3", "3/2", "x^"]), "--exercises", "teacher"],
            ["solve", ex_id, "--format", "json", "--exercises", "teacher"],
            ["export", ex_id, "--exercises", "teacher"],
            ["selftest", ex_id, "--seeds", "1", "--exercises", "teacher"],
        ])
    return argv


def _json_invalid(out: str, argv) -> bool:
    import json

    try:
        data = json.loads(out)
    except ValueError:
        return False
    return bool(argv) and argv[0] == "check" and isinstance(data, dict) and data.get("status") not in (
        None, "correct", "incorrect") and bool(data.get("feedback"))


def _problem(result, argv) -> str | None:
    """What is wrong with one invocation's outcome, or None."""
    out, err, code = result.stdout, result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"uncaught {type(result.exception).__name__}: {result.exception}"
    if code not in (0, 1, 2):
        return f"exit {code}: {err.strip()[:300]}"
    if "Traceback" in out + err:
        return "traceback"
    if "Warning:" in err:
        return f"warning on stderr: {err.strip()[:300]}"
    if any(c in out + err for c in "\x1b\x9b\u202e"):
        return "a terminal escape or direction override reached stdout or stderr"
    lines = err.strip("\n").splitlines()
    if code == 2 and not lines and _json_invalid(out, argv):
        return None  # check --format json: an invalid answer is exit 2 with the reason in the JSON
    if code == 2:
        if len(lines) != 1 or not lines[0].startswith("convexproof: "):
            return f"exit 2 with {len(lines)} stderr lines: {err[:300]!r}"
    elif len(lines) > 1 and not (argv and argv[0] == "grade" and lines[0].startswith("graded ")):
        return f"exit {code} with {len(lines)} stderr lines: {err[:300]!r}"
    return None


def run_cases(cases, base: Path, report: bool = False):
    counts: Counter = Counter()
    bad: list[str] = []
    start = time.perf_counter()
    runner = CliRunner()
    for n in cases:
        work = base / f"case{n}"
        work.mkdir()
        old = os.getcwd()
        os.chdir(work)
        try:
            argv = _case(n, work)
            result = runner.invoke(cli, argv, catch_exceptions=True)
        finally:
            os.chdir(old)
        counts[result.exit_code] += 1
        problem = _problem(result, argv)
        if problem:
            bad.append(f"case {n}: {argv!r}: {problem}")
        assert not (work / "pwned").exists(), f"case {n}: the payload ran"
    elapsed = time.perf_counter() - start
    if report:
        total = sum(counts.values())
        print(f"\nCLI fuzz: {total} invocations in {elapsed:.1f} s ({elapsed / max(total, 1):.2f} s each); "
              f"exit codes {dict(sorted(counts.items()))}; {len(bad)} problems")
    return bad, counts


@pytest.fixture
def fuzz_env(monkeypatch):
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", "10")  # a mutated exercise may be slow to solve
    monkeypatch.delenv("CONVEXPROOF_EXERCISES", raising=False)


@pytest.mark.parametrize("chunk", range(3))
def test_cli_fuzz_smoke(tmp_path, fuzz_env, chunk):
    """A fixed-seed slice of SMOKE mutated invocations: exit 0, 1 or 2, one stderr line, never a traceback."""
    per = SMOKE // 3
    bad, counts = run_cases(range(chunk * per, (chunk + 1) * per), tmp_path, report=True)
    assert not bad, "\n".join(bad)
    assert sum(counts.values()) == per


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CONVEXPROOF_SOAK") != "1", reason="long soak: set CONVEXPROOF_SOAK=1")
def test_cli_fuzz_soak(tmp_path, fuzz_env):
    """At least 2,000 mutated invocations (CONVEXPROOF_CLI_FUZZ_N to change), no exit 3, no traceback."""
    bad, counts = run_cases(range(SOAK_SEED, SOAK_SEED + SOAK), tmp_path, report=True)
    assert not bad, "\n".join(bad)
    assert sum(counts.values()) >= min(SOAK, 2000)
