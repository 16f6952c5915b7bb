"""Extend a frozen base space with its leaf spaces (Ex-MCR), and train the two references on the
same unpaired pools: the C-MCR baseline and the paired oracle (the ceiling, never shipped).

Inputs are embeddings, not files: a pool embedded once by every tower that can see each item
(`Embeddings`), so the same code serves the demo pack, a real pack and the training tab."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.alignment.cmcr import CMCRProjectors, train_cmcr
from core.alignment.exmcr import HeadTraining, train_head
from core.alignment.heads import ExMCRHead
from core.alignment.pseudo_pairs import Pools, aggregate, oracle_tuples
from core.errors import UsageError
from core.progress import CancelFn, Progress, ProgressFn

METHODS = ("exmcr", "cmcr", "oracle")


@dataclass(frozen=True)
class Leaf:
    """A leaf space, named by its leaf-only modality, with the modality it shares with the base
    (`overlap`) and the base's other modality (`other`)."""

    name: str
    overlap: str
    other: str

    @property
    def modalities(self) -> tuple[str, str]:
        return (self.name, self.overlap)


# CLAP (audio-text) meets CLIP through text; ULIP-2 (3D-image-text) through image.
LEAVES: dict[str, Leaf] = {"audio": Leaf("audio", "text", "image"),
                           "3d": Leaf("3d", "image", "text")}


