"""Search over the demo world's plant library with the shipped demo pack: every modality finds
the right concept far above chance (no audio-image pair was ever trained on), queries by file,
text, raw recording and item agree, filters hold, and the index matches exact search."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from core.errors import EmptyInputError, LibraryError, UnsupportedFileError
from core.io import load_audio
from core.library import search as s
from core.library.ingest import ingest
from core.library.library import Library

# R@1 by concept among 60 candidates of the other modality (chance 0.017); measured on this
# world and pack: audio->image 0.57, image->audio 0.60, 3d<->audio 0.42, image<->3d 0.33-0.38.
FLOORS = {("audio", "image"): 0.4, ("image", "audio"): 0.4, ("audio", "3d"): 0.25,
          ("3d", "audio"): 0.25, ("image", "3d"): 0.2, ("3d", "image"): 0.2}


@pytest.fixture(scope="module")
def plant_library(plant_world, demo_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("plant-library")
    lib = Library.open(folder, space=demo_models.pack.ref, dim=demo_models.pack.manifest.dim)
    report = ingest(lib, demo_models, [plant_world / "library"], tags=["demo"])
    assert report.counts()["indexed"] == 180 and not report.partial
    yield lib
    lib.close()


def test_every_modality_finds_the_right_concept_across_modalities(plant_library, concepts):
    found = defaultdict(list)
    for item in plant_library.catalogue.items():
        for hit in s.search(plant_library, s.item_query(plant_library, item.id), k=1):
            if hit.modality != item.modality:
                found[(item.modality, hit.modality)].append(
                    concepts[hit.path] == concepts[item.path])
    rates = {pair: float(np.mean(v)) for pair, v in found.items()}
    assert set(rates) == set(FLOORS)
    assert all(rates[pair] >= floor for pair, floor in FLOORS.items()), rates


def test_results_cover_every_modality_best_first_with_previews(plant_library, plant_world):
    photo = sorted((plant_world / "library" / "photos").iterdir())[0]
    hits = s.search(plant_library, s.file_query(plant_library_models(), photo), k=4)
    assert [h.modality for h in hits] == ["image"] * 4 + ["audio"] * 4 + ["3d"] * 4
    assert hits[0].path == str(photo) and hits[0].score == pytest.approx(1.0, abs=1e-4)
    for kind in ("image", "audio", "3d"):
        group = [h for h in hits if h.modality == kind]
        assert [h.rank for h in group] == [1, 2, 3, 4]
        assert [h.score for h in group] == sorted((h.score for h in group), reverse=True)
    assert all(h.preview and h.preview.endswith(".png") for h in hits)
    assert all(h.tags == ("demo",) for h in hits)


def test_more_like_this_leaves_out_the_item_itself(plant_library):
    item = plant_library.catalogue.items(modality="audio")[0]
    hits = s.search(plant_library, s.item_query(plant_library, item.id), k=3,
                    modalities=["audio"])
    assert len(hits) == 3 and item.id not in {h.item_id for h in hits}


def test_a_microphone_recording_searches_like_its_file(plant_library, plant_world):
    models = plant_library_models()
    wav = sorted((plant_world / "library" / "recordings").iterdir())[3]
    by_file = s.search(plant_library, s.file_query(models, wav), k=5)
    samples = load_audio(wav, 44_100)  # as a sound card would deliver it: 44.1 kHz, stereo
    by_array = s.search(plant_library, s.recording_query(models, np.stack([samples] * 2, 1),
                                                         44_100), k=5)
    assert [h.item_id for h in by_array][:3] == [h.item_id for h in by_file][:3]
    with pytest.raises(EmptyInputError, match="silent"):
        s.recording_query(models, np.zeros(48_000, np.float32), 48_000)


def test_text_in_a_persons_own_words(plant_library, concepts):
    models = plant_library_models()
    hits = s.search(plant_library, s.text_query(models, "a bearing that sounds worn out"), k=3,
                    modalities=["audio", "image"])
    assert {h.modality for h in hits} == {"audio", "image"}
    tops = [concepts[h.path] for h in hits if h.rank == 1]
    assert all(c.startswith("bearing/") for c in tops), tops
    with pytest.raises(EmptyInputError):
        s.text_query(models, "   ")


def test_filters_and_one_mixed_ranking(plant_library):
    query = s.text_query(plant_library_models(), "pump")
    mixed = s.search(plant_library, query, k=7, per_modality=False)
    assert len(mixed) == 7 and [h.rank for h in mixed] == list(range(1, 8))
    assert [h.score for h in mixed] == sorted((h.score for h in mixed), reverse=True)
    only = s.search(plant_library, query, k=5, modalities=["3d"])
    assert {h.modality for h in only} == {"3d"}
    assert s.search(plant_library, query, k=5, tags=["no-such-tag"]) == []


def test_index_recall_against_exact_search_on_the_demo_library(plant_library):
    lib = plant_library
    ids = np.array(sorted(lib.catalogue.ids()))
    vectors = lib.catalogue.vectors(list(ids), lib.space, lib.dim)
    hits, truth = [], []
    for kind in ("image", "audio", "3d"):  # the app's per-modality queries
        pool = np.array(sorted(lib.catalogue.ids(modalities=[kind])))
        pool_vectors = lib.catalogue.vectors(list(pool), lib.space, lib.dim)
        for q in vectors:
            hits.append([i for i, _ in lib.search(q, 10, modalities=[kind])])
            truth.append(pool[np.argsort(-(pool_vectors @ q), kind="stable")[:10]])
    for q in vectors:  # and unfiltered, through the graph
        hits.append([i for i, _ in lib.search(q, 10)])
        truth.append(ids[np.argsort(-(vectors @ q), kind="stable")[:10]])
    recall = np.mean([len(set(h) & set(t)) / 10 for h, t in zip(hits, truth)])
    assert recall >= 0.98


def test_bad_queries_are_clear_errors(plant_library, tmp_path, new_library):
    models = plant_library_models()
    notes = tmp_path / "notes.bin"
    notes.write_bytes(b"\x00\x01 not media" * 50)
    with pytest.raises(UnsupportedFileError, match="notes.bin"):
        s.file_query(models, notes)
    empty = new_library("empty")
    with pytest.raises(LibraryError, match="is empty"):
        s.search(empty, s.text_query(models, "pump"))


_MODELS = {}


def plant_library_models():
    """The session's demo models (pytest fixtures cannot be called from helpers)."""
    return _MODELS["models"]


@pytest.fixture(autouse=True)
def _remember_models(demo_models):
    _MODELS["models"] = demo_models
