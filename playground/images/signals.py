"""SIGTERM and Ctrl-C ask a training to stop gracefully (finish the step, checkpoint, end `stopped`)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopFlag:
    """Set by a signal; read by the loop between steps."""

    def __init__(self) -> None:
        self.raised = False

    def _on_signal(self, signum, frame) -> None:
        self.raised = True


@contextmanager
def stop_on_signals(enabled: bool = True) -> Iterator[StopFlag]:
    """While inside, SIGTERM/SIGINT set the flag instead of killing the process (main thread only: signal
    handlers cannot be installed elsewhere, e.g. in a page's script thread); the old handlers come back after."""
    flag = StopFlag()
    previous = {}
    if enabled and threading.current_thread() is threading.main_thread():
        for s in (signal.SIGTERM, signal.SIGINT):
            try:
                previous[s] = signal.signal(s, flag._on_signal)
            except (ValueError, OSError):
                pass
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
