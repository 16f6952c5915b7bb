"""How a continual sequence is scored, as in the CMCL paper: after every step, each pair seen so
far is retrieved on held-out items in both directions (R@1/5/10, mAP, by concept); forgetting
is each earlier pair's drop from its best, plasticity a new pair's R@1 right after its step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.continual.maps import Maps
from core.evaluation.metrics import retrieval_scores

KEYS = ("R@1", "R@5", "R@10", "mAP")


@dataclass(frozen=True)
class Probe:
    """A pair to score: two modalities on the held-out items of some concepts (all if None)."""

    name: str
    m1: str
    m2: str
    concepts: tuple[int, ...] | None = None
    sets: tuple[str, str] | None = None  # held-out sets to use, if not named by the modalities


HeldOut = dict[str, tuple[np.ndarray, np.ndarray]]  # modality -> (vectors, concept labels)


@torch.no_grad()
def score(maps: Maps, held_out: HeldOut, probe: Probe) -> dict[str, float]:
    """Both directions' scores and their means (the keys of KEYS, plus "a→b: R@1" etc.)."""
    sides = []
    for m, key in zip((probe.m1, probe.m2), probe.sets or (probe.m1, probe.m2), strict=True):
        vectors, labels = held_out[key]
        if probe.concepts is not None:
            keep = np.isin(labels, probe.concepts)
            vectors, labels = vectors[keep], labels[keep]
        mapped = maps(m, torch.from_numpy(np.ascontiguousarray(vectors, np.float32))).numpy()
        sides.append((mapped, labels))
    (v1, l1), (v2, l2) = sides
    forward = retrieval_scores(v1, l1, v2, l2)
    backward = retrieval_scores(v2, l2, v1, l1)
    out = {k: (forward[k] + backward[k]) / 2 for k in KEYS}
    out |= {f"{probe.m1}→{probe.m2} {k}": forward[k] for k in KEYS}
    out |= {f"{probe.m2}→{probe.m1} {k}": backward[k] for k in KEYS}
    return out


def forgetting(matrix: np.ndarray, learned_at: list[int]) -> list[float]:
    """For each pair learned before the last step: its best R@1 from right after its step on,
    minus its R@1 at the end. `matrix[t, j]`: pair j after step t (row 0 = before step 1);
    `learned_at[j]`: the step (1-based) that brought pair j."""
    last = len(matrix) - 1
    return [float(matrix[t:, j].max() - matrix[last, j])
            for j, t in enumerate(learned_at) if t < last]


def plasticity(matrix: np.ndarray, learned_at: list[int]) -> list[float]:
    """Each pair's R@1 right after the step that brought it."""
    return [float(matrix[t, j]) for j, t in enumerate(learned_at)]
