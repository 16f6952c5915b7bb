import torch

from core.cli.main import main
from core.packs.manifest import Component
from core.packs.writer import PackFile, write_pack


def _pack(folder):
    files = {"w.safetensors": PackFile({"w": torch.zeros(2)}, "test", "MIT")}
    encoders = {"image": Component("x", {}, {"weights": "w.safetensors"})}
    return write_pack(folder, name="cli", version="1", dim=2, encoders=encoders, files=files)


def test_import_list_verify(tmp_path, capsys):
    src = _pack(tmp_path / "src")
    assert main(["pack", "import", str(src.folder)]) == 0
    assert main(["pack", "list"]) == 0
    out = capsys.readouterr().out
    assert "cli@1" in out and "image" in out
    assert main(["pack", "verify", "cli"]) == 0
    assert "all 1 files match" in capsys.readouterr().out


def test_verify_of_a_tampered_pack_fails_with_the_pack_exit_code(tmp_path, capsys):
    pack = _pack(tmp_path / "p")
    weights = pack.folder / "w.safetensors"
    weights.write_bytes(b"x" * weights.stat().st_size)
    assert main(["pack", "verify", str(pack.folder)]) == 3
    assert "does not match its sha256" in capsys.readouterr().err


def test_unknown_pack_is_a_usage_error(capsys):
    assert main(["pack", "verify", "missing-pack"]) == 2
    assert "mcr pack list" in capsys.readouterr().err
