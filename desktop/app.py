"""`mcr-studio`: start the desktop application. The window shows before torch and the models
load; they load on the worker thread right after.

`mcr-studio --self-test [--report PATH]` checks the installation instead (desktop/self_test.py):
offscreen, one query per modality on the demo library; exit status 0 when every check passed."""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options; the rest (Qt's own, such as -platform) is left for QApplication."""
    parser = argparse.ArgumentParser(
        prog="mcr-studio", description="MCR Studio: cross-modal search over photos, sounds, "
                                       "3D scans and text.")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation offscreen (the window, the pack, one "
                             "query per modality on the demo library) and exit 0 or 1")
    parser.add_argument("--report", metavar="PATH",
                        help="where --self-test writes its report (JSON if PATH ends in .json; "
                             "default: self-test.txt in the user data folder)")
    args, rest = parser.parse_known_args(argv[1:])
    if args.report and not args.self_test:
        parser.error("--report goes with --self-test")
    return args, argv[:1] + rest


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the demo world renders in worker processes
    args, qt_argv = parse_args(list(sys.argv if argv is None else argv))
    if args.self_test:
        from desktop.self_test import main as self_test

        return self_test(qt_argv, args.report)

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from core.paths import assets_dir
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from desktop.theme import apply_theme

    app = QApplication(qt_argv)
    app.setApplicationName("MCR Studio")
    app.setOrganizationName("MCR Studio")
    app.setWindowIcon(QIcon(str(assets_dir() / "icons" / "mcr-studio.svg")))
    settings = Settings.load()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
