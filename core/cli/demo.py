"""`mcr demo ...`: the procedural factory world and the demo pack built on it."""

from __future__ import annotations

from pathlib import Path

from core.cli import continual
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
    world.add_argument("--only", metavar="SPLIT",
                       help="render one split only (e.g. test: the held-out set)")
    world.add_argument("--per-concept", type=int, metavar="N",
                       help="keep the first N groups of each concept (a fixed subset)")
    world.set_defaults(run=run_world)
    baselines = demo_sub.add_parser(
        "baselines",
        help="score trivial hand-made features on a world (is it neither random nor trivial?)",
    )
    baselines.add_argument("world", type=Path, help="a folder made by `mcr demo world`")
    baselines.add_argument("--json", action="store_true", help="print one JSON object")
    baselines.set_defaults(run=run_baselines)
    library = demo_sub.add_parser(
        "library", help="build the demo library (the world's plant photos, sounds and scans)",
        description="Generate the demo world's plant library (one photo, recording and 3D "
                    "scan per concept) and add it to the demo library, which `mcr search` "
                    "uses while you have no library of your own.")
    library.add_argument("--library", type=Path, help="library folder (default: the demo "
                         "library in the user data folder)")
    library.add_argument("--size", choices=SIZES, default="full")
    library.add_argument("--seed", type=int, default=0)
    library.add_argument("--pack", help="pack (default: the default pack)")
    library.add_argument("--device", default="auto")
    library.set_defaults(run=run_library)
    continual.register_demo(demo_sub)
    pack = demo_sub.add_parser("pack", help="the demo model pack")
    pack_sub = pack.add_subparsers(dest="pack_command", required=True, metavar="COMMAND")
    build = pack_sub.add_parser(
        "build", help="reproduce the shipped demo pack: world, three spaces, Ex-MCR, evaluation",
        description="Reproduce the demo pack from a seed: the full demo world, three small "
                    "spaces (image-text, audio-text, 3D-image-text), the Ex-MCR heads (with the "
                    "C-MCR baseline and the paired oracle for comparison), the evaluation and "
                    "its report. Every stage is kept in the work folder, so an interrupted "
                    "build resumes. About 50 minutes on 2 CPU cores.")
    build.add_argument("--work", type=Path, help="work folder (default: in the user data folder)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--size", choices=SIZES, default="full", help="world size (default full)")
    build.add_argument("--budget", choices=("full", "quick"), default="full",
                       help="training budget of the three spaces (quick: a smoke run)")
    build.add_argument("--world", type=Path,
                       help="use this existing demo world instead of generating one")
    build.add_argument("--install", type=Path, metavar="PACKS_DIR",
                       help="copy the finished pack into this packs folder (e.g. assets/packs)")
    build.add_argument("--workers", type=int, default=2, help="decoding threads/processes")
    build.set_defaults(run=run_pack_build)


def run_world(args, token) -> int:
    from core.paths import default_world_dir
    from core.world.build import build_world

    out = args.out or default_world_dir(args.size, args.seed, args.only, args.per_concept)
    info = build_world(out, args.size, args.seed, workers=args.workers, force=args.force,
                       only=args.only, per_concept=args.per_concept,
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


def run_library(args, token) -> int:
    from core.library.demo import build_demo_library

    folder, report = build_demo_library(args.library, size=args.size, seed=args.seed,
                                        pack=args.pack, device=args.device,
                                        progress=console_progress(), cancel=token.is_set)
    print(f"Demo library in {folder}: {report.summary()}.")
    for r in report.skipped:
        print(f"  skipped {r.path}: {r.reason}")
    return 130 if report.cancelled else (6 if report.partial else 0)


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


def run_pack_build(args, token) -> int:
    from core.demopack.build import build_demo_pack
    from core.paths import data_dir

    work = args.work or data_dir() / "demo-pack-build" / f"{args.size}-seed{args.seed}"
    summary = build_demo_pack(work, seed=args.seed, size=args.size, budget=args.budget,
                              world=args.world, install=args.install, workers=args.workers,
                              progress=console_progress(), cancel=token.is_set)
    print((work / "report" / "eval.md").read_text(encoding="utf-8"))
    where = ", ".join(summary.get("installed", [summary["folder"]]))
    print(f"{summary['pack']}: in {where}; report in {work / 'report'}")
    failed = [row["target"] for row in summary["targets"] if not row["ok"]]
    if failed:
        print("Targets missed: " + "; ".join(failed))
    return 0
