"""PointBERT, the 3-D tower of ULIP-2, written for this project (xyz input, 512-d output).

The layout follows the released ULIP-2 PointBERT checkpoint (`pointbert_ULIP-2.pt`, the one
Ex-MCR uses): the ULIP model's `point_encoder` is a PointBERT transformer with the
`PointTransformer_8192point.yaml` settings (384-d, 12 blocks, 6 heads, 512 groups of 32 points,
a 256-d mini-PointNet) and its `pc_projection` is a bare [768, 512] matrix applied on the right
to concat(CLS, max-pool of the tokens). `PointBERT.state_dict()` holds exactly the point
encoder's keys (without the `point_encoder.` prefix) plus `pc_projection`, with the official
shapes, so `load_ulip2_state_dict` maps a checkpoint onto it for a strict load.

Grouping runs in plain torch, batched, on any device:

* farthest-point sampling starts from point 0 of each cloud and, at each step, takes the point
  farthest from the centres chosen so far (the first one on ties). Like the CUDA kernel the
  official code calls (`pointnet2_ops.furthest_point_sample`), points whose squared distance
  from the origin is at most 1e-3 are never chosen after the first, so the centres match the
  official ones on the same input; pass `min_norm_sq=None` to turn that off.
* the `group_size` nearest neighbours of each centre (centre included) come from one squared
  distance matrix per chunk of clouds, sorted nearest first, and are made relative to it.

The output is invariant to the order of the input points as long as point 0 stays first (it
seeds the sampling), up to ties in distance.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.encoders.base import Encoder
from core.errors import EmptyInputError

# The CUDA sampling kernel skips points this close to the origin (squared norm).
FPS_MIN_NORM_SQ = 1e-3
# Largest squared-distance matrix (elements) built at once by `knn_indices`.
_KNN_CHUNK_ELEMENTS = 1 << 25
_POS_HIDDEN = 128  # hidden width of the positional-embedding MLP, fixed in the official code
_MLP_RATIO = 4


@dataclass(frozen=True)
class PointBERTConfig:
    """Sizes of a PointBERT; the defaults are ULIP-2's (PointTransformer_8192point.yaml)."""

    trans_dim: int = 384
    depth: int = 12
    num_heads: int = 6
    group_size: int = 32
    num_group: int = 512
    encoder_dims: int = 256
    embed_dim: int = 512
    drop_path_rate: float = 0.1

    def __post_init__(self) -> None:
        if self.trans_dim % self.num_heads:
            raise ValueError(f"trans_dim {self.trans_dim} is not a multiple of "
                             f"num_heads {self.num_heads}")
        for name, value in asdict(self).items():
            if name != "drop_path_rate" and value < 1:
                raise ValueError(f"{name} must be positive, not {value}")

    @property
    def feat_dim(self) -> int:
        """Width of concat(CLS, max-pool), the input of the projection."""
        return 2 * self.trans_dim


# --------------------------------------------------------------------------- grouping


