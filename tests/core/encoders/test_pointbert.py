"""PointBERT as in ULIP-2: checkpoint layout, loading, grouping against brute force, invariance,
the Encoder wrapper and input preparation."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.encoders import pointbert as pb
from core.encoders.pointbert import (
    PointBERT,
    PointBERTConfig,
    PointBERTEncoder,
    farthest_point_sample,
    group_points,
    knn_indices,
    load_ulip2_state_dict,
    prepare_points,
    read_ulip2_checkpoint,
)
from core.errors import EmptyInputError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "ulip2_pointbert_keys.json"
SMALL = PointBERTConfig(trans_dim=96, depth=2, num_heads=6, group_size=16, num_group=64,
                        encoder_dims=64, embed_dim=32, drop_path_rate=0.1)


def _randomised(model: PointBERT, seed: int) -> PointBERT:
    """Random weights everywhere, BatchNorm statistics included, so eval-mode BN matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                scale = 0.1 if tensor.dim() > 1 else 0.3
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * scale)
    return model.eval()


def _cloud(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)) * [1.0, 0.6, 0.3]).astype(np.float32)


def _official_layout(model: PointBERT) -> dict[str, torch.Tensor]:
    """`model`'s weights keyed as in a DataParallel-saved ULIP checkpoint, other towers too."""
    state = {}
    for key, value in model.state_dict().items():
        name = key if key == "pc_projection" else "point_encoder." + key
        state["module." + name] = value.clone()
    state["module.logit_scale"] = torch.tensor(2.6593)
    state["module.image_projection"] = torch.zeros(768, 512)
    state["module.visual.cls_token"] = torch.zeros(1, 1, 768)
    state["module.transformer.resblocks.0.ln_1.weight"] = torch.ones(512)
    state["module.token_embedding.weight"] = torch.zeros(8, 512)
    return state


# --------------------------------------------------------------------------- layout


def test_full_model_state_dict_matches_the_official_layout():
    doc = json.loads(FIXTURE.read_text())
    official = {}
    for name, shape in doc["keys"]:
        official[name.removeprefix("point_encoder.")] = tuple(shape)
    assert len(official) == len(doc["keys"]) == 161
    ours = {name: tuple(t.shape) for name, t in PointBERT().state_dict().items()}
    assert ours == official
    assert pb.expected_shapes() == official
    cfg = doc["config"]
    full = PointBERTConfig()
    assert (full.trans_dim, full.depth, full.num_heads, full.group_size, full.num_group,
            full.encoder_dims, full.feat_dim, full.embed_dim) == (
        cfg["trans_dim"], cfg["depth"], cfg["num_heads"], cfg["group_size"], cfg["num_group"],
        cfg["encoder_dims"], cfg["pc_feat_dims"], cfg["embed_dim"])


def test_official_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    source = _randomised(PointBERT(SMALL), seed=1)
    path = tmp_path / "ulip2.pt"
    torch.save({"state_dict": _official_layout(source)}, path)
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    mapped = load_ulip2_state_dict(loaded, SMALL)
    assert set(mapped) == set(source.state_dict())
    target = _randomised(PointBERT(SMALL), seed=2)
    target.load_state_dict(mapped, strict=True)
    target.eval()
    points = torch.stack([prepare_points(_cloud(500, s), 256, seed=s) for s in range(3)])
    with torch.no_grad():
        assert torch.equal(source(points), target(points))

    # the released files also keep their training args (an argparse.Namespace)
    torch.save({"state_dict": _official_layout(source), "epoch": 3,
                "args": argparse.Namespace(model="ULIP_PointBERT", npoints=8192)}, path)
    with pytest.raises(Exception, match="(?i)weights.only"):
        torch.load(path, map_location="cpu", weights_only=True)
    other = PointBERT.from_ulip2(read_ulip2_checkpoint(path), SMALL)
    assert not other.training
    with torch.no_grad():
        assert torch.equal(source(points), other(points))


def test_full_size_checkpoint_loads_strictly_without_module_prefix():
    source = PointBERT()
    state = {k.removeprefix("module."): v for k, v in _official_layout(source).items()}
    target = PointBERT()
    loaded = target.load_ulip2(state).state_dict()
    for name, tensor in source.state_dict().items():
        assert torch.equal(tensor, loaded[name]), name


