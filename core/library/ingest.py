"""Adding files to a library: folders recursively, files chosen by extension and checked by
content, sha256 for duplicates, decoding and previews in worker threads while the encoder runs
batched forwards, and a commit per batch, so a cancelled or killed run keeps what it committed
and the same command resumes it (unchanged files are recognised by size and mtime and not read
again). Every file gets a result: indexed, duplicate, unchanged, or skipped with its reason.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from core.encoders.pipeline import decoder_for, iter_batches
from core.errors import Cancelled, CorruptFileError, LibraryError, MCRError
from core.io.kinds import supported_extensions
from core.library.catalogue import NewItem
from core.library.library import Library
from core.progress import CancelFn, ProgressFn, Tracker

STATUSES = ("indexed", "duplicate", "unchanged", "skipped")
_CHUNK = 2**20


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str  # one of STATUSES
    reason: str = ""
    item_id: int | None = None
    modality: str | None = None


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    ignored: int = 0  # files in the folders of a type MCR Studio does not read
    cancelled: bool = False
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        found = Counter(r.status for r in self.results)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def skipped(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def partial(self) -> bool:
        return bool(self.skipped)

    def summary(self) -> str:
        c = self.counts()
        text = (f"{c['indexed']} indexed, {c['duplicate']} duplicates, {c['unchanged']} "
                f"unchanged, {c['skipped']} skipped")
        if self.ignored:
            text += f"; {self.ignored} other files ignored"
        return text + (" (cancelled: run the same command again to continue)"
                       if self.cancelled else "")


@dataclass
class _Candidate:
    path: str
    modality: str
    size: int = 0
    mtime_ns: int = 0
    hash: str = ""
    previous: int | None = None  # the item this path held before it changed


def scan(paths: Iterable[str | Path]) -> tuple[list[_Candidate], list[FileResult], int, list[str]]:
    """Candidates (by extension), results for named paths that cannot be used, the number of
    other files met in folders, and the folders (roots)."""
    kinds = supported_extensions()
    candidates, results, ignored, roots = [], [], 0, []
    for given in paths:
        path = os.path.abspath(os.fspath(given))
        if os.path.isdir(path):
            roots.append(path)
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    modality = kinds.get(os.path.splitext(name)[1].lower())
                    if name.startswith("."):
                        continue
                    if modality is None:
                        ignored += 1
                    else:
                        candidates.append(_Candidate(os.path.join(folder, name), modality))
        elif os.path.isfile(path):
            modality = kinds.get(os.path.splitext(path)[1].lower())
            if modality is None:
                results.append(FileResult(path, "skipped", "not a supported type of file "
                                          f"({os.path.splitext(path)[1] or 'no extension'})"))
            else:
                candidates.append(_Candidate(path, modality))
        else:
            results.append(FileResult(path, "skipped", "does not exist"))
    return candidates, results, ignored, roots


def ingest(library: Library, models, paths: Sequence[str | Path], *, tags: Sequence[str] = (),
           batch_size: int = 16, workers: int = 2, progress: ProgressFn | None = None,
           cancel: CancelFn | None = None) -> IngestReport:
    """Add files and folders to `library`, embedding with `models` (a `PackModels` of the
    library's space). Returns the per-file report; a cancel returns what was done so far."""
    if models.pack.ref != library.space:
        raise LibraryError(f"holds vectors of {library.space}, not of {models.pack.ref}",
                           path=library.folder,
                           hint=f"Use the pack {library.space}, or re-embed the library with "
                                f"`mcr library reindex --pack {models.pack.ref}`.")
    started = time.monotonic()
    tracker = Tracker(progress, cancel)
    tracker.start("scanning")
    candidates, results, ignored, roots = scan(paths)
    report = IngestReport(results, ignored)
    tags = tuple(sorted({t.strip() for t in tags if t.strip()}))
    try:
        for root in roots:
            library.catalogue.add_root(root)
        todo = _triage(library, models, candidates, tags, report, tracker)
        todo = _hash_all(library, todo, report, workers, tracker)
        todo = _link_known(library, todo, tags, report)
        _embed_new(library, models, todo, tags, report, batch_size, workers, tracker)
    except Cancelled:
        report.cancelled = True
    finally:
        library.save(force=True)
        report.seconds = time.monotonic() - started
    return report


def _triage(library, models, candidates, tags, report, tracker) -> list[_Candidate]:
    """Stat every candidate; settle the unchanged, the empty, and those the pack cannot embed."""
    todo = []
    can_embed = set(models.modalities)
    tracker.start("checking files", len(candidates))
    for c in candidates:
        tracker.advance()
        try:
            st = os.stat(c.path)
        except OSError as err:
            report.results.append(FileResult(c.path, "skipped", _os_reason(err)))
            continue
        c.size, c.mtime_ns = st.st_size, st.st_mtime_ns
        known = library.catalogue.file(c.path)
        if known is not None and (known.size, known.mtime_ns) == (c.size, c.mtime_ns):
            if tags:
                library.catalogue.link_file(c.path, known.item_id, c.size, c.mtime_ns, tags)
            report.results.append(FileResult(c.path, "unchanged", "", known.item_id, c.modality))
            continue
        c.previous = known.item_id if known is not None else None
        if c.modality not in can_embed:
            report.results.append(FileResult(
                c.path, "skipped", f"the pack {models.pack.ref} cannot embed {c.modality}"))
        elif c.size == 0:
            report.results.append(FileResult(c.path, "skipped", "is empty (0 bytes)"))
        else:
            todo.append(c)
            continue
        _forget_changed(library, c)
    return todo


def _hash_all(library, todo, report, workers, tracker) -> list[_Candidate]:
    tracker.start("reading files", len(todo))
    kept = []
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="hash") as pool:
        for c, digest in zip(todo, pool.map(_sha256, [c.path for c in todo])):
            tracker.advance()
            if isinstance(digest, OSError):
                report.results.append(FileResult(c.path, "skipped", _os_reason(digest)))
                _forget_changed(library, c)
            else:
                c.hash = digest
                kept.append(c)
    return kept


