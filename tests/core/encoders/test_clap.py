"""CLAP (laion_clap 1.1.7) offline: random weights saved in the official checkpoint layout load
strictly through `load_clap` and give the embeddings of laion_clap's own code paths
(`CLAP_Module.get_audio_embedding_from_data` / `get_text_embedding`, executed verbatim from the
installed sources without importing `laion_clap`), with no hub and no network."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from core.encoders.clap import (
    CLIP_SAMPLES,
    ClapAudioEncoder,
    ClapBundle,
    ClapTextEncoder,
    ClapWeightsError,
    clap_package,
    fit_to_clip,
    load_clap,
    load_official_weights,
    load_text_tokenizer,
    quantise_int16,
)
from core.errors import EmptyInputError
from tests import conftest

os.environ["HF_HUB_OFFLINE"] = "1"  # conftest sets it too; the tests never need a hub

LAION = Path(importlib.util.find_spec("laion_clap").submodule_search_locations[0])
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's ids 0..3 (+ mask)
ROBERTA_BASE = {  # roberta-base's config.json: the layout of the official CLAP checkpoints
    "architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
    "type_vocab_size": 1, "vocab_size": 50265,
}
CAPTIONS = [
    "a grinding noise from a worn bearing", "the pump is leaking oil onto the floor",
    "a loose bolt rattles on the conveyor", "a cracked gear tooth clicks once per turn",
    "the misaligned fan hums loudly", "steam hisses from a leaking valve",
    "the motor whines at high speed", "a weld seam cracks under load",
]
TEXTS = ["a worn bearing grinding", "leaking pump", "the fan " * 60, ""]  # one over 77 tokens


def _audio_clips() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    t = np.arange(13 * 48_000) / 48_000
    long = (0.3 * np.sin(2 * np.pi * 440 * t) * np.linspace(0, 1, t.size)).astype(np.float32)
    return [
        rng.uniform(-0.5, 0.5, CLIP_SAMPLES).astype(np.float32),  # exactly 10 s
        rng.uniform(-1.5, 1.5, int(3.7 * 48_000)).astype(np.float32),  # short, clipped values
        long,  # 13 s: centre-cropped
        rng.normal(0, 0.1, 48_000).astype(np.float32),  # 1 s
    ]


def _official(relpath: str, names: list[str], namespace: dict, class_name: str | None = None):
    """Functions of the installed laion_clap source, executed without importing their module
    (whose import would load tokenizers from the hub)."""
    path = LAION / relpath
    body = ast.parse(path.read_text()).body
    if class_name:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == class_name).body
    funcs = [n for n in body if isinstance(n, ast.FunctionDef) and n.name in names]
    assert sorted(f.name for f in funcs) == sorted(names)
    exec(compile(ast.Module(body=funcs, type_ignores=[]), str(path), "exec"), namespace)
    return {name: namespace[name] for name in names}


DATA = _official("training/data.py", ["int16_to_float32", "float32_to_int16", "get_audio_features"],
                 {"np": np, "torch": torch, "F": torch.nn.functional,
                  "suppress": contextlib.suppress})
HOOK = _official("hook.py", ["tokenizer", "get_audio_embedding_from_data", "get_text_embedding"],
                 {"torch": torch, **DATA}, class_name="CLAP_Module")
OfficialClapModule = type("OfficialClapModule", (), HOOK)  # CLAP_Module's methods, verbatim


def _fresh_clap_module(name: str):
    """An untouched copy of laion_clap's clap_module (not the one core.encoders.clap guards)."""
    folder = LAION / "clap_module"
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    from tokenizers import ByteLevelBPETokenizer

    folder = tmp_path_factory.mktemp("clap_text")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CAPTIONS, vocab_size=400, min_frequency=1, special_tokens=SPECIALS,
                            show_progress=False)
    bpe.save_model(str(folder))  # vocab.json + merges.txt
    (folder / "config.json").write_text(json.dumps(ROBERTA_BASE))
    return folder


