"""Preview pictures: sizes and modes, what each drawing shows, degenerate input, atomic writes."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from core.library.previews import (
    BACKGROUND,
    PREVIEW_SIZE,
    WAVE_HEIGHT,
    _view_axes,
    cloud_preview,
    image_preview,
    make_preview,
    waveform_preview,
    write_preview,
)

RATE = 16_000


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """Any numpy floating-point problem (divide by zero, invalid value, overflow) fails."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def _not_background(image: Image.Image) -> np.ndarray:
    return (_pixels(image) != np.array(BACKGROUND)).any(axis=2)


def _sine(amplitude: float, seconds: float = 1.0, freq: float = 5.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _sphere(n: int = 16_384, seed: int = 0) -> np.ndarray:
    p = np.random.default_rng(seed).normal(size=(n, 3))
    return (p / np.linalg.norm(p, axis=1, keepdims=True)).astype(np.float32)


def _plane(n: int = 16_384, seed: int = 0) -> np.ndarray:
    xz = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    return np.c_[xz[:, 0], np.zeros(n), xz[:, 1]].astype(np.float32)  # the y = 0 floor


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- images -------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1024, 512), (300, 900), (2000, 2000)])
def test_image_preview_is_rgb_with_longest_side_preview_size_and_aspect_kept(size):
    original = Image.new("RGB", size, (10, 200, 30))
    preview = image_preview(original)
    assert preview.mode == "RGB"
    assert max(preview.size) == PREVIEW_SIZE
    assert preview.width / preview.height == pytest.approx(size[0] / size[1], rel=0.01)
    assert original.size == size  # the input is left alone


def test_small_image_is_not_enlarged_and_keeps_its_pixels():
    original = Image.new("RGB", (40, 20), (1, 2, 3))
    preview = image_preview(original)
    assert preview.size == (40, 20)
    assert np.array_equal(np.asarray(preview), np.asarray(original))


def test_extreme_aspect_ratio_keeps_at_least_one_pixel():
    preview = image_preview(Image.new("RGB", (5000, 3)))
    assert preview.size == (PREVIEW_SIZE, 1)


def test_image_preview_converts_modes_and_composites_transparency_on_white():
    grey = image_preview(Image.new("L", (600, 300), 128))
    assert grey.mode == "RGB" and grey.size == (256, 128)
    assert np.all(np.asarray(grey) == 128)

    clear = image_preview(Image.new("RGBA", (64, 64), (255, 0, 0, 0)))
    assert clear.mode == "RGB"
    assert np.all(np.asarray(clear) == 255)


def test_image_preview_reduces_content_faithfully():
    half = np.zeros((400, 800, 3), dtype=np.uint8)
    half[:, 400:] = 255  # left black, right white
    preview = np.asarray(image_preview(Image.fromarray(half)))
    assert preview.shape == (128, 256, 3)
    assert preview[:, :120].max() < 10 and preview[:, 136:].min() > 245


# --- waveforms ----------------------------------------------------------------------------------

def test_waveform_is_rgb_preview_width_by_wave_height():
    preview = waveform_preview(_sine(0.5), RATE)
    assert preview.mode == "RGB"
    assert preview.size == (PREVIEW_SIZE, WAVE_HEIGHT)


def test_silence_is_one_flat_line_on_the_middle_row():
    changed = _not_background(waveform_preview(np.zeros(RATE, dtype=np.float32), RATE))
    rows = np.flatnonzero(changed.any(axis=1))
    assert len(rows) == 1 and rows[0] == WAVE_HEIGHT // 2
    assert changed[rows[0]].all()  # the line runs the full width


def test_sine_fills_much_of_the_height():
    # at 440 Hz every column holds many periods: a solid band from peak to trough
    changed = _not_background(waveform_preview(_sine(0.5, freq=440.0), RATE))
    assert changed.mean() > 0.8
    # at 5 Hz the columns trace the curve itself, still from the top margin to the bottom one
    changed = _not_background(waveform_preview(_sine(0.5), RATE))
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.max() - rows.min() > 0.8 * WAVE_HEIGHT
    assert changed.any(axis=0).all()


