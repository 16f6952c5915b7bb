"""The self-test's engine part: one query per modality on the plant library passes with the
shipped demo pack, and each kind of wrong result is caught with its reason."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core import self_check as sc
from core.library.ingest import ingest
from core.library.library import Library
from core.session import Session


@pytest.fixture(scope="module")
def session(plant_world, demo_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("self-check") / "library"
    with Library.open(folder, space=demo_models.pack.ref, dim=demo_models.pack.manifest.dim) as lib:
        assert ingest(lib, demo_models, [plant_world / "library"]).counts()["indexed"] == 180
    opened = Session(folder, device="cpu")
    opened.open()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def results(session, plant_world):
    return {p.modality: (p, sc.run_query(session, p)) for p in sc.plan_queries(plant_world)}


def test_one_query_per_modality_passes_on_the_plant_library(session, plant_world, tmp_path):
    report = sc.check_session(session, plant_world)
    assert [c.name for c in report.checks] == ["library", "pack", "image query",
                                               "audio query", "3d query", "text query",
                                               "encoders"]
    assert report.ok, report.text()
    text = report.text()
    assert text.startswith("MCR Studio self-test: PASSED (7 of 7 checks passed")
    assert "itself 1.000" in text and "5/5 fan" in text
    written = json.loads(report.write(tmp_path / "r.json").read_text())
    assert written["ok"] is True and len(written["checks"]) == 7
    assert report.write(tmp_path / "r.txt").read_text() == report.text()


def test_the_queries_come_from_the_world_by_concept(plant_world):
    planned = sc.plan_queries(plant_world)
    assert [p.modality for p in planned] == ["image", "audio", "3d", "text"]
    truth = sc.ground_truth(plant_world)
    for p in planned[:3]:
        assert truth[p.path] == p.concept and p.path.startswith(str(plant_world / "library"))
    assert planned[3].family == "fan"
    with pytest.raises(ValueError, match="names no family"):
        sc.plan_queries(plant_world, [("text", "something unrelated")])
    with pytest.raises(ValueError, match="has no image file of"):
        sc.plan_queries(plant_world, [("image", "pump/exploded")])


def _check(results, modality, concepts, held=("image", "audio", "3d"), **changes):
    planned, result = results[modality]
    hits = changes.pop("hits", result.hits)
    result = dataclasses.replace(result, hits=hits, **changes)
    return sc.check_query(planned, result, list(held), concepts)


def test_wrong_results_are_caught_with_the_reason(results, plant_world):
    concepts = sc.ground_truth(plant_world)
    assert _check(results, "audio", concepts)[0]
    hits = results["audio"][1].hits
    ok, why = _check(results, "audio", concepts, hits=[])
    assert not ok and why == "no results"
    ok, why = _check(results, "audio", concepts, hits=[h for h in hits if h.modality != "3d"])
    assert not ok and "0 3d results, not 5" in why
    swapped = list(hits)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    ok, why = _check(results, "audio", concepts, hits=swapped)
    assert not ok and "image ranks are [2, 1, 3, 4, 5]" in why
    ok, why = _check(results, "audio", concepts, hits=[dataclasses.replace(h, score=0.1 * h.rank)
                                                       for h in hits])
    assert not ok and "not best first" in why
    ok, why = _check(results, "audio", concepts, held=("image", "audio"))
    assert not ok and "kinds the library does not hold: ['3d']" in why
    # ground truth: every file of another family than the pipe the recording is of
    wrong = {path: ("gear/normal" if concept.startswith("pipe/") else concept)
             for path, concept in concepts.items()}
    ok, why = _check(results, "audio", wrong)
    assert not ok and "not of the family pipe" in why and "audio" not in why.split(":", 1)[1]
    ok, why = _check(results, "image", concepts, hits=[h for h in results["image"][1].hits
                                                       if h.rank != 1 or h.modality != "image"])
    assert not ok and "did not find itself first" in why


def test_a_library_that_lacks_a_kind_the_pack_embeds_fails(session):
    ok, why = sc.check_library({"image": 60, "audio": 60}, session.models, "/lib")
    assert not ok and "holds no 3d items (60 image, 60 audio, 0 3d)" in why
    assert sc.check_library({"image": 1, "audio": 2, "3d": 3}, session.models) == (
        True, "1 image, 2 audio, 3 3d items")


def test_a_pack_that_cannot_embed_a_modality_fails_its_query(session, plant_world, monkeypatch):
    models = session.models
    monkeypatch.setattr(type(models), "modalities", property(lambda self: ["image", "text"]))
    report = sc.check_session(session, plant_world)
    failed = {c.name: c.detail for c in report.failures}
    assert set(failed) == {"audio query", "3d query"}, report.text()
    assert "cannot embed audio" in failed["audio query"]
    assert not report.ok and "Failed because audio query" in report.text()


@pytest.mark.slow
def test_the_real_packs_architectures_build_and_embed():
    report = sc.check_architectures("cpu")
    assert report.ok, report.text()
    assert [c.name for c in report.checks] == [
        "architecture CLIP (open_clip)", "architecture CLAP (laion_clap)",
        "architecture PointBERT (ULIP-2)"]
    assert "audio 512-d, text 512-d" in report.checks[1].detail
