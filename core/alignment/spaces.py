"""Train small contrastive spaces from scratch: the demo pack's stand-ins for CLIP (base:
image-text), CLAP (audio leaf: audio-text) and ULIP-2 (3D leaf: 3D-image-text, with its own image
and text towers), each on its own split of the demo world, with its own seed and weights.

`train_space` is the generic loop: symmetric InfoNCE over every pair of modalities present in a
training group, a learnable temperature, AdamW with warm-up and cosine decay, deterministic given
the seed, resumable from a checkpoint. `train_demo_spaces` builds, trains, evaluates (in-space
retrieval on the world's `test` split) and saves the three spaces.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.encoders.demo import seeded as _seeded_rng
from core.errors import UsageError
from core.progress import CancelFn, ProgressFn, Tracker

INIT_TEMPERATURE = 0.07
MAX_LOGIT_SCALE = math.log(100.0)  # temperature >= 0.01, as CLIP clamps it
WEIGHT_DECAY = 0.05
WARMUP_FRACTION = 0.05
MAX_WARMUP_STEPS = 200
CHECKPOINT_EVERY = 25  # steps


# --------------------------------------------------------------------------- loss


def info_nce(a: Tensor, b: Tensor, logit_scale: Tensor, ids_a: Tensor | None = None,
             ids_b: Tensor | None = None) -> Tensor:
    """Symmetric InfoNCE between row-matched batches `a`, `b` [N, D] (normalised inside).

    `ids_a`/`ids_b` [N] name the underlying item of each row: two rows that share an item in
    either modality (two groups with the same caption) are not used as each other's negatives,
    in both directions."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = logit_scale.exp() * a @ b.T
    labels = torch.arange(len(a), device=a.device)
    shared = torch.zeros(len(a), len(a), dtype=torch.bool, device=a.device)
    for ids in (ids_a, ids_b):
        if ids is not None:
            shared |= ids[None, :] == ids[:, None]
    if ids_a is not None or ids_b is not None:
        shared &= ~torch.eye(len(a), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(shared, -torch.inf)  # symmetric, so it serves both ways
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def learning_rate(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 5% of the steps (at most 200), then cosine decay to 0."""
    warmup = max(1, min(MAX_WARMUP_STEPS, int(WARMUP_FRACTION * total)))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


# --------------------------------------------------------------------------- training loop


def train_space(towers: dict[str, nn.Module], inputs: Mapping[str, Tensor],
                groups: Mapping[str, Tensor | np.ndarray | list] | Tensor | np.ndarray | None,
                *, epochs: int, batch_size: int, lr: float, seed: int,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                checkpoint: str | Path | None = None, name: str = "space") -> list[float]:
    """Train `towers` (modality -> module giving [N, D]) contrastively; returns the loss of
    every step (a resumed run's history includes the steps before the checkpoint).

    `inputs[m]` holds the cached inputs of modality m (first dimension = items). `groups` says
    which items belong together: for each modality, an index array over the training groups
    (group g holds item `groups[m][g]` of `inputs[m]`; -1 where the group lacks m), or None
    when every `inputs[m]` is already row-aligned. Each step draws `batch_size` groups (a
    seeded permutation per epoch, last partial batch dropped) and averages symmetric InfoNCE
    over every pair of modalities, on the groups that hold both. The temperature is learnable
    (initially 0.07, at least 0.01).

    Deterministic given `seed` (and the thread count). With `checkpoint`, the state (weights,
    BatchNorm statistics, optimizer, temperature, losses) is written there every few steps and
    on cancel, and a run with the same settings resumes from it and ends with the weights an
    uninterrupted run would have; a checkpoint of other settings is ignored and overwritten.
    `Cancelled` is raised on cancel."""
    modalities = sorted(towers)
    if len(modalities) < 2:
        raise UsageError("a contrastive space needs at least two modalities")
    index = _group_index(modalities, inputs, groups)
    n_groups = len(next(iter(index.values())))
    batch_size = min(batch_size, n_groups)
    if batch_size < 2:
        raise UsageError(f"cannot train {name} on {n_groups} group(s)")
    per_epoch = n_groups // batch_size
    total = per_epoch * epochs
    pairs = list(itertools.combinations(modalities, 2))

    with _seeded_rng(seed):
        logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / INIT_TEMPERATURE)))
    decay, no_decay = [], []
    for m in modalities:
        for p in towers[m].parameters():
            if p.requires_grad:
                (decay if p.dim() >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY},
         {"params": no_decay + [logit_scale], "weight_decay": 0.0}], lr=lr)
    meta = torch.tensor([seed, epochs, batch_size, n_groups, total, len(modalities), lr],
                        dtype=torch.float64)

    history: list[float] = []
    step = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.is_file():
        restored = _load_checkpoint(path, meta, towers, optimizer, logit_scale)
        if restored is not None:
            history = restored
            step = len(history)

    tracker = Tracker(progress, cancel)
    tracker.start(f"training {name}", total)
    if step:
        tracker.advance(step, "resumed")
    order = None
    epoch_of_order = -1
    try:
        while step < total:
            if tracker.cancelled():
                if path is not None:
                    _save_checkpoint(path, meta, towers, optimizer, logit_scale, history)
                tracker.check()
            epoch, position = divmod(step, per_epoch)
            if epoch != epoch_of_order:
                generator = torch.Generator().manual_seed(_mix(seed, epoch))
                order = torch.randperm(n_groups, generator=generator)
                epoch_of_order = epoch
            chosen = order[position * batch_size:(position + 1) * batch_size]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total, lr)
            with _seeded_rng(_mix(seed, 1_000_003 + step)):
                loss = _step(towers, inputs, index, chosen, pairs, logit_scale)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                logit_scale.clamp_(0.0, MAX_LOGIT_SCALE)
            history.append(float(loss.detach()))
            step += 1
            if path is not None and (step % CHECKPOINT_EVERY == 0 or step == total):
                _save_checkpoint(path, meta, towers, optimizer, logit_scale, history)
            tracker.advance(message=f"loss {history[-1]:.3f}")
    finally:
        for m in modalities:
            towers[m].eval()
    return history


def _group_index(modalities, inputs, groups) -> dict[str, Tensor]:
    for m in modalities:
        if m not in inputs:
            raise UsageError(f"no inputs for the {m} tower")
    if groups is None:
        sizes = {len(inputs[m]) for m in modalities}
        if len(sizes) != 1:
            raise UsageError("inputs of different lengths need `groups`")
        n = sizes.pop()
        return {m: torch.arange(n) for m in modalities}
    if not isinstance(groups, Mapping):
        raise UsageError("`groups` maps each modality to an index array over the groups")
    index = {m: torch.as_tensor(np.asarray(groups[m]), dtype=torch.long) for m in modalities}
    lengths = {len(v) for v in index.values()}
    if len(lengths) != 1:
        raise UsageError("every modality's group index must have one entry per group")
    for m, idx in index.items():
        if len(idx) and int(idx.max()) >= len(inputs[m]):
            raise UsageError(f"a group refers to {m} item {int(idx.max())} of {len(inputs[m])}")
    return index


def _step(towers, inputs, index, chosen, pairs, logit_scale) -> Tensor:
    embedded, ids = {}, {}
    for m, tower in towers.items():
        rows = index[m][chosen]
        present = (rows >= 0).nonzero().squeeze(1)
        ids[m] = rows
        tower.train()
        out = tower(_take(inputs[m], rows[present]))
        if len(present) < len(rows):  # groups without this modality: zero rows, never used
            out = out.new_zeros((len(rows), out.shape[-1])).index_copy(0, present, out)
        embedded[m] = out
    losses = []
    for a, b in pairs:
        both = (ids[a] >= 0) & (ids[b] >= 0)
        if int(both.sum()) < 2:
            continue
        losses.append(info_nce(embedded[a][both], embedded[b][both], logit_scale,
                               ids[a][both], ids[b][both]))
    if not losses:
        raise UsageError("no batch holds two modalities together")
    return torch.stack(losses).mean()


def _take(data, rows: Tensor):
    if isinstance(data, Mapping):
        return {k: v[rows] for k, v in data.items()}
    return data[rows]


def _mix(*values: int) -> int:
    """A 63-bit seed from integers (a stable hash, independent of Python's hash seed)."""
    seed = 0x9E3779B97F4A7C15
    for v in values:
        seed = (seed ^ (int(v) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        seed ^= seed >> 31
    return seed & 0x7FFFFFFFFFFFFFFF


def _save_checkpoint(path: Path, meta, towers, optimizer, logit_scale, history) -> None:
    state: dict[str, Tensor] = {"meta": meta, "logit_scale": logit_scale.detach().clone(),
                                "history": torch.tensor(history, dtype=torch.float64)}
    for m, tower in towers.items():
        for key, value in tower.state_dict().items():
            state[f"tower/{m}/{key}"] = value.detach().clone()
    for pid, entry in optimizer.state_dict()["state"].items():
        for key, value in entry.items():
            state[f"optim/{pid}/{key}"] = torch.as_tensor(value).clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, meta, towers, optimizer, logit_scale) -> list[float] | None:
    """Restore a checkpoint of the same settings; None (nothing restored) otherwise."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # unreadable or unsafe: train from the start and overwrite it
        return None
    if not isinstance(state, dict) or not torch.equal(state.get("meta", torch.zeros(0)), meta):
        return None
    tower_states = {m: {} for m in towers}
    optim_state: dict[int, dict] = {}
    for key, value in state.items():
        kind, _, rest = key.partition("/")
        if kind == "tower":
            m, _, name = rest.partition("/")
            if m not in tower_states:
                return None
            tower_states[m][name] = value
        elif kind == "optim":
            pid, _, name = rest.partition("/")
            optim_state.setdefault(int(pid), {})[name] = value
    try:
        for m, tower in towers.items():
            tower.load_state_dict(tower_states[m], strict=True)
        groups = optimizer.state_dict()["param_groups"]
        optimizer.load_state_dict({"state": optim_state, "param_groups": groups})
    except (RuntimeError, ValueError, KeyError):
        return None
    with torch.no_grad():
        logit_scale.copy_(state["logit_scale"])
    return [float(x) for x in state["history"]]


# --------------------------------------------------------------------------- evaluation


def embed_cached(tower: nn.Module, inputs, batch_size: int = 256) -> np.ndarray:
    """Normalised embeddings of cached inputs, in eval mode without grad (what the encoder's
    `forward` gives for the same items)."""
    was_training = tower.training
    tower.eval()
    out = []
    n = len(next(iter(inputs.values()))) if isinstance(inputs, Mapping) else len(inputs)
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                rows = torch.arange(start, min(n, start + batch_size))
                out.append(F.normalize(tower(_take(inputs, rows)).float(), dim=-1))
    finally:
        tower.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


# --------------------------------------------------------------------------- the demo spaces

# Per budget: groups per concept taken from each training split (None = all), and per space
# the epochs, batch size and peak learning rate.
BUDGETS: dict[str, dict] = {
    # About 20 minutes on 2 otherwise idle CPU cores for the full world (inputs ~2.5 min,
    # base ~3, audio ~3.5, 3D leaf ~11): the 3D leaf costs most per item (PointBERT's
    # mini-PointNet runs 128-256-512-512 channels on each grouped point).
    "full": {"per_concept": None,
             "base": {"epochs": 12, "batch_size": 256, "lr": 2e-3},
             "audio": {"epochs": 6, "batch_size": 256, "lr": 2e-3},
             "cloud": {"epochs": 5, "batch_size": 256, "lr": 2e-3}},
    # About a minute on the small world (6 groups per concept per split).
    "quick": {"per_concept": 6,
              "base": {"epochs": 30, "batch_size": 120, "lr": 2e-3},
              "audio": {"epochs": 20, "batch_size": 120, "lr": 2e-3},
              "cloud": {"epochs": 4, "batch_size": 120, "lr": 2e-3}},
}
SEEDS = {"base": 101, "audio": 202, "cloud": 303}  # added to the caller's seed, per space
SPACES_JSON = "spaces.json"


def _space_encoders(space: str, dim: int, seed: int, vocabulary: list[str] | None):
    from core.encoders.demo import (
        MelCNNEncoder,
        MiniLMTextEncoder,
        SmallImageEncoder,
        SmallPointEncoder,
        WordTextEncoder,
    )

    s = seed + SEEDS[space]
    if space == "base":
        return {"image": SmallImageEncoder({"output_dim": dim}, seed=s),
                "text": MiniLMTextEncoder({"output_dim": dim}, seed=s + 1)}
    if space == "audio":
        return {"audio": MelCNNEncoder({"output_dim": dim}, seed=s),
                "text": WordTextEncoder(vocabulary, {"output_dim": dim}, seed=s + 1)}
    return {"3d": SmallPointEncoder({"embed_dim": dim}, seed=s),
            "image": SmallImageEncoder({"output_dim": dim, "width": 16, "heads": 8,
                                        "layers": [1, 1, 2, 1]}, seed=s + 1),
            "text": WordTextEncoder(vocabulary, {"output_dim": dim, "width": 96}, seed=s + 2)}


SPLITS = {"base": "base_pairs", "audio": "audio_pairs", "cloud": "cloud_triplets"}
EVAL_PAIRS = {"base": [("image", "text"), ("text", "image")],
              "audio": [("audio", "text"), ("text", "audio")],
              "cloud": [("3d", "image"), ("image", "3d"), ("3d", "text"), ("text", "3d"),
                        ("image", "text"), ("text", "image")]}


def _training_groups(rows, split: str, per_concept: int | None):
    """{group id: {modality: row}} of a training split, at most `per_concept` groups per
    concept (the first ones), in manifest order. The caption is the group's text."""
    groups: dict[str, dict] = {}
    for row in rows:
        if row.split == split:
            groups.setdefault(row.group, {})[row.modality] = row
    if per_concept is not None:
        taken: dict[int, int] = {}
        kept = {}
        for gid, members in groups.items():
            concept = next(iter(members.values())).concept_index
            if taken.get(concept, 0) < per_concept:
                taken[concept] = taken.get(concept, 0) + 1
                kept[gid] = members
        groups = kept
    return groups


def train_demo_spaces(world_dir: str | Path, out_dir: str | Path, *, dim: int = 256,
                      budget: str = "full", seed: int = 0, progress: ProgressFn | None = None,
                      cancel: CancelFn | None = None, spaces=("base", "audio", "cloud"),
                      workers: int = 2) -> dict:
    """Train the demo pack's three spaces on a demo world and save them in `out_dir`.

    base ("CLIP"): SmallImageEncoder + MiniLMTextEncoder on `base_pairs`; audio ("CLAP"):
    MelCNNEncoder + WordTextEncoder on `audio_pairs`; cloud ("ULIP-2"): small PointBERT +
    its own SmallImageEncoder and WordTextEncoder on `cloud_triplets`. No weights are shared
    and each space has its own seed. Each tower is saved as `{space}_{modality}.safetensors`
    with `{space}_{modality}.json` ({"arch", "config", "files"}, a pack component whose files
    are named relative to `out_dir`); word vocabularies as `{space}_text_vocab.json`.
    `spaces.json` gathers the components and the results, which are also returned:
    per space, training seconds, steps, final loss, the parameters and bytes of each tower and
    in-space retrieval on the `test` split by concept (R@1/5/10, mAP) for each direction."""
    from core.alignment.features import cache_inputs
    from core.encoders.demo import build_vocabulary
    from core.evaluation.metrics import retrieval_scores
    from core.world.manifest import read_manifest

    if budget not in BUDGETS:
        raise UsageError(f"Unknown training budget {budget!r}",
                         hint=f"Use one of {', '.join(BUDGETS)}.")
    settings = BUDGETS[budget]
    world_dir, out_dir = Path(world_dir), Path(out_dir)
    rows = read_manifest(world_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    test = [r for r in rows if r.split == "test"]
    results: dict = {"budget": budget, "dim": dim, "seed": seed, "world": str(world_dir),
                     "spaces": {}}
    for space in spaces:
        started = time.perf_counter()
        groups = list(_training_groups(rows, SPLITS[space], settings["per_concept"]).values())
        modalities = sorted({m for g in groups for m in g} | {"text"})
        captions = list(dict.fromkeys(
            next(iter(g.values())).caption for g in groups))  # the group's caption
        vocabulary = build_vocabulary(captions) if space != "base" else None
        encoders = _space_encoders(space, dim, seed, vocabulary)
        assert sorted(encoders) == modalities, (space, modalities)

        # Cached inputs: one per distinct file or caption, and each group's index into them.
        caption_rows = {}
        for g in groups:
            row = next(iter(g.values()))
            caption_rows.setdefault(row.caption, row)
        inputs, index = {}, {}
        for m, encoder in encoders.items():
            if m == "text":
                members = list(caption_rows.values())
                position = {c: i for i, c in enumerate(caption_rows)}
                index[m] = [position[next(iter(g.values())).caption] for g in groups]
            else:
                members = [g[m] for g in groups]
                index[m] = list(range(len(groups)))
            inputs[m] = cache_inputs(world_dir, members, encoder, workers, progress, cancel)
        cached_at = time.perf_counter()

        towers = {m: e.tower for m, e in encoders.items()}
        plan = settings[space]
        history = train_space(towers, inputs, index, epochs=plan["epochs"],
                              batch_size=plan["batch_size"], lr=plan["lr"],
                              seed=seed + SEEDS[space], progress=progress, cancel=cancel,
                              checkpoint=out_dir / "checkpoints" / f"{space}.pt", name=space)
        del inputs
        for encoder in encoders.values():
            encoder.round_for_storage()  # evaluate what the saved files hold
        trained_at = time.perf_counter()

        # In-space retrieval on the test split, by concept.
        vectors, labels = {}, {}
        for m, encoder in encoders.items():
            members = [r for r in test if r.modality == m]
            cached = cache_inputs(world_dir, members, encoder, workers, progress, cancel)
            vectors[m] = embed_cached(encoder.tower, cached)
            labels[m] = np.array([r.concept_index for r in members])
        retrieval = {f"{q}->{g}": retrieval_scores(vectors[q], labels[q], vectors[g], labels[g])
                     for q, g in EVAL_PAIRS[space]}

        components, sizes = {}, {}
        for m, encoder in encoders.items():
            components[m], sizes[m] = _save_tower(out_dir, space, m, encoder)
        results["spaces"][space] = {
            "split": SPLITS[space],
            "groups": len(groups),
            "captions": len(captions),
            "seconds": {"inputs": round(cached_at - started, 1),
                        "training": round(trained_at - cached_at, 1),
                        "total": round(time.perf_counter() - started, 1)},
            "steps": len(history),
            "final_loss": round(float(np.mean(history[-20:])), 4) if history else None,
            "settings": plan,
            "towers": sizes,
            "components": components,
            "retrieval": retrieval,
        }
    tmp = out_dir / (SPACES_JSON + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / SPACES_JSON)
    return results


def _save_tower(out_dir: Path, space: str, modality: str, encoder) -> tuple[dict, dict]:
    from safetensors.torch import save_file

    stem = f"{space}_{modality}"
    tensors = encoder.state_tensors()
    save_file(tensors, str(out_dir / f"{stem}.safetensors"))
    files = {"weights": f"{stem}.safetensors"}
    if hasattr(encoder, "vocabulary"):
        vocab = f"{space}_text_vocab.json"
        (out_dir / vocab).write_text(json.dumps(encoder.vocabulary) + "\n", encoding="utf-8")
        files["vocab"] = vocab
    component = {"arch": encoder.arch, "config": encoder.config(), "files": files}
    (out_dir / f"{stem}.json").write_text(json.dumps(component, indent=2) + "\n",
                                          encoding="utf-8")
    params = sum(p.numel() for p in encoder.tower.parameters())
    size = (out_dir / f"{stem}.safetensors").stat().st_size
    return component, {"parameters": int(params), "bytes": int(size),
                       "MiB": round(size / 2**20, 3)}
