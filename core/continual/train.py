"""Train one continual step: the two maps of its pair with symmetric InfoNCE, the method's
penalty added to the loss and its constraint applied to every update.

Adam is written out here because where the projection goes decides whether DNS's invariant
holds. `update="applied"` (the product) makes the update that is actually applied keep it:
Adam's second moment per output row (which preserves the projected form) and any weight decay
projected, with a final projection of the update wherever the form is not preserved.
`update="gradient"` projects only the gradient and then runs AdamW (per-element second
moments, decay on everything) as the public CMCL code does, which lets the scaling and the
decay move protected directions (measured in the tests and the README)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from core.alignment.losses import info_nce
from core.continual.data import PairSet
from core.continual.maps import Maps
from core.continual.methods import Method
from core.errors import UsageError
from core.progress import CancelFn, ProgressFn, Tracker

UPDATES = ("applied", "gradient")


@dataclass(frozen=True)
class StepSettings:
    # Tuned on the demo sequence (`mcr demo continual`, README "Continual extension").
    epochs: int = 10
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0  # the public code's 1e-3 made no difference on the demo
    temperature: float = 0.05
    lambda_min: float = 3e-5  # eigenvalue floor of E[x xᵀ] on unit vectors; lower protects more
    update: str = "applied"
    seed: int = 0

    def to_json(self) -> dict:
        return asdict(self)


class _Adam:
    """Adam, with the second moment either per element (`per_row=False`: AdamW as the public
    code runs it) or shared by each output row of a map (`per_row=True`, like Adafactor's row
    factor). A per-row scaling D keeps an update D·G(I − P) in the form G(I − P), so when the
    partner side spans everything (P̂ = I, the usual case) the projected gradient's update
    needs no second d×d projection; a per-element scaling does not."""

    def __init__(self, lr: float, per_row: bool, betas=(0.9, 0.999), eps=1e-8) -> None:
        self.lr, self.per_row, self.betas, self.eps = lr, per_row, betas, eps
        self.state: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.steps = 0

    def directions(self, grads: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.steps += 1
        b1, b2 = self.betas
        out = {}
        for m, g in grads.items():
            squares = (g * g).mean(dim=1, keepdim=True) if self.per_row else g * g
            first, second = self.state.get(m, (torch.zeros_like(g), torch.zeros_like(squares)))
            first = b1 * first + (1 - b1) * g
            second = b2 * second + (1 - b2) * squares
            self.state[m] = (first, second)
            out[m] = (first / (1 - b1 ** self.steps)) / (
                (second / (1 - b2 ** self.steps)).sqrt() + self.eps)
        return out


def train_step(maps: Maps, step: PairSet, method: Method, settings: StepSettings, *,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               probe: Callable[[Maps], dict[str, float]] | None = None) -> list[float]:
    """Train `maps` in place on one step; returns the mean loss of each epoch. The method's
    `end` (its statistics, Fisher or buffer) is run by the caller once the step is kept.
    After every epoch, `progress` gets {"epoch", "loss"} and what `probe(maps)` measures
    (e.g. held-out retrieval), for live plots; probing does not change the training."""
    if settings.update not in UPDATES:
        raise UsageError(f"Unknown update rule {settings.update!r}",
                         hint=f"Use {' or '.join(UPDATES)}.")
    tracker = Tracker(progress, cancel)
    for m in step.modalities:
        maps.ensure(m)
    method.begin(maps, step)
    adam = _Adam(settings.lr, per_row=settings.update == "applied")
    generator = torch.Generator().manual_seed(settings.seed)
    per_epoch = max(1, -(-len(step) // settings.batch))
    tracker.start(f"training {step.name}", settings.epochs * per_epoch)
    history = []
    for _ in range(settings.epochs):
        order = torch.randperm(len(step), generator=generator)
        losses = []
        for start in range(0, len(step), settings.batch):
            rows = order[start:start + settings.batch]
            part = step.batch(rows)
            if len(part) < 2:
                continue
            maps.zero_grad()
            loss = info_nce(method.embed(maps, 0, part.x1, rows),
                            method.embed(maps, 1, part.x2, rows), settings.temperature,
                            part.groups)
            extra = method.penalty(maps, settings.temperature)
            total = loss if extra is None else loss + extra
            total.backward()
            _apply(maps, step.modalities, method, adam, settings)
            losses.append(float(loss.detach()))
            tracker.advance()
        history.append(sum(losses) / max(len(losses), 1))
        figures = {"epoch": len(history), "loss": history[-1]}
        if probe is not None:  # the random state is restored: a probe cannot move training
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                figures.update(probe(maps))
        tracker.report(figures, f"epoch {len(history)}: loss {history[-1]:.3f}")
    maps.zero_grad()
    return history


@torch.no_grad()
def _apply(maps: Maps, modalities, method: Method, adam: _Adam, settings: StepSettings) -> None:
    applied = settings.update == "applied"
    weights = {m: maps.weight(m) for m in modalities}
    grads = {m: method.constrain(m, weights[m].grad, gradient=True) for m in modalities}
    for m, direction in adam.directions(grads).items():
        delta = -settings.lr * direction
        if applied and not method.keeps_form(m):
            delta = method.constrain(m, delta)
        if settings.weight_decay:
            decay = -settings.lr * settings.weight_decay * weights[m].detach()
            delta += method.constrain(m, decay) if applied else decay
        weights[m].add_(delta)
