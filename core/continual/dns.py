"""Dual-sided null-space projection (DNS, CMCL arXiv 2503.14963): the statistics each step
leaves behind and the projectors built from them.

Per modality m two second moments are kept, count-weighted over every earlier sample of m:
the input side Z = E[x xᵀ] of m's own embeddings, and the partner side Ẑ = E[y yᵀ] of what m
was compared with, y = W_p x_p (the partner's map output at the end of that step). An earlier
pair's similarity changes to first order by yᵀ ΔW x, so an update with P̂ ΔW P = 0 leaves it
unchanged when x lies in range(P) and y in range(P̂). Only d×d matrices are stored, never data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

# The partner side's projector covers Ẑ's range; eigenvalues below this share of the largest
# are numerical noise, not directions that were used.
RANGE_FLOOR = 1e-6


@dataclass
class Moment:
    """A running second moment E[v vᵀ]: the sum in float64 and the count, so accumulating in
    parts gives the same matrix as accumulating at once (up to float64 rounding of the sum)."""

    total: torch.Tensor
    count: int = 0

    @classmethod
    def zeros(cls, dim: int) -> Moment:
        return cls(torch.zeros(dim, dim, dtype=torch.float64))

    def add(self, vectors: torch.Tensor) -> None:
        v = vectors.detach().to(torch.float64).cpu()
        self.total += v.T @ v
        self.count += len(v)

    @property
    def mean(self) -> torch.Tensor:
        return self.total / max(self.count, 1)


@dataclass
class ModalityStats:
    inputs: Moment
    partners: Moment

    @classmethod
    def zeros(cls, dim: int) -> ModalityStats:
        return cls(Moment.zeros(dim), Moment.zeros(dim))


@dataclass
class Statistics:
    """Every modality's DNS statistics; what a pack version carries to continue the chain."""

    dim: int
    modalities: dict[str, ModalityStats] = field(default_factory=dict)

    def record(self, modality: str, inputs: torch.Tensor, partner_outputs: torch.Tensor
               ) -> None:
        stats = self.modalities.setdefault(modality, ModalityStats.zeros(self.dim))
        stats.inputs.add(inputs)
        stats.partners.add(partner_outputs)

    def record_pair(self, maps, m1: str, x1: torch.Tensor, m2: str, x2: torch.Tensor) -> None:
        """After a step on (m1, m2): each side's inputs, with the other side's map outputs."""
        with torch.no_grad():
            y1, y2 = maps.raw(m1, x1), maps.raw(m2, x2)
        self.record(m1, x1, y2)
        self.record(m2, x2, y1)

    def projectors(self, modality: str, lambda_min: float
                   ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(P̂, P) for a modality, or None for one never trained (no constraint)."""
        stats = self.modalities.get(modality)
        if stats is None or stats.inputs.count == 0:
            return None
        return (range_projector(stats.partners.mean),
                projector(stats.inputs.mean, lambda_min))

    def projection(self, modality: str, lambda_min: float) -> Projection | None:
        """The same projection as `projectors`, in the factored form training applies."""
        stats = self.modalities.get(modality)
        if stats is None or stats.inputs.count == 0:
            return None
        values, vectors = torch.linalg.eigh(stats.inputs.mean)
        kept = values > lambda_min
        partner_values, partner_vectors = torch.linalg.eigh(stats.partners.mean)
        floor = max(float(partner_values.max()), 0.0) * RANGE_FLOOR
        partner_kept = partner_values > floor
        return Projection(
            vectors[:, kept].to(torch.float32), vectors[:, ~kept].to(torch.float32),
            None if bool(partner_kept.all()) else partner_vectors[:, partner_kept].to(
                torch.float32))

    def protected_rank(self, modality: str, lambda_min: float) -> int:
        found = self.projectors(modality, lambda_min)
        return 0 if found is None else int(round(float(found[1].trace())))

    def to_tensors(self) -> dict[str, torch.Tensor]:
        out = {}
        for m, s in self.modalities.items():
            out[f"{m}.inputs"] = s.inputs.total
            out[f"{m}.inputs_count"] = torch.tensor([s.inputs.count], dtype=torch.int64)
            out[f"{m}.partners"] = s.partners.total
            out[f"{m}.partners_count"] = torch.tensor([s.partners.count], dtype=torch.int64)
        return out

    @classmethod
    def from_tensors(cls, dim: int, tensors: dict[str, torch.Tensor]) -> Statistics:
        out = cls(dim)
        for key in tensors:
            if key.endswith(".inputs"):
                m = key[: -len(".inputs")]
                out.modalities[m] = ModalityStats(
                    Moment(tensors[key].to(torch.float64).clone(),
                           int(tensors[f"{m}.inputs_count"][0])),
                    Moment(tensors[f"{m}.partners"].to(torch.float64).clone(),
                           int(tensors[f"{m}.partners_count"][0])))
        return out

    def copy(self) -> Statistics:
        return Statistics.from_tensors(self.dim, self.to_tensors())


def projector(moment: torch.Tensor, threshold: float) -> torch.Tensor:
    """Orthogonal projector onto the eigenvectors of a symmetric matrix whose eigenvalues
    exceed `threshold` (float64)."""
    values, vectors = torch.linalg.eigh(moment.to(torch.float64))
    kept = vectors[:, values > threshold]
    return kept @ kept.T


def range_projector(moment: torch.Tensor) -> torch.Tensor:
    largest = float(torch.linalg.eigvalsh(moment.to(torch.float64)).max())
    return projector(moment, max(largest, 0.0) * RANGE_FLOOR)


def project(update: torch.Tensor, partner: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Remove from a map's update (d_out × d_in) the part both sides used before:
    ΔW − P̂ ΔW P."""
    return update - partner.to(update.dtype) @ update @ inputs.to(update.dtype)


@dataclass(frozen=True)
class Projection:
    """ΔW − P̂ ΔW P with P = U Uᵀ (protected input directions, `inputs`; `rest` spans the
    others) and P̂ = V Vᵀ (`partner`; None when the partners used the whole space, as they
    usually do). Applied in factored form: O(d² min(k, d − k)) instead of two d×d×d products."""

    inputs: torch.Tensor  # U [d, k]
    rest: torch.Tensor  # [d, d - k], the orthogonal complement of U
    partner: torch.Tensor | None  # V [d, r], or None for the identity

    def __call__(self, update: torch.Tensor) -> torch.Tensor:
        if self.partner is None:
            if self.rest.shape[1] < self.inputs.shape[1]:
                return (update @ self.rest) @ self.rest.T  # ΔW (I − P)
            return update - (update @ self.inputs) @ self.inputs.T
        used = self.partner @ (self.partner.T @ (update @ self.inputs))
        return update - used @ self.inputs.T
