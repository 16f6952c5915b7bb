"""Cross-modal search over a library: a query (a file of any modality, text, a raw recording,
or an item already in the library) becomes one vector in the library's space, and the nearest
items come back with their scores, paths and previews.

By default the results cover every modality the library holds: the best `k` images, the best
`k` sounds and the best `k` scans, each list best first. (One ranking over everything would
mostly return the query's own modality, since similarities within a modality run higher than
across modalities.) `per_modality=False` gives that single ranking instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import EmptyInputError, LibraryError, UnsupportedFileError, UsageError
from core.library.library import Library

MODALITY_ORDER = ("image", "audio", "3d", "text")


@dataclass(frozen=True)
class Query:
    vector: np.ndarray  # float32 [D], L2-normalised, in the library's space
    modality: str
    source: str  # what the query was, in words
    item_id: int | None = None  # when it is an item of the library (more like this)


@dataclass(frozen=True)
class Hit:
    rank: int  # 1-based within its modality (or overall when not per modality)
    item_id: int
    score: float  # cosine similarity
    modality: str
    path: str
    preview: str | None  # absolute path of the cached preview picture
    tags: tuple[str, ...] = ()


def text_query(models, text: str) -> Query:
    text = (text or "").strip()
    if not text:
        raise EmptyInputError("The text query is empty", hint="Type what you are looking for.")
    return Query(_forward(models.encoder("text"), text), "text", f'text "{text}"')


def file_query(models, path: str | Path) -> Query:
    """A query from a file: its kind by name, else by content; decoded by the same loaders
    as ingest."""
    from core.encoders.pipeline import decoder_for
    from core.io.kinds import check_file, modality_of, sniff

    path = Path(path)
    check_file(path)
    modality = modality_of(path) or sniff(path)
    if modality is None:
        raise UnsupportedFileError("is not an image, a recording or a 3D scan", path=path)
    encoder = _encoder(models, modality)
    return Query(_forward(encoder, decoder_for(encoder)(path)), modality, str(path))


def image_query(models, image, source: str = "pasted image") -> Query:
    """A query from a picture in memory (a pasted image): a PIL image or an RGB uint8 array."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
            raise EmptyInputError("The pasted picture is empty or not RGB",
                                  hint="Copy an image and paste it again.")
        image = Image.fromarray(np.ascontiguousarray(array[..., :3], np.uint8), "RGB")
    encoder = _encoder(models, "image")
    return Query(_forward(encoder, image.convert("RGB")), "image", source)


def recording_query(models, samples: np.ndarray, rate: int) -> Query:
    """A query from raw samples (the microphone): mono or [N, channels], any rate."""
    from core.io.audio import from_array

    encoder = _encoder(models, "audio")
    waveform = from_array(samples, int(rate), encoder.rate)
    return Query(_forward(encoder, waveform), "audio",
                 f"recording ({len(waveform) / encoder.rate:.1f} s)")


def item_query(library: Library, item_id: int) -> Query:
    """More like this: the stored vector of an item of the library."""
    items = library.catalogue.items([item_id])
    if not items:
        raise LibraryError(f"has no item {item_id}", path=library.folder)
    vector = library.catalogue.vectors([item_id], library.space, library.dim)[0]
    return Query(vector, items[0].modality, items[0].path, item_id)


def search(library: Library, query: Query, *, k: int = 10,
           modalities: Sequence[str] | None = None, tags: Sequence[str] = (),
           per_modality: bool = True) -> list[Hit]:
    if k <= 0:
        raise UsageError(f"The number of results must be positive, not {k}")
    if library.count() == 0:
        raise LibraryError("is empty", path=library.folder,
                           hint="Add files with `mcr library add PATH`.")
    held = library.held_modalities()
    wanted = [m for m in MODALITY_ORDER if m in held and (not modalities or m in modalities)]
    exclude = () if query.item_id is None else (query.item_id,)
    if per_modality:
        ranked = [library.search(query.vector, k, modalities=[m], tags=tags, exclude=exclude)
                  for m in wanted]
    else:
        ranked = [library.search(query.vector, k, modalities=wanted if modalities else None,
                                 tags=tags, exclude=exclude)]
    return _hits(library, ranked)


def _hits(library: Library, ranked) -> list[Hit]:
    ids = [item_id for found in ranked for item_id, _ in found]
    items = {i.id: i for i in library.catalogue.items(ids)}
    hits = []
    for found in ranked:
        for rank, (item_id, score) in enumerate(found, 1):
            item = items.get(item_id)
            if item is None:  # removed since the search (another thread)
                continue
            preview = library.folder / item.preview if item.preview else None
            hits.append(Hit(rank, item_id, score, item.modality, item.path,
                            str(preview) if preview is not None and preview.is_file() else None,
                            item.tags))
    return hits


def _encoder(models, modality: str):
    if modality not in models.modalities:
        raise UsageError(f"The pack {models.pack.ref} cannot embed {modality}",
                         hint=f"It embeds {', '.join(models.modalities)}.")
    return models.encoder(modality)


def _forward(encoder, decoded) -> np.ndarray:
    return encoder.forward(encoder.collate([encoder.preprocess(decoded)])).numpy()[0]
