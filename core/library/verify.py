"""Checking a library against the disk: files that are gone or changed since they were read,
and whether the index agrees with the catalogue (opening the library already repaired it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from core.library.library import Library
from core.progress import CancelFn, ProgressFn, Tracker


@dataclass
class VerifyReport:
    files: int = 0
    missing: list[str] = field(default_factory=list)  # paths no longer there
    changed: list[str] = field(default_factory=list)  # size or mtime differs from when read
    repairs: list[str] = field(default_factory=list)  # what opening the library fixed
    index_count: int = 0
    items_with_vectors: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed) and self.index_count == self.items_with_vectors


def verify(library: Library, progress: ProgressFn | None = None,
           cancel: CancelFn | None = None) -> VerifyReport:
    tracker = Tracker(progress, cancel)
    records = library.catalogue.files()
    report = VerifyReport(files=len(records), repairs=list(library.repairs))
    tracker.start("checking files", len(records))
    for record in records:
        tracker.advance()
        try:
            st = os.stat(record.path)
        except FileNotFoundError:
            report.missing.append(record.path)
            continue
        except OSError:
            report.missing.append(record.path)  # unreadable now counts as gone
            continue
        if (st.st_size, st.st_mtime_ns) != (record.size, record.mtime_ns):
            report.changed.append(record.path)
    report.index_count = library.count()
    report.items_with_vectors = len(library.catalogue.ids_with_vector(library.space))
    return report


def drop_missing(library: Library, report: VerifyReport) -> list[int]:
    """Forget the missing files; returns the ids of items that no file holds any more."""
    return library.forget_paths(report.missing) if report.missing else []
