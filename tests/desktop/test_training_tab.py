"""The Training tab runs a tiny continual step (CMCL) to the end: live plots, the evaluation
table, the new version saved, and one click moves the library into it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_a_tiny_continual_step_runs_with_live_plots_and_switches_pack(window, qtbot):
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.kind.setCurrentIndex(tab.kind.findData("cmcl-demo"))
    tab.epochs.setValue(3)
    states = []
    window.ctx.runner.progressed.connect(lambda job, p: states.append(tab.state.text()))
    with qtbot.waitSignal(tab.finished, timeout=240_000) as done:
        tab.start.click()
        assert not tab.start.isEnabled() and tab.cancel.isEnabled()
    result = done.args[0]
    assert [x for x, _ in tab.loss_plot.series["loss"]] == [1, 2, 3]
    r1 = [y for _, y in tab.score_plot.series["held-out pairs"]]
    assert len(r1) == 3 and all(0 <= y <= 1 for y in r1)
    assert r1[-1] == pytest.approx(result.after["R@1"], abs=1e-6)
    assert any("left" in s for s in states)  # a time estimate was shown
    rows = tab.evaluation_rows(result)
    assert tab.table.rowCount() == len(rows) > 0
    own = [row for row in rows if row[0].startswith("pack's own: ")]
    assert [name for name, _, _ in own] == [
        f"pack's own: {k.removeprefix('pack ').replace('-', ' ↔ ')}" for k in result.pack_before]
    assert len(own) >= 3 and all(abs(before - after) < 0.1 for _, before, after in own)
    assert tab.table.horizontalHeaderItem(1).text() == "demo@1"
    assert tab.table.horizontalHeaderItem(2).text() == result.pack.ref == "demo@2"
    assert result.after["R@1"] > result.before["R@1"]  # the notes were learned
    assert tab.use.isEnabled()
    tab.use.click()
    qtbot.waitUntil(lambda: window.pack_label.text() == "Pack demo@2", timeout=60_000)
    assert window.library_label.text().endswith("180 items")


def test_pause_holds_a_job_and_cancel_leaves_nothing(window, qtbot):
    from core.packs.store import find_packs

    tab = window.training_tab
    tab.kind.setCurrentIndex(tab.kind.findData("cmcl-demo"))
    tab.epochs.setValue(200)
    paused = []

    def on_progress(job, p):
        if p.metrics and not paused:
            tab.pause.click()  # at the end of the first epoch
            paused.append(p.metrics["epoch"])

    window.ctx.runner.progressed.connect(on_progress)
    tab.start.click()
    qtbot.waitUntil(lambda: bool(paused), timeout=240_000)
    assert tab.pause.text() == "Resume" and "(paused)" in tab.state.text()
    epochs = len(tab.loss_plot.series["loss"])
    qtbot.wait(1500)
    assert len(tab.loss_plot.series["loss"]) == epochs  # nothing moved while paused
    tab.cancel.click()
    qtbot.waitUntil(lambda: tab.start.isEnabled(), timeout=30_000)
    assert "Cancelled" in tab.state.text()
    assert "demo@2" not in {f.pack.ref for f in find_packs() if f.pack is not None}


def test_a_tiny_exmcr_alignment_plots_each_leaf_and_tables_every_pair(window, qtbot):
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.kind.setCurrentIndex(tab.kind.findData("align"))
    assert tab.per_concept.isEnabled() and not tab.lambda_min.isEnabled()
    assert tab.epochs.value() == 20  # the alignment's default
    tab.per_concept.setValue(2)
    tab.epochs.setValue(3)
    with qtbot.waitSignal(tab.finished, timeout=300_000) as done:
        tab.start.click()
    result = done.args[0]
    for leaf in ("audio", "3d"):  # one curve per leaf's head, every epoch
        assert [x for x, _ in tab.loss_plot.series[leaf]] == [1, 2, 3]
        assert [y for _, y in tab.loss_plot.series[leaf]] == pytest.approx(result.losses[leaf])
        assert all(0 <= y <= 1 for _, y in tab.score_plot.series[leaf])
    assert tab.table.rowCount() == len(result.table) == 8
    assert tab.table.item(1, 0).text() == "audio → image"
    assert float(tab.table.item(1, 2).text()) == pytest.approx(result.table[1][2], abs=5e-4)
    assert tab.table.horizontalHeaderItem(1).text() == "demo@1"
    assert tab.table.horizontalHeaderItem(2).text() == result.pack.ref == "demo@2"
    assert tab.use.isEnabled() and tab.use.text() == "Use demo@2 now"
