"""The command line: thin click commands over the library API.

Every command calls the library and catches :class:`ConvexproofError`; the CLI
prints one line on stderr and exits with 2.  Usage errors (bad options) get one
line and exit 2 too.  Heavy modules are imported inside the commands so that
``convexproof list`` does not pay for the engine.
"""

from __future__ import annotations

import os
import sys
import time

import click

from convexproof.runtime.errors import ConvexproofError
from convexproof.runtime.limits import DEFAULT_TIMEOUT, TIMEOUT_RANGE, process_elapsed

EXERCISES_OPT = click.option(
    "--exercises", "exercises_dir", type=click.Path(file_okay=False), default=None,
    help="Folder of the teacher's own exercise files (also CONVEXPROOF_EXERCISES); "
    "they are searched before the shipped ones.")
SEED_OPT = click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
                        help="Reproducible variant with other parameters; no seed gives the canonical values.")


def _check_output(ctx, param, value):
    """``-o FILE`` is checked while the options are parsed, before any work is done."""
    if value is not None:
        from convexproof.runtime.safeio import check_output

        check_output(value)
    return value


OUTPUT_OPT = click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, callback=_check_output,
                          help="Write to FILE instead of standard output (atomically for a regular file, "
                          "keeping its mode; pipes and devices are written through).")


def write_output(text: str | bytes, output: str | None) -> None:
    """Print, or write FILE (see :mod:`convexproof.runtime.safeio`): never half a file, never a replaced device."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            click.echo(text, nl=not text.endswith("\n"))
        return
    from convexproof.runtime.safeio import write_file

    write_file(output, text.encode("utf-8") if isinstance(text, str) else text)


class _Group(click.Group):
    """A click group whose every error is one line on stderr with exit code 2.

    Overriding ``main`` (rather than wrapping it) means click's CliRunner in the
    tests goes through exactly the same handling as the console script.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        global _COMMAND_STARTED
        _COMMAND_STARTED = time.monotonic()
        old_term = _on_sigterm()
        try:
            rv = super().main(args=args, prog_name=prog_name or "convexproof", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except Terminated:
            _fail("terminated", 143)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 130)
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)
        except ConvexproofError as exc:
            _fail(exc.one_line(), 2)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except (RecursionError, MemoryError):
            _fail("input is too complex", 2)
        except ValueError as exc:
            if "null byte" not in str(exc):  # os.stat/open (also inside click.Path) on a name with NUL
                _fail(f"internal error ({type(exc).__name__}: {exc}); please report this", 3)
            _fail("a file or folder name holds a NUL character", 2)
        except Exception as exc:  # a bug: still one line, never a traceback
            _fail(f"internal error ({type(exc).__name__}: {exc}); please report this", 3)
        finally:
            _restore_sigterm(old_term)
        sys.exit(rv if isinstance(rv, int) else 0)


_STARTUP = 0.0  # seconds the process ran before main() (set by main(), not by click's test runner)
_FAST_EXIT = False  # set by prove/regularize: main() ends the process without the interpreter's clean-up
_COMMAND_STARTED = time.monotonic()


def _spent() -> float:
    """Seconds this command has used so far, start-up included: taken off prove/regularize --timeout."""
    return _STARTUP + max(time.monotonic() - _COMMAND_STARTED, 0.0)


class Terminated(BaseException):
    """SIGTERM arrived: unwind (every limited child is killed on the way out), one line, exit 143."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _on_sigterm():
    """Turn SIGTERM into :class:`Terminated` in the main thread; returns the previous handler (or None)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError):
        return None


def _restore_sigterm(old) -> None:
    import signal

    if old is None:
        return
    try:
        signal.signal(signal.SIGTERM, old)
    except (ValueError, OSError, TypeError):
        pass