def test_mismatched_checkpoints_are_refused_with_the_keys_named():
    good = _official_layout(PointBERT(SMALL))
    missing = dict(good)
    del missing["module.point_encoder.norm.weight"]
    with pytest.raises(ValueError, match=r"missing keys: norm\.weight"):
        load_ulip2_state_dict(missing, SMALL)

    extra = dict(good)
    extra["module.point_encoder.cls_head_finetune.0.weight"] = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=r"unexpected keys: cls_head_finetune\.0\.weight"):
        load_ulip2_state_dict(extra, SMALL)

    wrong = dict(good)
    wrong["module.pc_projection"] = torch.zeros(SMALL.feat_dim, 1280)  # the ViT-bigG variant
    with pytest.raises(ValueError, match=r"wrong shapes: pc_projection \[192, 1280\]"):
        load_ulip2_state_dict(wrong, SMALL)

    with pytest.raises(ValueError, match="missing keys"):
        load_ulip2_state_dict({"state_dict": {}}, SMALL)
    twice = {**good, "point_encoder.norm.weight": good["module.point_encoder.norm.weight"]}
    with pytest.raises(ValueError, match="twice"):
        load_ulip2_state_dict(twice, SMALL)
    with pytest.raises(ValueError, match=r"missing keys: .*more\).*wrong shapes: .*cls_pos"):
        load_ulip2_state_dict(good)  # small weights, full-size model


# --------------------------------------------------------------------------- grouping


def _naive_fps(cloud: np.ndarray, n: int, min_norm_sq: float | None) -> list[int]:
    chosen = [0]
    nearest = np.full(len(cloud), np.inf)
    allowed = [min_norm_sq is None or float(p @ p) > min_norm_sq for p in cloud]
    for _ in range(1, n):
        last = cloud[chosen[-1]]
        best, best_i = -1.0, 0
        for i, p in enumerate(cloud):
            nearest[i] = min(nearest[i], float(((p - last) ** 2).sum()))
            if allowed[i] and nearest[i] > best:
                best, best_i = nearest[i], i
        chosen.append(best_i)
    return chosen


@pytest.mark.parametrize("min_norm_sq", [pb.FPS_MIN_NORM_SQ, None])
def test_batched_fps_equals_naive_per_cloud_fps(min_norm_sq):
    rng = np.random.default_rng(3)
    clouds = rng.uniform(-1, 1, size=(3, 150, 3)).astype(np.float32)
    clouds[:, 7] = [0.01, 0.0, 0.01]  # inside the kernel's near-origin radius
    clouds[1, 20] = clouds[1, 21]  # a duplicate point
    got = farthest_point_sample(torch.from_numpy(clouds), 40, min_norm_sq=min_norm_sq)
    for b in range(3):
        want = _naive_fps(clouds[b].astype(np.float64), 40, min_norm_sq)
        assert got[b].tolist() == want
    if min_norm_sq is not None:
        assert not (got == 7).any()


