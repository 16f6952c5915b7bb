"""Contrastive losses shared by the alignment methods and the continual extension."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float | torch.Tensor,
             groups: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE between row-aligned L2-normalised batches: row i of `a` and row i of
    `b` are positives, every other row a negative. With `groups` [N] (a concept per row), rows
    of the same group are not used as each other's negatives."""
    logits = a @ b.T / temperature
    if groups is not None:
        same = groups[None, :] == groups[:, None]
        same &= ~torch.eye(len(a), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(same, -torch.inf)
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def cosine_gap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cos(a_i, b_i)."""
    return (1 - F.cosine_similarity(a, b, dim=-1)).mean()
