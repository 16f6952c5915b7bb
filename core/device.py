"""Choose the compute device (CUDA, Apple MPS, else CPU) and describe it for the user."""

from __future__ import annotations

from core.errors import ResourceUnavailableError, UsageError

CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str = "auto"):
    import torch

    if preference not in CHOICES and not preference.startswith("cuda:"):
        raise UsageError(f"Unknown device {preference!r}", hint=f"Use one of {', '.join(CHOICES)}.")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ResourceUnavailableError(
            "No CUDA GPU is available",
            hint="Install an NVIDIA driver for CUDA 13, or use --device cpu.",
        )
    if preference == "mps" and not has_mps:
        raise ResourceUnavailableError("Apple MPS is not available", hint="Use --device cpu.")
    return torch.device(preference)


def describe_device(device) -> str:
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"GPU: {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "GPU: Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
