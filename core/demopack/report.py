"""The demo pack's evaluation report: eval.json (the `mcr eval --json` object and the build
summary), eval.md (the tables), curves.png (head training losses) and map.png (a 2-D map of the
held-out embeddings in the extended space, by modality and by machine family)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.evaluation.report import markdown_table

MARKERS = {"image": "o", "text": "s", "audio": "^", "3d": "D"}


def write_report(folder: Path, summary: dict, extension, test) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "eval.json", "markdown": folder / "eval.md",
             "curves": folder / "curves.png", "map": folder / "map.png"}
    paths["json"].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    paths["markdown"].write_text(markdown_report(summary), encoding="utf-8")
    plot_curves(extension.history, paths["curves"])
    plot_map(summary, test, extension, paths["map"])
    return paths


def markdown_report(summary: dict) -> str:
    evaluation = summary["evaluation"]
    lines = [f"# Evaluation of {summary['pack']}", "",
             "Held-out demo world (`test` split), retrieval by concept; R@1 per directed pair "
             "(leaf = the leaf spaces alone, C-MCR = the baseline, Ex-MCR = the shipped pack, "
             "oracle = the same heads trained with true audio-image and 3D-audio pairs).", "",
             markdown_table(evaluation, "R@1"), "", "## Targets", "",
             "| target | value | reference | met |", "| --- | ---: | ---: | :---: |"]
    for row in summary["targets"]:
        value = "–" if row["value"] is None else f"{row['value']:.3f}"
        ref = "–" if row["reference"] is None else f"{row['reference']:.3f}"
        lines.append(f"| {row['target']} | {value} | {ref} | {'yes' if row['ok'] else 'NO'} |")
    lines += ["", "## mAP", "", markdown_table(evaluation, "mAP"), "",
              "## Build time (seconds)", "",
              ", ".join(f"{k} {v}" for k, v in summary["seconds"].items())
              + f"; total {summary['total_seconds']}.", ""]
    return "\n".join(lines)


def plot_curves(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    leaves = sorted({leaf for per_leaf in history.values() for leaf in per_leaf})
    fig, axes = plt.subplots(1, max(1, len(leaves)), figsize=(5 * max(1, len(leaves)), 3.6))
    axes = np.atleast_1d(axes)
    for ax, leaf in zip(axes, leaves):
        for method, per_leaf in history.items():
            if leaf in per_leaf:
                ax.plot(range(1, len(per_leaf[leaf]) + 1), per_leaf[leaf], label=method)
        ax.set_title(f"{leaf} leaf: training loss")
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_map(summary: dict, test, extension, path: Path, per_modality: int = 300) -> None:
    """t-SNE of held-out items in the extended space (Ex-MCR): base image and text, and audio
    and 3D through their heads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    from core.alignment.extension import evaluation_spaces

    space = evaluation_spaces(test, extension)["exmcr"]
    vectors, modalities, families = [], [], []
    for m, (v, labels) in space.items():
        take = np.linspace(0, len(v) - 1, min(per_modality, len(v))).astype(int)
        vectors.append(v[take])
        modalities += [m] * len(take)
        families += (labels[take] // 6).tolist()  # concepts are family-major, 6 conditions each
    xy = TSNE(2, init="pca", perplexity=30, random_state=0).fit_transform(np.concatenate(vectors))
    modalities, families = np.array(modalities), np.array(families)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    palette = plt.get_cmap("tab10")
    for m, marker in MARKERS.items():
        sel = modalities == m
        axes[0].scatter(*xy[sel].T, s=6, marker=marker, label=m, alpha=0.7)
        axes[1].scatter(*xy[sel].T, s=6, marker=marker, c=[palette(f % 10) for f in families[sel]],
                        alpha=0.7)
    axes[0].set_title("held-out items by modality")
    axes[0].legend(markerscale=3)
    axes[1].set_title("by machine family (colour), modality (marker)")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{summary['pack']}: one space for image, text, audio and 3D (t-SNE)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
