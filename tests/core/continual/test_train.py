"""train_step: it learns separable pairs, reports progress, stops on cancel, refuses an unknown
update rule, and is deterministic for a seed."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.continual.data import PairSet
from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.continual.methods import DNS, EWC, Method, Replay
from core.continual.train import StepSettings, train_step
from core.errors import Cancelled, UsageError
from core.progress import Progress

D = 24


def separable_pairs(seed: int = 0, per_concept: int = 20, concepts: int = 6) -> PairSet:
    """Concept clusters in `a`; `b` is the same clusters through a random rotation, so identity
    maps pair them badly and a trained pair of maps well."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(concepts).repeat_interleave(per_concept)
    centres = torch.randn(concepts, D, generator=g)
    rotation, _ = torch.linalg.qr(torch.randn(D, D, generator=g))
    x1 = F.normalize(centres[labels] + 0.3 * torch.randn(len(labels), D, generator=g), dim=-1)
    x2 = F.normalize((centres[labels] + 0.3 * torch.randn(len(labels), D, generator=g))
                     @ rotation.T, dim=-1)
    return PairSet("toy", "a", "b", x1, x2, labels)


def _accuracy(maps: Maps, pairs: PairSet) -> float:
    with torch.no_grad():
        sims = maps("a", pairs.x1) @ maps("b", pairs.x2).T
    return float((pairs.groups[sims.argmax(1)] == pairs.groups).float().mean())


SETTINGS = StepSettings(epochs=8, batch=32, lr=1e-2)


def test_loss_falls_over_epochs_and_the_pairs_are_learned():
    pairs = separable_pairs()
    maps = Maps(D)
    before = _accuracy(maps, pairs)
    losses = train_step(maps, pairs, Method(), SETTINGS)
    assert len(losses) == SETTINGS.epochs
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]
    assert losses[-1] < min(losses[:2])
    assert before < 0.5 and _accuracy(maps, pairs) > 0.95
    assert maps.modalities == ["a", "b"]
    assert all(w.grad is None or not w.grad.any() for w in maps.parameters())


@pytest.mark.parametrize("update", ["applied", "gradient"])
def test_same_seed_same_maps(update):
    pairs = separable_pairs(seed=1)
    settings = StepSettings(epochs=3, batch=32, lr=1e-2, update=update, seed=5)
    results = []
    for _ in range(2):
        maps = Maps(D)
        losses = train_step(maps, pairs, Method(), settings)
        results.append((losses, maps.matrices()))
    assert results[0][0] == results[1][0]
    for m in ("a", "b"):
        assert torch.equal(results[0][1][m], results[1][1][m])
    other = Maps(D)
    train_step(other, pairs, Method(), StepSettings(epochs=3, batch=32, lr=1e-2, update=update,
                                                    seed=6))
    assert not torch.equal(other.weight("a"), results[0][1]["a"])  # the seed orders batches


def test_progress_is_reported_and_cancel_raises():
    pairs = separable_pairs()  # 120 pairs: 4 batches of 32 per epoch
    seen: list[Progress] = []
    train_step(Maps(D), pairs, Method(), StepSettings(epochs=2, batch=32),
               progress=seen.append)
    assert seen[0].done == 0 and seen[0].total == 8 and "toy" in seen[0].stage
    assert [p.done for p in seen if p.metrics is None] == list(range(9))
    assert [(p.done, p.metrics["epoch"]) for p in seen if p.metrics] == [(4, 1), (8, 2)]

    polls = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 3

    maps, seen = Maps(D), []
    with pytest.raises(Cancelled):
        train_step(maps, pairs, Method(), StepSettings(epochs=50, batch=32),
                   progress=seen.append, cancel=cancel)
    assert 0 < len(seen) < 50 * 4
    with pytest.raises(Cancelled):  # cancelled before it starts: nothing trained
        fresh = Maps(D, ["a", "b"])
        train_step(fresh, pairs, Method(), SETTINGS, cancel=lambda: True)
    assert torch.equal(fresh.weight("a"), torch.eye(D))


def test_unknown_update_rule_is_a_usage_error_before_anything_changes():
    maps = Maps(D, ["a"])
    seen = []
    with pytest.raises(UsageError, match="update rule"):
        train_step(maps, separable_pairs(), Method(), StepSettings(update="sgd"),
                   progress=seen.append)
    assert seen == [] and maps.modalities == ["a"]
    assert torch.equal(maps.weight("a"), torch.eye(D))


def test_every_method_trains_a_step_to_finite_maps():
    first, second = separable_pairs(seed=2), separable_pairs(seed=3)
    second = PairSet("toy2", "a", "c", second.x1, second.x2, second.groups)
    for method in (Method(), DNS(Statistics(D), 1e-3), EWC(10.0), Replay(capacity=64)):
        maps = Maps(D)
        for step in (first, second):
            losses = train_step(maps, step, method, StepSettings(epochs=2, batch=32, lr=1e-2))
            method.end(maps, step, 0.05)
            assert all(torch.isfinite(torch.tensor(losses)))
        assert all(torch.isfinite(w).all() for w in maps.matrices().values())
        assert maps.modalities == ["a", "b", "c"]


def test_each_epoch_reports_its_loss_and_the_probe_without_changing_training():
    settings = StepSettings(epochs=3, batch=32, lr=1e-2, seed=5)

    def run(probe):
        maps = Maps(D)
        seen = []
        history = train_step(maps, separable_pairs(seed=2), Method(), settings,
                             progress=seen.append, probe=probe)
        return history, [p.metrics for p in seen if p.metrics], maps.matrices()

    plain, plain_reports, plain_maps = run(None)
    calls = []
    probed, reports, maps = run(lambda m: calls.append(1) or {"held_out_r1": 0.5})
    assert probed == plain and len(calls) == 3
    assert [r["epoch"] for r in reports] == [1, 2, 3]
    assert [r["loss"] for r in reports] == plain
    assert all(r["held_out_r1"] == 0.5 for r in reports)
    assert all("held_out_r1" not in r for r in plain_reports)
    assert all(torch.equal(plain_maps[k], maps[k]) for k in maps)


def test_a_probe_sees_no_gradients_and_its_random_draws_do_not_move_training():
    settings = StepSettings(epochs=2, batch=32, lr=1e-2, seed=3)

    def run(probe):
        maps = Maps(D)
        seen = []
        torch.manual_seed(0)
        history = train_step(maps, separable_pairs(seed=4), Replay(capacity=32), settings,
                             progress=seen.append, probe=probe)
        return history, [p.metrics for p in seen if p.metrics], maps.matrices(), torch.rand(1)

    def probe(maps):
        assert not torch.is_grad_enabled()
        torch.rand(5)
        return {"held_out_r1": 1.0}

    plain, _, plain_maps, plain_next = run(None)
    probed, reports, maps, probed_next = run(probe)
    assert probed == plain and torch.equal(plain_next, probed_next)
    assert all(torch.equal(plain_maps[k], maps[k]) for k in maps)
    assert [(r["epoch"], r["held_out_r1"]) for r in reports] == [(1, 1.0), (2, 1.0)]
