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
from convexproof.errors import ConvexproofError  # noqa: E402
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


def main(argv: list[str]) -> int:
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
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
