"""The project's own error classes.

Every error a user can cause (bad input, unknown exercise, malformed exercise
file, a time limit) is a :class:`ConvexproofError`.  The CLI catches exactly this
class, prints its message on one line and exits with code 2.
"""


class ConvexproofError(Exception):
    """Base class: a problem with the user's input, reported in one line."""

    def one_line(self) -> str:
        text = " ".join(str(self).split())
        return text[:500]


class ParseError(ConvexproofError):
    """Text that our whitelist parser refuses."""


class ExerciseError(ConvexproofError):
    """An unknown exercise, part, or a malformed exercise file."""


class AnalysisTimeout(ConvexproofError):
    """An analysis ran over its time limit."""
