"""A frame feed for live figures: the browser fetches new frames over plain HTTP instead of a script rerun.

A fragment rerun per frame costs Streamlit's whole round trip (rerun request, script run, deltas, React
render of every element in the fragment) on top of the figure itself; on a 2-core machine that capped the
GAN lab near 3 frames per second. With the feed, a page registers a producer under an unguessable token and
the component's JS pulls frames from `/_playground/feed/<token>` as fast as it can draw them.

`app/server.py` mounts `endpoint` as a Starlette route of `st.App` and sets `MOUNTED`; a page run without
it (AppTest, `streamlit run` on one page) sees `MOUNTED` False and falls back to fragment reruns.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from typing import Any, Callable

ROUTE = "/_playground/feed/{token}"
MOUNTED = False           # set by app/server.py when the route is mounted
IDLE_FORGET_S = 600.0     # a producer nobody has polled or registered for this long is dropped

Producer = Callable[[dict[str, str]], dict[str, Any]]
_lock = threading.Lock()
_producers: dict[str, tuple[Producer, float]] = {}


def new_token() -> str:
    return secrets.token_urlsafe(16)


def url_for(token: str) -> str:
    return ROUTE.replace("{token}", token)


def register(token: str, producer: Producer) -> None:
    """Serve `producer(query_params) -> frame` under `token` (replacing any earlier one)."""
    now = time.monotonic()
    with _lock:
        for t in [t for t, (_, seen) in _producers.items() if now - seen > IDLE_FORGET_S]:
            del _producers[t]
        _producers[token] = (producer, now)


def unregister(token: str) -> None:
    with _lock:
        _producers.pop(token, None)


def produce(token: str, params: dict[str, str]) -> dict[str, Any] | None:
    """One frame from the producer under `token`, or None when there is none."""
    with _lock:
        entry = _producers.get(token)
        if entry is None:
            return None
        _producers[token] = (entry[0], time.monotonic())
    try:
        return entry[0](params)
    except Exception as e:  # noqa: BLE001 - the browser shows it and stops polling; the page keeps working
        return {"error": f"{type(e).__name__}: {e}", "playing": False}


def _finite(obj: Any) -> Any:
    """`obj` with NaN and infinities as None (JSON has neither; Plotly reads null as a gap)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def dumps(frame: dict[str, Any]) -> str:
    """Compact, strictly valid JSON (the fast path when the frame has no non-finite numbers)."""
    try:
        return json.dumps(frame, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(frame), separators=(",", ":"), allow_nan=False)


async def endpoint(request):
    """Starlette route: the next frame as JSON (404 once the page has stopped serving this token)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    def build():
        t0 = time.perf_counter()
        frame = produce(request.path_params["token"], dict(request.query_params))
        t1 = time.perf_counter()
        body = None if frame is None else dumps(frame)
        return body, t1 - t0, time.perf_counter() - t1

    queued = time.perf_counter()
    body, t_produce, t_json = await run_in_threadpool(build)
    # Server-Timing lets the browser (and bench/live_page.py) see where a frame's time went.
    headers = {"Cache-Control": "no-store", "Server-Timing": f"produce;dur={t_produce * 1000:.1f}, "
               f"json;dur={t_json * 1000:.1f}, total;dur={(time.perf_counter() - queued) * 1000:.1f}"}
    if body is None:
        return Response('{"gone": true}', status_code=404, media_type="application/json", headers=headers)
    return Response(body, media_type="application/json", headers=headers)
