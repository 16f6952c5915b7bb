"""CLAP (laion_clap 1.1.7: HTSAT audio + RoBERTa text), built and loaded offline from a model pack.

Why not `import laion_clap`: its `__init__` imports `hook.py` and `training/data.py`, which call
`from_pretrained` for three tokenizers at import time, and `CLAP_Module` loads RoBERTa from the
hub. Instead this module:

1. Executes only the self-contained `clap_module` subpackage, from its folder inside the installed
   `laion_clap` (found with `importlib.util.find_spec`, which does not run `laion_clap/__init__`),
   as a private package named `_mcr_laion_clap_module`. `clap_module` imports its own parts only
   relatively, so no `sys.path` entry is added and `laion_clap`, `hook` and `training` are never
   imported. The private copy has its own module objects: nothing done to it touches a real
   `clap_module` that other code may import.
2. In that private copy, replaces the module-level name `RobertaModel` that `CLAP.__init__` uses
   for `RobertaModel.from_pretrained('roberta-base')` by a stand-in whose `from_pretrained` builds
   `transformers.RobertaModel(config)` from the pack's `config.json` (handed over per build through
   a `ContextVar`, so concurrent builds in other threads cannot see each other's config), and
   raises outside such a build. `BertModel`, `BartModel` and `download_pretrained` are replaced by
   stand-ins that refuse. Before a build it checks that `CLAP.__init__` still refers to the
   global `RobertaModel` and `from_pretrained`; after it, that the stand-in built exactly the
   text tower the model holds. A laion_clap whose internals moved is refused before any hub call.
3. Builds with the official `create_model(amodel, "roberta", pretrained="")`, so the module tree
   and key layout are exactly the official ones, then loads the official checkpoint's state dict
   with strict key matching (after stripping what laion_clap's own `load_state_dict` strips).

The tokenizer comes from the pack's tokenizer files (`vocab.json` + `merges.txt`, or
`tokenizer.json`) with `local_files_only=True`.

Audio follows `CLAP_Module.get_audio_embedding_from_data`. Fusion models (630k-fusion-best, the
one the Ex-MCR heads were trained on) take laion_clap's "fusion" features, which its
`training/data.py` computes with torchaudio; torchaudio is not a dependency, so `MelFrontEnd`
computes the same log-mel with `torch.stft` and torchaudio's HTK filterbank formula, and
`fusion_features` takes the middle of each third where laion_clap picks chunk starts at random.
"""

from __future__ import annotations

import contextvars
import importlib.util
import json
import math
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.encoders.base import Encoder, normalised
from core.errors import EmptyInputError, PackError

SAMPLE_RATE = 48_000
CLIP_SAMPLES = 480_000  # 10 s at 48 kHz: what the non-fusion models take
CONTEXT_LENGTH = 77  # laion_clap's tokenizer wrapper: max_length 77, pad to it, truncate
EMBED_DIM = 512
FUSION_TYPE = "aff_2d"  # what CLAP_Module uses for fusion models
TEXT_WIDTH = 768  # CLAP's text projection is Linear(768, 512): RoBERTa-base width
TEXT_CONFIG = "config.json"

# Keys of the official checkpoints that laion_clap's own loader drops (factory.load_state_dict:
# "removing position_ids to maintain compatibility with latest transformers update").
_STRIPPED_KEYS = ("text_branch.embeddings.position_ids",)
_PREFIX = "module."  # DistributedDataParallel prefix of the official checkpoints
_PACKAGE = "_mcr_laion_clap_module"
_import_lock = threading.Lock()


class ClapWeightsError(PackError, ValueError):
    """CLAP weights or text files that do not fit the model being built."""

    default_hint = "Rebuild the model pack from the official laion_clap checkpoint."


# --- The private clap_module ---------------------------------------------------------------------


@dataclass
class _Build:
    config: Any  # transformers.RobertaConfig
    towers: list = field(default_factory=list)


_BUILD: contextvars.ContextVar[_Build | None] = contextvars.ContextVar("mcr_clap_build",
                                                                       default=None)


class _PackRobertaModel:
    """Stands in for `transformers.RobertaModel` inside the private clap_module: CLAP's
    `RobertaModel.from_pretrained('roberta-base')` builds the tower from the pack's config."""

    @staticmethod
    def from_pretrained(name, *args, **kwargs):
        from transformers import RobertaModel

        build = _BUILD.get()
        if build is None:
            raise RuntimeError(f"laion_clap asked for RoBERTa {name!r} outside a pack build; "
                               "refusing to reach a model hub")
        tower = RobertaModel(build.config)
        build.towers.append(tower)
        return tower


