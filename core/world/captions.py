"""Captions for the demo world: many phrasings of each concept, with synonyms and varied order.

Captions name the family and the condition in different words so that a text tower learns the
concept rather than one template; the paraphrase tests use wordings that never appear here.
"""

from __future__ import annotations

import re

import numpy as np

from core.world.concepts import Concept

FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "bearing": ("bearing", "ball bearing", "roller bearing", "bearing ring"),
    "gear": ("gear", "gear wheel", "cogwheel", "toothed gear"),
    "pump": ("pump", "centrifugal pump", "pump housing", "coolant pump"),
    "valve": ("valve", "gate valve", "handwheel valve", "valve body"),
    "pipe": ("pipe", "pipe section", "flanged pipe", "pipeline segment"),
    "motor": ("motor", "electric motor", "drive motor", "induction motor"),
    "conveyor": ("conveyor", "conveyor belt", "belt conveyor", "transport belt"),
    "fan": ("fan", "cooling fan", "exhaust fan", "ventilator"),
    "weld": ("weld seam", "weld joint", "welded seam", "weld bead"),
    "bolt": ("bolt", "hex bolt", "fastening bolt", "screw bolt"),
}

# Each condition: adjectives ("a worn gear"), predicates ("the gear is worn"),
# and noun phrases ("wear on the gear").
CONDITION_ADJECTIVES: dict[str, tuple[str, ...]] = {
    "normal": ("healthy", "intact", "undamaged", "normal"),
    "worn": ("worn", "abraded", "worn-out", "eroded"),
    "cracked": ("cracked", "fractured", "split", "broken"),
    "leaking": ("leaking", "leaky", "dripping", "seeping"),
    "misaligned": ("misaligned", "skewed", "off-axis", "out-of-line"),
    "loose": ("loose", "slack", "unfastened", "rattling"),
}
CONDITION_PREDICATES: dict[str, tuple[str, ...]] = {
    "normal": ("in good condition", "working normally", "without defects", "as it should be"),
    "worn": ("showing heavy wear", "worn down", "with worn surfaces", "past its service life"),
    "cracked": ("with a crack", "cracked through", "showing a fracture", "with a visible crack"),
    "leaking": ("leaking fluid", "with an oil leak", "dripping oil", "losing fluid"),
    "misaligned": ("out of alignment", "misaligned", "running off axis", "not aligned"),
    "loose": ("not tightened", "coming loose", "loosely mounted", "with play in its mounting"),
}
CONDITION_NOUNS: dict[str, tuple[str, ...]] = {
    "normal": ("no fault", "normal operation", "a clean inspection", "no damage"),
    "worn": ("wear", "abrasion", "surface wear", "erosion"),
    "cracked": ("a crack", "a fracture", "cracking", "a split"),
    "leaking": ("a leak", "leakage", "an oil leak", "fluid leakage"),
    "misaligned": ("misalignment", "an alignment fault", "axis offset", "angular misalignment"),
    "loose": ("looseness", "a loose fitting", "mechanical play", "loose mounting"),
}

TEMPLATES: tuple[str, ...] = (
    "a {adj} {fam}",
    "the {fam} is {pred}",
    "{fam}, {pred}",
    "inspection: {noun} on the {fam}",
    "photo of a {adj} {fam} on the line",
    "{noun} found on a {fam}",
    "{adj} {fam} during maintenance",
    "this {fam} is {adj}",
    "maintenance log: {fam} {pred}",
    "a {fam} {pred}",
)


def caption(concept: Concept, rng: np.random.Generator) -> str:
    """One random phrasing of the concept."""
    template = TEMPLATES[rng.integers(len(TEMPLATES))]
    text = template.format(
        fam=_pick(FAMILY_WORDS[concept.family], rng),
        adj=_pick(CONDITION_ADJECTIVES[concept.condition], rng),
        pred=_pick(CONDITION_PREDICATES[concept.condition], rng),
        noun=_pick(CONDITION_NOUNS[concept.condition], rng),
    )
    return _ARTICLE.sub(r"\1an \2", text)


_ARTICLE = re.compile(r"(^|\s)a ([aeiou])")


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[rng.integers(len(options))]
