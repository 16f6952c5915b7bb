"""Generate a demo world on disk: files rendered in parallel, then the manifest, then world.json."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from core.errors import Cancelled, UsageError
from core.progress import CancelFn, ProgressFn, Tracker
from core.world.concepts import Concept
from core.world.manifest import Row, read_world_info, write_manifest
from core.world.plan import GROUP_KINDS, Item, item_rng, plan_world, select_items

GENERATOR_VERSION = 1
CHUNK = 24
_PARTIAL = ".partial"


def build_world(
    out: str | Path,
    size: str = "small",
    seed: int = 0,
    *,
    workers: int | None = None,
    force: bool = False,
    concepts: list[Concept] | None = None,
    only: str | None = None,
    per_concept: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> dict:
    """Generate the world into `out` and return its summary (the content of world.json).

    A world already there with the same settings is kept as it is unless `force`; a folder
    holding anything else is refused, so no user file is overwritten. `only` (a split) and
    `per_concept` (groups per concept and kind) render a subset: the same items, files and
    manifest rows as in the whole world, e.g. a fixed part of its held-out set.
    """
    out = Path(out)
    tracker = Tracker(progress, cancel)
    tracker.start("planning")
    items = select_items(plan_world(size, seed, concepts), only, per_concept)
    settings = {"size": size, "seed": seed, "generator": GENERATOR_VERSION,
                "concepts": len({i.concept.index for i in items}),
                **({"only": only} if only else {}),
                **({"per_concept": per_concept} if per_concept else {})}
    existing = _prepare(out, settings, force)
    if existing is not None:
        return existing
    started = time.perf_counter()
    hashes = _render_all(out, items, seed, workers, tracker)
    rows = [_row(item, *hashes.get(item.number, ("", 0))) for item in items]
    info = {**settings, **_summary(rows), "seconds": round(time.perf_counter() - started, 1)}
    write_manifest(out, rows, info)
    (out / _PARTIAL).unlink(missing_ok=True)
    return info


def _prepare(out: Path, settings: dict, force: bool) -> dict | None:
    if out.exists() and any(out.iterdir()):
        info = read_world_info(out)
        if info is None and not (out / _PARTIAL).exists():
            raise UsageError(
                "is not empty and is not a demo world",
                path=out,
                hint="Choose an empty or new folder; nothing was written.",
            )
        if info is not None and not force and all(info.get(k) == v for k, v in settings.items()):
            return info
        for name in {k.split for k in GROUP_KINDS} | {"manifest.csv", "world.json"}:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / _PARTIAL).write_text("generation in progress or interrupted\n")
    return None


def _render_all(out, items, seed, workers, tracker) -> dict[int, tuple[str, int]]:
    files = [item for item in items if item.modality != "text"]
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    tracker.start("generating files", len(files))
    workers = workers or os.cpu_count() or 1
    hashes: dict[int, tuple[str, int]] = {}
    if workers == 1:
        for chunk in chunks:
            hashes.update(render_chunk(str(out), seed, chunk))
            tracker.advance(len(chunk))
        return hashes
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts) as pool:
        pending = {pool.submit(render_chunk, str(out), seed, chunk) for chunk in chunks}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    hashes.update(result)
                    tracker.advance(len(result))
                tracker.check()
        except Cancelled:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return hashes


def _ignore_interrupts() -> None:
    """Workers leave Ctrl+C to the parent, which cancels cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def render_chunk(out: str, seed: int, items: list[Item]) -> dict[int, tuple[str, int]]:
    """Render and write a chunk of items; return each item's (sha256, size)."""
    result = {}
    for item in items:
        data = render_item(item, seed)
        path = Path(out) / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        result[item.number] = (hashlib.sha256(data).hexdigest(), len(data))
    return result


def render_item(item: Item, seed: int) -> bytes:
    from core.world import files

    rng = item_rng(seed, item.number)
    ext = item.path.rsplit(".", 1)[1]
    if item.modality == "image":
        from core.world.images import render_image

        return files.encode_image(render_image(item.concept, rng), ext)
    if item.modality == "audio":
        from core.world.sounds import RATE, synth_sound

        return files.encode_audio(synth_sound(item.concept, rng, item.seconds), RATE, ext)
    from core.world.clouds import make_cloud

    return files.encode_cloud(make_cloud(item.concept, rng), ext)


def _row(item: Item, sha256: str, size: int) -> Row:
    return Row(
        item_id=item.item_id, split=item.split, group=item.group, modality=item.modality,
        concept=item.concept.name, concept_index=item.concept.index, family=item.concept.family,
        condition=item.concept.condition, path=item.path, caption=item.caption,
        seconds=item.seconds, sha256=sha256, bytes=size,
    )


def _summary(rows: list[Row]) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        split = counts.setdefault(row.split, {})
        split[row.modality] = split.get(row.modality, 0) + 1
    return {"counts": counts, "items": len(rows), "bytes": sum(r.bytes for r in rows)}