class _Refuse:
    def __init__(self, what: str) -> None:
        self.what = what

    def from_pretrained(self, *args, **kwargs):
        raise RuntimeError(f"laion_clap asked for {self.what}{args}: only the RoBERTa text tower "
                           "is built, from the model pack; refusing to reach a model hub")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"laion_clap tried to download {args}: refused (offline)")


def clap_package():
    """laion_clap's `clap_module`, imported privately (see the module docstring)."""
    with _import_lock:
        if _PACKAGE in sys.modules:
            return sys.modules[_PACKAGE]
        spec = importlib.util.find_spec("laion_clap")  # locates it; runs nothing
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("laion_clap is not installed")
        folder = Path(next(iter(spec.submodule_search_locations))) / "clap_module"
        sub = importlib.util.spec_from_file_location(
            _PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)])
        package = importlib.util.module_from_spec(sub)
        sys.modules[_PACKAGE] = package  # needed for its relative imports
        try:
            sub.loader.exec_module(package)
            model_module = sys.modules[f"{_PACKAGE}.model"]
            factory_module = sys.modules[f"{_PACKAGE}.factory"]
            model_module.RobertaModel = _PackRobertaModel
            model_module.BertModel = _Refuse("BertModel")
            model_module.BartModel = _Refuse("BartModel")
            factory_module.download_pretrained = _Refuse("download_pretrained")
        except BaseException:
            for name in [n for n in sys.modules if n == _PACKAGE or n.startswith(_PACKAGE + ".")]:
                del sys.modules[name]
            raise
        return package


def _check_internals() -> None:
    model_module = sys.modules[f"{_PACKAGE}.model"]
    names = set(model_module.CLAP.__init__.__code__.co_names)
    if model_module.RobertaModel is not _PackRobertaModel or not {
            "RobertaModel", "from_pretrained"} <= names:
        raise RuntimeError("this laion_clap builds its RoBERTa tower differently from 1.1.7 "
                           "(CLAP.__init__ no longer calls the global RobertaModel.from_pretrained)"
                           "; core/encoders/clap.py must be updated before it can be used offline")


def build_clap_model(text_config, amodel: str = "HTSAT-tiny", enable_fusion: bool = False):
    """The official `create_model(amodel, "roberta", pretrained="")` on the CPU, its RoBERTa
    tower built from `text_config` (a `transformers.RobertaConfig`); random weights.
    Returns (model, model_cfg)."""
    import torch

    package = clap_package()
    _check_internals()
    build = _Build(text_config)
    token = _BUILD.set(build)
    try:
        kwargs = {"fusion_type": FUSION_TYPE} if enable_fusion else {}
        model, model_cfg = package.create_model(
            amodel, "roberta", pretrained="", precision="fp32", device=torch.device("cpu"),
            enable_fusion=enable_fusion, **kwargs)
    finally:
        _BUILD.reset(token)
    if len(build.towers) != 1 or model.text_branch is not build.towers[0]:
        raise RuntimeError("laion_clap did not build its text tower through RobertaModel as 1.1.7 "
                           "does; core/encoders/clap.py must be updated")
    return model, model_cfg


# --- Text files and weights ----------------------------------------------------------------------


def load_text_config(text_dir: str | Path):
    """The RoBERTa config of the pack's text folder (`config.json`), read locally."""
    from transformers import RobertaConfig

    path = Path(text_dir) / TEXT_CONFIG
    if not path.is_file():
        raise ClapWeightsError(f"{TEXT_CONFIG} (the RoBERTa config) is missing", path=text_dir)
    try:
        config = RobertaConfig.from_json_file(str(path))
    except (OSError, ValueError) as err:
        raise ClapWeightsError(f"{TEXT_CONFIG} is not a readable config ({err})",
                               path=path) from err
    if getattr(config, "model_type", None) != "roberta" or config.hidden_size != TEXT_WIDTH:
        raise ClapWeightsError(f"{TEXT_CONFIG} is not a RoBERTa-base-sized config (model_type "
                               f"{config.model_type!r}, hidden_size {config.hidden_size}; CLAP "
                               f"needs roberta, {TEXT_WIDTH})", path=path)
    return config


