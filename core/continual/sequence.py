"""Run a sequence of continual steps with one method and score every pair after every step;
also each step trained alone from the pack (the plasticity reference)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.continual.data import PairSet
from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.continual.methods import make_method
from core.continual.metrics import HeldOut, Probe, forgetting, plasticity, score
from core.continual.train import StepSettings, train_step
from core.progress import CancelFn, ProgressFn


@dataclass
class Sequence:
    """Step 0 (`seed`: what the pack could already do, as pairs, and `pack_probes` to watch
    it), then the steps, each with the probe that scores its pair."""

    dim: int
    seed: list[PairSet]
    pack_probes: list[Probe]
    steps: list[PairSet]
    probes: list[Probe]
    held_out: HeldOut


@dataclass
class SequenceResult:
    method: str
    matrix: np.ndarray  # R@1 [steps + 1, pairs]: row 0 before step 1, row t after step t
    pack: np.ndarray  # R@1 [steps + 1, pack probes]
    scores: list[dict[str, dict[str, float]]]  # after each step: probe name -> all scores
    losses: list[list[float]] = field(default_factory=list)
    maps: Maps | None = None

    @property
    def learned_at(self) -> list[int]:
        return list(range(1, self.matrix.shape[1] + 1))

    @property
    def forgetting(self) -> float:
        drops = forgetting(self.matrix, self.learned_at)
        return float(np.mean(drops)) if drops else 0.0

    @property
    def plasticity(self) -> float:
        return float(np.mean(plasticity(self.matrix, self.learned_at)))

    @property
    def pack_drop(self) -> float:
        """The largest drop of what the pack could do before the sequence (R@1)."""
        return float((self.pack[0] - self.pack[-1]).max()) if self.pack.size else 0.0


def run_sequence(sequence: Sequence, method: str, settings: StepSettings, *,
                 ewc_strength: float = 0.0, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> SequenceResult:
    maps = Maps(sequence.dim)
    chosen = make_method(method, statistics=Statistics(sequence.dim), dim=sequence.dim,
                         lambda_min=settings.lambda_min, ewc_strength=ewc_strength,
                         seed=settings.seed)
    for pairs in sequence.seed:
        chosen.end(maps, pairs, settings.temperature)
    rows, pack_rows, all_scores, losses = [], [], [], []

    def evaluate() -> None:
        found = {p.name: score(maps, sequence.held_out, p)
                 for p in sequence.probes + sequence.pack_probes}
        rows.append([found[p.name]["R@1"] for p in sequence.probes])
        pack_rows.append([found[p.name]["R@1"] for p in sequence.pack_probes])
        all_scores.append(found)

    evaluate()
    for step in sequence.steps:
        losses.append(train_step(maps, step, chosen, settings, progress=progress,
                                 cancel=cancel))
        chosen.end(maps, step, settings.temperature)
        evaluate()
    return SequenceResult(method, np.array(rows), np.array(pack_rows), all_scores, losses, maps)


def run_alone(sequence: Sequence, settings: StepSettings, *, progress: ProgressFn | None = None,
              cancel: CancelFn | None = None) -> list[float]:
    """Each step's pair R@1 when that step alone is trained from the pack (identity maps)."""
    out = []
    for step, probe in zip(sequence.steps, sequence.probes, strict=True):
        maps = Maps(sequence.dim)
        train_step(maps, step, make_method("finetune"), settings, progress=progress,
                   cancel=cancel)
        out.append(score(maps, sequence.held_out, probe)["R@1"])
    return out
