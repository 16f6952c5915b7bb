import pytest

pytestmark = pytest.mark.gui


def test_window_opens_and_says_no_pack_is_installed(qtbot):
    from PySide6.QtWidgets import QLabel

    from desktop.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "MCR Studio"
    assert window.statusBar().currentMessage() == "No model pack installed"
    message = window.findChild(QLabel, "status-message").text()
    assert "No model pack is installed" in message and "packs" in message


def test_window_lists_an_installed_pack(qtbot, tmp_path, monkeypatch):
    from desktop.main_window import MainWindow

    monkeypatch.setenv("MCR_STUDIO_HOME", str(tmp_path))
    (tmp_path / "packs" / "demo-1").mkdir(parents=True)
    (tmp_path / "packs" / "demo-1" / "manifest.json").write_text("{}")
    window = MainWindow()
    qtbot.addWidget(window)
    assert "demo-1" in window.statusBar().currentMessage()