def load_text_tokenizer(text_dir: str | Path, config=None):
    """RoBERTa's byte-level BPE tokenizer from the pack's files (`tokenizer.json`, or
    `vocab.json` + `merges.txt`), local files only. Checked against `config` when given."""
    from transformers import RobertaTokenizerFast

    text_dir = Path(text_dir)
    has_json = (text_dir / "tokenizer.json").is_file()
    has_bpe = (text_dir / "vocab.json").is_file() and (text_dir / "merges.txt").is_file()
    if not (has_json or has_bpe):
        raise ClapWeightsError("the RoBERTa tokenizer files are missing (tokenizer.json, or "
                               "vocab.json and merges.txt)", path=text_dir)
    tokenizer = RobertaTokenizerFast.from_pretrained(str(text_dir), local_files_only=True)
    if has_bpe:  # transformers builds an empty 5-token vocabulary when it misreads the files
        with open(text_dir / "vocab.json", encoding="utf-8") as f:
            expected = len(json.load(f))
        if len(tokenizer.get_vocab()) < expected:
            raise ClapWeightsError(f"the tokenizer loaded {len(tokenizer.get_vocab())} tokens of "
                                   f"the {expected} in vocab.json", path=text_dir)
    if config is not None:
        wrong = [f"{name} is {got}, config.json says {want}"
                 for name, got, want in (
                     ("pad_token_id", tokenizer.pad_token_id, config.pad_token_id),
                     ("bos_token_id", tokenizer.bos_token_id, config.bos_token_id),
                     ("eos_token_id", tokenizer.eos_token_id, config.eos_token_id))
                 if want is not None and got != want]
        if len(tokenizer) > config.vocab_size:
            wrong.append(f"the tokenizer has {len(tokenizer)} tokens, the model "
                         f"{config.vocab_size}")
        if wrong:
            raise ClapWeightsError("the tokenizer does not fit the text model: " + "; ".join(wrong),
                                   path=text_dir)
    return tokenizer


def _read_weights(weights) -> dict:
    import torch

    if isinstance(weights, (str, Path)):
        from core.packs.store import load_tensors

        weights = load_tensors(Path(weights))
    if not isinstance(weights, Mapping):
        raise TypeError(f"CLAP weights must be a state dict or a file path, not {type(weights)}")
    if "state_dict" in weights and isinstance(weights["state_dict"], Mapping):
        weights = weights["state_dict"]  # the official checkpoint's dictionary, as torch.load-ed
    bad = sorted(k for k, v in weights.items() if not isinstance(v, torch.Tensor))
    if bad:
        raise ClapWeightsError(f"CLAP weights hold entries that are not tensors: {bad[:10]}")
    return dict(weights)


def official_state_dict(weights: Mapping, expected_keys) -> dict:
    """The official checkpoint's state dict as laion_clap's `load_state_dict` hands it to the
    model: the `module.` prefix stripped and `text_branch.embeddings.position_ids` dropped (kept
    only if this transformers' model has it as a persistent buffer)."""
    expected_keys = set(expected_keys)
    state = {(k[len(_PREFIX):] if k.startswith(_PREFIX) else k): v for k, v in weights.items()}
    if len(state) != len(weights):
        raise ClapWeightsError("CLAP weights hold keys both with and without the 'module.' "
                               "prefix")
    for key in _STRIPPED_KEYS:
        if key not in expected_keys:
            state.pop(key, None)
    return state


def _listing(keys: list[str], limit: int = 20) -> str:
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_official_weights(model, weights: Mapping) -> None:
    """Load the official layout into `model` with strict key and shape matching; a mismatch
    raises `ClapWeightsError` (a ValueError) naming the keys, and leaves the model untouched."""
    expected = model.state_dict()
    state = official_state_dict(weights, expected)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    problems = []
    if missing:
        problems.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listing(unexpected)}")
    shapes = sorted(f"{k} {tuple(v.shape)} (model {tuple(expected[k].shape)})"
                    for k, v in state.items() if k in expected and v.shape != expected[k].shape)
    if shapes:
        problems.append(f"wrong shapes: {_listing(shapes)}")
    if problems:
        raise ClapWeightsError("CLAP weights do not fit the model: " + "; ".join(problems))
    model.load_state_dict(state, strict=True)


# --- Loading ------------------------------------------------------------------------------------


