"""The C-MCR baseline (arXiv 2305.14381): both spaces are projected into a new space, so, unlike
Ex-MCR, the base embeddings change. Pseudo-pairs are text-centric only (the overlap-centric part
of the aggregation); semantic enhancement adds Gaussian noise to the inputs during training."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.alignment.exmcr import HeadTraining, train_projector
from core.alignment.heads import Projector
from core.alignment.losses import info_nce
from core.alignment.pseudo_pairs import Tuples
from core.progress import CancelFn, ProgressFn

NOISE = 0.05  # semantic enhancement: std of the noise added before re-normalising
INTRA_WEIGHT = 0.1


class CMCRProjectors(nn.Module):
    def __init__(self, dim: int = 512) -> None:
        super().__init__()
        self.leaf = Projector(dim)
        self.base = Projector(dim)


def _enhance(x: torch.Tensor, training: bool) -> torch.Tensor:
    if not training:
        return x
    return F.normalize(x + NOISE * torch.randn_like(x), dim=-1)


def cmcr_loss(model: CMCRProjectors, batch: Tuples, settings: HeadTraining) -> torch.Tensor:
    leaf_only = model.leaf(_enhance(batch.leaf_only, model.training))
    leaf_overlap = model.leaf(_enhance(batch.overlap_leaf, model.training))
    base_overlap = model.base(_enhance(batch.overlap_base, model.training))
    base_other = model.base(_enhance(batch.base_other, model.training))
    inter = (info_nce(leaf_overlap, base_overlap, settings.temperature)
             + info_nce(leaf_only, base_other, settings.temperature)) / 2
    intra = ((leaf_only - leaf_overlap).pow(2).sum(-1).mean()
             + (base_other - base_overlap).pow(2).sum(-1).mean()) / 2
    return inter + INTRA_WEIGHT * intra


def train_cmcr(tuples: Tuples, settings: HeadTraining | None = None, *,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None
               ) -> tuple[CMCRProjectors, list[float]]:
    """Train on the text-centric tuples only (C-MCR's own pseudo-pairs)."""
    settings = settings or HeadTraining()
    torch.manual_seed(settings.seed)
    text_centric = tuples.centre == 1
    only = Tuples(*(t[text_centric] for t in (tuples.leaf_only, tuples.overlap_leaf,
                                               tuples.overlap_base, tuples.base_other,
                                               tuples.centre)))
    model = CMCRProjectors(tuples.leaf_only.shape[1])
    return train_projector(model, only, cmcr_loss, settings, progress, cancel)
