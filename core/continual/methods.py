"""The ways a step can protect what earlier steps learned, in one loop: CMCL's DNS projection
(the product), and the references it is measured against: plain fine-tuning, EWC, and a small
DER++-style replay buffer (it keeps data, so it is a reference, not a product option).

A method sees the step at its start (`begin`), may add to the loss (`penalty`), may change
each map's update (`constrain`), and records what it keeps at the end (`end`). Step 0, what the
pack could already do, is recorded through `end` like any other step."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.alignment.losses import info_nce
from core.continual.data import PairSet
from core.continual.dns import Projection, Statistics
from core.continual.maps import Maps


class Method:
    name = "finetune"
    _modalities: tuple[str, str] = ("", "")

    def begin(self, maps: Maps, step: PairSet) -> None:
        self._modalities = step.modalities

    def penalty(self, maps: Maps, temperature: float) -> torch.Tensor | None:
        return None

    def embed(self, maps: Maps, side: int, x: torch.Tensor, rows: torch.Tensor
              ) -> torch.Tensor:
        """The step's `side` (0: m1, 1: m2) embedded for the loss; `rows` index the step."""
        return maps(self._modalities[side], x)

    def constrain(self, modality: str, update: torch.Tensor, gradient: bool = False
                  ) -> torch.Tensor:
        """A map's gradient (`gradient`) or the update about to be applied, as allowed."""
        return update

    def keeps_form(self, modality: str) -> bool:
        """Whether an update made from this map's constrained gradient by a per-row scaling is
        already allowed (no second constraint needed)."""
        return True

    def end(self, maps: Maps, step: PairSet, temperature: float) -> None:
        pass


class DNS(Method):
    """Dual-sided null-space projection of every update of the step's two maps."""

    name = "cmcl"

    def __init__(self, statistics: Statistics, lambda_min: float) -> None:
        self.statistics, self.lambda_min = statistics, lambda_min
        self._projections: dict[str, Projection] = {}
        self._rest: dict[int, torch.Tensor] = {}  # by side: the step's x (I − P)

    def begin(self, maps: Maps, step: PairSet) -> None:
        super().begin(maps, step)
        self._projections, self._rest = {}, {}
        for side, (m, x) in enumerate(((step.m1, step.x1), (step.m2, step.x2))):
            found = self.statistics.projection(m, self.lambda_min)
            if found is not None:
                self._projections[m] = found
                if found.partner is None:  # P̂ = I: the gradient G(I - P) = gyᵀ x(I - P)
                    self._rest[side] = x - (x @ found.inputs) @ found.inputs.T

    def embed(self, maps: Maps, side: int, x: torch.Tensor, rows: torch.Tensor
              ) -> torch.Tensor:
        rest = self._rest.get(side)
        if rest is None:
            return super().embed(maps, side, x, rows)
        m = self._modalities[side]
        return F.normalize(_ProjectedGradient.apply(x, rest[rows], maps.weight(m)), dim=-1)

    def constrain(self, modality: str, update: torch.Tensor, gradient: bool = False
                  ) -> torch.Tensor:
        found = self._projections.get(modality)
        if found is None or (gradient and modality in self._projected_in_backward):
            return update
        return found(update)

    def keeps_form(self, modality: str) -> bool:
        found = self._projections.get(modality)
        return found is None or found.partner is None

    @property
    def _projected_in_backward(self) -> set[str]:
        return {self._modalities[side] for side in self._rest}

    def end(self, maps: Maps, step: PairSet, temperature: float) -> None:
        self.statistics.record_pair(maps, step.m1, step.x1, step.m2, step.x2)


class _ProjectedGradient(torch.autograd.Function):
    """y = x Wᵀ whose gradient for W is gyᵀ x_rest, with x_rest = x (I − P) precomputed for
    the step: the projected gradient G (I − P) at the cost of the plain one (no d×d products
    per batch)."""

    @staticmethod
    def forward(ctx, x, rest, weight):
        ctx.save_for_backward(rest)
        return x @ weight.T

    @staticmethod
    def backward(ctx, grad):
        (rest,) = ctx.saved_tensors
        return None, None, grad.T @ rest


