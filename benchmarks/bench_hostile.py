"""Hostile input: time and memory of the parser and of the `prove` command.

Runs every hostile input of tests/test_hostile_input.py (all must be refused)
and a set of *accepted but heavy* inputs (legal formulas at the edge of the
limits, which the engine must finish or give up on within its time limit)
through

* the parser (`convexproof.parse.parse_expr`, as `prove` uses it), and
* the `prove` command in-process (click's CliRunner, `--timeout 10`),

and prints one row per input plus the worst wall time and the peak memory:
tracemalloc (Python allocations in this process) and ru_maxrss (resident set
of this process, and of its children: the engine analyses in a forked child).

    python3 benchmarks/bench_hostile.py               # everything
    python3 benchmarks/bench_hostile.py --quick       # refused inputs only
    python3 benchmarks/bench_hostile.py --in-process  # engine in this process (CONVEXPROOF_NO_FORK=1),
                                                      # so tracemalloc sees the engine's own allocations;
                                                      # only the cooperative deadline applies then
    python3 benchmarks/bench_hostile.py --limits      # only the limits section (issue #16)

The *limits* section (issue #16, "limits not kept") runs whole commands as
subprocesses, exactly as a user would (`python -m convexproof ...`), and
measures for each: the wall time from start to exit (Python's start-up
included) against the command's documented limit (docs/limits.md), the peak
resident memory of the whole process tree (``wait4``'s ``ru_maxrss``, which
covers the forked children the command waited for), the exit code and the
first line of stderr.  Every case must return within its limit + 1.5 s and
stay under 1 GB.  It also sends SIGTERM to a running `prove` and `grade`
(time to exit, children left), and grades the same CSV of 26 correct but
heavy answers three times (the statuses must not change from run to run and
no time-out may become a grade).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from convexproof.cli import cli  # noqa: E402
from convexproof.runtime.errors import ConvexproofError  # noqa: E402
from convexproof.parse import LIMITS, parse_expr  # noqa: E402


def _hostile() -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("_hostile_cases", ROOT / "tests" / "test_hostile_input.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return list(mod.HOSTILE)


HEAVY = [  # legal, at the edge of the limits
    ("exp-tower-4", "exp(exp(exp(exp(x))))"),
    ("nested-sin-39", "sin(" * 39 + "x" + ")" * 39),
    ("nested-sin-plus-20", "sin(x+" * 20 + "x" + ")" * 20),
    ("power-200-product", "(x+1)^200*(x+2)^200"),
    ("power-chain-10", "x" + "^x" * 9),
    ("max-of-8", "max(" + ",".join(f"{i}x-{i*i}" for i in range(1, 9)) + ")"),
    ("max-of-8-sin", "max(" + ",".join(f"sin({i}x)+{i}y^2" for i in range(1, 9)) + ")"),
    ("twelve-hinges", "+".join(f"max(0, 1-{i}x+{(-1)**i}y)" for i in range(1, 13))),
    ("piecewise-20", "Piecewise(" + ",".join(f"(x^2+{i}, x < {i})" for i in range(19)) + ", (x^4, True))"),
    ("12-variables", "+".join(f"exp(a{i}*x{i % 6})" for i in range(6)) + "+x0^4*x1^4*x2^4"),
    ("exp-999", "exp(999)*x^2"),
    ("digits-400", "10^200*x^2 - 10^199*x^4"),
    ("rational-powers", "x^(1/3)*y^(2/7)*z^(5/11)"),
    ("logsumexp-6", "log(" + "+".join(f"exp(x{i})" for i in range(6)) + ")"),
    ("long-sum-89", "+".join(f"{i}*x^{i % 7}" for i in range(1, 90))),
]


def _kib(n: float) -> str:
    return f"{n / 1024:,.0f}"


def _maxrss_mib(who: int) -> float:
    r = resource.getrusage(who).ru_maxrss
    return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024


def measure_parse(text: str) -> tuple[float, int, str]:
    tracemalloc.start()
    t = time.perf_counter()
    try:
        parse_expr(text)  # what `prove EXPR` uses
        outcome = "accepted"
    except ConvexproofError:
        outcome = "refused"
    except Exception as exc:  # a bug
        outcome = f"BUG {type(exc).__name__}"
    dt = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, peak, outcome


def measure_prove(text: str, timeout: float) -> tuple[float, int, int, str]:
    runner = CliRunner()
    tracemalloc.start()
    t = time.perf_counter()
    result = runner.invoke(cli, ["prove", "--timeout", str(timeout), "--format", "json", "--", text])
    dt = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = (result.stdout or "") + (result.stderr or "")
    if result.exit_code == 0:
        import json

        try:
            verdict = json.loads(result.stdout).get("verdict", "?")
        except ValueError:
            verdict = "?"
    else:
        verdict = out.strip().splitlines()[-1][13:60] if out.strip() else ""
    return dt, peak, result.exit_code, verdict


# --------------------------------------------------------------------------
# The limits section: whole commands as subprocesses (issue #16)
# --------------------------------------------------------------------------
SLOW_PENALTY = "lam*x**2 + " + "+".join(f"tanh({i}*x+1)*atan(x-{i})*exp(sin({i}*x))" for i in range(1, 13))
NESTED_EXP_15 = "exp(-" * 15 + "x" + ")" * 15
NESTED_EXP_10 = "exp(-" * 10 + "x" + ")" * 10
POWER_12 = "(" + "+".join(f"x{i}" for i in range(1, 13)) + ")**200"
SUM_12 = "(" + "+".join(f"x{i}" for i in range(1, 13)) + ")"
MEMORY_12 = f"{SUM_12}**199 - {SUM_12}**200"  # not settled by the composition rules: the Hessian runs out of memory


def _limits_cases() -> list[tuple[str, list[str], float, set[int]]]:
    """(name, arguments, documented limit in seconds, accepted exit codes)."""
    from convexproof.runtime.limits import CHECK_TIMEOUT, DEFAULT_TIMEOUT, SOLVE_TIMEOUT

    return [
        ("tower-fixed-by-where", ["prove", "x**2 + a**a**a**a*x", "--wrt", "x", "--where", "a = 3"],
         DEFAULT_TIMEOUT, {2}),
        ("exponent-fixed-by-where", ["prove", "x**a", "--wrt", "x", "--where", "a = 10**50"], DEFAULT_TIMEOUT, {2}),
        ("tower-in-answer", ["check", "exercise3", "--answer", "a^a^a^a"], CHECK_TIMEOUT + SOLVE_TIMEOUT, {2}),
        ("penalty-simplify-t1", ["regularize", "x**4 - 3*x**2", "--wrt", "x", "--penalty", SLOW_PENALTY,
                                 "--timeout", "1", "--format", "json"], 1.0, {0}),
        ("penalty-simplify-t10", ["regularize", "x**4 - 3*x**2", "--wrt", "x", "--penalty", SLOW_PENALTY,
                                  "--format", "json"], DEFAULT_TIMEOUT, {0}),
        ("exp-15-latex-t1", ["prove", NESTED_EXP_15, "--format", "latex", "--timeout", "1"], 1.0, {0}),
        ("exp-15-md-t1", ["prove", NESTED_EXP_15, "--format", "md", "--timeout", "1"], 1.0, {0}),
        ("exp-10-md-t10", ["prove", NESTED_EXP_10, "--format", "md"], DEFAULT_TIMEOUT, {0}),
        ("exp-10-latex-t10", ["prove", NESTED_EXP_10, "--format", "latex"], DEFAULT_TIMEOUT, {0}),
        ("power-12-vars-t40", ["prove", POWER_12, "--timeout", "40", "--format", "json"], 40.0, {0}),
        ("power-12-vars-t10", ["prove", POWER_12, "--format", "json"], DEFAULT_TIMEOUT, {0}),
        ("memory-12-vars-t40", ["prove", MEMORY_12, "--timeout", "40", "--format", "json"], 40.0, {0}),
        ("memory-12-vars-latex", ["prove", MEMORY_12, "--timeout", "40", "--format", "latex"], 40.0, {0}),
        ("regularize-power-12", ["regularize", POWER_12, "--format", "json"], DEFAULT_TIMEOUT, {0}),
        ("teacher-check", ["check", "teach8", "--answer", "1", "--exercises", "{teacher}"],
         CHECK_TIMEOUT + SOLVE_TIMEOUT, {0, 1, 2}),
    ]


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CONVEXPROOF_EXERCISES", None)
    env.pop("CONVEXPROOF_NO_FORK", None)
    return env


def run_cli(args: list[str], cwd=None) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS of the process tree in MiB, exit code, first stderr line)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "convexproof", *args], stdout=out, stderr=err, env=_env(),
                                cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        first = err.read().decode("utf-8", "replace").strip().splitlines()
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return dt, rss, proc.returncode, (first[0] if first else "")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for k in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def sigterm_case(args: list[str], n_children: int, cwd=None) -> tuple[float, int, int, str, int]:
    """Start a command, SIGTERM it once it has its children: (seconds to exit, exit code, children alive 1 s
    later, first stderr line, tracebacks on stderr)."""
    import signal
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "convexproof", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd)
    kids: list[int] = []
    for _ in range(1200):
        kids = _descendants(proc.pid)
        if len(kids) >= n_children:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    kids = _descendants(proc.pid)
    t = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    dt = time.perf_counter() - t
    err = proc.stderr.read()
    time.sleep(1.0)
    alive = sum(_alive(k) for k in kids)
    first = err.strip().splitlines()
    return dt, proc.returncode, alive, (first[0] if first else ""), err.count("Traceback")


def heavy_csv() -> str:
    """26 correct but heavy answers to exercise3's second derivative (12x² − 6 + 2λ), each 1 to 5 s alone."""
    base = "12x^2-6+2λ"
    rows = ["student,exercise,part,answer"]
    for i in range(26):
        n = 3 + i % 4
        if i % 2:
            zero = "+".join(f"(sin({k}x)^2+cos({k}x)^2-1)*x^{k + i // 8}" for k in range(1, n + 1))
        else:
            zero = "+".join(f"(sin({k}x)+cos({k}x))^2 - 1 - sin({2 * k}x)" for k in range(1, n))
        zero += f" + {i + 1}*(sin(x)^2+cos(x)^2-1)"  # every answer distinct: 26 > PARALLEL_THRESHOLD, a pool
        rows.append(f's{i},exercise3,second_derivative,"{base} + {zero}"')
    return "\n".join(rows) + "\n"


