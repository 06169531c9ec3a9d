"""Gradescope, PrairieLearn and Jupyter exports, each tested round trip in its real format (no platform server).

* Gradescope: the zip is built with the CLI, unpacked under a temporary root and
  its ``run_autograder`` run on good, wrong and malformed submissions;
  ``results.json`` is validated against the documented fields and types.
* PrairieLearn: every generated ``server.py`` is imported and called with
  PrairieLearn's ``data`` dict; ``question.html`` is rendered with chevron.
* Jupyter: the notebook is executed headless with nbclient.

Correct answers are computed by the solvers (as ``selftest`` does), never typed in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.library import load_exercise
from convexproof.platforms import MULTILINE_TYPES
from convexproof.library.selftest import _own_answer_text
from convexproof.solvers import solve

GS_EXERCISES = ["exercise3", "exercise14"]
PL_EXERCISES = ["exercise3", "exercise14", "exercise7"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def own_answers(ex_id: str, seed=None, exercises_dir=None) -> dict[str, str]:
    """The solver's answers to every part, as a student would type them."""
    ex = load_exercise(ex_id, seed=seed, exercises_dir=exercises_dir)
    return {p: _own_answer_text(v) for p, v in solve(ex).answers.items()}


def selftest_answer(ex_id: str, part: str, expect: str) -> str:
    ex = load_exercise(ex_id)
    return next(t.answer for t in ex.selftests if t.part == part and t.expect == expect)


# ==========================================================================
# Gradescope
# ==========================================================================
@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    res = invoke("export", "--to", "gradescope", *GS_EXERCISES, "--visibility", "after_published", "-o", out)
    assert res.exit_code == 0, res.output
    return out


def unpack(zip_path: Path, root: Path) -> Path:
    """Lay the zip out as Gradescope does: /autograder/source holds it, /autograder/submission the upload."""
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
        for info in z.infolist():  # zipfile drops the mode bits
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = dict(os.environ, CONVEXPROOF_AUTOGRADER_ROOT=str(root), CONVEXPROOF_PYTHON=python)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def validate_results(res: dict, visibility: str = "after_published") -> None:
    """The documented results.json fields and types (docs/gradescope.md)."""
    assert isinstance(res["score"], (int, float))
    assert isinstance(res["output"], str) and res["output"]
    assert res["visibility"] == visibility
    assert res["stdout_visibility"] == "hidden"
    names = []
    for t in res["tests"]:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "output", "extra_data"}
        assert isinstance(t["name"], str) and isinstance(t["number"], str)
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in ("passed", "failed")
        assert (t["status"] == "passed") == (t["score"] == t["max_score"])
        assert isinstance(t["output"], str) and t["output"].strip(), t  # every part has feedback
        ed = t["extra_data"]
        assert isinstance(ed["exercise"], str) and isinstance(ed["part"], str) and isinstance(ed["status"], str)
        assert ed["note"] is None or isinstance(ed["note"], str)
        names.append(t["name"])
    assert len(names) == len(set(names))
    assert res["score"] == pytest.approx(sum(t["score"] for t in res["tests"]))  # the scores add up
    cp = res["extra_data"]["convexproof"]
    assert [(p["exercise"], p["part"]) for p in cp["parts"]] == [
        (t["extra_data"]["exercise"], t["extra_data"]["part"]) for t in res["tests"]]
    assert cp["notes"] == [p["note"] for p in cp["parts"] if p["note"]]


def _expected_parts() -> list[tuple[str, str]]:
    return [(e, p) for e in GS_EXERCISES for p in load_exercise(e).parts]


def _good() -> dict:
    return {e: {p: {"answer": a, "derivation": "f'' = ...\nso ..."} for p, a in own_answers(e).items()}
            for e in GS_EXERCISES}


def _wrong() -> dict:
    sub = _good()
    sub["exercise3"]["lambda_min"]["answer"] = selftest_answer("exercise3", "lambda_min", "incorrect")
    sub["exercise3"]["second_derivative"] = selftest_answer("exercise3", "second_derivative", "incorrect")
    sub["exercise14"]["min_value"] = {"answer": selftest_answer("exercise3", "lambda_min", "invalid")}
    return sub


