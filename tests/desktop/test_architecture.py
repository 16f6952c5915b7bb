"""The GUI holds no engine logic: desktop/ reaches the models, the index and the files only
through core/, and opening the window imports none of the heavy libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"PySide6", "numpy", "core", "desktop", "__future__"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_desktop_imports_only_qt_numpy_core_and_the_standard_library():
    offenders = {}
    for path in (ROOT / "desktop").rglob("*.py"):
        outside = {m for m in _imports(path) - ALLOWED if m not in sys.stdlib_module_names}
        if outside:
            offenders[str(path.relative_to(ROOT))] = sorted(outside)
    assert offenders == {}


@pytest.mark.gui
def test_the_window_is_built_without_importing_torch():
    code = ("import sys\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from desktop.main_window import MainWindow\n"
            "w = MainWindow(open_now=False)\n"
            "w.show()\n"
            "print(sorted(m for m in ('torch', 'open_clip', 'laion_clap', 'open3d', "
            "'sentence_transformers') if m in sys.modules))\n"
            "w.close()\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
