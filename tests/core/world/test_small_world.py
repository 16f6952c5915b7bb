"""The small world as tests and users get it: real files, right shapes, balanced, learnable."""

import json
from collections import Counter

import numpy as np
import pytest

from core.cli.main import main
from core.world.manifest import read_manifest
from core.world.plan import MAX_SECONDS, MIN_SECONDS, TRAINING_SPLITS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(small_world):
    return read_manifest(small_world[0])


def test_every_image_opens_with_pillow_at_224_px(small_world, rows):
    from PIL import Image

    for row in (r for r in rows if r.modality == "image"):
        with Image.open(small_world[0] / row.path) as im:
            im.load()
            assert im.size == (224, 224) and im.mode == "RGB", row.path


def test_every_sound_opens_with_soundfile_as_48k_mono_of_2_to_10_s(small_world, rows):
    import soundfile

    for row in (r for r in rows if r.modality == "audio"):
        data, rate = soundfile.read(small_world[0] / row.path, dtype="float32")
        assert rate == 48_000 and data.ndim == 1, row.path
        assert MIN_SECONDS <= len(data) / rate <= MAX_SECONDS
        assert abs(len(data) / rate - row.seconds) < 1e-3
        assert np.abs(data).max() > 0.01, f"{row.path} is silent"


def test_every_cloud_opens_with_open3d(small_world, rows):
    import open3d as o3d

    for row in (r for r in rows if r.modality == "3d"):
        points = np.asarray(o3d.io.read_point_cloud(str(small_world[0] / row.path)).points)
        assert points.shape == (4096, 3) and np.isfinite(points).all(), row.path
        assert np.linalg.norm(points, axis=1).max() <= 1.0 + 1e-5


def test_every_file_is_distinct(rows):
    hashes = [r.sha256 for r in rows if r.path]
    assert len(set(hashes)) == len(hashes)


def test_concepts_are_balanced_in_every_split(rows):
    cells = Counter((r.split, r.modality, r.concept_index) for r in rows)
    for split, modality in {(s, m) for s, m, _ in cells}:
        counts = [cells[(split, modality, c)] for c in range(60)]
        assert min(counts) == max(counts) > 0, (split, modality)


def test_no_training_split_holds_an_audio_image_or_audio_3d_pair(rows):
    groups: dict[str, set[str]] = {}
    for row in rows:
        if row.split in TRAINING_SPLITS:
            groups.setdefault(row.group, set()).add(row.modality)
    assert all(m == {"audio"} for m in groups.values() if "audio" in m)


def test_trivial_features_are_well_above_chance_and_far_from_perfect(small_world, capsys):
    capsys.readouterr()
    assert main(["demo", "baselines", str(small_world[0]), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(scores) == {"image", "audio", "3d"}
    for modality, s in scores.items():
        assert s["concept"] >= 3 * s["concept_chance"], (modality, s)
        assert s["concept"] <= 0.8, (modality, s)
