"""Checking one student answer: ``convexproof check`` and ``convexproof.check()``.

The order of business for an answer to one part of an exercise variant:

1. read it (verdict words from a fixed vocabulary; everything else through
   :mod:`convexproof.parse`); unreadable answers are ``invalid`` with a reason;
2. compare it with the solver's answer (layered: see :mod:`convexproof.grading.answers`);
3. if it is wrong, look for the exercise file's known mistakes (their message
   and note), then compute feedback from the engine's facts: a negative
   curvature point and a verified chord for a λ that is too small, a proof
   sketch for a λ that is convex but not minimal, a point where two
   expressions disagree (with both values) and recognised slips (sign, a
   dropped term, a factor 2, the first derivative).

Feedback never states the solver's answer unless ``reveal=True``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from convexproof.grading import answers as A
from convexproof.runtime.errors import AnalysisTimeout, ConvexproofError, ExerciseError, ParseError
from convexproof.parse import as_sympy

from convexproof.runtime.limits import CHECK_TIMEOUT as DEFAULT_TIMEOUT  # seconds for one answer, parsing to feedback (limits.DEFAULTS)


@dataclass
class CheckResult:
    exercise: str
    part: str
    answer: str
    status: str  # "correct" | "incorrect" | "undecided" (a teacher reviews it) | "invalid"
    score: float
    feedback: str
    note: str | None = None
    method: str | None = field(default=None, compare=False)  # exact / numeric / words (not in JSON)
    read_as: str | None = None  # the answer as it was read, in the exercise's notation (STACK's validation echo)

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "part": self.part, "answer": self.answer, "read_as": self.read_as,
                "status": self.status, "score": self.score, "feedback": self.feedback, "note": self.note}

    def to_text(self) -> str:
        head = f"{self.exercise}, part {self.part}: {self.status}"
        if self.note:
            head += f" ({self.note})"
        if self.status == "invalid":
            return head + ": " + self.feedback
        lines = [head]
        if self.read_as:
            lines.append(f"Your answer was read as: {self.read_as}")
        if self.feedback:
            lines.append(self.feedback)
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Exercise context, cached per (exercise, seed, folder)
# --------------------------------------------------------------------------
@dataclass
class _Context:
    ex: Any
    solution: Any
    facts: dict
    domains: dict = field(default_factory=dict)


_CONTEXTS: dict[tuple, _Context] = {}
_MAX_CONTEXTS = 128


def _context_key(exercise: str, seed: int | None, exercises_dir) -> tuple:
    return (exercise, seed, str(exercises_dir) if exercises_dir else None, os.environ.get("CONVEXPROOF_EXERCISES"))


def _context(exercise: str, seed: int | None, exercises_dir) -> _Context:
    """The exercise variant and its solution, loaded and solved in this process (cached)."""
    from convexproof.library import load_exercise
    from convexproof.solvers import solve

    key = _context_key(exercise, seed, exercises_dir)
    if key not in _CONTEXTS:
        ex = load_exercise(exercise, seed=seed, exercises_dir=exercises_dir)
        sol = solve(ex)
        if len(_CONTEXTS) >= _MAX_CONTEXTS:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = _Context(ex, sol, dict(getattr(sol, "facts", {}) or {}))
    return _CONTEXTS[key]


def _shipped(exercise: str, exercises_dir) -> bool:
    """True for the exercises shipped with convexproof (trusted; selftest keeps them fast)."""
    from convexproof.library import exercise_files
    from convexproof.runtime.resources import data_dir

    path = exercise_files(exercises_dir).get(exercise)
    return path is not None and path.parent == data_dir("exercises")


def _solve_probe(exercise: str, seed: int | None, exercises_dir) -> "_Context | None":
    """Load and solve a variant in a child under the solving limit, and send it back for the parent's cache.

    Checking needs the exercise, the answers and the facts, not the solution's
    steps and figures, which are dropped.  None when the rest cannot be sent
    (pickled); the parent then solves the variant itself, once.
    """
    return _portable(_context(exercise, seed, exercises_dir))


def _portable(ctx: _Context) -> "_Context | None":
    """The context without the solution's steps and figures (checking does not use them), if it pickles."""
    import pickle
    from dataclasses import replace

    try:
        slim = _Context(ctx.ex, replace(ctx.solution, steps=[], figures=[]), ctx.facts)
        pickle.dumps(slim, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - e.g. a SymPy function class in the facts
        return None
    return slim


def solved_since(known: set) -> dict:
    """Variants solved in this process whose key is not in ``known``, ready to send to a parent process."""
    out = {}
    for key, ctx in list(_CONTEXTS.items()):
        if key not in known:
            slim = _portable(ctx)
            if slim is not None:
                out[key] = slim
    return out


def adopt(contexts: dict) -> None:
    """Keep variants solved in a child process (from :func:`solved_since`), so they are not solved again."""
    for key, ctx in contexts.items():
        if key not in _CONTEXTS:
            _remember(key, ctx)


def _remember(key: tuple, ctx: _Context) -> None:
    if len(_CONTEXTS) >= _MAX_CONTEXTS:
        _CONTEXTS.pop(next(iter(_CONTEXTS)))
    _CONTEXTS[key] = ctx


def warm(exercise: str, seed: int | None = None, exercises_dir=None) -> None:
    """Solve the variant in this process, so later checks reuse it (call once it is known to be fast)."""
    _context(exercise, seed, exercises_dir)


def clear_cache() -> None:
    _CONTEXTS.clear()


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------
def check(exercise: str, answer: str | None = None, part: str | None = None, seed: int | None = None,
          reveal: bool = False, exercises_dir=None, timeout: float | None = DEFAULT_TIMEOUT, isolate: bool = True,
          derivation: str | None = None, given: dict | None = None) -> CheckResult:
    """Check ``answer`` to ``part`` (default: the main part) of an exercise variant.

    Raises :class:`ExerciseError` for an unknown exercise or part; an answer
    that cannot be read, or that takes longer than ``timeout`` seconds, is
    ``invalid`` with the reason as feedback.  The exercise is loaded and solved
    here (and cached); the answer is checked in a child process that is killed
    at the time limit (:func:`convexproof.runtime.limits.run_limited`), with a
    cooperative deadline inside.  ``isolate=False`` checks in this process
    with the cooperative deadline only (``grade`` workers add a timer signal).
    ``derivation=text`` (or an answer to a part of type derivation) checks a
    derivation line by line (:mod:`convexproof.grading.derivation`).  ``given`` holds
    the student's answers to other parts (part name -> text): a part marked
    ``follows = "other part"`` is then judged against the student's own
    answer there when that one is wrong (error carried forward).
    """
    from convexproof.runtime.limits import run_limited, solve_timeout

    if isolate and _context_key(exercise, seed, exercises_dir) not in _CONTEXTS and not _shipped(
            exercise, exercises_dir):
        # A teacher's file may be slow to solve: make sure it solves within the limit
        # (in a child process) before solving it here.
        try:
            probed = run_limited(_solve_probe, exercise, seed, exercises_dir, timeout=solve_timeout())
        except AnalysisTimeout:
            raise ExerciseError(f"{exercise}: solving the exercise ran over its time limit") from None
        if probed is not None:  # solved once, in the child: reused here (it used to be solved twice)
            _remember(_context_key(exercise, seed, exercises_dir), probed)
    ctx = _context(exercise, seed, exercises_dir)
    if derivation is not None or ctx.ex.part(part).type == "derivation":
        from convexproof.grading.derivation import check_derivation

        return check_derivation(exercise, answer if derivation is None else derivation, part=part, seed=seed,
                                exercises_dir=exercises_dir, timeout=timeout, isolate=isolate)
    p = ctx.ex.part(part)
    text = answer if isinstance(answer, str) else ""
    result = CheckResult(ctx.ex.id, p.name, text, "invalid", 0.0, "")
    if not isinstance(answer, str):
        result.feedback = "the answer must be text"
        return result
    if not answer.strip():
        result.feedback = "empty answer"
        return result
    with _invalid_on_error(result):
        if not isolate:
            return _check_limited(exercise, seed, exercises_dir, p.name, answer, reveal, timeout, given)
        return run_limited(_check_limited, exercise, seed, exercises_dir, p.name, answer, reveal, timeout, given,
                           timeout=timeout)
    return result


def _check_limited(exercise, seed, exercises_dir, part, answer, reveal, timeout, given=None) -> CheckResult:
    """The check proper (in the child process, under the cooperative deadline)."""
    from convexproof.runtime.limits import deadline

    ctx = _context(exercise, seed, exercises_dir)
    p = ctx.ex.part(part)
    result = CheckResult(ctx.ex.id, p.name, answer, "invalid", 0.0, "")
    with _invalid_on_error(result), deadline(timeout or DEFAULT_TIMEOUT):
        checker = _Checker(ctx, p, answer, reveal, result)
        checker.given = dict(given or {})
        checker.run()
    return result


@contextmanager
def _invalid_on_error(result: CheckResult):
    """An unparsable, too complex or timed-out answer is graded invalid; a broken exercise is raised."""
    try:
        yield
    except AnalysisTimeout as exc:
        _invalid(result, f"timed out: {exc.one_line()}")
        result.method = "timed-out"  # grade reports it as undecided and retries it alone, never as a grade
    except ExerciseError:
        raise
    except ConvexproofError as exc:  # ParseError included
        _invalid(result, exc.one_line())
    except (RecursionError, MemoryError, OverflowError):
        _invalid(result, "the answer is too complex to check")


def _invalid(result: CheckResult, reason: str) -> None:
    result.status, result.score, result.note, result.feedback = "invalid", 0.0, None, reason


# --------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------
def _u(obj) -> str:
    from convexproof.render.mathtext import unicode

    if isinstance(obj, sp.Rational) and not obj.is_Integer and obj.q > 100:
        q = obj.q
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if q == 1 and obj.q <= 10**12:  # a terminating decimal, as the student typed it: 2.999
            from decimal import Decimal

            text = format(Decimal(obj.p) / Decimal(obj.q), "f")
            if len(text) <= 12:
                return text.replace("-", "−")
        if _approximated(obj):
            return f"{float(obj):.6g}".replace("-", "−")  # 1/100000000000000000 reads better as 1e-17
    if isinstance(obj, sp.Float):
        return f"{float(obj):.6g}".replace("-", "−")
    return unicode(obj)


def _approximated(v) -> bool:
    """True if _u shows this rational rounded (so the text must say ≈, not =)."""
    if not isinstance(v, sp.Rational) or v.is_Integer or v.q <= 100:
        return False
    q = v.q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q == 1 and v.q <= 10**12:
        from decimal import Decimal

        if len(format(Decimal(v.p) / Decimal(v.q), "f")) <= 12:
            return False
    return abs(v.p) > 10**9 or v.q > 10**6


def _point_text(pt: dict) -> str:
    return ", ".join(f"{_u(s)} = {_u(v)}" for s, v in sorted(pt.items(), key=lambda kv: kv[0].name))


def _cmp_text(v) -> str:
    if isinstance(v, sp.Basic) and (v.is_Float or _approximated(v)):
        return "≈ " + _u(v)
    if isinstance(v, sp.Basic) and v.has(sp.nan):
        return "undefined"
    return "= " + _u(v)


class _Checker:
    def __init__(self, ctx: _Context, part, text: str, reveal: bool, result: CheckResult):
        self.ctx, self.part, self.text, self.reveal, self.result = ctx, part, text, reveal, result
        self.given: dict = {}  # the student's answers to other parts, for error carried forward
        self.ex = ctx.ex
        self.facts = ctx.facts
        answers = ctx.solution.answers
        if part.name not in answers:
            raise ExerciseError(f"{self.ex.path.name}: the solver gives no answer for part {part.name!r}")
        self.correct = answers[part.name]
        self.seed_key = f"{self.ex.id}:{self.ex.seed}:{part.name}"
        self.subs = self.ex.subs() if self.ex.values else {}
        self.param_names = {s.name for s in self.subs}

    # ---------------------------------------------------------------- helpers
    def echo(self, ans) -> None:
        """Record how the answer was read: exact values as the parser built them; a typed decimal stays decimal."""
        v = ans.value if hasattr(ans, "value") else ans
        if A.typed_decimal(self.text) and isinstance(v, sp.Rational) and getattr(ans, "kind", None) == "number":
            self.result.read_as = repr(float(v))  # 0.18 stays 0.18, not 9/50
            return
        if A.typed_decimal(self.text) and isinstance(v, sp.Expr) and not isinstance(v, sp.MatrixBase):
            v = v.xreplace({r: sp.Float(r, 12) for r in v.atoms(sp.Rational) if r.q != 1})
        text = _u(v) if not isinstance(v, list) else "(" + ", ".join(_u(x) for x in v) + ")"
        if getattr(ans, "kind", None) == "bound":
            text = f"{ans.name} {ans.op} {text}".replace(">=", "≥").replace("<=", "≤")
            text = _u(sp.Symbol(ans.name)) + text[len(ans.name):]
        self.result.read_as = text.replace(".0000000000", "").replace("00000000", "")

    def undecided(self, what: str = "your answer") -> None:
        """Neither proved equal to the correct answer nor shown to differ: a teacher decides."""
        self.set("undecided", f"Could not decide automatically whether {what} is right: it agrees with the correct "
                 "answer wherever it was tested, but equality could not be proved. A teacher will review it.",
                 "undecided", "undecided")

    def set_mistake(self, m) -> None:
        """A known mistake: its feedback, its note code, and its partial credit (a fraction of the part's points)."""
        self.set("incorrect", self.mistake_feedback(m), m.note)
        self.result.score = float(getattr(m, "score", 0.0) or 0.0)

    def set(self, status: str, feedback: str = "", note: str | None = None, method: str | None = None) -> None:
        r = self.result
        r.status, r.note, r.method = status, note, method
        r.score = 1.0 if status == "correct" else 0.0
        parts = [feedback.strip()] if feedback.strip() else []
        if self.reveal and status != "correct":
            parts.append(f"The correct answer is {self.correct_text()}.")
        r.feedback = " ".join(parts)

    def correct_text(self) -> str:
        c = self.correct
        if self.part.accept_condition and self.parameter() is not None:
            return f"{_u(self.parameter())} = {_u(c)} (every {_u(self.parameter())} ≥ {_u(c)} works)"
        return _u(c) if not isinstance(c, str) else c

    def domain(self) -> A.Domain:
        if self.part.name not in self.ctx.domains:
            from convexproof.parse import parse_condition

            conds = [parse_condition(a) for a in self.part.assume]
            where = self.facts.get("where") or ()
            if isinstance(where, (list, tuple)):
                for w in where:
                    conds.append(parse_condition(w) if isinstance(w, str) else w)
            self.ctx.domains[self.part.name] = A.Domain(conds)
        return self.ctx.domains[self.part.name]

    def where_conditions(self) -> list:
        from convexproof.parse import parse_condition

        conds = [parse_condition(a) for a in self.part.assume]
        where = self.facts.get("where") or ()
        if isinstance(where, (list, tuple)):
            conds += [parse_condition(w) if isinstance(w, str) else w for w in where]
        return conds

    def names(self) -> set[str] | None:
        """Names an answer may use: the part's variables, else those of the correct answer."""
        if self.part.variables:
            return set(self.part.variables)
        c = self.correct
        if isinstance(c, sp.Basic):
            return {s.name for s in c.free_symbols} | {s.name for s in self.domain().low} | {
                s.name for s in self.domain().high}
        return None

    def _with_params(self, names):
        return None if names is None else names | self.param_names

    def parameter(self):
        lam = self.facts.get("parameter")
        if isinstance(lam, str):
            from convexproof.parse import symbol

            lam = symbol(lam)
        return lam

    def mistake_feedback(self, m) -> str:
        out = []
        try:
            for kind, v in self.ex.prose_segments(m.feedback):
                out.append(v if kind == "text" else _u(v))
        except ConvexproofError:
            return m.feedback
        return "".join(out)

    def mistakes(self):
        return [m for m in self.ex.mistakes if m.part == self.part.name]

    def known_mistake(self, matches):
        """The first known mistake of this part whose answer, parsed, ``matches``; else None."""
        for m in self.mistakes():
            try:
                mv = self.ex.formula(m.answer, where="mistakes.answer")
            except ConvexproofError:
                continue
            if matches(mv):
                return m
        return None

    def flag_known_mistake(self, matches) -> bool:
        """Grade as that mistake, with its feedback, when a known mistake ``matches``."""
        m = self.known_mistake(matches)
        if m is not None:
            self.set_mistake(m)
        return m is not None

    # ---------------------------------------------------------------- dispatch
    def run(self) -> None:
        typ = self.part.type
        getattr(self, f"check_{typ}")()

    # ---------------------------------------------------------------- verdicts
    def check_verdict(self) -> None:
        word = A.normalise_words(self.text)
        self.result.read_as = word
        correct = self.correct
        if isinstance(correct, bool):
            correct = "convex" if correct else "not convex"
        correct = A.normalise_words(str(correct))
        # a part's own words add to the built-in synonyms of each accepted word ("yes", "It is convex.")
        accept = set().union(*(A.verdict_group(A.normalise_words(w)) for w in [*self.part.accept, correct]))
        reject = set().union(*(A.verdict_group(A.normalise_words(w)) for w in self.part.reject)) if self.part.reject \
            else set()
        accept -= {A.normalise_words(w) for w in self.part.reject}
        mistake_words = {A.normalise_words(m.answer): m for m in self.mistakes()}
        if word in accept:
            self.set("correct", "", None, "words")
            return
        known = A.known_verdict_words(accept | reject | set(mistake_words))
        if word not in known:
            raise ParseError("expected a verdict such as convex or not convex")
        stronger = word in A.verdict_group("strictly convex") or word in A.verdict_group("strongly convex")
        if stronger and "convex" in accept and word not in reject and word not in mistake_words:
            self.check_stronger_claim(word)
            return
        for w, m in mistake_words.items():
            if word == w or word in A.verdict_group(w):
                self.set_mistake(m)
                return
        self.set("incorrect", self.verdict_feedback(word), "wrong-verdict")

    def check_stronger_claim(self, word: str) -> None:
        """'strictly/strongly convex' where the part asks for 'convex': right exactly when it is true."""
        strong = word in A.verdict_group("strongly convex")
        f, xs = self.subject()
        verdict = None
        if f is not None:
            try:
                from convexproof.engine import prove

                verdict = prove(f, wrt=list(xs), where=self.where_conditions(), timeout=8.0).verdict
            except ConvexproofError:
                verdict = None
        if verdict == "strongly convex" or (verdict == "strictly convex" and not strong):
            self.set("correct", "", None, "engine")
            return
        if verdict == "convex" and len(xs) == 1:
            from convexproof.engine.witness import flat_chord

            ch = flat_chord(f, xs[0])
            if ch is not None:
                x, a, b = xs[0], ch["a"][xs[0]], ch["b"][xs[0]]
                self.set("incorrect", f"It is convex, but not {word}: it is affine between {_u(x)} = {_u(a)} and "
                         f"{_u(x)} = {_u(b)}, where f({_u((a + b) / 2)}) = {_u(ch['lhs'])} equals the average "
                         f"(f({_u(a)}) + f({_u(b)}))/2 = {_u(ch['rhs'])}; a strictly convex function lies strictly "
                         "below its chords.", "not-strictly-convex")
                return
        self.set("undecided", f"The question asks whether the function is convex; your answer claims more "
                 f"({word}). It is convex, but the stronger claim could not be checked automatically: a teacher "
                 "will review it.", "stronger-claim", "undecided")

    def subject(self):
        """(f, variables) when the part is unambiguously about one function, else (None, ()).

        A part named ``verdict_<key>`` (or ``f2_<key>``) of a solver with a
        ``functions`` table is about ``functions.<key>`` in the solver's variable;
        otherwise the solver's own function, when the exercise has one verdict part.
        """
        conf = self.ex.solver if isinstance(self.ex.solver, dict) else {}
        names = conf.get("vars") or ([conf.get("var") or conf.get("variable")] if (conf.get("var") or
                                                                                    conf.get("variable")) else [])
        table = conf.get("functions")
        key = self.part.name.split("_", 1)[1] if "_" in self.part.name else None
        parts = self.ex.parts.values() if isinstance(self.ex.parts, dict) else self.ex.parts
        verdict_parts = [p for p in parts if p.type == "verdict"]
        text = None
        if isinstance(table, dict) and key in table and isinstance(table[key], str):
            text = table[key]
        elif len(verdict_parts) == 1 and isinstance(conf.get("f") or conf.get("function"), str):
            text = conf.get("f") or conf.get("function")
        if text is not None and names and all(isinstance(n, str) for n in names):
            from convexproof.parse import parse_expr, symbol
            from convexproof.parse.substitute import substitute

            try:
                f = parse_expr(text)
                f = substitute(f, self.subs) if self.subs else f
            except ConvexproofError:
                return None, ()
            xs = [symbol(n) for n in names]
            if f.free_symbols <= set(xs):
                return f, [x for x in xs if x in f.free_symbols] or xs
            return None, ()
        f = self.facts.get("function")
        xs = self.facts.get("variables") or ([self.facts["variable"]] if "variable" in self.facts else [])
        if isinstance(f, sp.Expr) and xs and len(verdict_parts) == 1 and set(xs) & f.free_symbols:
            return f, xs  # other symbols are the exercise's parameters, with their ranges in where/assume
        return None, ()

    def verdict_feedback(self, word: str) -> str:
        w = self.facts.get("witness")
        if isinstance(w, str) and w:
            return w
        claims_convex = word in A.verdict_group("convex") or word in A.verdict_group("strictly convex")
        f, xs = self.subject()
        if claims_convex and f is not None:
            w = _engine_witness(f, list(xs), self.where_conditions() + self.subject_domain())
            if w is not None:
                return f"{self.facts.get('name', 'f')} is not convex: " + _witness_text(w, self.facts.get("name", "f"))
        if claims_convex:
            return ("Look again: a convex function has f'' ≥ 0 (a positive semidefinite Hessian) at every "
                    "point of the domain. Try to find a point where this fails.")
        if f is not None:
            why = self.convexity_reason(f, xs)
            if why:
                return why
        return "Look again: check the sign of the second derivative (or the Hessian) on the whole domain."

    def subject_domain(self) -> list:
        """The domain the solver's ``domains`` table gives the part's own function (verdict_<key>), if any."""
        from convexproof.parse import parse_condition

        conf = self.ex.solver if isinstance(self.ex.solver, dict) else {}
        table = conf.get("domains")
        key = self.part.name.split("_", 1)[1] if "_" in self.part.name else None
        if isinstance(table, dict) and isinstance(table.get(key), str):
            try:
                return [parse_condition(table[key])]
            except ConvexproofError:
                return []
        return []

    def convexity_reason(self, f, xs) -> str:
        """Why f is convex, from the engine's proof (for a student who said it is not), or ""."""
        try:
            from convexproof.engine import prove

            r = prove(f, wrt=list(xs), where=self.where_conditions() + self.subject_domain(), timeout=8.0)
        except ConvexproofError:
            return ""
        if r.convex is not True:
            return ""
        name = self.facts.get("name", "f")
        if len(xs) == 1 and r.second_derivative is not None:
            x = xs[0]
            return (f"Look again: {name}''({_u(x)}) = {_u(r.second_derivative)} ≥ 0 for every {_u(x)} of the domain, "
                    f"so the graph never curves downwards and {name} is convex.")
        if r.hessian is not None:
            return (f"Look again: the Hessian {_u(r.hessian)} is positive semidefinite at every point of the domain, "
                    f"so {name} is convex.")
        return (f"Look again: {name} is built from convex pieces by rules that keep convexity (a sum of convex "
                "functions, a convex function of an affine map, a maximum of convex functions), so it is convex.")

    # ----------------------------------------------------------------- text
    def check_text(self) -> None:
        word = A.normalise_words(self.text)
        if self.part.accept:
            if word in set(self.part.accept):
                self.set("correct", "", None, "words")
            else:
                self.set("incorrect", "", "wrong-text")
            return
        raise ParseError("this part is graded by hand, not automatically")

    # ---------------------------------------------------------------- numbers
    def check_number(self) -> None:
        lam = self.parameter()
        names = set(self.part.variables) | ({lam.name} if lam is not None else set())
        if self.part.name in self.param_names:
            names.add(self.part.name)  # the part asks for a quantity that is also a given of the exercise
        ans = A.read_number(self.text, names, self.part.accept_condition, self.subs,
                            data=self.param_names - names)
        self.echo(ans)
        correct = _as_number(self.correct)
        rtol = max(self.part.tolerance, 1e-15)
        decimal = A.typed_decimal(self.text)  # a tolerance applies only to a decimal the student typed
        same = A.same_number(ans.value, correct, rtol, tolerance=decimal)
        if same is None:
            self.undecided()
            return
        if ans.kind == "number" and same:
            self.set("correct", "", None, "exact" if ans.value == correct else "numeric")
            return
        if ans.kind == "bound":
            if ans.op == ">=" and same:
                self.set("correct", "", None, "exact")
                return
            if ans.op == ">" and same:
                name = _u(lam) if lam is not None else ans.name
                self.set("incorrect", f"{name} > {_u(ans.value)} leaves out {name} = {_u(ans.value)} itself, "
                         "which works too: the smallest value belongs to the answer.", "strict-bound")
                return
            if ans.op in ("<", "<="):
                self.set("incorrect", "The bound points the wrong way: making the penalty weaker does not make "
                         "the function more convex.", "wrong-direction")
                return
        v = ans.value
        if self.carried_forward(v):  # consistent with the student's own wrong f'': partial credit first
            return
        m = self.match_number_mistake(v)
        if m is not None:
            self.set_mistake(m)
            return
        if lam is not None and self.part.accept_condition and "function" in self.facts:
            self.lambda_feedback(v, correct)
            return
        if correct != 0 and A.same_number(v, -correct, rtol, tolerance=decimal):
            self.set("incorrect", "Check the sign: the value has the right size but the wrong sign.", "sign-error")
        elif correct != 0 and (A.same_number(v, 2 * correct, rtol, tolerance=decimal)
                               or A.same_number(v, correct / 2, rtol, tolerance=decimal)):
            self.set("incorrect", "You are off by a factor of 2; check the constants.", "factor-2")
        elif decimal and correct != 0 and A.same_number(v, correct, 1e-2) is True:
            self.set("incorrect", f"Close: {self.result.read_as or _u(v)} is near the right value, but not equal to it. "
                     "Give the exact value (a fraction or a formula such as 5/6 or sqrt(2)), not a rounded decimal.",
                     "close")
        else:
            self.set("incorrect", f"{self.result.read_as or _u(v)} is not the value the exercise asks for.",
                     "wrong-value")

    def match_number_mistake(self, v):
        def matches(mv) -> bool:
            b = A._bound(mv) if isinstance(mv, sp.core.relational.Relational) else None
            if b is not None:
                mv = b[2]
            return isinstance(mv, sp.Expr) and not mv.free_symbols and bool(A.same_number(v, mv, 1e-12))

        return self.known_mistake(matches)

    def carried_forward(self, v) -> bool:
        """Error carried forward (Numbas' adaptive marking): the student's λ* is right for their own wrong f''.

        Only for a part with ``follows`` naming the part of f'' and the student's
        answer to it in ``given``; the smallest λ with f'' ≥ 0 for every x is
        computed from the student's f'' by the engine.  Partial credit: the
        part's ``carry_forward`` share.
        """
        src = getattr(self.part, "follows", "") or ""
        lam, x = self.parameter(), self.facts.get("variable")
        if not src or src not in self.given or lam is None or not isinstance(x, sp.Symbol):
            return False
        try:
            mine = A.read_expression(self.given[src], None, self.subs).value
            right = _as_expr(self.ctx.solution.answers[src])
            if A.compare_expressions(mine, right, self.domain(), seed_key=self.seed_key).equal is not False:
                return False  # their f'' is right (or undecided): nothing to carry forward
            implied = _smallest_parameter(mine, x, lam, self.where_conditions())
        except (ConvexproofError, KeyError):
            return False
        if implied is None or A.same_number(v, implied, 0, tolerance=False) is not True:
            return False
        name = self.facts.get("name", "f")
        self.set("incorrect", f"Your {name}''(x) = {_u(mine)} is wrong (see that part), but {_u(lam)} = {_u(v)} is "
                 f"exactly what it gives: the smallest {_u(lam)} with {_u(mine)} ≥ 0 for every x. Credit for this "
                 "step is carried forward.", "carried-forward")
        self.result.score = float(getattr(self.part, "carry_forward", 0.5))
        return True

    def lambda_feedback(self, v, correct) -> None:
        f, x, lam = self.facts["function"], self.facts["variable"], self.parameter()
        f2 = self.facts.get("second_derivative")
        if f2 is None:
            f2 = sp.diff(f, x, 2)
        name = self.facts.get("name", "f")
        L = _u(lam)
        if v < correct:
            g2 = sp.expand(f2.subs(lam, v))
            x0 = _negative_point(g2, x, self.domain())
            if x0 is None:
                w = _engine_witness(f.subs(lam, v), [x], self.where_conditions())
                msg = f"{L} = {_u(v)} is too small: with it, {name} is not convex."
                if w is not None:
                    msg = f"With {L} = {_u(v)}, {name} is not convex: " + _witness_text(w, name)
                self.set("incorrect", msg, "lambda-too-small")
                return
            val = g2.subs(x, x0)
            msg = (f"With {L} = {_u(v)}, {name}''({_u(x0)}) {_cmp_text(_shown(val))} < 0, so {name} curves "
                   f"downwards there and is not convex.")
            chord = _chord(f.subs(lam, v), x, x0, self.domain())
            if chord is not None:
                a, b, fm, avg = chord
                m = (a + b) / 2
                msg += (f" Concretely, the chord from x = {_u(a)} to x = {_u(b)} passes below the graph: "
                        f"{name}({_u(m)}) {_cmp_text(_shown(fm))}, but ({name}({_u(a)}) + {name}({_u(b)}))/2 "
                        f"{_cmp_text(_shown(avg))}.")
            self.set("incorrect", msg, "lambda-too-small")
            return
        g2 = sp.expand(f2.subs(lam, v))
        if _nonnegative(g2, x, self.domain()):
            msg = (f"With {L} = {_u(v)}, {name}''(x) = {_u(g2)} ≥ 0 for every x, so {name} is convex, "
                   f"but {_u(v)} is not the smallest such {L}.")
        else:
            msg = f"{L} = {_u(v)} is larger than necessary: it is not the smallest {L} that makes {name} convex."
        self.set("incorrect", msg, "lambda-not-minimal")

    # ------------------------------------------------------------ expressions
    def check_expression(self) -> None:
        ans = A.read_expression(self.text, self._with_params(self.names()), self.subs)
        self.echo(ans)
        s, c = ans.value, _as_expr(self.correct)
        dom = self.domain()
        rtol = max(self.part.tolerance, 1e-12)
        cmp = A.compare_expressions(s, c, dom, rtol=rtol, seed_key=self.seed_key, decimal=A.typed_decimal(self.text))
        if cmp.equal:
            self.set("correct", "", None, cmp.method)
            return
        if cmp.method == "close":
            self.set("undecided", "Your answer uses decimal numbers and agrees with the correct one to within the "
                     "tolerance wherever it was tested, but it is not exactly equal: give the exact value (e.g. e, "
                     "1/3, √2). A teacher will review it.", "close-decimal", "close")
            return
        if cmp.equal is None:
            self.undecided()
            return
        if self.flag_known_mistake(lambda mv: isinstance(mv, sp.Expr) and A.compare_expressions(
                s, mv, dom, rtol=rtol, seed_key=self.seed_key, points=6, symbolic_seconds=0).equal):
            return
        pattern = self.expression_pattern(s, c, dom, rtol)
        msg = []
        if pattern:
            msg.append(pattern[1])
        if cmp.point is not None:
            msg.append(f"For example, at {_point_text(cmp.point)} your answer {_cmp_text(cmp.mine)}, "
                       f"but the correct value {_cmp_text(cmp.theirs)}.")
        else:
            msg.append("Your answer and the correct one are not equal.")
        self.set("incorrect", " ".join(msg), pattern[0] if pattern else "differs")

    def expression_pattern(self, s, c, dom, rtol) -> tuple[str, str] | None:
        def same(a, b):
            # a pattern is named only when it is proved (agreement at a few points once called a slip
            # "wrong sign overall" when the points all lay on one side)
            return A.compare_expressions(a, b, dom, rtol=rtol, seed_key=self.seed_key, points=5,
                                         symbolic_seconds=1.0).equal is True

        f, x = self.facts.get("function"), self.facts.get("variable")
        if isinstance(f, sp.Expr) and isinstance(x, sp.Symbol):
            d1 = sp.diff(f, x)
            d2 = sp.diff(f, x, 2)
            if same(c, d2) or same(c, self.facts.get("second_derivative", sp.nan)):
                if same(s, d1):
                    return "first-derivative", "This is the first derivative; the question asks for the second."
                if same(s, f):
                    return "not-differentiated", "This is the function itself; differentiate it twice."
                if same(s, sp.diff(f, x, 3)):
                    return "third-derivative", "This is the third derivative; differentiate only twice."
        if c != 0 and same(s, -c):
            return "sign-error", "Your answer has the wrong sign overall."
        if c != 0 and (same(s, 2 * c) or same(s, c / 2)):
            return "factor-2", "Your answer is off by a factor of 2."
        terms = sp.Add.make_args(sp.expand(c)) if len(sp.Add.make_args(c)) == 1 else sp.Add.make_args(c)
        if 1 < len(terms) <= 8:
            for t in terms:
                if same(s, c - 2 * t):
                    return "sign-error-term", f"One term has the wrong sign: check the sign of {_u(-t)}."
            for t in terms:
                if same(s, c - t):
                    return "dropped-term", "Your answer is missing a term."
        # a constant factor
        ratio = _constant_ratio(s, c, dom, self.seed_key)
        if ratio is not None and ratio not in (0, 1):
            return "constant-factor", f"Your answer is off by a constant factor ({_u(ratio)})."
        return None

    # ------------------------------------------------------------- conditions
    def check_condition(self) -> None:
        ans = A.read_condition(self.text, self._with_params(self.names_for_condition()), self.subs)
        self.echo(ans)
        correct = self.correct
        syms = sorted({*ans.value.free_symbols, *getattr(correct, "free_symbols", set())}, key=lambda s: s.name)
        if isinstance(correct, sp.Set):
            syms = sorted(ans.value.free_symbols, key=lambda s: s.name)
            if len(syms) > 1:
                raise ParseError("expected a condition on one variable")
        equal, pt, holds = A.compare_conditions(ans.value, correct, syms, self.seed_key, self.domain())
        if equal:
            self.set("correct", "", None, "exact")
            return
        if equal is None:
            self.undecided("your condition")
            return
        if self.flag_known_mistake(lambda mv: isinstance(mv, sp.logic.boolalg.Boolean) and A.compare_conditions(
                ans.value, mv, syms, self.seed_key, self.domain())[0]):
            return
        where = _point_text(pt)
        if holds:
            msg = f"Your condition holds at {where}, but there it should not."
        else:
            msg = f"Your condition fails at {where}, but there it should hold."
        self.set("incorrect", msg, "wrong-condition")

    def names_for_condition(self):
        if self.part.variables:
            return set(self.part.variables)
        c = self.correct
        if isinstance(c, sp.Basic) and not isinstance(c, sp.Set):
            return {s.name for s in c.free_symbols}
        return None

    # ------------------------------------------------------------------ points
    def check_point(self) -> None:
        correct = _as_list(self.correct)
        order = list(self.part.variables) or [s.name for s in self.facts.get("variables", [])
                                              if isinstance(s, sp.Symbol)] or self.solver_variables()
        ans = A.read_point(self.text, self._with_params(self.names_point()), order, self.subs)
        self.echo(ans)
        if len(ans.value) != len(correct):
            self.set("incorrect", f"Expected a point with {len(correct)} coordinates, not {len(ans.value)}.",
                     "wrong-shape")
            return
        mine = ans.value
        unordered = "eigen" in (self.part.name + " " + self.part.description).lower()
        if unordered and all(_is_number(v) for v in [*mine, *correct]):
            # eigenvalues: a list in any order
            mine = sorted(mine, key=lambda v: float(v))
            correct = sorted((_as_expr(v) for v in correct), key=lambda v: float(v))
        wrong = self.wrong_entries(mine, correct)
        if wrong is None:
            self.undecided()
            return
        if not wrong:
            self.set("correct", "", None, "exact")
            return
        if self.flag_known_mistake(lambda mv: len(_as_list(mv)) == len(ans.value)
                                   and self.wrong_entries(ans.value, _as_list(mv)) == []):
            return
        which = ", ".join(str(i + 1) for i in wrong)
        self.set("incorrect", f"Coordinate{'s' if len(wrong) > 1 else ''} {which} "
                 f"{'are' if len(wrong) > 1 else 'is'} not right.", "wrong-entry")

    def solver_variables(self) -> list[str]:
        """The variables named in the exercise's solver section (vars = ["x", "y"]), in their order."""
        conf = self.ex.solver if isinstance(self.ex.solver, dict) else getattr(self.ex.solver, "__dict__", {})
        vs = conf.get("vars") or conf.get("variables") or []
        return [str(v) for v in vs] if isinstance(vs, (list, tuple)) else []

    def names_point(self):
        return None if not self.part.variables else set(self.part.variables)

    def wrong_entries(self, mine, correct) -> list[int] | None:
        """Indices of the entries proved wrong; None when none is proved wrong but some is undecided."""
        dom = self.domain()
        out, unsure = [], False
        for i, (a, b) in enumerate(zip(mine, correct)):
            b = _as_expr(b)
            eq = A.compare_expressions(a, b, dom, rtol=max(self.part.tolerance, 1e-12),
                                       seed_key=self.seed_key, points=5, symbolic_seconds=1.0).equal
            if eq is False:
                out.append(i)
            elif eq is None:
                unsure = True
        return None if unsure and not out else out

    # ---------------------------------------------------------------- matrices
    def check_matrix(self) -> None:
        correct = self.correct
        if not isinstance(correct, sp.MatrixBase):
            correct = sp.ImmutableMatrix(correct)
        ans = A.read_matrix(self.text, self._with_params(self.names_matrix(correct)), self.subs)
        self.echo(ans)
        M = ans.value
        if M.shape != correct.shape:
            self.set("incorrect", f"Expected a {correct.rows}×{correct.cols} matrix, not {M.rows}×{M.cols}.",
                     "wrong-shape")
            return
        wrong = self.wrong_entries(list(M), list(correct))
        if wrong is None:
            self.undecided()
            return
        if not wrong:
            self.set("correct", "", None, "exact")
            return
        if self.flag_known_mistake(lambda mv: isinstance(mv, sp.MatrixBase) and mv.shape == M.shape
                                   and self.wrong_entries(list(M), list(mv)) == []):
            return
        cells = ", ".join(f"({i // M.cols + 1}, {i % M.cols + 1})" for i in wrong)
        msg = f"Entr{'ies' if len(wrong) > 1 else 'y'} {cells} {'are' if len(wrong) > 1 else 'is'} not right."
        flipped = [i for i in wrong if A.compare_expressions(list(M)[i], -_as_expr(list(correct)[i]), self.domain(),
                                                            seed_key=self.seed_key, points=5).equal is True]
        if flipped and len(flipped) == len(wrong):
            self.set("incorrect", msg + (" Each has the right size but the wrong sign: a sign slip"
                                         + (" in the whole matrix." if len(wrong) == len(list(M)) else ".")),
                     "sign-error-entry")
            return
        if correct.is_symmetric() and not M.is_symmetric():
            msg += " A Hessian is symmetric: the mixed partial derivatives agree."
            self.set("incorrect", msg, "not-symmetric")
            return
        self.set("incorrect", msg, "wrong-entry")

    def check_matrix_expression(self) -> None:
        """A typed matrix expression such as 2*X.T@X + 2*lam*I (vector exercises; issue 11)."""
        from convexproof.engine.vector_check import check_matrix_expression

        shapes, wrt = self.facts.get("shapes"), self.facts.get("wrt")
        if not shapes or not wrt:
            raise ParseError("this part needs the exercise's shapes (solver kind vector_model)")
        r = check_matrix_expression(self.text, self.correct, shapes, wrt, self.subs)
        self.result.read_as = r.read_as
        if r.status != "correct":
            for m in self.mistakes():
                try:
                    mv = _vector_node(m.answer, shapes, wrt, self.subs)
                except ConvexproofError:
                    continue
                if check_matrix_expression(self.text, mv, shapes, wrt, self.subs).status == "correct":
                    self.set_mistake(m)
                    return
        self.set(r.status, r.feedback, r.note, r.method)

    def names_matrix(self, correct):
        if self.part.variables:
            return set(self.part.variables)
        return {s.name for s in correct.free_symbols}


# --------------------------------------------------------------------------
# Mathematics for feedback
# --------------------------------------------------------------------------
def _as_number(v):
    if isinstance(v, sp.core.relational.Relational):
        b = A._bound(v)
        if b is not None:
            return b[2]
    return _as_expr(v)


def _vector_node(text, shapes, wrt, subs):
    """A known mistake's matrix expression, read by the vector reader (issue 11)."""
    from convexproof.engine.vector_check import substitute_params
    from convexproof.engine.vector_expr import read_shapes, read_vector

    node, _ = read_vector(text, read_shapes(shapes), wrt, scalar=False)
    return substitute_params(node, subs)


def _as_expr(v):
    from fractions import Fraction

    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, bool):
        raise ExerciseError("expected a mathematical answer, found a truth value")
    if isinstance(v, int):
        return sp.Integer(v)
    if isinstance(v, float):
        return sp.Float(v)
    if isinstance(v, sp.Basic):
        return v
    raise ExerciseError(f"cannot compare with a solver answer of type {type(v).__name__}")


