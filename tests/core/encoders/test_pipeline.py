"""File -> vector: order kept, bad files reported with their reason, good ones all embedded,
results equal to the bare forward, cancel honoured."""

import numpy as np
import pytest
import torch
from PIL import Image

from core.encoders.clip import ClipImageEncoder, ClipTextEncoder, build_clip
from core.encoders.pipeline import embed_files, embed_items
from core.errors import Cancelled, CorruptFileError, UnsupportedFileError
from core.progress import CancelToken

TINY = {"model_cfg": {"embed_dim": 32,
                      "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "patch_size": 32},
                      "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64,
                                   "heads": 2, "layers": 1}}}


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return ClipImageEncoder(build_clip(TINY, None, "cpu"))


def _images(folder, n):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"img{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (80, 90, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_good_files_are_embedded_in_order_and_bad_ones_reported(encoder, tmp_path):
    paths = _images(tmp_path, 7)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (tmp_path / "notes.png").write_text("hello")
    inputs = paths[:3] + [tmp_path / "broken.jpg"] + paths[3:] + [tmp_path / "notes.png"]
    result = embed_files(encoder, inputs, batch_size=3, workers=2)
    assert result.ok == [0, 1, 2, 4, 5, 6, 7]
    assert [i for i, _ in result.failed] == [3, 8]
    assert all(isinstance(e, (CorruptFileError, UnsupportedFileError)) for _, e in result.failed)
    assert all(str(inputs[i]) in str(e) for i, e in result.failed)
    bare = encoder.forward(encoder.collate(
        [encoder.preprocess(Image.open(p).convert("RGB")) for p in paths]))
    assert torch.allclose(torch.from_numpy(result.vectors), bare, atol=1e-6)


def test_progress_counts_every_item_and_cancel_stops(encoder, tmp_path):
    paths = _images(tmp_path, 10)
    seen = []
    embed_files(encoder, paths, batch_size=4, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 10
    token = CancelToken()

    def stop_after_first_batch(p):
        if p.done >= 4:
            token.set()

    with pytest.raises(Cancelled):
        embed_files(encoder, paths, batch_size=4, progress=stop_after_first_batch,
                    cancel=token.is_set)


def test_texts_embed_through_the_same_loop():
    torch.manual_seed(0)
    text = ClipTextEncoder(build_clip(TINY, None, "cpu"))
    result = embed_items(text, ["a worn gear", "a leaking pump", "a loose bolt"], batch_size=2)
    assert result.vectors.shape == (3, 32) and result.ok == [0, 1, 2]
    assert np.allclose(np.linalg.norm(result.vectors, axis=1), 1, atol=1e-5)
