"""CLAP (laion_clap 1.1.7) offline: random weights saved in the official checkpoint layout load
strictly through `load_clap` and give the embeddings of laion_clap's own code paths
(`CLAP_Module.get_audio_embedding_from_data` / `get_text_embedding`, executed verbatim from the
installed sources without importing `laion_clap`), with no hub and no network. Fusion models
(630k-fusion-best's layout) are checked against the official `get_audio_features(..., "fusion")`
path, run verbatim with torch stand-ins for the two torchaudio transforms its `get_mel` uses
(torchaudio is not installed) and its random crop starts forced to the middle of each third."""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import json
import math
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
    MelFrontEnd,
    clap_package,
    fit_to_clip,
    fusion_starts,
    load_clap,
    load_official_weights,
    load_text_tokenizer,
    mel_filterbank,
    quantise_int16,
)
from core.errors import EmptyInputError
from tests import conftest
from tests.official_layouts import ROBERTA_BASE, SPECIALS

os.environ["HF_HUB_OFFLINE"] = "1"  # conftest sets it too; the tests never need a hub

LAION = Path(importlib.util.find_spec("laion_clap").submodule_search_locations[0])
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

AUDIO_CFG = json.loads((LAION / "clap_module/model_configs/HTSAT-tiny.json").read_text())[
    "audio_cfg"]


class _TorchaudioStandIn:
    """The two torchaudio transforms laion_clap's `get_mel` builds (torchaudio is not installed),
    transliterated to torch from torchaudio's sources: `MelSpectrogram` = `Spectrogram`
    (`torch.stft` with a periodic Hann window, `.abs().pow(power)`) then `MelScale`
    (`melscale_fbanks`, HTK scale, float32), and `AmplitudeToDB` (stype "power", amin 1e-10,
    ref 1). Written independently of core.encoders.clap."""

    class transforms:  # noqa: N801 - torchaudio.transforms
        class MelSpectrogram(torch.nn.Module):
            def __init__(self, sample_rate, n_fft, win_length, hop_length, center, pad_mode,
                         power, norm, onesided, n_mels, f_min, f_max):
                super().__init__()
                assert norm is None and onesided
                self.stft = {"n_fft": n_fft, "hop_length": hop_length, "win_length": win_length,
                             "window": torch.hann_window(win_length), "center": center,
                             "pad_mode": pad_mode, "normalized": False, "onesided": onesided,
                             "return_complex": True}
                self.power = power

                def hz_to_mel(f):
                    return 2595.0 * math.log10(1.0 + (f / 700.0))

                all_freqs = torch.linspace(0, sample_rate // 2, n_fft // 2 + 1)
                m_pts = torch.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2)
                f_pts = 700.0 * (10.0 ** (m_pts / 2595.0) - 1.0)
                f_diff = f_pts[1:] - f_pts[:-1]
                slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
                down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
                up_slopes = slopes[:, 2:] / f_diff[1:]
                self.fb = torch.max(torch.zeros(1), torch.min(down_slopes, up_slopes))

            def forward(self, waveform):
                shape = waveform.size()
                spec = torch.stft(waveform.reshape(-1, shape[-1]), **self.stft)
                spec = spec.reshape(shape[:-1] + spec.shape[-2:]).abs().pow(self.power)
                return torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)

        class AmplitudeToDB:
            def __init__(self, stype="power", top_db=None):
                assert stype == "power" and top_db is None
                self.db_multiplier = math.log10(max(1e-10, 1.0))

            def __call__(self, x):
                x_db = 10.0 * torch.log10(torch.clamp(x, min=1e-10))
                return x_db - 10.0 * self.db_multiplier


@functools.cache
def _fusion_data():
    import torchvision.transforms  # noqa: F401 - laion_clap's data.py imports it so

    return _official("training/data.py", ["int16_to_float32", "float32_to_int16", "get_mel",
                                          "get_audio_features"],
                     {"np": np, "torch": torch, "F": torch.nn.functional,
                      "suppress": contextlib.suppress, "torchaudio": _TorchaudioStandIn,
                      "torchvision": sys.modules["torchvision"]})


