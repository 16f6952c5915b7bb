"""Contrastive losses shared by the alignment methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float | torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between row-aligned L2-normalised batches: row i of `a` and row i of
    `b` are positives, every other row a negative."""
    logits = a @ b.T / temperature
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def cosine_gap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cos(a_i, b_i)."""
    return (1 - F.cosine_similarity(a, b, dim=-1)).mean()
