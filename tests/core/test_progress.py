import io

import pytest

from core.errors import Cancelled
from core.progress import CancelToken, Progress, Tracker, console_progress


def test_tracker_reports_stages_and_counts():
    seen: list[Progress] = []
    tracker = Tracker(seen.append)
    tracker.start("decoding", 3)
    tracker.advance()
    tracker.advance(2, "last")
    assert [(p.stage, p.done, p.total) for p in seen] == [
        ("decoding", 0, 3), ("decoding", 1, 3), ("decoding", 3, 3)]
    assert seen[-1].fraction == 1.0 and seen[-1].message == "last"


def test_tracker_raises_cancelled_once_the_token_is_set():
    token = CancelToken()
    tracker = Tracker(cancel=token.is_set)
    tracker.start("encoding", 10)
    tracker.advance()
    token.set()
    with pytest.raises(Cancelled, match="encoding"):
        tracker.advance()


def test_unknown_total_has_no_fraction():
    assert Progress("scan", 5, None).fraction is None


def test_console_progress_prints_every_tenth_when_not_a_terminal():
    out = io.StringIO()
    tracker = Tracker(console_progress(out, min_interval=0))
    tracker.start("files", 100)
    for _ in range(100):
        tracker.advance()
    tracker.start("manifest")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("files") and "0/100" in lines[0]
    assert [line.split()[-1] for line in lines[1:11]] == [f"{10 * i}/100" for i in range(1, 11)]
    assert "#" * 30 in lines[10]
    assert lines[11] == "manifest..."


def test_a_paused_token_holds_the_job_until_resumed_or_cancelled():
    import threading
    import time

    token = CancelToken()
    tracker = Tracker(cancel=token.is_set)
    token.pause()
    assert token.paused
    finished = threading.Event()

    def job():
        tracker.start("work", 2)
        tracker.advance()
        finished.set()

    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(0.3)
    assert not finished.is_set()  # held at its first poll
    token.resume()
    thread.join(2)
    assert finished.is_set() and not token.paused

    token.pause()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_raises_cancelled(tracker)))
    thread.start()
    time.sleep(0.2)
    token.set()  # cancelling a paused job wakes it to stop
    thread.join(2)
    assert seen == [True]


def _raises_cancelled(tracker) -> bool:
    from core.errors import Cancelled

    try:
        tracker.advance()
    except Cancelled:
        return True
    return False


def test_report_sends_metrics_with_the_current_progress():
    seen = []
    tracker = Tracker(progress=seen.append)
    tracker.start("training", 10)
    tracker.advance(5)
    tracker.report({"epoch": 1, "loss": 0.5}, "epoch 1")
    assert seen[-1] == Progress("training", 5, 10, "epoch 1", {"epoch": 1, "loss": 0.5})
    assert seen[0].metrics is None
