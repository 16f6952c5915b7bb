"""The engine's typed errors. Each names the file or thing concerned and says what to do.

Callers (CLI, GUI) catch `MCRError`, show `str(err)` to the user, and may use `err.hint` and
`err.exit_code`; anything else escaping the engine is a bug.
"""

from __future__ import annotations

from pathlib import Path


class MCRError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1
    default_hint = ""

    def __init__(self, what: str, *, path: str | Path | None = None, hint: str | None = None):
        self.what = what
        self.path = Path(path) if path is not None else None
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self._render())

    def _render(self) -> str:
        subject = f"{self.path}: " if self.path is not None else ""
        tail = f" {self.hint}" if self.hint else ""
        return f"{subject}{self.what}.{tail}"


class UsageError(MCRError):
    """The request itself is wrong (bad option, unknown name)."""

    exit_code = 2


class UnsupportedFileError(MCRError):
    """A file of a kind the engine does not read."""

    default_hint = "Convert it to a supported format or leave it out."


class CorruptFileError(MCRError):
    """A file that claims a supported format but cannot be decoded."""

    default_hint = "The file may be truncated or damaged; re-export or copy it again."


class InputTooLargeError(MCRError):
    """An input beyond the limits the engine handles safely."""

    default_hint = "Reduce its size (resolution, duration or point count) and try again."


class EmptyInputError(MCRError):
    """An input with nothing usable in it (silent recording, empty cloud, blank text)."""

    default_hint = "Use an input that contains a signal."


class PackError(MCRError):
    """A model pack that is missing, incomplete, tampered with or unsafe to load."""

    exit_code = 3
    default_hint = "Re-copy the pack or import it again with `mcr pack import`."


class LibraryError(MCRError):
    """The library's catalogue or index cannot be used as asked."""

    exit_code = 4


class IndexDamagedError(LibraryError):
    """An index file that is missing, truncated or does not match its record; the library
    rebuilds it from the vectors its catalogue stores."""

    default_hint = "It is rebuilt from the catalogue's stored vectors; nothing is lost."


class ResourceUnavailableError(MCRError):
    """A device or service the request needs is absent (microphone, GPU, network)."""

    exit_code = 5


class Cancelled(MCRError):
    """The user cancelled a long operation; nothing half-done was kept."""

    exit_code = 130

    def __init__(self, what: str = "Cancelled", **kwargs):
        super().__init__(what, **kwargs)
