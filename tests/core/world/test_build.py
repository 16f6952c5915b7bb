"""Building a world: deterministic bytes whatever the parallelism, safe with existing folders."""

import hashlib
from pathlib import Path

import pytest

from core.errors import Cancelled, UsageError
from core.progress import CancelToken
from core.world.build import build_world
from core.world.concepts import all_concepts
from core.world.manifest import MANIFEST, WORLD_JSON, read_manifest

CONCEPTS = [all_concepts()[i] for i in (0, 9, 20, 59)]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != WORLD_JSON  # world.json records the generation time
    }


def _build(out, seed=0, workers=1, **kw):
    return build_world(out, "tiny", seed, workers=workers, concepts=CONCEPTS, **kw)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "w"
    _build(out, workers=2)
    return out


def test_same_seed_gives_identical_files_with_any_number_of_workers(tiny, tmp_path):
    _build(tmp_path / "one", workers=1)
    assert _digest(tmp_path / "one") == _digest(tiny)


def test_different_seed_gives_different_files(tiny, tmp_path):
    _build(tmp_path / "other", seed=1)
    a, b = _digest(tiny), _digest(tmp_path / "other")
    assert a[MANIFEST] != b[MANIFEST]
    shared = set(a) & set(b) - {MANIFEST}
    assert shared and all(a[k] != b[k] for k in shared)


def test_manifest_lists_every_file_with_its_hash(tiny):
    rows = read_manifest(tiny)
    on_disk = {str(p.relative_to(tiny)) for p in tiny.rglob("*") if p.is_file()}
    listed = {r.path for r in rows if r.path}
    assert listed == on_disk - {MANIFEST, WORLD_JSON}
    for row in rows:
        if row.path:
            data = (tiny / row.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.bytes


def test_existing_world_is_kept_unless_forced(tiny):
    before = (tiny / WORLD_JSON).read_text()
    assert _build(tiny)["seconds"] >= 0
    assert (tiny / WORLD_JSON).read_text() == before


def test_refuses_a_folder_that_is_not_a_world(tmp_path):
    (tmp_path / "thesis.docx").write_text("precious")
    with pytest.raises(UsageError, match="not a demo world"):
        _build(tmp_path)
    assert (tmp_path / "thesis.docx").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.docx"]


def test_cancel_leaves_no_manifest_and_a_rerun_completes(tmp_path):
    token = CancelToken()
    calls = []

    def progress(p):
        calls.append(p)
        if p.stage == "generating files" and p.done > 0:
            token.set()

    with pytest.raises(Cancelled):
        _build(tmp_path / "w", progress=progress, cancel=token.is_set)
    assert not (tmp_path / "w" / WORLD_JSON).exists()
    info = _build(tmp_path / "w")
    assert info["items"] == len(read_manifest(tmp_path / "w"))


def test_reading_an_incomplete_world_says_what_to_do(tmp_path):
    with pytest.raises(UsageError, match="mcr demo world"):
        read_manifest(tmp_path)


def test_a_subset_holds_the_same_items_and_bytes_as_the_whole_world(tiny, tmp_path):
    info = _build(tmp_path / "part", only="test")
    whole = {r.item_id: r for r in read_manifest(tiny)}
    part = read_manifest(tmp_path / "part")
    assert info["only"] == "test" and {r.split for r in part} == {"test"}
    assert len(part) == sum(r.split == "test" for r in whole.values())
    for row in part:
        assert row == whole[row.item_id]
        if row.path:
            assert (tmp_path / "part" / row.path).read_bytes() == (tiny / row.path).read_bytes()


def test_per_concept_keeps_the_first_groups_of_each_kind():
    from core.world.plan import plan_world, select_items

    items = plan_world("small", 0, CONCEPTS)
    chosen = select_items(items, "cloud_triplets", per_concept=2)
    groups = {}
    for item in chosen:
        groups.setdefault(item.concept.index, set()).add(item.group)
    assert all(len(g) == 2 for g in groups.values()) and len(groups) == len(CONCEPTS)
    assert {i.modality for i in chosen} == {"3d", "image"}  # triplets stay whole
    first = [i for i in items if i.split == "cloud_triplets"][:2]
    assert all(i in chosen for i in first)
    with pytest.raises(UsageError, match="Unknown split"):
        select_items(items, "nonsense")
