"""The demo sequence's quick data (the demo world's pool and test items and the plant notes,
embedded by the shipped demo pack), made once per session and copied into each test's user
data folder, where `core.continual.demo.demo_data` finds it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _quick_cache(tmp_path_factory) -> Path:
    from core.continual.demo import QUICK, demo_data
    from core.paths import ENV_HOME, data_dir

    home = tmp_path_factory.mktemp("continual-home")
    previous = os.environ.get(ENV_HOME)
    os.environ[ENV_HOME] = str(home)
    try:
        demo_data("demo@1", QUICK)
        found = list((data_dir() / "continual").glob("*.npz"))
    finally:
        if previous is None:
            os.environ.pop(ENV_HOME, None)
        else:
            os.environ[ENV_HOME] = previous
    assert len(found) == 1
    return found[0]


@pytest.fixture
def quick_data(_quick_cache):
    """The quick data, in place for this test's data folder; returns the loaded arrays."""
    from core.continual.demo import QUICK, demo_data
    from core.paths import data_dir

    target = data_dir() / "continual" / _quick_cache.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_quick_cache, target)
    return demo_data("demo@1", QUICK)
