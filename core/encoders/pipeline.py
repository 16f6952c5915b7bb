"""File -> vector: decoding and preprocessing run ahead in worker threads while the model runs
batched forwards, so the CPU decodes the next batch while the current one is encoded."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.encoders.base import Encoder
from core.errors import MCRError
from core.progress import CancelFn, ProgressFn, Tracker

IMAGE_MAX_SIDE = 1024  # decode huge photos at reduced size (JPEG draft mode)


@dataclass
class Embedded:
    """Vectors for the items that worked (in input order) and the reason for each that did not."""

    vectors: np.ndarray  # float32 [len(ok), D]
    ok: list[int] = field(default_factory=list)  # indices into the input
    failed: list[tuple[int, MCRError]] = field(default_factory=list)


def decoder_for(encoder: Encoder) -> Callable[[Path], object]:
    from core import io

    if encoder.modality == "image":
        return lambda path: io.load_image(path, max_side=IMAGE_MAX_SIDE)
    if encoder.modality == "audio":
        return lambda path: io.load_audio(path, encoder.rate)
    if encoder.modality == "3d":
        return io.load_cloud
    raise ValueError(f"no file decoder for {encoder.modality}")


def embed_files(encoder: Encoder, paths: Sequence[str | Path], *, batch_size: int = 16,
                workers: int = 2, progress: ProgressFn | None = None,
                cancel: CancelFn | None = None) -> Embedded:
    decode = decoder_for(encoder)

    def prepare(path):
        try:
            return encoder.preprocess(decode(Path(path)))
        except MCRError as err:
            return err

    return _run(encoder, prepare, list(paths), batch_size, workers,
                Tracker(progress, cancel), f"embedding {encoder.modality}")


def embed_items(encoder: Encoder, items: Sequence, *, batch_size: int = 32,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Embedded:
    """Decoded items (texts, images, waveforms, clouds) -> vectors."""

    def prepare(item):
        try:
            return encoder.preprocess(item)
        except MCRError as err:
            return err

    return _run(encoder, prepare, list(items), batch_size, 1, Tracker(progress, cancel),
                f"embedding {encoder.modality}")


def _run(encoder, prepare, inputs, batch_size, workers, tracker, stage) -> Embedded:
    tracker.start(stage, len(inputs))
    vectors, result = [], Embedded(np.zeros((0, encoder.dim), np.float32))
    for ok, batch_vectors, failed in iter_batches(encoder, prepare, inputs, batch_size, workers,
                                                  tracker):
        result.failed.extend(failed)
        if ok:
            vectors.append(batch_vectors)
            result.ok.extend(ok)
    if vectors:
        result.vectors = np.concatenate(vectors).astype(np.float32, copy=False)
    return result


def iter_batches(encoder: Encoder, prepare: Callable[[object], object], inputs: Sequence,
                 batch_size: int, workers: int, tracker: Tracker
                 ) -> Iterator[tuple[list[int], np.ndarray, list[tuple[int, MCRError]]]]:
    """Run `prepare` (decode + preprocess; returns the model input or an `MCRError`) ahead in
    `workers` threads and yield, per forward batch, (input indices, their vectors, failures
    seen since the last batch). The caller can commit each batch as it comes."""
    ahead = max(2, workers) * batch_size
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="decode") as pool:
        pending: deque = deque()
        position = 0
        batch: list = []
        failed: list = []
        try:
            while position < len(inputs) or pending:
                while position < len(inputs) and len(pending) < ahead:
                    pending.append((position, pool.submit(prepare, inputs[position])))
                    position += 1
                index, future = pending.popleft()
                item = future.result()
                if isinstance(item, MCRError):
                    failed.append((index, item))
                    tracker.advance()
                else:
                    batch.append((index, item))
                done = not pending and position == len(inputs)
                if batch and (len(batch) == batch_size or done):
                    tracker.check()
                    out = encoder.forward(encoder.collate([b[1] for b in batch])).numpy()
                    yield [b[0] for b in batch], out.astype(np.float32, copy=False), failed
                    tracker.advance(len(batch))
                    batch, failed = [], []
                elif done and failed:
                    yield [], np.zeros((0, encoder.dim), np.float32), failed
                    failed = []
        finally:
            for _, waiting in pending:
                waiting.cancel()
