"""Evaluate every directed modality pair for every method, and render the result.

`spaces` maps a space name to the embeddings of the held-out items it can produce, as
{modality: (vectors [N, D], concept labels [N])}. Space names are "<method>" or
"<method>:<part>" (e.g. "leaf:audio", "cmcr:3d"); a pair is scored for a method in the first of
its spaces that embeds both modalities, so a method that cannot embed a modality has no entry."""

from __future__ import annotations

import json

import numpy as np

from core.evaluation.metrics import retrieval_scores

MODALITIES = ("image", "text", "audio", "3d")
METHODS = ("base", "leaf", "cmcr", "exmcr", "oracle")  # the table's column order


def directed_pairs() -> list[tuple[str, str]]:
    return [(a, b) for a in MODALITIES for b in MODALITIES if a != b]


def evaluate_pairs(spaces: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]) -> dict:
    pairs: dict[str, dict[str, dict[str, float]]] = {}
    for source, target in directed_pairs():
        entry = {}
        for method in METHODS:
            space = _space_with(spaces, method, source, target)
            if space is not None:
                q, ql = space[source]
                g, gl = space[target]
                entry[method] = retrieval_scores(q, ql, g, gl)
        if entry:
            pairs[f"{source}->{target}"] = entry
    return pairs


def _space_with(spaces, method, a, b):
    for name, space in spaces.items():
        if name.split(":")[0] == method and a in space and b in space:
            return space
    return None


def base_drift(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> float:
    """The largest absolute change of any base embedding (image, text) after extension."""
    return float(max(np.abs(after[m] - before[m]).max() for m in before))


def retention(extended: dict, leaf: dict, a: str, b: str, metric: str = "R@1") -> float:
    """Mean of a<->b retrieval (both directions) in the extended space over the leaf space."""
    def mean(space):
        return (retrieval_scores(*space[a], *space[b])[metric]
                + retrieval_scores(*space[b], *space[a])[metric]) / 2

    return mean(extended) / max(mean(leaf), 1e-9)


# Leaf retention: each leaf's own pair, in the extended space over the leaf space alone.
RETENTION = {"audio<->text": ("leaf:audio", "audio", "text"),
             "3d<->image": ("leaf:3d", "3d", "image")}
# The emergent pairs: no pair of these modalities was used anywhere. A pair's R@1 is the mean
# of its two directions (each direction is in the table too).
EMERGENT = {"audio<->image": ("audio->image", "image->audio"),
            "3d<->audio": ("3d->audio", "audio->3d")}


def evaluate_extension(spaces: dict, drift: float, method: str = "exmcr") -> dict:
    """The `mcr eval` result: every directed pair for every method, the base drift of
    `method`, and its leaf retention."""
    kept = {}
    for name, (leaf, a, b) in RETENTION.items():
        if leaf in spaces and method in spaces and {a, b} <= set(spaces[method]):
            kept[name] = retention(spaces[method], spaces[leaf], a, b)
    return {"pairs": evaluate_pairs(spaces), "base_drift": drift, "leaf_retention": kept}


def check_targets(result: dict, *, of_oracle: float = 0.9, over_cmcr: float = 1.2,
                  min_retention: float = 0.95, method: str = "exmcr") -> list[dict]:
    """The demo pack's targets, one row each: emergent pairs' R@1 (both directions' mean)
    against the oracle and C-MCR, the base drift, the leaf retention. A row whose value or
    reference is missing fails."""
    rows = []
    for pair, directions in EMERGENT.items():
        ours = _pair_mean(result, directions, method)
        for ref, factor in (("oracle", of_oracle), ("cmcr", over_cmcr)):
            theirs = _pair_mean(result, directions, ref)
            ok = ours is not None and theirs is not None and ours >= factor * theirs
            rows.append({"target": f"{pair} R@1 >= {factor} x {ref}", "value": ours,
                         "reference": theirs, "ok": ok})
    drift = result["base_drift"]  # None where it could not be measured: not met
    rows.append({"target": "base drift == 0", "value": drift, "reference": 0.0,
                 "ok": drift is not None and drift == 0.0})
    for name in RETENTION:
        value = result["leaf_retention"].get(name)
        rows.append({"target": f"{name} retention >= {min_retention}", "value": value,
                     "reference": min_retention,
                     "ok": value is not None and value >= min_retention})
    return rows


def _pair_mean(result: dict, directions, method: str) -> float | None:
    values = [result["pairs"].get(d, {}).get(method, {}).get("R@1") for d in directions]
    return None if None in values else sum(values) / len(values)


def markdown_table(result: dict, metric: str = "R@1") -> str:
    methods = [m for m in METHODS if any(m in e for e in result["pairs"].values())]
    lines = [f"| pair ({metric}) | " + " | ".join(methods) + " |",
             "| --- |" + " ---: |" * len(methods)]
    for pair, entry in result["pairs"].items():
        cells = [f"{entry[m][metric]:.3f}" if m in entry else "–" for m in methods]
        lines.append(f"| {pair} | " + " | ".join(cells) + " |")
    lines.append("")
    drift = result["base_drift"]
    lines.append(f"Base drift: {'not measured' if drift is None else f'{drift:g}'}. "
                 "Leaf retention: " + ", ".join(
        f"{k} {v:.3f}" for k, v in result["leaf_retention"].items()) + ".")
    return "\n".join(lines)


def to_json(result: dict) -> str:
    return json.dumps(result, sort_keys=True)