@dataclass
class ClapBundle:
    model: Any  # clap_module.model.CLAP, eval mode, on `device`
    tokenizer: Any  # transformers RobertaTokenizerFast from the pack's files
    model_cfg: dict
    device: Any  # torch.device
    amodel: str = "HTSAT-tiny"
    enable_fusion: bool = False


def load_clap(weights, text_dir: str | Path, amodel: str = "HTSAT-tiny",
              enable_fusion: bool = False, device="cpu") -> ClapBundle:
    """CLAP from the official checkpoint's state dict (a dict of tensors, the torch.load-ed
    checkpoint with its "state_dict", or the path of a .safetensors/.pt file) and the pack's
    text folder (`config.json` + tokenizer files). Strict key matching; never reaches a hub."""
    import torch

    config = load_text_config(text_dir)
    tokenizer = load_text_tokenizer(text_dir, config)
    state = _read_weights(weights)
    model, model_cfg = build_clap_model(config, amodel, enable_fusion)
    load_official_weights(model, state)
    device = torch.device(device)
    model.to(device).eval()
    return ClapBundle(model, tokenizer, model_cfg, device, amodel, enable_fusion)


# --- Audio -------------------------------------------------------------------------------------


def quantise_int16(waveform: np.ndarray) -> np.ndarray:
    """laion_clap's int16 round trip (`int16_to_float32(float32_to_int16(x))`), bit for bit."""
    x = np.clip(waveform, a_min=-1.0, a_max=1.0)
    x = (x * 32767.0).astype(np.int16)
    return (x / 32767.0).astype(np.float32)