def _toml(sub: dict) -> str:
    lines = []
    for ex, parts in sub.items():
        lines.append(f"[{ex}]")
        for p, v in parts.items():
            if isinstance(v, dict):
                inner = ", ".join(f"{k} = {json.dumps(x)}" for k, x in v.items())
                lines.append(f"{p} = {{ {inner} }}")
            else:
                lines.append(f"{p} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


# name, files in /autograder/submission, expected status per (exercise, part) (None: every part), output snippet
GS_CASES = [
    ("good-toml", lambda: {"answers.toml": _toml(_good())}, {}, "Correct."),
    ("good-json", lambda: {"answers.json": json.dumps(_good())}, {}, "Correct."),
    ("good-other-name", lambda: {"my answers.toml": _toml(_good())}, {}, "Correct."),
    ("wrong", lambda: {"answers.toml": _toml(_wrong())},
     {("exercise3", "lambda_min"): "incorrect", ("exercise3", "second_derivative"): "incorrect",
      ("exercise14", "min_value"): "invalid"}, "could not be read"),
    ("missing-part", lambda: {"answers.toml": _toml({"exercise3": _good()["exercise3"]})},
     {("exercise14", p): "unanswered" for p in load_exercise("exercise14").parts}, "No answer"),
    ("malformed-toml", lambda: {"answers.toml": '[exercise3.lambda_min\nanswer = "3'}, None, "not valid TOML"),
    ("malformed-json", lambda: {"answers.json": '{"exercise3": '}, None, "not valid JSON"),
    ("not-utf8", lambda: {"answers.toml": b"\xff\xfe\x00[\x80\x81"}, None, "not UTF-8"),
    ("no-file", lambda: {}, None, "No answers file"),
    ("two-files", lambda: {"a.toml": "", "b.json": "{}"}, None, "upload only answers.toml"),
    ("too-large", lambda: {"answers.toml": "# " + "x" * 300_000}, None, "larger than"),
    ("array-top", lambda: {"answers.json": "[1, 2]"}, None, "one table per exercise"),
    ("exercise-not-a-table", lambda: {"answers.toml": 'exercise3 = "3"\n' + _toml({"exercise14": _good()["exercise14"]})},
     {("exercise3", p): "invalid" for p in load_exercise("exercise3").parts}, "must be a table"),
    ("symlink", lambda: {"answers.toml": Path("/etc/hostname")}, None, "not a regular file"),
    ("wrong-types", lambda: {"answers.toml": "[exercise3]\nlambda_min = true\nsecond_derivative = [1]\n"},
     {**{key: "unanswered" for key in _expected_parts()},
      ("exercise3", "lambda_min"): "invalid", ("exercise3", "second_derivative"): "invalid"}, "text in quotes"),
]


@pytest.mark.parametrize("name,files,expect,snippet", GS_CASES, ids=[c[0] for c in GS_CASES])
def test_gradescope_autograder_round_trip(autograder_zip, tmp_path, name, files, expect, snippet):
    root = unpack(autograder_zip, tmp_path / "autograder")
    for fname, content in files().items():
        if isinstance(content, Path):
            (root / "submission" / fname).symlink_to(content)
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        (root / "submission" / fname).write_bytes(data)
    res = run_autograder(root)
    validate_results(res)
    got = {(t["extra_data"]["exercise"], t["extra_data"]["part"]): t for t in res["tests"]}
    assert list(got) == _expected_parts()
    everything = res["output"] + "\n".join(t["output"] for t in res["tests"])
    assert snippet in everything, everything
    if expect is None:  # a bad submission file: every part 0, with the file's problem as its message
        assert res["score"] == 0
        for t in res["tests"]:
            assert t["score"] == 0 and t["status"] == "failed" and snippet in t["output"]
            assert t["extra_data"]["status"] == "invalid-file"
        return
    for key, t in got.items():
        status = expect.get(key, "correct")
        assert t["extra_data"]["status"] == status, (key, t)
        assert t["score"] == (t["max_score"] if status == "correct" else 0)
        part_type = load_exercise(key[0]).parts[key[1]].type
        if status in ("correct", "incorrect") and part_type not in MULTILINE_TYPES:
            assert "read as:" in t["output"]  # the "read as" echo
    if name == "wrong":
        t = got[("exercise3", "lambda_min")]
        assert t["extra_data"]["note"] == "slip-f2-at-0"
        assert "slip-f2-at-0" in res["extra_data"]["convexproof"]["notes"]
    if name.startswith("good"):
        assert res["score"] == sum(t["max_score"] for t in res["tests"])
        if name == "good-toml":
            assert all("derivation" in t["output"] for t in res["tests"])


def test_gradescope_zip_layout_and_template(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as z:
        names = z.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        template = z.read("answers.toml").decode("utf-8")
        config = json.loads(z.read("convexproof-autograder.json"))
    for script in ("setup.sh", "run_autograder"):
        assert script in names and modes[script] & stat.S_IXUSR
    assert "convexproof-dist/convexproof/grading/checking.py" in names
    assert "convexproof-dist/convexproof/exercises/exercise3.toml" in names
    assert any(n.startswith("convexproof-dist/convexproof/templates/md/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    root = unpack(autograder_zip, tmp_path / "ag")
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    # the template is valid TOML, has every part, and no answer in it
    import tomllib

    t = tomllib.loads(template)
    assert {(e, p) for e in t for p in t[e]} == set(_expected_parts())
    assert all(v["answer"] == "" for parts in t.values() for v in parts.values())
    assert all(len(parts) == len(load_exercise(e).parts) for e, parts in t.items())
    for ex in GS_EXERCISES:
        for a in own_answers(ex).values():
            if len(a) > 3:
                assert a not in template
    assert config["visibility"] == "after_published"
    # the template filled in with the computed answers gets full marks
    data = tomllib.loads(template)
    for e in GS_EXERCISES:
        for p, a in own_answers(e).items():
            data[e][p]["answer"] = a
    (root / "submission" / "answers.json").write_text(json.dumps(data), encoding="utf-8")
    res = run_autograder(root)
    validate_results(res)
    assert res["score"] == sum(t["max_score"] for t in res["tests"]) > 0


def test_gradescope_never_crashes_when_python_does_not_start(autograder_zip, tmp_path):
    root = unpack(autograder_zip, tmp_path / "ag")
    res = run_autograder(root, python=str(tmp_path / "no-such-python"))
    validate_results(res)
    assert res["score"] == 0 and len(res["tests"]) == len(_expected_parts())


def test_gradescope_roster_grades_each_student_on_their_variant(tmp_path):
    from convexproof.render.handout import roster_seed

    roster = tmp_path / "roster.csv"
    roster.write_text("student\nada@uni.example\nbob@uni.example\n", encoding="utf-8")
    out = tmp_path / "ag.zip"
    res = invoke("export", "--to", "gradescope", "exercise3", "--roster", roster, "-o", out)
    assert res.exit_code == 0, res.output
    for who, in_roster in (("Ada@uni.example", True), ("eve@uni.example", False)):
        root = unpack(out, tmp_path / who)
        seed = roster_seed("ada@uni.example")
        answers = own_answers("exercise3", seed=seed)
        (root / "submission" / "answers.toml").write_text(_toml({"exercise3": answers}), encoding="utf-8")
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": who, "name": "A"}]}),
                                                       encoding="utf-8")
        r = run_autograder(root)
        validate_results(r, visibility="visible")
        if in_roster:
            assert r["extra_data"]["convexproof"]["seed"] == seed
            assert r["score"] == sum(t["max_score"] for t in r["tests"])
        else:
            assert r["score"] == 0 and all("roster" in t["output"] for t in r["tests"])


@pytest.mark.parametrize("args,message", [
    (["export", "--to", "gradescope", "exercise3"], "-o autograder.zip"),
    (["export", "--to", "gradescope", "nosuch", "-o", "{tmp}/a.zip"], "unknown exercise"),
    (["export", "--to", "gradescope", "exercise3", "--seed", "1", "--roster", "{roster}", "-o", "{tmp}/a.zip"],
     "cannot be combined"),
    (["export", "--to", "moodle", "exercise3", "--roster", "{roster}"], "gradescope only"),
    (["export", "--to", "moodle", "exercise3", "--visibility", "hidden"], "gradescope only"),
    (["export", "--to", "gradescope", "exercise3", "--server-files", "{tmp}/s", "-o", "{tmp}/a.zip"],
     "prairielearn only"),
    (["export", "--to", "prairielearn", "exercise3"], "-o DIR"),
    (["export", "--to", "prairielearn", "exercise3", "--seed", "2", "-o", "{tmp}/q"], "variant seed"),
    (["export", "--to", "prairielearn", "exercise3", "-o", "{roster}"], "not a folder"),
    (["export", "--to", "prairielearn", "exercise3", "-o", ""], "-o DIR"),
    (["export", "--to", "prairielearn", "exercise3", "-o", "{tmp}/" + "x" * 300], "cannot write"),
    # a folder named convexproof that convexproof did not make (here: the package itself) is never replaced
    (["export", "--to", "prairielearn", "exercise3", "-o", "{tmp}/q", "--server-files", "{package_parent}"],
     "not a copy made by convexproof export"),
    (["export", "--to", "gradescope", "exercise3", "-o", "{tmp}"], "folder"),
    (["handout", "exercise3", "--format", "ipynb", "--roster", "{roster}"], "--roster is not available"),
    (["handout", "exercise3", "--format", "ipynb", "--key"], "--key is not available"),
])
def test_bad_platform_options_are_one_line_and_exit_2(tmp_path, args, message):
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nada\n", encoding="utf-8")
    import convexproof

    package_parent = Path(convexproof.__file__).resolve().parent.parent
    res = invoke(*[a.format(tmp=tmp_path, roster=roster, package_parent=package_parent) for a in args])
    assert res.exit_code == 2, res.output
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "Traceback" not in res.output


# ==========================================================================
# PrairieLearn
# ==========================================================================
@pytest.fixture(scope="module")
def pl_questions(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pl") / "questions"
    res = invoke("export", "--to", "prairielearn", *PL_EXERCISES, "-o", out)
    assert res.exit_code == 0, res.output
    return out


def load_server(folder: Path):
    spec = importlib.util.spec_from_file_location(f"pl_server_{folder.name}", folder / "server.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pl_data(seed: int) -> dict:
    """The keys of PrairieLearn's ``data`` dict that question code reads and writes."""
    return {"params": {}, "correct_answers": {}, "submitted_answers": {}, "raw_submitted_answers": {},
            "format_errors": {}, "partial_scores": {}, "score": 0, "feedback": {}, "variant_seed": seed,
            "options": {}, "panel": "question", "editable": True, "manual_grading": False, "answers_names": {}}


def pl_submit(server, seed: int, answers: dict) -> dict:
    """generate, then parse and (when there is no format error) grade, as PrairieLearn does."""
    data = pl_data(seed)
    server.generate(data)
    data["submitted_answers"] = dict(answers)
    data["raw_submitted_answers"] = dict(answers)
    server.parse(data)
    if not data["format_errors"]:
        server.grade(data)
    return data


def test_prairielearn_info_json_and_stable_uuids(pl_questions, tmp_path):
    again = tmp_path / "again"
    assert invoke("export", "--to", "prairielearn", *PL_EXERCISES, "-o", again).exit_code == 0
    uuids = set()
    for ex_id in PL_EXERCISES:
        info = json.loads((pl_questions / ex_id / "info.json").read_text(encoding="utf-8"))
        ex = load_exercise(ex_id)
        assert info["type"] == "v3" and info["title"] == ex.title
        assert isinstance(info["topic"], str) and info["topic"]
        assert isinstance(info["tags"], list) and all(isinstance(t, str) for t in info["tags"])
        assert info["partialCredit"] is True
        assert str(uuid.UUID(info["uuid"])) == info["uuid"]
        assert json.loads((again / ex_id / "info.json").read_text(encoding="utf-8"))["uuid"] == info["uuid"]
        uuids.add(info["uuid"])
        assert (again / ex_id / "server.py").read_bytes() == (pl_questions / ex_id / "server.py").read_bytes()
    assert len(uuids) == len(PL_EXERCISES)


@pytest.mark.parametrize("ex_id", PL_EXERCISES)
@pytest.mark.parametrize("seed", [0, 987654321])
def test_prairielearn_server_round_trip(pl_questions, ex_id, seed):
    import chevron

    folder = pl_questions / ex_id
    server = load_server(folder)
    ex = load_exercise(ex_id, seed=seed)
    # generate: params hold the variant's statement, no answer
    data = pl_data(seed)
    server.generate(data)
    assert data["params"]["seed"] == seed and data["params"]["parts"] == list(ex.parts)
    assert data["correct_answers"] == {}
    json.dumps(data)  # PrairieLearn stores data as JSON
    # question.html renders through a real Mustache implementation
    page = chevron.render((folder / "question.html").read_text(encoding="utf-8"), data)
    assert not re.search(r"\{\{[#/^]?\s*(params|feedback)\b", page)  # every tag rendered (LaTeX has its own braces)
    assert "<pl-question-panel>" in page and ex.title in page
    for p in ex.parts:
        assert f'answers-name="{p}"' in page
    assert "$" in page  # math in $…$
    # correct answers (computed): full score, no format error
    right = own_answers(ex_id, seed=seed)
    d = pl_submit(server, seed, right)
    assert d["format_errors"] == {} and d["score"] == 1
    assert all(d["partial_scores"][p]["score"] == 1 and d["feedback"][p] for p in ex.parts)
    json.dumps(d)
    # one unreadable answer: a format error for that part only, nothing graded
    first = next(iter(ex.parts))
    d = pl_submit(server, seed, dict(right, **{first: "x^2 +"}))
    assert list(d["format_errors"]) == [first] and d["partial_scores"] == {}
    # test(): PrairieLearn's test mode, checked the way PrairieLearn checks it
    for kind in ("correct", "incorrect", "invalid"):
        t = pl_data(seed)
        server.generate(t)
        t["test_type"] = kind
        server.test(t)
        assert set(t["raw_submitted_answers"]) == set(ex.parts)
        d = pl_submit(server, seed, t["raw_submitted_answers"])
        assert set(d["format_errors"]) == set(t["format_errors"]), kind
        if not t["format_errors"]:
            assert d["score"] == pytest.approx(t["score"]), kind
            for p, s in t["partial_scores"].items():
                assert d["partial_scores"][p]["score"] == s["score"], (kind, p)


def test_prairielearn_grade_wrong_answer_to_exercise3(pl_questions):
    server = load_server(pl_questions / "exercise3")
    seed = 0
    right = own_answers("exercise3", seed=seed)
    ex = load_exercise("exercise3", seed=seed)
    slip = ex.formula(next(m.answer for m in ex.mistakes if m.note == "slip-f2-at-0"))
    d = pl_submit(server, seed, dict(right, lambda_min=str(slip)))
    ps = d["partial_scores"]["lambda_min"]
    assert ps["score"] == 0 and ps["note"] == "slip-f2-at-0" and ps["convexproof_status"] == "incorrect"
    assert "factor 2" in ps["feedback"] and "read as" in ps["feedback"]
    assert d["feedback"]["lambda_min"] == ps["feedback"]
    assert d["partial_scores"]["second_derivative"]["score"] == 1
    scores = d["partial_scores"].values()
    assert d["score"] == pytest.approx(sum(s["score"] * s["weight"] for s in scores) / sum(s["weight"] for s in scores))
    assert d["score"] < 1
    # a derivation part's marked lines show in a <pre> block of the submission panel
    import chevron

    page = chevron.render((pl_questions / "exercise3" / "question.html").read_text(encoding="utf-8"), d)
    multiline = [p for p in ex.parts.values() if p.type in MULTILINE_TYPES]
    for p in multiline:
        assert f"<pre>{chevron.render('{{x}}', {'x': d['feedback'][p.name]})}</pre>" in page


def test_prairielearn_server_files_and_teacher_exercise(tmp_path):
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    src = load_exercise("exercise3").path.read_text(encoding="utf-8")
    (teacher / "mine3.toml").write_text(src.replace('id = "exercise3"', 'id = "mine3"'), encoding="utf-8")
    out, sfc = tmp_path / "questions", tmp_path / "serverFilesCourse"
    res = invoke("export", "--to", "prairielearn", "mine3", "-o", out, "--server-files", sfc,
                 "--exercises", teacher)
    assert res.exit_code == 0, res.output
    assert (out / "mine3" / "convexproof_exercise" / "mine3.toml").is_file()
    assert (sfc / "convexproof" / "grading" / "checking.py").is_file()
    assert (sfc / "convexproof" / "exercises" / "exercise3.toml").is_file()
    # exporting again replaces the earlier copy (and only a copy it made)
    assert invoke("export", "--to", "prairielearn", "mine3", "-o", out, "--server-files", sfc,
                  "--exercises", teacher).exit_code == 0
    assert (sfc / "convexproof" / "grading" / "checking.py").is_file()
    # the question finds the teacher's file next to its server.py (no --exercises in PrairieLearn)
    server = load_server(out / "mine3")
    d = pl_submit(server, 5, own_answers("exercise3", seed=None) | {"lambda_min": "lam >= a"})
    assert d["partial_scores"]["lambda_min"]["score"] == 1


# ==========================================================================
# Jupyter
# ==========================================================================
def _notebook(tmp_path, *extra) -> dict:
    out = tmp_path / "nb.ipynb"
    res = invoke("handout", "exercise3", "--format", "ipynb", "-o", out, *extra)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


def _cells(nb, role, part=None):
    return [c for c in nb["cells"] if c["metadata"]["convexproof"]["role"] == role
            and (part is None or c["metadata"]["convexproof"].get("part") == part)]


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_notebook_structure_and_no_solutions_unless_asked(tmp_path):
    import nbformat

    nb = _notebook(tmp_path)
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
    ex = load_exercise("exercise3")
    assert len(_cells(nb, "statement")) == 1
    for p in ex.parts:
        assert len(_cells(nb, "answer", p)) == 1 and len(_cells(nb, "check", p)) == 1
        assert "convexproof.check(" in _source(_cells(nb, "check", p)[0])
    assert "$" in _source(_cells(nb, "statement")[0])  # math
    assert _cells(nb, "solution") == []
    text = json.dumps(nb, ensure_ascii=False)
    second = _own_answer_text(solve(ex).answers["second_derivative"])
    assert second not in text
    with_solutions = _notebook(tmp_path, "--solutions")
    assert len(_cells(with_solutions, "solution")) == 1
    seeded = _notebook(tmp_path, "--seed", "7")
    assert all("seed=7)" in _source(c) for c in _cells(seeded, "check"))
    assert "seed=None)" in _source(_cells(nb, "check")[0])


def test_notebook_executes_and_shows_correct_and_feedback(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.reads(json.dumps(_notebook(tmp_path)), as_version=4)
    right = own_answers("exercise3")["lambda_min"]
    wrong = selftest_answer("exercise3", "second_derivative", "incorrect")
    for cell in nb.cells:
        meta = cell.metadata["convexproof"]
        if meta["role"] == "answer" and meta["part"] in ("lambda_min", "second_derivative"):
            answer = right if meta["part"] == "lambda_min" else wrong
            cell.source = cell.source.split(" = ", 1)[0] + f" = {json.dumps(answer)}"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
        if cell.metadata["convexproof"]["role"] == "check":
            md = [o["data"]["text/markdown"] for o in cell.outputs if o.output_type == "display_data"]
            assert len(md) == 1
            shown[cell.metadata["convexproof"]["part"]] = md[0]
    assert "**correct**" in shown["lambda_min"]
    assert "**incorrect**" in shown["second_derivative"]
    assert "first derivative" in shown["second_derivative"]  # the feedback
    assert "read as: $" in shown["second_derivative"]  # math in the Markdown


# ==========================================================================
# Shared: one part's grade, whatever check says
# ==========================================================================
def _fake_check(status, score, feedback="", note=None, exc=None):
    from convexproof.grading.checking import CheckResult

    def fake(exercise, answer, part=None, seed=None, exercises_dir=None, **kw):
        if exc is not None:
            raise exc
        return CheckResult(exercise, part, answer, status, score, feedback, note)

    return fake


@pytest.mark.parametrize("status,score,points,want_status,want_fraction,snippet", [
    ("correct", 1.0, None, "correct", 1.0, "too small"),  # check's own words are kept
    ("incorrect", 0.0, None, "incorrect", 0.0, "too small"),
    ("incorrect", 0.625, 4, "incorrect", 0.625, "too small"),  # partial credit (a derivation)
    ("invalid", 0.0, None, "invalid", 0.0, "could not be read"),
    ("undecided", 0.0, 2, "undecided", 0.0, "teacher will review"),
    ("undecided", 1.0, None, "undecided", 0.0, "teacher will review"),  # never credit without a decision
    ("some-new-status", 1.0, None, "some-new-status", 0.0, "Status some-new-status"),
    ("raise-exercise-error", 0.0, None, "error", 0.0, "could not be checked automatically"),
    ("raise-bug", 0.0, None, "error", 0.0, "internal error"),
])
def test_grade_part_maps_every_status(monkeypatch, status, score, points, want_status, want_fraction, snippet):
    from types import SimpleNamespace

    import convexproof.grading.checking
    from convexproof.runtime.errors import ExerciseError
    from convexproof.platforms import grade_part

    exc = {"raise-exercise-error": ExerciseError("broken file"), "raise-bug": RuntimeError("bug")}.get(status)
    monkeypatch.setattr(convexproof.grading.checking, "check", _fake_check(status, score, "λ = 2 is too small.", "n", exc))
    part = SimpleNamespace(name="p", type="number", accept=[], points=points)
    g = grade_part("exercise3", part, "2", None)
    assert g["status"] == want_status and g["fraction"] == want_fraction
    assert g["points"] == (points or 1) and g["score"] == pytest.approx(want_fraction * (points or 1))
    assert snippet in g["feedback"]


@pytest.mark.parametrize("answer,status", [("", "unanswered"), ("   ", "unanswered"), (None, "unanswered"),
                                           (3, "unanswered"), ("x" * 30_000, "invalid")])
def test_grade_part_without_a_usable_answer(answer, status):
    from convexproof.platforms import grade_part

    part = load_exercise("exercise3").parts["lambda_min"]
    g = grade_part("exercise3", part, answer, None)
    assert g["status"] == status and g["score"] == 0 and g["feedback"]


def test_gradescope_zip_carries_a_teachers_exercise_and_its_seed(tmp_path):
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    src = load_exercise("exercise3").path.read_text(encoding="utf-8")
    (teacher / "mine3.toml").write_text(src.replace('id = "exercise3"', 'id = "mine3"'), encoding="utf-8")
    out = tmp_path / "ag.zip"
    res = invoke("export", "--to", "gradescope", "mine3", "--exercises", teacher, "--seed", 3, "-o", out)
    assert res.exit_code == 0, res.output
    root = unpack(out, tmp_path / "root")
    assert (root / "source" / "exercises" / "mine3.toml").is_file()
    answers = own_answers("mine3", exercises_dir=teacher)
    assert load_exercise("mine3", seed=3, exercises_dir=teacher).values != load_exercise("exercise3").values
    (root / "submission" / "answers.toml").write_text(_toml({"mine3": answers}), encoding="utf-8")
    r = run_autograder(root)  # the canonical answers are wrong for variant 3
    assert r["extra_data"]["convexproof"]["seed"] == 3 and r["score"] < len(answers)
    answers = own_answers("mine3", seed=3, exercises_dir=teacher)
    (root / "submission" / "answers.toml").write_text(_toml({"mine3": answers}), encoding="utf-8")
    r = run_autograder(root)
    validate_results(r, visibility="visible")
    assert r["score"] == sum(t["max_score"] for t in r["tests"]) == len(load_exercise("exercise3").parts)


@pytest.mark.parametrize("target,output", [("gradescope", "ag.zip"), ("prairielearn", "questions")])
def test_export_of_an_exercise_too_slow_to_solve_stops_at_the_time_limit(tmp_path, monkeypatch, target, output):
    """The TA learns at export time, not every student at submission time."""
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    src = load_exercise("exercise3").path.read_text(encoding="utf-8").replace('id = "exercise3"', 'id = "slow"')
    slow = 'function = "x^200 - 7x^199 + 3x^150 - x^77 - a x^2 + x^3"'
    (teacher / "slow.toml").write_text(src.replace('function = "x^4 - a x^2"', slow, 1), encoding="utf-8")
    monkeypatch.setenv("CONVEXPROOF_SOLVE_TIMEOUT", "2")
    res = invoke("export", "--to", target, "slow", "--exercises", teacher, "-o", tmp_path / output)
    assert res.exit_code == 2 and "time limit" in res.stderr, res.output
    assert not (tmp_path / output).exists()