def _is_number(v) -> bool:
    try:
        v = _as_expr(v)
    except ConvexproofError:
        return False
    return isinstance(v, sp.Expr) and not v.free_symbols and v.is_real is True


def _as_list(v) -> list:
    if isinstance(v, sp.MatrixBase):
        return list(v)
    if isinstance(v, (sp.Tuple, list, tuple)):
        return list(v)
    return [v]


def _shown(v):
    """Exact if rational, else a 6-digit float."""
    v = sp.nsimplify(v) if isinstance(v, sp.Float) else v
    if v.is_Rational:
        return v
    try:
        s = sp.simplify(v) if v.count_ops() < 40 else v
    except Exception:
        s = v
    if s.is_Rational:
        return s
    return sp.Float(s.evalf(6), 6)


_CANDIDATES = [sp.Integer(0)] + [q for v in (sp.Rational(1, 2), sp.Integer(1), sp.Rational(1, 4), sp.Rational(3, 2),
                                             sp.Integer(2), sp.Rational(1, 3), sp.Rational(3, 4), sp.Integer(3),
                                             sp.Rational(1, 8), sp.Rational(5, 2), sp.Integer(4))
                                 for q in (v, -v)]


def _negative_point(g2, x, dom: A.Domain):
    """A simple point of the domain where g2 < 0 (exactly, or with a 30-digit margin), or None."""
    cands = list(_CANDIDATES)
    try:
        poly = sp.Poly(g2, x)
        if poly.degree() >= 2:
            for r in sp.Poly(sp.diff(g2, x), x).real_roots():
                approx = sp.nsimplify(sp.Float(r.evalf(12), 12), rational=True, tolerance=1e-3)
                cands.append(approx)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError, NotImplementedError):
        pass
    for c in cands:
        if not dom.contains({x: c}):
            continue
        v = g2.subs(x, c)
        if _strictly_negative(v):
            return c
    return None


