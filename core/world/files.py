"""Encode rendered items to the bytes of standard files (JPEG/PNG, WAV/FLAC, PLY/PCD).

Encoders are deterministic: the same array always gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np


def encode_image(image, ext: str) -> bytes:
    buf = io.BytesIO()
    if ext == "jpg":
        image.save(buf, format="JPEG", quality=90)
    elif ext == "png":
        image.save(buf, format="PNG", compress_level=6)
    else:
        raise ValueError(ext)
    return buf.getvalue()


def encode_audio(samples: np.ndarray, rate: int, ext: str) -> bytes:
    import soundfile

    buf = io.BytesIO()
    fmt = {"wav": "WAV", "flac": "FLAC"}[ext]
    soundfile.write(buf, samples, rate, format=fmt, subtype="PCM_16")
    return buf.getvalue()


def encode_cloud(points: np.ndarray, ext: str) -> bytes:
    points = np.ascontiguousarray(points, dtype="<f4")
    n = len(points)
    if ext == "ply":
        header = (
            "ply\nformat binary_little_endian 1.0\n"
            f"element vertex {n}\n"
            "property float x\nproperty float y\nproperty float z\nend_header\n"
        )
    elif ext == "pcd":
        header = (
            "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\n"
            "SIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n"
            f"WIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA binary\n"
        )
    else:
        raise ValueError(ext)
    return header.encode("ascii") + points.tobytes()
