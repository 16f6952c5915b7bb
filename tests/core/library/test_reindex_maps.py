"""Re-indexing between versions that differ only by continual maps: one matrix product per
modality (no file read) gives the vectors re-encoding would, an interrupted run leaves the
library in its current space, searchable, and resumes; an ill-conditioned map falls back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.continual.version import write_version
from core.encoders.pipeline import embed_files
from core.encoders.runtime import PackModels
from core.library import reindex as reindex_module
from core.library.catalogue import Catalogue
from core.library.ingest import ingest
from core.library.library import Library
from core.library.reindex import reindex
from core.packs.store import Pack, resolve_pack
from core.paths import data_dir

DIM = 256
KINDS = ("image", "audio", "3d")


def version(parent: Pack, number: str, matrices: dict[str, torch.Tensor]) -> Pack:
    return write_version(parent, Maps.from_matrices(DIM, matrices), Statistics(DIM),
                         data_dir() / "packs" / f"demo-{number}", version=number,
                         source="test", license="MIT", step={"name": f"step {number}"})


def near_identity(seed: int, scale: float = 0.02) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {m: torch.eye(DIM) + scale * torch.randn(DIM, DIM, generator=g) for m in KINDS}


@pytest.fixture
def library(plant_copy, new_library, demo_models):
    lib = new_library()
    report = ingest(lib, demo_models, [plant_copy(4)])
    assert report.counts()["indexed"] == 12
    lib.close()
    return lib.folder


def stored(folder, space: str) -> dict[int, np.ndarray]:
    with Library.open(folder, write=False) as lib:
        ids = sorted(lib.catalogue.ids_with_vector(space))
        return dict(zip(ids, lib.catalogue.vectors(ids, space, DIM)))


def reencoded(folder, pack: Pack) -> dict[int, np.ndarray]:
    models = PackModels(pack, torch.device("cpu"))
    with Library.open(folder, write=False) as lib:
        items = lib.catalogue.items()
    out = {}
    for m in KINDS:
        group = [i for i in items if i.modality == m]
        vectors = embed_files(models.encoder(m), [i.path for i in group], workers=1).vectors
        out |= dict(zip((i.id for i in group), vectors))
    return out


def assert_same(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    np.testing.assert_allclose(np.stack([a[i] for i in a]), np.stack([b[i] for i in a]),
                               atol=1e-5)


def test_maps_only_versions_reindex_by_a_matrix_product(library, monkeypatch):
    two = version(resolve_pack("demo@1"), "2", near_identity(1))
    three = version(two, "3", near_identity(2))

    def no_files(encoder):
        raise AssertionError("the matrix path read a file")

    with monkeypatch.context() as patch:
        patch.setattr(reindex_module, "decoder_for", no_files)
        result = reindex(library, "demo@2", device="cpu")
        assert (result["method"], result["refused"], result["items"]) == ("matrix", None, 12)
        assert_same(stored(library, "demo@2"), reencoded(library, two))
        result = reindex(library, "demo@3", device="cpu")  # W_new W_old⁻¹, W_old not I
        assert result["method"] == "matrix"
    assert_same(stored(library, "demo@3"), reencoded(library, three))
    with Library.open(library, write=False) as lib:
        assert lib.space == "demo@3" and lib.catalogue.ids_with_vector("demo@2") == set()
        assert not lib.index_folder("demo@2").exists()


def test_an_interrupted_matrix_reindex_leaves_the_current_space_and_resumes(library,
                                                                            monkeypatch):
    two = version(resolve_pack("demo@1"), "2", near_identity(3))
    before = stored(library, "demo@1")
    query = next(iter(before.values()))
    with Library.open(library, write=False) as lib:
        found = lib.search(query, 5)
    real_put, calls = Catalogue.put_vectors, []

    def failing_put(self, ids, vectors, space):
        calls.append(len(ids))
        if len(calls) > 2:
            raise OSError("disk full")
        real_put(self, ids, vectors, space)

    monkeypatch.setattr(reindex_module, "MAP_CHUNK", 2)
    with monkeypatch.context() as patch:
        patch.setattr(Catalogue, "put_vectors", failing_put)
        with pytest.raises(OSError, match="disk full"):
            reindex(library, "demo@2", device="cpu")
    with Library.open(library, write=False) as lib:
        assert lib.space == "demo@1" and lib.count() == 12
        assert lib.search(query, 5) == found
        assert len(lib.catalogue.ids_with_vector("demo@2")) == 4  # two chunks of two
        assert not lib.index_folder("demo@2").exists()
    assert_same(stored(library, "demo@1"), before)
    assert reindex(library, "demo@2", device="cpu")["method"] == "matrix"
    assert_same(stored(library, "demo@2"), reencoded(library, two))


def test_an_ill_conditioned_old_map_falls_back_to_re_embedding(library):
    squashed = {m: torch.diag(torch.linspace(1e-7, 1.0, DIM)) for m in KINDS}
    two = version(resolve_pack("demo@1"), "2", squashed)
    assert reindex(library, "demo@2", device="cpu")["method"] == "matrix"
    three = version(two, "3", near_identity(4))
    result = reindex(library, "demo@3", device="cpu")
    assert result["method"] == "re-embed" and "ill-conditioned" in result["refused"]
    assert "demo@2" in result["refused"]
    assert_same(stored(library, "demo@3"), reencoded(library, three))
