"""Load every encoder of a pack and embed one generated input per modality: the quickest check
that a pack works on this machine, and on which device."""

from __future__ import annotations

import time

import numpy as np

from core.device import describe_device, pick_device
from core.encoders.runtime import PackModels
from core.packs.store import Pack
from core.progress import CancelFn, ProgressFn, Tracker


def probe_input(modality: str, rate: int | None = None):
    rng = np.random.default_rng(0)
    if modality == "text":
        return "a worn bearing grinding on the line"
    if modality == "image":
        from PIL import Image

        return Image.fromarray(rng.integers(0, 255, (224, 224, 3), dtype=np.uint8))
    if modality == "audio":
        t = np.arange(int(3 * (rate or 48_000))) / (rate or 48_000)
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    points = rng.normal(size=(4096, 3)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def probe_pack(pack: Pack, device: str = "auto", progress: ProgressFn | None = None,
               cancel: CancelFn | None = None) -> dict:
    """{"device": ..., "modalities": {m: {"dim", "load_s", "embed_s", "norm"}}}."""
    torch_device = pick_device(device)
    models = PackModels(pack, torch_device)
    tracker = Tracker(progress, cancel)
    tracker.start(f"loading {pack.ref}", len(models.modalities))
    out = {"device": describe_device(torch_device), "modalities": {}}
    for modality in models.modalities:
        start = time.perf_counter()
        encoder = models.encoder(modality)
        loaded = time.perf_counter()
        item = probe_input(modality, getattr(encoder, "rate", None))
        vector = encoder.forward(encoder.collate([encoder.preprocess(item)]))
        out["modalities"][modality] = {
            "dim": int(vector.shape[1]), "load_s": round(loaded - start, 2),
            "embed_s": round(time.perf_counter() - loaded, 3),
            "norm": round(float(vector.norm()), 4)}
        tracker.advance(message=modality)
    return out
