"""Random weights saved in the public checkpoints' exact layouts (for loading tests).

Each maker returns what the official file holds; none of it is a real checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

ROBERTA_BASE = {  # roberta-base's config.json: the layout of the official CLAP checkpoints
    "architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
    "type_vocab_size": 1, "vocab_size": 50265,
}
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
CAPTIONS = ["a grinding noise from a worn bearing", "the pump is leaking oil onto the floor",
            "a loose bolt rattles on the conveyor", "a cracked gear tooth clicks once per turn"]


def roberta_text_files(folder: Path) -> Path:
    """A tiny byte-level BPE tokenizer (vocab.json, merges.txt) and roberta-base's config."""
    from tokenizers import ByteLevelBPETokenizer

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CAPTIONS, vocab_size=300, min_frequency=1, special_tokens=SPECIALS,
                            show_progress=False)
    bpe.save_model(str(folder))
    (folder / "config.json").write_text(json.dumps(ROBERTA_BASE))
    return folder


def openai_clip_state_dict(model) -> dict:
    """OpenAI's ViT-B-32.pt dictionary: open_clip's layout plus three integer entries."""
    state = dict(model.state_dict())
    state.update(input_resolution=torch.tensor(224), context_length=torch.tensor(77),
                 vocab_size=torch.tensor(49408))
    return state


def clap_checkpoint(model) -> dict:
    """laion_clap's 630k-*.pt: DDP `module.` prefixes, an old position_ids buffer, an epoch."""
    state = {"module." + k: v for k, v in model.state_dict().items()}
    state["module.text_branch.embeddings.position_ids"] = torch.arange(514).expand((1, -1))
    return {"epoch": 45, "state_dict": state}


def ulip2_checkpoint(model) -> dict:
    """pointbert_ULIP-2.pt: the point encoder under `module.point_encoder.`, the projection,
    other ULIP towers (ignored by the loader) and the training args as a Namespace."""
    state = {}
    for key, value in model.state_dict().items():
        name = "module.pc_projection" if key == "pc_projection" else f"module.point_encoder.{key}"
        state[name] = value
    state["module.image_projection"] = torch.randn(768, 512)
    state["module.logit_scale"] = torch.tensor(2.6)
    return {"state_dict": state, "epoch": 10, "args": argparse.Namespace(model="ULIP_PointBERT")}


def randomise_(model, scale: float = 0.02):
    """Move every floating weight off its initial constant, so a missed load shows."""
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if name.endswith("running_var"):
                value.mul_(torch.empty_like(value).uniform_(0.5, 1.5))
            elif value.is_floating_point():
                value.add_(torch.randn_like(value) * scale)
    return model.eval()
