"""File kinds: by extension (`modality_of`) and by content (`sniff`)."""

from __future__ import annotations

import io
import struct
from functools import partial

import numpy as np
import pytest
import soundfile
from PIL import Image

from core.errors import UnsupportedFileError, UsageError
from core.io import SUPPORTED_EXTENSIONS, load_audio, load_cloud, load_image, modality_of, sniff
from core.io.kinds import detect_format, mp3_supported
from tests.core.io.helpers import run_python

MP3 = "MP3" in soundfile.available_formats()


@pytest.mark.parametrize(
    ("name", "modality"),
    [("a.jpg", "image"), ("a.JPEG", "image"), ("a.png", "image"), ("a.bmp", "image"),
     ("a.gif", "image"), ("a.tif", "image"), ("a.tiff", "image"), ("a.webp", "image"),
     ("a.wav", "audio"), ("a.FLAC", "audio"), ("a.ogg", "audio"), ("a.ply", "3d"),
     ("a.pcd", "3d"), ("a.xyz", "3d"), ("a.obj", "3d"), ("a.STL", "3d"), ("a.off", "3d"),
     ("a.txt", None), ("a", None), ("a.ply.bak", None), ("dir.jpg/readme", None)],
)
def test_modality_of_goes_by_extension(name, modality):
    assert modality_of(name) == modality


def test_mp3_only_when_libsndfile_reads_it():
    assert mp3_supported() is MP3
    assert modality_of("song.mp3") == ("audio" if MP3 else None)
    assert (".mp3" in SUPPORTED_EXTENSIONS) is MP3


def test_supported_extensions_are_dotted_lower_case():
    assert {".jpg", ".jpeg", ".png", ".wav", ".flac", ".ogg", ".ply", ".obj"} <= \
        SUPPORTED_EXTENSIONS
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS)
    assert {modality_of("x" + ext) for ext in SUPPORTED_EXTENSIONS} == {"image", "audio", "3d"}


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _wav() -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, np.zeros(100), 8000, format="WAV")
    return buf.getvalue()


def _binary_stl() -> bytes:
    tri = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
    return b"\0" * 80 + struct.pack("<I", 2) + tri * 2


PCD_BINARY = (b"# .PCD v0.7\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n"
              b"WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA binary\n" + np.zeros(6, "<f4").tobytes())


@pytest.mark.parametrize(
    ("name", "content", "fmt", "modality"),
    [
        ("photo.png", _jpeg(), "jpeg", "image"),  # misnamed: the content wins
        ("photo.jpg", _jpeg(), "jpeg", "image"),
        ("sound.bin", _wav(), "wav", "audio"),
        ("scan.ply", b"ply\nformat ascii 1.0\nelement vertex 0\nend_header\n", "ply", "3d"),
        ("scan.pcd", PCD_BINARY, "pcd", "3d"),
        ("part.stl", _binary_stl(), "stl", "3d"),
        ("part.stl", b"solid x\nfacet normal 0 0 1\nendsolid x\n", "stl", "3d"),
        ("part.obj", b"# made by hand\nmtllib a.mtl\no cube\nv 0 0 0\nv 1 0 0\nf 1 2 1\n",
         "obj", "3d"),
        ("part.off", b"OFF\n# comment\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "off", "3d"),
        ("pts.xyz", b"0 0 0\n1 2 3 255 0 0\n", "xyz", "3d"),
        ("pts.txt", b"0 0 0\n1 2 3\n", None, None),  # numbers alone are XYZ only when named so
        ("notes.ply", b"hello, this is not a point cloud\n", None, None),
        ("notes.obj", b"hello world\nv is for vertex\n", None, None),
        ("empty.wav", b"", None, None),
        ("noise.jpg", bytes(range(256)) * 4, None, None),
    ],
)
def test_sniff_judges_by_content(tmp_path, name, content, fmt, modality):
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == fmt
    assert sniff(path) == modality


def test_sniff_names_a_missing_path_or_a_folder(tmp_path):
    with pytest.raises(UsageError, match="nowhere.png"):
        sniff(tmp_path / "nowhere.png")
    with pytest.raises(UnsupportedFileError, match="folder"):
        sniff(tmp_path)


@pytest.mark.parametrize("load", [load_image, partial(load_audio, rate=16000), load_cloud],
                         ids=["image", "audio", "cloud"])
def test_every_loader_names_a_missing_file_or_a_folder(tmp_path, load):
    with pytest.raises(UsageError, match=r"gone\.bin: no such file"):
        load(tmp_path / "gone.bin")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(UnsupportedFileError, match=r"folder\.png: this is a folder"):
        load(folder)


def test_importing_core_io_stays_light():
    out = run_python(
        "import sys, core.io\n"
        "core.io.modality_of('a.png')\n"
        "print(sorted(m for m in ('torch', 'open3d', 'PySide6', 'soundfile', 'soxr') "
        "if m in sys.modules))"
    )
    assert out.strip() == "[]"
