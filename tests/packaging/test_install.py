"""packaging/install with a small fake bundle in a temporary prefix: the program, the two
commands, the menu entry and its icon go where they should; installing again replaces; the
uninstall removes exactly what was installed (a dropped pack and the user's data stay)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "packaging" / "install"


@pytest.fixture
def bundle(tmp_path) -> Path:
    """What packaging/build makes, in miniature: a program that says which name started it,
    the `mcr` link to it, and the icon inside."""
    folder = tmp_path / "dist" / "mcr-studio"
    (folder / "_internal" / "assets" / "icons").mkdir(parents=True)
    program = folder / "mcr-studio"
    program.write_text('#!/bin/sh\necho "started as $(basename "$0"): $*"\n')
    program.chmod(0o755)
    (folder / "mcr").symlink_to("mcr-studio")
    shutil.copy(ROOT / "assets" / "icons" / "mcr-studio.svg",
                folder / "_internal" / "assets" / "icons")
    (folder / "_internal" / "libfake.so").write_bytes(b"\0" * 1000)
    return folder


def run(*args, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    done = subprocess.run(["bash", str(INSTALL), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_install_then_uninstall_leaves_nothing(tmp_path, bundle):
    home, prefix, data = tmp_path / "home", tmp_path / "with space" / "prefix", tmp_path / "share"
    home.mkdir()
    before = tree(tmp_path)
    run("--bundle", bundle, "--prefix", prefix, "--data-dir", data, home=home)

    app = prefix / "lib" / "mcr-studio"
    assert (app / "_internal" / "libfake.so").is_file() and (app / "mcr").is_symlink()
    for name in ("mcr-studio", "mcr"):
        link = prefix / "bin" / name
        assert link.is_symlink() and link.resolve().parent == app.resolve()
        started = subprocess.run([str(link), "pack", "list"], capture_output=True, text=True)
        assert started.stdout.strip() == f"started as {name}: pack list"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "mcr-studio.svg"
    assert icon.read_bytes() == (ROOT / "assets" / "icons" / "mcr-studio.svg").read_bytes()
    entry = dict(line.split("=", 1) for line in
                 (data / "applications" / "mcr-studio.desktop").read_text().splitlines()
                 if "=" in line)
    assert entry["Exec"] == f'"{app}/mcr-studio"'  # quoted: the path has a space
    assert entry["TryExec"] == f"{app}/mcr-studio" and entry["Icon"] == str(icon)
    assert entry["Type"] == "Application" and entry["Name"] == "MCR Studio"
    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(["desktop-file-validate",
                                  str(data / "applications" / "mcr-studio.desktop")],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    done = run("--uninstall", "--prefix", prefix, home=home)
    assert "removed MCR Studio" in done.stdout
    assert tree(tmp_path) == before
    again = run("--uninstall", "--prefix", prefix, home=home, check=False)
    assert again.returncode == 1 and "not installed" in again.stderr


def test_default_prefix_is_the_users_home(tmp_path, bundle):
    home = tmp_path / "home"
    home.mkdir()
    run("--bundle", bundle, home=home)
    assert (home / ".local" / "bin" / "mcr-studio").is_symlink()
    assert (home / ".local" / "lib" / "mcr-studio" / "mcr-studio").is_file()
    assert (home / ".local" / "share" / "applications" / "mcr-studio.desktop").is_file()
    run("--uninstall", home=home)
    assert tree(home) == set()


def test_reinstall_replaces_and_uninstall_keeps_what_it_did_not_install(tmp_path, bundle):
    home, prefix, data = tmp_path / "home", tmp_path / "opt" / "mcr-studio", tmp_path / "share"
    home.mkdir()
    run("--bundle", bundle, "--prefix", prefix, "--data-dir", data, home=home)
    app = prefix / "lib" / "mcr-studio"
    dropped = app / "packs" / "real-1" / "manifest.json"
    dropped.parent.mkdir(parents=True)
    dropped.write_text("{}")
    (bundle / "_internal" / "libfake.so").unlink()  # a newer build lost a file
    (bundle / "_internal" / "libnew.so").write_bytes(b"new")
    done = run("--bundle", bundle, "--prefix", prefix, "--data-dir", data, home=home)
    assert "replacing" in done.stdout
    assert not (app / "_internal" / "libfake.so").exists()
    assert (app / "_internal" / "libnew.so").is_file() and dropped.is_file()

    done = run("--uninstall", "--prefix", prefix, home=home)
    assert f"kept {app}" in done.stdout and "packs" in done.stdout
    assert tree(tmp_path / "opt") == {"mcr-studio", "mcr-studio/lib", "mcr-studio/lib/mcr-studio",
                                      "mcr-studio/lib/mcr-studio/packs",
                                      "mcr-studio/lib/mcr-studio/packs/real-1",
                                      "mcr-studio/lib/mcr-studio/packs/real-1/manifest.json"}
    assert not data.exists()  # the install made it, and it is empty again


def test_refuses_a_folder_it_did_not_make_and_a_missing_bundle(tmp_path, bundle):
    home, prefix = tmp_path / "home", tmp_path / "prefix"
    home.mkdir()
    (prefix / "lib" / "mcr-studio").mkdir(parents=True)
    (prefix / "lib" / "mcr-studio" / "mine.txt").write_text("not yours")
    done = run("--bundle", bundle, "--prefix", prefix, home=home, check=False)
    assert done.returncode == 1 and "was not made by this script" in done.stderr
    done = run("--bundle", tmp_path / "nothing", "--prefix", tmp_path / "p2", home=home,
               check=False)
    assert done.returncode == 1 and "no bundle at" in done.stderr
    assert not (tmp_path / "p2").exists()