def _fail(message: str, code: int) -> None:
    from convexproof.runtime.safetext import terminal_safe

    click.echo("convexproof: " + terminal_safe(" ".join(str(message).split()))[:400], err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convexproof", message="convexproof %(version)s")
def cli() -> None:
    """convexproof: convexity proofs, worked solutions and answer checking.

    \b
    Exercises:  list, show, solve, handout, export, selftest
    Engine:     prove, regularize
    Grading:    check, grade
    """


# ---------------------------------------------------------------- exercises
@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@EXERCISES_OPT
def list_cmd(fmt: str, exercises_dir: str | None) -> None:
    """List the exercises, one line each (id and title)."""
    from convexproof.api import list_exercises

    bad: list[str] = []  # files that cannot be read: one line each on stderr, the rest is listed, exit 2
    exs = list_exercises(exercises_dir, errors=bad)
    if fmt == "json":
        import json

        click.echo(json.dumps([{"id": e.id, "title": e.title, "tags": e.tags, "parts": list(e.parts)} for e in exs],
                              ensure_ascii=False, indent=2))
    else:
        width = max((len(e.id) for e in exs), default=0)
        for e in exs:
            click.echo(f"{e.id:<{width}}  {e.title}")
    _report_unreadable(bad)


def _report_unreadable(messages: list[str]) -> None:
    """One line on stderr per exercise file that cannot be read, then exit 2."""
    if messages:
        from convexproof.runtime.safetext import terminal_safe

        for m in messages:
            click.echo("convexproof: " + terminal_safe(" ".join(m.split()))[:400], err=True)
        sys.exit(2)


# --format of the commands that write mathematics: one step tree, several notations.  The default is
# "text" whatever stdout is (a terminal, a pipe or a test), so the output never depends on where it goes.
FORMAT_HELP = ("text: Unicode mathematics for a terminal (the default); md: Markdown with $…$ and $$…$$ TeX "
               "mathematics (GitHub, Jupyter, Quarto); latex: a standalone document for pdflatex; json: the data.")
DOC_FORMAT_OPT = click.option("--format", "fmt", type=click.Choice(["text", "md", "latex", "json"]), default="text",
                              show_default=True, help=FORMAT_HELP)


@cli.command()
@click.argument("exercise")
@DOC_FORMAT_OPT
@SEED_OPT
@EXERCISES_OPT
def show(exercise: str, fmt: str, seed: int | None, exercises_dir: str | None) -> None:
    """Show an exercise's statement and hints, without the solution."""
    from convexproof.api import statement_document

    click.echo(statement_document(exercise, fmt, seed, exercises_dir), nl=False)


@cli.command()
@click.argument("exercise")
@DOC_FORMAT_OPT
@SEED_OPT
@OUTPUT_OPT
@EXERCISES_OPT
def solve(exercise: str, fmt: str, seed: int | None, output: str | None, exercises_dir: str | None) -> None:
    """Print the worked solution of EXERCISE (every result computed by the engine)."""
    from convexproof.api import solution_document

    text, figures = solution_document(exercise, fmt, seed, exercises_dir, output=output)
    for path, svg in figures.items():  # -o FILE.md: its figures as SVG files beside it, by the rules of -o
        write_output(svg, path)
    write_output(text, output)


@cli.command()
@click.argument("exercises", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="All exercises.")
@click.option("--solutions/--no-solutions", default=None,
              help="Include the worked solutions (default: yes, but no for --format ipynb).")
@click.option("--key", "key", is_flag=True, help="Put the solutions in an answer key at the end.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "latex", "pdf", "ipynb"]), default="text",
              show_default=True,
              help="text: Unicode mathematics (the default); md: Markdown with $…$ TeX mathematics; latex; pdf; "
                   "ipynb: a Jupyter self-check notebook (statement, answer and check cells per part).")
@SEED_OPT
@click.option("--title", default="Convexity exercises", show_default=True)
@click.option("--roster", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CSV with a 'student' column: one variant per student plus one answer key.")
@click.option("--hints/--no-hints", default=True, show_default=True, help="Print the exercises' hints.")
@click.option("--exam", is_flag=True, help="An exam (LaTeX exam class): points and an answer box per part; "
                                           "worked solutions, if asked for, at the end.")
@click.option("--points", type=int, default=2, show_default=True, help="Points per part with --exam.")
@click.option("--allow-canonical", is_flag=True,
              help="With --roster, allow the canonical variant (whose solution may be published).")
@OUTPUT_OPT
@EXERCISES_OPT
def handout(exercises, all_, solutions, key, fmt, seed, title, roster, hints, exam, points, allow_canonical, output,
            exercises_dir) -> None:
    """Build a handout of EXERCISES (numbered), optionally with solutions."""
    from convexproof.api import handout_document

    write_output(handout_document(exercises, all_=all_, solutions=solutions, key=key, fmt=fmt, seed=seed,
                                  title=title, roster=roster, hints=hints, exam=exam, points=points,
                                  allow_canonical=allow_canonical, exercises_dir=exercises_dir), output)


@cli.command()
@click.argument("exercises", nargs=-1, required=True)
@click.option("--to", "target", type=click.Choice(["moodle", "gradescope", "prairielearn"]), default="moodle",
              show_default=True)
@SEED_OPT
@click.option("--roster", type=click.Path(dir_okay=False, exists=True), default=None,
              help="gradescope: CSV with a 'student' column; each student is graded on their own variant.")
@click.option("--visibility", type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
              default=None, help="gradescope: when students see the results (default: visible).")
@click.option("--server-files", "server_files", type=click.Path(file_okay=False), default=None,
              help="prairielearn: also copy convexproof into this folder (the course's serverFilesCourse).")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="moodle: FILE (default: standard output); gradescope: the zip FILE; prairielearn: DIR.")
@EXERCISES_OPT
def export(exercises, target, seed, roster, visibility, server_files, output, exercises_dir) -> None:
    """Export EXERCISES: Moodle XML, a Gradescope autograder zip or PrairieLearn questions."""
    from convexproof.api import export as run_export

    data = run_export(target, exercises, seed=seed, roster=roster, visibility=visibility, server_files=server_files,
                      output=output, exercises_dir=exercises_dir)
    if data is not None:
        write_output(data, output)


@cli.command()
@click.argument("exercises", nargs=-1)
@click.option("--seeds", default=50, show_default=True, type=click.IntRange(0, 1000),
              help="Also solve every exercise for seeds 1..N.")
@EXERCISES_OPT
def selftest(exercises, seeds, exercises_dir) -> None:
    """Run the exercises' self-tests against the engine; exit 1 on any failure."""
    from convexproof.library.selftest import run_selftests

    bad: list[str] = []
    ok = run_selftests(list(exercises), seeds=seeds, exercises_dir=exercises_dir, echo=click.echo, unreadable=bad)
    _report_unreadable(bad)  # a file that cannot be read: exit 2, after the others ran
    sys.exit(0 if ok else 1)


# ------------------------------------------------------------------- engine
class _Seconds(click.FloatRange):
    """A FloatRange that also refuses nan (nan passes every comparison-based range check)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if rv != rv:
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return rv


def _split_names(values) -> list[str] | None:
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names or None


@cli.command()
@click.argument("expr")
@click.option("--wrt", multiple=True, help="Variable (repeat, or a comma-separated list). Default: all symbols.")
@click.option("--where", multiple=True, help='Domain or parameter range, e.g. "0 < p < 1" (repeatable).')
@DOC_FORMAT_OPT
@click.option("--timeout", type=_Seconds(*TIMEOUT_RANGE), default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds for the whole command (analysis and writing the proof); "
              "an analysis that runs over gives 'unknown'.")
@click.option("--shape", "shapes", multiple=True, metavar="NAME=DIMS",
              help="Vector or matrix shape, e.g. X=n,d or w=d (repeatable): EXPR is then a vector formula "
              "(@, .T, sum, dot, norm, logsumexp) and the verdict holds for every value of the data.")
@OUTPUT_OPT
def prove(expr, wrt, where, fmt, timeout, shapes, output) -> None:
    """Decide whether EXPR is convex: a proof, a verified witness, or 'unknown'."""
    _emit(*_proof_document("prove", expr, wrt, where, None, shapes, fmt, timeout), output)


def _proof_document(kind, expr, wrt, where, penalty, shapes, fmt, timeout) -> tuple[str, str | None]:
    """prove and regularize: parsing, analysis and rendering run in one child under the time limit and
    memory cap (with --shape: issue #11, a vector formula decided for every value of the data)."""
    from convexproof.api import proof_document

    global _FAST_EXIT
    _FAST_EXIT = not shapes
    return proof_document(kind, expr, wrt=_split_names(wrt), where=list(where), penalty=penalty,
                          shapes=list(shapes), fmt=fmt, timeout=timeout, spent=_spent())


def _emit(text: str, note: str | None, output) -> None:
    """A proof document to stdout or -o, and its note (if any) as one line on stderr."""
    write_output(text, output)
    if note:
        click.echo("convexproof: " + note, err=True)


@cli.command()
@click.argument("expr")
@click.option("--wrt", multiple=True, help="Variable (repeat, or a comma-separated list). Default: all symbols.")
@click.option("--where", multiple=True, help="Domain of the variables (repeatable).")
@click.option("--penalty", default=None, help="Penalty containing lam; default lam*(sum of squares of the variables).")
@DOC_FORMAT_OPT
@click.option("--timeout", type=_Seconds(*TIMEOUT_RANGE), default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds for the whole command (penalty check, analysis and writing the steps).")
@click.option("--shape", "shapes", multiple=True, metavar="NAME=DIMS",
              help="Vector or matrix shape (repeatable): the smallest lam with EXPR + lam*norm(w)**2 convex for every "
                   "value of the data, max(0, -lambda_min(Hessian)/2) when the Hessian is constant.")
@OUTPUT_OPT
def regularize(expr, wrt, where, penalty, fmt, timeout, shapes, output) -> None:
    """The smallest lam >= 0 making EXPR + penalty convex, with the steps."""
    if shapes and penalty is not None:
        raise click.UsageError("--penalty is not available with --shape (the penalty is lam*norm(w)**2)")
    _emit(*_proof_document("regularize", expr, wrt, where, penalty, shapes, fmt, timeout), output)


# ------------------------------------------------------------------ grading
@cli.command()
@click.argument("exercise")
@click.option("--answer", default=None, help="The student's answer, as typed.")
@click.option("--derivation", "derivation_file", default=None, metavar="FILE",
              help="Check a derivation line by line instead ('-' reads standard input); exit 1 if a line is wrong.")
@click.option("--part", default=None, help="Answer part (default: the exercise's main part).")
@SEED_OPT
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "latex"]), default="text",
              show_default=True, help="md and latex: a report of a derivation.")