def test_waveform_is_scaled_to_the_peak():
    loud = np.asarray(waveform_preview(_sine(0.5), RATE))
    quiet = np.asarray(waveform_preview(_sine(0.125), RATE))
    assert np.array_equal(loud, quiet)


def test_near_silence_is_not_stretched_to_full_height():
    faint = _sine(1e-5)  # -100 dBFS: far below the preview's scaling floor
    changed = _not_background(waveform_preview(faint, RATE))
    rows = np.flatnonzero(changed.any(axis=1))
    assert len(rows) <= 3


def test_waveform_shape_follows_the_envelope():
    clip = np.concatenate([np.zeros(RATE, np.float32), _sine(0.8, freq=440.0)])
    changed = _not_background(waveform_preview(clip, RATE))
    height = changed.sum(axis=0)  # pixels drawn per column
    assert height[: PREVIEW_SIZE // 2 - 1].max() == 1  # the silent half: only the line
    assert height[PREVIEW_SIZE // 2 + 1:].min() > 0.8 * WAVE_HEIGHT  # the loud half: full


@pytest.mark.parametrize("count", [0, 1, 10, PREVIEW_SIZE - 1, PREVIEW_SIZE, PREVIEW_SIZE + 1])
def test_short_waveforms_give_a_valid_picture(count):
    samples = np.sin(np.arange(count, dtype=np.float32)).astype(np.float32)
    preview = waveform_preview(samples, RATE)
    assert preview.size == (PREVIEW_SIZE, WAVE_HEIGHT)
    assert _not_background(preview)[WAVE_HEIGHT // 2].any()


def test_ten_samples_draw_a_connected_curve():
    samples = np.array([0, 1, -1, 0.5, 0, 0, 0.2, -0.3, 0, 0], dtype=np.float32)
    changed = _not_background(waveform_preview(samples, RATE))
    assert changed.any(axis=0).all()  # every column has something
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.max() - rows.min() > 0.8 * WAVE_HEIGHT


def test_ten_minutes_at_48khz():
    rate = 48_000
    t = np.arange(600 * rate, dtype=np.float32) / rate
    clip = 0.25 * np.sin(2 * np.pi * 440 * t, dtype=np.float32)
    clip[: 300 * rate] = 0  # the first half silent
    changed = _not_background(waveform_preview(clip, rate))
    height = changed.sum(axis=0)
    assert height[: PREVIEW_SIZE // 2].max() == 1
    assert height[PREVIEW_SIZE // 2:].min() > 0.8 * WAVE_HEIGHT


def test_stereo_is_mixed_down_and_non_finite_samples_do_not_break_it():
    stereo = np.stack([_sine(0.5), _sine(0.5)], axis=1)
    assert np.array_equal(np.asarray(waveform_preview(stereo, RATE)),
                          np.asarray(waveform_preview(_sine(0.5), RATE)))
    broken = _sine(0.5)
    broken[100] = np.nan
    broken[5000] = np.inf
    assert waveform_preview(broken, RATE).size == (PREVIEW_SIZE, WAVE_HEIGHT)
    short = np.array([0.0, np.nan, 0.5, -np.inf, 0.2], np.float32)
    assert waveform_preview(short, RATE).size == (PREVIEW_SIZE, WAVE_HEIGHT)


def test_waveform_refuses_bad_rate_and_shape():
    with pytest.raises(ValueError):
        waveform_preview(_sine(0.5), 0)
    with pytest.raises(ValueError):
        waveform_preview(np.zeros((2, 3, 4), np.float32), RATE)


# --- point clouds -------------------------------------------------------------------------------

def test_cloud_preview_is_rgb_square():
    preview = cloud_preview(_sphere())
    assert preview.mode == "RGB"
    assert preview.size == (PREVIEW_SIZE, PREVIEW_SIZE)


def test_sphere_and_plane_are_both_drawn_and_look_different():
    sphere = cloud_preview(_sphere())
    plane = cloud_preview(_plane())
    sphere_mask, plane_mask = _not_background(sphere), _not_background(plane)
    assert sphere_mask.mean() > 0.4  # a disc filling most of the square
    assert plane_mask.mean() > 0.15  # a foreshortened square seen from above
    assert (sphere_mask != plane_mask).mean() > 0.2
    assert np.abs(_pixels(sphere) - _pixels(plane)).mean() > 20


def test_cloud_is_centred_and_scaled_whatever_its_position_and_size():
    base = cloud_preview(_sphere())
    moved = cloud_preview(_sphere() * 1000 + np.float32([5e4, -3e3, 7]))
    mask_a, mask_b = _not_background(base), _not_background(moved)
    assert (mask_a != mask_b).mean() < 0.02
    rows, cols = np.nonzero(mask_a)
    assert abs(rows.mean() - PREVIEW_SIZE / 2) < 5 and abs(cols.mean() - PREVIEW_SIZE / 2) < 5


def _layer(screen_x: tuple[float, float], nearness: float, n: int = 8000) -> np.ndarray:
    """Points filling a flat patch square to the fixed view, at a given depth."""
    right, up, toward = _view_axes()
    rng = np.random.default_rng(3)
    x = rng.uniform(*screen_x, size=(n, 1))
    y = rng.uniform(-1, 1, size=(n, 1))
    return (x * right + y * up + nearness * toward).astype(np.float32)


def test_near_points_are_darker_than_far_points():
    both = cloud_preview(np.r_[_layer((-1, -0.1), 0.5), _layer((0.1, 1), -0.5)])
    brightness = _pixels(both).sum(axis=2)
    drawn = _not_background(both)
    left = brightness[:, : PREVIEW_SIZE // 2][drawn[:, : PREVIEW_SIZE // 2]]
    right = brightness[:, PREVIEW_SIZE // 2:][drawn[:, PREVIEW_SIZE // 2:]]
    assert len(left) > 1000 and len(right) > 1000
    assert left.mean() + 150 < right.mean()


def test_near_points_hide_far_ones():
    shaded = cloud_preview(np.r_[_layer((-1, -0.1), 0.5), _layer((0.1, 1), -0.5)])
    near_colour = _pixels(shaded).sum(axis=2)[_not_background(shaded)].min()
    far_colour = _pixels(shaded).sum(axis=2)[_not_background(shaded)].max()
    # the far layer first in the array, the near one drawn over it on the same patch
    stacked = cloud_preview(np.r_[_layer((-1, 1), -0.5), _layer((-1, 1), 0.5)])
    brightness = _pixels(stacked).sum(axis=2)[_not_background(stacked)]
    assert (brightness < (near_colour + far_colour) / 2).mean() > 0.9


def test_cloud_preview_is_deterministic():
    first = _png_bytes(cloud_preview(_sphere()))
    second = _png_bytes(cloud_preview(_sphere().copy()))
    assert first == second


@pytest.mark.parametrize("points", [
    np.zeros((1, 3), np.float32),
    np.full((500, 3), 7.5, np.float32),
    np.outer(np.linspace(-1, 1, 300), [1.0, 2.0, -0.5]).astype(np.float32),  # collinear
    np.c_[np.linspace(0, 1, 200), np.zeros(200), np.zeros(200)].astype(np.float32),
    np.array([[0, 0, 0], [1, 1, 1]], np.float32),
], ids=["one", "identical", "collinear", "axis-line", "two"])
def test_degenerate_clouds_give_a_valid_non_blank_picture(points):
    preview = cloud_preview(points)
    assert preview.size == (PREVIEW_SIZE, PREVIEW_SIZE) and preview.mode == "RGB"
    assert _not_background(preview).any()


def test_empty_and_non_finite_clouds():
    empty = cloud_preview(np.empty((0, 3), np.float32))
    assert not _not_background(empty).any()
    with_nan = _sphere(2000)
    with_nan[::7] = np.nan
    with_nan[3] = [np.inf, 0, 0]
    clean = with_nan[np.isfinite(with_nan).all(axis=1)]
    assert np.array_equal(np.asarray(cloud_preview(with_nan)), np.asarray(cloud_preview(clean)))


def test_large_cloud_and_extra_columns():
    big = np.random.default_rng(1).normal(size=(200_000, 3)).astype(np.float32)
    assert _not_background(cloud_preview(big)).mean() > 0.2
    with_normals = np.c_[_sphere(3000), np.ones((3000, 3), np.float32)]
    assert np.array_equal(np.asarray(cloud_preview(with_normals)),
                          np.asarray(cloud_preview(_sphere(3000))))


def test_cloud_refuses_wrong_shape():
    with pytest.raises(ValueError):
        cloud_preview(np.zeros((10, 2), np.float32))
    with pytest.raises(ValueError):
        cloud_preview(np.zeros(30, np.float32))


# --- dispatch and writing -----------------------------------------------------------------------

def test_make_preview_dispatches_on_modality():
    image = make_preview("image", Image.new("RGB", (512, 256)))
    assert image.size == (256, 128)
    audio = make_preview("audio", _sine(0.5), RATE)
    assert np.array_equal(np.asarray(audio), np.asarray(waveform_preview(_sine(0.5), RATE)))
    cloud = make_preview("3d", _sphere())
    assert np.array_equal(np.asarray(cloud), np.asarray(cloud_preview(_sphere())))


def test_make_preview_refuses_unknown_modality_and_audio_without_rate():
    with pytest.raises(ValueError, match="text"):
        make_preview("text", "a cat")
    with pytest.raises(ValueError):
        make_preview("audio", _sine(0.5))


def test_write_preview_writes_a_png_atomically(tmp_path):
    target = tmp_path / "previews" / "ab" / "abcdef.png"
    preview = cloud_preview(_sphere(2000))
    assert write_preview(preview, target) == target
    with Image.open(target) as done:
        assert done.format == "PNG"
        assert np.array_equal(np.asarray(done.convert("RGB")), np.asarray(preview))
    assert [p.name for p in target.parent.iterdir()] == ["abcdef.png"]

    again = image_preview(Image.new("RGB", (100, 50), (9, 9, 9)))
    write_preview(again, target)  # replaces the old preview
    with Image.open(target) as done:
        assert done.size == (100, 50)
    assert [p.name for p in target.parent.iterdir()] == ["abcdef.png"]


def test_failed_write_leaves_no_temporary_file(tmp_path):
    class Broken:
        def save(self, *args, **kwargs):
            raise OSError("disk full")

    target = tmp_path / "p.png"
    with pytest.raises(OSError, match="disk full"):
        write_preview(Broken(), target)
    assert list(tmp_path.iterdir()) == []


def test_a_cloud_turned_round_is_drawn_mirrored_and_sizes_follow():
    rng = np.random.default_rng(5)
    # an L shape in the x-y plane: seen from the front and from behind it is mirrored
    points = np.r_[np.c_[rng.uniform(-1, 1, 4000), rng.uniform(-1, -0.7, 4000), np.zeros(4000)],
                   np.c_[rng.uniform(-1, -0.7, 4000), rng.uniform(-1, 1, 4000), np.zeros(4000)]]
    front = _not_background(cloud_preview(points, azimuth=0, elevation=0))
    back = _not_background(cloud_preview(points, azimuth=180, elevation=0))
    assert (front != back).mean() > 0.05
    assert (front != back[:, ::-1]).mean() < 0.01
    assert cloud_preview(points, size=96).size == (96, 96)
    top = _not_background(cloud_preview(points, elevation=90))  # clamped, still a picture
    assert top.any()
