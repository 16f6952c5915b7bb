"""Ex-MCR's modality-centric pseudo-pairs, built from unpaired pools by softmax aggregation.

A leaf space shares one modality with the base space (the *overlap*, O: text for CLAP, image for
ULIP) and has one of its own (the *leaf-only* modality, X: audio, 3D); the base has another
(Y: image or text). Pools: X embedded by the leaf; O embedded by both the leaf and the base;
Y embedded by the base. From every modality as centre, each item finds its semantic
neighbours in the other pools, within the space that sees both, and aggregates them with
softmax weights (temperature `tau` on cosine scores):

- X-centric:  x -> O (leaf space) -> (leaf O, base O with the same weights) -> Y (base space)
- O-centric:  o -> X (leaf space) and o -> Y (base space)
- Y-centric:  y -> O (base space) -> (base O, leaf O with the same weights) -> X (leaf space)

Each tuple is (leaf X, leaf O, base O, base Y); the three sets are concatenated. Every step is
two matrix products per pool pair (scores, then weighted sums), in row chunks to bound memory."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Pools:
    leaf_only: torch.Tensor  # X in the leaf space [Nx, Dl]
    overlap_leaf: torch.Tensor  # O in the leaf space [No, Dl]
    overlap_base: torch.Tensor  # the same O items in the base space [No, Db]
    base_other: torch.Tensor  # Y in the base space [Ny, Db]


@dataclass(frozen=True)
class Tuples:
    leaf_only: torch.Tensor
    overlap_leaf: torch.Tensor
    overlap_base: torch.Tensor
    base_other: torch.Tensor
    centre: torch.Tensor  # 0: X-centric, 1: O-centric, 2: Y-centric

    def __len__(self) -> int:
        return len(self.centre)


def soft_neighbours(queries: torch.Tensor, keys: torch.Tensor, values: list[torch.Tensor],
                    tau: float, chunk: int = 4096) -> list[torch.Tensor]:
    """For each query: softmax(query . keys / tau) applied to each of `values` (rows aligned
    with `keys`), re-normalised to unit length."""
    out = [torch.empty(len(queries), v.shape[1], dtype=v.dtype) for v in values]
    for start in range(0, len(queries), chunk):
        weights = queries[start:start + chunk] @ keys.T  # softmax in place: no extra copies
        weights.mul_(1.0 / tau).sub_(weights.amax(dim=1, keepdim=True)).exp_()
        weights.div_(weights.sum(dim=1, keepdim=True))
        for target, value in zip(out, values):
            target[start:start + chunk] = F.normalize(weights @ value, dim=-1)
        del weights
    return out


@torch.no_grad()
def aggregate(pools: Pools, tau: float = 0.01, chunk: int = 4096) -> Tuples:
    x, o_leaf, o_base, y = (F.normalize(t.float(), dim=-1) for t in (
        pools.leaf_only, pools.overlap_leaf, pools.overlap_base, pools.base_other))
    # X-centric
    x_o_leaf, x_o_base = soft_neighbours(x, o_leaf, [o_leaf, o_base], tau, chunk)
    (x_y,) = soft_neighbours(x_o_base, y, [y], tau, chunk)
    # O-centric
    (o_x,) = soft_neighbours(o_leaf, x, [x], tau, chunk)
    (o_y,) = soft_neighbours(o_base, y, [y], tau, chunk)
    # Y-centric
    y_o_base, y_o_leaf = soft_neighbours(y, o_base, [o_base, o_leaf], tau, chunk)
    (y_x,) = soft_neighbours(y_o_leaf, x, [x], tau, chunk)
    centre = torch.cat([torch.full((len(t),), i) for i, t in enumerate((x, o_leaf, y))])
    return Tuples(
        leaf_only=torch.cat([x, o_x, y_x]),
        overlap_leaf=torch.cat([x_o_leaf, o_leaf, y_o_leaf]),
        overlap_base=torch.cat([x_o_base, o_base, y_o_base]),
        base_other=torch.cat([x_y, o_y, y]),
        centre=centre,
    )


@torch.no_grad()
def oracle_tuples(pools: Pools, labels: dict[str, torch.Tensor], seed: int = 0) -> Tuples:
    """The paired oracle's tuples: each leaf-only item with a random overlap item and a random
    base item *of its own concept* (ground truth the real method never sees). Measures the
    ceiling only; it is never shipped. `labels`: "leaf_only", "overlap", "base_other"."""
    g = torch.Generator().manual_seed(seed)
    x_labels = labels["leaf_only"]

    def partner(pool_labels: torch.Tensor) -> torch.Tensor:
        picks = torch.empty(len(x_labels), dtype=torch.long)
        for concept in x_labels.unique():
            where = (x_labels == concept).nonzero().squeeze(1)
            options = (pool_labels == concept).nonzero().squeeze(1)
            picks[where] = options[torch.randint(len(options), (len(where),), generator=g)]
        return picks

    o, y = partner(labels["overlap"]), partner(labels["base_other"])
    norm = [F.normalize(t.float(), dim=-1) for t in (pools.leaf_only, pools.overlap_leaf,
                                                     pools.overlap_base, pools.base_other)]
    return Tuples(norm[0], norm[1][o], norm[2][o], norm[3][y],
                  torch.zeros(len(x_labels), dtype=torch.long))
