"""What kind of file is this? By name (`modality_of`) and by content (`sniff`, `detect_format`).

`modality_of(path)` answers from the extension alone: "image", "audio", "3d" or None.
`sniff(path)` reads the first bytes and answers from the content: a JPEG named .png is still an
image, a text file named .ply is not a cloud (None). `detect_format(path)` gives the precise
format ("jpeg", "wav", "ply", ...). Text-based 3D formats are recognised by their structure:
OBJ by its keywords, OFF/PCD/ASCII STL by their headers; headerless XYZ (numbers, three or more
columns per line) only when the file is named .xyz, since plain numbers could be anything.

`SUPPORTED_EXTENSIONS` (lower case, with the dot: ".jpg") is computed on first use, because
whether MP3 is readable depends on the installed libsndfile; `supported_extensions()` gives the
same as a mapping extension -> modality.

`check_file` and `decode_error` are shared by the loaders: the first turns a missing, unreadable
or non-regular path into a typed error, the second picks the right typed error (corrupt or
unsupported) for content that a decoder refused.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from functools import lru_cache
from pathlib import Path

from core.errors import CorruptFileError, MCRError, UnsupportedFileError, UsageError

IMAGE = "image"
AUDIO = "audio"
CLOUD = "3d"

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
AUDIO_EXTENSIONS_BASE = frozenset({".wav", ".flac", ".ogg"})  # ".mp3" too when libsndfile can
CLOUD_EXTENSIONS = frozenset({".ply", ".pcd", ".xyz", ".obj", ".stl", ".off"})

# format id -> (modality, how to name it in a message)
FORMATS: dict[str, tuple[str, str]] = {
    "jpeg": (IMAGE, "a JPEG image"),
    "png": (IMAGE, "a PNG image"),
    "gif": (IMAGE, "a GIF image"),
    "bmp": (IMAGE, "a BMP image"),
    "tiff": (IMAGE, "a TIFF image"),
    "webp": (IMAGE, "a WebP image"),
    "wav": (AUDIO, "a WAV recording"),
    "flac": (AUDIO, "a FLAC recording"),
    "ogg": (AUDIO, "an Ogg recording"),
    "mp3": (AUDIO, "an MP3 recording"),
    "ply": (CLOUD, "a PLY 3D file"),
    "pcd": (CLOUD, "a PCD point cloud"),
    "xyz": (CLOUD, "an XYZ point list"),
    "obj": (CLOUD, "an OBJ mesh"),
    "stl": (CLOUD, "an STL mesh"),
    "off": (CLOUD, "an OFF mesh"),
}
MODALITY_NOUNS = {IMAGE: "an image", AUDIO: "an audio recording", CLOUD: "a 3D point cloud or mesh"}

# The format a name promises (".jpg" -> "jpeg").
_EXT_FORMAT = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".bmp": "bmp", ".gif": "gif", ".tif": "tiff",
    ".tiff": "tiff", ".webp": "webp", ".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".mp3": "mp3",
    ".ply": "ply", ".pcd": "pcd", ".xyz": "xyz", ".obj": "obj", ".stl": "stl", ".off": "off",
}

HEAD_BYTES = 64 * 1024  # how much of a file the content checks read

_OBJ_KEYWORDS = frozenset(
    b"v vt vn vp f l p o g s mtllib usemtl cstype deg bmat step curv curv2 surf parm trim hole "
    b"scrv sp end con mg lod shadow_obj trace_obj ctech stech bevel c_interp d_interp call csh "
    b"maplib usemap".split()
)
_PCD_KEYWORDS = frozenset(
    b"VERSION FIELDS SIZE TYPE COUNT WIDTH HEIGHT VIEWPOINT POINTS DATA".split()
)
_OFF_HEADER = re.compile(rb"^(ST)?C?N?4?n?OFF$")


@lru_cache(maxsize=1)
def mp3_supported() -> bool:
    """Whether the installed libsndfile decodes MP3 (libsndfile 1.1 and newer)."""
    try:
        import soundfile
    except (ImportError, OSError):
        return False
    return "MP3" in soundfile.available_formats()


@lru_cache(maxsize=1)
def supported_extensions() -> dict[str, str]:
    """Every readable extension (".jpg") with its modality."""
    table = {ext: IMAGE for ext in IMAGE_EXTENSIONS}
    table.update({ext: AUDIO for ext in AUDIO_EXTENSIONS_BASE})
    if mp3_supported():
        table[".mp3"] = AUDIO
    table.update({ext: CLOUD for ext in CLOUD_EXTENSIONS})
    return table


def __getattr__(name: str):
    if name == "SUPPORTED_EXTENSIONS":
        return frozenset(supported_extensions())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def modality_of(path: str | os.PathLike) -> str | None:
    """"image", "audio", "3d" or None, from the file name's extension (any case)."""
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return IMAGE
    if suffix in CLOUD_EXTENSIONS:
        return CLOUD
    if suffix in AUDIO_EXTENSIONS_BASE or (suffix == ".mp3" and mp3_supported()):
        return AUDIO
    return None


