"""The library's catalogue: one SQLite database (WAL, synchronous=FULL) that is the source of
truth. The HNSW index is derived from it and can always be rebuilt from the vectors it stores.

Tables:
- `items`: one row per distinct content (sha256): modality, size, added time, preview path.
  Ids come from AUTOINCREMENT, so an id is never reused and a stale index entry can never
  point at another item's row.
- `files`: every path that holds an item's content (duplicate files are one item), with the
  size and mtime seen when it was read, so an unchanged file is not read again.
- `vectors`: an item's vector in a space (the pack version that embedded it).
- `tags`, `roots` (folders added, for re-scans), `meta` (format, the library's space and dim).

Every change is one transaction; a commit that returns is on disk.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import LibraryError

FILE = "catalogue.sqlite"
FORMAT = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    modality TEXT NOT NULL,
    size INTEGER NOT NULL,
    added REAL NOT NULL,
    preview TEXT);
CREATE INDEX IF NOT EXISTS items_modality ON items(modality);
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS files_item ON files(item_id);
CREATE TABLE IF NOT EXISTS vectors(
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    space TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY(item_id, space));
CREATE TABLE IF NOT EXISTS tags(
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY(item_id, tag));
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE TABLE IF NOT EXISTS roots(path TEXT PRIMARY KEY, added REAL NOT NULL);
"""


@dataclass(frozen=True)
class Item:
    id: int
    hash: str
    modality: str
    size: int
    added: float
    preview: str | None
    path: str  # the first path holding it
    paths: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewItem:
    """What ingest commits for one new content: its first file, vector, preview and tags."""

    hash: str
    modality: str
    path: str
    size: int
    mtime_ns: int
    vector: np.ndarray
    preview: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileRecord:
    path: str
    item_id: int
    size: int
    mtime_ns: int


