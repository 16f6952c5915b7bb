"""`mcr search`: the nearest library items, of every modality, to a text, a file or an item."""

from __future__ import annotations

import json

from core.cli.tables import table

EXIT_NO_RESULTS = 7  # the search ran, but nothing matched the filters


def register(sub) -> None:
    p = sub.add_parser(
        "search", help="search the library with text, an image, a sound, a 3D scan or an item",
        description="The nearest items of the library to the query: by default the best K "
                    "of each modality (images, sounds, 3D scans). Exit status "
                    f"{EXIT_NO_RESULTS} when nothing matches the filters.")
    query = p.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", help="words, e.g. 'grinding bearing'")
    query.add_argument("--image", metavar="FILE")
    query.add_argument("--audio", metavar="FILE")
    query.add_argument("--cloud", metavar="FILE", help="a 3D scan (PLY, PCD, XYZ, OBJ, STL, OFF)")
    query.add_argument("--file", metavar="FILE", help="any kind of file, told by its content")
    query.add_argument("--like", type=int, metavar="ID", help="more like this library item")
    p.add_argument("--modality", action="append", choices=("image", "audio", "3d"),
                   help="only this modality (repeatable)")
    p.add_argument("--tag", action="append", default=[], help="only items with this tag")
    p.add_argument("-k", type=int, default=5, help="results per modality (default 5)")
    p.add_argument("--mixed", action="store_true",
                   help="one ranking over all modalities instead of K per modality")
    p.add_argument("--library", metavar="DIR", help="library folder ('demo': the demo library)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_search)


def run_search(args, token) -> int:
    from core.cli.library import models_for, open_for
    from core.errors import UsageError
    from core.io.kinds import modality_of
    from core.library import search as s

    with open_for(args, write=False) as library:
        if args.like is not None:
            query = s.item_query(library, args.like)
        else:
            models = models_for(library, args.device)
            if args.text is not None:
                query = s.text_query(models, args.text)
            else:
                path = args.image or args.audio or args.cloud or args.file
                wanted = {"image": args.image, "audio": args.audio, "3d": args.cloud}
                named = next((m for m, v in wanted.items() if v), None)
                found = modality_of(path)
                if named and found and found != named:
                    raise UsageError(f"{path} is named like {found}, not {named}",
                                     hint=f"Use --{'cloud' if found == '3d' else found}, or "
                                          "--file to tell by its content.")
                query = s.file_query(models, path)
        hits = s.search(library, query, k=args.k, modalities=args.modality, tags=args.tag,
                        per_modality=not args.mixed)
    if args.json:
        print(json.dumps({"query": {"source": query.source, "modality": query.modality},
                          "library": str(library.folder), "pack": library.space,
                          "results": [h.__dict__ for h in hits]}))
    else:
        print(f"{len(hits)} results for {query.source} in {library.folder} ({library.space}):")
        rows = [[h.modality, h.rank, f"{h.score:.3f}", h.path] for h in hits]
        print(table(["modality", "rank", "score", "file"], rows, max_width=100))
    return 0 if hits else EXIT_NO_RESULTS
