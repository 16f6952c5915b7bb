"""A tiny end-to-end demo pack build on the small world (quick budget): the three spaces, the
Ex-MCR heads with both references, the pack versions and their evaluation. Then the invariants
on the packs it wrote."""

import hashlib
import json

import numpy as np
import pytest
import torch

from core.alignment.extension import Embeddings
from core.alignment.world_embeddings import embed_world
from core.encoders.runtime import PackModels
from core.errors import PackError
from core.packs.store import Pack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build(small_world, tmp_path_factory):
    from core.demopack.build import build_demo_pack

    work = tmp_path_factory.mktemp("build")
    summary = build_demo_pack(work, budget="quick", world=small_world[0],
                              install=work / "installed")
    return work, summary


def test_emergent_pairs_beat_chance_widely_and_the_base_does_not_move(build):
    work, summary = build
    pairs = summary["evaluation"]["pairs"]
    chance = 1 / 60
    for pair in ("audio->image", "image->audio"):
        assert pairs[pair]["exmcr"]["R@1"] > 8 * chance, pairs[pair]
        assert {"cmcr", "oracle"} <= set(pairs[pair])
    assert summary["evaluation"]["base_drift"] == 0.0
    report = json.loads((work / "report" / "eval.json").read_text())
    assert report["evaluation"] == summary["evaluation"]
    for name in ("eval.md", "curves.png", "map.png"):
        assert (work / "report" / name).stat().st_size > 1000, name


def test_the_extended_pack_keeps_the_parents_base_files_byte_identical(build):
    work, _ = build
    parent, child = (Pack.open(work / "packs" / f"demo-{v}") for v in (0, 1))
    assert child.manifest.parent == "demo@0" and child.manifest.leaves == parent.manifest.leaves
    for m in ("image", "text"):
        assert child.manifest.encoders[m] == parent.manifest.encoders[m]
        for rel in child.manifest.encoders[m].files.values():
            assert _sha(child.folder / rel) == _sha(parent.folder / rel)
    assert set(child.manifest.heads) == {"audio", "3d"} and not parent.manifest.heads
    assert child.verify() == [] and parent.verify() == []


def test_base_embeddings_are_bit_identical_through_both_versions(build, small_world):
    work, _ = build
    parent, child = (Pack.open(work / "packs" / f"demo-{v}") for v in (0, 1))
    before = embed_world(PackModels(parent, "cpu"), small_world[0], "test", leaves=False)
    after = embed_world(PackModels(child, "cpu"), small_world[0], "test", leaves=False)
    for m in ("image", "text"):
        assert np.array_equal(before.base[m], after.base[m]), m
    assert set(after.base) == {"image", "text", "audio", "3d"}


def test_the_packs_audio_encoder_is_the_leaf_tower_followed_by_the_head(build, small_world):
    from core.alignment.heads import ExMCRHead

    work, _ = build
    child = Pack.open(work / "packs" / "demo-1")
    models = PackModels(child, "cpu")
    leaf = embed_world(models, small_world[0], "test", per_concept=1)
    head = ExMCRHead(**child.manifest.heads["audio"].config)
    head.load_state_dict(child.tensors("heads/audio.safetensors"))
    with torch.no_grad():
        offline = head.eval().leaf_only(torch.from_numpy(leaf.leaves["audio"]["audio"])).numpy()
    assert np.abs(offline - leaf.base["audio"]).max() < 1e-5


def test_installed_copies_verify_and_a_tampered_head_is_refused(build):
    work, summary = build
    installed = [Pack.open(p) for p in summary["installed"]]
    assert [p.ref for p in installed] == ["demo@0", "demo@1"]
    head = installed[1].folder / "heads" / "3d.safetensors"
    data = bytearray(head.read_bytes())
    data[-1] ^= 1
    head.write_bytes(bytes(data))
    with pytest.raises(PackError, match="does not match its sha256"):
        PackModels(installed[1], "cpu").encoder("3d")


def test_eval_cli_prints_the_documented_json(build, small_world, capsys, monkeypatch):
    from core.cli.main import main

    work, summary = build
    monkeypatch.setenv("MCR_STUDIO_HOME", str(work / "home"))
    (work / "home" / "packs").mkdir(parents=True)
    for p in summary["installed"]:
        (work / "home" / "packs" / p.rsplit("/", 1)[1]).symlink_to(p)
    capsys.readouterr()
    assert main(["eval", "--pack", "demo", "--world", str(small_world[0]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pack"] == "demo@1" and result["drift_against"] == "demo@0"
    assert result["base_drift"] == 0.0
    assert set(result["leaf_retention"]) == {"audio<->text", "3d<->image"}
    expected = {f"{a}->{b}" for a in ("image", "text", "audio", "3d")
                for b in ("image", "text", "audio", "3d") if a != b}
    assert set(result["pairs"]) == expected
    for scores in result["pairs"]["audio->image"].values():
        assert set(scores) == {"R@1", "R@5", "R@10", "mAP"}
    # The pack's live figures are the ones its build recorded on the same held-out set.
    live = result["pairs"]["audio->image"]["exmcr"]
    recorded = summary["evaluation"]["pairs"]["audio->image"]["exmcr"]
    assert live == pytest.approx(recorded, abs=1e-9)
    assert result["recorded_methods"] == ["cmcr", "oracle"]


def test_pool_embeddings_are_cached_and_reused(build):
    work, _ = build
    cached = sorted((work / "embeddings").glob("demo@0-*-pool.npz"))
    assert len(cached) == 1
    pool = Embeddings.load(cached[0])
    assert set(pool.leaves) == {"audio", "3d"} and set(pool.base) == {"image", "text"}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()
