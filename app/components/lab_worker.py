"""A browser session's lab training processes (GAN lab, families lab): closed when the session ends, and a
clear notice when the server's cap on training processes (playground.toy.worker_limits) is reached.

The session-end hook is Streamlit's own: when a session's websocket closes (tab closed, connection lost),
Streamlit 1.67 clears the session's `st.cache_resource(scope="session")` entries and calls their
`on_release` (runtime/websocket_session_manager.py: disconnect_session -> clear_session_caches). The
session's entry here holds its workers (one per lab), so the release closes them. A session that reconnects
later finds its worker gone and the page starts a new one with the same settings.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground.toy.worker_limits import ENV_MAX_WORKERS, WorkerLimitError, idle_exit_s
from playground.workers import Worker


class _Held:
    """What ending a session releases: per lab, its worker and the page's own clean-up (e.g. its frame feed)."""

    def __init__(self) -> None:
        self.labs: dict[str, tuple[Worker, Callable[[], None] | None]] = {}

    def release(self) -> None:
        for worker, on_end in self.labs.values():
            worker.close(wait=False)          # runs on the server's event loop: must not block
            if on_end is not None:
                on_end()


def _release(held: _Held) -> None:
    held.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _held() -> _Held:
    return _Held()


def hold(worker: Worker, on_end: Callable[[], None] | None = None, lab: str = "gan_lab") -> None:
    """Tie `worker` to the current browser session as its `lab`'s: it is closed (and `on_end` called) when the
    session ends. A session keeps one worker per lab; holding a new one for a lab lets go of the old."""
    _held().labs[lab] = (worker, on_end)


def worker_limit_notice(error: WorkerLimitError, keep: tuple[str, ...] = (), page: str = "GAN lab",
                        retry_key: str = "toy_worker_retry") -> None:
    """Say that every training slot is taken and how to get one, with a Try again button, then end this run.
    The sidebar's settings stay in the session; `keep` names widget keys not drawn yet that must survive."""
    for key in keep:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]   # a widget not drawn this run would lose its value
    minutes = idle_exit_s() / 60
    st.warning(f"**All {error.cap} training slots of this server are in use.** Each open {page} "
               f"tab holds one. Close a {page} tab you no longer need, or wait: a slot frees itself when its tab "
               f"closes or after {minutes:.0f} min without use. Then press **Try again**; your settings are kept.",
               icon=":material/hourglass_top:")
    st.button("Try again", key=retry_key, type="primary", icon=":material/refresh:")
    st.caption(f"Hosting for a group? The {ENV_MAX_WORKERS} environment variable sets the number of slots.")
    st.stop()
