import pytest

pytestmark = pytest.mark.gui


def test_window_opens_and_says_no_pack_is_installed(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QLabel

    import core.packs.store
    from desktop.main_window import MainWindow

    monkeypatch.setattr(core.packs.store, "pack_roots", lambda: [tmp_path / "packs"])

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "MCR Studio"
    assert window.statusBar().currentMessage() == "No model pack installed"
    message = window.findChild(QLabel, "status-message").text()
    assert "No model pack is installed" in message and "packs" in message


def test_window_shows_the_shipped_demo_pack_by_default(qtbot):
    from PySide6.QtWidgets import QLabel

    from desktop.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.statusBar().currentMessage() == "Pack demo@1"
    message = window.findChild(QLabel, "status-message").text()
    assert "sounds" in message and "3D scans" in message and "demo@0" in message


def test_an_unreadable_pack_is_named_with_its_problem(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QLabel

    import core.packs.store
    from desktop.main_window import MainWindow

    monkeypatch.setattr(core.packs.store, "pack_roots", lambda: [tmp_path / "packs"])
    (tmp_path / "packs" / "demo-9").mkdir(parents=True)
    (tmp_path / "packs" / "demo-9" / "manifest.json").write_text("{}")
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.statusBar().currentMessage() == "No model pack installed"
    assert "demo-9" in window.findChild(QLabel, "status-message").text()
