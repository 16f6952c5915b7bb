"""Metric functions against values computed by hand on small cases."""

import numpy as np
import pytest

from core.evaluation.metrics import (
    mean_average_precision,
    rank,
    recall_at_k,
    relevance,
    retrieval_scores,
)


def test_rank_orders_by_cosine():
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    queries = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert rank(queries, gallery).tolist() == [[0, 2, 1], [1, 2, 0]]


def test_recall_counts_a_query_once_it_has_any_hit_in_the_top_k():
    relevant = np.array([[False, True, False], [False, False, False], [True, True, False]])
    assert recall_at_k(relevant, 1) == pytest.approx(1 / 3)
    assert recall_at_k(relevant, 2) == pytest.approx(2 / 3)


def test_average_precision_by_hand():
    # query 1: hits at ranks 1 and 3 -> (1/1 + 2/3) / 2 = 5/6
    # query 2: hit at rank 2 only -> 1/2
    relevant = np.array([[True, False, True, False], [False, True, False, False]])
    assert mean_average_precision(relevant) == pytest.approx((5 / 6 + 1 / 2) / 2)


def test_queries_without_any_relevant_item_are_left_out_of_map():
    relevant = np.array([[True, False], [False, False]])
    assert mean_average_precision(relevant) == 1.0


def test_retrieval_scores_on_a_labelled_toy_gallery():
    gallery = np.eye(4)
    gallery_labels = np.array([0, 0, 1, 1])
    queries = np.array([[0.9, 0.1, 0.3, 0.0], [0.0, 0.0, 0.1, 1.0]])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    # query 0 (label 1): ranking 0, 2, 1, 3 -> first hit at rank 2; AP = (1/2 + 2/4) / 2
    # query 1 (label 1): ranking 3, 2, ... -> hits at 1 and 2; AP = 1
    scores = retrieval_scores(queries, np.array([1, 1]), gallery, gallery_labels)
    assert scores["R@1"] == 0.5 and scores["R@5"] == 1.0
    assert scores["mAP"] == pytest.approx(((1 / 2 + 2 / 4) / 2 + 1) / 2)
    assert relevance(rank(queries, gallery), np.array([1, 1]), gallery_labels).shape == (2, 4)
