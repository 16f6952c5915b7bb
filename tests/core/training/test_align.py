"""The Training tab's Ex-MCR job on a tiny demo world: a cancelled run installs nothing, a
finished one installs demo@2 with the parent's base files byte for byte, reports every epoch of
each leaf for the plots, and its audio->image retrieval is well above chance."""

from __future__ import annotations

import pytest

from core.errors import Cancelled
from core.packs.store import Pack, find_packs, resolve_pack
from core.paths import data_dir
from core.training.align import align_demo
from core.world.concepts import all_concepts

pytestmark = pytest.mark.slow

EPOCHS = 3
PAIRS = ["image->audio", "audio->image", "audio->3d", "3d->audio", "image->3d", "3d->image",
         "text->audio", "audio->text"]


def test_align_demo_installs_a_new_version_with_live_metrics_and_a_before_after_table():
    stages, records = [], []

    def progress(p):
        stages.append(p.stage)
        if p.metrics is not None:
            records.append(dict(p.metrics))

    def cancel():  # once the new version is written and being evaluated
        return any(s.startswith("evaluating") for s in stages)

    with pytest.raises(Cancelled):
        align_demo(per_concept=2, epochs=EPOCHS, progress=progress, cancel=cancel)
    assert not any(f.pack is not None and f.pack.manifest.version == "2"
                   for f in find_packs())
    assert not (data_dir() / "packs").exists() or not any((data_dir() / "packs").iterdir())
    assert not (data_dir() / "training" / "align" / "packs" / "demo-2").exists()
    # Each leaf's head reported every epoch with its loss and held-out R@1.
    assert [(r["leaf"], r["epoch"]) for r in records] == [
        (leaf, e) for leaf in ("audio", "3d") for e in range(1, EPOCHS + 1)]
    assert all(r["loss"] > 0 and 0 <= r["held_out_r1"] <= 1 for r in records)

    resumed = []
    result = align_demo(per_concept=2, epochs=EPOCHS,
                        progress=lambda p: p.metrics is not None and resumed.append(p.metrics))
    # The finished heads were checkpointed: the second run resumed them (same losses, and the
    # restored last epoch probed again).
    assert [(r["leaf"], r["epoch"], r["loss"]) for r in resumed] == [
        (r["leaf"], r["epoch"], r["loss"]) for r in records]
    assert [r.get("held_out_r1") for r in resumed] == [
        r["held_out_r1"] if r["epoch"] == EPOCHS else None for r in records]
    assert result.losses == {leaf: [r["loss"] for r in records if r["leaf"] == leaf]
                             for leaf in ("audio", "3d")}
    assert not (data_dir() / "training" / "align" / "checkpoints").exists()

    pack = result.pack
    assert pack.ref == "demo@2" and result.previous == "demo@1"
    assert pack.folder == data_dir() / "packs" / "demo-2"
    assert resolve_pack("demo@2").folder == pack.folder and resolve_pack("demo").ref == "demo@2"
    assert pack.verify() == []
    parent = resolve_pack("demo@0")
    assert pack.manifest.parent == "demo@0"
    for m in ("image", "text"):
        assert pack.manifest.encoders[m] == parent.manifest.encoders[m]
    for rel, entry in parent.manifest.files.items():
        assert pack.manifest.files[rel].sha256 == entry.sha256, rel
        assert (pack.folder / rel).read_bytes() == (parent.folder / rel).read_bytes(), rel
    assert set(pack.manifest.heads) == {"audio", "3d"}
    assert Pack.open(pack.folder).manifest.extra["evaluation"]["held_out"]["base_drift"] == 0.0

    assert [row[0] for row in result.table] == PAIRS
    assert all(0.0 <= old <= 1.0 and 0.0 <= new <= 1.0 for _, old, new in result.table)
    table = {pair: (old, new) for pair, old, new in result.table}
    chance = 1 / len(all_concepts())
    assert table["audio->image"][1] > 5 * chance, result.table
    # The probe measured what the evaluation of the written pack measures.
    last_audio = [r for r in records if r["leaf"] == "audio"][-1]
    assert last_audio["held_out_r1"] == pytest.approx(table["audio->image"][1], abs=0.02)
    assert result.seconds > 0
