"""The bundle's entry point. One program, two names: started as `mcr` (`mcr.exe`) it is the
engine's command line, as anything else (`mcr-studio`) the desktop app, which also takes
`--self-test`. Packaged by packaging/mcr-studio.spec; never imported by the project itself."""

import multiprocessing
import os
import sys
from pathlib import Path


def main() -> int:
    # A worker process of the demo world's renderer is this same program: it must stop here.
    multiprocessing.freeze_support()
    # Nothing is ever fetched from a model hub: every model comes from a pack or a package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    name = Path(sys.argv[0]).name.lower()
    if name in ("mcr", "mcr.exe"):
        from core.cli.main import main as cli

        return cli(sys.argv[1:])
    from desktop.app import main as app

    return app()


if __name__ == "__main__":
    sys.exit(main())