def fit_to_clip(waveform: np.ndarray, length: int = CLIP_SAMPLES) -> np.ndarray:
    """Exactly `length` samples: the centre of a longer clip (laion_clap crops at random), a
    shorter one repeated whole `length // n` times then zero-padded ("repeatpad")."""
    n = len(waveform)
    if n > length:
        start = (n - length) // 2
        return waveform[start:start + length]
    if n < length:
        repeated = np.tile(waveform, length // n)
        return np.pad(repeated, (0, length - len(repeated)))
    return waveform


# --- Fusion input: laion_clap's `get_mel` and `get_audio_features(..., "fusion", ...)` ----------


def mel_filterbank(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int):
    """torchaudio's `melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None,
    mel_scale="htk")`, op for op in float32: triangular filters (n_freqs, n_mels); librosa's
    `filters.mel(htk=True, norm=None)` up to float32 rounding (~6e-6)."""
    import torch

    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs, dtype=torch.float32)
    m_min = 2595.0 * math.log10(1.0 + f_min / 700.0)
    m_max = 2595.0 * math.log10(1.0 + f_max / 700.0)
    m_pts = torch.linspace(m_min, m_max, n_mels + 2, dtype=torch.float32)
    f_pts = 700.0 * (10.0 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.max(torch.zeros(1), torch.min(down, up))


@dataclass(frozen=True, eq=False)
class MelFrontEnd:
    """laion_clap's `get_mel` without torchaudio: `MelSpectrogram(sample_rate, n_fft=win_length=
    window_size, hop_length=hop_size, center=True, pad_mode="reflect", power=2.0, norm=None,
    onesided=True, n_mels=mel_bins, f_min=fmin, f_max=fmax)` (periodic Hann window, HTK mel
    scale) then `AmplitudeToDB(top_db=None)` (10·log10(max(x, 1e-10))), as torchaudio computes
    them. Immutable, so threads may share one."""

    window_size: int
    hop_size: int
    window: Any  # torch.Tensor (window_size,)
    fbank: Any  # torch.Tensor (window_size // 2 + 1, mel_bins)

    @classmethod
    def from_audio_cfg(cls, audio_cfg: Mapping) -> MelFrontEnd:
        import torch

        n_fft = int(audio_cfg["window_size"])
        fbank = mel_filterbank(n_fft // 2 + 1, float(audio_cfg["fmin"]),
                               float(audio_cfg["fmax"]), int(audio_cfg["mel_bins"]),
                               int(audio_cfg["sample_rate"]))
        return cls(n_fft, int(audio_cfg["hop_size"]), torch.hann_window(n_fft), fbank)

    def __call__(self, waveform):
        """float32 waveform (samples,) -> log-mel (frames, mel_bins), frames = 1 + n // hop."""
        import torch

        spec = torch.stft(waveform, n_fft=self.window_size, hop_length=self.hop_size,
                          win_length=self.window_size, window=self.window, center=True,
                          pad_mode="reflect", normalized=False, onesided=True,
                          return_complex=True).abs().pow(2.0)  # (freqs, frames)
        mel = torch.matmul(spec.transpose(-1, -2), self.fbank)  # (frames, mel_bins)
        return 10.0 * torch.log10(torch.clamp(mel, min=1e-10))


def fusion_starts(total_frames: int, chunk_frames: int) -> list[int]:
    """The start frames of the three local chunks of a long clip. laion_clap splits the valid
    starts `range(total - chunk + 1)` into thirds with `np.array_split` (an empty third becomes
    [0]) and picks one start in each at random; this takes the middle one of each third
    (`third[len(third) // 2]`), so a recording always gives the same embedding."""
    thirds = np.array_split(np.arange(total_frames - chunk_frames + 1), 3)
    return [int(t[len(t) // 2]) if len(t) else 0 for t in thirds]


def fusion_features(waveform, mel: MelFrontEnd, max_len: int = CLIP_SAMPLES) -> dict:
    """laion_clap's `get_audio_features(sample, waveform, max_len, "fusion", "repeatpad",
    audio_cfg)` for a quantised float32 waveform tensor, without its random choices:
    {"mel_fusion": (4, chunk_frames, mel_bins) float32, "longer": bool tensor (1,)}.

    - at most `max_len` samples: repeat-padded to `max_len`, its mel stacked four times,
      longer=False;
    - longer, but with as many mel frames as `max_len` gives (by less than a hop): the whole
      clip's mel stacked four times, longer=False;
    - longer still: [the whole mel shrunk to chunk_frames × mel_bins, front, middle and back
      chunks] (starts from `fusion_starts`), longer=True. The shrink is torchvision's
      `Resize([chunk_frames, mel_bins])` on a float tensor: bilinear, align_corners=False, with
      antialiasing (torchvision ≥ 0.17 defaults to antialias=True for tensors too, and 0.29 is
      what this app pins), computed here with `torch.nn.functional.interpolate` as torchvision
      does. (torchvision < 0.17, current when laion_clap 1.1.7 and Ex-MCR were released, did
      not antialias tensors; only this global view of clips over 10 s differs between the two.)
      laion_clap's random crop of the waveform itself is not kept: the fusion model never
      reads it.
    """
    import torch
    import torch.nn.functional as F

    n = waveform.shape[-1]
    if n <= max_len:
        if n < max_len:  # repeatpad, as get_audio_features does
            waveform = waveform.repeat(max_len // n)
            waveform = F.pad(waveform, (0, max_len - waveform.shape[-1]), mode="constant",
                             value=0)
        spec = mel(waveform)
        return {"mel_fusion": torch.stack([spec] * 4, dim=0), "longer": torch.tensor([False])}
    spec = mel(waveform)
    chunk_frames = max_len // mel.hop_size + 1
    total_frames = spec.shape[0]
    if chunk_frames == total_frames:
        return {"mel_fusion": torch.stack([spec] * 4, dim=0), "longer": torch.tensor([False])}
    chunks = [spec[s:s + chunk_frames, :] for s in fusion_starts(total_frames, chunk_frames)]
    shrunk = F.interpolate(spec[None, None], size=[chunk_frames, spec.shape[1]], mode="bilinear",
                           align_corners=False, antialias=True)[0, 0]
    return {"mel_fusion": torch.stack([shrunk, *chunks], dim=0), "longer": torch.tensor([True])}


class ClapAudioEncoder(Encoder):
    """48 kHz mono waveforms to CLAP audio embeddings: the computation of
    `CLAP_Module.get_audio_embedding_from_data` (int16 round trip, then `get_audio_features`),
    deterministic where laion_clap picks at random.

    Non-fusion models: the clip's centre 10 s (or the clip repeat-padded), as a waveform the
    model's own STFT front end reads. Fusion models (`enable_fusion=True`, e.g.
    630k-fusion-best): the "fusion" features of `fusion_features` (a torch-only log-mel, in
    `preprocess`); the model's audio branch reads only "mel_fusion" and "longer" then."""

    modality = "audio"
    rate = SAMPLE_RATE
    dim = EMBED_DIM

    def __init__(self, bundle: ClapBundle) -> None:
        super().__init__(bundle.device)
        self.bundle = bundle
        self.fusion = bool(bundle.enable_fusion)
        self.mel: MelFrontEnd | None = None
        if self.fusion:
            audio_cfg = (bundle.model_cfg or {}).get("audio_cfg")
            if not audio_cfg:
                raise ValueError("a fusion CLAP needs its model_cfg['audio_cfg'] (mel settings)")
            if int(audio_cfg["sample_rate"]) != SAMPLE_RATE:
                raise ValueError(f"CLAP audio_cfg sample_rate is {audio_cfg['sample_rate']}, "
                                 f"not {SAMPLE_RATE}")
            self.mel = MelFrontEnd.from_audio_cfg(audio_cfg)

    def preprocess(self, item):
        """float32 mono waveform at 48 kHz -> non-fusion: float32 tensor of exactly 480,000
        samples; fusion: {"mel_fusion": float32 (4, 1001, 64), "longer": bool (1,)}."""
        import torch

        if isinstance(item, torch.Tensor):
            item = item.detach().cpu().numpy()
        waveform = np.asarray(item, dtype=np.float32)
        if waveform.ndim != 1:
            raise ValueError(f"a mono waveform has one dimension, not shape {waveform.shape}")
        if waveform.size == 0:
            raise EmptyInputError("the recording has no samples")
        if not np.isfinite(waveform).all():
            raise ValueError("the waveform holds NaN or infinite samples")
        if self.fusion:
            with torch.no_grad():
                return fusion_features(torch.from_numpy(quantise_int16(waveform)), self.mel)
        return torch.from_numpy(np.ascontiguousarray(fit_to_clip(quantise_int16(waveform))))

    def collate(self, items: list):
        """Non-fusion: (N, 480000). Fusion: {"mel_fusion": (N, 4, 1001, 64), "longer": (N, 1)},
        the batch `CLAP.get_audio_embedding` builds from per-item dicts."""
        import torch

        if not self.fusion:
            return torch.stack(items)
        return {key: torch.stack([item[key] for item in items])
                for key in ("mel_fusion", "longer")}

    def forward(self, batch):
        import torch

        # fp32 even on a GPU: the non-fusion STFT front end's power spectrum overflows float16,
        # and fusion embeddings stay those of laion_clap's fp32 path the Ex-MCR heads saw.
        with torch.inference_mode():
            if self.fusion:
                data = [{"mel_fusion": m, "longer": lg}
                        for m, lg in zip(batch["mel_fusion"], batch["longer"])]
            else:
                data = [{"waveform": w, "longer": torch.tensor([False])} for w in batch]
            return normalised(self.bundle.model.get_audio_embedding(data))


# --- Text --------------------------------------------------------------------------------------


class ClapTextEncoder(Encoder):
    """Text to CLAP text embeddings, tokenized as laion_clap's wrapper does (RoBERTa BPE,
    77 tokens, padded to 77, truncated)."""

    modality = "text"
    dim = EMBED_DIM

    def __init__(self, bundle: ClapBundle) -> None:
        super().__init__(bundle.device)
        self.bundle = bundle
        # A fast tokenizer called with padding/truncation changes its Rust state per call, which
        # fails ("Already borrowed") when threads share it.
        self._lock = threading.Lock()

    def preprocess(self, item: str) -> dict:
        """str -> {"input_ids", "attention_mask"}: LongTensors of 77."""
        if not isinstance(item, str):
            raise TypeError(f"CLAP text takes a str, not {type(item).__name__}")
        with self._lock:
            result = self.bundle.tokenizer(item, padding="max_length", truncation=True,
                                           max_length=CONTEXT_LENGTH, return_tensors="pt")
        return {"input_ids": result["input_ids"][0], "attention_mask": result["attention_mask"][0]}

    def collate(self, items: list) -> dict:
        import torch

        return {key: torch.stack([item[key] for item in items])
                for key in ("input_ids", "attention_mask")}

    def forward(self, batch):
        """Trailing columns that are padding in every row are cut off first: the attention mask
        already hides them from every real token (and RoBERTa's positions count real tokens
        only), so the embeddings are the same up to float rounding, at a fraction of the cost
        for short captions."""
        import torch

        length = int(batch["attention_mask"].sum(dim=1).max())
        with torch.inference_mode(), self.autocast():
            data = {key: value[:, :length].to(self.device) for key, value in batch.items()}
            return normalised(self.bundle.model.get_text_embedding(data))
