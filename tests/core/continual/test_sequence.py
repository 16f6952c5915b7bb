"""A continual sequence on synthetic clustered data: CMCL keeps an earlier pair that plain
fine-tuning forgets, learns the new pair as well, and protects what the pack could already do
when that is seeded as step 0; the forgetting and plasticity figures on a hand-made matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.continual.data import PairSet
from core.continual.metrics import Probe, forgetting, plasticity, score
from core.continual.sequence import Sequence, SequenceResult, run_alone, run_sequence
from core.continual.train import StepSettings

D, R, K = 32, 8, 8
# Fast and strong enough that plain fine-tuning overwrites the shared image map.
SETTINGS = StepSettings(epochs=10, lr=3e-2)


class _World:
    """Image and audio in two orthogonal 8-dim subspaces with the same concept layout; text in
    the image subspace with the concepts shifted by one (text of concept k sits where images of
    concept k-1 do), so learning image–text pulls the image map away from image–audio."""

    def __init__(self, seed: int = 0, noise: float = 0.4) -> None:
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.standard_normal((D, D)))
        self.image, self.audio = q[:, :R], q[:, R:2 * R]
        self.centres = rng.standard_normal((K, R))
        self.shifted = self.centres[np.roll(np.arange(K), 1)]
        self.noise, self.seed = noise, seed

    def items(self, basis, centres, per_concept: int, part: int):
        rng = np.random.default_rng([self.seed, part])
        labels = np.repeat(np.arange(K), per_concept)
        x = (centres[labels] + self.noise * rng.standard_normal((len(labels), R))) @ basis.T
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels

    def pairs(self, name, m1, side1, m2, side2, per_concept: int, part: int) -> PairSet:
        x1, labels = self.items(*side1, per_concept, part)
        x2, _ = self.items(*side2, per_concept, part + 1)
        return PairSet(name, m1, m2, torch.from_numpy(x1), torch.from_numpy(x2),
                       torch.from_numpy(labels))

    def sequence(self) -> Sequence:
        image, audio = (self.image, self.centres), (self.audio, self.centres)
        text = (self.image, self.shifted)
        steps = [self.pairs("image-audio", "image", image, "audio", audio, 24, 1),
                 self.pairs("image-text", "image", image, "text", text, 64, 3)]
        held_out = {"image": self.items(*image, 10, 10), "audio": self.items(*audio, 10, 11),
                    "text": self.items(*text, 10, 12)}
        probes = [Probe("image-audio", "image", "audio"), Probe("image-text", "image", "text")]
        return Sequence(D, [], [], steps, probes, held_out)


@pytest.fixture(scope="module")
def world() -> _World:
    return _World()


@pytest.fixture(scope="module")
def runs(world) -> dict[str, SequenceResult]:
    sequence = world.sequence()
    return {m: run_sequence(sequence, m, SETTINGS) for m in ("finetune", "cmcl")}


def test_cmcl_forgets_far_less_than_fine_tuning_and_learns_as_much(runs, world):
    ft, cmcl = runs["finetune"], runs["cmcl"]
    for r in (ft, cmcl):
        assert r.matrix.shape == (3, 2) and r.pack.shape == (3, 0)
        assert r.matrix[0].max() < 0.4  # neither pair works before training
        assert r.matrix[1, 0] > 0.9  # step 1 is learned by both (no constraint yet)
        assert len(r.losses) == 2 and len(r.scores) == 3
    assert ft.forgetting > 0.3  # the design does make fine-tuning forget
    assert cmcl.forgetting < 0.2 * ft.forgetting
    assert cmcl.forgetting < 0.05
    assert cmcl.plasticity >= 0.8 * ft.plasticity
    assert cmcl.matrix[2, 1] > 0.85  # the new pair is learned under the constraint
    alone = run_alone(world.sequence(), SETTINGS)
    assert len(alone) == 2 and min(alone) > 0.85
    assert cmcl.plasticity >= 0.8 * float(np.mean(alone))


def test_a_sequence_is_deterministic_for_a_seed(runs, world):
    again = run_sequence(world.sequence(), "cmcl", SETTINGS)
    assert np.array_equal(again.matrix, runs["cmcl"].matrix)
    assert again.losses == runs["cmcl"].losses
    for m, w in again.maps.matrices().items():
        assert torch.equal(w, runs["cmcl"].maps.matrices()[m])


def test_seeding_step_0_protects_what_the_pack_could_already_do():
    """The pack already pairs image and audio (same subspace, same layout, identity maps); a
    step that pulls images elsewhere undoes that under fine-tuning, not once it is seeded."""
    world = _World(seed=1)
    image, text = (world.image, world.centres), (world.image, world.shifted)
    audio = (world.image, world.centres)  # aligned with images by the pack itself
    base = world.pairs("pack image-audio", "image", image, "audio", audio, 24, 1)
    step = world.pairs("image-text", "image", image, "text", text, 64, 3)
    held_out = {"image": world.items(*image, 10, 10), "audio": world.items(*audio, 10, 11),
                "text": world.items(*text, 10, 12)}
    pack_probe = [Probe("pack image-audio", "image", "audio")]
    probes = [Probe("image-text", "image", "text")]
    seeded = Sequence(D, [base], pack_probe, [step], probes, held_out)
    unseeded = Sequence(D, [], pack_probe, [step], probes, held_out)

    cmcl = run_sequence(seeded, "cmcl", SETTINGS)
    bare = run_sequence(unseeded, "cmcl", SETTINGS)
    ft = run_sequence(seeded, "finetune", SETTINGS)
    assert cmcl.pack[0, 0] > 0.9  # the pack could do it before the sequence
    assert ft.pack_drop > 0.3 and bare.pack_drop > 0.3
    assert cmcl.pack_drop < 0.2 * ft.pack_drop
    assert cmcl.matrix[1, 0] > 0.8


@pytest.mark.parametrize("method", ["ewc", "replay"])
def test_reference_methods_run_through_a_sequence(world, method):
    r = run_sequence(world.sequence(), method, SETTINGS, ewc_strength=10.0)
    assert r.method == method and r.matrix.shape == (3, 2)
    assert np.isfinite(r.matrix).all()
    assert np.isfinite([r.forgetting, r.plasticity]).all()
    assert all(np.isfinite(losses).all() for losses in r.losses)
    assert r.matrix[1, 0] > 0.9 and r.matrix[2, 1] > 0.5


def test_score_on_pairs_the_identity_already_aligns():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((5, 16))
    labels = np.repeat(np.arange(5), 4)
    x = centres[labels] + 0.05 * rng.standard_normal((20, 16))
    y = centres[labels] + 0.05 * rng.standard_normal((20, 16))
    held_out = {"a": (x.astype(np.float32), labels), "b": (y.astype(np.float32), labels)}
    from core.continual.maps import Maps

    found = score(Maps(16), held_out, Probe("a-b", "a", "b"))
    assert found["R@1"] == 1.0 and found["mAP"] == pytest.approx(1.0)
    assert found["a→b R@1"] == found["b→a R@1"] == 1.0
    only = score(Maps(16), held_out, Probe("a-b", "a", "b", concepts=(0, 1)))
    assert only["R@1"] == 1.0
    wrong = {"a": held_out["a"], "b": (held_out["b"][0], np.roll(labels, 4))}
    assert score(Maps(16), wrong, Probe("a-b", "a", "b"))["R@1"] == 0.0


def test_forgetting_and_plasticity_on_a_hand_made_matrix():
    # rows: before step 1, after steps 1..3; columns: the pairs of steps 1..3
    matrix = np.array([[0.10, 0.95, 0.20],
                       [0.80, 0.97, 0.20],
                       [0.60, 0.90, 0.30],
                       [0.70, 0.50, 0.95]])
    learned_at = [1, 2, 3]
    # pair 1: best from step 1 on is 0.80, ends at 0.70; pair 2: best from step 2 on is 0.90
    # (not the 0.97 before it was learned), ends at 0.50; pair 3 was learned last
    assert forgetting(matrix, learned_at) == pytest.approx([0.10, 0.40])
    assert plasticity(matrix, learned_at) == pytest.approx([0.80, 0.90, 0.95])

    result = SequenceResult("x", matrix, np.array([[0.9, 0.5], [0.8, 0.6], [0.3, 0.6],
                                                   [0.4, 0.55]]), [])
    assert result.learned_at == learned_at
    assert result.forgetting == pytest.approx(0.25)
    assert result.plasticity == pytest.approx((0.80 + 0.90 + 0.95) / 3)
    assert result.pack_drop == pytest.approx(0.5)
    one_step = SequenceResult("x", matrix[:2, :1], np.zeros((2, 0)), [])
    assert one_step.forgetting == 0.0 and one_step.pack_drop == 0.0
