"""One checker per part type, behind the table :data:`CHECKERS`.

Each checker reads the answer (verdict words from a fixed vocabulary,
everything else through :mod:`convexproof.parse`), compares it with the
solver's answer by the certified comparisons of
:mod:`convexproof.grading.answers`, and, when it is wrong, looks for the
exercise file's known mistakes and then for feedback computed by the engine:
a verified witness (:func:`convexproof.engine.witness.find_witness`), a
proof of non-negativity (:func:`convexproof.engine.signs.prove_nonneg`), a
certified sign (:func:`convexproof.engine.exact.certified_sign`).  No sign,
witness or non-negativity is decided here.  Note codes are those of
:mod:`convexproof.grading.notes`.  Parts of type ``derivation`` are checked
line by line by :mod:`convexproof.grading.derivation`.
"""

from __future__ import annotations

import sympy as sp

from convexproof.grading import answers as A
from convexproof.grading.base import CheckResult, _Context
from convexproof.grading.feedback import cmp_text, curvature_text, definiteness_text, point_text, shown, u, witness_text
from convexproof.runtime.errors import ConvexproofError, ExerciseError, ParseError


class PartChecker:
    """What every part checker shares: the variant, the result it fills in, known mistakes, the domain."""

    def __init__(self, ctx: _Context, part, text: str, reveal: bool, result: CheckResult, given: dict | None = None):
        self.ctx, self.part, self.text, self.reveal, self.result = ctx, part, text, reveal, result
        self.given = dict(given or {})  # the student's answers to other parts, for error carried forward
        self.ex = ctx.ex
        self.facts = ctx.facts
        answers = ctx.solution.answers
        if part.name not in answers:
            raise ExerciseError(f"{self.ex.path.name}: the solver gives no answer for part {part.name!r}")
        self.correct = answers[part.name]
        self.seed_key = f"{self.ex.id}:{self.ex.seed}:{part.name}"
        self.subs = self.ex.subs() if self.ex.values else {}
        self.param_names = {s.name for s in self.subs}

    def run(self) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- results
    def echo(self, ans) -> None:
        """Record how the answer was read: exact values as the parser built them; a typed decimal stays decimal."""
        v = ans.value if hasattr(ans, "value") else ans
        if A.typed_decimal(self.text) and isinstance(v, sp.Rational) and getattr(ans, "kind", None) == "number":
            self.result.read_as = repr(float(v))  # 0.18 stays 0.18, not 9/50
            return
        if A.typed_decimal(self.text) and isinstance(v, sp.Expr) and not isinstance(v, sp.MatrixBase):
            v = v.xreplace({r: sp.Float(r, 12) for r in v.atoms(sp.Rational) if r.q != 1})
        text = u(v) if not isinstance(v, list) else "(" + ", ".join(u(x) for x in v) + ")"
        if getattr(ans, "kind", None) == "bound":
            text = f"{ans.name} {ans.op} {text}".replace(">=", "≥").replace("<=", "≤")
            text = u(sp.Symbol(ans.name)) + text[len(ans.name):]
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
            return f"{u(self.parameter())} = {u(c)} (every {u(self.parameter())} ≥ {u(c)} works)"
        return u(c) if not isinstance(c, str) else c

    # ---------------------------------------------------------------- context
    def where_conditions(self) -> list:
        """The part's assumptions and the solver's domain conditions, parsed."""
        from convexproof.parse import parse_condition

        conds = [parse_condition(a) for a in self.part.assume]
        where = self.facts.get("where") or ()
        if isinstance(where, (list, tuple)):
            conds += [parse_condition(w) if isinstance(w, str) else w for w in where]
        return conds

    def domain(self) -> A.Domain:
        if self.part.name not in self.ctx.domains:
            self.ctx.domains[self.part.name] = A.Domain(self.where_conditions())
        return self.ctx.domains[self.part.name]

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

    # ---------------------------------------------------------- known mistakes
    def mistake_feedback(self, m) -> str:
        out = []
        try:
            for kind, v in self.ex.prose_segments(m.feedback):
                out.append(v if kind == "text" else u(v))
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

    # ----------------------------------------------------------------- entries
    def wrong_entries(self, mine, correct) -> list[int] | None:
        """Indices of the entries proved wrong; None when none is proved wrong but some is undecided."""
        dom = self.domain()
        out, unsure = [], False
        for i, (a, b) in enumerate(zip(mine, correct)):
            eq = A.compare_expressions(a, _as_expr(b), dom, rtol=max(self.part.tolerance, 1e-12),
                                       seed_key=self.seed_key, points=5, symbolic_seconds=1.0).equal
            if eq is False:
                out.append(i)
            elif eq is None:
                unsure = True
        return None if unsure and not out else out

    def grade_entries(self, mine, correct, fits_mistake) -> list[int]:
        """The entries proved wrong; [] once graded here (correct, undecided, or a known mistake that fits)."""
        wrong = self.wrong_entries(mine, correct)
        if wrong is None:
            self.undecided()
            return []
        if not wrong:
            self.set("correct", "", None, "exact")
            return []
        if self.flag_known_mistake(fits_mistake):
            return []
        return wrong