@pytest.fixture(scope="module")
def reference(text_dir, tmp_path_factory):
    """The official build (create_model with RobertaModel.from_pretrained answered from the
    config instead of the hub), random weights, saved as the official checkpoint and as
    safetensors, and the official code paths' embeddings."""
    from safetensors.torch import save_file
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    attempts = len(conftest.NETWORK_ATTEMPTS)
    config = RobertaConfig.from_json_file(str(text_dir / "config.json"))
    official = _fresh_clap_module("_test_reference_clap_module")
    torch.manual_seed(0)
    with mock.patch.object(RobertaModel, "from_pretrained",
                           classmethod(lambda cls, name, *a, **k: cls(config))):
        model, model_cfg = official.create_model("HTSAT-tiny", "roberta", pretrained="")
    with torch.no_grad():  # no parameter keeps its constant init: a missed load would show
        for name, value in model.state_dict().items():
            if name.endswith("running_var"):
                value.mul_(torch.empty_like(value).uniform_(0.5, 1.5))
            elif value.is_floating_point() and "extractor" not in name:
                value.add_(torch.randn_like(value) * 0.02)
    model.eval()

    folder = tmp_path_factory.mktemp("clap_weights")
    state = {"module." + k: v for k, v in model.state_dict().items()}
    # Saved by transformers < 4.31 as a persistent buffer; laion_clap's loader deletes it.
    state["module.text_branch.embeddings.position_ids"] = torch.arange(514).expand((1, -1))
    torch.save({"epoch": 45, "state_dict": state}, folder / "630k-audioset-best.pt")
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "clap.safetensors"))

    module = OfficialClapModule()
    module.model, module.model_cfg, module.enable_fusion = model, model_cfg, False
    module.tokenize = RobertaTokenizer.from_pretrained(str(text_dir), local_files_only=True)
    clips = _audio_clips()
    start = (len(clips[2]) - CLIP_SAMPLES) // 2  # laion_clap crops at random; we take the centre
    official_clips = [clips[0], clips[1], clips[2][start:start + CLIP_SAMPLES], clips[3]]
    audio = torch.from_numpy(module.get_audio_embedding_from_data(official_clips))
    text = torch.from_numpy(module.get_text_embedding(TEXTS))
    assert len(conftest.NETWORK_ATTEMPTS) == attempts
    return {"model": model, "folder": folder, "clips": clips, "audio": audio, "text": text}


def _assert_matches(bundle: ClapBundle, reference) -> None:
    loaded = bundle.model.state_dict()
    for key, value in reference["model"].state_dict().items():
        assert torch.equal(loaded[key], value), key
    audio, text = ClapAudioEncoder(bundle), ClapTextEncoder(bundle)
    got_audio = audio.forward(audio.collate([audio.preprocess(c) for c in reference["clips"]]))
    got_text = text.forward(text.collate([text.preprocess(t) for t in TEXTS]))
    for got, want in ((got_audio, reference["audio"]), (got_text, reference["text"])):
        assert got.dtype == torch.float32 and got.device.type == "cpu"
        assert got.shape == want.shape == (4, 512)
        assert torch.allclose(got.norm(dim=-1), torch.ones(4), atol=1e-5)
        assert (got - want).abs().max().item() < 1e-5
    short = [0, 1, 3]  # without the 77-token text the batch is cut to its longest caption
    got_short = text.forward(text.collate([text.preprocess(TEXTS[i]) for i in short]))
    assert (got_short - reference["text"][short]).abs().max().item() < 1e-5
    assert not torch.allclose(got_audio[0], got_audio[1], atol=1e-3)  # inputs do matter
    assert not torch.allclose(got_text[0], got_text[1], atol=1e-3)


