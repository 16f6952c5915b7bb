"""Synthetic spaces for alignment tests: concepts as random codes, a base space that sees them
directly and a leaf space that sees them through its own random rotation, with noise."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Spaces:
    pools: dict  # name -> (embeddings, labels)
    test: dict


def make_spaces(concepts: int = 20, per_pool: int = 20, per_test: int = 10, dim: int = 32,
                noise: float = 0.35, seed: int = 0) -> Spaces:
    g = torch.Generator().manual_seed(seed)
    codes = torch.randn(concepts, dim, generator=g)
    rotation, _ = torch.linalg.qr(torch.randn(dim, dim, generator=g))
    offset = {"audio": torch.randn(dim, generator=g) * 0.5}

    def sample(space: str, modality: str, n: int):
        labels = torch.arange(concepts).repeat_interleave(n)
        x = codes[labels] + noise * torch.randn(len(labels), dim, generator=g)
        if space == "leaf":
            x = x @ rotation.T + offset.get(modality, 0)
        return F.normalize(x, dim=-1), labels

    text_labels = torch.arange(concepts).repeat_interleave(per_pool)
    text_codes = codes[text_labels] + noise * torch.randn(len(text_labels), dim, generator=g)
    pools = {
        "audio": sample("leaf", "audio", per_pool),
        "text_leaf": (F.normalize(text_codes @ rotation.T, dim=-1), text_labels),
        "text_base": (F.normalize(text_codes, dim=-1), text_labels),
        "image": sample("base", "image", per_pool),
    }
    test = {"audio": sample("leaf", "audio", per_test), "image": sample("base", "image", per_test),
            "text_base": sample("base", "text", per_test)}
    return Spaces(pools, test)


def make_embeddings(concepts: int = 12, per_pool: int = 16, per_test: int = 6, dim: int = 32,
                    noise: float = 0.35, seed: int = 0):
    """Pool and held-out `Embeddings` for both leaves: the base sees concept codes directly;
    the audio leaf (audio, text) and the 3D leaf (3d, image, text) each through their own
    random rotation; every modality has its own offset and noise."""
    import numpy as np

    from core.alignment.extension import Embeddings

    g = torch.Generator().manual_seed(seed)
    codes = torch.randn(concepts, dim, generator=g)
    rotations = {leaf: torch.linalg.qr(torch.randn(dim, dim, generator=g))[0]
                 for leaf in ("audio", "3d")}
    offsets = {m: 0.4 * torch.randn(dim, generator=g) for m in ("image", "text", "audio", "3d")}

    def make(n: int) -> Embeddings:
        labels = torch.arange(concepts).repeat_interleave(n)
        raw = {m: codes[labels] + offsets[m] + noise * torch.randn(len(labels), dim, generator=g)
               for m in offsets}

        def view(m, leaf=None):
            x = raw[m] if leaf is None else raw[m] @ rotations[leaf].T
            return F.normalize(x, dim=-1).numpy()

        return Embeddings(
            base={"image": view("image"), "text": view("text")},
            leaves={"audio": {"audio": view("audio", "audio"), "text": view("text", "audio")},
                    "3d": {"3d": view("3d", "3d"), "image": view("image", "3d"),
                           "text": view("text", "3d")}},
            labels={m: labels.numpy().astype(np.int64) for m in raw})

    return make(per_pool), make(per_test)
