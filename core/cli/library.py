"""`mcr library ...`: add folders and files, list, remove, statistics, verify, re-embed."""

from __future__ import annotations

import json
from pathlib import Path

from core.cli.tables import human_bytes, table
from core.progress import console_progress

EXIT_PARTIAL = 6  # some files were skipped (the others were indexed)


def register(sub) -> None:
    lib = sub.add_parser("library", help="the library of files to search",
                         description="The library: the files MCR Studio searches.")
    lib_sub = lib.add_subparsers(dest="library_command", required=True, metavar="COMMAND")

    def command(name, help_text, run, description=None):
        p = lib_sub.add_parser(name, help=help_text, description=description or help_text)
        p.add_argument("--library", metavar="DIR",
                       help="library folder ('demo' for the demo library; default: yours, "
                            "$MCR_LIBRARY or the user data folder)")
        p.set_defaults(run=run)
        return p

    add = command("add", "add files and folders (recursively)", run_add,
                  "Add images, recordings and 3D scans; folders are searched recursively. "
                  "Files already in the library are not read again; a cancelled or killed "
                  f"run resumes when run again. Exit status {EXIT_PARTIAL} when some files "
                  "were skipped.")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument("--tag", action="append", default=[], help="tag every added item")
    add.add_argument("--pack", help="pack for a new library (default: the default pack)")
    add.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    add.add_argument("--workers", type=int, default=2, help="decoding threads")
    add.add_argument("--json", action="store_true", help="print the report as JSON")

    ls = command("list", "list the items", run_list)
    ls.add_argument("--modality", choices=("image", "audio", "3d"))
    ls.add_argument("--tag")
    ls.add_argument("--limit", type=int, default=None)
    ls.add_argument("--json", action="store_true")

    rm = command("remove", "remove items (by id) or files (by path)", run_remove)
    rm.add_argument("targets", nargs="+", metavar="ID_OR_PATH")

    stats = command("stats", "counts, sizes and the index", run_stats)
    stats.add_argument("--json", action="store_true")

    ver = command("verify", "find files that are gone or changed", run_verify,
                  "Check every file against the catalogue and the index against the "
                  "catalogue. With --fix, drop the files that are gone and re-read the changed "
                  "ones. Exit status 1 when something is wrong and not fixed.")
    ver.add_argument("--fix", action="store_true")
    ver.add_argument("--device", default="auto")
    ver.add_argument("--json", action="store_true")

    rei = command("reindex", "move the library to another pack version", run_reindex,
                  "Move every item to another pack version: by one matrix product per "
                  "modality when the versions differ only by continual maps (`mcr extend`), "
                  "else by embedding every file again. The library stays usable with its "
                  "current pack until the new vectors are all there; a cancelled run resumes.")
    rei.add_argument("--pack", required=True)
    rei.add_argument("--device", default="auto")
    rei.add_argument("--workers", type=int, default=2)


def open_for(args, *, write: bool, create: bool = False):
    from core.library.library import Library, is_library
    from core.library.locations import library_dir, new_library_pack

    folder = library_dir(args.library, reading=not write)
    if create and not is_library(folder):
        pack = new_library_pack(getattr(args, "pack", None))
        return Library.open(folder, write=True, space=pack.ref, dim=pack.manifest.dim)
    return Library.open(folder, write=write)


def models_for(library, device: str, pack: str | None = None):
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.library.locations import pack_for

    return PackModels(pack_for(library.space, pack), pick_device(device))


def run_add(args, token) -> int:
    from core.library.ingest import ingest

    with open_for(args, write=True, create=True) as library:
        _print_repairs(library)
        report = ingest(library, models_for(library, args.device), args.paths, tags=args.tag,
                        workers=args.workers, progress=console_progress(), cancel=token.is_set)
        total = library.count()
    if args.json:
        print(json.dumps({"counts": report.counts(), "ignored": report.ignored,
                          "cancelled": report.cancelled, "seconds": round(report.seconds, 2),
                          "library_items": total,
                          "files": [r.__dict__ for r in report.results]}))
    else:
        if report.skipped:
            print("Skipped:")
            print(table(["file", "reason"], [[r.path, r.reason] for r in report.skipped]))
        print(f"{report.summary()}. The library holds {total} items ({library.folder}).")
    if report.cancelled:
        return 130
    return EXIT_PARTIAL if report.partial else 0