def grade_runs(folder: Path, runs: int = 3) -> list[tuple[float, float, dict, list[str]]]:
    import csv
    import subprocess

    (folder / "heavy.csv").write_text(heavy_csv(), encoding="utf-8")
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "convexproof", "grade", "--answers", "heavy.csv"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=folder)
        stdout, _ = proc.communicate()
        dt = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows = list(csv.DictReader(stdout.splitlines()))
        statuses = [r["status"] for r in rows]
        counts: dict = {}
        for st in statuses:
            counts[st] = counts.get(st, 0) + 1
        out.append((dt, rss, counts, statuses))
    return out


def limits_section() -> tuple[int, float, float]:
    """Run the limits section; returns (unexpected outcomes, worst overrun in s, peak MiB)."""
    import tempfile

    print("== limits (issue #16): whole commands as subprocesses; wall time includes Python's start-up ==")
    head = f"{'case':24} {'limit s':>8} {'wall s':>8} {'over s':>7} {'peak MiB':>9} {'exit':>4}  stderr"
    print(head)
    print("-" * (len(head) + 30))
    bad = 0
    worst = (-1e9, "")
    peak = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        teacher = Path(tmp) / "teacher"
        teacher.mkdir()
        src = (ROOT / "exercises" / "exercise8.toml").read_text(encoding="utf-8")
        (teacher / "teach8.toml").write_text(src.replace('id = "exercise8"', 'id = "teach8"', 1), encoding="utf-8")
        for name, args, limit, codes in _limits_cases():
            args = [a.replace("{teacher}", str(teacher)) for a in args]
            dt, rss, code, line = run_cli(args, cwd=tmp)
            over = dt - limit
            wrong = code not in codes or over > 1.5 or rss >= 1024 or "Traceback" in line
            bad += wrong
            worst = max(worst, (over, name))
            peak = max(peak, (rss, name))
            print(f"{name:24} {limit:8.1f} {dt:8.2f} {over:7.2f} {rss:9.0f} {code:>4}  {'!! ' if wrong else ''}"
                  f"{line[:70]}")
        print()
        for name, args, n in (("sigterm-prove", ["prove", NESTED_EXP_15, "--timeout", "120"], 1),
                              ("sigterm-grade", ["grade", "--answers", "heavy.csv", "--jobs", "2"], 2)):
            (Path(tmp) / "heavy.csv").write_text(heavy_csv(), encoding="utf-8")
            dt, code, alive, line, tracebacks = sigterm_case(args, n, cwd=tmp)
            wrong = code != 143 or alive or tracebacks or dt > 1.5
            bad += wrong
            print(f"{name:24} SIGTERM -> exit {code} in {dt:.2f} s; children alive 1 s later: {alive}; "
                  f"tracebacks: {tracebacks}; stderr: {line[:50]}{'  !!' if wrong else ''}")
        print()
        runs = grade_runs(Path(tmp))
        for i, (dt, rss, counts, _) in enumerate(runs, 1):
            print(f"grade 26 heavy answers, run {i}: {dt:6.1f} s  {counts}")
        same = all(r[3] == runs[0][3] for r in runs)
        graded_timeouts = sum(1 for r in runs for st in r[3] if st in ("incorrect", "invalid"))
        wrong = not same or graded_timeouts
        bad += wrong
        print(f"grade: statuses identical in all runs: {same}; rows scored as invalid/incorrect: {graded_timeouts}"
              f"{'  !!' if wrong else ''}")
    print()
    print(f"worst case vs its limit : {worst[0]:+.2f} s ({worst[1]}); must be <= +1.5 s")
    print(f"peak memory (any case)  : {peak[0]:.0f} MiB ({peak[1]}); must be < 1024 MiB")
    print(f"unexpected outcomes     : {bad}")
    return bad, worst[0], peak[0]


