"""Decode a user's image file to an 8-bit RGB `PIL.Image.Image`, safely.

`load_image(path, max_side=None)`:

* reads JPEG (and camera MPO), PNG (and APNG), GIF, BMP, TIFF and WebP, whatever the file is
  named; files in Pillow's other formats (EPS, PSD, ICO, ...) are refused, never decoded;
* applies the EXIF orientation (as `ImageOps.exif_transpose` would), so a portrait photo stored
  sideways comes out upright;
* converts every pixel mode to 8-bit RGB: grey and 1-bit, palette, CMYK, 16-bit grey ("I;16",
  scaled by 1/257), 32-bit integer "I" (0-65535 taken as 16-bit, any other range stretched) and
  float "F" (0-1 scaled, any other range stretched); transparency (RGBA, LA, palette or colour-key
  transparency) is composited onto white;
* takes the first frame of animated or multi-page files;
* refuses images above `MAX_PIXELS` (about 179 megapixels, Pillow's own decompression-bomb
  error threshold) with `InputTooLargeError`, after reading only the header;
* with `max_side`, returns an image whose longer side is at most `max_side`, and bounds memory on
  the way: a JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from the DCT (`Image.draft`), so a
  12000x9000 photo never exists at full size; other formats are decoded at full size (Pillow has
  no reduced decode for them) and then converted and box-reduced in strips of about 1 Mpx, so the
  only full-size buffer is the decoded file itself (at most `MAX_PIXELS` x its bytes per pixel);
* raises `CorruptFileError` for truncated or damaged files and `UnsupportedFileError` for files
  that are not images, each naming the file; no Pillow exception escapes.

The result is fully loaded; its file is closed (only seeking to other frames is lost).
"""

from __future__ import annotations

import math
import os
import re
import threading
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import CorruptFileError, InputTooLargeError, MCRError
from core.io.kinds import IMAGE, check_file, decode_error

MAX_PIXELS = 178_956_970  # 2 x Pillow's default MAX_IMAGE_PIXELS: about 179 megapixels
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP")
STRIP_PIXELS = 1 << 20  # pixels converted at a time when an image is reduced or converted
WHITE = (255, 255, 255)

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")

# Image.open's bomb check warns through the process-wide warnings filters; opening under one
# lock keeps our temporary filter from racing with another loader thread's.
_OPEN_LOCK = threading.Lock()


def _too_large(path, pixels: int | None, size: tuple[int, int] | None = None) -> InputTooLargeError:
    dims = f"{size[0]}x{size[1]} = " if size else ""
    count = f"{dims}{pixels:,} pixels" if pixels is not None else "too many pixels"
    return InputTooLargeError(
        f"the image has {count}, above the limit of {MAX_PIXELS:,} pixels "
        f"(about {MAX_PIXELS / 1e6:.0f} megapixels)",
        path=path,
    )


def _open(fp, path) -> Image.Image:
    """Parse the header only, under our pixel limit."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS (89 Mpx); our own limit is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp, formats=PILLOW_FORMATS)
    except Image.DecompressionBombError as err:
        found = _BOMB_SIZE.search(str(err))
        raise _too_large(path, int(found.group(1)) if found else None) from None
    except UnidentifiedImageError:
        raise decode_error(path, IMAGE, "not a readable JPEG, PNG, GIF, BMP, TIFF or WebP "
                                        "image") from None
    except MemoryError:
        raise _too_large(path, None) from None
    except Exception as err:  # any decoder failure is a damaged file
        raise decode_error(path, IMAGE, f"the image header cannot be read ({err})") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"the image has an empty size ({width}x{height})", path=path)
    if width * height > MAX_PIXELS:
        raise _too_large(path, width * height, im.size)
    return im


def _orientation(im: Image.Image) -> int:
    try:
        value = int(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block must not lose the picture
        return 1
    return value if value in _TRANSPOSE else 1


def _value_range(im: Image.Image) -> tuple[float, float]:
    """How to map an "I" or "F" image's values to 0..255: (offset, scale)."""
    lo, hi = im.getextrema()
    if im.mode == "I" and lo >= 0 and hi <= 65535:
        return 0.0, 255.0 / 65535.0  # 16-bit data held in 32 bits
    if im.mode == "F" and lo >= 0 and hi <= 1:
        return 0.0, 255.0
    if hi <= lo or not (math.isfinite(lo) and math.isfinite(hi)):
        return float(lo) if math.isfinite(lo) else 0.0, 0.0
    return float(lo), 255.0 / (hi - lo)