@click.option("--reveal", is_flag=True, help="Include the correct answer in the feedback.")
@EXERCISES_OPT
def check(exercise, answer, derivation_file, part, seed, fmt, reveal, exercises_dir) -> None:
    """Check one answer. Exit 0 correct, 1 incorrect or undecided (a teacher reviews it), 2 invalid."""
    import json

    from convexproof.api import check as run_check

    if derivation_file is not None or answer is None:
        from convexproof.api import check_derivation_file

        if derivation_file is None:
            raise click.UsageError("give --answer TEXT or --derivation FILE")
        if answer is not None:
            raise click.UsageError("give --answer or --derivation, not both")
        r = check_derivation_file(exercise, derivation_file, part=part, seed=seed, exercises_dir=exercises_dir)
        if r.status == "invalid" and (r.derivation is None or fmt == "text"):
            _fail(f"{r.exercise}, part {r.part}: invalid: {r.feedback}", 2)
        if fmt == "json":
            click.echo(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
        elif fmt in ("md", "latex"):
            click.echo(r.derivation.to_document(fmt), nl=False)
        else:
            click.echo(r.to_text())
        sys.exit({"correct": 0, "incorrect": 1}.get(r.status, 2))
    if fmt in ("md", "latex"):
        raise click.UsageError("--format md and latex are for --derivation")

    result = run_check(exercise, answer, part=part, seed=seed, reveal=reveal, exercises_dir=exercises_dir)
    if fmt == "json":
        from convexproof.runtime.safetext import json_safe  # the answer is echoed: no escape sequence reaches the terminal

        click.echo(json_safe(json.dumps(result.to_dict(), ensure_ascii=False, indent=2)))
    elif result.status == "invalid":  # bad input: one line on stderr, like every other error
        _fail(result.to_text(), 2)
    else:
        click.echo(result.to_text())
    sys.exit({"correct": 0, "incorrect": 1, "undecided": 1}.get(result.status, 2))


@cli.command()
@click.option("--answers", "answers_file", required=True, type=click.Path(dir_okay=False),
              help="CSV with columns student,exercise,part,answer[,seed].")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "md", "text", "latex", "pdf"]), default=None,
              help="The rows: csv (default), json, md. With --summary: text (default), md, json, latex, pdf.")