@dataclass
class Embeddings:
    """One set of items embedded by every tower that sees them: `base[modality]` in the base
    space, `leaves[leaf][modality]` in a leaf space, `labels[modality]` (concepts; the oracle and
    the evaluation use them, Ex-MCR never does). Rows of a modality are the same items in every
    space."""

    base: dict[str, np.ndarray]
    leaves: dict[str, dict[str, np.ndarray]]
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        arrays = {f"base/{m}": v for m, v in self.base.items()}
        arrays |= {f"leaf/{leaf}/{m}": v for leaf, vs in self.leaves.items()
                   for m, v in vs.items()}
        arrays |= {f"labels/{m}": v for m, v in self.labels.items()}
        path = Path(path)
        tmp = path.with_name(path.name + ".partial.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> Embeddings:
        out = cls({}, {}, {})
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                parts = key.split("/")
                if parts[0] == "base":
                    out.base[parts[1]] = data[key]
                elif parts[0] == "leaf":
                    out.leaves.setdefault(parts[1], {})[parts[2]] = data[key]
                else:
                    out.labels[parts[1]] = data[key]
        return out


@dataclass(frozen=True)
class ExtensionSettings:
    # Tuned on the demo world's pools (README, "Alignment"): a softer aggregation than the
    # paper's 0.01 and a higher InfoNCE temperature than HeadTraining's 0.03.
    tau: float = 0.05  # softmax temperature of the pseudo-pair aggregation
    head: HeadTraining = HeadTraining(temperature=0.07)
    methods: tuple[str, ...] = METHODS

    def to_json(self) -> dict:
        return {"tau": self.tau, "head": self.head.to_json(), "methods": list(self.methods)}


@dataclass
class Extension:
    exmcr: dict[str, ExMCRHead] = field(default_factory=dict)
    cmcr: dict[str, CMCRProjectors] = field(default_factory=dict)
    oracle: dict[str, ExMCRHead] = field(default_factory=dict)
    history: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # loss per epoch
    tuples: dict[str, int] = field(default_factory=dict)  # pseudo-tuples per leaf
    seconds: dict[str, float] = field(default_factory=dict)


def leaf_pools(pool: Embeddings, leaf: Leaf) -> Pools:
    try:
        own = pool.leaves[leaf.name]
        return Pools(torch.from_numpy(own[leaf.name]), torch.from_numpy(own[leaf.overlap]),
                     torch.from_numpy(pool.base[leaf.overlap]),
                     torch.from_numpy(pool.base[leaf.other]))
    except KeyError as err:
        raise UsageError(f"The pool has no {err.args[0]} embeddings for the {leaf.name} leaf",
                         hint="Embed the pools with every tower of the pack first.") from err


def train_extension(pool: Embeddings, settings: ExtensionSettings | None = None, *,
                    leaves: tuple[str, ...] = tuple(LEAVES),
                    progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                    checkpoint_dir: str | Path | None = None,
                    probes: dict[str, Callable[[torch.nn.Module], Mapping[str, float]]]
                    | None = None) -> Extension:
    """Pseudo-pairs from the pools, then per leaf the Ex-MCR head and, when asked for, the C-MCR
    projectors and the oracle head. The base embeddings are read, never written.

    Every epoch sends a metrics record to `progress` ({"epoch", "loss", "leaf", "method"});
    `probes[leaf]`, given the Ex-MCR head of that leaf (eval mode, no gradients), adds its
    figures (e.g. {"held_out_r1": ...}) to that head's records."""
    settings = settings or ExtensionSettings()
    unknown = set(settings.methods) - set(METHODS)
    if unknown:
        raise UsageError(f"Unknown alignment method {sorted(unknown)[0]!r}",
                         hint=f"Use {', '.join(METHODS)}.")
    out = Extension(history={m: {} for m in settings.methods})
    shared_base = None  # C-MCR: the first leaf's base projector, shared by the next

    def ckpt(method: str, leaf: str):
        return None if checkpoint_dir is None else Path(checkpoint_dir) / f"{method}-{leaf}.pt"

    for name in leaves:
        leaf = LEAVES[name]
        pools = leaf_pools(pool, leaf)
        started = time.perf_counter()
        tuples = aggregate(pools, tau=settings.tau)
        out.seconds[f"pseudo_pairs:{name}"] = round(time.perf_counter() - started, 2)
        out.tuples[name] = len(tuples)
        if "exmcr" in settings.methods:
            started = time.perf_counter()
            out.exmcr[name], out.history["exmcr"][name] = train_head(
                tuples, settings.head, progress=progress, cancel=cancel,
                checkpoint=ckpt("exmcr", name), probe=(probes or {}).get(name),
                tag={"leaf": name, "method": "exmcr"})
            out.seconds[f"exmcr:{name}"] = round(time.perf_counter() - started, 2)
        if "cmcr" in settings.methods:
            started = time.perf_counter()
            model, out.history["cmcr"][name] = train_cmcr(
                tuples, settings.head, base=shared_base, cancel=cancel,
                progress=_tagged(progress, {"leaf": name, "method": "cmcr"}),
                checkpoint=ckpt("cmcr", name))
            out.cmcr[name], shared_base = model, model.base
            out.seconds[f"cmcr:{name}"] = round(time.perf_counter() - started, 2)
        if "oracle" in settings.methods:
            labels = {"leaf_only": torch.from_numpy(pool.labels[leaf.name]),
                      "overlap": torch.from_numpy(pool.labels[leaf.overlap]),
                      "base_other": torch.from_numpy(pool.labels[leaf.other])}
            started = time.perf_counter()
            out.oracle[name], out.history["oracle"][name] = train_head(
                oracle_tuples(pools, labels, seed=settings.head.seed), settings.head,
                progress=progress, cancel=cancel, checkpoint=ckpt("oracle", name),
                tag={"leaf": name, "method": "oracle"})
            out.seconds[f"oracle:{name}"] = round(time.perf_counter() - started, 2)
    return out


def _tagged(progress: ProgressFn | None, tag: dict) -> ProgressFn | None:
    """`progress` with `tag` added to every metrics record."""
    if progress is None:
        return None

    def forward(p: Progress) -> None:
        progress(p if p.metrics is None else dataclasses.replace(p, metrics={**p.metrics, **tag}))

    return forward


@torch.no_grad()
def _apply(fn, vectors: np.ndarray) -> np.ndarray:
    return fn(torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))).numpy()


def evaluation_spaces(test: Embeddings, ext: Extension) -> dict[str, dict]:
    """The held-out embeddings as `core.evaluation.report.evaluate_pairs` takes them: each leaf
    space alone, and the shared space of every method that was trained."""
    def labelled(space: dict[str, np.ndarray]) -> dict:
        return {m: (v, test.labels[m]) for m, v in space.items()}

    spaces = {f"leaf:{leaf}": labelled(vs) for leaf, vs in test.leaves.items()}
    for method in ("exmcr", "oracle"):
        heads = getattr(ext, method)
        if heads:
            space = {m: test.base[m] for m in ("image", "text") if m in test.base}
            space |= {leaf: _apply(head.leaf_only, test.leaves[leaf][leaf])
                      for leaf, head in heads.items() if leaf in test.leaves}
            spaces[method] = labelled(space)
    if ext.cmcr:
        base = next(iter(ext.cmcr.values())).base
        space = {m: _apply(base, test.base[m]) for m in ("image", "text") if m in test.base}
        space |= {leaf: _apply(model.leaf, test.leaves[leaf][leaf])
                  for leaf, model in ext.cmcr.items() if leaf in test.leaves}
        spaces["cmcr"] = labelled(space)
    return spaces
