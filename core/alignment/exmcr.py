"""Train one leaf's Ex-MCR head on pseudo-tuples: the base space is never touched.

Dense inter-MCR alignment: symmetric InfoNCE between the projected leaf embeddings (leaf-only
through Head1+Head2, overlap through Head2) and both base embeddings of the tuple (four
combinations). Intra-MCR alignment: Head1 pulls the leaf-only modality towards the leaf's own
overlap embedding (1 - cos), weighted by `intra_weight`. AdamW with warm-up and cosine decay."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from core.alignment.heads import ExMCRHead
from core.alignment.losses import cosine_gap, info_nce
from core.alignment.pseudo_pairs import Tuples
from core.progress import CancelFn, ProgressFn, Tracker


@dataclass(frozen=True)
class HeadTraining:
    epochs: int = 30
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 1e-4
    temperature: float = 0.03
    intra_weight: float = 0.1
    warmup_steps: int = 20
    seed: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def exmcr_loss(head: ExMCRHead, batch: Tuples, settings: HeadTraining) -> torch.Tensor:
    leaf_only = head.leaf_only(batch.leaf_only)
    overlap = head.overlap(batch.overlap_leaf)
    inter = sum(info_nce(p, b, settings.temperature)
                for p in (leaf_only, overlap) for b in (batch.overlap_base, batch.base_other)) / 4
    intra = cosine_gap(head.Head1(batch.leaf_only), batch.overlap_leaf)
    return inter + settings.intra_weight * intra


Probe = Callable[[torch.nn.Module], Mapping[str, float]]


def train_head(tuples: Tuples, settings: HeadTraining | None = None, *,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               checkpoint: str | Path | None = None, probe: Probe | None = None,
               tag: Mapping[str, object] | None = None) -> tuple[ExMCRHead, list[float]]:
    """Train an Ex-MCR head on the tuples; returns it in eval mode and each epoch's loss.
    `probe` and `tag`: see `train_projector`."""
    settings = settings or HeadTraining()
    torch.manual_seed(settings.seed)
    head = ExMCRHead(tuples.leaf_only.shape[1])
    return train_projector(head, tuples, exmcr_loss, settings, progress, cancel, checkpoint,
                           probe=probe, tag=tag)


def train_projector(head: torch.nn.Module, tuples: Tuples, loss_fn, settings: HeadTraining,
                    progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                    checkpoint: str | Path | None = None, *, probe: Probe | None = None,
                    tag: Mapping[str, object] | None = None):
    """The training loop shared by Ex-MCR, C-MCR and the paired oracle. With `checkpoint`, the
    state is saved after every epoch and a run with the same settings and data resumes from it
    (bit-identical to an uninterrupted run).

    After every epoch, `progress` gets a metrics record {"epoch" (1-based), "loss" (the epoch's
    mean), what `probe(head)` measures (e.g. held-out retrieval), and the entries of `tag`
    (e.g. {"leaf": "audio"}, to tell runs apart)}, for live plots. The probe sees the head in
    eval mode under no_grad, with the random state saved and restored around it, so probing
    does not change the training. Epochs restored from a checkpoint are reported first, with
    their loss (and the probe for the last of them, whose weights were restored)."""
    generator = torch.Generator().manual_seed(settings.seed)
    head.train()
    optimizer = torch.optim.AdamW([p for p in head.parameters() if p.requires_grad],
                                  lr=settings.lr, weight_decay=settings.weight_decay)
    n = len(tuples)
    steps_per_epoch = max(1, n // settings.batch_size)
    total = settings.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: _warmup_cosine(s, settings.warmup_steps, total))
    identity = {"settings": settings.to_json(), "data": _digest(tuples),
                "loss": loss_fn.__name__}
    history: list[float] = []
    if checkpoint is not None:
        history = _resume(Path(checkpoint), identity, head, optimizer, schedule, generator)
    tracker = Tracker(progress, cancel)
    tracker.start("training head", total)
    tracker.advance(len(history) * steps_per_epoch)
    for epoch, loss in enumerate(history, start=1):  # resumed: their figures, for the plots
        figures = {"epoch": epoch, "loss": loss}
        if probe is not None and epoch == len(history):  # the head is this epoch's
            figures.update(_probed(head, probe))
        tracker.report({**figures, **(tag or {})}, f"epoch {epoch}: loss {loss:.3f} (resumed)")
    for _ in range(len(history), settings.epochs):
        order = torch.randperm(n, generator=generator)
        losses = []
        for step in range(steps_per_epoch):
            index = order[step * settings.batch_size:(step + 1) * settings.batch_size]
            loss = loss_fn(head, _take(tuples, index), settings)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            tracker.advance(message=f"loss {losses[-1]:.3f}")
        history.append(sum(losses) / len(losses))
        if checkpoint is not None:
            _save(Path(checkpoint), identity, head, optimizer, schedule, generator, history)
        figures = {"epoch": len(history), "loss": history[-1]}
        if probe is not None:
            figures.update(_probed(head, probe))
        tracker.report({**figures, **(tag or {})},
                       f"epoch {len(history)}: loss {history[-1]:.3f}")
    return head.eval(), history


def _probed(head: torch.nn.Module, probe: Probe) -> dict[str, float]:
    """What `probe` measures on the head in eval mode (BatchNorm's running statistics are not
    updated) without gradients; the global random state and train mode are restored."""
    head.eval()
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            return dict(probe(head))
    finally:
        head.train()


def _digest(tuples: Tuples) -> str:
    """The training data's fingerprint: a checkpoint only resumes the same run."""
    digest = hashlib.sha256()
    for t in (tuples.leaf_only, tuples.overlap_leaf, tuples.overlap_base, tuples.base_other):
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _save(path: Path, identity, head, optimizer, schedule, generator, history) -> None:
    state = {"identity": json.dumps(identity, sort_keys=True), "model": head.state_dict(),
             "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
             "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
             "history": history}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path: Path, identity, head, optimizer, schedule, generator) -> list[float]:
    """Restore a checkpoint of the same run; [] (start afresh) if absent, unreadable or of
    other settings."""
    if not path.is_file():
        return []
    fresh = {k: v.clone() for k, v in head.state_dict().items()}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state["identity"] != json.dumps(identity, sort_keys=True):
            return []
        head.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        return [float(x) for x in state["history"]]
    except Exception:  # noqa: BLE001 - a damaged checkpoint only costs the time to retrain
        head.load_state_dict(fresh)
        return []


def _take(tuples: Tuples, index: torch.Tensor) -> Tuples:
    return Tuples(tuples.leaf_only[index], tuples.overlap_leaf[index],
                  tuples.overlap_base[index], tuples.base_other[index], tuples.centre[index])


def _warmup_cosine(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