def _engine_witness(f, xs, where) -> dict | None:
    """The engine's verified witness that f is not convex, or None (engine absent, or nothing found)."""
    try:
        from convexproof.engine.witness import find_witness
    except ImportError:
        return None
    try:
        w = find_witness(f, xs, where)
    except ConvexproofError:
        return None
    return w if w and w.get("verified") else None


def _witness_text(w: dict, name: str) -> str:
    """One or two sentences from a witness dict (point/direction/curvature and/or chord)."""
    out = []
    if "point" in w and "curvature" in w and w["curvature"] is not None:
        pt = w["point"]
        if len(pt) == 1:
            (x0,) = pt.values()
            out.append(f"{name}''({_u(x0)}) {_cmp_text(_shown(as_sympy(w['curvature'])))} < 0.")
        else:
            d = w.get("direction", {})
            out.append(f"at {_point_text(pt)}, the curvature in the direction ({', '.join(_u(v) for v in d.values())}) "
                       f"is {_u(_shown(as_sympy(w['curvature'])))} < 0.")
    ch = w.get("chord")
    if ch:
        a, b, t = ch["a"], ch["b"], ch["t"]
        out.append(f"The chord from ({_point_text(a)}) to ({_point_text(b)}) passes below the graph: with t = {_u(t)}, "
                   f"{name}(t·a + (1 − t)·b) {_cmp_text(_shown(as_sympy(ch['lhs'])))}, which is more than "
                   f"t·{name}(a) + (1 − t)·{name}(b) {_cmp_text(_shown(as_sympy(ch['rhs'])))}.")
    return " ".join(out)


