"""A tiny end-to-end demo pack build on the small world (quick budget): the three spaces, the
Ex-MCR heads with both references, the pack versions and their evaluation. Then the invariants
on the packs it wrote."""

import hashlib
import json
import math

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


def _chance_recall(k: int, relevant: int = 3, gallery: int = 180) -> float:
    """R@k of a random ranking: 3 held-out items per concept among 180 in the small world."""
    return 1 - math.comb(gallery - relevant, k) / math.comb(gallery, k)


def test_emergent_pairs_beat_chance_widely_and_the_base_does_not_move(build):
    work, summary = build
    pairs = summary["evaluation"]["pairs"]
    # The quick spaces are weak (base image->text R@1 about 0.12 on the small world), so the
    # emergent pairs are measured against chance, not against the full pack's figures.
    directions = ("audio->image", "image->audio")
    mean_r1 = sum(pairs[d]["exmcr"]["R@1"] for d in directions) / 2
    assert mean_r1 > 3 * _chance_recall(1), {d: pairs[d] for d in directions}
    for d in directions:
        assert pairs[d]["exmcr"]["R@10"] > 2.5 * _chance_recall(10), pairs[d]
        assert {"cmcr", "oracle"} <= set(pairs[d])
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


def test_installed_copies_verify_and_a_tampered_head_is_refused(build, tmp_path):
    import shutil

    work, summary = build
    installed = [Pack.open(p) for p in summary["installed"]]
    assert [p.ref for p in installed] == ["demo@0", "demo@1"]
    assert all(p.verify() == [] for p in installed)
    copy = Pack.open(shutil.copytree(installed[1].folder, tmp_path / "demo-1"))
    head = copy.folder / "heads" / "3d.safetensors"
    data = bytearray(head.read_bytes())
    data[-1] ^= 1
    head.write_bytes(bytes(data))
    with pytest.raises(PackError, match="does not match its sha256"):
        PackModels(copy, "cpu").encoder("3d")


def test_eval_cli_prints_the_documented_json(build, small_world, capsys):
    from core.cli.main import main

    work, summary = build
    capsys.readouterr()
    assert main(["eval", "--pack", str(work / "packs" / "demo-1"), "--world",
                 str(small_world[0]), "--json"]) == 0
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


def test_eval_can_train_the_references_on_the_worlds_pools(build, small_world):
    from core.evaluation.pack_eval import evaluate_pack

    work, _ = build
    result = evaluate_pack(Pack.open(work / "packs" / "demo-1"), small_world[0],
                           baselines=True)
    assert result["recorded_methods"] == []
    for pair in ("audio->image", "3d->audio"):
        assert {"cmcr", "exmcr", "oracle"} <= set(result["pairs"][pair])
    assert result["base_drift"] == 0.0