def expected_format(path: str | os.PathLike) -> str | None:
    """The format the file's name promises ("jpeg" for .jpg), or None."""
    return _EXT_FORMAT.get(Path(path).suffix.lower())


def check_file(path: str | os.PathLike) -> int:
    """The size in bytes of a readable regular file; a typed error naming it otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError("no such file", path=path, hint="Check the path.") from None
    except OSError as err:
        raise CorruptFileError(f"cannot be read ({err.strerror or err})", path=path) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnsupportedFileError("this is a folder, not a file", path=path,
                                   hint="Choose a file inside it.")
    if not stat.S_ISREG(info.st_mode):
        raise UnsupportedFileError("this is not a regular file", path=path)
    if not os.access(path, os.R_OK):
        raise CorruptFileError("cannot be read (permission denied)", path=path,
                               hint="Check the file's permissions.")
    return info.st_size


def read_head(path: str | os.PathLike, size: int = HEAD_BYTES) -> bytes:
    """The first `size` bytes, or a typed error naming the file."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise UsageError("no such file", path=path, hint="Check the path.") from None
    except IsADirectoryError:
        raise UnsupportedFileError("this is a folder, not a file", path=path) from None
    except OSError as err:
        raise CorruptFileError(f"cannot be read ({err.strerror or err})", path=path) from None


def looks_like_text(head: bytes) -> bool:
    """Mostly printable bytes with no NUL: plain text (any ASCII-compatible encoding)."""
    if not head or b"\x00" in head:
        return False
    printable = sum(1 for b in head[:4096] if b >= 32 or b in (9, 10, 13, 12))
    return printable >= 0.97 * min(len(head), 4096)


def _meaningful_lines(head: bytes, complete: bool) -> list[bytes]:
    """Stripped, non-blank, non-comment lines; the last one dropped when it may be cut off."""
    lines = head.splitlines()
    if not complete and lines and not head.endswith((b"\n", b"\r")):
        lines = lines[:-1]
    return [s for s in (line.strip() for line in lines) if s and not s.startswith(b"#")]