def _smallest_parameter(g, x, lam, where) -> sp.Expr | None:
    """The smallest value of ``lam`` with g(x, lam) ≥ 0 for every x of the domain (by the engine), or None."""
    from convexproof.engine.domain import make_problem
    from convexproof.engine.parametric import cond_to_set, condition_1d

    problem = make_problem(g, wrt=[x], where=where)
    if problem.parameters != (lam,):
        return None
    cond, _ = condition_1d(g, x, problem)
    if cond is None:
        return None
    S = cond_to_set(cond, lam) if cond is not sp.true else sp.Interval(-sp.oo, sp.oo)
    return None if S.is_empty or S.inf == -sp.oo else S.inf


def _strictly_negative(v) -> bool:
    from convexproof.engine.exact import certified_sign

    return certified_sign(v) == -1


def _chord(f, x, x0, dom: A.Domain):
    """A chord [x0-h, x0+h] whose midpoint lies above it (Jensen fails), checked exactly, or None."""
    for h in (sp.Integer(1), sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 8), sp.Rational(1, 16),
              sp.Rational(1, 32), sp.Rational(1, 64), sp.Rational(1, 128)):
        a, b = x0 - h, x0 + h
        if not (dom.contains({x: a}) and dom.contains({x: b})):
            continue
        fa, fb, fm = f.subs(x, a), f.subs(x, b), f.subs(x, x0)
        avg = (fa + fb) / 2
        if _strictly_negative(avg - fm):
            return a, b, fm, avg
    return None


