"""Batched aggregation equals a naive per-item loop; the centres keep their own embeddings."""

import numpy as np
import torch

from core.alignment.pseudo_pairs import Pools, aggregate


def _unit(rng, n, d):
    v = rng.normal(size=(n, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _pool_of(query, keys, values, tau):
    s = keys @ query / tau
    w = np.exp(s - s.max())
    w /= w.sum()
    out = w @ values
    return out / np.linalg.norm(out)


def _naive(x, o_leaf, o_base, y, tau):
    rows = []
    for q in x:
        ol, ob = _pool_of(q, o_leaf, o_leaf, tau), _pool_of(q, o_leaf, o_base, tau)
        rows.append((q, ol, ob, _pool_of(ob, y, y, tau)))
    for i in range(len(o_leaf)):
        rows.append((_pool_of(o_leaf[i], x, x, tau), o_leaf[i], o_base[i],
                     _pool_of(o_base[i], y, y, tau)))
    for q in y:
        ob, ol = _pool_of(q, o_base, o_base, tau), _pool_of(q, o_base, o_leaf, tau)
        rows.append((_pool_of(ol, x, x, tau), ol, ob, q))
    return [np.stack(col) for col in zip(*rows)]


def test_batched_aggregation_equals_a_naive_loop():
    rng = np.random.default_rng(0)
    x, o_leaf, o_base, y = _unit(rng, 5, 6), _unit(rng, 7, 6), _unit(rng, 7, 4), _unit(rng, 3, 4)
    tuples = aggregate(Pools(*(torch.tensor(a) for a in (x, o_leaf, o_base, y))), tau=0.2,
                       chunk=2)
    expected = _naive(x, o_leaf, o_base, y, 0.2)
    got = [tuples.leaf_only, tuples.overlap_leaf, tuples.overlap_base, tuples.base_other]
    for g, e in zip(got, expected):
        assert np.allclose(g.double().numpy(), e, atol=1e-5)
    assert tuples.centre.tolist() == [0] * 5 + [1] * 7 + [2] * 3 and len(tuples) == 15


def test_low_temperature_picks_the_nearest_neighbour():
    o_leaf = torch.eye(3)
    o_base = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    x = torch.tensor([[0.9, 0.1, 0.0]])
    tuples = aggregate(Pools(x, o_leaf, o_base, torch.eye(2)), tau=1e-3)
    assert torch.allclose(tuples.overlap_base[0], o_base[0], atol=1e-4)
