"""`mcr eval`: cross-modal retrieval of a pack on the demo world's held-out set."""

from __future__ import annotations

import json
from pathlib import Path

from core.progress import console_progress


def register(sub) -> None:
    ev = sub.add_parser(
        "eval", help="evaluate a pack on the demo world's held-out set",
        description="R@1/R@5/R@10 and mAP (by concept) for every directed modality pair, for "
                    "the leaf spaces alone and the pack; the base drift against the parent "
                    "version; the leaf retention. C-MCR and the paired oracle come from the "
                    "pack's build record, or are trained now on the world's pools with "
                    "--baselines.")
    ev.add_argument("--pack", default="demo", help="pack name, name@version or folder")
    ev.add_argument("--world", type=Path,
                    help="a demo world (default: the full world in the user data folder, "
                         "else its held-out subset)")
    ev.add_argument("--per-concept", type=int, metavar="N",
                    help="evaluate the first N held-out items of each concept")
    ev.add_argument("--baselines", action="store_true",
                    help="train C-MCR and the oracle on the world's pools now (minutes)")
    ev.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(run=run_eval)


def run_eval(args, token) -> int:
    from core.errors import UsageError
    from core.evaluation.pack_eval import evaluate_pack
    from core.evaluation.report import markdown_table
    from core.packs.store import resolve_pack
    from core.paths import data_dir, default_world_dir

    world = args.world
    if world is None:
        for candidate in (default_world_dir("full", 0),
                          data_dir() / "demo-pack-build" / "full-seed0" / "world",
                          default_world_dir("full", 0, "test", 5)):
            if (candidate / "manifest.csv").is_file():
                world = candidate
                break
        else:
            raise UsageError(
                "No demo world to evaluate on", hint="Generate the held-out set with `mcr demo "
                "world --size full --only test --per-concept 5` (about a minute) or pass "
                "--world.")
    per_concept = args.per_concept
    info_path = Path(world) / "world.json"
    if per_concept is None and info_path.is_file():
        per_concept = json.loads(info_path.read_text(encoding="utf-8")).get("per_concept")
    pack = resolve_pack(args.pack)
    progress = console_progress()
    result = evaluate_pack(pack, world, per_concept=per_concept, baselines=args.baselines,
                           device=args.device, progress=progress, cancel=token.is_set)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print(f"{pack.ref} on {world} (held-out, {per_concept or 'all'} per concept)")
    print(markdown_table(result, "R@1"))
    if result["recorded_methods"]:
        print(f"({', '.join(result['recorded_methods'])}: figures recorded by the pack's build)")
    missed = [r["target"] for r in result["targets"] if not r["ok"]]
    print("Targets: all met." if not missed else "Targets missed: " + "; ".join(missed))
    return 0
