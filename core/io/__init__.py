"""File loaders: a user's file to decoded data for the encoders, or a typed error naming it.

`load_image(path, max_side=None)` -> 8-bit RGB `PIL.Image.Image`
`load_audio(path, rate, max_seconds=600.0)` -> float32 mono `np.ndarray` at `rate`
`read_audio(path, rate, max_seconds=600.0)` -> `Audio` (the samples, and whether they were cut)
`load_cloud(path, max_points=200_000, mesh_points=16_384, seed=0)` -> float32 (N, 3) points
`modality_of(path)` / `sniff(path)` -> "image", "audio", "3d" or None, by name / by content
`SUPPORTED_EXTENSIONS` -> frozenset of ".jpg"-style extensions (computed on first use)

Every failure is an `MCRError` subclass from `core.errors` naming the file. Importing this
package is light: open3d, soundfile and soxr are imported on first use.
"""

from core.io.audio import Audio, load_audio, read_audio
from core.io.clouds import load_cloud
from core.io.images import load_image
from core.io.kinds import modality_of, sniff, supported_extensions

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Audio",
    "load_audio",
    "load_cloud",
    "load_image",
    "modality_of",
    "read_audio",
    "sniff",
    "supported_extensions",
]


def __getattr__(name: str):
    if name == "SUPPORTED_EXTENSIONS":
        return frozenset(supported_extensions())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
