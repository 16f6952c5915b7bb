"""The Library tab: adding a folder with progress and a skipped-files report, cancelling,
removing, verifying; the status bar follows the library's size."""

from __future__ import annotations

import shutil

import pytest

from tests.desktop.helpers import drop_files

pytestmark = pytest.mark.gui


def _folder(plant_world, tmp_path, count: int):
    out = tmp_path / "new-files"
    out.mkdir()
    for kind in ("photos", "recordings", "scans"):
        for src in sorted((plant_world / "library" / kind).iterdir())[:count]:
            shutil.copy2(src, out / f"copy-{src.name}")
    return out


def _fresh_library_window(qtbot, tmp_path):
    """A window on a new, empty library folder (nothing to search yet)."""
    from core.library.library import Library
    from core.packs.store import resolve_pack
    from desktop.main_window import MainWindow
    from desktop.settings import Settings

    pack = resolve_pack("demo@1")
    Library.open(tmp_path / "mine", space=pack.ref, dim=pack.manifest.dim).close()
    win = MainWindow(Settings(library=str(tmp_path / "mine")))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.info is not None, timeout=60_000)
    return win


def test_a_dropped_folder_is_added_with_progress_and_a_report_of_skipped_files(
        qtbot, tmp_path, plant_world):
    window = _fresh_library_window(qtbot, tmp_path)
    tab = window.library_tab
    window.tabs.setCurrentWidget(tab)
    folder = _folder(plant_world, tmp_path, 2)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (folder / "notes.txt").write_text("not a picture")
    seen = []
    window.ctx.runner.progressed.connect(lambda job, p: seen.append((p.stage, p.done, p.total)))
    with qtbot.waitSignal(tab.report_shown, timeout=60_000) as done:
        drop_files(tab, [folder])
        assert not tab.progress.isHidden() and not tab.cancel.isHidden()
    report = done.args[0]
    assert report.counts()["indexed"] == 6 and report.ignored == 1
    assert [r.path for r in report.skipped] == [str(folder / "broken.wav")]
    assert any(total and done_ for _, done_, total in seen)  # counted progress arrived
    rows = [tab.report_view.topLevelItem(i).text(0) for i in
            range(tab.report_view.topLevelItemCount())]
    assert rows == [str(folder / "broken.wav")]
    assert tab.report_view.topLevelItem(0).text(1)  # with its reason
    assert "1 skipped" in tab.report_title.text()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 6, timeout=10_000)
    assert window.library_label.text().endswith("6 items")
    assert tab.progress.isHidden()
    assert window.notifications.history[-1][0] == "warning"


def test_cancel_stops_an_ingest_and_keeps_what_was_added(qtbot, tmp_path, plant_world):
    window = _fresh_library_window(qtbot, tmp_path)
    tab = window.library_tab
    folder = _folder(plant_world, tmp_path, 30)
    cancelled = []

    def on_progress(job, p):
        if p.stage == "indexing" and p.done >= 1 and not cancelled:
            cancelled.append(p.done)
            tab.cancel.click()

    window.ctx.runner.progressed.connect(on_progress)
    with qtbot.waitSignal(tab.report_shown, timeout=90_000) as done:
        tab.add([str(folder)])
    report = done.args[0]
    assert cancelled and report.cancelled
    assert report.counts()["indexed"] < 90
    assert "cancelled" in window.notifications.history[-1][1]
    qtbot.waitUntil(lambda: tab.model.rowCount() == report.counts()["indexed"],
                    timeout=10_000)


def test_remove_and_verify(window, qtbot):
    tab = window.library_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() == 180, timeout=10_000)
    tab.table.selectRow(0)
    tab.confirm = lambda text: True
    tab.remove_selected()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 179, timeout=10_000)
    assert window.library_label.text().endswith("179 items")
    with qtbot.waitSignal(tab.report_shown, timeout=20_000) as done:
        tab.verify()
    assert done.args[0].ok and "all files as they were" in tab.report_title.text()
    tab.filter_modality.setCurrentIndex(tab.filter_modality.findData("audio"))
    assert tab.proxy.rowCount() == 60