class EWC(Method):
    """Online EWC: a quadratic pull toward the maps after each step, weighted by the diagonal
    Fisher information (squared loss gradients) accumulated over the steps."""

    name = "ewc"

    def __init__(self, strength: float, batch: int = 128) -> None:
        self.strength, self.batch = strength, batch
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}

    def penalty(self, maps: Maps, temperature: float) -> torch.Tensor | None:
        if not self.fisher:
            return None
        terms = [(self.fisher[m] * (maps.weight(m) - self.anchor[m]) ** 2).sum()
                 for m in self.fisher]
        return self.strength / 2 * torch.stack(terms).sum()

    def end(self, maps: Maps, step: PairSet, temperature: float) -> None:
        for m in step.modalities:
            maps.ensure(m)
        squares = {m: torch.zeros(maps.dim, maps.dim) for m in step.modalities}
        batches = 0
        for start in range(0, len(step), self.batch):
            part = step.batch(torch.arange(start, min(start + self.batch, len(step))))
            if len(part) < 2:
                continue
            maps.zero_grad()
            info_nce(maps(part.m1, part.x1), maps(part.m2, part.x2), temperature,
                     part.groups).backward()
            for m in step.modalities:
                squares[m] += maps.weight(m).grad.detach() ** 2
            batches += 1
        maps.zero_grad()
        for m in step.modalities:
            self.fisher[m] = self.fisher.get(m, 0) + squares[m] / max(batches, 1)
        self.anchor = maps.matrices()


class Replay(Method):
    """DER++ for contrastive pairs: a reservoir of earlier pairs with the outputs they had at
    the end of their step; replayed with an output-matching term and their own InfoNCE."""

    name = "replay"

    def __init__(self, capacity: int = 256, batch: int = 64, alpha: float = 1.0,
                 beta: float = 1.0, seed: int = 0) -> None:
        self.capacity, self.batch, self.alpha, self.beta = capacity, batch, alpha, beta
        self.buffer: list[tuple[PairSet, torch.Tensor, torch.Tensor]] = []
        self.rng = np.random.default_rng(seed)

    def penalty(self, maps: Maps, temperature: float) -> torch.Tensor | None:
        if not self.buffer:
            return None
        kept, y1, y2 = self.buffer[int(self.rng.integers(len(self.buffer)))]
        index = torch.from_numpy(self.rng.choice(len(kept), min(self.batch, len(kept)),
                                                 replace=False))
        part = kept.batch(index)
        a, b = maps(part.m1, part.x1), maps(part.m2, part.x2)
        match = ((a - y1[index]) ** 2).sum(-1).mean() + ((b - y2[index]) ** 2).sum(-1).mean()
        return self.alpha * match + self.beta * info_nce(a, b, temperature, part.groups)

    def end(self, maps: Maps, step: PairSet, temperature: float) -> None:
        share = max(2, self.capacity // (len(self.buffer) + 1))
        self.buffer = [(kept.batch(torch.arange(min(share, len(kept)))), y1[:share], y2[:share])
                       for kept, y1, y2 in self.buffer]
        kept = step.subset(share, seed=int(self.rng.integers(2**31)))
        with torch.no_grad():
            self.buffer.append((kept, maps(kept.m1, kept.x1), maps(kept.m2, kept.x2)))


def make_method(name: str, *, statistics: Statistics | None = None, dim: int = 0,
                lambda_min: float = 0.0, ewc_strength: float = 0.0, seed: int = 0) -> Method:
    if name == "cmcl":
        return DNS(statistics if statistics is not None else Statistics(dim), lambda_min)
    if name == "ewc":
        return EWC(ewc_strength)
    if name == "replay":
        return Replay(seed=seed)
    return Method()
