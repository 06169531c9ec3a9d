"""Class rosters: the students of a course, each with their own exercise variant.

``read_roster(path)`` reads the student ids from a CSV file with a ``student``
column (untrusted input: size cap, one-line errors); ``roster_seed(student)``
is the deterministic seed of a student's variant (SHA-256 of ``"roster:" + id``),
the same for a handout and for the Gradescope autograder that grades it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

from convexproof.runtime.errors import ConvexproofError

MAX_ROSTER = 1000
_STUDENT_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")


def roster_seed(student: str) -> int:
    """The deterministic seed of a student's variant."""
    return int(hashlib.sha256(("roster:" + student).encode("utf-8")).hexdigest()[:15], 16)


MAX_ROSTER_BYTES = 2_000_000


def read_roster(path) -> list[str]:
    """Student ids from a CSV file with a 'student' column (BOM and blank lines tolerated).

    Read with a size cap that also holds for pipes and devices (``/dev/zero``
    is "too large", a FIFO that is never written is an error, not a hang).  A
    list of ids already read is returned as it is.
    """
    if isinstance(path, (list, tuple)):
        return list(path)
    from convexproof.runtime.safeio import read_input
    from convexproof.runtime.safetext import bad_id_char

    p = Path(path)
    raw = read_input(path, cap=MAX_ROSTER_BYTES, label=f"roster {p.name}")
    from convexproof.runtime.safeio import decode

    text = decode(raw, f"roster {p.name}")  # UTF-8 (with or without a BOM) or UTF-16 with a BOM; else line and byte
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:  # a CSV syntax error is one line, not a crash (a lone carriage return used to be exit 3)
        for _ in csv.reader(io.StringIO(text)):
            pass
    except csv.Error as exc:
        raise ConvexproofError(f"roster {p.name}: not a readable CSV file ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "student" not in fields:
        raise ConvexproofError(f"roster {p.name}: needs a 'student' column (found: {', '.join(fields) or 'nothing'})")
    col = (reader.fieldnames or [])[fields.index("student")]
    students: list[str] = []
    seen = set()
    for line_no, row in enumerate(reader, start=2):
        sid = (row.get(col) or "").strip()
        if not sid:
            continue
        if not _STUDENT_RE.match(sid) or bad_id_char(sid):
            raise ConvexproofError(f"roster {p.name}: line {line_no}: student id is too long or has control characters")
        if sid in seen:
            raise ConvexproofError(f"roster {p.name}: line {line_no}: student {sid[:40]!r} appears twice")
        seen.add(sid)
        students.append(sid)
        if len(students) > MAX_ROSTER:
            raise ConvexproofError(f"roster {p.name}: more than {MAX_ROSTER} students")
    if not students:
        raise ConvexproofError(f"roster {p.name}: no students")
    return students