def main(argv: list[str]) -> int:
    if "--limits" in argv:
        bad, _, _ = limits_section()
        return 1 if bad else 0
    quick = "--quick" in argv
    if "--in-process" in argv:
        os.environ["CONVEXPROOF_NO_FORK"] = "1"
    timeout = 10.0
    cases = [("refused", n, t) for n, t in _hostile()]
    if not quick:
        cases += [("heavy", n, t) for n, t in HEAVY]
    mode = "in-process" if os.environ.get("CONVEXPROOF_NO_FORK") else "forked child (hard limit)"
    print(f"convexproof hostile-input benchmark: {len(cases)} inputs, prove --timeout {timeout:g}, engine: {mode}")
    print(f"LIMITS: {LIMITS}")
    print()
    head = f"{'kind':8} {'input':26} {'parse ms':>9} {'parse KiB':>10} {'result':9} {'exit':>4} " \
           f"{'prove s':>8} {'prove KiB':>10}  verdict / message"
    print(head)
    print("-" * len(head) + "-" * 20)
    rows = []
    bugs = 0
    for kind, name, text in cases:
        p_dt, p_peak, outcome = measure_parse(text)
        v_dt, v_peak, code, verdict = measure_prove(text, timeout)
        wrong = (kind == "refused" and (outcome != "refused" or code != 2)) or outcome.startswith("BUG") or code == 3
        bugs += wrong
        rows.append((kind, name, p_dt, p_peak, outcome, code, v_dt, v_peak, verdict))
        print(f"{kind:8} {name[:26]:26} {p_dt * 1000:9.2f} {_kib(p_peak):>10} {outcome:9} {code:>4} "
              f"{v_dt:8.3f} {_kib(v_peak):>10}  {'!! ' if wrong else ''}{verdict}")
    print()
    worst_parse = max(rows, key=lambda r: r[2])
    worst_prove = max(rows, key=lambda r: r[6])
    worst_mem = max(rows, key=lambda r: max(r[3], r[7]))
    worst_refused = max((r for r in rows if r[0] == "refused"), key=lambda r: r[6])
    print(f"worst parse time     : {worst_parse[2] * 1000:.2f} ms ({worst_parse[1]})")
    print(f"worst prove time     : {worst_prove[6]:.3f} s ({worst_prove[1]}, exit {worst_prove[5]})")
    print(f"worst refused (prove): {worst_refused[6]:.3f} s ({worst_refused[1]})")
    print(f"peak tracemalloc     : {_kib(max(worst_mem[3], worst_mem[7]))} KiB ({worst_mem[1]})")
    print(f"ru_maxrss self       : {_maxrss_mib(resource.RUSAGE_SELF):.1f} MiB")
    print(f"ru_maxrss children   : {_maxrss_mib(resource.RUSAGE_CHILDREN):.1f} MiB")
    print(f"unexpected outcomes  : {bugs}")
    if not quick:
        print()
        bad, _, _ = limits_section()
        bugs += bad
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