def _middle_choice():
    """laion_clap picks each fusion chunk start with np.random.choice(third); we take the middle
    of each third. (Its random crop of the waveform is left alone: the fusion model ignores it.)"""
    return mock.patch.object(np.random, "choice", lambda a: a[len(a) // 2])


def _official_fusion_features(waveform: np.ndarray) -> dict:
    data = _fusion_data()
    audio = torch.from_numpy(data["int16_to_float32"](data["float32_to_int16"](waveform))).float()
    with _middle_choice():
        return data["get_audio_features"]({}, audio, CLIP_SAMPLES, "fusion", "repeatpad",
                                          AUDIO_CFG)


def _fusion_clips() -> list[np.ndarray]:
    clips = _audio_clips()  # exactly 10 s, 3.7 s, 13 s, 1 s
    rng = np.random.default_rng(5)
    return clips[:3] + [
        rng.uniform(-0.4, 0.4, CLIP_SAMPLES + 300).astype(np.float32),  # longer, same frames
        rng.uniform(-0.4, 0.4, CLIP_SAMPLES + 480).astype(np.float32),  # one frame more
    ]


def _fresh_clap_module(name: str):
    """An untouched copy of laion_clap's clap_module (not the one core.encoders.clap guards)."""
    if name in sys.modules:
        return sys.modules[name]
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


def _perturb(model) -> None:
    """No parameter keeps its constant init (a missed load would show); eval mode."""
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if name.endswith("running_var"):
                value.mul_(torch.empty_like(value).uniform_(0.5, 1.5))
            elif value.is_floating_point() and "extractor" not in name:
                value.add_(torch.randn_like(value) * 0.02)
    model.eval()


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
    _perturb(model)

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
    model_cfg = {"audio_cfg": AUDIO_CFG} if enable_fusion else {}
    return ClapBundle(model=None, tokenizer=tokenizer, model_cfg=model_cfg,
                      device=torch.device("cpu"), enable_fusion=enable_fusion)


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


@pytest.mark.parametrize("fusion", [False, True])
def test_bad_waveforms_are_refused(fusion):
    encoder = ClapAudioEncoder(_fake_bundle(enable_fusion=fusion))
    with pytest.raises(EmptyInputError):
        encoder.preprocess(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="mono"):
        encoder.preprocess(np.zeros((2, 48_000), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        encoder.preprocess(np.full(10, np.nan, np.float32))


def test_fusion_encoder_needs_the_audio_config():
    bundle = ClapBundle(model=None, tokenizer=None, model_cfg={}, device=torch.device("cpu"),
                        enable_fusion=True)
    with pytest.raises(ValueError, match="audio_cfg"):
        ClapAudioEncoder(bundle)


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


# --- Fusion models (630k-fusion-best: HTSAT-tiny, enable_fusion=True, aff_2d) -----------------


def _librosa_log_mel(y: np.ndarray) -> np.ndarray:
    import librosa

    power = librosa.feature.melspectrogram(
        y=y.astype(np.float64), sr=AUDIO_CFG["sample_rate"], n_fft=AUDIO_CFG["window_size"],
        hop_length=AUDIO_CFG["hop_size"], win_length=AUDIO_CFG["window_size"], window="hann",
        center=True, pad_mode="reflect", power=2.0, n_mels=64, fmin=AUDIO_CFG["fmin"],
        fmax=AUDIO_CFG["fmax"], htk=True, norm=None)
    return (10 * np.log10(np.maximum(power, 1e-10))).T  # (frames, 64), as get_mel returns


@pytest.mark.slow
def test_torch_mel_matches_librosa():
    import librosa

    fb = librosa.filters.mel(sr=48_000, n_fft=1024, n_mels=64, fmin=50, fmax=14_000, htk=True,
                             norm=None)
    assert np.abs(mel_filterbank(513, 50.0, 14_000.0, 64, 48_000).numpy() - fb.T).max() < 1e-5
    mel = MelFrontEnd.from_audio_cfg(AUDIO_CFG)
    rng = np.random.default_rng(7)
    t = np.arange(int(3.7 * 48_000)) / 48_000
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    signals = [rng.uniform(-0.5, 0.5, CLIP_SAMPLES), rng.normal(0, 0.1, 48_000 + 17),
               tone + rng.normal(0, 0.01, t.size), tone, quantise_int16(_audio_clips()[2])]
    for i, y in enumerate(signals):
        y = y.astype(np.float32)
        got, want = mel(torch.from_numpy(y)).numpy(), _librosa_log_mel(y)
        assert got.shape == want.shape == (1 + len(y) // 480, 64)
        # float32's STFT (torchaudio's too) resolves bins down to ~80 dB below a frame's peak;
        # librosa's runs in float64.
        diff, below_peak = np.abs(got - want), want.max(axis=1, keepdims=True) - want
        assert diff[below_peak < 60].max() < 3e-4  # dB
        assert diff[below_peak < 80].max() < 3e-3
        if i < 2:  # noise: every bin
            assert (below_peak < 60).all()
    silent = mel(torch.zeros(4800)).numpy()
    assert silent.shape == (11, 64) and (silent == -100.0).all()  # 10*log10(1e-10)


def test_fusion_chunk_starts_are_the_middle_of_each_third():
    assert fusion_starts(1301, 1001) == [50, 151, 251]  # 13 s: thirds of range(301)
    assert fusion_starts(1002, 1001) == [0, 1, 0]  # an empty third starts at 0, as laion_clap's
    assert fusion_starts(1004, 1001) == [1, 2, 3]  # thirds [0, 1], [2], [3]: third[len // 2]


def test_fusion_preprocess_is_deterministic_thread_safe_and_collates():
    encoder = ClapAudioEncoder(_fake_bundle(enable_fusion=True))
    clips = _fusion_clips()  # 10 s, 3.7 s, 13 s, 10 s + 300 samples, 10 s + 480 samples
    items = [encoder.preprocess(c) for c in clips]
    for item in items:
        assert set(item) == {"mel_fusion", "longer"}
        assert item["mel_fusion"].shape == (4, 1001, 64)
        assert item["mel_fusion"].dtype == torch.float32 and item["longer"].dtype == torch.bool
    assert [bool(i["longer"]) for i in items] == [False, False, True, False, True]
    for item in items[:2] + items[3:4]:  # not longer: the same mel four times
        assert all(torch.equal(item["mel_fusion"][0], m) for m in item["mel_fusion"][1:])
    whole = MelFrontEnd.from_audio_cfg(AUDIO_CFG)(torch.from_numpy(quantise_int16(clips[2])))
    assert whole.shape == (1301, 64)  # 13 s: chunks start at 50, 151, 251
    for i, start in enumerate((50, 151, 251)):
        assert torch.equal(items[2]["mel_fusion"][1 + i], whole[start:start + 1001])
    repeated = np.tile(quantise_int16(clips[1]), CLIP_SAMPLES // len(clips[1]))
    padded = np.pad(repeated, (0, CLIP_SAMPLES - len(repeated)))
    assert torch.equal(items[1]["mel_fusion"][0],
                       MelFrontEnd.from_audio_cfg(AUDIO_CFG)(torch.from_numpy(padded)))
    with ThreadPoolExecutor(4) as pool:  # preprocess runs in worker threads
        threaded = list(pool.map(encoder.preprocess, clips * 3))
    for i, item in enumerate(threaded):
        assert torch.equal(item["mel_fusion"], items[i % len(clips)]["mel_fusion"])
        assert torch.equal(item["longer"], items[i % len(clips)]["longer"])
    batch = encoder.collate(items)
    assert batch["mel_fusion"].shape == (5, 4, 1001, 64)
    assert batch["longer"].shape == (5, 1) and batch["longer"].dtype == torch.bool


@pytest.mark.slow
def test_fusion_preprocess_equals_laion_clap_get_audio_features():
    encoder = ClapAudioEncoder(_fake_bundle(enable_fusion=True))
    clips = _fusion_clips()
    for clip in clips:
        got, want = encoder.preprocess(clip), _official_fusion_features(clip)
        assert torch.equal(got["longer"], want["longer"])
        # The same torch ops in the same order (stft, fbank, log10; Resize = interpolate).
        assert torch.equal(got["mel_fusion"], want["mel_fusion"])
    # 13 s: the global view is the whole mel resized with antialiasing, torchvision 0.29's
    # default for tensors (< 0.17 did not antialias them: that would differ).
    got = encoder.preprocess(clips[2])["mel_fusion"][0]
    whole = MelFrontEnd.from_audio_cfg(AUDIO_CFG)(torch.from_numpy(quantise_int16(clips[2])))
    plain = torch.nn.functional.interpolate(whole[None, None], size=[1001, 64], mode="bilinear",
                                            align_corners=False, antialias=False)[0, 0]
    assert not torch.allclose(got, plain, atol=1e-2)


@pytest.fixture(scope="module")
def fusion_text_dir(text_dir, tmp_path_factory):
    """The test tokenizer with a 1-layer RoBERTa config of 512 tokens (still 768 wide, as CLAP's
    text projection needs): the audio path is what these tests check, and a full-size text tower
    would only cost build time."""
    folder = tmp_path_factory.mktemp("clap_fusion_text")
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((text_dir / name).read_bytes())
    config = {**ROBERTA_BASE, "num_hidden_layers": 1, "vocab_size": 512}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def fusion_reference(fusion_text_dir):
    """The official fusion build (create_model with enable_fusion=True, fusion_type "aff_2d", as
    CLAP_Module(enable_fusion=True) does), random weights in the official checkpoint layout,
    and `get_audio_embedding_from_data`'s embeddings with the middle chunk starts."""
    from transformers import RobertaConfig, RobertaModel

    attempts = len(conftest.NETWORK_ATTEMPTS)
    config = RobertaConfig.from_json_file(str(fusion_text_dir / "config.json"))
    official = _fresh_clap_module("_test_reference_clap_module")
    torch.manual_seed(1)
    with mock.patch.object(RobertaModel, "from_pretrained",
                           classmethod(lambda cls, name, *a, **k: cls(config))):
        model, model_cfg = official.create_model("HTSAT-tiny", "roberta", pretrained="",
                                                 enable_fusion=True, fusion_type="aff_2d")
    _perturb(model)
    state = {"module." + k: v for k, v in model.state_dict().items()}
    state["module.text_branch.embeddings.position_ids"] = torch.arange(514).expand((1, -1))

    hook = _official("hook.py", ["get_audio_embedding_from_data"],
                     {"torch": torch, **_fusion_data()}, class_name="CLAP_Module")
    module = type("OfficialFusionClapModule", (), hook)()
    module.model, module.model_cfg, module.enable_fusion = model, model_cfg, True
    clips = _fusion_clips()[:3]  # exactly 10 s, 3.7 s, 13 s (the rest: features test above)
    with _middle_choice():
        audio = torch.from_numpy(module.get_audio_embedding_from_data(clips))
    assert len(conftest.NETWORK_ATTEMPTS) == attempts
    return {"model": model, "model_cfg": model_cfg, "state": state, "clips": clips,
            "audio": audio}


@pytest.mark.slow
def test_fusion_checkpoint_loads_strictly_and_matches_laion_clap(fusion_reference,
                                                                 fusion_text_dir):
    attempts = len(conftest.NETWORK_ATTEMPTS)
    fusion_keys = [k for k in fusion_reference["state"] if ".fusion_model." in k]
    assert any(k.startswith("module.audio_branch.patch_embed.fusion_model.") for k in fusion_keys)
    assert any(k.startswith("module.audio_branch.patch_embed.mel_conv2d.")
               for k in fusion_reference["state"])
    bundle = load_clap({"state_dict": fusion_reference["state"]}, fusion_text_dir,
                       enable_fusion=True)
    assert bundle.enable_fusion and not bundle.model.training
    loaded = bundle.model.state_dict()
    for key, value in fusion_reference["model"].state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert bundle.model_cfg["audio_cfg"] == AUDIO_CFG
    encoder = ClapAudioEncoder(bundle)
    clips = fusion_reference["clips"]  # exactly 10 s, 3.7 s, 13 s
    got = encoder.forward(encoder.collate([encoder.preprocess(c) for c in clips]))
    want = fusion_reference["audio"]
    assert got.dtype == torch.float32 and got.shape == want.shape == (3, 512)
    assert torch.allclose(got.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert (got - want).abs().max().item() < 1e-5
    # A batch with no long clip takes the branch's other path (longer_idx=[]); in eval mode
    # each row depends on its own clip only.
    got_short = encoder.forward(encoder.collate([encoder.preprocess(clips[1])]))
    assert (got_short - want[1:2]).abs().max().item() < 1e-5
    assert not torch.allclose(got[0], got[1], atol=1e-3)  # inputs do matter
    assert len(conftest.NETWORK_ATTEMPTS) == attempts


@pytest.mark.slow
def test_fusion_and_plain_checkpoints_do_not_cross_load(fusion_reference, reference):
    fusion = r"audio_branch\.patch_embed\.fusion_model\."
    with pytest.raises(ClapWeightsError, match="unexpected keys: " + fusion):
        load_official_weights(reference["model"], fusion_reference["state"])
    plain = {"module." + k: v for k, v in reference["model"].state_dict().items()}
    with pytest.raises(ClapWeightsError, match="missing keys: " + fusion):
        load_official_weights(fusion_reference["model"], plain)
