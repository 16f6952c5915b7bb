"""CLIP (image + text) through open_clip, built from a config and verified weights, no hub.

The pack stores open_clip's state-dict layout (which is OpenAI's own layout, minus the three
integer entries of the original TorchScript archive); `from_openai_state_dict` converts that
archive's dictionary when the real pack is built."""

from __future__ import annotations

from dataclasses import dataclass

from core.encoders.base import Encoder, normalised

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_OPENAI_EXTRA_KEYS = ("input_resolution", "context_length", "vocab_size")


@dataclass
class ClipModel:
    model: object  # open_clip.model.CLIP, eval mode, on its device
    transform: object  # PIL image -> tensor
    tokenizer: object  # list[str] -> LongTensor [N, context_length]
    device: object


def build_clip(config: dict, tensors: dict | None, device) -> ClipModel:
    """`config`: {"model_cfg": open_clip model config (embed_dim, vision_cfg, text_cfg),
    "quick_gelu": bool}. Loads `tensors` with strict key matching."""
    import open_clip
    import torch
    from open_clip.model import CLIP

    device = torch.device(device)
    model_cfg = config["model_cfg"]
    model = CLIP(**model_cfg, quick_gelu=bool(config.get("quick_gelu", False)))
    if tensors is not None:
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        if missing or unexpected:
            raise ValueError(f"CLIP weights do not fit the config: missing {sorted(missing)[:5]}, "
                             f"unexpected {sorted(unexpected)[:5]}")
    model.eval().to(device)
    transform = open_clip.image_transform(
        model.visual.image_size, is_train=False, mean=OPENAI_MEAN, std=OPENAI_STD)
    text = model_cfg["text_cfg"]
    tokenizer = open_clip.SimpleTokenizer(context_length=text.get("context_length", 77))
    return ClipModel(model, transform, tokenizer, device)


def from_openai_state_dict(state_dict: dict) -> dict:
    """The dictionary of OpenAI's ViT-B-32.pt archive in open_clip's layout."""
    return {k: v for k, v in state_dict.items() if k not in _OPENAI_EXTRA_KEYS}


class ClipImageEncoder(Encoder):
    modality = "image"

    def __init__(self, clip: ClipModel) -> None:
        super().__init__(clip.device)
        self.clip = clip
        self.dim = clip.model.text_projection.shape[1]

    def preprocess(self, item):
        return self.clip.transform(item)

    def forward(self, batch):
        import torch

        with torch.inference_mode(), self.autocast():
            return normalised(self.clip.model.encode_image(batch.to(self.device)))


class ClipTextEncoder(Encoder):
    modality = "text"

    def __init__(self, clip: ClipModel) -> None:
        super().__init__(clip.device)
        self.clip = clip
        self.dim = clip.model.text_projection.shape[1]

    def preprocess(self, item: str):
        return self.clip.tokenizer([item])[0]

    def forward(self, batch):
        import torch

        with torch.inference_mode(), self.autocast():
            return normalised(self.clip.model.encode_text(batch.to(self.device)))