def farthest_point_sample(xyz: Tensor, n_samples: int, *,
                          min_norm_sq: float | None = FPS_MIN_NORM_SQ) -> Tensor:
    """Indices [B, n_samples] of farthest-point samples of each cloud in `xyz` [B, P, 3].

    Starts from index 0; each next index maximises the squared distance to the nearest centre
    chosen so far (first index on ties). Points with squared norm <= `min_norm_sq` are never
    chosen after the first, as in the official CUDA kernel (when no other point is left, index 0
    is repeated, as there too). The loop runs over the samples, vectorised over the batch."""
    if xyz.dim() != 3 or xyz.shape[-1] != 3:
        raise ValueError(f"expected points of shape [B, P, 3], got {list(xyz.shape)}")
    batch, n_points, _ = xyz.shape
    if not 1 <= n_samples <= n_points:
        raise ValueError(f"cannot sample {n_samples} centres from {n_points} points")
    xyz = xyz.detach()  # indices only; the in-place steps below must not meet autograd
    rows = torch.arange(batch, device=xyz.device)
    current = torch.zeros(batch, dtype=torch.long, device=xyz.device)
    chosen = [current]
    # Distance to the nearest chosen centre; blocked points start (and stay) at -1, below any
    # distance, so a plain argmax skips them. Few, in-place ops per step: the loop is latency-
    # bound on the CPU.
    nearest = torch.full((batch, n_points), 1e10, dtype=xyz.dtype, device=xyz.device)
    if min_norm_sq is not None:
        nearest.masked_fill_((xyz * xyz).sum(-1) <= min_norm_sq, -1.0)
    coords = xyz.transpose(1, 2).contiguous()  # [B, 3, P]
    diff = torch.empty_like(coords)
    dist = torch.empty_like(nearest)
    for _ in range(1, n_samples):
        torch.sub(coords, xyz[rows, current].unsqueeze(-1), out=diff)
        torch.sum(diff.square_(), dim=1, out=dist)
        torch.minimum(nearest, dist, out=nearest)
        current = nearest.argmax(dim=1)
        chosen.append(current)
    return torch.stack(chosen, dim=1)


def square_distances(a: Tensor, b: Tensor) -> Tensor:
    """Squared distances [B, N, M] between `a` [B, N, 3] and `b` [B, M, 3] (|a|² + |b|² - 2ab,
    the form the official grouping uses)."""
    dist = torch.baddbmm((a * a).sum(-1).unsqueeze(-1), a, b.transpose(1, 2), alpha=-2.0)
    return dist + (b * b).sum(-1).unsqueeze(1)


