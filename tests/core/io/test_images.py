"""load_image: every supported kind decodes to upright 8-bit RGB; bad files get typed errors."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import soundfile
from PIL import Image, ImageOps

from core.errors import CorruptFileError, InputTooLargeError, MCRError, UnsupportedFileError
from core.io import load_image
from core.io.images import MAX_PIXELS
from tests.core.io.helpers import measure, run_python

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _halves(size=(40, 20)) -> Image.Image:
    """Left half red, right half blue."""
    im = Image.new("RGB", size, RED)
    im.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return im


def _close(a, b, tol=12) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b, strict=True))


def test_jpeg_exif_orientation_6_comes_out_rotated(tmp_path):
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    _halves((40, 20)).save(path, quality=95, exif=exif.tobytes())
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (20, 40)
    assert _close(out.getpixel((10, 5)), RED) and _close(out.getpixel((10, 34)), BLUE)
    with Image.open(path) as reference:
        expected = ImageOps.exif_transpose(reference).convert("RGB")
    assert np.array_equal(np.asarray(out), np.asarray(expected))


def test_orientation_is_applied_after_reducing(tmp_path):
    path = tmp_path / "big_portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 8
    _halves((800, 400)).save(path, quality=90, exif=exif.tobytes())
    out = load_image(path, max_side=100)
    assert out.size == (50, 100)
    assert _close(out.getpixel((25, 5)), BLUE) and _close(out.getpixel((25, 94)), RED)


def _grey_gradient(size=(64, 16)) -> np.ndarray:
    return np.tile(np.linspace(0, 255, size[0]).astype(np.uint8), (size[1], 1))


def test_grey_png(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(_grey_gradient(), "L").save(path)
    out = np.asarray(load_image(path))
    assert out.shape == (16, 64, 3)
    assert np.array_equal(out[..., 0], _grey_gradient()) and (out[..., 0] == out[..., 2]).all()


def test_rgba_png_is_composited_on_white(tmp_path):
    path = tmp_path / "logo.png"
    im = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    im.paste((255, 0, 0, 255), (0, 0, 5, 10))  # opaque red
    im.paste((0, 0, 0, 128), (5, 0, 10, 5))  # half-transparent black
    im.save(path)
    out = load_image(path)
    assert out.getpixel((1, 1)) == RED
    assert out.getpixel((7, 8)) == WHITE
    assert _close(out.getpixel((7, 2)), (127, 127, 127), tol=2)


def test_palette_png_with_transparency(tmp_path):
    path = tmp_path / "icon.png"
    im = Image.new("P", (8, 8), 1)
    im.putpalette([0, 255, 0] + [0, 0, 255] + [0, 0, 0] * 254)
    im.paste(0, (0, 0, 4, 8))
    im.save(path, transparency=1)
    out = load_image(path)
    assert out.getpixel((1, 1)) == (0, 255, 0) and out.getpixel((6, 6)) == WHITE


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk(tmp_path, fmt):
    path = tmp_path / f"print.{fmt.lower()}"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, fmt)  # pure red ink mix
    out = load_image(path)
    assert out.mode == "RGB" and _close(out.getpixel((8, 8)), RED, tol=16)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path, fmt):
    path = tmp_path / f"depth.{fmt.lower()}"
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16).repeat(4, axis=0)
    Image.fromarray(values).save(path, fmt)
    with Image.open(path) as raw:
        assert raw.mode.startswith("I;16")
    out = np.asarray(load_image(path))
    assert out[0, :, 0].tolist() == [0, 1, 128, 255]


def test_thirty_two_bit_and_float_tiff(tmp_path):
    ints = tmp_path / "int.tif"
    Image.fromarray(np.array([[0, 65535]], dtype=np.int32)).save(ints)
    assert np.asarray(load_image(ints))[0, :, 1].tolist() == [0, 255]
    floats = tmp_path / "float.tif"
    Image.fromarray(np.array([[-5.0, 0.0, 5.0]], dtype=np.float32)).save(floats)
    assert np.asarray(load_image(floats))[0, :, 1].tolist() == [0, 128, 255]


def test_animated_gif_gives_the_first_frame(tmp_path):
    path = tmp_path / "blink.gif"
    frames = [Image.new("RGB", (12, 12), c) for c in (RED, (0, 255, 0), BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(path) as raw:
        assert raw.n_frames == 3
    out = load_image(path)
    assert out.size == (12, 12) and out.getpixel((5, 5)) == RED


@pytest.mark.parametrize(("name", "fmt", "mode"), [
    ("a.bmp", "BMP", "1"), ("b.bmp", "BMP", "RGB"), ("c.webp", "WEBP", "RGB"),
    ("d.tif", "TIFF", "RGB"), ("e.png", "PNG", "LA"), ("f.jpeg", "JPEG", "L"),
])
def test_other_kinds_and_modes(tmp_path, name, fmt, mode):
    path = tmp_path / name
    src = _halves((32, 16)).convert(mode)
    save = {"lossless": True} if fmt == "WEBP" else {}
    src.save(path, fmt, **save)
    out = load_image(path)
    expected = src.convert("RGBA").convert("RGB") if mode == "LA" else src.convert("RGB")
    assert out.mode == "RGB" and out.size == (32, 16)
    assert np.abs(np.asarray(out, int) - np.asarray(expected, int)).max() <= 12


def test_misnamed_jpeg_still_decodes(tmp_path):
    path = tmp_path / "really_a_jpeg.png"
    _halves().save(path, "JPEG")
    assert load_image(path).size == (40, 20)


def test_max_side_bounds_the_longer_side(tmp_path):
    path = tmp_path / "wide.png"
    _halves((3000, 1000)).save(path)
    out = load_image(path, max_side=300)
    assert out.size == (300, 100)
    assert _close(out.getpixel((10, 50)), RED) and _close(out.getpixel((290, 50)), BLUE)
    assert load_image(path, max_side=5000).size == (3000, 1000)  # never enlarged


def test_truncated_jpeg_is_corrupt(tmp_path):
    whole = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(whole, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(CorruptFileError, match=r"cut\.jpg: .*ends early"):
        load_image(path)


def test_truncated_png_is_corrupt(tmp_path):
    whole = io.BytesIO()
    Image.effect_noise((128, 128), 64).save(whole, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(whole.getvalue()[:-300])
    with pytest.raises(CorruptFileError, match=r"cut\.png"):
        load_image(path)


def test_empty_file_is_corrupt(tmp_path):
    path = tmp_path / "zero.jpg"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"zero\.jpg: the file is empty"):
        load_image(path)


def test_text_named_jpg_is_unsupported(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: bearings, grease\n")
    with pytest.raises(UnsupportedFileError, match=r"notes\.jpg: it is plain text"):
        load_image(path)


def test_sound_named_png_is_unsupported(tmp_path):
    path = tmp_path / "sound.png"
    soundfile.write(path, np.zeros(800), 8000, format="WAV")
    with pytest.raises(UnsupportedFileError, match=r"sound\.png: it contains a WAV recording"):
        load_image(path)


def test_other_pillow_formats_are_refused(tmp_path):
    path = tmp_path / "icon.png"
    Image.new("RGB", (16, 16)).save(path, "ICO")
    with pytest.raises(MCRError, match=r"icon\.png"):
        load_image(path)


def _bilevel_png(path, width: int, height: int) -> None:
    """A valid 1-bit PNG written row by row: no image of that size is ever held in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(6)
    data = b"".join(packer.compress(row * 1000) for _ in range(height // 1000))
    data += packer.compress(row * (height % 1000)) + packer.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", data))
        f.write(chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "bomb.png"
    _bilevel_png(path, 20000, 20000)
    assert path.stat().st_size < 200_000
    with pytest.raises(InputTooLargeError) as info:
        load_image(path)
    text = str(info.value)
    assert "bomb.png" in text and "400,000,000 pixels" in text and f"{MAX_PIXELS:,}" in text
    result = measure(
        "from core.io import load_image\nfrom core.errors import InputTooLargeError",
        f"""
        try:
            load_image({str(path)!r}, max_side=1024)
            result = {{"raised": None}}
        except InputTooLargeError as err:
            result = {{"raised": str(err)}}
        """,
    )
    assert result["raised"] and "400,000,000" in result["raised"]
    assert result["delta_mb"] < 32, result
    assert result["peak_mb"] < 400, result  # far below the 1.2 GB a decode would need


def test_huge_jpeg_with_max_side_decodes_reduced_via_draft(tmp_path):
    path = tmp_path / "huge.jpg"
    run_python(  # made in another process, so that this one stays small
        "from PIL import Image\n"
        "im = Image.new('RGB', (12000, 9000), (200, 30, 30))\n"
        "im.paste((30, 30, 200), (6000, 0, 12000, 9000))\n"
        f"im.save({str(path)!r}, quality=80)\n"
    )
    result = measure(
        "from core.io import load_image",
        f"""
        out = load_image({str(path)!r}, max_side=1024)
        result = {{"size": out.size, "mode": out.mode, "left": out.getpixel((100, 300)),
                   "right": out.getpixel((900, 300))}}
        """,
    )
    assert result["size"] == [1024, 768] and result["mode"] == "RGB"
    assert _close(result["left"], (200, 30, 30)) and _close(result["right"], (30, 30, 200))
    # The full decode alone would be 12000 x 9000 x 3 = 309 MiB; 1/8 scale is 5 MiB.
    assert result["delta_mb"] < 48, result


def test_big_palette_png_is_converted_in_strips(tmp_path):
    path = tmp_path / "plan.png"
    run_python(
        "from PIL import Image\n"
        "im = Image.new('P', (8000, 6000), 1)\n"
        "im.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)\n"
        "im.paste(0, (0, 0, 4000, 6000))\n"
        f"im.save({str(path)!r}, transparency=0, compress_level=1)\n"
    )
    result = measure(
        "from core.io import load_image",
        f"""
        out = load_image({str(path)!r}, max_side=1000)
        result = {{"size": out.size, "left": out.getpixel((100, 300)),
                   "right": out.getpixel((900, 300))}}
        """,
    )
    assert result["size"] == [1000, 750]
    assert result["left"] == [255, 255, 255] and result["right"] == [255, 0, 0]
    # The decoded palette image is 46 MiB; converting it whole to RGBA would add 183 MiB.
    assert result["delta_mb"] < 46 + 64, result
