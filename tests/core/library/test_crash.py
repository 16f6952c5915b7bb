"""Crash safety and concurrency: an ingest killed with SIGKILL at random points loses nothing it
committed and duplicates nothing, the next run resumes; searches while an ingest runs (another
process, or another thread of the same one) get results and corrupt nothing."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.library import search as s
from core.library.ingest import ingest
from core.library.library import Library

ROOT = Path(__file__).resolve().parents[3]


def committed(folder: Path) -> int:
    try:
        with sqlite3.connect(f"file:{folder / 'catalogue.sqlite'}?mode=ro", uri=True,
                             timeout=5) as db:
            return db.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet


def check_consistent(folder: Path, seen: set[str]) -> set[str]:
    """Open as the next run would; catalogue and index agree, nothing seen before is lost,
    no content twice."""
    with Library.open(folder, write=True) as lib:
        items = lib.catalogue.items()
        hashes = {i.hash for i in items}
        assert len(hashes) == len(items)
        assert seen <= hashes, "a committed item was lost"
        assert set(lib.index.ids()) == {i.id for i in items} == lib.catalogue.ids_with_vector(
            lib.space)
        assert lib.catalogue.stats()["files"] == len(items)  # the plant files are all distinct
        return hashes


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_duplicates_nothing(plant_copy, tmp_path,
                                                               demo_models):
    files = plant_copy()  # 180 files
    library = tmp_path / "lib"
    command = [sys.executable, "-m", "core.cli.main", "library", "add", str(files),
               "--library", str(library), "--device", "cpu"]
    rng = random.Random(6)
    seen: set[str] = set()
    reader_hits, mid_run = 0, 0
    for kill_at in sorted(rng.sample(range(4, 160), 4)):
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while committed(library) < kill_at and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if proc.poll() is None and committed(library) > 0:  # a reader while it writes
            with Library.open(library, write=False) as reader:
                query = reader.catalogue.vectors([reader.catalogue.items()[0].id],
                                                 reader.space, reader.dim)[0]
                reader_hits += len(reader.search(query, 5))
        time.sleep(rng.uniform(0, 0.1))
        mid_run += proc.poll() is None and 0 < committed(library) < 180
        proc.kill()
        proc.wait()
        seen = check_consistent(library, seen)
    assert reader_hits > 0 and mid_run >= 3
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{180 - len(seen)} indexed" in done.stdout
    assert f"{len(seen)} unchanged" in done.stdout
    assert len(check_consistent(library, seen)) == 180


def test_searching_while_an_ingest_runs_in_another_thread(plant_copy, new_library,
                                                          demo_models):
    files = plant_copy(20)
    lib = new_library()
    query = s.text_query(demo_models, "a pump running normally")
    finished, errors, sizes = threading.Event(), [], []

    def run():
        try:
            ingest(lib, demo_models, [files], batch_size=4)
        except Exception as err:  # reported below
            errors.append(err)
        finally:
            finished.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not finished.is_set():
        if lib.count():
            hits = s.search(lib, query, k=5)
            assert all(h.path.startswith(str(files)) for h in hits)
            sizes.append(lib.count())
        time.sleep(0.01)
    worker.join()
    assert not errors and lib.count() == 60
    assert len(set(sizes)) > 2  # the searches really ran while the library grew
    ids = sorted(lib.catalogue.ids())
    vectors = lib.catalogue.vectors(ids, lib.space, lib.dim)
    assert [lib.search(v, 1)[0][0] for v in vectors] == ids  # every item finds itself
    lib.close()
    with Library.open(lib.folder, write=False) as again:
        assert again.repairs == [] and again.count() == 60