def test_fps_never_picks_near_origin_points_after_the_first():
    cloud = torch.tensor([[[0.0, 0.0, 0.0], [0.01, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    # 0 and 1 are blocked; once 2 and 3 are taken every distance is 0: first allowed
    assert farthest_point_sample(cloud, 4).tolist() == [[0, 2, 3, 2]]
    assert farthest_point_sample(cloud, 4, min_norm_sq=None).tolist() == [[0, 2, 3, 1]]


def test_knn_and_grouping_equal_brute_force(monkeypatch):
    rng = np.random.default_rng(4)
    clouds = rng.uniform(-1, 1, size=(3, 120, 3)).astype(np.float32)
    xyz = torch.from_numpy(clouds)
    centres_idx = farthest_point_sample(xyz, 10)
    centres = xyz[torch.arange(3)[:, None], centres_idx]
    got = knn_indices(xyz, centres, 9)
    groups, got_centres = group_points(xyz, 10, 9)
    assert torch.equal(got_centres, centres)
    for b in range(3):
        for g in range(10):
            c = clouds[b, centres_idx[b, g]].astype(np.float64)
            dist = ((clouds[b].astype(np.float64) - c) ** 2).sum(1)
            want = np.argsort(dist, kind="stable")[:9]
            assert got[b, g].tolist() == want.tolist()
            rel = clouds[b, want].astype(np.float64) - c
            np.testing.assert_allclose(groups[b, g].numpy(), rel, atol=1e-6)
    monkeypatch.setattr(pb, "_KNN_CHUNK_ELEMENTS", 1)  # one cloud at a time: same answer
    assert torch.equal(knn_indices(xyz, centres, 9), got)


# --------------------------------------------------------------------------- model


def test_output_is_invariant_to_point_order_with_point_zero_first():
    model = _randomised(PointBERT(SMALL), seed=5)
    points = prepare_points(_cloud(400, 5), 300).unsqueeze(0)
    rng = np.random.default_rng(6)
    order = np.concatenate([[0], 1 + rng.permutation(299)])
    shuffled = points[:, torch.from_numpy(order)]
    with torch.no_grad():
        a, b = model(points), model(shuffled)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_small_model_forward_batch_equals_single_and_checks_input():
    model = _randomised(PointBERT(SMALL), seed=7)
    points = torch.stack([prepare_points(_cloud(300, s), 200, seed=s) for s in range(4)])
    with torch.no_grad():
        batch = model(points)
        single = torch.cat([model(points[i:i + 1]) for i in range(4)])
    assert batch.shape == (4, SMALL.embed_dim) and batch.dtype == torch.float32
    torch.testing.assert_close(batch, single, rtol=1e-5, atol=1e-5)
    assert batch.norm(dim=1).min() > 0  # not normalised, but not degenerate either
    with pytest.raises(ValueError, match="at least 64 points"):
        model(points[:, :50])
    with pytest.raises(ValueError, match=r"\[B, P, 3\]"):
        model(points[0])


def test_encoder_gives_normalised_cpu_float32_vectors():
    model = _randomised(PointBERT(SMALL), seed=8)
    model.train()
    encoder = PointBERTEncoder(model, "cpu", n_points=128)
    assert encoder.modality == "3d" and encoder.dim == SMALL.embed_dim
    items = [encoder.preprocess(_cloud(n, n)) for n in (1000, 128, 90)]
    assert all(item.shape == (128, 3) and item.dtype == torch.float32 for item in items)
    out = encoder.forward(encoder.collate(items))
    assert out.shape == (3, SMALL.embed_dim) and out.dtype == torch.float32
    assert out.device.type == "cpu" and not out.requires_grad
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3))
    assert not encoder.model.training
    torch.testing.assert_close(encoder.forward(encoder.collate(items)), out, rtol=0, atol=0)
    with pytest.raises(ValueError, match="n_points"):
        PointBERTEncoder(model, "cpu", n_points=32)


# --------------------------------------------------------------------------- input


def test_prepare_points_centres_scales_and_resamples_deterministically():
    cloud = _cloud(1000, 9) * 7.0 + 3.0
    out = prepare_points(cloud, 256, seed=1)
    assert out.shape == (256, 3) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy().mean(0), 0.0, atol=1e-6)
    assert out.norm(dim=1).max().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(out, prepare_points(cloud, 256, seed=1))
    assert not torch.equal(out, prepare_points(cloud, 256, seed=2))
    # without replacement: 256 distinct source points
    assert len(np.unique(out.numpy(), axis=0)) == 256

    few = _cloud(50, 10).astype(np.float64)
    up = prepare_points(few, 120, seed=0).numpy().astype(np.float64)
    assert up.shape == (120, 3)
    # every original point survives, in order, under one shift and scale; the rest repeat them
    scale = np.linalg.norm(few[0] - few[1]) / np.linalg.norm(up[0] - up[1])
    np.testing.assert_allclose(up[:50] * scale + (few[0] - up[0] * scale), few, atol=1e-5)
    assert len(np.unique(up.astype(np.float32), axis=0)) == 50

    same = prepare_points(few, 50)
    assert same.shape == (50, 3)


def test_prepare_points_edge_cases():
    cloud = _cloud(40, 11)
    cloud[3] = np.nan
    assert prepare_points(cloud, 40).isfinite().all()
    assert torch.equal(prepare_points(np.hstack([cloud, np.ones((40, 3))]), 40),
                       prepare_points(cloud, 40))
    assert torch.equal(prepare_points(np.ones((5, 3)), 8), torch.zeros(8, 3))
    with pytest.raises(EmptyInputError):
        prepare_points(np.zeros((0, 3)), 8)
    with pytest.raises(EmptyInputError):
        prepare_points(np.full((4, 3), np.inf), 8)
    with pytest.raises(ValueError):
        prepare_points(np.zeros((4, 2)), 8)


@pytest.mark.gpu
def test_gpu_matches_cpu():
    model = _randomised(PointBERT(SMALL), seed=12)
    points = torch.stack([prepare_points(_cloud(500, s), 256, seed=s) for s in range(3)])
    with torch.no_grad():
        cpu = model(points)
        idx_cpu = farthest_point_sample(points, SMALL.num_group)
        model.cuda()
        gpu = model(points.cuda()).cpu()
        idx_gpu = farthest_point_sample(points.cuda(), SMALL.num_group).cpu()
    assert torch.equal(idx_cpu, idx_gpu)
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-3)
    encoder = PointBERTEncoder(model, "cuda", n_points=256)
    out = encoder.forward(points)
    assert out.device.type == "cpu" and out.dtype == torch.float32
