"""The main window: Search, Library and Training tabs, notifications above them, and a status
bar that always shows the running job, the device, the pack and the library's size.

The window opens at once; the library and the pack's models load on the worker thread right
after (the status bar says so), and anything asked for meanwhile waits in line behind it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.progress import Progress
from core.session import Session
from desktop.context import Context
from desktop.jobs import JobRunner
from desktop.library_tab import LibraryTab
from desktop.notifications import Notifications
from desktop.playback import Playback
from desktop.search.search_tab import SearchTab
from desktop.settings import Settings, SettingsDialog
from desktop.theme import apply_theme
from desktop.training_tab import TrainingTab

JOB_SHOWN_AFTER_MS = 400  # a job shows in the status bar once it has run this long


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, *, open_now: bool = True,
                 playback_backend=None) -> None:
        super().__init__()
        self.setWindowTitle("MCR Studio")
        self.resize(1180, 760)
        self.settings = settings or Settings.load()
        self.info = None
        runner = JobRunner(self)
        self.notifications = Notifications()
        self.ctx = Context(runner, self._new_session(), self.settings, self.notifications,
                           Playback(self, playback_backend))
        self.ctx.listeners.append(self.show_info)
        runner.error.connect(lambda job, err, details: self.notifications.error(err, details))
        runner.started.connect(self._job_started)
        runner.progressed.connect(self._job_progress)
        runner.ended.connect(self._job_ended)

        self.search_tab = SearchTab(self.ctx)
        self.library_tab = LibraryTab(self.ctx)
        self.training_tab = TrainingTab(self.ctx)
        self.library_tab.changed.connect(self.search_tab.library_changed)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.search_tab, "Search")
        self.tabs.addTab(self.library_tab, "Library")
        self.tabs.addTab(self.training_tab, "Training")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notifications)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._status_bar()
        self._menus()
        if open_now:
            QTimer.singleShot(0, self.open_session)

    # ------------------------------------------------------------------ session
    def _new_session(self) -> Session:
        return Session(self.settings.library or None, device=self.settings.device)

    def open_session(self) -> None:
        """Open the library and load the pack (the demo library is built the first time)."""
        self.loading.setText("Loading the library and the model pack…")
        self.search_tab.info.setText("Loading the model pack…")
        session, pack = self.ctx.session, self.settings.pack

        def job(progress, cancel):
            info = session.open(progress, cancel)
            if pack and pack != info.pack:
                info = session.use_pack(pack, progress, cancel)
            return info

        def failed(err, details) -> None:
            self.loading.setText("No library open")
            self.search_tab.info.setText("")
            self.notifications.error(err, details)

        self.ctx.run("opening the library", job, on_done=self._opened, on_error=failed)

    def _opened(self, info) -> None:
        self.ctx.session_changed(info)  # the status bar is one of the listeners
        self.search_tab.info.setText("Ready: drop a file, type, paste or record.")
        if info.repairs:
            self.notifications.notify("info", "The library was repaired on opening: "
                                              + "; ".join(info.repairs) + ".")
        if info.read_only:
            self.notifications.notify("warning", "Another MCR Studio process is changing this "
                                                 "library, so it is open for searching only.")
        self.library_tab.refresh()
        self.search_tab.library_changed()

    def show_info(self, info) -> None:
        self.info = info
        self.loading.setText("")
        self.device_label.setText(info.device)
        self.pack_label.setText(f"Pack {info.pack}")
        name = "demo library" if info.demo else info.library
        self.library_label.setText(f"{name}: {info.items} items")
        self.library_label.setToolTip(info.library)

    # ------------------------------------------------------------------ status bar
    def _status_bar(self) -> None:
        bar = self.statusBar()
        self.loading = QLabel("")
        self.loading.setObjectName("status-loading")
        self.job_label = QLabel("")
        self.job_label.setObjectName("status-job")
        self.job_bar = QProgressBar()
        self.job_bar.setMaximumWidth(160)
        self.job_bar.setMaximumHeight(14)
        self.job_cancel = QToolButton()
        self.job_cancel.setText("Cancel")
        self.job_cancel.clicked.connect(lambda: self.ctx.runner.cancel())
        self._job_shown = QTimer(self)
        self._job_shown.setSingleShot(True)  # a 10 ms search does not flash the status bar
        self._job_shown.setInterval(JOB_SHOWN_AFTER_MS)
        self._job_shown.timeout.connect(self._show_running_job)
        self._running_job = None
        self.device_label = QLabel("device: …")
        self.device_label.setObjectName("status-device")
        self.pack_label = QLabel("pack: …")
        self.pack_label.setObjectName("status-pack")
        self.library_label = QLabel("library: …")
        self.library_label.setObjectName("status-library")
        bar.addWidget(self.loading)
        bar.addWidget(self.job_label)
        bar.addWidget(self.job_bar)
        bar.addWidget(self.job_cancel)
        for label in (self.device_label, self.pack_label, self.library_label):
            bar.addPermanentWidget(label)
        self._show_job(None)

    def _show_job(self, name: str | None) -> None:
        for widget in (self.job_bar, self.job_cancel):
            widget.setVisible(name is not None)
        self.job_label.setText(name or "")

    def _job_started(self, job) -> None:
        self._running_job = job
        self.job_bar.setRange(0, 0)
        self._job_shown.start()

    def _show_running_job(self) -> None:
        if self._running_job is not None:
            self.job_label.setText(self._running_job.name)
            for widget in (self.job_bar, self.job_cancel):
                widget.setVisible(True)

    def _job_progress(self, job, p: Progress) -> None:
        if p.metrics:
            return
        if p.total:
            self.job_bar.setRange(0, p.total)
            self.job_bar.setValue(p.done)
        else:
            self.job_bar.setRange(0, 0)
        if not self._job_shown.isActive():
            self.job_label.setText(f"{job.name}: {p.stage}")
        if job.name == "opening the library":
            self.loading.setText(p.stage[:1].upper() + p.stage[1:] + "…")

    def _job_ended(self, job, how: str) -> None:
        self._running_job = None
        self._job_shown.stop()
        self._show_job(None)
        if how == "cancelled":
            self.notifications.notify("info", f"Cancelled: {job.name}.")

    # ------------------------------------------------------------------ menus
    def _menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self._action(menu, "Search with a file…", self.search_tab.open_file,
                     QKeySequence.StandardKey.Open)
        self._action(menu, "Add a folder to the library…", self.library_tab.choose_folder)
        menu.addSeparator()
        self._action(menu, "Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        menu.addSeparator()
        self._action(menu, "Quit", self.close, QKeySequence.StandardKey.Quit)
        view = self.menuBar().addMenu("&View")
        for n, label in enumerate(("Results as a grid", "Results as a list", "Library map")):
            self._action(view, label, lambda n=n: (self.tabs.setCurrentIndex(0),
                                                   self.search_tab.show_view(n)))
        helpmenu = self.menuBar().addMenu("&Help")
        self._action(helpmenu, "About MCR Studio", self.about)

    def _action(self, menu, text: str, slot, keys=None) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def about(self) -> None:
        QMessageBox.about(self, "About MCR Studio",
                          "<b>MCR Studio</b><br>Cross-modal search over photos, sounds, 3D "
                          "scans and text in one shared space (Ex-MCR, CMCL).<br><br>"
                          + (f"Pack {self.info.pack} · {self.info.device}" if self.info else ""))

    def open_settings(self) -> None:
        from core.packs.store import find_packs

        packs = sorted(f.pack.ref for f in find_packs() if f.pack is not None)
        dialog = SettingsDialog(self.settings, packs, self)
        dialog.setObjectName("settings-dialog")
        dialog.accepted.connect(lambda: self.apply_settings(dialog.values()))
        dialog.open()

    def apply_settings(self, new: Settings) -> None:
        old = self.settings
        reopen = (new.library, new.device) != (old.library, old.device)
        new.save()
        for name in vars(new):
            setattr(old, name, getattr(new, name))  # the tabs share this object
        apply_theme(QApplication.instance(), new.theme)
        if reopen:  # the old session closes on the worker, after what it is doing
            previous = self.ctx.session
            self.ctx.run("closing the library", lambda p, c: previous.close())
            self.ctx.session = self._new_session()
            self.open_session()
        elif new.pack and self.info is not None and new.pack != self.info.pack:
            self.ctx.run(f"switching to {new.pack}",
                         lambda p, c: self.ctx.session.use_pack(new.pack, p, c),
                         on_done=self.ctx.session_changed)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802
        self.ctx.playback.stop()
        self.ctx.runner.shutdown()
        self.ctx.session.close()
        super().closeEvent(event)
