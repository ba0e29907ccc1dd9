"""A browser session's GAN-lab training process: closed when the session ends, and a clear notice when the
server's cap on training processes (playground.toy.worker_limits) is reached.

The session-end hook is Streamlit's own: when a session's websocket closes (tab closed, connection lost),
Streamlit 1.67 clears the session's `st.cache_resource(scope="session")` entries and calls their
`on_release` (runtime/websocket_session_manager.py: disconnect_session -> clear_session_caches). The
session's entry here holds its worker, so the release closes it. A session that reconnects later finds its
worker gone and the page starts a new one with the same settings.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground.toy.worker import LabWorker
from playground.toy.worker_limits import ENV_MAX_WORKERS, WorkerLimitError, idle_exit_s


class _Held:
    """What ending a session releases: its worker and the page's own clean-up (e.g. its frame feed)."""

    def __init__(self) -> None:
        self.worker: LabWorker | None = None
        self.on_end: Callable[[], None] | None = None

    def release(self) -> None:
        if self.worker is not None:
            self.worker.close(wait=False)     # runs on the server's event loop: must not block
        if self.on_end is not None:
            self.on_end()


def _release(held: _Held) -> None:
    held.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _held() -> _Held:
    return _Held()


def hold(worker: LabWorker, on_end: Callable[[], None] | None = None) -> None:
    """Tie `worker` to the current browser session: it is closed (and `on_end` called) when the session ends."""
    held = _held()
    held.worker, held.on_end = worker, on_end


def worker_limit_notice(error: WorkerLimitError, keep: tuple[str, ...] = ()) -> None:
    """Say that every training slot is taken and how to get one, with a Try again button, then end this run.
    The sidebar's settings stay in the session; `keep` names widget keys not drawn yet that must survive."""
    for key in keep:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]   # a widget not drawn this run would lose its value
    minutes = idle_exit_s() / 60
    st.warning(f"**All {error.cap} training slots of this server are in use.** Each open GAN lab "
               "tab holds one. Close a GAN lab tab you no longer need, or wait: a slot frees itself when its tab "
               f"closes or after {minutes:.0f} min without use. Then press **Try again**; your settings are kept.",
               icon=":material/hourglass_top:")
    st.button("Try again", key="toy_worker_retry", type="primary", icon=":material/refresh:")
    st.caption(f"Hosting for a group? The {ENV_MAX_WORKERS} environment variable sets the number of slots.")
    st.stop()
