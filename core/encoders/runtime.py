"""Build a pack's encoders: each modality's encoder into the pack's base space, loaded lazily,
once, from verified files. Leaf encoders (audio, 3D) are wrapped with their alignment head, and
a continual version's modalities with their linear map."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.encoders.base import Encoder, normalised
from core.errors import PackError, UsageError
from core.packs.manifest import Component
from core.packs.store import Pack


class FollowedEncoder(Encoder):
    """An encoder whose output goes through one more step (`then`) and is normalised."""

    def __init__(self, inner: Encoder, dim: int) -> None:
        super().__init__(inner.device)
        self.inner, self.modality, self.dim = inner, inner.modality, dim
        self.rate = getattr(inner, "rate", None)

    def preprocess(self, item):
        return self.inner.preprocess(item)

    def collate(self, items):
        return self.inner.collate(items)

    def then(self, x):
        raise NotImplementedError

    def forward(self, batch):
        import torch

        with torch.inference_mode():
            return normalised(self.then(self.inner.forward(batch).to(self.device)))


class HeadedEncoder(FollowedEncoder):
    """A leaf space's encoder followed by its Ex-MCR head (leaf-only branch) into the base."""

    def __init__(self, leaf: Encoder, head) -> None:
        super().__init__(leaf, head.Head1.out_features)
        self.head = head.to(leaf.device).eval()

    def then(self, x):
        return self.head.leaf_only(x)


class MappedEncoder(FollowedEncoder):
    """An encoder followed by a continual step's linear map: normalise(W x)."""

    def __init__(self, inner: Encoder, weight) -> None:
        super().__init__(inner, int(weight.shape[0]))
        self.weight = weight.float().to(inner.device)

    def then(self, x):
        return x @ self.weight.T


class PackModels:
    """The encoders of one pack on one device. Thread-safe; each model is built on first use."""

    def __init__(self, pack: Pack, device) -> None:
        self.pack, self.device = pack, device
        self._encoders: dict[str, Encoder] = {}
        self._shared: dict[tuple, object] = {}
        self._lock = threading.RLock()

    @property
    def modalities(self) -> list[str]:
        return sorted(self.pack.manifest.encoders)

    def encoder(self, modality: str) -> Encoder:
        with self._lock:
            if modality not in self._encoders:
                self._encoders[modality] = self._build(modality)
            return self._encoders[modality]

    def shared(self, component: Component, make: Callable[[], object]):
        """One model object per (arch, files), e.g. CLIP serving both image and text."""
        key = (component.arch, tuple(sorted(component.files.items())))
        with self._lock:
            if key not in self._shared:
                self._shared[key] = make()
            return self._shared[key]

    def leaf_encoder(self, leaf: str, modality: str) -> Encoder:
        """A leaf space's own tower (no head): embeds into the leaf space, not the base."""
        towers = self.pack.manifest.leaves.get(leaf, {})
        if modality not in towers:
            raise UsageError(f"The pack {self.pack.ref} has no {modality} tower of the {leaf} "
                             "leaf space", hint="Only packs built with their leaf spaces "
                             "(such as the demo pack) can re-train or evaluate the alignment.")
        with self._lock:
            key = f"leaf:{leaf}:{modality}"
            if key not in self._encoders:
                self._encoders[key] = self._make(towers[modality], modality)
            return self._encoders[key]

    def _build(self, modality: str) -> Encoder:
        manifest = self.pack.manifest
        if modality not in manifest.encoders:
            raise UsageError(f"The pack {manifest.ref} cannot embed {modality}",
                             hint=f"It embeds {', '.join(self.modalities)}.")
        encoder = self._make(manifest.encoders[modality], modality)
        if modality in manifest.heads:
            encoder = HeadedEncoder(encoder, self._head(manifest.heads[modality]))
        if encoder.dim != manifest.dim:
            raise PackError(f"its {modality} encoder gives {encoder.dim}-d vectors, the pack "
                            f"says {manifest.dim}", path=self.pack.folder)
        if modality in manifest.maps:
            import torch

            from core.continual.version import map_weight

            weight = map_weight(self.pack, modality)
            if not torch.equal(weight, torch.eye(manifest.dim, dtype=weight.dtype)):
                encoder = MappedEncoder(encoder, weight)  # (the identity: exactly the parent's)
        return encoder

    def _make(self, component: Component, modality: str) -> Encoder:
        builder = ENCODER_ARCHS.get(component.arch)
        if builder is None:
            raise PackError(f"uses encoder architecture {component.arch!r}, which this version "
                            "of MCR Studio does not know", path=self.pack.folder)
        try:
            return builder(self, component, modality)
        except (ValueError, KeyError, RuntimeError) as err:
            raise PackError(f"its {modality} encoder cannot be built: {err}",
                            path=self.pack.folder) from err

    def _head(self, component: Component):
        from core.alignment.heads import ExMCRHead

        if component.arch != "exmcr_head":
            raise PackError(f"uses head architecture {component.arch!r}, unknown here",
                            path=self.pack.folder)
        head = ExMCRHead(**component.config)
        head.load_state_dict(self.pack.tensors(component.files["weights"]), strict=True)
        return head.eval()


