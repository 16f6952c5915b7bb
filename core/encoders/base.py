"""One interface for every encoder: `preprocess` one decoded item on the CPU (thread-safe, so it
can run ahead in worker threads), `collate` a list of them, and `forward` a batch without grad
to float32 [N, D] L2-normalised vectors on the CPU."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

MODALITIES = ("image", "text", "audio", "3d")


class Encoder(ABC):
    modality: str  # one of MODALITIES
    dim: int  # output dimension

    def __init__(self, device) -> None:
        self.device = device

    @abstractmethod
    def preprocess(self, item: Any):
        """A decoded item (PIL image, str, float32 waveform at `rate`, float32 [P, 3] points)
        to the model's per-item input (tensor, no batch dimension)."""

    def collate(self, items: list):
        import torch

        return torch.stack(items)

    @abstractmethod
    def forward(self, batch):
        """A collated batch to float32 [N, D] L2-normalised vectors on the CPU (no grad)."""

    def autocast(self):
        """Half precision on a GPU (bf16 where supported, else fp16); fp32 on the CPU."""
        import contextlib

        import torch

        if self.device.type != "cuda":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)


def normalised(x):
    """float32, L2-normalised rows, on the CPU."""
    import torch.nn.functional as F

    return F.normalize(x.float(), dim=-1).cpu()
