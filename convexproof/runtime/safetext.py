"""Text that leaves convexproof: terminals, spreadsheets, Markdown, XML.

* :func:`terminal_safe`: control characters (C0, DEL, C1: ``ESC [2J``, the
  8-bit ``CSI``) and invisible or direction-changing characters (U+200B,
  U+202E, U+2066 ..., U+FEFF) become visible escapes such as ``\\x1b`` and
  ``\\u202e``, so no escape sequence in a student id or an exercise reaches a
  terminal.
* :func:`csv_cell`: a cell a spreadsheet would run as a formula (one starting
  with ``= + - @``, a tab, a carriage return or a line feed, after leading
  spaces) is prefixed with ``'``; plain numbers such as ``-3`` are left alone.
* :func:`safe_links`: a Markdown link or reference definition whose target
  has a scheme other than ``http``, ``https`` or ``mailto`` (``javascript:``,
  ``data:``, ``vbscript:``, also written with entities, escapes, capitals or
  tabs) has its bracket escaped, so it is printed as text, not made a link.
* :func:`xml_text`: characters that XML 1.0 does not allow (C0 controls other
  than tab and line ends, lone surrogates, U+FFFE/U+FFFF) become U+FFFD.
"""

from __future__ import annotations

import re

_INVISIBLE = "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
_TERMINAL_BAD = re.compile("[\x00-\x1f\x7f-\x9f" + _INVISIBLE + "]")


def _escape_char(m: re.Match) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def terminal_safe(text) -> str:
    """``text`` with every control or invisible character shown as an escape (``\\x1b``, ``\\u202e``)."""
    return _TERMINAL_BAD.sub(_escape_char, str(text))


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with C1 controls and invisible or
    direction-changing characters written as ``\\uXXXX`` escapes: the same data, nothing a terminal acts on."""
    return _JSON_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_BAD = re.compile("[\x7f-\x9f" + _INVISIBLE + "]")  # json.dumps escapes C0 itself; line ends are layout


def bad_id_char(text: str) -> str | None:
    """A description of the first control or invisible character in an id, or None."""
    m = _TERMINAL_BAD.search(text)
    if m is None:
        return None
    c = m.group()
    what = "a byte-order mark (were two files joined?)" if c == "\ufeff" else (
        "a control character" if ord(c) < 0xa0 else "an invisible character")
    return f"U+{ord(c):04X}, {what}"


# ------------------------------------------------------------- spreadsheets
_FORMULA_START = frozenset("=+-@\t\r\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    first = text.lstrip(" ")[:1]
    if first in _FORMULA_START and first and not _NUMBER.fullmatch(text.strip(" ")):
        return "'" + text
    return text


# ----------------------------------------------------------------- Markdown
_SAFE_SCHEMES = {"http", "https", "mailto"}
_INLINE_LINK = re.compile(r"\]([ \t]*)\(")
_REFERENCE = re.compile(r"^([ \t]{0,3})\[(?=[^\]\n]*\]:)", re.M)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _unsafe_target(rest: str) -> bool:
    """Does a link target starting at ``rest`` use a scheme other than http(s)/mailto?"""
    head = rest[:200]
    # what a browser or a Markdown processor would make of it: entities decoded, escapes,
    # whitespace and control characters dropped, case ignored
    for _ in range(3):
        import html  # html.entities is a large table: loaded only when a link is checked

        head = html.unescape(head)
    head = re.sub(r"[\x00-\x20\x7f-\x9f\\<'\"]", "", head).lower()
    m = _SCHEME.match(head)
    return m is not None and m.group(1) not in _SAFE_SCHEMES


def safe_links(text: str) -> str:
    """Markdown with no link to a ``javascript:``, ``data:``, ``vbscript:`` (or other non-web) target."""
    text = str(text)
    if "]" not in text:
        return text
    text = _INLINE_LINK.sub(lambda m: m.group() if not _unsafe_target(text[m.end():])
                            else "]" + m.group(1) + "\\(", text)
    return _REFERENCE.sub(lambda m: m.group() if not _unsafe_target(text[text.index("]:", m.end()) + 2:])
                          else m.group(1) + "\\[", text)


# ---------------------------------------------------------------------- XML
# What XML 1.0 allows is \t \n \r, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF; the rest, written as a
# positive class (the negated one took 6 ms to compile, on every command that imported this module):
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _XML_BAD.sub("\ufffd", text)
