"""Where courses grade: Gradescope, PrairieLearn and Jupyter.

* :mod:`.gradescope`: ``convexproof export --to gradescope``, an autograder zip
  (``setup.sh``, ``run_autograder``, a vendored copy of convexproof) whose
  runner reads a student's answers file and writes ``results.json``;
* :mod:`.prairielearn`: ``convexproof export --to prairielearn``, one question
  folder per exercise (``info.json``, ``question.html``, a thin ``server.py``
  calling :func:`.prairielearn.generate` and friends);
* :mod:`.notebook`: ``convexproof handout --format ipynb``, a self-check
  notebook.

What they share is in :mod:`.common` (grading one part into a
platform-neutral dict, :func:`grade_part`; the part's points; the "read as"
echo of an answer; a vendored copy of the package), re-exported here; this
module dispatches ``convexproof export --to ...`` (:func:`export_for`).
"""

from __future__ import annotations

from convexproof.platforms.common import (  # noqa: F401 - the shared helpers, re-exported
    MAX_ANSWER_CHARS, MULTILINE_TYPES, STATUS_TEXT, VENDOR_MARK, ensure_solvable, exercise_file, feedback_text,
    grade_part, package_files, part_points, prose_text, read_as, read_as_latex, runtime_requirements,
    vendor_package,
)
from convexproof.runtime.errors import ConvexproofError

# --------------------------------------------------------------------------
# ``convexproof export --to ...``
# --------------------------------------------------------------------------
EXPORT_TARGETS = ("moodle", "gradescope", "prairielearn")


def export_for(target: str, exercises, *, seed: int | None = None, roster=None, visibility: str | None = None,
               server_files=None, output=None, exercises_dir=None) -> str | bytes | None:
    """The export of ``exercises`` for ``target``: text or bytes for the CLI to write, or None when written here.

    * ``moodle``: Moodle XML text (standard output or ``-o FILE``);
    * ``gradescope``: the autograder zip's bytes (``-o FILE.zip`` required);
    * ``prairielearn``: question folders written under ``-o DIR`` (required).
    """
    if target not in EXPORT_TARGETS:
        raise ConvexproofError(f"unknown export target {str(target)[:20]!r}; use one of {', '.join(EXPORT_TARGETS)}")
    if roster is not None and target != "gradescope":
        raise ConvexproofError("--roster applies to --to gradescope only")
    if visibility is not None and target != "gradescope":
        raise ConvexproofError("--visibility applies to --to gradescope only")
    if server_files is not None and target != "prairielearn":
        raise ConvexproofError("--server-files applies to --to prairielearn only")
    if target != "prairielearn" and output is not None:
        from convexproof.runtime.safeio import check_output

        check_output(output)  # a folder, a missing or read-only folder: refused before any work
    if target == "moodle":
        from convexproof.platforms.moodle import moodle_export

        return moodle_export(list(exercises), seed=seed, exercises_dir=exercises_dir)
    if target == "gradescope":
        from convexproof.platforms.gradescope import build_autograder

        if output is None:
            raise ConvexproofError("--to gradescope writes a zip file: give -o autograder.zip")
        return build_autograder(list(exercises), seed=seed, roster=roster, visibility=visibility or "visible",
                                exercises_dir=exercises_dir)
    from convexproof.platforms.prairielearn import export_questions

    if output is None or not str(output).strip():
        raise ConvexproofError("--to prairielearn writes one folder per question: give -o DIR")
    if seed is not None:
        raise ConvexproofError("--seed does not apply to --to prairielearn: PrairieLearn's variant seed picks "
                               "the variant")
    export_questions(list(exercises), output, exercises_dir=exercises_dir, server_files=server_files)
    return None
