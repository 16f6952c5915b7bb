"""Retrieval metrics by concept label: a query is answered when a result shares its concept.

`recall_at_k`: the share of queries with at least one relevant item among their top k.
`mean_average_precision`: the mean over queries of the average precision of the full ranking,
with every gallery item of the query's concept relevant."""

from __future__ import annotations

import numpy as np


def rank(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Gallery indices for each query, best (highest cosine) first. Rows are L2-normalised."""
    scores = queries @ gallery.T
    return np.argsort(-scores, axis=1, kind="stable")


def relevance(ranking: np.ndarray, query_labels: np.ndarray,
              gallery_labels: np.ndarray) -> np.ndarray:
    """Boolean [Q, G]: is the item at each rank of the query's concept."""
    return gallery_labels[ranking] == query_labels[:, None]


def recall_at_k(relevant: np.ndarray, k: int) -> float:
    return float(relevant[:, :k].any(axis=1).mean())


def mean_average_precision(relevant: np.ndarray) -> float:
    hits = np.cumsum(relevant, axis=1)
    ranks = np.arange(1, relevant.shape[1] + 1)
    precision_at_hits = np.where(relevant, hits / ranks, 0.0)
    totals = relevant.sum(axis=1)
    ap = precision_at_hits.sum(axis=1) / np.maximum(totals, 1)
    return float(ap[totals > 0].mean()) if (totals > 0).any() else 0.0


def retrieval_scores(queries: np.ndarray, query_labels: np.ndarray, gallery: np.ndarray,
                     gallery_labels: np.ndarray, ks=(1, 5, 10)) -> dict[str, float]:
    """{"R@1", "R@5", "R@10", "mAP"} of queries against a gallery, by concept label."""
    relevant = relevance(rank(queries, gallery), np.asarray(query_labels),
                         np.asarray(gallery_labels))
    scores = {f"R@{k}": recall_at_k(relevant, k) for k in ks}
    scores["mAP"] = mean_average_precision(relevant)
    return scores
