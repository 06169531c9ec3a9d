"""Reading input files and writing ``-o`` files safely.

Reading (:func:`read_input`): every input file (``grade --answers``,
``handout --roster``, exercise files) is read with a size cap that also holds
for devices and pipes: at most ``cap + 1`` bytes are ever read, so
``/dev/zero`` is "too large" rather than a memory exhaustion.  The file is
opened non-blocking, so a FIFO with no writer does not hang the open; a pipe
or device is read until end of file, waiting at most :data:`READ_TIMEOUT`
seconds for data (a FIFO whose writer never writes is an error, not a hang).
Folders are refused, and callers may refuse anything but a regular file.

Writing (:func:`check_output`, :func:`write_file`):

* the destination is checked before any work is done (the command-line
  option calls :func:`check_output` while the options are parsed): a missing
  or read-only folder, a folder given as the file, a read-only file;
* a regular file (or a symbolic link to one, or a new file) is written
  atomically: a temporary file in the target's folder, given the mode of the
  file it replaces (or ``0666`` less the umask for a new file), then renamed
  over the *target* of the link, so the link stays a link;
* anything else (a FIFO, ``/dev/null``, ``/dev/stdout``, a terminal) is
  written through, never replaced by a regular file.  A FIFO that no program
  reads is an error, not a hang.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time

from convexproof.runtime.errors import ConvexproofError

READ_TIMEOUT = 30.0  # seconds to wait for more data from a pipe or device
_CHUNK = 1 << 16


def _show(path) -> str:
    from convexproof.runtime.safetext import terminal_safe

    return terminal_safe(str(path))[:200]


def _size_text(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    return f"{n} bytes"


# ----------------------------------------------------------------- reading
def read_input(path, *, cap: int, label: str | None = None, regular_only: bool = False,
               error: type[ConvexproofError] = ConvexproofError) -> bytes:
    """The bytes of ``path``, at most ``cap`` of them; else a one-line ``error``.

    ``label`` starts every message (default: the file name).  With
    ``regular_only`` a pipe or device is refused outright.
    """
    label = label or _show(os.path.basename(str(path)) or path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    if "\x00" in str(path):
        raise error(f"{label}: a file name cannot hold a NUL character")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{label}: is a folder, not a file")
        regular = stat.S_ISREG(st.st_mode)
        if not regular and regular_only:
            raise error(f"{label}: not a regular file (a pipe or device); give a file")
        if regular and st.st_size > cap:
            raise error(f"{label}: file is larger than {_size_text(cap)}")
        data = _read_at_most(fd, cap + 1, regular, label, error)
    except OSError as exc:
        raise error(f"{label}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise error(f"{label}: file is larger than {_size_text(cap)}")
    return data


def _read_at_most(fd: int, limit: int, regular: bool, label: str, error) -> bytes:
    if regular and hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    chunks: list[bytes] = []
    got = 0
    deadline = time.monotonic() + READ_TIMEOUT
    while got < limit:
        try:
            chunk = os.read(fd, min(_CHUNK, limit - got))
        except BlockingIOError:  # a pipe or device with no data yet: wait for it, up to the deadline
            import select

            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise error(f"{label}: no data arrived for {READ_TIMEOUT:g} s (a pipe or device "
                            f"that is never closed?)") from None
            continue
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
        deadline = time.monotonic() + READ_TIMEOUT
    return b"".join(chunks)


# ----------------------------------------------------------------- writing
def check_output(path) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    show = _show(path)
    if "\x00" in str(path):
        raise ConvexproofError(f"cannot write {show}: a file name cannot hold a NUL character")
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ConvexproofError(f"cannot write {show}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ConvexproofError(f"cannot write {show}: it is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISSOCK(st.st_mode):
            raise ConvexproofError(f"cannot write {show}: it is a socket")
        if not os.access(target, os.W_OK):
            raise ConvexproofError(f"cannot write {show}: permission denied")
        return  # a FIFO or a device: written through
    folder = os.path.dirname(target) or "."
    given = _show(os.path.dirname(str(path)) or ".")
    if not os.path.isdir(folder):
        raise ConvexproofError(f"cannot write {show}: the folder {given} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConvexproofError(f"cannot write {show}: the folder {given} is not writable")
    if st is not None and not os.access(target, os.W_OK):
        raise ConvexproofError(f"cannot write {show}: the file is read-only")


def write_file(path, data: bytes) -> None:
    """Write ``data`` to ``path`` (see the module docstring); errors are one line."""
    show = _show(path)
    if "\x00" in str(path):
        raise ConvexproofError(f"cannot write {show}: a file name cannot hold a NUL character")
    target = os.path.realpath(path)
    try:
        try:
            st = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise ConvexproofError(f"cannot write {show}: it is a folder")
        if st is not None and not stat.S_ISREG(st.st_mode):
            _write_through(target, data, stat.S_ISFIFO(st.st_mode), show)
            return
        _write_atomic(target, data, st)
    except OSError as exc:
        raise ConvexproofError(f"cannot write {show}: {exc.strerror or exc}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _write_through(target: str, data: bytes, fifo: bool, show: str) -> None:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    if fifo:
        flags |= getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if fifo and exc.errno == getattr(__import__("errno"), "ENXIO", -1):
            raise ConvexproofError(f"cannot write {show}: no program is reading from this pipe") from None
        raise
    try:
        if fifo and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        _write_all(fd, data)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomic(target: str, data: bytes, st) -> None:
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        try:
            _write_all(fd, data)
            mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
            if st is not None and hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                try:  # before the mode: a change of owner clears set-id bits
                    os.fchown(fd, st.st_uid, st.st_gid)
                except OSError:
                    pass  # not allowed (not root): the file becomes ours, with the old mode
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def decode(raw: bytes, name: str = "answers") -> str:
    """Text of a CSV file: UTF-8 (with or without a BOM) or UTF-16 with a BOM; anything else is refused.

    A file that is not UTF-8 is refused as a whole, naming the line and the
    byte, rather than guessed (one Latin-1 byte used to turn the whole file
    into Windows-1252, and every other non-ASCII character with it).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConvexproofError(f"{name}: not valid UTF-16 text (at byte {exc.start + 1}); "
                                   f"save the file as UTF-8") from None
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[:exc.start].decode("utf-8", errors="replace")
        line = before.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        column = len(before) - max(before.rfind("\n"), before.rfind("\r"))
        raise ConvexproofError(f"{name}: line {line}, character {column}: byte 0x{body[exc.start]:02X} is not UTF-8; "
                               f"save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')") from None