@pytest.mark.slow
def test_clap_module_imports_without_laion_clap_init_or_sys_path():
    attempts = len(conftest.NETWORK_ATTEMPTS)
    package = clap_package()
    assert package.__name__ == "_mcr_laion_clap_module" and hasattr(package, "create_model")
    for name in ("laion_clap", "laion_clap.hook", "laion_clap.training.data", "training.data",
                 "clap_module"):
        assert name not in sys.modules, name
    assert str(LAION) not in sys.path
    assert len(conftest.NETWORK_ATTEMPTS) == attempts


@pytest.mark.slow
def test_guard_refuses_a_roberta_from_the_hub_outside_a_pack_build():
    model_module = sys.modules[clap_package().__name__ + ".model"]
    with pytest.raises(RuntimeError, match="refusing to reach a model hub"):
        model_module.RobertaModel.from_pretrained("roberta-base")
    with pytest.raises(RuntimeError, match="refusing to reach a model hub"):
        model_module.BertModel.from_pretrained("bert-base-uncased")


@pytest.mark.slow
def test_official_checkpoint_loads_strictly_and_matches_laion_clap(reference, text_dir):
    attempts = len(conftest.NETWORK_ATTEMPTS)
    checkpoint = torch.load(reference["folder"] / "630k-audioset-best.pt", map_location="cpu",
                            weights_only=True)
    bundle = load_clap(checkpoint, text_dir)
    assert not bundle.model.training and bundle.device == torch.device("cpu")
    _assert_matches(bundle, reference)
    assert len(conftest.NETWORK_ATTEMPTS) == attempts


@pytest.mark.slow
def test_safetensors_file_loads_strictly_and_matches_laion_clap(reference, text_dir):
    bundle = load_clap(reference["folder"] / "clap.safetensors", text_dir)
    _assert_matches(bundle, reference)


@pytest.mark.slow
def test_missing_and_unexpected_keys_are_refused_by_name(reference, text_dir):
    model = reference["model"]
    state = {"module." + k: v for k, v in model.state_dict().items()}
    before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("audio_proj")}

    missing = dict(state)
    del missing["module.audio_projection.0.weight"]
    with pytest.raises(ValueError, match=r"missing keys: audio_projection\.0\.weight"):
        load_official_weights(model, missing)

    unexpected = dict(state)
    unexpected["module.audio_branch.extra_head.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match=r"unexpected keys: audio_branch\.extra_head\.weight"):
        load_official_weights(model, unexpected)

    wrong = dict(state)
    wrong["module.audio_projection.0.weight"] = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=r"wrong shapes: audio_projection\.0\.weight"):
        load_official_weights(model, wrong)
    for key, value in before.items():  # a refused load leaves the model as it was
        assert torch.equal(model.state_dict()[key], value)

    both = dict(missing)
    both["module.audio_branch.extra_head.weight"] = torch.zeros(3)
    with pytest.raises(ClapWeightsError) as err:
        load_clap(both, text_dir)
    assert "missing keys: audio_projection.0.weight" in str(err.value)
    assert "unexpected keys: audio_branch.extra_head.weight" in str(err.value)


def _fake_bundle(tokenizer=None, enable_fusion=False) -> ClapBundle:
    return ClapBundle(model=None, tokenizer=tokenizer, model_cfg={}, device=torch.device("cpu"),
                      enable_fusion=enable_fusion)


def test_quantisation_is_laion_clap_int16_round_trip_bit_for_bit():
    x = np.random.default_rng(0).normal(0, 0.7, 100_000).astype(np.float32)
    official = DATA["int16_to_float32"](DATA["float32_to_int16"](x))
    assert official.dtype == np.float32 and np.array_equal(quantise_int16(x), official)


def test_long_clips_give_their_centre_ten_seconds():
    encoder = ClapAudioEncoder(_fake_bundle())
    for n in (CLIP_SAMPLES + 1, CLIP_SAMPLES + 7, 13 * 48_000):
        wave = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
        out = encoder.preprocess(wave)
        start = (n - CLIP_SAMPLES) // 2
        assert out.shape == (CLIP_SAMPLES,) and out.dtype == torch.float32
        assert np.array_equal(out.numpy(), quantise_int16(wave[start:start + CLIP_SAMPLES]))
        assert torch.equal(out, encoder.preprocess(wave))  # deterministic
    wave = np.arange(13 * 48_000, dtype=np.float32)
    assert fit_to_clip(wave)[0] == 72_000 and fit_to_clip(wave)[-1] == 72_000 + CLIP_SAMPLES - 1


