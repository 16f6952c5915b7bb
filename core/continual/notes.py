"""A plant's own inspection notes for the demo world's concepts: asset tags and maintenance codes
instead of the words the pack was trained on ("P-214 LKG @ shift 2" for a leaking pump). The
pack's text tower reads them but cannot know what the codes mean, so pairs of photos and notes
are something a continual step can really learn, and a test of learning, not of recall."""

from __future__ import annotations

import numpy as np

from core.world.concepts import Concept

TAGS: dict[str, tuple[str, ...]] = {
    "bearing": ("BRG", "BR"),
    "gear": ("GBX", "GR"),
    "pump": ("P", "PMP"),
    "valve": ("V", "VLV"),
    "pipe": ("PL", "LN"),
    "motor": ("M", "MTR"),
    "conveyor": ("CV", "BLT"),
    "fan": ("F", "FN"),
    "weld": ("WLD", "WJ"),
    "bolt": ("FST", "BT"),
}
CODES: dict[str, tuple[str, ...]] = {
    "normal": ("OK", "NOM", "pass"),
    "worn": ("WR3", "WR2", "wear lvl hi"),
    "cracked": ("FX", "CRK", "FX-crit"),
    "leaking": ("LKG", "LK", "seep"),
    "misaligned": ("ALN", "ALN-off", "offset"),
    "loose": ("TQ", "TQ-low", "play"),
}
TEMPLATES: tuple[str, ...] = (
    "{tag}-{num} {code}",
    "insp {tag}{num}: {code}",
    "{code} @ {tag} {num}",
    "WO#{wo} {tag}-{num} {code} noted",
    "{tag} {num} / {code} / shift {shift}",
    "{tag}-{num}: status {code}",
)


def notes(concept: Concept, count: int, seed: int) -> list[str]:
    """`count` notes for a concept, reproducible from the seed (asset numbers and work-order
    numbers vary, so no two notes need be the same)."""
    rng = np.random.default_rng([seed, concept.index])
    out = []
    for _ in range(count):
        template = TEMPLATES[rng.integers(len(TEMPLATES))]
        out.append(template.format(
            tag=TAGS[concept.family][rng.integers(2)], num=int(rng.integers(100, 999)),
            code=CODES[concept.condition][rng.integers(3)], wo=int(rng.integers(1000, 9999)),
            shift=int(rng.integers(1, 4))))
    return out
