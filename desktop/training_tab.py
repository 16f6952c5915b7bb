"""The Training tab: re-run the Ex-MCR alignment of the demo pack's leaves (audio, 3D) into its
base space, or run a continual extension step (CMCL) on the demo plant's inspection notes or on
the user's own pairs; watch loss and held-out retrieval per epoch, pause or cancel, read the
evaluation against the previous version at the end, and switch to the new version."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.progress import Progress
from desktop.context import Context
from desktop.widgets.line_plot import LinePlot

JOBS = {
    "align": "Ex-MCR alignment: audio and 3D into the image-text space (demo world)",
    "cmcl-demo": "Continual step, CMCL: the plant's inspection notes with photos (demo)",
    "cmcl-mine": "Continual step, CMCL: my pairs (a CSV or a folder by concept)",
}


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class TrainingTab(QWidget):
    finished = Signal(object)  # the job's result (AlignResult or ExtendResult)
    DEFAULT_EPOCHS = {"align": 20, "cmcl-demo": 10, "cmcl-mine": 10}

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job = None
        self.result = None
        self._stage_started = (None, 0.0)
        layout = QHBoxLayout(self)

        left = QVBoxLayout()
        setup = QGroupBox("What to train")
        form = QFormLayout(setup)
        self.kind = QComboBox()
        self.kind.setObjectName("training-kind")
        for key, label in JOBS.items():
            self.kind.addItem(label, key)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.source = QLineEdit()
        self.source.setPlaceholderText("pairs.csv, or a folder with one subfolder per concept")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_source)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(browse)
        self.source_widgets = (self.source, browse)
        self.epochs = QSpinBox()
        self.epochs.setObjectName("training-epochs")
        self.epochs.setRange(1, 500)
        self.per_concept = QSpinBox()
        self.per_concept.setObjectName("training-per-concept")
        self.per_concept.setRange(1, 40)
        self.per_concept.setValue(6)
        self.per_concept.setToolTip("Unpaired images, sounds, scans and captions per concept in "
                                    "the pools the pseudo-pairs are aggregated from")
        self.lambda_min = QDoubleSpinBox()
        self.lambda_min.setDecimals(6)
        self.lambda_min.setRange(1e-6, 1e-2)
        self.lambda_min.setSingleStep(1e-5)
        self.lambda_min.setValue(3e-5)
        self.lambda_min.setToolTip("Directions of earlier steps' features with more energy "
                                   "than this are protected")
        form.addRow("Job", self.kind)
        form.addRow("Pairs", source_row)
        form.addRow("Pool items per concept", self.per_concept)
        form.addRow("Epochs", self.epochs)
        form.addRow("Protection threshold λ_min", self.lambda_min)
        left.addWidget(setup)

        buttons = QHBoxLayout()
        self.start = QPushButton("Start")
        self.start.setObjectName("training-start")
        self.pause = QPushButton("Pause")
        self.pause.setObjectName("training-pause")
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("training-cancel")
        self.start.clicked.connect(self.start_job)
        self.pause.clicked.connect(self.toggle_pause)
        self.cancel.clicked.connect(self.cancel_job)
        for button in (self.start, self.pause, self.cancel):
            buttons.addWidget(button)
        left.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setObjectName("training-progress")
        self.state = QLabel("Choose a job and press Start.")
        self.state.setObjectName("training-state")
        self.state.setWordWrap(True)
        left.addWidget(self.progress)
        left.addWidget(self.state)

        results = QGroupBox("Evaluation against the previous version")
        results_layout = QVBoxLayout(results)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("training-table")
        self.table.setHorizontalHeaderLabels(["Held-out R@1", "Before", "After"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.use = QPushButton("Use the new version")
        self.use.setObjectName("training-use")
        self.use.setEnabled(False)
        self.use.clicked.connect(self.use_new_version)
        results_layout.addWidget(self.table)
        results_layout.addWidget(self.use)
        left.addWidget(results, 1)

        plots = QVBoxLayout()
        self.loss_plot = LinePlot("Training loss per epoch")
        self.score_plot = LinePlot("Held-out retrieval (R@1) per epoch")
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.score_plot)
        layout.addLayout(left, 2)
        layout.addLayout(plots, 3)
        self._kind_changed()
        self._running(False)

    # ------------------------------------------------------------------ set-up
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        for widget in self.source_widgets:
            widget.setEnabled(kind == "cmcl-mine")
        self.per_concept.setEnabled(kind == "align")
        self.lambda_min.setEnabled(kind != "align")
        self.epochs.setValue(self.DEFAULT_EPOCHS[kind])

    def _choose_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pairs for a continual step", "",
                                              "Pairs (*.csv);;All files (*)")
        if path:
            self.source.setText(path)

    # ------------------------------------------------------------------ running
    def start_job(self) -> None:
        kind = self.kind.currentData()
        if kind == "cmcl-mine" and not self.source.text().strip():
            self.ctx.notifications.notify("warning", "Choose the pairs first: a CSV of two "
                                                     "columns, or a folder by concept.")
            return
        self.loss_plot.clear()
        self.score_plot.clear()
        self.table.setRowCount(0)
        self.use.setEnabled(False)
        self.result = None
        fn = self._align_job() if kind == "align" else self._cmcl_job(kind)
        self._running(True)
        self.state.setText("Starting…")
        self.job = self.ctx.run(JOBS[kind].split(":")[0].lower(), fn, on_done=self._done,
                                on_error=self._failed, on_progress=self._progress)

    def _align_job(self):
        from core.training.align import align_demo

        per_concept, epochs = self.per_concept.value(), self.epochs.value()
        return lambda progress, cancel: align_demo(per_concept=per_concept, epochs=epochs,
                                                   progress=progress, cancel=cancel)

    def _cmcl_job(self, kind: str):
        from core.continual.extend import extend
        from core.continual.train import StepSettings
        from core.packs.store import resolve_pack
        from core.paths import data_dir
        from core.training.demo_pairs import write_demo_note_pairs

        settings = StepSettings(epochs=self.epochs.value(), lambda_min=self.lambda_min.value())
        source = self.source.text().strip()
        session = self.ctx.session

        def job(progress, cancel):
            pairs = source
            if kind == "cmcl-demo":
                pairs = write_demo_note_pairs(data_dir() / "training" / "notes-pairs.csv",
                                              progress=progress, cancel=cancel)
            return extend(resolve_pack(session.info().pack), pairs, settings=settings,
                          library=session.library, progress=progress, cancel=cancel)

        return job

    def _progress(self, p: Progress) -> None:
        if p.metrics:
            epoch = p.metrics.get("epoch")
            name = str(p.metrics.get("leaf", "")) or "loss"
            if epoch is not None and "loss" in p.metrics:
                self.loss_plot.add(name, epoch, p.metrics["loss"])
            if epoch is not None and "held_out_r1" in p.metrics:
                self.score_plot.add(name if name != "loss" else "held-out pairs", epoch,
                                    p.metrics["held_out_r1"])
            return
        now = time.monotonic()
        if self._stage_started[0] != p.stage:
            self._stage_started = (p.stage, now)
        paused = " (paused)" if self.job is not None and self.job.token.paused else ""
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
            elapsed = now - self._stage_started[1]
            left = ""
            if p.done and elapsed > 1:
                left = f" · about {format_seconds(elapsed * (p.total - p.done) / p.done)} left"
            self.state.setText(f"{p.stage}: {p.done}/{p.total}{left}{paused}")
        else:
            self.progress.setRange(0, 0)
            self.state.setText(f"{p.stage}…{paused}")

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.job.token.paused:
            self.job.token.resume()
            self.pause.setText("Pause")
            self.state.setText(self.state.text().replace(" (paused)", ""))
        else:
            self.job.token.pause()
            self.pause.setText("Resume")
            self.state.setText(self.state.text() + " (paused)")

    def cancel_job(self) -> None:
        if self.job is not None:
            self.ctx.runner.cancel(self.job)
            self.state.setText("Cancelling…")

    def _running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.pause.setEnabled(running)
        self.cancel.setEnabled(running)
        self.kind.setEnabled(not running)
        self.pause.setText("Pause")
        if not running:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

    def _failed(self, err, details) -> None:
        from core.errors import Cancelled

        self.job = None
        self._running(False)
        if isinstance(err, Cancelled):
            self.state.setText("Cancelled; nothing was written.")
        else:
            self.state.setText("Stopped by an error (see the notification).")
            self.ctx.notifications.error(err, details)

    # ------------------------------------------------------------------ the result
    def _done(self, result) -> None:
        self.job = None
        self._running(False)
        self.progress.setValue(self.progress.maximum())
        self.result = result
        rows = self.evaluation_rows(result)
        self.table.setRowCount(len(rows))
        for r, (name, before, after) in enumerate(rows):
            for c, value in enumerate((name, f"{before:.3f}", f"{after:.3f}")):
                self.table.setItem(r, c, QTableWidgetItem(value))
        parent = getattr(result, "previous", None) or getattr(result, "parent", "")
        self.table.setHorizontalHeaderLabels(["Held-out R@1", parent, result.pack.ref])
        self.table.resizeColumnsToContents()
        self.use.setText(f"Use {result.pack.ref} now")
        self.use.setEnabled(True)
        self.state.setText(f"Done in {format_seconds(result.seconds)}: {result.pack.ref} "
                           f"saved next to {parent}.")
        self.ctx.notifications.notify("success", f"Training finished: {result.pack.ref} is "
                                                 "saved. Press “Use” to switch to it.")
        self.finished.emit(result)

    @staticmethod
    def evaluation_rows(result) -> list[tuple[str, float, float]]:
        """The alignment's table (each pair, both directions), or for a continual step R@1 of
        the new pairs (both directions and their mean) and of the pack's own pairs (the demo
        pack: what it could do before, which the step must keep)."""
        if hasattr(result, "table"):  # an AlignResult
            return [(pair.replace("->", " → "), before, after)
                    for pair, before, after in result.table]

        new = [(f"new pairs: {k.replace(' R@1', '') if k != 'R@1' else 'mean'}",
                result.before[k], result.after[k])
               for k in result.before if k.endswith("R@1") and k in result.after]
        own = [(f"pack's own: {k.removeprefix('pack ').replace('-', ' ↔ ')}",
                result.pack_before[k], result.pack_after[k])
               for k in result.pack_before if k in result.pack_after]
        return new + own

    def use_new_version(self) -> None:
        if self.result is None:
            return
        ref = self.result.pack.ref
        self.use.setEnabled(False)

        def done(info) -> None:
            self.ctx.session_changed(info)
            self.ctx.notifications.notify("success", f"Now using {ref}; the library was "
                                                     "moved into its space.")

        self.ctx.run(f"switching to {ref}", lambda p, c: self.ctx.session.use_pack(ref, p, c),
                     on_done=done)
