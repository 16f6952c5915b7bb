"""CLIP ViT-B/32: random weights in the official layouts load strictly through the pack path and
give exactly the outputs of the model open_clip builds the official way."""

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image

from core.encoders.clip import (
    ClipImageEncoder,
    ClipTextEncoder,
    build_clip,
    from_openai_state_dict,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def official():
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True).eval()
    return model


@pytest.fixture(scope="module")
def config():
    return {"model_cfg": open_clip.get_model_config("ViT-B-32"), "quick_gelu": True}


def _image(seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))


def test_open_clip_layout_loads_strictly_and_matches(official, config, tmp_path):
    from safetensors.torch import load_file, save_file

    save_file(official.state_dict(), str(tmp_path / "clip.safetensors"))
    clip = build_clip(config, load_file(str(tmp_path / "clip.safetensors")), "cpu")
    image, text = ClipImageEncoder(clip), ClipTextEncoder(clip)
    pixels = image.collate([image.preprocess(_image(s)) for s in range(2)])
    tokens = text.collate([text.preprocess(t) for t in ["a cracked gear", "a leaking pump"]])
    with torch.no_grad():
        ref_img = torch.nn.functional.normalize(official.encode_image(pixels), dim=-1)
        ref_txt = torch.nn.functional.normalize(official.encode_text(tokens), dim=-1)
    assert torch.equal(image.forward(pixels), ref_img)
    assert torch.equal(text.forward(tokens), ref_txt)
    assert image.forward(pixels).shape == (2, 512) and image.dim == text.dim == 512


def test_openai_archive_layout_converts_and_loads(official, config):
    openai = dict(official.state_dict())
    openai.update(input_resolution=torch.tensor(224), context_length=torch.tensor(77),
                  vocab_size=torch.tensor(49408))
    clip = build_clip(config, from_openai_state_dict(openai), "cpu")
    for key, value in official.state_dict().items():
        assert torch.equal(clip.model.state_dict()[key], value)


def test_wrong_weights_are_refused_with_the_keys(config, official):
    broken = dict(official.state_dict())
    broken.pop("visual.proj")
    broken["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="visual.proj"):
        build_clip(config, broken, "cpu")


def test_tokenizer_works_offline(official, config):
    clip = build_clip(config, official.state_dict(), "cpu")
    tokens = ClipTextEncoder(clip).preprocess("oil leak at the pump seal")
    assert tokens.shape == (77,) and int(tokens[0]) == 49406  # start-of-text
