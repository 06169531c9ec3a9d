"""`pip install .` into a fresh virtual environment: the console script works from any directory.

Marked slow; CI runs it.  The venv uses --system-site-packages so that sympy, click
and jinja2 come from the system and nothing is downloaded; the project itself is
installed non-editable, from a copy of the source tree, with the installed
``convexproof/exercises`` and ``convexproof/templates`` (not the checkout's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("convexproof", "exercises", "templates"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # pip from the system site-packages, installing into the venv.  When the system can build a
    # wheel itself (setuptools with bdist_wheel), nothing is downloaded; otherwise pip fetches the
    # build backend declared in pyproject.toml, as `pip install .` does on a fresh machine.
    offline = _can_build_wheels_offline()
    cmd = [str(py), "-m", "pip", "install", "--no-deps", "-q", str(src)]
    if offline:
        cmd[4:4] = ["--no-build-isolation", "--no-index"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, cwd=base)
    assert proc.returncode == 0, proc.stdout.decode()[-3000:]
    shutil.rmtree(src)  # the installed package must not need the source tree
    return env_dir


def _can_build_wheels_offline() -> bool:
    try:
        import setuptools  # noqa: F401
    except ImportError:
        return False
    try:
        import setuptools.command.bdist_wheel  # noqa: F401  (setuptools >= 70.1)
        return True
    except ImportError:
        pass
    try:
        import wheel  # noqa: F401
        return True
    except ImportError:
        return False


def _run(env_dir, args, cwd, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CONVEXPROOF_EXERCISES")}
    env.update(extra_env or {})
    return subprocess.run([str(env_dir / "bin" / "convexproof"), *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


def test_solve_exercise3_from_any_directory(installed, tmp_path):
    proc = _run(installed, ["solve", "exercise3", "--format", "json"], tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["answers"]["lambda_min"] == "3"


def test_installed_package_is_not_the_checkout(installed, tmp_path):
    proc = subprocess.run([str(installed / "bin" / "python"), "-c",
                           "import convexproof, convexproof.runtime.resources as r; print(convexproof.__file__); "
                           "print(r.data_dir('exercises')); print(r.data_dir('templates'))"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    out = proc.stdout.decode().splitlines()
    assert proc.returncode == 0, proc.stderr.decode()
    assert all(str(installed) in line for line in out), out
    assert all(str(ROOT) not in line for line in out)


def test_markdown_and_latex_work_installed(installed, tmp_path):
    md = _run(installed, ["solve", "exercise1"], tmp_path)
    assert md.returncode == 0 and "L''(p) = y/p² + (1 − y)/(1 − p)²" in md.stdout.decode()
    tex = _run(installed, ["solve", "exercise2", "--format", "latex", "-o", "ex2.tex"], tmp_path)
    assert tex.returncode == 0 and r"\end{document}" in (tmp_path / "ex2.tex").read_text(encoding="utf-8")


@pytest.mark.parametrize("how", ["option", "env"])
def test_teachers_folder_installed(installed, tmp_path, how):
    folder = tmp_path / "my exercises"
    folder.mkdir()
    text = (ROOT / "exercises" / "exercise3.toml").read_text(encoding="utf-8")
    text = text.replace('id = "exercise3"', 'id = "week5"').replace("a = { default = 3,", "a = { default = 4,")
    (folder / "week5.toml").write_text(text, encoding="utf-8")
    args = ["solve", "week5", "--format", "json"]
    extra = None
    if how == "option":
        args += ["--exercises", str(folder)]
    else:
        extra = {"CONVEXPROOF_EXERCISES": str(folder)}
    proc = _run(installed, args, tmp_path, extra)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["answers"]["lambda_min"] == "4"


def test_python_dash_m_and_errors_installed(installed, tmp_path):
    proc = subprocess.run([str(installed / "bin" / "python"), "-m", "convexproof", "solve", "nope"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 2
    assert len(proc.stderr.decode().strip().splitlines()) == 1 and b"Traceback" not in proc.stderr


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX paths in the venv", allow_module_level=True)
