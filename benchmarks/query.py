"""One query from a file to ranked results (decode, preprocess, forward, the per-modality
searches the app issues, the result rows with previews) against its bare core: one encoder
forward on the pre-decoded item plus one index search, on the same files, in one run.

    python benchmarks/query.py [--quick]

Library: the demo pack over a mixed folder of demo-world files (180 with --quick, 900
otherwise); queries: files of every modality. Target (issue #6): end to end <= 1.3x the bare
core."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import numpy as np
from _common import report
from _plant import demo_models, media_files, mixed_folder

from core.encoders.pipeline import decoder_for
from core.library import search as s
from core.library.ingest import ingest
from core.library.library import Library

K = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    models = demo_models()
    per_modality = 20 if args.quick else 60
    with tempfile.TemporaryDirectory() as tmp:
        folder = mixed_folder(Path(tmp), args.quick)
        library = Library.open(Path(tmp) / "lib", space=models.pack.ref,
                               dim=models.pack.manifest.dim)
        ingest(library, models, [folder])
        queries = [p for paths in media_files(folder).values() for p in paths[:per_modality]]
        core_s, full_s = [], []
        for path in queries:  # warm every encoder first
            s.search(library, s.file_query(models, path), k=K)
        for path in queries:
            encoder = models.encoder(s.file_query(models, path).modality)
            item = encoder.preprocess(decoder_for(encoder)(path))
            started = time.perf_counter()
            vector = encoder.forward(encoder.collate([item])).numpy()[0]
            library.index.search(vector[None], K)
            core_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            hits = s.search(library, s.file_query(models, path), k=K)
            full_s.append(time.perf_counter() - started)
            assert len(hits) == 3 * K
        library.close()
    core, full = float(np.median(core_s)), float(np.median(full_s))
    report({"queries": len(queries), "k_per_modality": K,
            "query_ms_median": full * 1e3, "core_ms_median": core * 1e3,
            "query_vs_core_ratio": full / core,
            "query_ms_p90": float(np.percentile(full_s, 90)) * 1e3})


if __name__ == "__main__":
    main()