def _open_clip(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.clip import ClipImageEncoder, ClipTextEncoder, build_clip

    clip = models.shared(component, lambda: build_clip(
        component.config, models.pack.tensors(component.files["weights"]), models.device))
    return ClipImageEncoder(clip) if modality == "image" else ClipTextEncoder(clip)


def _clap(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.clap import ClapAudioEncoder, ClapTextEncoder, load_clap

    def make():
        for role in ("text_config", "vocab", "merges"):
            models.pack.verified_path(component.files[role])
        text_dir = models.pack.path_of(component.files["text_config"]).parent
        return load_clap(models.pack.tensors(component.files["weights"]), text_dir,
                         amodel=component.config.get("amodel", "HTSAT-tiny"),
                         enable_fusion=bool(component.config.get("enable_fusion", False)),
                         device=models.device)

    bundle = models.shared(component, make)
    return ClapAudioEncoder(bundle) if modality == "audio" else ClapTextEncoder(bundle)


def _pointbert(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.pointbert import PointBERT, PointBERTConfig, PointBERTEncoder

    config = dict(component.config)
    n_points = config.pop("n_points", 8192)
    model = PointBERT(PointBERTConfig(**config))
    model.load_state_dict(models.pack.tensors(component.files["weights"]), strict=True)
    return PointBERTEncoder(model, models.device, n_points=n_points)


def _small_image(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.demo import SmallImageEncoder

    return SmallImageEncoder.from_pack(
        component.config, models.pack.tensors(component.files["weights"]), models.device)


def _mel_cnn(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.demo import MelCNNEncoder

    return MelCNNEncoder.from_pack(
        component.config, models.pack.tensors(component.files["weights"]), models.device)


def _word_text(models: PackModels, component: Component, modality: str) -> Encoder:
    import json

    from core.encoders.demo import WordTextEncoder

    path = models.pack.verified_path(component.files["vocab"])
    try:
        vocabulary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"the vocabulary {path.name} is not readable JSON ({err})") from err
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        raise ValueError(f"the vocabulary {path.name} is not a list of words")
    return WordTextEncoder.from_pack(
        component.config, models.pack.tensors(component.files["weights"]), vocabulary,
        models.device)


def _minilm_projected(models: PackModels, component: Component, modality: str) -> Encoder:
    from core.encoders.demo import MiniLMTextEncoder

    return MiniLMTextEncoder.from_pack(
        component.config, models.pack.tensors(component.files["weights"]), models.device)


ENCODER_ARCHS: dict[str, Callable[[PackModels, Component, str], Encoder]] = {
    "open_clip": _open_clip,
    "clap": _clap,
    "pointbert": _pointbert,
    # The demo pack's small encoders (core/encoders/demo.py); its 3D tower is a "pointbert".
    "small_image": _small_image,
    "mel_cnn": _mel_cnn,
    "word_text": _word_text,
    "minilm_projected": _minilm_projected,
}