def _has_transparency(im: Image.Image) -> bool:
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        return True
    return im.mode == "P" and im.palette is not None and im.palette.mode == "RGBA"


def _to_rgb(im: Image.Image, value_range: tuple[float, float] | None) -> Image.Image:
    """One strip (or a whole small image) to 8-bit RGB."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return im
    if mode in _SIXTEEN_BIT:
        values = np.asarray(im).astype(np.uint32)
        grey = ((values * 255 + 32767) // 65535).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in ("I", "F"):
        offset, scale = value_range if value_range is not None else _value_range(im)
        values = np.asarray(im, dtype=np.float32)
        grey = np.nan_to_num((values - offset) * scale, nan=0.0, posinf=255.0, neginf=0.0)
        grey = np.clip(grey + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if _has_transparency(im):
        rgba = im.convert("RGBA")
        out = Image.new("RGB", im.size, WHITE)
        out.paste(rgba, (0, 0), rgba)
        return out
    return im.convert("RGB")


def _convert(im: Image.Image, factor: int) -> Image.Image:
    """The whole image as RGB, box-reduced by `factor`, converting strip by strip."""
    if factor == 1 and im.mode == "RGB" and "transparency" not in im.info:
        return im
    value_range = _value_range(im) if im.mode in ("I", "F") else None
    width, height = im.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, STRIP_PIXELS // (width * factor))
    for top in range(0, height, rows):
        strip = im.crop((0, top, width, min(height, top + rows)))
        strip = _to_rgb(strip, value_range)
        if factor > 1:
            strip = strip.reduce(factor)
        out.paste(strip, (0, top // factor))
    return out


def _target(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = max_side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _decode(im: Image.Image, path, max_side: int | None) -> Image.Image:
    width, height = im.size
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
        # JPEG: decode at 1/2, 1/4 or 1/8 scale, never below the target; others: no effect.
        im.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    im.load()
    orientation = _orientation(im)
    if max_side is not None and max(im.size) > max_side:
        factor = max(1, max(im.size) // (2 * max_side))  # box-reduce to >= 2x, then Lanczos
        out = _convert(im, factor)
        if max(out.size) > max_side:
            out = out.resize(_target(out.size, max_side), Image.Resampling.LANCZOS)
    else:
        out = _convert(im, 1)
    if orientation != 1:
        out = out.transpose(_TRANSPOSE[orientation])
    out.info.pop("exif", None)
    return out


def load_image(path: str | os.PathLike, *, max_side: int | None = None) -> Image.Image:
    """The image at `path` as 8-bit RGB, upright, longer side at most `max_side` if given."""
    if max_side is not None and (not isinstance(max_side, int) or max_side < 1):
        raise ValueError(f"max_side must be a positive int or None, not {max_side!r}")
    size = check_file(path)
    if size == 0:
        raise CorruptFileError("the file is empty (0 bytes)", path=path)
    try:
        fp = open(path, "rb")  # noqa: SIM115 - closed below, after decoding
    except OSError as err:
        raise CorruptFileError(f"cannot be read ({err.strerror or err})", path=path) from None
    with fp:
        im = _open(fp, path)
        out = None
        try:
            out = _decode(im, path, max_side)
        except MCRError:
            raise
        except Image.DecompressionBombError as err:
            found = _BOMB_SIZE.search(str(err))
            raise _too_large(path, int(found.group(1)) if found else None) from None
        except MemoryError:
            raise _too_large(path, im.size[0] * im.size[1], im.size) from None
        except Exception as err:  # any decoder failure is a damaged file
            raise CorruptFileError(_describe_failure(im, err), path=path) from None
        finally:
            if out is not im:
                im.close()  # frees the full-size decode now
    return out


def _describe_failure(im: Image.Image, err: Exception) -> str:
    text = str(err) or type(err).__name__
    fmt = im.format or "image"
    if "truncated" in text or isinstance(err, EOFError):
        return f"the {fmt} data ends early ({text})"
    return f"the {fmt} data cannot be decoded ({text})"

