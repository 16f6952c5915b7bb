"""A continual step's pack version: the parent's files byte-identical, the maps and the DNS
statistics read back exactly, the steps and the chain of parents kept, and its encoders equal to
the parent's followed by normalise(W x)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.continual.version import (
    NOT_INSTALLED,
    chain,
    load_maps,
    load_statistics,
    step_names,
    write_version,
)
from core.encoders.pipeline import embed_items
from core.encoders.runtime import MappedEncoder, PackModels
from core.errors import PackError
from core.packs.manifest import MANIFEST
from core.packs.store import Pack, resolve_pack, sha256_of
from core.paths import data_dir

DIM = 256
TEXTS = ["a pump that hums", "the fan of hall 2", "a cracked valve", "steam leak", "quiet"]
STEP = {"name": "audio-image (pairs.csv)", "modalities": ["audio", "image"], "count": 48}


def random_maps(modalities, seed: int, scale: float = 0.1) -> Maps:
    g = torch.Generator().manual_seed(seed)
    return Maps.from_matrices(DIM, {m: torch.eye(DIM) + scale * torch.randn(DIM, DIM,
                                                                            generator=g)
                                    for m in modalities})


def statistics(seed: int) -> Statistics:
    g = torch.Generator().manual_seed(seed)
    out = Statistics(DIM)
    out.record("audio", torch.randn(40, DIM, generator=g), torch.randn(40, DIM, generator=g))
    out.record("image", torch.randn(30, DIM, generator=g), torch.randn(30, DIM, generator=g))
    return out


def write(parent: Pack, version: str, maps: Maps, stats: Statistics | None = None,
          step: dict = STEP) -> Pack:
    return write_version(parent, maps, stats or statistics(0),
                         data_dir() / "packs" / f"demo-{version}", version=version,
                         source="test", license="MIT", step=step)


def test_a_version_keeps_the_parents_files_and_reads_its_maps_and_statistics_back():
    parent = resolve_pack("demo@1")
    maps, stats = random_maps(["audio", "image"], 1), statistics(2)
    child = write(parent, "2", maps, stats, step={"modalities": ["audio", "image"],
                                                  "pairs": "pairs.csv"})
    m = child.manifest
    assert (m.ref, m.parent) == ("demo@2", "demo@1") and child.verify() == []
    assert (m.encoders, m.heads, m.leaves) == (parent.manifest.encoders, parent.manifest.heads,
                                               parent.manifest.leaves)
    for rel, entry in parent.manifest.files.items():  # byte-identical
        assert m.files[rel].sha256 == entry.sha256 == sha256_of(child.folder / rel)
    assert set(m.maps) == {"audio", "image"}
    loaded = load_maps(child)
    for modality, weight in maps.matrices().items():
        assert torch.equal(loaded.matrices()[modality], weight)
    back = load_statistics(child)
    for key, tensor in stats.to_tensors().items():  # float64 kept exactly
        assert back.to_tensors()[key].dtype == tensor.dtype
        assert torch.equal(back.to_tensors()[key], tensor)
    assert step_names(m) == ["audio-image (pairs.csv)"]
    assert load_maps(parent) is None and load_statistics(parent) is None

    grandchild = write(child, "3", random_maps(["audio"], 3), statistics(4))
    g = grandchild.manifest
    assert step_names(g) == ["audio-image (pairs.csv)", "audio-image (pairs.csv)"]
    assert set(g.maps) == {"audio"} and "maps/image.safetensors" not in g.files
    assert chain(grandchild) == ["demo@0", "demo@1", "demo@2", "demo@3"]
    with pytest.raises(PackError, match="never overwritten"):
        write(child, "3", maps)
    assert not [p for p in (data_dir() / "packs").iterdir() if p.name.startswith(".")]


def test_a_parent_that_is_not_installed_ends_the_chain(tmp_path):
    child = write_version(resolve_pack("demo@1"), Maps(DIM), statistics(0), tmp_path / "two",
                          version="2", source="t", license="MIT", step=STEP)
    assert chain(child) == ["demo@0", "demo@1", "demo@2"]
    grandchild = write_version(child, Maps(DIM), statistics(0), tmp_path / "three",
                               version="3", source="t", license="MIT", step=STEP)
    assert chain(grandchild) == [f"demo@2{NOT_INSTALLED}", "demo@3"]  # demo@2 is elsewhere


def test_manifests_without_continual_fields_read_as_before():
    parent = resolve_pack("demo@1")
    on_disk = json.loads((parent.folder / MANIFEST).read_text(encoding="utf-8"))
    assert parent.manifest.to_json() == on_disk
    assert parent.manifest.maps == {} and parent.manifest.continual is None


def _rewrite(pack: Pack, change) -> Pack:
    path = pack.folder / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return Pack.open(pack.folder)


def test_a_map_of_the_wrong_shape_is_refused_naming_the_pack():
    child = write(resolve_pack("demo@1"), "2", random_maps(["image"], 1))
    from safetensors.torch import save_file

    rel = "maps/image.safetensors"
    save_file({"weight": torch.eye(DIM - 1)}, str(child.folder / rel))
    data_entry = {"sha256": sha256_of(child.folder / rel),
                  "bytes": (child.folder / rel).stat().st_size}

    def fix(data):
        next(f for f in data["files"] if f["path"] == rel).update(data_entry)

    damaged = _rewrite(child, fix)
    with pytest.raises(PackError, match=r"image map of demo@2.*255×255"):
        load_maps(damaged)
    with pytest.raises(PackError, match="image map of demo@2"):
        PackModels(damaged, torch.device("cpu")).encoder("image")


def test_statistics_of_the_wrong_shape_are_refused_naming_the_pack():
    child = write(resolve_pack("demo@1"), "2", Maps(DIM))
    from safetensors.torch import save_file

    rel = "continual/statistics.safetensors"
    tensors = statistics(0).to_tensors()
    tensors["audio.partners"] = torch.zeros(DIM, 3, dtype=torch.float64)
    save_file(tensors, str(child.folder / rel))
    entry = {"sha256": sha256_of(child.folder / rel), "bytes": (child.folder / rel).stat().st_size}
    damaged = _rewrite(child, lambda d: next(f for f in d["files"] if f["path"] == rel)
                       .update(entry))
    with pytest.raises(PackError, match=r"statistics of demo@2.*audio\.partners"):
        load_statistics(damaged)


def embed(models: PackModels, modality: str) -> np.ndarray:
    return embed_items(models.encoder(modality), TEXTS).vectors


def test_identity_maps_embed_like_the_parent_and_a_map_is_normalise_w_x(demo_models):
    parent = demo_models.pack
    same = write(parent, "2", Maps(DIM, ["text"]))
    mapped = write(parent, "3", random_maps(["text"], 5))
    expected = embed(demo_models, "text")
    np.testing.assert_array_equal(embed(PackModels(same, torch.device("cpu")), "text"), expected)
    w = load_maps(mapped).matrices()["text"].double().numpy()
    projected = expected.astype(np.float64) @ w.T
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    models = PackModels(mapped, torch.device("cpu"))
    assert isinstance(models.encoder("text"), MappedEncoder)
    np.testing.assert_allclose(embed(models, "text"), projected, atol=1e-6)
    assert not isinstance(models.encoder("image"), MappedEncoder)  # no map: unchanged
