"""Decode and preprocess a world's training items once, into stacked tensors that every epoch
reuses (uint8 pixels, float16 log-mels, token ids, MiniLM features, grouped clouds)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from core.encoders.base import Encoder
from core.progress import CancelFn, ProgressFn, Tracker
from core.world.manifest import Row

BATCH = 128  # items per `cache_batch` call (MiniLM features, cloud grouping)


def cache_inputs(world_dir: str | Path, rows: Sequence[Row], encoder: Encoder, workers: int = 2,
                 progress: ProgressFn | None = None, cancel: CancelFn | None = None
                 ) -> torch.Tensor:
    """The encoder's cached input for each row, stacked in row order.

    Files are decoded with `pipeline.decoder_for(encoder)` and turned into the compact form
    training uses (`encoder.cache_item`, else `encoder.preprocess`) in `workers` threads; text
    rows use their caption (each distinct caption is processed once). Encoders with a batched
    step (`cache_batch`: the frozen MiniLM, cloud grouping) run it on collated chunks."""
    from core.encoders.pipeline import decoder_for

    world_dir = Path(world_dir)
    tracker = Tracker(progress, cancel)
    prepare = getattr(encoder, "cache_item", encoder.preprocess)
    if encoder.modality == "text":
        captions = [row.caption for row in rows]
        unique = list(dict.fromkeys(captions))
        sources: list = unique
        load = None
    else:
        sources = [world_dir / row.path for row in rows]
        load = decoder_for(encoder)
    tracker.start(f"preparing {encoder.modality}", len(sources))

    def work(source):
        return prepare(load(source) if load is not None else source)

    items: list = []
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="cache") as pool:
        window = max(2, workers) * 32
        futures: list = []
        position = 0
        try:
            while position < len(sources) or futures:
                while position < len(sources) and len(futures) < window:
                    futures.append(pool.submit(work, sources[position]))
                    position += 1
                items.append(futures.pop(0).result())
                tracker.advance()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    if hasattr(encoder, "cache_batch"):
        tracker.start(f"encoding {encoder.modality}", len(items))
        parts = []
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            parts.append(encoder.cache_batch(encoder.collate(chunk)))
            tracker.advance(len(chunk))
        stacked = torch.cat(parts) if parts else torch.zeros(0)
    else:
        stacked = torch.stack(items) if items else torch.zeros(0)
    if encoder.modality == "text":
        index = {caption: i for i, caption in enumerate(unique)}
        stacked = stacked[torch.tensor([index[c] for c in captions], dtype=torch.long)]
    return stacked