def run_list(args, token) -> int:
    import datetime

    with open_for(args, write=False) as library:
        items = library.catalogue.items(modality=args.modality, tag=args.tag, limit=args.limit)
    if args.json:
        print(json.dumps([{"id": i.id, "modality": i.modality, "path": i.path, "size": i.size,
                           "added": i.added, "paths": list(i.paths), "tags": list(i.tags)}
                          for i in items]))
        return 0
    rows = [[i.id, i.modality, human_bytes(i.size),
             datetime.datetime.fromtimestamp(i.added).strftime("%Y-%m-%d %H:%M"),
             i.path + (f" (+{len(i.paths) - 1} copies)" if len(i.paths) > 1 else ""),
             ",".join(i.tags)] for i in items]
    print(table(["id", "modality", "size", "added", "path", "tags"], rows))
    return 0


def run_remove(args, token) -> int:
    import os

    with open_for(args, write=True) as library:
        ids = [int(t) for t in args.targets if t.isdigit()]
        paths = [os.path.abspath(t) for t in args.targets if not t.isdigit()]
        removed = library.remove_items(ids) + library.forget_paths(paths)
        unknown = [t for t in args.targets if t.isdigit() and int(t) not in removed]
        print(f"Removed {len(removed)} items; the library holds {library.count()}.")
    if unknown:
        print(f"Not in the library: {', '.join(unknown)}")
        return 1
    return 0


def run_stats(args, token) -> int:
    with open_for(args, write=False) as library:
        stats = library.catalogue.stats()
        stats.update(folder=str(library.folder), pack=library.space, dim=library.dim,
                     indexed=library.count(), roots=library.catalogue.roots())
    if args.json:
        print(json.dumps(stats))
        return 0
    kinds = ", ".join(f"{n} {m}" for m, n in sorted(stats["modalities"].items()))
    print(f"Library {stats['folder']}\n  {stats['items']} items ({kinds or 'none'}), "
          f"{stats['files']} files, {human_bytes(stats['bytes'])}\n"
          f"  index: {stats['indexed']} vectors in the space of {stats['pack']} "
          f"({stats['dim']} dimensions)")
    if stats["tags"]:
        print("  tags: " + ", ".join(f"{t} ({n})" for t, n in sorted(stats["tags"].items())))
    return 0


def run_verify(args, token) -> int:
    from core.library.ingest import ingest
    from core.library.verify import drop_missing, verify

    with open_for(args, write=True) as library:
        report = verify(library, progress=console_progress(), cancel=token.is_set)
        fixed = {}
        if args.fix and report.missing:
            fixed["dropped_items"] = len(drop_missing(library, report))
        if args.fix and report.changed:
            again = ingest(library, models_for(library, args.device), report.changed,
                           progress=console_progress(), cancel=token.is_set)
            fixed["reread"] = again.counts()
    if args.json:
        print(json.dumps({**report.__dict__, "ok": report.ok, "fixed": fixed}))
    else:
        for line in report.repairs:
            print(f"Repaired on opening: {line}")
        print(f"{report.files} files checked: {len(report.missing)} gone, "
              f"{len(report.changed)} changed; index {report.index_count} vectors for "
              f"{report.items_with_vectors} items.")
        for path in report.missing[:20]:
            print(f"  gone: {path}")
        for path in report.changed[:20]:
            print(f"  changed: {path}")
        if fixed:
            print(f"Fixed: {fixed}")
        elif not report.ok:
            print("Run `mcr library verify --fix` to drop what is gone and re-read what changed.")
    return 0 if report.ok or args.fix else 1


def run_reindex(args, token) -> int:
    from core.library.locations import library_dir
    from core.library.reindex import reindex

    folder = library_dir(args.library, reading=False)
    result = reindex(folder, args.pack, device=args.device, workers=args.workers,
                     progress=console_progress(), cancel=token.is_set)
    how = {"matrix": " (moved by one matrix product per modality, no file re-read)",
           "re-embed": " (every file embedded again)"}.get(result.get("method"), "")
    print(f"The library now holds {result['items']} items in the space of {result['pack']}"
          + how + (f"; {len(result['missing'])} items whose files are gone were left out"
                   if result["missing"] else "") + ".")
    if result.get("refused"):
        print(f"  (not by matrix product: {result['refused']})")
    return 0


def _print_repairs(library) -> None:
    import sys

    for line in library.repairs:
        print(f"mcr: repaired the library on opening: {line}", file=sys.stderr)
