import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _mcr(*args):
    return subprocess.run([sys.executable, "-m", "core.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_world_into_a_folder_of_user_files_is_refused_with_exit_code_2(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    done = _mcr("demo", "world", "--size", "tiny", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "is not empty and is not a demo world" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_world_summary_lists_splits_and_modalities(small_world, capsys):
    from core.cli.main import main

    capsys.readouterr()
    assert main(["demo", "world", "--size", "small", "--out", str(small_world[0])]) == 0
    out = capsys.readouterr().out
    assert "base_pairs" in out and "cloud_triplets" in out and "library" in out
    assert "3120 items" in out


def test_help_names_every_command():
    done = _mcr("--help")
    assert done.returncode == 0
    assert "demo" in done.stdout and "pack" in done.stdout