@click.option("--summary", is_flag=True,
              help="Class analysis instead of the rows: per part, each note code's count and share, with its meaning; "
                   "per student, the points.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: all cores).")
@OUTPUT_OPT
@EXERCISES_OPT
def grade(answers_file, fmt, summary, jobs, output, exercises_dir) -> None:
    """Grade a CSV of answers; bad rows are reported as invalid, never abort."""
    from convexproof.api import grade_document

    fmt = fmt or ("text" if summary else "csv")
    if not summary and fmt in ("text", "latex", "pdf"):
        raise click.UsageError(f"--format {fmt} is for --summary; the rows are csv, json or md")
    if summary and fmt == "csv":
        raise click.UsageError("--summary is text, md, json, latex or pdf")
    write_output(grade_document(answers_file, fmt=fmt, jobs=jobs, exercises_dir=exercises_dir, summary=summary,
                                on_summary=lambda text: click.echo(text, err=True)), output)


# --------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    """Entry point (console script and ``python -m convexproof``)."""
    global _STARTUP, _FAST_EXIT
    whole_process = argv is None  # the console script or `python -m convexproof`, not a call from Python code
    # Python's start-up and imports count against prove/regularize --timeout
    _STARTUP, _FAST_EXIT = (process_elapsed() if whole_process else 0.0), False
    try:
        cli.main(args=argv, prog_name="convexproof")
    except SystemExit as exc:
        if not (_FAST_EXIT and whole_process):
            raise
        # prove/regularize: skip the interpreter's clean-up of SymPy's caches (0.2 to 0.4 s) so that the
        # command ends within its --timeout; the output is flushed, no file is left open
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
                pass
        os._exit(code)


if __name__ == "__main__":
    main()
