"""`mcr pack ...`: list, verify and import model packs (and build the real one, online)."""

from __future__ import annotations

from pathlib import Path

from core.progress import console_progress


def register(sub) -> None:
    pack = sub.add_parser("pack", help="model packs: list, verify, import, build the real one")
    pack_sub = pack.add_subparsers(dest="pack_command", required=True, metavar="COMMAND")
    listing = pack_sub.add_parser("list", help="the installed packs and their versions")
    listing.set_defaults(run=run_list)
    verify = pack_sub.add_parser("verify", help="check every file of a pack against its sha256")
    verify.add_argument("name", help="NAME, NAME@VERSION or a folder")
    verify.set_defaults(run=run_verify)
    test = pack_sub.add_parser(
        "test", help="load every encoder of a pack and embed one input per modality")
    test.add_argument("name", help="NAME, NAME@VERSION or a folder")
    test.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    test.set_defaults(run=run_test)
    imp = pack_sub.add_parser("import", help="install a pack folder or .zip (verified first)")
    imp.add_argument("path", type=Path)
    imp.set_defaults(run=run_import)
    build = pack_sub.add_parser(
        "build-real",
        help="download the public checkpoints and build the real pack (needs internet)",
        description="Download CLIP ViT-B/32, CLAP, ULIP-2 PointBERT and the Ex-MCR heads, check "
                    "their sha256, convert them and write a verified pack to --out. Run it on a "
                    "connected machine, then copy the folder and `mcr pack import` it.")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--pin-new-hashes", action="store_true",
                       help="trust first downloads whose sha256 the registry does not pin yet")
    build.set_defaults(run=run_build_real)


def run_list(args, token) -> int:
    """One row per pack; under a version with parents its chain (newest first) and the
    continual steps that made it."""
    from core.continual.version import chain, step_names
    from core.packs.store import find_packs, pack_roots

    found = find_packs()
    if not found:
        roots = " or ".join(str(r) for r in pack_roots())
        print(f"No model pack installed (looked in {roots}).")
        return 0
    installed = [f.pack for f in found if f.pack is not None]
    print(f"{'pack':<24}{'dim':>5}  {'modalities':<24}{'parent':<16}folder")
    for f in found:
        if f.pack is None:
            print(f"{f.folder.name:<24}{'':>5}  BROKEN: {f.problem}")
            continue
        m = f.pack.manifest
        print(f"{m.ref:<24}{m.dim:>5}  {','.join(sorted(m.encoders)):<24}"
              f"{m.parent or '-':<16}{f.folder}")
        if m.parent is not None:
            print(f"  {' <- '.join(reversed(chain(f.pack, installed)))}")
        for number, name in enumerate(step_names(m), 1):
            print(f"  step {number}: {name}")
    return 0


def run_verify(args, token) -> int:
    from core.errors import PackError
    from core.packs.store import resolve_pack

    pack = resolve_pack(args.name)
    problems = pack.verify(console_progress(), token.is_set)
    if problems:
        raise PackError("; ".join(problems), path=pack.folder)
    print(f"{pack.ref}: all {len(pack.manifest.files)} files match their sha256 ({pack.folder})")
    return 0


def run_import(args, token) -> int:
    from core.packs.store import import_pack

    pack = import_pack(args.path, console_progress(), token.is_set)
    print(f"Installed {pack.ref} in {pack.folder}")
    return 0


def run_build_real(args, token) -> int:
    from core.packs.real import build_real_pack

    pack = build_real_pack(args.out, pin_new_hashes=args.pin_new_hashes,
                           progress=console_progress(), cancel=token.is_set)
    print(f"Built {pack.ref} in {pack.folder}; copy it to the workstation and run "
          f"`mcr pack import {pack.folder}`")
    return 0


def run_test(args, token) -> int:
    from core.encoders.probe import probe_pack
    from core.packs.store import resolve_pack

    pack = resolve_pack(args.name)
    result = probe_pack(pack, args.device, console_progress(), token.is_set)
    print(f"{pack.ref} on {result['device']}:")
    for modality, r in result["modalities"].items():
        print(f"  {modality:<6} {r['dim']}-d  loaded in {r['load_s']} s, one item embedded in "
              f"{r['embed_s']} s")
    return 0