class Catalogue:
    """Thread-safe: one connection guarded by a lock (writes are short transactions)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / FILE
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._transaction() as db:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
            found = self.meta("format")
        except sqlite3.DatabaseError as err:
            raise LibraryError(f"is not a readable library catalogue ({err})", path=self.path,
                               hint="Restore it from a backup, or move the library folder "
                                    "away and add the files again.") from err
        if found != FORMAT:
            raise LibraryError(f"has catalogue format {found}, this version reads {FORMAT}",
                               path=self.path, hint="Use a matching version of MCR Studio.")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ transactions
    class _Tx:
        def __init__(self, catalogue: Catalogue) -> None:
            self.c = catalogue

        def __enter__(self) -> sqlite3.Connection:
            self.c._lock.acquire()
            try:
                self.c._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.c._lock.release()
                raise
            return self.c._db

        def __exit__(self, kind, value, tb) -> None:
            try:
                self.c._db.execute("COMMIT" if kind is None else "ROLLBACK")
            finally:
                self.c._lock.release()

    def _transaction(self) -> Catalogue._Tx:
        return Catalogue._Tx(self)

    def _query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ meta
    def meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, **values: str) -> None:
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [(k, str(v)) for k, v in values.items()])

    # ------------------------------------------------------------------ writes
    def add_items(self, items: Sequence[NewItem], space: str) -> list[int]:
        """Insert new contents with their first file, vector and tags, in one transaction."""
        ids = []
        now = time.time()
        with self._transaction() as db:
            for item in items:
                cursor = db.execute(
                    "INSERT INTO items(hash, modality, size, added, preview) VALUES (?,?,?,?,?)",
                    (item.hash, item.modality, item.size, now, item.preview))
                item_id = int(cursor.lastrowid)
                ids.append(item_id)
                db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?)",
                           (item.path, item_id, item.size, item.mtime_ns))
                db.execute("INSERT INTO vectors VALUES (?,?,?)",
                           (item_id, space, _blob(item.vector)))
                db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?)",
                               [(item_id, t) for t in item.tags])
        return ids

    def link_file(self, path: str, item_id: int, size: int, mtime_ns: int,
                  tags: Iterable[str] = ()) -> None:
        """Record another path holding an item's content (a duplicate, or an unchanged file
        seen again), with tags."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?)",
                       (path, item_id, size, mtime_ns))
            db.executemany("INSERT OR IGNORE INTO tags VALUES (?,?)",
                           [(item_id, t) for t in tags])

    def unlink_files(self, paths: Iterable[str]) -> list[int]:
        """Forget paths; items no file holds any more are deleted. Returns the deleted ids."""
        paths = list(paths)
        with self._transaction() as db:
            touched = {r[0] for p in paths
                       for r in db.execute("SELECT item_id FROM files WHERE path=?", (p,))}
            db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in paths])
            orphans = [i for i in sorted(touched)
                       if not db.execute("SELECT 1 FROM files WHERE item_id=?", (i,)).fetchone()]
            db.executemany("DELETE FROM items WHERE id=?", [(i,) for i in orphans])
        return orphans

    def remove_items(self, ids: Iterable[int]) -> list[int]:
        ids = [int(i) for i in ids]
        with self._transaction() as db:
            found = [i for i in ids
                     if db.execute("SELECT 1 FROM items WHERE id=?", (i,)).fetchone()]
            db.executemany("DELETE FROM items WHERE id=?", [(i,) for i in found])
        return found

    def delete_orphans(self) -> list[int]:
        """Items no file holds (left by a crash between re-pointing a changed file and
        dropping its old content)."""
        with self._transaction() as db:
            orphans = [r[0] for r in db.execute(
                "SELECT id FROM items WHERE id NOT IN (SELECT item_id FROM files)")]
            db.executemany("DELETE FROM items WHERE id=?", [(i,) for i in orphans])
        return orphans

    def add_root(self, path: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO roots VALUES (?, ?)", (path, time.time()))

    def put_vectors(self, ids: Sequence[int], vectors: np.ndarray, space: str) -> None:
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)",
                           [(int(i), space, _blob(v)) for i, v in zip(ids, vectors)])

    def drop_space(self, space: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM vectors WHERE space=?", (space,))

    # ------------------------------------------------------------------ reads
    def file(self, path: str) -> FileRecord | None:
        rows = self._query("SELECT path, item_id, size, mtime_ns FROM files WHERE path=?",
                           (path,))
        return FileRecord(*rows[0]) if rows else None

    def files(self) -> list[FileRecord]:
        return [FileRecord(*r) for r in
                self._query("SELECT path, item_id, size, mtime_ns FROM files ORDER BY path")]

    def item_by_hash(self, digest: str) -> int | None:
        rows = self._query("SELECT id FROM items WHERE hash=?", (digest,))
        return int(rows[0][0]) if rows else None

    def items(self, ids: Iterable[int] | None = None, *, modality: str | None = None,
              tag: str | None = None, limit: int | None = None) -> list[Item]:
        where, args = [], []
        if ids is not None:
            ids = [int(i) for i in ids]
            if not ids:
                return []
            where.append(f"i.id IN ({','.join('?' * len(ids))})")
            args += ids
        if modality:
            where.append("i.modality=?")
            args.append(modality)
        if tag:
            where.append("EXISTS (SELECT 1 FROM tags t WHERE t.item_id=i.id AND t.tag=?)")
            args.append(tag)
        sql = ("SELECT i.id, i.hash, i.modality, i.size, i.added, i.preview, "
               "(SELECT group_concat(path, char(0)) FROM "
               " (SELECT path FROM files f WHERE f.item_id=i.id ORDER BY rowid)), "
               "(SELECT group_concat(tag, char(0)) FROM "
               " (SELECT tag FROM tags t WHERE t.item_id=i.id ORDER BY tag)) "
               "FROM items i" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY i.id" + (f" LIMIT {int(limit)}" if limit else ""))
        out = []
        for row in self._query(sql, args):
            paths = tuple(row[6].split("\0")) if row[6] else ()
            tags = tuple(row[7].split("\0")) if row[7] else ()
            out.append(Item(row[0], row[1], row[2], row[3], row[4], row[5],
                            paths[0] if paths else "", paths, tags))
        return out

    def ids(self, *, modalities: Sequence[str] | None = None, tags: Sequence[str] = ()
            ) -> set[int]:
        sql, args = "SELECT id FROM items i WHERE 1", []
        if modalities is not None:
            sql += f" AND modality IN ({','.join('?' * len(modalities))})"
            args += list(modalities)
        for tag in tags:
            sql += " AND EXISTS (SELECT 1 FROM tags t WHERE t.item_id=i.id AND t.tag=?)"
            args.append(tag)
        return {r[0] for r in self._query(sql, args)}

    def ids_with_vector(self, space: str) -> set[int]:
        return {r[0] for r in self._query("SELECT item_id FROM vectors WHERE space=?", (space,))}

    def vectors(self, ids: Sequence[int], space: str, dim: int) -> np.ndarray:
        """Vectors of `ids` in `space`, in the order asked (each must exist)."""
        out = np.empty((len(ids), dim), np.float32)
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start:start + 500]]
            rows = dict(self._query(
                f"SELECT item_id, vector FROM vectors WHERE space=? AND item_id IN "
                f"({','.join('?' * len(chunk))})", [space, *chunk]))
            for j, item_id in enumerate(chunk):
                if item_id not in rows:
                    raise LibraryError(f"item {item_id} has no vector in {space}",
                                       path=self.path)
                out[start + j] = np.frombuffer(rows[item_id], np.float32)
        return out

    def modalities(self) -> dict[str, int]:
        return dict(self._query("SELECT modality, count(*) FROM items GROUP BY modality"))

    def roots(self) -> list[str]:
        return [r[0] for r in self._query("SELECT path FROM roots ORDER BY path")]

    def iter_ids(self, space: str, batch: int = 2000) -> Iterator[list[int]]:
        last = -1
        while True:
            rows = self._query("SELECT item_id FROM vectors WHERE space=? AND item_id>? "
                               "ORDER BY item_id LIMIT ?", (space, last, batch))
            if not rows:
                return
            yield [r[0] for r in rows]
            last = rows[-1][0]

    def stats(self) -> dict:
        (count, size), = self._query("SELECT count(*), coalesce(sum(size), 0) FROM items")
        (files,), = self._query("SELECT count(*) FROM files")
        return {"items": count, "files": files, "bytes": size, "modalities": self.modalities(),
                "tags": dict(self._query("SELECT tag, count(*) FROM tags GROUP BY tag"))}


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()