# --------------------------------------------------------------------------
# Verdicts and text
# --------------------------------------------------------------------------
class VerdictChecker(PartChecker):
    """A verdict word (convex, not convex, strictly convex, ...), with a witness or a proof as feedback."""

    def run(self) -> None:
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
        if isinstance((self.facts.get("matrices") or {}).get(self.part.name), sp.MatrixBase):
            from convexproof.engine.matrices import definiteness_class

            if definiteness_class(word):  # every definiteness class is a verdict about a matrix
                known = known | {word}
        if word not in known:
            raise ParseError("expected a verdict such as convex or not convex")
        stronger = word in A.verdict_group("strictly convex") or word in A.verdict_group("strongly convex")
        if stronger and "convex" in accept and word not in reject and word not in mistake_words:
            self.stronger_claim(word)
            return
        for w, m in mistake_words.items():
            if word == w or word in A.verdict_group(w):
                self.set_mistake(m)
                return
        self.set("incorrect", self.verdict_feedback(word), "wrong-verdict")

    def stronger_claim(self, word: str) -> None:
        """'strictly/strongly convex' where the part asks for 'convex': right exactly when it is true."""
        strong = word in A.verdict_group("strongly convex")
        f, xs = self.subject()
        verdict, where = None, self.where_conditions() + self.subject_domain()
        if f is not None:
            try:
                from convexproof.engine import prove

                verdict = prove(f, wrt=list(xs), where=where, timeout=8.0).verdict
            except ConvexproofError:
                verdict = None
        if verdict == "strongly convex" or (verdict == "strictly convex" and not strong):
            self.set("correct", "", None, "engine")
            return
        why = self.not_stronger_reason(word, f, xs, verdict) if verdict == "convex" else ""
        if why:
            self.set("incorrect", why, "not-strictly-convex")
            return
        self.set("undecided", f"The question asks whether the function is convex; your answer claims more "
                 f"({word}). It is convex, but the stronger claim could not be checked automatically: a teacher "
                 "will review it.", "stronger-claim", "undecided")

    def not_stronger_reason(self, word: str, f, xs, verdict: str | None = None) -> str:
        """Why f, convex, is not ``word`` (strictly or strongly convex): a segment where it is affine, from the
        engine's flat chord (one variable); "" when none is found or the engine does not say "convex"."""
        where = self.where_conditions() + self.subject_domain()
        if len(xs) != 1:
            return ""
        from convexproof.engine.domain import make_problem
        from convexproof.engine.witness import flat_chord

        try:
            if verdict is None:
                from convexproof.engine import prove

                verdict = prove(f, wrt=list(xs), where=where, timeout=8.0).verdict
            if verdict != "convex":
                return ""
            # both ends in the function's domain: a flat piece outside it says nothing
            ch = flat_chord(f, xs[0], accept=make_problem(f, wrt=list(xs), where=where).satisfies)
        except ConvexproofError:
            return ""
        if ch is None:
            return ""
        x, a, b = xs[0], ch["a"][xs[0]], ch["b"][xs[0]]
        kind = "strongly" if word in A.verdict_group("strongly convex") else "strictly"
        return (f"It is convex, but not {word}: it is affine between {u(x)} = {u(a)} and {u(x)} = {u(b)}, where "
                f"f({u((a + b) / 2)}) = {u(ch['lhs'])} equals the average (f({u(a)}) + f({u(b)}))/2 = "
                f"{u(ch['rhs'])}; a {kind} convex function lies strictly below its chords.")

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
        own = self.facts.get("functions")  # the solver's part -> function table (solvers.toolkit.subjects)
        xs = list(self.facts.get("variables") or [])
        if isinstance(own, dict) and isinstance(own.get(self.part.name), sp.Expr) and xs \
                and set(xs) & own[self.part.name].free_symbols:
            return own[self.part.name], xs  # other symbols are the exercise's parameters (where/assume)
        f = self.facts.get("function")
        xs = self.facts.get("variables") or ([self.facts["variable"]] if "variable" in self.facts else [])
        if isinstance(f, sp.Expr) and xs and len(verdict_parts) == 1 and set(xs) & f.free_symbols:
            return f, xs  # other symbols are the exercise's parameters, with their ranges in where/assume
        return None, ()

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
        own = self.facts.get("domains")  # the solver's part -> conditions table (solvers.toolkit.subjects)
        if isinstance(own, dict) and isinstance(own.get(self.part.name), (list, tuple)):
            return [c for c in own[self.part.name] if isinstance(c, sp.Basic)]
        return []

    def verdict_feedback(self, word: str) -> str:
        w = self.facts.get("witness")
        if isinstance(w, str) and w:
            return w
        M = (self.facts.get("matrices") or {}).get(self.part.name)
        if isinstance(M, sp.MatrixBase):  # a definiteness verdict: refuted by an eigenvector, or the eigenvalues
            from convexproof.engine.matrices import definiteness_class, refute_definiteness

            claim = definiteness_class(word)
            r = refute_definiteness(M, claim) if claim else None
            if r is not None:
                return definiteness_text(r, claim)
        f, xs = self.subject()
        name = self.facts.get("name", "f")
        stronger = word in A.verdict_group("strictly convex") or word in A.verdict_group("strongly convex")
        if stronger and f is not None:  # convex perhaps, but not as strongly as claimed
            why = self.not_stronger_reason(word, f, xs)
            if why:
                return why
        claims_convex = word in A.verdict_group("convex") or word in A.verdict_group("strictly convex")
        if claims_convex and f is not None:
            w = _witness(f, list(xs), self.where_conditions() + self.subject_domain())
            if w is not None:
                return f"{name} is not convex: " + witness_text(w, name)
        if claims_convex:
            return ("Look again: a convex function has f'' ≥ 0 (a positive semidefinite Hessian) at every "
                    "point of the domain. Try to find a point where this fails.")
        if f is not None:
            why = self.convexity_reason(f, xs)
            if why:
                return why
        return "Look again: check the sign of the second derivative (or the Hessian) on the whole domain."

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
            return (f"Look again: {name}''({u(x)}) = {u(r.second_derivative)} ≥ 0 for every {u(x)} of the domain, "
                    f"so the graph never curves downwards and {name} is convex.")
        if r.hessian is not None:
            return (f"Look again: the Hessian {u(r.hessian)} is positive semidefinite at every point of the domain, "
                    f"so {name} is convex.")
        return (f"Look again: {name} is built from convex pieces by rules that keep convexity (a sum of convex "
                "functions, a convex function of an affine map, a maximum of convex functions), so it is convex.")