def knn_indices(xyz: Tensor, centres: Tensor, k: int) -> Tensor:
    """Indices [B, G, k] of the k points of `xyz` [B, P, 3] nearest each of `centres` [B, G, 3],
    nearest first."""
    batch, n_points, _ = xyz.shape
    n_centres = centres.shape[1]
    if not 1 <= k <= n_points:
        raise ValueError(f"cannot take {k} neighbours among {n_points} points")
    xyz, centres = xyz.detach(), centres.detach()
    step = max(1, _KNN_CHUNK_ELEMENTS // max(1, n_centres * n_points))
    parts = []
    for start in range(0, batch, step):
        dist = square_distances(centres[start:start + step], xyz[start:start + step])
        parts.append(dist.topk(k, dim=-1, largest=False, sorted=True).indices)
    return torch.cat(parts) if len(parts) > 1 else parts[0]


def group_points(xyz: Tensor, num_group: int, group_size: int, *,
                 min_norm_sq: float | None = FPS_MIN_NORM_SQ) -> tuple[Tensor, Tensor]:
    """Split clouds [B, P, 3] into `num_group` neighbourhoods of `group_size` points.

    Returns (neighbourhoods [B, G, S, 3] relative to their centre, centres [B, G, 3])."""
    rows = torch.arange(xyz.shape[0], device=xyz.device)
    centre_idx = farthest_point_sample(xyz, num_group, min_norm_sq=min_norm_sq)
    centres = xyz[rows[:, None], centre_idx]  # [B, G, 3]
    neighbour_idx = knn_indices(xyz, centres, group_size)  # [B, G, S]
    groups = xyz[rows[:, None, None], neighbour_idx]  # [B, G, S, 3]
    return groups - centres.unsqueeze(2), centres


# --------------------------------------------------------------------------- layers


class _DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample while training."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p <= 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


def _pointwise(conv: nn.Conv1d, x: Tensor) -> Tensor:
    """A kernel-1 Conv1d applied to channel-last rows [N, C_in] -> [N, C_out]."""
    return F.linear(x, conv.weight.squeeze(-1), conv.bias)


class _GroupEmbedding(nn.Module):
    """The mini-PointNet of PointBERT: shared MLPs over each group's points, max-pooled.

    Weights are kernel-1 Conv1d / BatchNorm1d as in the checkpoint; the computation runs
    channel-last (one matrix product per layer over all points of all groups)."""

    def __init__(self, out_dims: int) -> None:
        super().__init__()
        self.out_dims = out_dims
        self.first_conv = nn.Sequential(
            nn.Conv1d(3, 128, 1), nn.BatchNorm1d(128), nn.ReLU(inplace=True),
            nn.Conv1d(128, 256, 1),
        )
        self.second_conv = nn.Sequential(
            nn.Conv1d(512, 512, 1), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Conv1d(512, out_dims, 1),
        )

    def forward(self, groups: Tensor) -> Tensor:
        batch, n_groups, size, channels = groups.shape
        conv_a, norm_a, _, conv_b = self.first_conv
        conv_c, norm_c, _, conv_d = self.second_conv
        x = groups.reshape(-1, channels)
        x = _pointwise(conv_b, F.relu(norm_a(_pointwise(conv_a, x))))
        x = x.view(batch * n_groups, size, -1)
        pooled = x.amax(dim=1, keepdim=True).expand(-1, size, -1)
        x = torch.cat([pooled, x], dim=-1).reshape(batch * n_groups * size, -1)
        x = _pointwise(conv_d, F.relu(norm_c(_pointwise(conv_c, x))))
        x = x.view(batch * n_groups, size, -1).amax(dim=1)
        return x.view(batch, n_groups, self.out_dims)


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).view(batch, tokens, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [B, H, T, d]
        x = F.scaled_dot_product_attention(q, k, v)  # scale 1/sqrt(d), as the official
        return self.proj(x.transpose(1, 2).reshape(batch, tokens, dim))


class _Block(nn.Module):
    """Pre-norm transformer block; submodules registered in the checkpoint's order."""

    def __init__(self, dim: int, num_heads: int, drop_path: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.drop_path = _DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = _Mlp(dim, int(dim * _MLP_RATIO))
        self.attn = _Attention(dim, num_heads)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class _Blocks(nn.Module):
    """Holds the blocks under `blocks.blocks.N` as in the checkpoint; adds the positional
    embedding before every block."""

    def __init__(self, config: PointBERTConfig) -> None:
        super().__init__()
        rates = torch.linspace(0, config.drop_path_rate, config.depth, device="cpu").tolist()
        self.blocks = nn.ModuleList(
            _Block(config.trans_dim, config.num_heads, rate) for rate in rates
        )

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x + pos)
        return x


# --------------------------------------------------------------------------- model


class PointBERT(nn.Module):
    """Clouds [B, P, 3] (centred, in the unit sphere) to embeddings [B, embed_dim], not
    normalised. Inference runs in eval mode (BatchNorm uses its running statistics)."""

    def __init__(self, config: PointBERTConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or PointBERTConfig()
        dim = config.trans_dim
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.cls_pos = nn.Parameter(torch.randn(1, 1, dim))
        self.pc_projection = nn.Parameter(torch.empty(config.feat_dim, config.embed_dim))
        nn.init.normal_(self.pc_projection, std=config.embed_dim ** -0.5)
        self.encoder = _GroupEmbedding(config.encoder_dims)
        self.reduce_dim = nn.Linear(config.encoder_dims, dim)
        self.pos_embed = nn.Sequential(
            nn.Linear(3, _POS_HIDDEN), nn.GELU(), nn.Linear(_POS_HIDDEN, dim)
        )
        self.blocks = _Blocks(config)
        self.norm = nn.LayerNorm(dim)

    def features(self, points: Tensor) -> Tensor:
        """concat(CLS, max-pool of the group tokens) [B, 2 * trans_dim], before projection."""
        cfg = self.config
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"expected points of shape [B, P, 3], got {list(points.shape)}")
        if points.shape[1] < max(cfg.num_group, cfg.group_size):
            raise ValueError(f"a cloud needs at least {max(cfg.num_group, cfg.group_size)} "
                             f"points for this model, got {points.shape[1]}")
        points = points.to(self.cls_token.dtype)
        groups, centres = group_points(points, cfg.num_group, cfg.group_size)
        tokens = self.reduce_dim(self.encoder(groups))  # [B, G, D]
        batch = tokens.shape[0]
        x = torch.cat([self.cls_token.expand(batch, -1, -1), tokens], dim=1)
        pos = torch.cat([self.cls_pos.expand(batch, -1, -1), self.pos_embed(centres)], dim=1)
        x = self.norm(self.blocks(x, pos))
        return torch.cat([x[:, 0], x[:, 1:].amax(dim=1)], dim=-1)

    def forward(self, points: Tensor) -> Tensor:
        return self.features(points) @ self.pc_projection

    def load_ulip2(self, checkpoint: Mapping[str, Any]) -> PointBERT:
        """Load an official ULIP-2 checkpoint (or its state dict) strictly; returns self."""
        shapes = {name: tuple(t.shape) for name, t in self.state_dict().items()}
        self.load_state_dict(_map_ulip2(checkpoint, shapes, self.config), strict=True)
        return self

    @classmethod
    def from_ulip2(cls, checkpoint: Mapping[str, Any],
                   config: PointBERTConfig | None = None) -> PointBERT:
        """A model in eval mode holding the weights of an official ULIP-2 checkpoint."""
        return cls(config).load_ulip2(checkpoint).eval()


def expected_shapes(config: PointBERTConfig | None = None) -> dict[str, tuple[int, ...]]:
    """Names and shapes of `PointBERT(config).state_dict()` (remembered per config)."""
    return dict(_expected_shapes(config or PointBERTConfig()))


@functools.lru_cache(maxsize=8)
def _expected_shapes(config: PointBERTConfig) -> tuple[tuple[str, tuple[int, ...]], ...]:
    # A throw-away CPU model: building on the meta device costs seconds on first use.
    with torch.no_grad():
        state = PointBERT(config).state_dict()
    return tuple((name, tuple(t.shape)) for name, t in state.items())


def load_ulip2_state_dict(checkpoint: Mapping[str, Any],
                          config: PointBERTConfig | None = None) -> dict[str, Tensor]:
    """Map an official ULIP checkpoint to `PointBERT(config)` keys, checking it fits.

    `checkpoint` is the loaded file (a dict with a "state_dict" entry) or the state dict itself,
    keyed with or without DataParallel's `module.` prefix. `point_encoder.*` keys lose that
    prefix and `pc_projection` is kept; the image and text towers and every other key are
    ignored. Raises ValueError naming the missing keys, the unexpected `point_encoder` keys and
    the shape mismatches, if any; the result loads with `strict=True`."""
    config = config or PointBERTConfig()
    return _map_ulip2(checkpoint, expected_shapes(config), config)


def _map_ulip2(checkpoint: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]],
               config: PointBERTConfig) -> dict[str, Tensor]:
    inner = checkpoint.get("state_dict") if isinstance(checkpoint, Mapping) else None
    state = inner if isinstance(inner, Mapping) else checkpoint
    if not isinstance(state, Mapping):
        raise ValueError(f"expected a state dict, got {type(state).__name__}")
    mapped: dict[str, Tensor] = {}
    for key, value in state.items():
        name = key
        while name.startswith("module."):
            name = name[len("module."):]
        if name.startswith("point_encoder."):
            name = name[len("point_encoder."):]
        elif name != "pc_projection":
            continue
        if not isinstance(value, Tensor):
            raise ValueError(f"checkpoint entry {key!r} is a {type(value).__name__}, "
                             "not a tensor")
        if name in mapped:
            raise ValueError(f"checkpoint holds {name!r} twice (with and without a prefix)")
        mapped[name] = value
    missing = sorted(set(shapes) - set(mapped))
    unexpected = sorted(set(mapped) - set(shapes))
    wrong = sorted(
        f"{name} {list(mapped[name].shape)} (expected {list(shape)})"
        for name, shape in shapes.items()
        if name in mapped and tuple(mapped[name].shape) != shape
    )
    if missing or unexpected or wrong:
        problems = [
            f"{what}: {_listing(names)}"
            for what, names in (("missing keys", missing), ("unexpected keys", unexpected),
                                ("wrong shapes", wrong))
            if names
        ]
        raise ValueError(f"the checkpoint does not fit PointBERT {asdict(config)}: "
                         + "; ".join(problems))
    return mapped


