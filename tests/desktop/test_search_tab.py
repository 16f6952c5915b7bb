"""The Search tab on the plant library: drops of each kind, text, paste, recording, and what
a person sees of the results (kinds, ranking, filter, views, menu, map)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.desktop.helpers import drop_files, family, search_and_wait

pytestmark = pytest.mark.gui

KINDS = {"photos": "image", "recordings": "audio", "scans": "3d"}


def test_the_window_opens_on_the_library_with_device_pack_and_size(window):
    assert window.windowTitle() == "MCR Studio"
    assert [window.tabs.tabText(i) for i in range(3)] == ["Search", "Library", "Training"]
    assert window.device_label.text().startswith(("CPU", "GPU"))
    assert window.pack_label.text() == "Pack demo@1"
    assert window.library_label.text().endswith("180 items")
    assert window.notifications.history == []
    # every encoder was loaded while the window said "loading", not by the first search
    models = window.ctx.session.models
    assert set(models._encoders) == set(models.modalities) == {"3d", "audio", "image", "text"}
    # every item's preview, newest first, for the thumbnails decoded ahead
    previews = window.ctx.session.previews()
    assert len(previews) == 180 and {m for m, _ in previews} == {"image", "audio", "3d"}
    assert all(os.path.isfile(path) for _, path in previews)
    newest = max(window.ctx.session.items(), key=lambda item: item.id)
    assert previews[0] == (newest.modality, str(window.ctx.session.library.folder / newest.preview))


@pytest.mark.parametrize("folder", sorted(KINDS))
def test_a_dropped_file_finds_every_modality_ranked(window, qtbot, plant_world, folder):
    path = sorted((plant_world / "library" / folder).iterdir())[3]
    tab = window.search_tab
    result = search_and_wait(qtbot, tab, lambda: drop_files(tab.query.drop, [path]))
    assert result.query.modality == KINDS[folder]
    kinds = [h.modality for h in result.hits]
    assert kinds == ["image"] * 5 + ["audio"] * 5 + ["3d"] * 5
    for kind in ("image", "audio", "3d"):
        scores = [h.score for h in result.hits if h.modality == kind]
        assert scores == sorted(scores, reverse=True)
    own = [h for h in result.hits if h.modality == KINDS[folder]]
    assert own[0].path == str(path) and own[0].score == pytest.approx(1.0, abs=1e-4)
    # what is painted: one strip per modality with the hits in order, the query previewed
    strips = {m: s for m, (_, s) in tab.grid.sections.items()}
    assert {m: s.count() for m, s in strips.items()} == {"image": 5, "audio": 5, "3d": 5}
    # the query's preview follows the results
    qtbot.waitUntil(lambda: tab.query.stack.currentWidget() is tab.query.pages[KINDS[folder]],
                    timeout=10_000)
    assert path.name in tab.query.caption.text()


def test_typed_words_find_the_right_family_across_modalities(window, qtbot, concepts):
    tab = window.search_tab
    found = {}
    for words, wanted in (("oil leaking from a pump", "pump"),
                          ("grinding noise from a damaged ball bearing", "bearing")):
        tab.query.text.setText(words)
        result = search_and_wait(qtbot, tab, tab.query.text.returnPressed.emit)
        assert result.query.modality == "text"
        for kind in ("image", "audio", "3d"):
            top = [h for h in result.hits if h.modality == kind]
            found[(words, kind)] = np.mean([family(concepts, h.path) == wanted
                                            for h in top])
    # 10 families: chance is 0.1 per hit
    assert np.mean(list(found.values())) >= 0.4, found
    assert min(found.values()) >= 0.2, found


def test_a_pasted_picture_is_a_query(window, qtbot, plant_world):
    from PySide6.QtGui import QGuiApplication, QImage

    path = sorted((plant_world / "library" / "photos").iterdir())[0]
    QGuiApplication.clipboard().setImage(QImage(str(path)))
    tab = window.search_tab
    result = search_and_wait(qtbot, tab, tab.paste)
    assert result.query.source == "pasted image"
    top = [h for h in result.hits if h.modality == "image"][0]
    assert top.path == str(path) and top.score > 0.99


def test_recording_from_a_fake_microphone_becomes_a_query(window, qtbot, plant_world):
    from core.io import load_audio

    clip = load_audio(sorted((plant_world / "library" / "recordings").iterdir())[0], 48_000)

    class FakeStream:
        def __init__(self, rate, block):
            self.block, self.at = block, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            chunk = np.resize(clip, self.at + n)[self.at:self.at + n]
            self.at += n
            return chunk.reshape(-1, 1).astype(np.float32), False

    window.ctx.open_stream = FakeStream
    window.ctx.countdown = 0
    window.settings.record_seconds = 2
    tab = window.search_tab
    result = search_and_wait(qtbot, tab, tab.query.findChild(type(tab.query.play),
                                                             "query-record").click)
    assert result.query.modality == "audio" and result.query.source.startswith("recording")
    assert len(tab.record_dialog.levels) >= 10  # the level meter moved while recording
    assert max(tab.record_dialog.levels) > -30
    assert tab.query.waveform.seconds == pytest.approx(2.0, abs=0.05)
    assert {h.modality for h in result.hits} == {"image", "audio", "3d"}


def test_without_a_microphone_record_says_so(window, monkeypatch):
    import core.io.record

    monkeypatch.setattr(core.io.record, "input_available", lambda: "no microphone was found")
    window.search_tab.start_recording()
    level, text = window.notifications.history[-1]
    assert level == "warning" and "no microphone" in text and "drop a recording" in text
    assert window.search_tab.record_dialog is None


def test_a_bad_file_is_a_notification_naming_it_not_a_crash(window, qtbot, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    tab = window.search_tab
    drop_files(tab.query.drop, [bad])
    qtbot.waitUntil(lambda: bool(window.notifications.history), timeout=20_000)
    level, text = window.notifications.history[-1]
    assert level == "error" and str(bad) in text
    assert "Traceback" not in text
    banner = window.notifications.banners[-1]
    assert banner.details_view is not None and banner.details_view.isHidden()
    qtbot.wait(300)  # past the moment a slow search says "Searching…"
    assert tab.info.text() == "The search failed (see the message above)."
    assert window.isVisible()  # and the window still searches
    result = search_and_wait(qtbot, tab, lambda: tab.search_text("cracked weld"))
    assert result.hits


def test_filter_views_menu_and_more_like_this(window, qtbot, plant_world):
    tab = window.search_tab
    path = sorted((plant_world / "library" / "recordings").iterdir())[0]
    search_and_wait(qtbot, tab, lambda: drop_files(tab.query.drop, [path]))
    tab.filters["image"].click()  # hide images
    assert all(h.modality != "image" for h in tab.grid.visible_hits())
    assert len(tab.grid.visible_hits()) == 10
    tab.show_view(1)
    assert [h.modality for h in tab.list.visible_hits()] == ["audio"] * 5 + ["3d"] * 5
    hit = tab.list.visible_hits()[-1]
    menu = tab.make_hit_menu(hit)
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels[:3] == ["Open file", "Show in folder", "Copy path"]
    copy = next(a for a in menu.actions() if a.text() == "Copy path")
    copy.trigger()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == hit.path
    more = next(a for a in menu.actions() if a.text().startswith("Search with this item"))
    result = search_and_wait(qtbot, tab, more.trigger)
    assert result.query.item_id == hit.item_id
    assert hit.item_id not in [h.item_id for h in result.hits]  # the item itself left out


def test_space_plays_the_selected_sound_and_stops_it(window, qtbot, plant_world):
    tab = window.search_tab
    path = sorted((plant_world / "library" / "photos").iterdir())[0]
    search_and_wait(qtbot, tab, lambda: drop_files(tab.query.drop, [path]))
    _, strip = tab.grid.sections["audio"]
    strip.setFocus()
    strip.setCurrentRow(0)
    speaker = window.ctx.playback._backend
    tab.toggle_play()
    qtbot.waitUntil(lambda: bool(speaker.played), timeout=10_000)
    assert speaker.played[0][1] == 48_000 and window.ctx.playback.is_playing()
    tab.toggle_play()
    assert not window.ctx.playback.is_playing()


def test_the_map_shows_the_library_and_the_query(window, qtbot, plant_world):
    tab = window.search_tab
    path = sorted((plant_world / "library" / "scans").iterdir())[0]
    search_and_wait(qtbot, tab, lambda: drop_files(tab.query.drop, [path]))
    with qtbot.waitSignal(tab.map_ready, timeout=20_000):
        tab.show_view(2)
    shown = tab.map.map
    assert len(shown.ids) == 180 and set(shown.modalities) == {"image", "audio", "3d"}
    item = next(h for h in tab.result.hits if h.path == str(path))
    # the query (this scan) is drawn where the scan itself is
    assert np.allclose(tab.map.query_point, shown.point_of(item.item_id), atol=1e-4)
    x, y = tab.map.screen(shown.point_of(item.item_id))[0]
    assert shown.ids[tab.map.item_at(x, y)] in {h.item_id for h in tab.result.hits} | {
        item.item_id}


def test_previews_are_decoded_once_per_size_and_again_when_the_file_changes(tmp_path, qapp):
    from types import SimpleNamespace

    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImage

    from desktop.search.results import hit_icon
    from desktop.search.thumbnails import Thumbnails

    def picture(name: str, colour: int) -> str:
        image = QImage(256, 128, QImage.Format.Format_RGB32)
        image.fill(colour)
        assert image.save(str(tmp_path / name))
        return str(tmp_path / name)

    cache = Thumbnails()
    path = picture("p.png", 0x336699)
    first = cache.image(path, QSize(148, 148))
    assert first.size() == QSize(148, 74)  # scaled once, aspect kept
    assert cache.image(path, QSize(148, 148)).cacheKey() == first.cacheKey()
    assert cache.image(path, QSize(72, 48)).size() == QSize(72, 36)
    picture("p.png", 0x993333)
    os.utime(path, ns=(1, 1))  # a rewritten preview is read again
    changed = cache.image(path, QSize(148, 148))
    assert changed.cacheKey() != first.cacheKey() and changed.pixelColor(5, 5).red() == 0x99
    assert cache.image(str(tmp_path / "gone.png"), QSize(148, 148)) is None
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    assert cache.image(str(tmp_path / "bad.png"), QSize(148, 148)) is None
    swatch = hit_icon(SimpleNamespace(preview=str(tmp_path / "gone.png"), modality="audio"))
    assert not swatch.isNull()  # the modality's colour instead

    # Filled ahead on a background thread, within the memory budget.
    paths = [picture(f"{i}.png", 0x102030 + i) for i in range(10)]
    one = first.sizeInBytes()
    small = Thumbnails(budget_bytes=4 * one)
    small.prefetch((p, QSize(148, 148)) for p in paths)
    small._thread.join(10)
    assert 1 <= len(small) <= 5 and small._bytes <= 4 * one
    small.prefetch((p, QSize(148, 148)) for p in paths[:2])  # a new library: the old one stops
    small.stop()
    assert small._thread is None


def test_a_quick_search_does_not_flash_the_status_bar_but_a_long_job_shows(window, qtbot,
                                                                           plant_world):
    import time

    path = sorted((plant_world / "library" / "photos").iterdir())[0]
    search_and_wait(qtbot, window.search_tab, lambda: drop_files(window.search_tab.query.drop,
                                                                 [path]))
    qtbot.wait(50)
    assert not window.job_bar.isVisible() and window.job_label.text() == ""
    window.ctx.run("waiting a while", lambda p, c: time.sleep(1.0))
    qtbot.waitUntil(window.job_bar.isVisible, timeout=3_000)
    assert window.job_label.text() == "waiting a while"
    qtbot.waitUntil(lambda: not window.job_bar.isVisible(), timeout=3_000)