class TextChecker(PartChecker):
    """Free text: one of the part's accepted words, else graded by hand (invalid here)."""

    def run(self) -> None:
        word = A.normalise_words(self.text)
        if not self.part.accept:
            raise ParseError("this part is graded by hand, not automatically")
        if word in set(self.part.accept):
            self.set("correct", "", None, "words")
        else:
            self.set("incorrect", "", "wrong-text")


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------
class NumberChecker(PartChecker):
    """A number (or a bound such as λ ≥ 3), with slips named and λ feedback from the engine."""

    def run(self) -> None:
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
                name = u(lam) if lam is not None else ans.name
                self.set("incorrect", f"{name} > {u(ans.value)} leaves out {name} = {u(ans.value)} itself, "
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
        if lam is not None and self.part.accept_condition and "function" in self.facts and self.lambda_feedback(
                v, correct):
            return
        if correct != 0 and A.same_number(v, -correct, rtol, tolerance=decimal):
            self.set("incorrect", "Check the sign: the value has the right size but the wrong sign.", "sign-error")
        elif correct != 0 and (A.same_number(v, 2 * correct, rtol, tolerance=decimal)
                               or A.same_number(v, correct / 2, rtol, tolerance=decimal)):
            self.set("incorrect", "You are off by a factor of 2; check the constants.", "factor-2")
        elif decimal and correct != 0 and A.same_number(v, correct, 1e-2) is True:
            self.set("incorrect", f"Close: {self.result.read_as or u(v)} is near the right value, but not equal to it. "
                     "Give the exact value (a fraction or a formula such as 5/6 or sqrt(2)), not a rounded decimal.",
                     "close")
        else:
            self.set("incorrect", f"{self.result.read_as or u(v)} is not the value the exercise asks for.",
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
        self.set("incorrect", f"Your {name}''(x) = {u(mine)} is wrong (see that part), but {u(lam)} = {u(v)} is "
                 f"exactly what it gives: the smallest {u(lam)} with {u(mine)} ≥ 0 for every x. Credit for this "
                 "step is carried forward.", "carried-forward")
        self.result.score = float(getattr(self.part, "carry_forward", 0.5))
        return True

    def lambda_feedback(self, v, correct) -> bool:
        """A wrong λ: below the minimum with the engine's witness, above it with the engine's proof of f'' ≥ 0.

        False (no feedback given) when the side of the minimum cannot be certified.
        """
        from convexproof.engine.exact import certified_sign

        side = certified_sign(v - correct, digits=60)
        if side not in (-1, 1):
            return False
        f, x, lam = self.facts["function"], self.facts["variable"], self.parameter()
        name, L, where = self.facts.get("name", "f"), u(lam), self.where_conditions()
        if side == -1:
            w = _witness(f.subs(lam, v), [x], where)
            if w is not None and w.get("point") is not None and w.get("direction") == {x: 1}:
                msg = curvature_text(w, x, lam, v, name)
            elif w is not None:
                msg = f"With {L} = {u(v)}, {name} is not convex: " + witness_text(w, name)
            else:  # no verified witness: only the comparison with the minimum is stated
                msg = f"{L} = {u(v)} is too small: it is less than the smallest {L} that makes {name} convex."
            self.set("incorrect", msg, "lambda-too-small")
            return True
        f2 = self.facts.get("second_derivative")
        g2 = sp.expand((sp.diff(f, x, 2) if f2 is None else f2).subs(lam, v))
        if _proved_nonnegative(g2, x, where):
            every = "every x of the domain" if where else "every x"
            msg = (f"With {L} = {u(v)}, {name}''(x) = {u(g2)} ≥ 0 for {every}, so {name} is convex, "
                   f"but {u(v)} is not the smallest such {L}.")
        else:
            msg = f"{L} = {u(v)} is larger than necessary: it is not the smallest {L} that makes {name} convex."
        self.set("incorrect", msg, "lambda-not-minimal")
        return True


# --------------------------------------------------------------------------
# Expressions and conditions
# --------------------------------------------------------------------------
class ExpressionChecker(PartChecker):
    """A formula, compared with the right one over the domain; a point where they differ, slips named."""

    def run(self) -> None:
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
        pattern = self.pattern(s, c, dom, rtol)
        msg = [pattern[1]] if pattern else []
        if cmp.point is not None:
            msg.append(f"For example, at {point_text(cmp.point)} your answer {cmp_text(cmp.mine)}, "
                       f"but the correct value {cmp_text(cmp.theirs)}.")
        else:
            msg.append("Your answer and the correct one are not equal.")
        self.set("incorrect", " ".join(msg), pattern[0] if pattern else "differs")

    def pattern(self, s, c, dom, rtol) -> tuple[str, str] | None:
        """A recognised slip (note code, sentence), each one proved equal to the answer; else None."""
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
                    return "sign-error-term", f"One term has the wrong sign: check the sign of {u(-t)}."
            for t in terms:
                if same(s, c - t):
                    return "dropped-term", "Your answer is missing a term."
        ratio = _constant_ratio(s, c, dom, self.seed_key)  # a guess from a few points, then proved
        if ratio is not None and ratio not in (0, 1) and same(s, ratio * c):
            return "constant-factor", f"Your answer is off by a constant factor ({u(ratio)})."
        return None


class ConditionChecker(PartChecker):
    """A condition (0 < η ≤ 1), compared with the right one; a point where they disagree."""

    def run(self) -> None:
        ans = A.read_condition(self.text, self._with_params(self.condition_names()), self.subs)
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
        where = point_text(pt)
        if holds:
            msg = f"Your condition holds at {where}, but there it should not."
        else:
            msg = f"Your condition fails at {where}, but there it should hold."
        self.set("incorrect", msg, "wrong-condition")

    def condition_names(self):
        if self.part.variables:
            return set(self.part.variables)
        c = self.correct
        if isinstance(c, sp.Basic) and not isinstance(c, sp.Set):
            return {s.name for s in c.free_symbols}
        return None


# --------------------------------------------------------------------------
# Points and matrices
# --------------------------------------------------------------------------
class PointChecker(PartChecker):
    """A point (or a list of eigenvalues, in any order), entry by entry."""

    def run(self) -> None:
        correct = _as_list(self.correct)
        order = list(self.part.variables) or [s.name for s in self.facts.get("variables", [])
                                              if isinstance(s, sp.Symbol)] or self.solver_variables()
        names = None if not self.part.variables else set(self.part.variables)
        ans = A.read_point(self.text, self._with_params(names), order, self.subs)
        self.echo(ans)
        if len(ans.value) != len(correct):
            self.set("incorrect", f"Expected a point with {len(correct)} coordinates, not {len(ans.value)}.",
                     "wrong-shape")
            return
        mine = ans.value
        unordered = "eigen" in (self.part.name + " " + self.part.description).lower()
        if unordered and all(_is_number(v) for v in [*mine, *correct]):
            mine = _paired(mine, [_as_expr(v) for v in correct])  # eigenvalues: a list in any order
        wrong = self.grade_entries(mine, correct, lambda mv: len(_as_list(mv)) == len(ans.value)
                                   and self.wrong_entries(ans.value, _as_list(mv)) == [])
        if wrong:
            which = ", ".join(str(i + 1) for i in wrong)
            self.set("incorrect", f"Coordinate{'s' if len(wrong) > 1 else ''} {which} "
                     f"{'are' if len(wrong) > 1 else 'is'} not right.", "wrong-entry")

    def solver_variables(self) -> list[str]:
        """The variables named in the exercise's solver section (vars = ["x", "y"]), in their order."""
        conf = self.ex.solver if isinstance(self.ex.solver, dict) else getattr(self.ex.solver, "__dict__", {})
        vs = conf.get("vars") or conf.get("variables") or []
        return [str(v) for v in vs] if isinstance(vs, (list, tuple)) else []


class MatrixChecker(PartChecker):
    """A matrix such as a Hessian, entry by entry; sign slips and a lost symmetry named."""

    def run(self) -> None:
        correct = self.correct
        if not isinstance(correct, sp.MatrixBase):
            correct = sp.ImmutableMatrix(correct)
        names = set(self.part.variables) if self.part.variables else {s.name for s in correct.free_symbols}
        ans = A.read_matrix(self.text, self._with_params(names), self.subs)
        self.echo(ans)
        M = ans.value
        if M.shape != correct.shape:
            self.set("incorrect", f"Expected a {correct.rows}×{correct.cols} matrix, not {M.rows}×{M.cols}.",
                     "wrong-shape")
            return
        wrong = self.grade_entries(list(M), list(correct), lambda mv: isinstance(mv, sp.MatrixBase)
                                   and mv.shape == M.shape and self.wrong_entries(list(M), list(mv)) == [])
        if not wrong:
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


class MatrixExpressionChecker(PartChecker):
    """A typed matrix expression such as 2*X.T@X + 2*lam*I (vector exercises), by the vector checker."""

    def run(self) -> None:
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


# The checker of each part type (a part of type "derivation" goes to grading.derivation instead).
CHECKERS: dict[str, type[PartChecker]] = {
    "number": NumberChecker,
    "expression": ExpressionChecker,
    "verdict": VerdictChecker,
    "condition": ConditionChecker,
    "point": PointChecker,
    "matrix": MatrixChecker,
    "matrix_expression": MatrixExpressionChecker,
    "text": TextChecker,
}


# --------------------------------------------------------------------------
# Values, and the engine's mathematics for feedback
# --------------------------------------------------------------------------
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


def _as_number(v):
    if isinstance(v, sp.core.relational.Relational):
        b = A._bound(v)
        if b is not None:
            return b[2]
    return _as_expr(v)


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


def _paired(mine: list, correct: list) -> list:
    """``mine`` reordered so that each entry of ``correct`` faces an equal entry where there is one (proved equal)."""
    rest, out = list(mine), [None] * len(correct)
    for i, c in enumerate(correct):
        j = next((j for j, v in enumerate(rest) if A.same_number(v, c, 0, tolerance=False) is True), None)
        if j is not None:
            out[i] = rest.pop(j)
    return [v if v is not None else rest.pop(0) for v in out]


def _vector_node(text, shapes, wrt, subs):
    """A known mistake's matrix expression, read by the vector reader (issue 11)."""
    from convexproof.engine.vector_check import substitute_params
    from convexproof.engine.vector_expr import read_shapes, read_vector

    node, _ = read_vector(text, read_shapes(shapes), wrt, scalar=False)
    return substitute_params(node, subs)


def _witness(f, xs, where) -> dict | None:
    """The engine's verified witness that f is not convex on ``where``, or None (nothing found)."""
    from convexproof.engine.witness import find_witness

    try:
        w = find_witness(f, xs, where)
    except ConvexproofError:
        return None
    return w if w and w.get("verified") else None


def _proved_nonnegative(g, x, where) -> bool:
    """True when the engine proves g ≥ 0 for every x of the domain ``where`` (never from samples)."""
    from convexproof.engine.domain import make_problem
    from convexproof.engine.signs import prove_nonneg

    try:
        problem = make_problem(g, wrt=[x], where=where)
        return prove_nonneg(g, problem.domain_box, variables=[x], accept=problem.satisfies,
                            search=False).status == "proved"
    except ConvexproofError:
        return False


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


def _constant_ratio(s, c, dom: A.Domain, seed_key: str):
    """A small rational q with s ≈ q·c at three sample points (a guess, to be proved by the caller), or None."""
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
        if q.is_Rational and q.q <= 100:
            return q
    return None
