"""Moodle XML export: parsed with xml.etree, structure and values checked against the engine."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.library import load_exercise
from convexproof.solvers import solve


def export(*args):
    res = CliRunner().invoke(cli, ["export", "--to", "moodle", *args])
    assert res.exit_code == 0, res.output
    return ET.fromstring(res.output.split("\n", 1)[1])


@pytest.mark.parametrize("ex_id,seed", [("exercise3", None), ("exercise14", None), ("exercise7", 3),
                                        ("exercise12", 2), ("exercise18", 1)])
def test_questions_match_parts_and_engine(ex_id, seed):
    root = export(ex_id, *(["--seed", str(seed)] if seed is not None else []))
    assert root.tag == "quiz"
    qs = root.findall("question")
    assert qs[0].get("type") == "category"
    ex = load_exercise(ex_id, seed=seed)
    sol = solve(ex)
    by_name = {q.find("name/text").text: q for q in qs[1:]}
    for part in ex.parts.values():
        mine = [q for n, q in by_name.items() if n.split(": ", 1)[1].startswith(part.name)]
        assert mine, part.name
        for q in mine:
            assert q.find("questiontext").get("format") == "html"
            assert q.find("generalfeedback/text").text.strip()  # the worked solution
        if part.type == "number":
            (q,) = mine
            assert q.get("type") == "numerical"
            right = [a for a in q.findall("answer") if a.get("fraction") == "100"]
            assert len(right) == 1
            assert abs(float(right[0].find("text").text) - float(sol.answers[part.name])) < 1e-12
            assert float(right[0].find("tolerance").text) == part.tolerance
        elif part.type == "point":
            assert len(mine) == len(sol.answers[part.name])
            for q, c in zip(mine, sol.answers[part.name]):
                assert q.get("type") == "numerical"
                assert abs(float(q.find("answer/text").text) - float(c)) < 1e-12
        elif part.type == "verdict":
            (q,) = mine
            assert q.get("type") == "multichoice" and q.find("single").text == "true"
            answers = q.findall("answer")
            right = [a.find("text").text for a in answers if a.get("fraction") == "100"]
            assert right == [sol.answers[part.name]]
            assert len(answers) >= 3
        else:
            (q,) = mine
            assert q.get("type") == "essay" and q.find("graderinfo/text").text


def test_mistake_feedback_reaches_the_distractor():
    root = export("exercise7")
    q = next(q for q in root.findall("question")[1:] if q.find("name/text").text.endswith(": verdict"))
    pd = next(a for a in q.findall("answer") if a.find("text").text == "positive definite")
    assert pd.get("fraction") == "0"
    assert "(1, −1)" in pd.find("feedback/text").text


def test_export_needs_an_exercise():
    res = CliRunner().invoke(cli, ["export", "--to", "moodle"])
    assert res.exit_code == 2
