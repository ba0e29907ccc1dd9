"""VAE lab: latency from moving a latent slider to the new decoded image on screen, in a real browser
(target: within 150 ms on a 2-core CPU machine).

    .venv/bin/python bench/vae_slider.py [--moves 30] [--model digits-2d] [--decode browser|server] [--json]

Starts the real server (the whole app, app/headless.py) and headless Chromium, opens the VAE lab,
waits until the first script run is over, focuses the first latent slider and presses the arrow keys. For
each press the page itself measures, with performance.now(), from the keydown event to the first animation
frame after the decoded image has changed: the canvas that the page's in-browser decoder draws (default), or
with --decode server the <img> the server sends, once its new source has decoded. It also records when the
browser sent the slider's value on the websocket and when the server's messages for that rerun arrived.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys

from app.headless import app_server, browser_page
from playground.machine import cpu_model

# Installed before the app's own scripts: timestamps of websocket traffic (Streamlit's one socket).
WS_HOOK = """
(() => {
  window.__ws = {sent: [], recv: []};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) { window.__ws.sent.push(performance.now()); return send.call(this, d); };
  const Orig = window.WebSocket;
  window.WebSocket = function (...a) {
    const s = new Orig(...a);
    s.addEventListener('message', () => window.__ws.recv.push(performance.now()));
    return s;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""

# Arms one measurement: on the next keydown, starts the clock; resolves once the decoded image has changed
# (the live canvas's data-z, or the server-sent <img>'s src once decoded) and the browser has reached the next
# animation frame, i.e. the new pixels are painted.
ARM = """
() => { window.__move = new Promise((resolve) => {
  const canvas = () => document.querySelector("canvas.vae-live-canvas");
  const img0 = () => document.querySelector("[data-testid='stImage'] img");
  const state = () => canvas() ? "c:" + canvas().dataset.z : (img0() ? img0().src : null);
  const old = state();
  let t0 = null, done = false;
  document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
  const finish = () => {
    if (done) return; done = true; obs.disconnect();
    const tch = performance.now();
    const ready = canvas() ? Promise.resolve() : img0().decode().catch(() => {});
    ready.then(() => requestAnimationFrame(() => {
      resolve({t0, total: performance.now() - t0, changed: tch - t0, path: canvas() ? "browser" : "server",
               bytes: canvas() ? 0 : img0().src.length});
    }));
  };
  const check = () => { if (t0 !== null && state() !== old) finish(); };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src', 'data-z']});
  setTimeout(() => { if (!done) { done = true; obs.disconnect(); resolve({total: -1}); } }, 10000);
}); }
"""

# After the app is idle again: when the browser sent the slider's value and when the server's rerun messages
# (the fragment's sliders, and in the server path the image) arrived, relative to the keydown.
WS_SINCE = """
(t0) => { const sent = window.__ws.sent.filter((t) => t >= t0), recv = window.__ws.recv.filter((t) => t >= t0);
  return {sent: sent.length ? sent[0] - t0 : null, first_recv: recv.length ? recv[0] - t0 : null,
          last_recv: recv.length ? recv[recv.length - 1] - t0 : null, messages: recv.length}; }
"""


def wait_idle(page, quiet_ms: int = 1000, timeout_ms: int = 180000) -> None:
    """Until the app has not been running a script for quiet_ms (the first run loads torch, the model and the
    test set; a key pressed before it ends waits for it)."""
    page.wait_for_function(
        """(quiet) => { const s = document.querySelector("[data-testid='stApp']")?.dataset.testScriptState;
          const now = performance.now();
          if (s !== 'notRunning') { window.__busyAt = now; return false; }
          return now - (window.__busyAt ?? 0) > quiet; }""", arg=quiet_ms, timeout=timeout_ms, polling=100)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def measure(moves: int, model: str, view: str = "Manifold", decode: str = "browser", warmup: int = 4,
            pause_ms: int = 200) -> dict:
    with app_server() as url, browser_page() as page:
        page.add_init_script(WS_HOOK)
        page.goto(f"{url}/vae_lab?model={model}" + ("&decode=server" if decode == "server" else ""))
        thumb = page.get_by_role("slider").first
        thumb.wait_for(timeout=90000)
        wait_idle(page)
        if view != "Manifold":   # the view drawn below the sliders (the manifold is the default)
            page.locator("[data-testid='stRadio'] label").filter(has_text=view).click()
            page.wait_for_timeout(500)
            wait_idle(page)
        thumb.focus()
        rows = []
        for i in range(warmup + moves):
            page.evaluate(ARM)
            # Two steps right, two left: the image changes on every press and the code stays near 0.
            page.keyboard.press("ArrowRight" if (i // 2) % 2 == 0 else "ArrowLeft")
            r = page.evaluate("window.__move")
            wait_idle(page, quiet_ms=pause_ms)   # the next move starts on an idle app
            if r["total"] > 0:
                r.update(page.evaluate(WS_SINCE, r["t0"]))
            if i >= warmup:
                rows.append(r)
        errors = page.locator("[data-testid='stException']").count()
    ok = [r for r in rows if r["total"] > 0]
    tot = [r["total"] for r in ok]

    def med(key):
        vals = [r[key] for r in ok if r.get(key) is not None]
        return round(statistics.median(vals), 1) if vals else None

    return {"moves": len(rows), "missed": len(rows) - len(ok), "exceptions": errors,
            "median_ms": round(statistics.median(tot), 1) if tot else None,
            "p90_ms": round(percentile(tot, 0.9), 1) if tot else None,
            "min_ms": round(min(tot), 1) if tot else None, "max_ms": round(max(tot), 1) if tot else None,
            "median_key_to_send_ms": med("sent"), "median_key_to_first_reply_ms": med("first_recv"),
            "median_key_to_last_reply_ms": med("last_recv"),
            "median_key_to_image_changed_ms": med("changed"), "median_messages": med("messages"),
            "path": ok[-1]["path"] if ok else None, "image_src_chars": ok[-1]["bytes"] if ok else None,
            "all_ms": [round(v) for v in tot]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--model", default="digits-2d", help="a shipped model's name (pretrained/vae/NAME.json)")
    ap.add_argument("--view", default="Manifold", help="the view drawn below the sliders")
    ap.add_argument("--decode", choices=["browser", "server"], default="browser",
                    help="browser: the page's in-browser decoder (default); server: ?decode=server, the fallback "
                         "that decodes in Python and sends a PNG")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    res = measure(args.moves, args.model, args.view, args.decode)
    cpu = cpu_model()
    result = {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(), "model": args.model,
              "view": args.view, "decode": args.decode,
              "load_1min_before": round(load_before, 2), "load_1min_after": round(os.getloadavg()[0], 2), **res}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")
    return 0 if res["missed"] == 0 and res["exceptions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
