"""The HNSW index against exact numpy search on the same vectors and queries, in one run:
recall@10, queries/s one query at a time (as the app issues them) and batched, build time, and
the index's bytes against the raw float32 vectors.

    python benchmarks/index.py [--quick]

Vectors: clustered synthetic unit vectors, 512-d (100k; 20k with --quick), and the demo
library (the demo pack over the demo world's plant files: `demo_` figures, every item a
query). Targets (issue #6): recall@10 >= 0.98 at >= 20x the exact search's queries/s; index
size <= 1.3x raw."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import numpy as np
from _common import report

from core.index.hnsw import HnswIndex

DIM = 512


def clustered(n: int, seed: int, clusters: int = 1000) -> np.ndarray:
    centres = np.random.default_rng(7).standard_normal((clusters, DIM))
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(clusters, size=n)] + 0.8 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def demo_library(quick: bool) -> dict:
    from _plant import demo_models, mixed_folder

    from core.library.ingest import ingest
    from core.library.library import Library

    models = demo_models()
    with tempfile.TemporaryDirectory() as tmp:
        folder = mixed_folder(Path(tmp), quick)
        lib = Library.open(Path(tmp) / "lib", space=models.pack.ref,
                           dim=models.pack.manifest.dim)
        ingest(lib, models, [folder])
        ids = np.array(sorted(lib.index.ids()))
        vectors = lib.index.vectors(ids)
        started = time.perf_counter()
        found = [[i for i, _ in lib.search(q, 10)] for q in vectors]
        library_qps = len(ids) / (time.perf_counter() - started)
        lib.close()
    started = time.perf_counter()
    truth = [ids[row] for q in vectors for row in exact(vectors, q[None], 10)]
    exact_qps = len(ids) / (time.perf_counter() - started)
    return {"demo_items": len(ids),
            "demo_recall_at_10": float(np.mean([len(set(f) & set(t)) / 10
                                                for f, t in zip(found, truth)])),
            "demo_single_query_speedup": library_qps / exact_qps}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, n_queries = (20_000, 200) if args.quick else (100_000, 500)
    vectors, queries = clustered(n, 0), clustered(n_queries, 1)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = HnswIndex(Path(tmp), DIM)
        index.add(np.arange(n), vectors)
        build_s = time.perf_counter() - started
        index.save()
        index_bytes = sum(p.stat().st_size for p in Path(tmp).iterdir())

        started = time.perf_counter()
        found = np.concatenate([index.search(q[None], 10)[0] for q in queries])
        hnsw_single_qps = n_queries / (time.perf_counter() - started)
        started = time.perf_counter()
        index.search(queries, 10)
        hnsw_batch_qps = n_queries / (time.perf_counter() - started)

    started = time.perf_counter()
    truth = np.concatenate([exact(vectors, q[None], 10) for q in queries])
    exact_single_qps = n_queries / (time.perf_counter() - started)
    started = time.perf_counter()
    exact(vectors, queries, 10)
    exact_batch_qps = n_queries / (time.perf_counter() - started)

    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    report({
        "vectors": n, "dim": DIM, "queries": n_queries,
        "recall_at_10": recall,
        "build_s": build_s,
        "hnsw_single_qps": hnsw_single_qps, "exact_single_qps": exact_single_qps,
        "single_query_speedup": hnsw_single_qps / exact_single_qps,
        "hnsw_batch_qps": hnsw_batch_qps, "exact_batch_qps": exact_batch_qps,
        "batch_speedup": hnsw_batch_qps / exact_batch_qps,
        "index_bytes": index_bytes, "raw_bytes": vectors.nbytes,
        "index_size_ratio": index_bytes / vectors.nbytes,
        **demo_library(args.quick),
    })


if __name__ == "__main__":
    main()