def _listing(names: list[str], limit: int = 24) -> str:
    more = f" (and {len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def read_ulip2_checkpoint(path: str | Path) -> dict[str, Any]:
    """torch.load an official ULIP checkpoint with `weights_only=True` on the CPU. The files
    keep their training `args` as an argparse.Namespace, which is allowed for this load."""
    with torch.serialization.safe_globals([argparse.Namespace]):
        return torch.load(Path(path), map_location="cpu", weights_only=True)


# --------------------------------------------------------------------------- input


def prepare_points(points: np.ndarray, n_points: int, seed: int = 0) -> Tensor:
    """A cloud [P, >=3] (only xyz is used) to float32 [n_points, 3], centred on its mean and
    scaled so its farthest point lies on the unit sphere.

    Rows with a non-finite coordinate are dropped. With more than `n_points` points a seeded
    random subset (without replacement) is kept in its original order; with fewer, every point
    is kept and the rest are seeded random repeats (with replacement). Normalisation comes
    after resampling, as in the official data pipeline (pc_normalize)."""
    if n_points < 1:
        raise ValueError(f"n_points must be positive, not {n_points}")
    xyz = np.asarray(points)
    if xyz.ndim != 2 or xyz.shape[1] < 3:
        raise ValueError(f"expected points of shape [P, 3], got {list(xyz.shape)}")
    xyz = xyz[:, :3].astype(np.float64)
    xyz = xyz[np.isfinite(xyz).all(axis=1)]
    count = len(xyz)
    if count == 0:
        raise EmptyInputError("The point cloud has no points with finite coordinates")
    rng = np.random.default_rng(seed)
    if count > n_points:
        xyz = xyz[np.sort(rng.choice(count, n_points, replace=False))]
    elif count < n_points:
        xyz = np.concatenate([xyz, xyz[rng.integers(0, count, n_points - count)]])
    xyz = xyz - xyz.mean(axis=0)
    radius = float(np.sqrt((xyz ** 2).sum(axis=1)).max())
    if radius > 0.0:
        xyz = xyz / radius
    return torch.from_numpy(xyz.astype(np.float32))


# --------------------------------------------------------------------------- encoder


class PointBERTEncoder(Encoder):
    """The project's 3-D encoder: a PointBERT in eval mode on `device`, clouds resampled to
    `n_points`; `forward` gives float32 L2-normalised [N, embed_dim] on the CPU."""

    modality = "3d"

    def __init__(self, model: PointBERT, device: torch.device | str = "cpu",
                 n_points: int = 8192, seed: int = 0) -> None:
        super().__init__(torch.device(device))
        if n_points < max(model.config.num_group, model.config.group_size):
            raise ValueError(f"n_points {n_points} is below the model's "
                             f"{max(model.config.num_group, model.config.group_size)}")
        self.model = model.to(self.device).eval()
        self.dim = model.config.embed_dim
        self.n_points = n_points
        self.seed = seed

    def preprocess(self, item: np.ndarray) -> Tensor:
        return prepare_points(item, self.n_points, self.seed)

    def forward(self, batch: Tensor) -> Tensor:
        # no_grad rather than inference_mode: the vectors may later feed trainable heads.
        with torch.no_grad():
            self.model.eval()
            out = self.model(batch.to(self.device, torch.float32))
            return F.normalize(out.float(), dim=-1).cpu()
