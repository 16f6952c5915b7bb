"""Test session setup: an isolated data folder, no network, offscreen Qt, resource markers."""

from __future__ import annotations

import csv
import os
import socket
import tempfile
from pathlib import Path

import pytest

_TMP_HOME = tempfile.mkdtemp(prefix="mcr-test-home-")
os.environ["MCR_STUDIO_HOME"] = _TMP_HOME
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Each test gets its own user data folder (packs, libraries), so none sees another's."""
    home = tmp_path / "mcr-home"
    monkeypatch.setenv("MCR_STUDIO_HOME", str(home))
    return home


# --- No network: any attempt fails at once and fails the session, even if the caller swallows it.
NETWORK_ATTEMPTS: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guard(sock: socket.socket, address) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    NETWORK_ATTEMPTS.append(repr(address))
    raise ConnectionRefusedError(f"network access during tests is forbidden: {address!r}")


def _connect(self, address):
    _guard(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _guard(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex


def pytest_sessionfinish(session, exitstatus):
    if NETWORK_ATTEMPTS:
        print(f"\nFAILED: code tried to reach the network: {sorted(set(NETWORK_ATTEMPTS))}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Resources: tests marked gpu/mic/realpack skip, with the reason, only when it is absent.
def _has_gpu() -> str | None:
    import torch

    return None if torch.cuda.is_available() else "no CUDA GPU on this machine"


def _has_microphone() -> str | None:
    try:
        import sounddevice

        devices = sounddevice.query_devices()
    except Exception as err:  # PortAudio missing or broken
        return f"no audio system ({err})"
    if not any(d["max_input_channels"] > 0 for d in devices):
        return "no microphone (no audio input device)"
    return None


def _has_real_pack() -> str | None:
    if os.environ.get("MCR_REAL_PACK"):
        return None
    return "the real model pack is not installed (set MCR_REAL_PACK to its folder)"


_RESOURCES = {"gpu": _has_gpu, "mic": _has_microphone, "realpack": _has_real_pack}


def pytest_collection_modifyitems(config, items):
    reasons: dict[str, str | None] = {}
    for item in items:
        for name, probe in _RESOURCES.items():
            if item.get_closest_marker(name) is None:
                continue
            if name not in reasons:
                reasons[name] = probe()
            if reasons[name]:
                item.add_marker(pytest.mark.skip(reason=reasons[name]))


# --- Shared data: the small demo world, generated once per session.
@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    """Generated through the CLI, as a user would: `mcr demo world --size small`."""
    from core.cli.main import main
    from core.world.manifest import read_world_info

    out = tmp_path_factory.mktemp("world") / "small"
    assert main(["demo", "world", "--size", "small", "--seed", "0", "--out", str(out)]) == 0
    return out, read_world_info(out)


# --- The demo world's plant library (one photo, recording and scan per concept and a few
# more: 180 files), generated once per session for the engine's and the GUI's tests.
@pytest.fixture(scope="session")
def plant_world(tmp_path_factory) -> Path:
    """`mcr demo world --size small --only library`: 180 files under library/."""
    from core.world.build import build_world

    out = tmp_path_factory.mktemp("plant") / "world"
    build_world(out, "small", 0, only="library", workers=2)
    return out


@pytest.fixture(scope="session")
def concepts(plant_world) -> dict[str, str]:
    """Absolute path of every plant library file -> its concept (the ground truth)."""
    with open(plant_world / "manifest.csv", newline="", encoding="utf-8") as f:
        return {str(plant_world / row["path"]): row["concept"] for row in csv.DictReader(f)}
