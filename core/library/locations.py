"""Which library and which pack: the user's library ($MCR_LIBRARY, else `library` in the user
data folder), the demo library (`demo-library`, built by `mcr demo library`), and the pack
whose space a library's vectors are in."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import LibraryError, UsageError
from core.paths import data_dir

ENV_LIBRARY = "MCR_LIBRARY"


def user_library_dir() -> Path:
    override = os.environ.get(ENV_LIBRARY)
    return Path(override).expanduser() if override else data_dir() / "library"


def demo_library_dir() -> Path:
    return data_dir() / "demo-library"


def library_dir(given: str | Path | None = None, *, reading: bool) -> Path:
    """The library a command works on: the one given ("demo" names the demo library), else
    the user's; a command that only reads falls back to the demo library while the user has
    none, so a first search shows something."""
    from core.library.library import is_library

    if given is not None:
        return demo_library_dir() if str(given) == "demo" else Path(given)
    mine = user_library_dir()
    if reading and not is_library(mine) and is_library(demo_library_dir()):
        return demo_library_dir()
    return mine


def pack_for(library_space: str, wanted: str | None = None):
    """The installed pack of a library's space (or `wanted`, which must be that space)."""
    from core.packs.store import resolve_pack

    try:
        pack = resolve_pack(wanted or library_space)
    except UsageError as err:
        raise LibraryError(f"Its vectors are in the space of the pack {library_space}, which "
                           "is not installed", hint="Import that pack with `mcr pack import`, "
                           "or re-embed the library with `mcr library reindex --pack NAME`."
                           ) from err
    return pack


def new_library_pack(wanted: str | None = None):
    """The pack a new library starts with: the one asked for, else the default pack."""
    from core.packs.store import default_pack, resolve_pack

    pack = resolve_pack(wanted) if wanted else default_pack()
    if pack is None:
        raise UsageError("No model pack is installed, so nothing can be embedded",
                         hint="Import one with `mcr pack import PATH`.")
    return pack
