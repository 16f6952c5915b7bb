"""The shipped demo pack, evaluated now on a fixed part of the full world's held-out set
(regenerated here: the same items, byte for byte), reaches its targets, and its live figures
are the ones its build recorded."""

import pytest

from core.paths import assets_dir

pytestmark = pytest.mark.slow

PER_CONCEPT = 5


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    from core.cli.main import main
    from core.evaluation.pack_eval import evaluate_pack
    from core.packs.store import resolve_pack

    world = tmp_path_factory.mktemp("held-out") / "w"
    assert main(["demo", "world", "--size", "full", "--only", "test", "--per-concept",
                 str(PER_CONCEPT), "--out", str(world)]) == 0
    pack = resolve_pack("demo")
    assert pack.folder.parent == assets_dir() / "packs"  # the shipped one is the default
    return pack, evaluate_pack(pack, world, per_concept=PER_CONCEPT)


def test_the_shipped_pack_reaches_its_targets_on_the_held_out_subset(evaluated):
    _, result = evaluated
    assert result["drift_against"] == "demo@0" and result["base_drift"] == 0.0
    rows = [row for row in result["targets"] if "x cmcr" not in row["target"]]
    assert len(rows) == 5  # two emergent pairs against the oracle, drift, two retentions
    missed = [row for row in rows if not row["ok"]]
    assert not missed, missed


@pytest.mark.xfail(strict=True, reason="known shortfall, see README 'Alignment': on the demo "
                   "world even the paired oracle is at most 1.1x C-MCR, so 1.2x is out of "
                   "reach; strict, so this fails loudly once it is met")
def test_the_emergent_pairs_beat_cmcr_by_a_fifth(evaluated):
    _, result = evaluated
    rows = [row for row in result["targets"] if "x cmcr" in row["target"]]
    assert len(rows) == 2 and all(row["ok"] for row in rows), rows


def test_live_figures_equal_the_builds_record(evaluated):
    pack, result = evaluated
    record = pack.manifest.extra["evaluation"]
    assert record["subset_per_concept"] == PER_CONCEPT
    for pair, entry in record["subset"]["pairs"].items():
        for method in ("leaf", "exmcr"):
            if method in entry:
                assert result["pairs"][pair][method] == pytest.approx(entry[method], abs=0.01)
    assert result["leaf_retention"] == pytest.approx(record["subset"]["leaf_retention"],
                                                     abs=0.01)


def test_the_shipped_packs_fit_the_size_budget():
    files = [p for p in (assets_dir() / "packs").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 30 * 2**20
    assert max(p.stat().st_size for p in files) <= 20 * 2**20
