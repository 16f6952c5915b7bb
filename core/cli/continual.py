"""`mcr demo continual` (the CMCL demo sequence with its baselines) and `mcr extend` (a
continual step on the user's own pairs, written as a new pack version)."""

from __future__ import annotations

import json
from pathlib import Path

from core.progress import console_progress


def register_demo(demo_sub) -> None:
    cont = demo_sub.add_parser(
        "continual", help="run the continual-extension demo sequence (CMCL and baselines)",
        description="Four steps a plant lives through (photos with inspection notes, recordings "
                    "with photos, 3D scans with recordings, notes for other families), trained "
                    "with CMCL, plain fine-tuning, EWC and a replay buffer; every pair scored "
                    "after every step on held-out items.")
    cont.add_argument("--quick", action="store_true", help="smaller sets (under a minute)")
    cont.add_argument("--json", action="store_true", help="print one JSON object")
    cont.add_argument("--plots", type=Path, metavar="DIR",
                      help="write the accuracy heatmaps and the trade-off plot here")
    cont.add_argument("--pack", default="demo@1", help="pack (default demo@1)")
    cont.add_argument("--seed", type=int, default=0)
    cont.set_defaults(run=run_demo_continual)


def run_demo_continual(args, token) -> int:
    from core.continual.demo import plot, run_demo

    out = run_demo(args.pack, quick=args.quick, seed=args.seed,
                   progress=None if args.json else console_progress(), cancel=token.is_set)
    if args.plots:
        for path in plot(out, args.plots):
            if not args.json:
                print(f"wrote {path}")
    if args.json:
        print(json.dumps(out))
        return 0
    print(format_demo(out))
    return 0


def format_demo(out: dict) -> str:
    lines = [f"{'method':<10}{'forgetting':>12}{'plasticity':>12}{'pack drop':>11}"]
    for name in ("cmcl", "finetune", "ewc", "replay"):
        r = out[name]
        lines.append(f"{name:<10}{r['forgetting']:>12.3f}{r['plasticity']:>12.3f}"
                     f"{r['pack_drop']:>11.3f}")
    lines.append(f"{'alone':<10}{'':>12}{out['alone']['plasticity']:>12.3f}")
    g = out["cmcl_gradient_rule"]
    lines.append(f"CMCL projecting the gradient instead of the applied update (the public "
                 f"code's AdamW): forgetting {g['forgetting']:.3f}, plasticity "
                 f"{g['plasticity']:.3f}, pack drop {g['pack_drop']:.3f}")
    t = out["targets"]
    lines.append("")
    lines.append(f"CMCL forgetting {t['forgetting_vs_finetune_ratio']:.2f}x fine-tuning's "
                 f"(target <= 0.2: {'met' if t['forgetting_met'] else 'missed'}), plasticity "
                 f"{t['plasticity_vs_finetune_ratio']:.2f}x (target >= 0.9: "
                 f"{'met' if t['plasticity_met'] else 'missed'}), ahead of EWC on both: "
                 f"{'yes' if t['ahead_of_ewc'] else 'no'}, largest drop of the pack's own "
                 f"retrieval {t['pack_drop']:.3f} (target <= 0.02: "
                 f"{'met' if t['pack_drop_met'] else 'missed'}).")
    lines.append("R@1 of each step's pair after every step (CMCL):")
    cmcl = out["cmcl"]
    lines.append(f"  {'pair of step':<34}" + "".join(f"{i:>7}" for i in
                                                    range(1, len(cmcl["steps"]) + 1)))
    for row, label in zip(cmcl["matrix"], ["pack"] + cmcl["steps"], strict=True):
        lines.append(f"  after {label:<28}" + "".join(f"{v:>7.3f}" for v in row))
    lines.append(f"({out['seconds']:.0f} s)")
    return "\n".join(lines)


def register(sub) -> None:
    ext = sub.add_parser(
        "extend", help="teach the pack new modality pairs (a continual step, CMCL)",
        description="Train a continual step on your own pairs and save it as a new version of "
                    "the pack; the current version stays installed and selectable. The pairs "
                    "are a CSV of two columns (one file per cell, paths relative to the CSV; a "
                    "column headed 'text' holds text) or a folder with one subfolder per "
                    "concept holding files of two modalities.")
    ext.add_argument("--pairs", type=Path, required=True, metavar="PAIRS.csv|FOLDER")
    ext.add_argument("--pack", help="the version to extend (default: the default pack)")
    ext.add_argument("--version", help="the new version's name (default: the next number)")
    ext.add_argument("--lambda-min", type=float, help="DNS eigenvalue floor: lower keeps more "
                     "of what earlier steps learned, higher learns more (default 3e-5)")
    ext.add_argument("--epochs", type=int, help="training epochs (default 10)")
    ext.add_argument("--library", type=Path, help="library whose items stand in for what a "
                     "non-demo pack already does, for its first step")
    ext.add_argument("--device", default="auto")
    ext.add_argument("--json", action="store_true", help="print one JSON object")
    ext.set_defaults(run=run_extend)


def run_extend(args, token) -> int:
    from dataclasses import replace

    from core.continual.extend import extend
    from core.continual.train import StepSettings
    from core.library.library import Library
    from core.library.locations import library_dir
    from core.packs.store import default_pack, resolve_pack

    parent = resolve_pack(args.pack) if args.pack else default_pack()
    if parent is None:
        from core.errors import UsageError

        raise UsageError("No model pack is installed", hint="`mcr pack import` installs one.")
    settings = StepSettings()
    if args.lambda_min is not None:
        settings = replace(settings, lambda_min=args.lambda_min)
    if args.epochs is not None:
        settings = replace(settings, epochs=args.epochs)
    library = None
    if parent.manifest.name != "demo" and parent.manifest.continual is None:
        library = Library.open(library_dir(args.library, reading=True), write=False)
    try:
        result = extend(parent, args.pairs, version=args.version, settings=settings,
                        device=args.device, library=library,
                        progress=None if args.json else console_progress(),
                        cancel=token.is_set)
    finally:
        if library is not None:
            library.close()
    if args.json:
        print(json.dumps({"pack": result.pack.ref, "parent": result.parent,
                          "pairs": result.pairs, "held_out": result.held_out,
                          "before": result.before, "after": result.after,
                          "pack_before": result.pack_before, "pack_after": result.pack_after,
                          "losses": result.losses, "seconds": result.seconds}))
        return 0
    print(format_extend(result))
    return 0


def format_extend(result) -> str:
    lines = [f"New pack version {result.pack.ref} (from {result.parent}), trained on "
             f"{result.pairs} pairs in {result.seconds:.0f} s; {result.parent} stays installed.",
             "", f"{'held-out pairs (' + str(result.held_out) + ')':<34}{'before':>8}{'after':>8}"]
    for key in ("R@1", "R@5", "R@10", "mAP"):
        lines.append(f"  {key:<32}{result.before[key]:>8.3f}{result.after[key]:>8.3f}")
    if result.pack_before:
        lines.append(f"{'what the pack could already do (R@1)':<34}")
        for name, value in result.pack_before.items():
            lines.append(f"  {name:<32}{value:>8.3f}{result.pack_after[name]:>8.3f}")
    lines += ["", "Move a library to it (one matrix product per modality, no re-encoding): "
              f"mcr library reindex --pack {result.pack.ref}"]
    return "\n".join(lines)
