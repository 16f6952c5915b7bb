"""`mcr-studio --self-test`: offscreen, it builds and opens the demo library as a first start
does, runs one query per modality through the Search tab and checks them, writes and prints the
report and exits 0; it exits 1 with the reason when the window cannot open the library or a
query fails (a pack that cannot embed a modality)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.paths import assets_dir
from desktop.app import parse_args

ROOT = Path(__file__).resolve().parents[2]


def test_options_are_ours_and_the_rest_goes_to_qt():
    args, qt_argv = parse_args(["mcr-studio", "--self-test", "--report", "r.json",
                                "-platform", "offscreen"])
    assert args.self_test and args.report == "r.json"
    assert qt_argv == ["mcr-studio", "-platform", "offscreen"]
    args, qt_argv = parse_args(["mcr-studio"])
    assert not args.self_test and qt_argv == ["mcr-studio"]
    with pytest.raises(SystemExit) as exit_:
        parse_args(["mcr-studio", "--report", "r.txt"])
    assert exit_.value.code == 2


@pytest.mark.gui
@pytest.mark.slow
def test_self_test_builds_the_demo_library_and_passes(tmp_path):
    """As a sales engineer runs it: a fresh data folder, no display, no platform chosen."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY",
                                                            "WAYLAND_DISPLAY")}
    env["MCR_STUDIO_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())",
         "--self-test", "--report", str(tmp_path / "report.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("MCR Studio self-test: PASSED")
    assert "platform offscreen" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] and all(c["ok"] for c in checks.values())
    assert set(checks) == {"icon", "window", "library", "pack", "image query", "audio query",
                           "3d query", "text query", "encoders", "architecture CLIP (open_clip)",
                           "architecture CLAP (laion_clap)", "architecture PointBERT (ULIP-2)"}
    assert "built and opened with 180 items" in checks["window"]["detail"]
    assert (tmp_path / "home" / "demo-library" / "catalogue.sqlite").is_file()


@pytest.fixture
def pack_without_3d(tmp_path, monkeypatch):
    """The installed packs: demo@0 and a demo@1 whose manifest lost its 3D encoder."""
    root = tmp_path / "packs"
    for name in ("demo-0", "demo-1"):
        shutil.copytree(assets_dir() / "packs" / name, root / name)
    manifest = json.loads((root / "demo-1" / "manifest.json").read_text())
    del manifest["encoders"]["3d"], manifest["heads"]["3d"]
    (root / "demo-1" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr("core.packs.store.pack_roots", lambda: [root])
    return root


@pytest.mark.gui
def test_self_test_fails_with_the_reason_when_the_pack_cannot_embed(
        qapp, library, plant_world, pack_without_3d, tmp_path, capsys):
    from desktop.self_test import run_self_test

    lines = []
    status = run_self_test(tmp_path / "report.txt", library=library, world=plant_world,
                           architectures=False, echo=lines.append)
    assert status == 1
    out = capsys.readouterr().out
    assert out.startswith("MCR Studio self-test: FAILED")
    report = (tmp_path / "report.txt").read_text()
    assert report in out
    failed = [line for line in report.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL  3d query"), report
    assert "cannot embed 3d" in failed[0]
    assert "Failed because 3d query" in report
    assert "ok    image query" in report and "ok    text query" in report
    assert any(line.startswith("self-test: 3d query") for line in lines)


@pytest.mark.gui
def test_self_test_fails_when_the_library_cannot_be_opened(qapp, tmp_path, capsys):
    from desktop.self_test import run_self_test

    status = run_self_test(tmp_path / "report.json", library=tmp_path / "no-library",
                           architectures=False, echo=lambda line: None)
    assert status == 1
    report = json.loads((tmp_path / "report.json").read_text())
    window = next(c for c in report["checks"] if c["name"] == "window")
    assert not report["ok"] and not window["ok"]
    assert "holds no library" in window["detail"]
    assert "Failed because window" in capsys.readouterr().out
