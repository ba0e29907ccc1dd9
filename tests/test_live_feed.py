"""The live-figure frame feed: producers by token, strict JSON, errors as frames, the Starlette route."""

import asyncio
import json
import math
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from app.components.live_figure import feed


class Client:
    """A minimal in-process HTTP GET against an ASGI app (starlette's TestClient needs httpx)."""

    def __init__(self, app):
        self.app = app

    def get(self, url: str):
        path, _, query = url.partition("?")
        scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": query.encode(), "headers": [], "scheme": "http", "server": ("test", 80),
                 "client": ("test", 1), "http_version": "1.1", "asgi": {"version": "3.0"}}
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return SimpleNamespace(status_code=start["status"], headers=headers, json=lambda: json.loads(body))


@pytest.fixture
def client():
    return Client(Starlette(routes=[Route(feed.ROUTE, feed.endpoint)]))


def test_route_serves_the_registered_producer_with_its_query(client):
    token = feed.new_token()
    seen = []
    feed.register(token, lambda q: seen.append(q) or {"step": len(seen), "playing": True})
    try:
        r = client.get(feed.url_for(token) + "?curves=1")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        assert r.json() == {"step": 1, "playing": True} and seen == [{"curves": "1"}]
        assert client.get(feed.url_for(token)).json()["step"] == 2
    finally:
        feed.unregister(token)
    assert client.get(feed.url_for(token)).status_code == 404        # gone once unregistered


def test_unknown_tokens_are_404_and_tokens_are_unguessable(client):
    assert client.get(feed.url_for("nope")).status_code == 404
    a, b = feed.new_token(), feed.new_token()
    assert a != b and len(a) >= 20


def test_non_finite_numbers_become_null_so_the_browser_can_parse_them():
    text = feed.dumps({"x": [1.0, math.nan, math.inf], "y": {"z": -math.inf}, "s": "NaN stays a string"})
    assert json.loads(text) == {"x": [1.0, None, None], "y": {"z": None}, "s": "NaN stays a string"}
    assert "NaN" not in text.replace("NaN stays", "")


def test_a_failing_producer_gives_an_error_frame_that_stops_playing(client):
    token = feed.new_token()

    def boom(q):
        raise RuntimeError("worker died")

    feed.register(token, boom)
    try:
        frame = client.get(feed.url_for(token)).json()
        assert frame == {"error": "RuntimeError: worker died", "playing": False}
    finally:
        feed.unregister(token)


def test_idle_producers_are_forgotten(monkeypatch):
    token = feed.new_token()
    feed.register(token, lambda q: {})
    clock = [feed.time.monotonic() + feed.IDLE_FORGET_S + 1]
    monkeypatch.setattr(feed.time, "monotonic", lambda: clock[0])
    feed.register(feed.new_token(), lambda q: {})        # registering sweeps the idle ones
    assert feed.produce(token, {}) is None


def test_a_gan_lab_frame_is_strict_json_with_figures_and_the_metric_row():
    from playground.toy.config import ToyConfig
    from playground.toy.lab import LabSession
    from playground.toy.plots import live_frame

    lab = LabSession(ToyConfig(seed=1))
    lab.advance(0.05)
    snap = lab.snapshot()
    frame = json.loads(feed.dumps(live_frame(snap, curves=False)))
    assert set(frame["figures"]) == {"field"}                     # curves only when asked for
    assert frame["step"] == snap["step"] > 0 and frame["playing"] is False and frame["error"] is None
    header = {label: value for label, value, _ in frame["header"]}
    m = snap["metrics"][-1]
    assert header["step"] == f"{snap['step']:,}"
    assert header["modes covered"] == f"{m['modes_covered']} / 8"
    assert header["high quality"] == f"{m['high_quality_frac']:.1%}"
    assert set(json.loads(feed.dumps(live_frame(snap)))["figures"]) == {"field", "losses", "metrics"}