def _nonnegative(g2, x, dom: A.Domain) -> bool:
    """A verified g2 >= 0 for all real x (no domain restriction assumed), else False."""
    if g2.is_nonnegative:
        return True
    try:
        poly = sp.Poly(g2, x)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return False
    if poly.degree() == 0:
        return bool(poly.LC() >= 0)
    if poly.degree() % 2 or poly.LC() < 0 or not all(c.is_Rational for c in poly.coeffs()):
        return False
    # positive leading coefficient and no real root of odd multiplicity -> g2 >= 0
    sqf = sp.sqf_list(poly)
    for factor, mult in sqf[1]:
        if mult % 2 and factor.degree() > 0 and factor.count_roots() > 0:
            return False
    return bool(sqf[0] > 0 or poly.LC() > 0)


def _constant_ratio(s, c, dom: A.Domain, seed_key: str):
    syms = sorted(s.free_symbols | c.free_symbols, key=lambda t: t.name)
    if not syms:
        return None
    import random

    pts = A.random_points(syms, dom, 3, random.Random(seed_key + ":ratio"))
    ratios = []
    for pt in pts:
        a, b = A.value_at(s, pt), A.value_at(c, pt)
        if a is None or b is None or b[0] == 0 or a[1] != 0 or b[1] != 0:
            return None
        ratios.append(a[0] / b[0])
    if len(ratios) < 3:
        return None
    r0 = ratios[0]
    if all(abs(float(r - r0)) <= 1e-12 * max(1.0, abs(float(r0))) for r in ratios):
        q = sp.nsimplify(r0, rational=True, tolerance=1e-12)
        if q.is_Rational and q.q <= 100 and abs(float(q - r0)) < 1e-15 * max(1, abs(float(r0))) + 1e-20:
            return q
    return None
