"""What every tab shares: the job runner, the engine session, the settings, the notifications
and playback. The engine state is the session's (core/); the tabs only show it."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.session import Session
from desktop.jobs import JobRunner
from desktop.notifications import Notifications
from desktop.playback import Playback
from desktop.settings import Settings


@dataclass
class Context:
    runner: JobRunner
    session: Session
    settings: Settings
    notifications: Notifications
    playback: Playback
    # set by tests: a fake microphone (core.io.record's open_stream) and no countdown
    open_stream: object = None
    countdown: int = 3
    listeners: list = field(default_factory=list)  # called with SessionInfo when it changes

    def run(self, name: str, fn, **kwargs):
        return self.runner.submit(name, fn, **kwargs)

    def session_changed(self, info) -> None:
        for listener in self.listeners:
            listener(info)
