"""The C-MCR baseline (arXiv 2305.14381): both spaces are projected into a new space, so, unlike
Ex-MCR, the base embeddings change. Pseudo-pairs are text-centric only (the overlap-centric part
of the aggregation); semantic enhancement adds Gaussian noise to the inputs during training."""

from __future__ import annotations

from pathlib import Path

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
    """A leaf projector and a base projector into C-MCR's new space. A second leaf joins the
    space of the first by reusing its base projector, frozen (`base`), so that every modality
    of both leaves lands in one space (how 3D<->audio is measured for C-MCR)."""

    def __init__(self, dim: int = 512, base: Projector | None = None) -> None:
        super().__init__()
        self.leaf = Projector(dim)
        self.shared_base = base is not None
        self.base = base if base is not None else Projector(dim)
        if self.shared_base:
            self.base.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.shared_base:
            self.base.eval()  # frozen: its BatchNorm statistics stay as trained
        return self


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
               base: Projector | None = None, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None, checkpoint: str | Path | None = None
               ) -> tuple[CMCRProjectors, list[float]]:
    """Train on the overlap-centric tuples only (C-MCR's own pseudo-pairs); `base`: another
    leaf's trained base projector to share, frozen."""
    settings = settings or HeadTraining()
    torch.manual_seed(settings.seed)
    text_centric = tuples.centre == 1
    only = Tuples(*(t[text_centric] for t in (tuples.leaf_only, tuples.overlap_leaf,
                                               tuples.overlap_base, tuples.base_other,
                                               tuples.centre)))
    model = CMCRProjectors(tuples.leaf_only.shape[1], base)
    return train_projector(model, only, cmcr_loss, settings, progress, cancel, checkpoint)
