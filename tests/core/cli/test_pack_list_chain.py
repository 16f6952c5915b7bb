"""`mcr pack list` shows each version's chain of parents and the continual steps that made it."""

import torch

from core.cli.main import main
from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.continual.version import write_version
from core.packs.store import resolve_pack
from core.paths import data_dir


def test_list_shows_the_chain_and_the_steps(capsys):
    two = write_version(resolve_pack("demo@1"), Maps(256, ["audio"]), Statistics(256),
                        data_dir() / "packs" / "demo-2", version="2", source="t",
                        license="MIT", step={"name": "audio-image (pairs.csv)"})
    write_version(two, Maps.from_matrices(256, {"3d": 2 * torch.eye(256)}), Statistics(256),
                  data_dir() / "packs" / "demo-3", version="3", source="t", license="MIT",
                  step={"name": "3d-text (notes)"})
    assert main(["pack", "list"]) == 0
    out = capsys.readouterr().out
    assert "demo@3 <- demo@2 <- demo@1 <- demo@0" in out
    assert "demo@2 <- demo@1 <- demo@0" in out
    after_three = out.split("demo@3 <- ")[1]
    assert "step 1: audio-image (pairs.csv)" in after_three
    assert "step 2: 3d-text (notes)" in after_three
