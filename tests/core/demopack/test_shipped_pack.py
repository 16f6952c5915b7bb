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
    missed = [row for row in result["targets"] if not row["ok"]]
    assert not missed, missed


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
