"""`mcr demo ...`: the procedural factory world (and, later, the demo pack)."""

from __future__ import annotations

from pathlib import Path

from core.progress import console_progress
from core.world.plan import SIZES


def register(sub) -> None:
    demo = sub.add_parser("demo", help="the procedural demo world")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True, metavar="COMMAND")
    world = demo_sub.add_parser(
        "world",
        help="generate the procedural factory world (images, sounds, 3D scans, captions)",
        description="Generate the demo factory world: every file plus manifest.csv and world.json.",
    )
    world.add_argument("--out", type=Path, help="output folder (default: in the user data folder)")
    world.add_argument("--size", choices=SIZES, default="small",
                       help="small: about 2,700 files for tests; full: about 70,000 for training")
    world.add_argument("--seed", type=int, default=0)
    world.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    world.add_argument("--force", action="store_true", help="regenerate even if already there")
    world.set_defaults(run=run_world)
    baselines = demo_sub.add_parser(
        "baselines",
        help="score trivial hand-made features on a world (is it neither random nor trivial?)",
    )
    baselines.add_argument("world", type=Path, help="a folder made by `mcr demo world`")
    baselines.add_argument("--json", action="store_true", help="print one JSON object")
    baselines.set_defaults(run=run_baselines)


def run_world(args, token) -> int:
    from core.paths import default_world_dir
    from core.world.build import build_world

    out = args.out or default_world_dir(args.size, args.seed)
    info = build_world(out, args.size, args.seed, workers=args.workers, force=args.force,
                       progress=console_progress(), cancel=token.is_set)
    print(format_world_summary(out, info))
    return 0


def format_world_summary(out: Path, info: dict) -> str:
    modalities = ("image", "audio", "3d", "text")
    lines = [f"Demo world ({info['size']}, seed {info['seed']}) in {out}",
             f"  {'split':<16}" + "".join(f"{m:>8}" for m in modalities)]
    for split, counts in info["counts"].items():
        lines.append(f"  {split:<16}" + "".join(f"{counts.get(m, 0):>8}" for m in modalities))
    lines.append(f"  {info['items']} items, {info['bytes'] / 2**20:.1f} MiB, "
                 f"generated in {info['seconds']} s")
    return "\n".join(lines)


def run_baselines(args, token) -> int:
    import json

    from core.world.baselines import trivial_feature_accuracy

    scores = trivial_feature_accuracy(args.world, progress=console_progress(), cancel=token.is_set)
    if args.json:
        print(json.dumps(scores, sort_keys=True))
        return 0
    print("Nearest-centroid accuracy of trivial features on the test split "
          "(colour histogram, band energies, bounding box):")
    print(f"  {'modality':<8}{'concept':>10}{'family':>10}{'condition':>11}   chance")
    for modality, s in scores.items():
        chance = " / ".join(f"{s[k + '_chance']:.3f}" for k in ("concept", "family", "condition"))
        print(f"  {modality:<8}{s['concept']:>10.3f}{s['family']:>10.3f}{s['condition']:>11.3f}"
              f"   {chance}")
    return 0