def _link_known(library, todo, tags, report) -> list[_Candidate]:
    """Files whose content the library already holds become duplicates (or unchanged, for a
    file only touched); the rest go on to be embedded."""
    new = []
    for c in todo:
        item_id = library.catalogue.item_by_hash(c.hash)
        if item_id is None or library.catalogue.items([item_id])[0].modality != c.modality:
            new.append(c)  # (a WAV named .png is refused as an image, not linked to a sound)
            continue
        library.catalogue.link_file(c.path, item_id, c.size, c.mtime_ns, tags)
        status = "unchanged" if c.previous == item_id else "duplicate"
        if c.previous is not None and c.previous != item_id:
            library.drop_orphans()
        report.results.append(FileResult(c.path, status, "", item_id, c.modality))
    return new


def _embed_new(library, models, todo, tags, report, batch_size, workers, tracker) -> None:
    firsts: dict[tuple[str, str], _Candidate] = {}
    copies: dict[tuple[str, str], list[_Candidate]] = {}
    for c in todo:  # the same content twice in one run: embed it once
        if (c.hash, c.modality) in firsts:
            copies.setdefault((c.hash, c.modality), []).append(c)
        else:
            firsts[(c.hash, c.modality)] = c
    tracker.start("indexing", len(firsts))
    for modality in ("image", "audio", "3d"):
        group = [c for c in firsts.values() if c.modality == modality]
        if not group:
            continue
        encoder = models.encoder(modality)
        prepare = _preparer(library, encoder, modality)
        for ok, vectors, failed in iter_batches(encoder, prepare, group, batch_size, workers,
                                                tracker):
            for index, err in failed:
                for c in [group[index], *copies.get((group[index].hash, modality), [])]:
                    report.results.append(FileResult(c.path, "skipped", _reason(err, c)))
                    _forget_changed(library, c)
            if not ok:
                continue
            items = [NewItem(group[i].hash, modality, group[i].path, group[i].size,
                             group[i].mtime_ns, vectors[j], _preview_rel(group[i].hash), tags)
                     for j, i in enumerate(ok)]
            ids = library.commit(items)
            if any(group[i].previous is not None for i in ok):
                library.drop_orphans()
            for item_id, i in zip(ids, ok):
                c = group[i]
                report.results.append(FileResult(c.path, "indexed", "", item_id, modality))
                for copy in copies.get((c.hash, modality), []):
                    library.catalogue.link_file(copy.path, item_id, copy.size, copy.mtime_ns,
                                                tags)
                    report.results.append(FileResult(copy.path, "duplicate", "", item_id,
                                                     modality))


def _preparer(library: Library, encoder, modality: str):
    from core.library.previews import make_preview, write_preview

    decode = decoder_for(encoder)
    rate = getattr(encoder, "rate", None)

    def prepare(c: _Candidate):
        try:
            decoded = decode(Path(c.path))
            target = library.folder / _preview_rel(c.hash)
            if not target.is_file() or target.stat().st_size == 0:  # (0: cut by a power loss)
                write_preview(make_preview(modality, decoded, rate), target)
            return encoder.preprocess(decoded)
        except MCRError as err:
            return err
        except Exception as err:  # a decoder bug must not stop the whole run: report the file
            return CorruptFileError(f"could not be read ({type(err).__name__}: {err})",
                                    path=c.path)

    return prepare


def _forget_changed(library: Library, c: _Candidate) -> None:
    """A known file that changed into something unusable no longer holds its old content."""
    if c.previous is not None:
        library.forget_paths([c.path])


def _preview_rel(digest: str) -> str:
    return f"previews/{digest[:2]}/{digest}.png"


def _sha256(path: str):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(_CHUNK):
                digest.update(block)
    except OSError as err:
        return err
    return digest.hexdigest()


def _os_reason(err: OSError) -> str:
    return f"cannot be read ({err.strerror or err})"


def _reason(err: MCRError, c: _Candidate) -> str:
    reason = err.what
    if c.previous is not None:
        reason += "; its earlier version was removed from the library"
    return reason
