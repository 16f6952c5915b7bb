"""The demo sequence a plant lives through, on the demo world, for CMCL and the baselines.

Step 0 is what the pack could already do (image-text, and audio/3D through Ex-MCR); it seeds
every method's memory. Then:
  1. photos with the plant's inspection notes for five families (bearing .. pipe);
  2. microphones on the line: recordings paired with photos of the same five families;
  3. 3D scans paired with recordings, every family;
  4. photos with inspection notes for the other five families (conveyor .. bolt).
The world's concepts are all known to the pack, so a step of ordinary captions would have
nothing to learn; the notes (`notes.py`: asset tags and maintenance codes) are what the pack
cannot read, which makes learning measurable and forgetting possible (fine-tuning the text map
for the codes erases the pack's own image-text retrieval).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from core.continual.data import PairSet, pairs_by_concept
from core.continual.metrics import HeldOut, Probe
from core.continual.notes import notes
from core.continual.sequence import Sequence, SequenceResult, run_alone, run_sequence
from core.continual.step0 import seed_pairs
from core.continual.train import StepSettings
from core.progress import CancelFn, ProgressFn, Tracker

MODALITIES = ("image", "text", "audio", "3d")
FAMILIES_A = tuple(range(0, 30))  # bearing, gear, pump, valve, pipe: 5 families x 6 conditions
FAMILIES_B = tuple(range(30, 60))  # motor, conveyor, fan, weld, bolt
METHODS = ("cmcl", "finetune", "ewc", "replay")
EWC_STRENGTH = 1e4


@dataclass(frozen=True)
class DemoSize:
    pool: int  # training items per concept and modality (world split "pool")
    test: int  # held-out items per concept and modality (world split "test")
    lambdas: tuple[float, ...]  # the λ_min sweep


QUICK = DemoSize(pool=8, test=5, lambdas=(3e-5, 3e-4))
FULL = DemoSize(pool=24, test=20, lambdas=(1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3))
SETTINGS = StepSettings()


def demo_data(pack_ref: str, size: DemoSize, *, seed: int = 0, device: str = "cpu",
              workers: int = 2, progress: ProgressFn | None = None,
              cancel: CancelFn | None = None) -> dict[str, np.ndarray]:
    """The pack's embeddings of the world's pool and test items and of the notes, with concept
    labels: keys "pool/<m>", "pool_labels/<m>", "test/<m>", ... (m includes "notes"). Rendered
    and embedded once, then read from the user data folder."""
    from core.paths import data_dir

    cache = data_dir() / "continual" / f"{pack_ref}-seed{seed}-{size.pool}-{size.test}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    out = _embed_demo(pack_ref, size, seed, device, workers, progress, cancel)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".partial.npz")
    np.savez(tmp, **out)
    tmp.replace(cache)
    return out


def _embed_demo(pack_ref, size, seed, device, workers, progress, cancel) -> dict:
    from core.alignment.world_embeddings import embed_world
    from core.device import pick_device
    from core.encoders.pipeline import embed_items
    from core.encoders.runtime import PackModels
    from core.packs.store import resolve_pack
    from core.paths import default_world_dir
    from core.world.build import build_world
    from core.world.concepts import all_concepts

    models = PackModels(resolve_pack(pack_ref), pick_device(device))
    out = {}
    for split, count in (("pool", size.pool), ("test", size.test)):
        world = default_world_dir("full", seed, split, count)
        build_world(world, "full", seed, only=split, per_concept=count, workers=workers,
                    progress=progress, cancel=cancel)
        embedded = embed_world(models, world, split, leaves=False, workers=workers,
                               progress=progress, cancel=cancel)
        for m in MODALITIES:
            out[f"{split}/{m}"] = embedded.base[m]
            out[f"{split}_labels/{m}"] = embedded.labels[m]
        texts = [(c.index, note) for c in all_concepts()
                 for note in notes(c, count, seed=2 * seed + (split == "test"))]
        done = embed_items(models.encoder("text"), [t for _, t in texts], batch_size=64,
                           progress=progress, cancel=cancel)
        out[f"{split}/notes"] = done.vectors
        out[f"{split}_labels/notes"] = np.array([c for c, _ in texts], np.int64)
    return out


def demo_sequence(data: dict[str, np.ndarray]) -> Sequence:
    def pool(key):
        return data[f"pool/{key}"], data[f"pool_labels/{key}"]

    def paired(name, key1, key2, concepts=None, seed=0) -> PairSet:
        m1, m2 = (_modality(k) for k in (key1, key2))
        return pairs_by_concept(name, m1, *pool(key1), m2, *pool(key2), concepts=concepts,
                                seed=seed)

    seed = seed_pairs({m: data[f"pool/{m}"] for m in MODALITIES},
                      base=paired("pack: image-text", "image", "text"))
    pack_probes = [Probe(f"pack {a}-{b}", a, b) for a, b in (
        ("image", "text"), ("audio", "text"), ("audio", "image"), ("3d", "image"),
        ("3d", "text"), ("3d", "audio"))]
    steps = [paired("1 image-notes (families A)", "image", "notes", FAMILIES_A, 1),
             paired("2 audio-image (families A)", "audio", "image", FAMILIES_A, 2),
             paired("3 3d-audio (all)", "3d", "audio", None, 3),
             paired("4 image-notes (families B)", "image", "notes", FAMILIES_B, 4)]
    probes = [Probe(steps[0].name, "image", "text", FAMILIES_A, ("image", "notes")),
              Probe(steps[1].name, "audio", "image", FAMILIES_A),
              Probe(steps[2].name, "3d", "audio"),
              Probe(steps[3].name, "image", "text", FAMILIES_B, ("image", "notes"))]
    held_out: HeldOut = {key: (data[f"test/{key}"], data[f"test_labels/{key}"])
                         for key in (*MODALITIES, "notes")}
    return Sequence(dim=int(data["pool/image"].shape[1]), seed=seed, pack_probes=pack_probes,
                    steps=steps, probes=probes, held_out=held_out)


def _modality(key: str) -> str:
    return "text" if key == "notes" else key


def run_demo(pack_ref: str = "demo@1", *, quick: bool = False, seed: int = 0,
             settings: StepSettings = SETTINGS, workers: int = 2,
             progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> dict:
    """Every method on the demo sequence, each step alone, and the λ_min sweep; a JSON-ready
    dict (the shape `mcr demo continual --json` prints)."""
    started = time.perf_counter()
    size = QUICK if quick else FULL
    data = demo_data(pack_ref, size, seed=seed, workers=workers, progress=progress,
                     cancel=cancel)
    sequence = demo_sequence(data)
    torch.manual_seed(seed)
    tracker = Tracker(progress, cancel)
    tracker.start("training the sequence", len(METHODS) + 2 + len(size.lambdas))
    runs = {}
    for method in METHODS:
        runs[method] = run_sequence(sequence, method, settings, ewc_strength=EWC_STRENGTH,
                                    cancel=cancel)
        tracker.advance(message=method)
    alone = run_alone(sequence, settings, cancel=cancel)
    tracker.advance(message="each step alone")
    sweep = []
    for value in size.lambdas:
        found = run_sequence(sequence, "cmcl", replace(settings, lambda_min=value),
                             cancel=cancel)
        sweep.append({"lambda_min": value, "forgetting": found.forgetting,
                      "plasticity": found.plasticity, "pack_drop": found.pack_drop})
        tracker.advance(message=f"λ_min {value:g}")
    # The public code's rule (project the gradient, then AdamW with its weight decay 1e-3).
    gradient = run_sequence(sequence, "cmcl",
                            replace(settings, update="gradient", weight_decay=1e-3),
                            cancel=cancel)
    tracker.advance(message="CMCL with the gradient projected instead of the update")
    out = {name: summary(result, sequence) for name, result in runs.items()}
    out["cmcl_gradient_rule"] = {"forgetting": gradient.forgetting,
                                 "plasticity": gradient.plasticity,
                                 "pack_drop": gradient.pack_drop}
    out["alone"] = {"plasticity": float(np.mean(alone)),
                    "per_step": [{"step": p.name, "R@1": v}
                                 for p, v in zip(sequence.probes, alone, strict=True)]}
    out["sweep"] = sweep
    out["targets"] = targets(out)
    out["settings"] = {**settings.to_json(), "pack": pack_ref, "quick": quick,
                       "pool_per_concept": size.pool, "test_per_concept": size.test,
                       "ewc_strength": EWC_STRENGTH}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def summary(result: SequenceResult, sequence: Sequence) -> dict:
    per_step = []
    for t, scores in enumerate(result.scores):
        seen = sequence.probes[:t] + sequence.pack_probes
        per_step.append({
            "after": "pack" if t == 0 else sequence.steps[t - 1].name,
            "scores": {p.name: {k: round(v, 4) for k, v in scores[p.name].items()}
                       for p in seen}})
    return {"forgetting": result.forgetting, "plasticity": result.plasticity,
            "pack_drop": result.pack_drop, "matrix": result.matrix.round(4).tolist(),
            "pack": result.pack.round(4).tolist(), "per_step": per_step,
            "steps": [p.name for p in sequence.probes],
            "pack_probes": [p.name for p in sequence.pack_probes]}


def targets(out: dict) -> dict:
    cmcl, finetune, ewc = out["cmcl"], out["finetune"], out["ewc"]
    forgetting_ratio = cmcl["forgetting"] / max(finetune["forgetting"], 1e-9)
    plasticity_ratio = cmcl["plasticity"] / max(finetune["plasticity"], 1e-9)
    return {"forgetting_vs_finetune_ratio": round(forgetting_ratio, 3),
            "plasticity_vs_finetune_ratio": round(plasticity_ratio, 3),
            "forgetting_met": forgetting_ratio <= 0.2,
            "plasticity_met": plasticity_ratio >= 0.9,
            "ahead_of_ewc": (cmcl["forgetting"] < ewc["forgetting"]
                             and cmcl["plasticity"] > ewc["plasticity"]),
            "pack_drop": round(cmcl["pack_drop"], 4),
            "pack_drop_met": cmcl["pack_drop"] <= 0.02}


def plot(out: dict, folder: str | Path) -> list[Path]:
    """The accuracy matrix of each method as a heatmap, and forgetting against plasticity for
    the λ_min sweep with the baselines as points; PNG files in `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(METHODS), figsize=(4.2 * len(METHODS), 3.8),
                             constrained_layout=True)
    for ax, name in zip(axes, METHODS, strict=True):
        matrix = np.array(out[name]["matrix"])
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        ax.set_title(f"{name}: F {out[name]['forgetting']:.3f}  P {out[name]['plasticity']:.3f}",
                     fontsize=9)
        ax.set_xticks(range(matrix.shape[1]), [s.split(" ")[0] for s in out[name]["steps"]])
        ax.set_yticks(range(matrix.shape[0]), ["pack"] + [str(i) for i in
                                                         range(1, matrix.shape[0])])
        ax.set_xlabel("pair of step")
        ax.set_ylabel("after step")
        for (i, j), v in np.ndenumerate(matrix):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.5 else "black")
    fig.colorbar(image, ax=axes, shrink=0.8, label="R@1")
    heatmap = folder / "continual-accuracy.png"
    fig.savefig(heatmap, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    sweep = out["sweep"]
    ax.plot([s["forgetting"] for s in sweep], [s["plasticity"] for s in sweep], "o-",
            label="CMCL, λ_min sweep")
    for s in sweep:
        ax.annotate(f"{s['lambda_min']:g}", (s["forgetting"], s["plasticity"]), fontsize=7,
                    textcoords="offset points", xytext=(4, 4))
    for name, marker in (("finetune", "s"), ("ewc", "^"), ("replay", "D")):
        ax.plot(out[name]["forgetting"], out[name]["plasticity"], marker, label=name)
    ax.set_xlabel("forgetting (mean R@1 drop of earlier pairs)")
    ax.set_ylabel("plasticity (mean R@1 of new pairs)")
    ax.legend(fontsize=8)
    trade_off = folder / "continual-tradeoff.png"
    fig.savefig(trade_off, dpi=110)
    plt.close(fig)
    return [heatmap, trade_off]
