"""The Ex-MCR projector of one leaf space, with the official module names so that the published
`ex_clap.pt` / `ex_ulip.pt` state dicts load into it unchanged.

Head1 (linear, identity at start) applies only to the leaf-only modality (audio, 3D); Head2 (two
residual-free MLP blocks with BatchNorm, then L2 normalisation) maps the leaf space into the base
space for both leaf modalities. Use it in eval mode at inference (BatchNorm)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MLPBlock(nn.Module):
    def __init__(self, dim: int = 512, expansion: int = 2) -> None:
        super().__init__()
        hidden = dim * expansion
        self.net1 = nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        self.net2 = nn.Sequential(nn.Linear(hidden, dim), nn.BatchNorm1d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net2(self.net1(x))


class Projector(nn.Module):
    def __init__(self, dim: int = 512, expansion: int = 2) -> None:
        super().__init__()
        self.mlp1 = MLPBlock(dim, expansion)
        self.mlp2 = MLPBlock(dim, expansion)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp2(self.mlp1(x)), dim=-1)


class ExMCRHead(nn.Module):
    def __init__(self, dim: int = 512, expansion: int = 2) -> None:
        super().__init__()
        self.Head1 = nn.Linear(dim, dim)
        nn.init.eye_(self.Head1.weight)
        nn.init.zeros_(self.Head1.bias)
        self.Head2 = Projector(dim, expansion)

    def leaf_only(self, x: torch.Tensor) -> torch.Tensor:
        """Audio (CLAP) or 3D (ULIP) embeddings into the base space."""
        return self.Head2(self.Head1(x))

    def overlap(self, x: torch.Tensor) -> torch.Tensor:
        """The leaf's overlapping modality (CLAP text, ULIP image/text) into the base space."""
        return self.Head2(x)