def _is_float(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _mp3_or_flac_after_id3(path, head: bytes) -> str | None:
    if len(head) < 10:
        return None
    size = 0
    for b in head[6:10]:
        if b & 0x80:
            return None
        size = (size << 7) | b
    end = 10 + size + (10 if head[5] & 0x10 else 0)
    try:
        with open(path, "rb") as f:
            f.seek(end)
            after = f.read(4)
    except OSError:
        return None
    if after.startswith(b"fLaC"):
        return "flac"
    return "mp3"


def _is_mpeg_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


_PCD_DATA_LINE = re.compile(rb"(?m)^DATA[ \t]+[A-Za-z_]+[^\n]*(\n|$)")


def _is_pcd_header(head: bytes) -> bool:
    match = _PCD_DATA_LINE.search(head)
    if match is None or not looks_like_text(head[: match.end()]):
        return False
    lines = _meaningful_lines(head[: match.end()], complete=True)
    keys = [line.split()[0] for line in lines]
    return bool(keys) and all(k in _PCD_KEYWORDS for k in keys) and b"FIELDS" in keys


def detect_format(path: str | os.PathLike, head: bytes | None = None,
                  size: int | None = None) -> str | None:
    """The file's format judged from its content ("jpeg", "wav", "ply", ...), or None."""
    if head is None:
        head = read_head(path)
    if size is None:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = len(head)
    if not head:
        return None
    # Binary signatures.
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and len(head) >= 26:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and len(head) >= 12:
        if head[8:12] == b"WEBP":
            return "webp"
        if head[8:12] == b"WAVE":
            return "wav"
        return None
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"ID3"):
        return _mp3_or_flac_after_id3(path, head)
    if _is_mpeg_frame(head):
        return "mp3"
    if head.startswith((b"ply\n", b"ply\r\n", b"ply\r")):
        return "ply"
    if size >= 84 and size == 84 + 50 * struct.unpack_from("<I", head, 80)[0]:
        return "stl"  # binary STL: 80-byte header, count, 50 bytes per triangle
    if _is_pcd_header(head):
        return "pcd"  # before the text check: a binary PCD has binary data after its header
    # Text formats.
    if not looks_like_text(head):
        return None
    complete = len(head) >= size
    lines = _meaningful_lines(head, complete)
    if not lines:
        return None
    first = lines[0].split()
    if first and _OFF_HEADER.match(first[0]):
        return "off"
    if head.lstrip()[:5].lower() == b"solid" and (b"facet" in head or b"endsolid" in head):
        return "stl"
    keywords = [line.split()[0] for line in lines]
    if all(k in _OBJ_KEYWORDS for k in keywords) and any(k in (b"v", b"f") for k in keywords):
        return "obj"
    if Path(path).suffix.lower() == ".xyz" and all(  # a column-name line may come first
        len(parts) >= 3 and all(_is_float(t) for t in parts[:3])
        for parts in (line.split() for line in lines[1 if len(lines) > 1 else 0:1000])
    ):
        return "xyz"
    return None


def sniff(path: str | os.PathLike) -> str | None:
    """The modality of the file's content ("image", "audio", "3d"), or None when the content is
    not a format the loaders read (a text file named .ply gives None; a JPEG named .png gives
    "image"). A missing or unreadable path raises the typed error."""
    check_file(path)
    fmt = detect_format(path)
    if fmt is None or (fmt == "mp3" and not mp3_supported()):
        return None
    return FORMATS[fmt][0]


def decode_error(path: str | os.PathLike, modality: str, reason: str) -> MCRError:
    """The typed error for a file that a `modality` decoder could not read.

    Empty files, damaged files of the right kind and unrecognisable binary data under a
    supported name are corrupt; files whose content is another kind (an image named .wav) or
    plain text that is not the promised format are unsupported.
    """
    try:
        size = os.path.getsize(path)
        head = read_head(path)
    except (OSError, MCRError):
        return CorruptFileError(f"cannot be read ({reason})", path=path)
    if size == 0:
        return CorruptFileError("the file is empty (0 bytes)", path=path)
    fmt = detect_format(path, head, size)
    noun = MODALITY_NOUNS.get(modality, modality)
    promised = expected_format(path)
    if fmt is not None and FORMATS[fmt][0] != modality:
        return UnsupportedFileError(f"it contains {FORMATS[fmt][1]}, not {noun}", path=path)
    if fmt is None and looks_like_text(head):
        what = FORMATS[promised][1] if FORMATS.get(promised, ("",))[0] == modality else noun
        return UnsupportedFileError(f"it is plain text, not {what}", path=path)
    if fmt is None and promised is None:
        return UnsupportedFileError(f"not a supported {modality} format ({reason})", path=path)
    return CorruptFileError(reason, path=path)
