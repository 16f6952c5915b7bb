"""Ex-MCR alignment cost: pseudo-pair construction and one head-training epoch, each against a
bare GEMM workload of the same shapes timed in the same run, and the peak memory of building
pseudo-pairs from pools of 100k items per modality (chunked, so it stays bounded).

    python benchmarks/align.py [--quick]

Pools are synthetic unit vectors (512-d as CLIP/CLAP). Figures: aggregate_ratio and
epoch_ratio (method / bare GEMMs; 1.0 means no overhead beyond the matrix products),
peak memory of the 100k aggregation and of its inputs."""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (puts the repo on sys.path)
import torch
import torch.nn.functional as F
from _common import peak_memory_mib, report, reset_peak_memory

from core.alignment.exmcr import HeadTraining, train_head
from core.alignment.pseudo_pairs import Pools, Tuples, aggregate

DIM = 512


def pools(n: int, seed: int = 0) -> Pools:
    g = torch.Generator().manual_seed(seed)
    return Pools(*(F.normalize(torch.randn(n, DIM, generator=g), dim=-1) for _ in range(4)))


def bare_aggregate(p: Pools, chunk: int = 4096) -> None:
    """The aggregation's matrix products alone, same shapes and chunking: six score GEMMs and
    nine weighted sums."""
    plan = [(p.leaf_only, p.overlap_leaf, 2), (p.leaf_only, p.base_other, 1),
            (p.overlap_leaf, p.leaf_only, 1), (p.overlap_base, p.base_other, 1),
            (p.base_other, p.overlap_base, 2), (p.base_other, p.leaf_only, 1)]
    for queries, keys, sums in plan:
        for start in range(0, len(queries), chunk):
            w = queries[start:start + chunk] @ keys.T
            for _ in range(sums):
                w @ keys


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def bare_epoch(t: Tuples, settings: HeadTraining) -> None:
    """The head's linear layers and the loss logits, forward and backward (two GEMMs each),
    for every batch of one epoch."""
    hidden = 2 * DIM
    weights = [torch.randn(DIM, DIM), torch.randn(DIM, hidden), torch.randn(hidden, DIM),
               torch.randn(DIM, hidden), torch.randn(hidden, DIM)]
    for start in range(0, len(t) - settings.batch_size + 1, settings.batch_size):
        x = t.leaf_only[start:start + settings.batch_size]
        for _ in range(3):  # forward, grad input, grad weight
            x @ weights[0]
            for _branch in range(2):  # leaf-only and overlap through Head2
                h = x
                for w in weights[1:]:
                    h = h @ w
                for _ in range(2):  # against both base embeddings
                    h @ x.T


def time_aggregate(n: int, repeats: int) -> tuple[float, float]:
    p = pools(n)
    return best_of(lambda: aggregate(p), repeats), best_of(lambda: bare_aggregate(p), repeats)


def time_epoch(n: int, repeats: int) -> tuple[int, float, float]:
    tuples = aggregate(pools(n, seed=1))
    settings = HeadTraining(epochs=1, batch_size=1024, warmup_steps=1)
    return (len(tuples), best_of(lambda: train_head(tuples, settings), repeats),
            best_of(lambda: bare_epoch(tuples, settings), repeats))


def aggregate_memory(n: int) -> float:
    """Peak MiB while making pools of `n` items and aggregating them, above the level before."""
    reset_peak_memory()
    start = peak_memory_mib()
    aggregate(pools(n, seed=2))
    return peak_memory_mib() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 5_000 if args.quick else 20_000
    repeats = 2

    big = 10_000 if args.quick else 100_000  # the full run takes about 25 min on 2 cores
    peak_mib = aggregate_memory(big)  # first, while the process is still small
    inputs_mib = 4 * big * DIM * 4 / 2**20  # four pools of float32 vectors
    outputs_mib = 3 * big * 4 * DIM * 4 / 2**20  # three centres, four embeddings each
    aggregate_s, bare_s = time_aggregate(n, repeats)
    epoch_tuples, epoch_s, bare_epoch_s = time_epoch(n // 2, repeats)
    report({
        "pool_items": n,
        "aggregate_s": aggregate_s,
        "aggregate_bare_gemm_s": bare_s,
        "aggregate_ratio": aggregate_s / bare_s,
        "epoch_tuples": epoch_tuples,
        "epoch_s": epoch_s,
        "epoch_bare_gemm_s": bare_epoch_s,
        "epoch_ratio": epoch_s / bare_epoch_s,
        "memory_pool_items": big,
        "memory_inputs_mib": inputs_mib,
        "memory_outputs_mib": outputs_mib,
        "memory_peak_mib": peak_mib,
        "memory_peak_over_inputs_and_outputs_ratio": peak_mib / (inputs_mib + outputs_mib),
        "threads": torch.get_num_threads(),
    })


if __name__ == "__main__":
    main()