@pytest.mark.parametrize("seconds", [0.25, 1.5, 3.7, 7.0, 10.0])
def test_short_clips_are_repeat_padded_as_laion_clap_does(seconds):
    encoder = ClapAudioEncoder(_fake_bundle())
    n = int(seconds * 48_000)
    wave = np.random.default_rng(n).uniform(-0.9, 0.9, n).astype(np.float32)
    out = encoder.preprocess(wave)
    assert out.shape == (CLIP_SAMPLES,) and out.dtype == torch.float32
    repeats = CLIP_SAMPLES // n
    q = quantise_int16(wave)
    assert np.array_equal(out[: repeats * n].numpy(), np.tile(q, repeats))
    assert not out[repeats * n:].any()  # the rest is zeros, not a partial repeat
    official = DATA["get_audio_features"]({}, torch.from_numpy(q), CLIP_SAMPLES, "rand_trunc",
                                          "repeatpad", {})
    assert torch.equal(out, official["waveform"])


def test_bad_waveforms_and_fusion_models_are_refused():
    encoder = ClapAudioEncoder(_fake_bundle())
    with pytest.raises(EmptyInputError):
        encoder.preprocess(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="mono"):
        encoder.preprocess(np.zeros((2, 48_000), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        encoder.preprocess(np.full(10, np.nan, np.float32))
    with pytest.raises(NotImplementedError, match="fusion"):
        ClapAudioEncoder(_fake_bundle(enable_fusion=True))


def test_text_tokens_are_laion_clap_roberta_format(text_dir):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig

    config = RobertaConfig.from_json_file(str(text_dir / "config.json"))
    encoder = ClapTextEncoder(_fake_bundle(load_text_tokenizer(text_dir, config)))
    raw = ByteLevelBPETokenizer(str(text_dir / "vocab.json"), str(text_dir / "merges.txt"))
    for text in TEXTS:
        item = encoder.preprocess(text)
        ids = [0] + raw.encode(text).ids[:75] + [2]  # <s> ... </s>, 77 at most
        want = ids + [1] * (77 - len(ids))  # <pad> is 1, as in roberta-base
        assert item["input_ids"].tolist() == want
        assert item["attention_mask"].tolist() == [1] * len(ids) + [0] * (77 - len(ids))
    assert len(raw.encode(TEXTS[2]).ids) > 77  # the long text was truncated
    batch = encoder.collate([encoder.preprocess(t) for t in TEXTS])
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (4, 77)
    assert batch["input_ids"].dtype == torch.long
    texts = [f"{CAPTIONS[i % 8]} {'again ' * (i % 13)}" for i in range(400)]
    with ThreadPoolExecutor(8) as pool:  # preprocess runs in worker threads
        threaded = list(pool.map(encoder.preprocess, texts))
    for text, item in zip(texts, threaded):
        assert torch.equal(item["input_ids"], encoder.preprocess(text)["input_ids"])


def test_tokenizer_that_does_not_fit_the_config_is_refused(text_dir, tmp_path):
    for name in ("vocab.json", "merges.txt"):
        (tmp_path / name).write_bytes((text_dir / name).read_bytes())
    (tmp_path / "config.json").write_text(json.dumps({**ROBERTA_BASE, "pad_token_id": 0}))
    from core.encoders.clap import load_text_config

    with pytest.raises(ClapWeightsError, match="pad_token_id is 1, config.json says 0"):
        load_text_tokenizer(tmp_path, load_text_config(tmp_path))
    (tmp_path / "merges.txt").unlink()
    with pytest.raises(ClapWeightsError, match="tokenizer files are missing"):
        load_text_tokenizer(tmp_path)
