"""Contrastive training of the demo spaces: InfoNCE, the loop's determinism, checkpoint/resume,
cancel, groups with shared and missing items, cached inputs, and a quick run on the small world."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from core.alignment.spaces import info_nce, learning_rate, train_space
from core.errors import Cancelled


def _toy(seed: int = 0, n: int = 96, concepts: int = 8):
    """Two modalities that are noisy linear views of the same latent concept."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(concepts, 6))
    labels = rng.integers(0, concepts, n)
    a = latent[labels] @ rng.normal(size=(6, 10)) + 0.1 * rng.normal(size=(n, 10))
    b = latent[labels] @ rng.normal(size=(6, 12)) + 0.1 * rng.normal(size=(n, 12))
    return {"a": torch.tensor(a, dtype=torch.float32), "b": torch.tensor(b, dtype=torch.float32),
            "labels": labels}


def _towers(seed: int = 0) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    return {"a": nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(),
                               nn.Linear(16, 8)),
            "b": nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8))}


def _weights(towers) -> dict[str, torch.Tensor]:
    return {f"{m}.{k}": v.clone() for m, t in towers.items() for k, v in t.state_dict().items()}


def _same(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


TRAIN = {"epochs": 6, "batch_size": 16, "lr": 1e-2, "seed": 3}


def test_info_nce_is_the_symmetric_cross_entropy():
    torch.manual_seed(0)
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    scale = torch.tensor(math.log(1 / 0.07))
    logits = torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(b, dim=1).T
    logits = logits / 0.07
    target = torch.arange(5)
    expected = 0.5 * (torch.nn.functional.cross_entropy(logits, target)
                      + torch.nn.functional.cross_entropy(logits.T, target))
    assert torch.allclose(info_nce(a, b, scale), expected, atol=1e-5)


def test_rows_sharing_an_item_are_not_negatives():
    torch.manual_seed(0)
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    b[2] = b[0]  # two groups with the same caption
    scale = torch.tensor(0.0)
    masked = info_nce(a, b, scale, ids_a=torch.arange(4), ids_b=torch.tensor([7, 1, 7, 3]))
    logits = torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(b, dim=1).T
    logits[0, 2] = logits[2, 0] = -torch.inf
    target = torch.arange(4)
    expected = 0.5 * (torch.nn.functional.cross_entropy(logits, target)
                      + torch.nn.functional.cross_entropy(logits.T, target))
    assert torch.allclose(masked, expected, atol=1e-6)


def test_learning_rate_warms_up_then_decays_to_zero():
    rates = [learning_rate(s, 200, 1.0) for s in range(200)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(x >= y for x, y in zip(rates[9:], rates[10:]))
    assert rates[-1] < 1e-3


def test_loss_decreases_and_pairs_align_on_a_toy_problem():
    data, towers = _toy(), _towers()
    labels = data.pop("labels")
    history = train_space(towers, data, None, epochs=30, batch_size=32, lr=1e-2, seed=0)
    assert len(history) == 30 * 3
    assert np.mean(history[-6:]) < 0.5 * np.mean(history[:6])
    assert not towers["a"].training  # left in eval mode
    with torch.no_grad():
        a = torch.nn.functional.normalize(towers["a"](data["a"]), dim=1)
        b = torch.nn.functional.normalize(towers["b"](data["b"]), dim=1)
    nearest = (a @ b.T).argmax(dim=1).numpy()
    assert (labels[nearest] == labels).mean() > 0.8


def test_training_is_deterministic_given_the_seed():
    data = _toy()
    data.pop("labels")
    one, two = _towers(), _towers()
    h1 = train_space(one, data, None, **TRAIN)
    h2 = train_space(two, data, None, **TRAIN)
    assert h1 == h2 and _same(_weights(one), _weights(two))
    three = _towers()
    assert train_space(three, data, None, **{**TRAIN, "seed": 4}) != h1


def test_cancel_raises_cancelled():
    with pytest.raises(Cancelled):
        train_space(_towers(), {"a": torch.zeros(20, 10), "b": torch.zeros(20, 12)}, None,
                    **TRAIN, cancel=lambda: True)


def test_resume_from_a_checkpoint_ends_with_the_uninterrupted_weights(tmp_path):
    data = _toy()
    data.pop("labels")
    straight = _towers()
    expected = train_space(straight, data, None, **TRAIN)

    path = tmp_path / "space.pt"
    seen = []

    def stop_after_ten(p):
        seen.append(p.done)

    interrupted = _towers()
    with pytest.raises(Cancelled):
        train_space(interrupted, data, None, **TRAIN, checkpoint=path, progress=stop_after_ten,
                    cancel=lambda: len(seen) > 11)
    assert path.is_file()
    state = torch.load(path, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert 0 < len(state["history"]) < len(expected)

    resumed = _towers(seed=99)  # fresh objects: everything comes from the checkpoint
    history = train_space(resumed, data, None, **TRAIN, checkpoint=path)
    assert history == expected
    assert _same(_weights(resumed), _weights(straight))
    # A finished checkpoint returns at once; one of other settings is ignored.
    assert train_space(_towers(), data, None, **TRAIN, checkpoint=path) == expected
    other = train_space(_towers(), data, None, **{**TRAIN, "epochs": 2}, checkpoint=path)
    assert len(other) == 2 * 6


def test_groups_index_shared_items_and_skip_missing_modalities():
    rng = np.random.default_rng(1)
    inputs = {"a": torch.tensor(rng.normal(size=(40, 10)), dtype=torch.float32),
              "b": torch.tensor(rng.normal(size=(7, 12)), dtype=torch.float32),
              "c": torch.tensor(rng.normal(size=(40, 3)), dtype=torch.float32)}
    torch.manual_seed(0)
    towers = {**_towers(), "c": nn.Linear(3, 8)}
    groups = {"a": np.arange(40), "b": np.arange(40) % 7,
              "c": np.where(np.arange(40) % 4 == 0, -1, np.arange(40))}
    history = train_space(towers, inputs, groups, epochs=2, batch_size=10, lr=1e-2, seed=0)
    assert len(history) == 8 and all(np.isfinite(history))


def test_cache_inputs_reads_world_files_and_dedupes_captions(small_world):
    from core.alignment.features import cache_inputs
    from core.encoders.demo import SmallImageEncoder, WordTextEncoder, build_vocabulary
    from core.world.manifest import read_manifest

    folder, _ = small_world
    rows = [r for r in read_manifest(folder) if r.split == "base_pairs"][:6]
    image = SmallImageEncoder({"width": 16, "image_size": 32, "output_dim": 16})
    pixels = cache_inputs(folder, rows, image)
    assert pixels.shape == (6, 3, 32, 32) and pixels.dtype == torch.uint8
    from core import io

    assert torch.equal(pixels[2], image.cache_item(io.load_image(folder / rows[2].path)))
    text = WordTextEncoder(build_vocabulary(r.caption for r in rows), {"output_dim": 16})
    ids = cache_inputs(folder, rows + rows[:2], text)
    assert ids.shape == (8, 24) and torch.equal(ids[6], ids[0])
    assert torch.equal(ids[1], text.preprocess(rows[1].caption))


@pytest.mark.slow
def test_quick_training_on_the_small_world_aligns_images_and_texts(small_world, tmp_path):
    from core.alignment.spaces import train_demo_spaces

    folder, _ = small_world
    result = train_demo_spaces(folder, tmp_path / "spaces", budget="quick", dim=64,
                               spaces=("base",))
    base = result["spaces"]["base"]
    chance = 1 / 60
    assert base["retrieval"]["image->text"]["R@1"] > 5 * chance
    assert base["retrieval"]["text->image"]["R@1"] > 5 * chance
    saved = json.loads((tmp_path / "spaces" / "spaces.json").read_text())
    assert saved["spaces"]["base"]["components"]["image"]["arch"] == "small_image"
    for m in ("image", "text"):
        assert (tmp_path / "spaces" / f"base_{m}.safetensors").is_file()
