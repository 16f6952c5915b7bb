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
"""

from __future__ import annotations

import contextvars
import importlib.util
import json
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


class ClapAudioEncoder(Encoder):
    """48 kHz mono waveforms to CLAP audio embeddings (non-fusion models): the computation of
    `CLAP_Module.get_audio_embedding_from_data`, with a centre crop instead of a random one."""

    modality = "audio"
    rate = SAMPLE_RATE
    dim = EMBED_DIM

    def __init__(self, bundle: ClapBundle) -> None:
        if bundle.enable_fusion:
            raise NotImplementedError(
                "fusion CLAP audio needs laion_clap's torchaudio mel path and random crops; "
                "only non-fusion models are supported")
        super().__init__(bundle.device)
        self.bundle = bundle

    def preprocess(self, item):
        """float32 mono waveform at 48 kHz -> float32 tensor of exactly 480,000 samples."""
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
        return torch.from_numpy(np.ascontiguousarray(fit_to_clip(quantise_int16(waveform))))

    def forward(self, batch):
        import torch

        # fp32 even on a GPU: the STFT front end's power spectrum overflows float16.
        with torch.inference_mode():
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
