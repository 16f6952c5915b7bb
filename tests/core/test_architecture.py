"""The engine stays Qt-free and light to import; nothing reaches the network."""

from __future__ import annotations

import pkgutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parents[2]


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_core_module_imports_without_qt():
    modules = _core_modules()
    assert "core.errors" in modules and "core.world.build" in modules
    out = _run(
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'desktop')))"
    )
    assert out.strip() == "[]"


def test_cli_entry_imports_no_heavy_library():
    out = _run(
        "import sys, core.cli.main\n"
        "core.cli.main.build_parser()\n"
        "print(sorted(m for m in ('torch', 'open3d', 'open_clip', 'laion_clap', 'PySide6') "
        "if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_core_sources_never_mention_qt():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if any(
            line.lstrip().startswith(("import PySide6", "from PySide6", "import desktop",
                                      "from desktop"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_network_is_blocked_during_tests():
    from tests import conftest

    before = len(conftest.NETWORK_ATTEMPTS)
    with pytest.raises(ConnectionRefusedError), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))
    assert len(conftest.NETWORK_ATTEMPTS) == before + 1
    conftest.NETWORK_ATTEMPTS.pop()  # this deliberate attempt must not fail the session
