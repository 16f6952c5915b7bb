"""The trainable part of a continual extension: one d×d linear map per modality on top of the
pack's (frozen) embeddings, initialised to the identity, without bias so that a library
re-indexes by one matrix product per modality."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Maps(nn.Module):
    def __init__(self, dim: int, modalities=()) -> None:
        super().__init__()
        self.dim = dim
        self.weights = nn.ParameterDict()
        for m in modalities:
            self.ensure(m)

    def ensure(self, modality: str) -> nn.Parameter:
        key = _key(modality)
        if key not in self.weights:
            self.weights[key] = nn.Parameter(torch.eye(self.dim))
        return self.weights[key]

    def weight(self, modality: str) -> torch.Tensor:
        key = _key(modality)
        return self.weights[key] if key in self.weights else torch.eye(self.dim)

    @property
    def modalities(self) -> list[str]:
        return sorted(_modality(k) for k in self.weights)

    def raw(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """W x for row vectors x [N, d] (an untrained modality keeps the identity)."""
        return x @ self.weight(modality).T

    def forward(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """The embedding in the extended space: W x, L2-normalised (cosine retrieval)."""
        return F.normalize(self.raw(modality, x), dim=-1)

    def matrices(self) -> dict[str, torch.Tensor]:
        return {m: self.weight(m).detach().clone() for m in self.modalities}

    @classmethod
    def from_matrices(cls, dim: int, matrices: dict[str, torch.Tensor]) -> Maps:
        maps = cls(dim)
        for m, w in matrices.items():
            maps.ensure(m).data.copy_(w.to(torch.float32))
        return maps

    def clone(self) -> Maps:
        return Maps.from_matrices(self.dim, self.matrices())


def _key(modality: str) -> str:
    return "m_" + modality  # ParameterDict keys may not start with a digit ("3d")


def _modality(key: str) -> str:
    return key[2:]
