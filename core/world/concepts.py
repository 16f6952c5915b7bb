"""The concepts of the demo factory world: part and machine families crossed with conditions.

A concept is one (family, condition) pair. Every modality renders a concept from two
independent sets of cues, one shared by the family across its conditions and one shared
by the condition across families, plus per-item nuisance, so that cross-modal pairs are
learnable without being trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES: tuple[str, ...] = (
    "bearing",
    "gear",
    "pump",
    "valve",
    "pipe",
    "motor",
    "conveyor",
    "fan",
    "weld",
    "bolt",
)

CONDITIONS: tuple[str, ...] = (
    "normal",
    "worn",
    "cracked",
    "leaking",
    "misaligned",
    "loose",
)


@dataclass(frozen=True)
class Concept:
    """One family in one condition; `index` is its position in `all_concepts()`."""

    index: int
    family: str
    condition: str

    @property
    def name(self) -> str:
        return f"{self.family}/{self.condition}"

    @property
    def family_index(self) -> int:
        return FAMILIES.index(self.family)

    @property
    def condition_index(self) -> int:
        return CONDITIONS.index(self.condition)


def all_concepts() -> list[Concept]:
    """Every concept, family-major, in a fixed order (its index is its label)."""
    return [
        Concept(i * len(CONDITIONS) + j, family, condition)
        for i, family in enumerate(FAMILIES)
        for j, condition in enumerate(CONDITIONS)
    ]


def concept_by_name(name: str) -> Concept:
    for concept in all_concepts():
        if concept.name == name:
            return concept
    raise KeyError(name)
