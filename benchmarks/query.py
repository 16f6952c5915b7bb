"""One query from a file to ranked results (decode, preprocess, forward, the per-modality
searches the app issues, the result rows with previews) against its bare core: one encoder
forward on the pre-decoded item plus one index search, on the same files, in one run.

    python benchmarks/query.py [--quick]

Library: the demo pack over a mixed folder of demo-world files (180 with --quick, 900
otherwise); queries: files of every modality. Target (issue #6): end to end <= 1.3x the bare
core.

The demo pack's forward takes about 1 ms, so its queries are bound by decoding the file, which
the bare core leaves out. `--real` measures the same path with the real pack's architectures
(random weights, one library per modality as in benchmarks/ingest.py --real)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import numpy as np
from _common import report
from _plant import demo_models, media_files, mixed_folder, parse_args

from core.encoders.pipeline import decoder_for
from core.library import search as s
from core.library.ingest import ingest
from core.library.library import Library

K = 10


def timed(models, library, path, per_modality: int) -> tuple[float, float]:
    """(bare core seconds, end-to-end seconds) of one query."""
    encoder = models.encoder(s.file_query(models, path).modality)
    item = encoder.preprocess(decoder_for(encoder)(path))
    started = time.perf_counter()
    vector = encoder.forward(encoder.collate([item])).numpy()[0]
    library.index.search(vector[None], K)
    core = time.perf_counter() - started
    started = time.perf_counter()
    hits = s.search(library, s.file_query(models, path), k=K)
    full = time.perf_counter() - started
    assert len(hits) == per_modality * min(K, library.count())
    return core, full


def real(args) -> dict:
    from _plant import OneEncoder
    from encode import make_encoders

    count = 8 if args.quick else 24
    figures, cores, fulls = {}, [], []
    with tempfile.TemporaryDirectory() as tmp:
        files = media_files(mixed_folder(Path(tmp), True))
        for name, encoder in make_encoders(Path(tmp)).items():
            models = OneEncoder(name, encoder)
            paths = files[encoder.modality][:count]
            library = Library.open(Path(tmp) / name, space=models.pack.ref, dim=encoder.dim)
            ingest(library, models, paths, batch_size=4)
            s.search(library, s.file_query(models, paths[0]), k=K)  # warm-up
            pairs = [timed(models, library, p, 1) for p in paths]
            library.close()
            core = float(np.median([c for c, _ in pairs]))
            full = float(np.median([f for _, f in pairs]))
            figures[f"{name}_query_vs_core_ratio"] = full / core
            cores.append(core)
            fulls.append(full)
    figures.update(encoders="real architectures (random weights)",
                   query_vs_core_ratio=sum(fulls) / sum(cores))
    return figures


def main() -> None:
    args = parse_args()
    if args.real:
        report(real(args))
        return
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
            core, full = timed(models, library, path, 3)
            core_s.append(core)
            full_s.append(full)
        library.close()
    core, full = float(np.median(core_s)), float(np.median(full_s))
    report({"encoders": "demo pack", "queries": len(queries), "k_per_modality": K,
            "query_ms_median": full * 1e3, "core_ms_median": core * 1e3,
            "query_vs_core_ratio": full / core,
            "query_ms_p90": float(np.percentile(full_s, 90)) * 1e3})


if __name__ == "__main__":
    main()
