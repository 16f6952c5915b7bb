"""Trivial hand-made features and a nearest-centroid classifier over a generated world.

They show that the world is neither random (well above chance) nor trivial (far from perfect),
reading every file with its standard reader (Pillow, soundfile, open3d).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.progress import CancelFn, ProgressFn, Tracker
from core.world.concepts import CONDITIONS, FAMILIES
from core.world.manifest import read_manifest

BANDS = np.geomspace(50, 16_000, 17)  # 16 bands


def image_feature(path: Path) -> np.ndarray:
    """Colour histogram, 4 levels per channel (64 bins), of the image at 64x64."""
    from PIL import Image

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB").resize((64, 64)), dtype=np.int64) // 64
    codes = rgb[..., 0] * 16 + rgb[..., 1] * 4 + rgb[..., 2]
    return np.bincount(codes.ravel(), minlength=64) / codes.size


def sound_feature(path: Path) -> np.ndarray:
    """Spectral centroid plus the log energies of 16 log-spaced bands (mean power spectrum)."""
    import soundfile

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    frames = np.lib.stride_tricks.sliding_window_view(mono, 2048)[::1024]
    power = (np.abs(np.fft.rfft(frames * np.hanning(2048), axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(2048, 1 / rate)
    centroid = (freqs * power).sum() / max(power.sum(), 1e-12)
    bands = [power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(BANDS[:-1], BANDS[1:])]
    bands = np.log(np.asarray(bands) / max(power.sum(), 1e-12) + 1e-9)
    return np.concatenate([[np.log(centroid + 1.0)], bands])


def cloud_feature(path: Path) -> np.ndarray:
    """Sorted axis-aligned bounding-box extents of the cloud scaled into the unit sphere."""
    import open3d as o3d

    points = np.asarray(o3d.io.read_point_cloud(str(path)).points)
    points = points - points.mean(axis=0)
    points = points / np.linalg.norm(points, axis=1).max()
    return np.sort(points.max(axis=0) - points.min(axis=0))


FEATURES = {"image": image_feature, "audio": sound_feature, "3d": cloud_feature}


def trivial_feature_accuracy(
    world: str | Path,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Per modality: nearest-centroid accuracy of the trivial feature on the test split,
    trained on every non-test file, for the concept, the family and the condition."""
    world = Path(world)
    rows = [r for r in read_manifest(world) if r.modality in FEATURES and r.split != "library"]
    tracker = Tracker(progress, cancel)
    tracker.start("trivial features", len(rows))
    result = {}
    for modality, feature in FEATURES.items():
        mine = [r for r in rows if r.modality == modality]
        features = []
        for row in mine:
            features.append(feature(world / row.path))
            tracker.advance()
        x = np.stack(features)
        concept = np.array([r.concept_index for r in mine])
        test = np.array([r.split == "test" for r in mine])
        scores = {"train": int((~test).sum()), "test": int(test.sum())}
        for name, labels, classes in (
            ("concept", concept, len(FAMILIES) * len(CONDITIONS)),
            ("family", concept // len(CONDITIONS), len(FAMILIES)),
            ("condition", concept % len(CONDITIONS), len(CONDITIONS)),
        ):
            scores[name] = nearest_centroid_accuracy(x[~test], labels[~test], x[test], labels[test])
            scores[f"{name}_chance"] = round(1 / classes, 4)
        result[modality] = scores
    return result


def nearest_centroid_accuracy(x_train, y_train, x_test, y_test) -> float:
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-9
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    classes = np.unique(y_train)
    centroids = np.stack([x_train[y_train == c].mean(axis=0) for c in classes])
    dist = ((x_test[:, None, :] - centroids[None]) ** 2).sum(axis=2)
    return round(float((classes[dist.argmin(axis=1)] == y_test).mean()), 4)
