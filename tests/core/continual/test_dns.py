"""DNS (dual-sided null-space projection): the projectors' algebra, the statistics' bookkeeping,
and the invariant it exists for: a later step leaves an earlier pair's raw similarities
(W1 x1)·(W2 x2) where they were, when the update actually applied is projected."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.continual.data import PairSet
from core.continual.dns import Moment, Statistics, project, projector, range_projector
from core.continual.maps import Maps
from core.continual.methods import DNS, Method
from core.continual.train import StepSettings, train_step

D, RANK = 32, 8
LAMBDA = 1e-3  # the old inputs' eigenvalues inside their subspace are ~0.03..0.3, outside ~0


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _psd(dim: int, rank: int, seed: int) -> torch.Tensor:
    b = torch.randn(dim, rank, generator=_generator(seed), dtype=torch.float64)
    return b @ b.T


def _dyadic(rows: int, dim: int, seed: int) -> torch.Tensor:
    """Values k/16, |k| <= 8, in float32: every product and sum below is exact in float64."""
    return torch.randint(-8, 9, (rows, dim), generator=_generator(seed)).float() / 16


# --- projection algebra -------------------------------------------------------------------


@pytest.mark.parametrize("rank", [1, 5, 12])
def test_projectors_are_symmetric_idempotent_and_of_the_right_rank(rank):
    moment = _psd(16, rank, seed=rank)
    for p in (range_projector(moment), projector(moment, 1e-9)):
        assert p.dtype == torch.float64
        torch.testing.assert_close(p, p.T, rtol=0, atol=1e-12)
        torch.testing.assert_close(p @ p, p, rtol=0, atol=1e-12)
        assert round(float(p.trace())) == rank
        # it projects onto the moment's range: the moment is unchanged by it on both sides
        torch.testing.assert_close(p @ moment @ p, moment, rtol=0, atol=1e-9)


def test_projector_keeps_only_eigenvalues_above_the_threshold():
    basis, _ = torch.linalg.qr(torch.randn(8, 8, generator=_generator(0), dtype=torch.float64))
    values = torch.tensor([1.0, 0.5, 0.2, 0.05, 0.01, 0.0, 0.0, 0.0], dtype=torch.float64)
    moment = basis @ torch.diag(values) @ basis.T
    p = projector(moment, 0.1)
    expected = basis[:, :3] @ basis[:, :3].T
    torch.testing.assert_close(p, expected, rtol=0, atol=1e-10)


def test_projection_removes_exactly_the_doubly_protected_part():
    p_hat, p = range_projector(_psd(D, 6, seed=1)), projector(_psd(D, 9, seed=2), 1e-9)
    a = torch.randn(D, D, generator=_generator(3), dtype=torch.float64)
    eye = torch.eye(D, dtype=torch.float64)

    inside = p_hat @ a @ p  # entirely where both sides were used before: blocked
    assert project(inside, p_hat, p).abs().max() < 1e-12 * inside.abs().max()

    # used on one side only (or neither): dual-sided leaves it alone
    outside = (eye - p_hat) @ a + p_hat @ a @ (eye - p)
    assert (p_hat @ outside @ p).abs().max() < 1e-12
    torch.testing.assert_close(project(outside, p_hat, p), outside, rtol=0, atol=1e-12)

    once = project(a, p_hat, p)
    torch.testing.assert_close(project(once, p_hat, p), once, rtol=0, atol=1e-12)
    assert (p_hat @ once @ p).abs().max() < 1e-12
    # and a general update keeps its unprotected part: the projection is not a freeze
    assert torch.linalg.matrix_norm(once) > 0.5 * torch.linalg.matrix_norm(a)


# --- statistics bookkeeping -----------------------------------------------------------------


def test_moment_accumulated_in_parts_equals_at_once():
    x = _dyadic(100, 16, seed=0)
    whole, parts = Moment.zeros(16), Moment.zeros(16)
    whole.add(x)
    parts.add(x[:37])
    parts.add(x[37:])
    assert torch.equal(parts.total, whole.total) and parts.count == whole.count == 100
    torch.testing.assert_close(whole.mean, x.double().T @ x.double() / 100, rtol=0, atol=0)

    # on general float data the parts differ only by float64 summation order
    y = torch.randn(100, 16, generator=_generator(1))
    whole, parts = Moment.zeros(16), Moment.zeros(16)
    whole.add(y)
    parts.add(y[:37])
    parts.add(y[37:])
    torch.testing.assert_close(parts.total, whole.total, rtol=1e-12, atol=1e-12)


def test_statistics_recorded_in_two_halves_equal_recording_at_once():
    maps = Maps(16, ["a", "b"])  # identity maps: their outputs are the inputs, exactly
    x1, x2 = _dyadic(64, 16, seed=2), _dyadic(64, 16, seed=3)
    whole, halves = Statistics(16), Statistics(16)
    whole.record_pair(maps, "a", x1, "b", x2)
    halves.record_pair(maps, "a", x1[:20], "b", x2[:20])
    halves.record_pair(maps, "a", x1[20:], "b", x2[20:])
    assert sorted(halves.modalities) == ["a", "b"]
    for m in ("a", "b"):
        for side in ("inputs", "partners"):
            mine, theirs = getattr(halves.modalities[m], side), getattr(whole.modalities[m], side)
            assert torch.equal(mine.total, theirs.total) and mine.count == theirs.count == 64
    # input side of a is a's inputs; partner side of a is b's outputs
    assert torch.equal(whole.modalities["a"].inputs.total, x1.double().T @ x1.double())
    assert torch.equal(whole.modalities["a"].partners.total, x2.double().T @ x2.double())


def test_statistics_round_trip_through_tensors_exactly():
    stats = Statistics(D)
    maps = Maps(D, ["a", "b"])
    with torch.no_grad():
        maps.weight("b").add_(0.1 * torch.randn(D, D, generator=_generator(4)))
    stats.record_pair(maps, "a", torch.randn(50, D, generator=_generator(5)),
                      "b", torch.randn(50, D, generator=_generator(6)))
    stats.record("c", torch.randn(7, D, generator=_generator(7)),
                 torch.randn(7, D, generator=_generator(8)))
    back = Statistics.from_tensors(D, stats.to_tensors())
    assert sorted(back.modalities) == ["a", "b", "c"]
    for m, s in stats.modalities.items():
        for side in ("inputs", "partners"):
            mine, theirs = getattr(back.modalities[m], side), getattr(s, side)
            assert torch.equal(mine.total, theirs.total) and mine.count == theirs.count
            assert mine.total is not theirs.total
    copy = stats.copy()
    copy.record("a", torch.ones(1, D), torch.ones(1, D))
    assert stats.modalities["a"].inputs.count == 50  # a copy is independent of its source
    for got, want in zip(back.projectors("b", LAMBDA), stats.projectors("b", LAMBDA),
                         strict=True):
        assert torch.equal(got, want)


def test_protected_rank_falls_as_lambda_min_rises():
    basis, _ = torch.linalg.qr(torch.randn(D, D, generator=_generator(9), dtype=torch.float64))
    scales = torch.logspace(0, -3, D, dtype=torch.float64)  # a decaying spectrum
    x = (torch.randn(2000, D, generator=_generator(10), dtype=torch.float64) * scales) @ basis.T
    stats = Statistics(D)
    stats.record("a", F.normalize(x, dim=-1).float(), torch.randn(2000, D))
    ranks = [stats.protected_rank("a", lam) for lam in (0.0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == D and ranks[-1] == 0 and len(set(ranks)) >= 5
    assert stats.protected_rank("never seen", 0.0) == 0
    assert stats.projectors("never seen", 0.0) is None


def test_a_modality_never_trained_gets_no_constraint():
    stats = Statistics(D)
    stats.record_pair(Maps(D, ["a", "b"]), "a", torch.randn(40, D), "b", torch.randn(40, D))
    method = DNS(stats, LAMBDA)
    x = torch.randn(20, D)
    method.begin(Maps(D), PairSet("new", "a", "c", x, x))
    update = torch.randn(D, D)
    assert torch.equal(method.constrain("c", update), update)
    assert not torch.equal(method.constrain("a", update), update)


# --- the invariant, on a trained old step -----------------------------------------------------


def _unit(z: torch.Tensor) -> torch.Tensor:
    return F.normalize(z, dim=-1).float()


@pytest.fixture(scope="module")
def old_step():
    """Step 1 on (a, b): both modalities' inputs in one random 8-dim subspace U of 32, trained
    by plain fine-tuning, then its statistics recorded. Returns (maps, stats, old pairs, U)."""
    g = _generator(0)
    q, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
    u = q[:, :RANK]
    labels = torch.randint(8, (256,), generator=g)
    ca, cb = (torch.randn(8, RANK, generator=g, dtype=torch.float64) for _ in range(2))
    xa = _unit((ca[labels] + 0.5 * torch.randn(256, RANK, generator=g, dtype=torch.float64))
               @ u.T)
    xb = _unit((cb[labels] + 0.5 * torch.randn(256, RANK, generator=g, dtype=torch.float64))
               @ u.T)
    old = PairSet("old", "a", "b", xa, xb, labels)
    maps = Maps(D)
    losses = train_step(maps, old, Method(), StepSettings(epochs=5, lr=1e-2, batch=64))
    assert losses[-1] < 0.5 * losses[0]
    stats = Statistics(D)
    stats.record_pair(maps, "a", xa, "b", xb)
    assert stats.protected_rank("a", LAMBDA) == stats.protected_rank("b", LAMBDA) == RANK
    return maps, stats, old, u


def _new_step(partner: str, seed: int) -> PairSet:
    """Step 2: clustered pairs in all 32 directions (inside U and outside it)."""
    g = _generator(seed)
    labels = torch.randint(8, (256,), generator=g)
    c1, c2 = (torch.randn(8, D, generator=g, dtype=torch.float64) for _ in range(2))
    x1 = _unit(c1[labels] + 0.5 * torch.randn(256, D, generator=g, dtype=torch.float64))
    x2 = _unit(c2[labels] + 0.5 * torch.randn(256, D, generator=g, dtype=torch.float64))
    return PairSet("new", "a", partner, x1, x2, labels)


def _similarities(maps: Maps, old: PairSet) -> torch.Tensor:
    """Every old a item against every old b item, raw (W_a x_a)·(W_b x_b)."""
    with torch.no_grad():
        return (maps.raw("a", old.x1) @ maps.raw("b", old.x2).T).double()


def _train(old_step, step: PairSet, method_name: str, update: str,
           weight_decay: float = 1e-2) -> tuple[Maps, float]:
    maps, stats, old, _ = old_step
    trained = maps.clone()
    method = DNS(stats.copy(), LAMBDA) if method_name == "dns" else Method()
    settings = StepSettings(epochs=5, batch=64, lr=1e-2, weight_decay=weight_decay,
                            update=update)
    losses = train_step(trained, step, method, settings)
    assert losses[-1] < 0.5 * losses[0]  # every variant does learn the new step
    before, after = _similarities(maps, old), _similarities(trained, old)
    return trained, float((after - before).abs().max() / before.abs().max())


def test_dns_applied_keeps_old_similarities_and_plain_updates_do_not(old_step):
    maps, stats, old, _ = old_step
    step = _new_step("c", seed=1)  # a again, with a new modality c
    dns, dns_change = _train(old_step, step, "dns", "applied")
    _, plain_change = _train(old_step, step, "finetune", "applied")
    _, gradient_change = _train(old_step, step, "dns", "gradient")
    _, gradient_no_decay = _train(old_step, step, "dns", "gradient", weight_decay=0.0)

    assert dns_change < 1e-4
    assert plain_change > 1e-2 and plain_change > 100 * dns_change
    # the public code's way (project the gradient, then Adam scaling and decay) breaks it;
    # Adam's per-element scaling alone already does
    assert gradient_change > 1e-3 and gradient_change > 100 * dns_change
    assert gradient_no_decay > 100 * dns_change

    # per map: P̂ ΔW P = 0, so a's outputs on old inputs keep their part in the partner's old
    # range; outside it they may move (dual-sided leaves that room: this is no freeze)
    p_hat, p = stats.projectors("a", LAMBDA)
    delta = (dns.weight("a") - maps.weight("a")).detach().double()
    assert (p_hat @ delta @ p).abs().max() < 1e-5 * delta.abs().max()
    with torch.no_grad():
        moved = (dns.raw("a", old.x1) - maps.raw("a", old.x1)).double()
        scale = maps.raw("a", old.x1).double().abs().max()
    assert (moved @ p_hat).abs().max() < 1e-4 * scale
    assert (moved @ (torch.eye(D, dtype=torch.float64) - p_hat)).abs().max() > 1e-2 * scale
    assert torch.equal(dns.weight("b"), maps.weight("b"))  # b was not in the step


def test_retraining_both_maps_of_an_old_pair_leaves_only_the_second_order_term(old_step):
    """When a step trains both maps of an earlier pair, each map's update is projected, so
    the first-order change (W_b x_b)ᵀ ΔW_a x_a + (ΔW_b x_b)ᵀ W_a x_a vanishes; what is left is
    the product of the two changes (ΔW_b x_b)ᵀ (ΔW_a x_a), which DNS does not control."""
    maps, _, old, _ = old_step
    step = _new_step("b", seed=2)
    dns, dns_change = _train(old_step, step, "dns", "applied")
    _, plain_change = _train(old_step, step, "finetune", "applied")
    with torch.no_grad():
        da = (dns.raw("a", old.x1) - maps.raw("a", old.x1)).double()
        db = (dns.raw("b", old.x2) - maps.raw("b", old.x2)).double()
    before, after = _similarities(maps, old), _similarities(dns, old)
    second_order = da @ db.T
    assert (after - before - second_order).abs().max() < 1e-4 * before.abs().max()
    assert plain_change > 3 * dns_change


def test_a_projected_update_moves_old_similarities_far_less_than_a_plain_one_of_equal_norm(
        old_step):
    maps, stats, old, _ = old_step
    p_hat, p = stats.projectors("a", LAMBDA)
    update = torch.randn(D, D, generator=_generator(11), dtype=torch.float64)
    projected = project(update, p_hat, p)
    plain = torch.randn(D, D, generator=_generator(12), dtype=torch.float64)
    plain *= torch.linalg.matrix_norm(projected) / torch.linalg.matrix_norm(plain)
    torch.testing.assert_close(torch.linalg.matrix_norm(plain),
                               torch.linalg.matrix_norm(projected))
    x, y = old.x1.double(), maps.raw("b", old.x2).detach().double()

    def change(delta: torch.Tensor) -> float:  # exact: only W_a moves
        return float((y @ (delta @ x.T)).abs().max())

    assert change(plain) > 1e-2
    assert change(projected) < 1e-5 * change(plain)


# --- the factored forms training uses -------------------------------------------------------


@pytest.mark.parametrize(("rank", "partner_rank"), [(6, None), (26, None), (6, 20), (26, 20)])
def test_the_factored_projection_equals_the_matrix_form(rank, partner_rank):
    """Both branches (k below and above d/2) with a full partner side, and a partial one."""
    statistics = Statistics(D)
    x = torch.randn(400, rank, generator=_generator(1)) @ torch.randn(rank, D,
                                                                      generator=_generator(2))
    width = partner_rank or D
    y = torch.randn(400, width, generator=_generator(3)) @ torch.randn(width, D,
                                                                       generator=_generator(4))
    statistics.record("a", F.normalize(x, dim=-1), y)
    factored = statistics.projection("a", LAMBDA)
    assert (factored.partner is None) == (partner_rank is None)
    update = torch.randn(D, D, generator=_generator(5))
    p_hat, p = statistics.projectors("a", LAMBDA)
    torch.testing.assert_close(factored(update), project(update.double(), p_hat, p).float(),
                               rtol=0, atol=1e-5)


def test_the_gradient_taken_in_backward_is_the_projected_gradient():
    """DNS's forward makes autograd give G(I - P) directly (P̂ = I): the same as projecting
    the plain gradient afterwards."""
    old = PairSet("old", "a", "b", *(F.normalize(torch.randn(300, 6, generator=_generator(s))
                                                 @ torch.randn(6, D, generator=_generator(s + 1)),
                                                 dim=-1) for s in (1, 3)))
    new = PairSet("new", "a", "c", F.normalize(torch.randn(64, D, generator=_generator(7)), dim=-1),
                  F.normalize(torch.randn(64, D, generator=_generator(8)), dim=-1))
    statistics = Statistics(D)
    statistics.record("a", old.x1, torch.randn(300, D, generator=_generator(9)))
    maps = Maps(D, ["a", "c"])
    with torch.no_grad():
        maps.weights["m_a"].add_(0.1 * torch.randn(D, D, generator=_generator(10)))
    method = DNS(statistics, LAMBDA)
    method.begin(maps, new)
    rows = torch.arange(64)
    loss = (method.embed(maps, 0, new.x1, rows) * maps("c", new.x2)).sum()
    loss.backward()
    taken = maps.weights["m_a"].grad.clone()
    maps.zero_grad()
    (maps("a", new.x1) * maps("c", new.x2)).sum().backward()
    p_hat, p = statistics.projectors("a", LAMBDA)
    expected = project(maps.weights["m_a"].grad.double(), p_hat, p).float()
    torch.testing.assert_close(taken, expected, rtol=0, atol=1e-5)
    assert method.keeps_form("a") and not torch.allclose(taken, maps.weights["m_a"].grad)
