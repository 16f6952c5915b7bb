"""`mcr`: the engine's command line. Each area registers its subcommands; errors become exit
codes."""

from __future__ import annotations

import argparse
import signal
import sys

from core.errors import Cancelled, MCRError
from core.progress import CancelToken

VERSION = "0.1.0"


def build_parser() -> argparse.ArgumentParser:
    from core.cli import continual, demo, evaluate, library, pack, search

    parser = argparse.ArgumentParser(
        prog="mcr",
        description="MCR Studio engine: cross-modal search over images, sounds, 3D scans and text.",
    )
    parser.add_argument("--version", action="version", version=f"mcr {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.register(sub)
    pack.register(sub)
    evaluate.register(sub)
    library.register(sub)
    search.register(sub)
    continual.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = CancelToken()
    previous = _cancel_on_first_interrupt(token)
    try:
        return int(args.run(args, token) or 0)
    except Cancelled as err:
        print(f"mcr: {err}", file=sys.stderr)
        return err.exit_code
    except MCRError as err:
        print(f"mcr: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("mcr: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)


def _cancel_on_first_interrupt(token: CancelToken):
    """First Ctrl+C asks the running operation to stop cleanly; a second one interrupts."""

    def handler(signum, frame):
        if token.is_set():
            raise KeyboardInterrupt
        token.set()
        print("\nmcr: stopping (Ctrl+C again to abort at once)...", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)


if __name__ == "__main__":
    sys.exit(main())
