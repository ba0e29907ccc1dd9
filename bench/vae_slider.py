"""VAE lab: latency from moving a latent slider to the new decoded image on screen, in a real browser
(target: within 150 ms on a 2-core CPU machine).

    .venv/bin/python bench/vae_slider.py [--moves 30] [--model digits-2d] [--json]

Starts the real server (the whole app, tests/browser_harness.py) and headless Chromium, opens the VAE lab,
focuses the first latent slider and presses the arrow keys. For each press the page itself measures, with
performance.now(), from the keydown event to the first animation frame after the decoded image (the first
image on the page) has a new source that has finished decoding. It also records when the browser sent the
widget change on the websocket and when the server's first and last messages of that rerun arrived, which
splits each move into browser -> server, server (the script rerun) and server -> pixels.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import app_server, browser_page  # noqa: E402

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

# Arms one measurement: resolves with timings (ms) of the next keydown -> new image painted.
ARM = """
() => { window.__move = new Promise((resolve) => {
  const img0 = () => document.querySelector("[data-testid='stImage'] img");
  const old = img0() ? img0().src : null;
  let t0 = null, done = false;
  const onKey = () => { t0 = performance.now(); };
  document.addEventListener('keydown', onKey, {capture: true, once: true});
  const finish = (img) => {
    if (done) return; done = true; obs.disconnect();
    const tsrc = performance.now();
    img.decode().catch(() => {}).then(() => requestAnimationFrame(() => {
      const t1 = performance.now();
      const sent = window.__ws.sent.filter((t) => t >= t0);
      const recv = window.__ws.recv.filter((t) => t >= t0 && t <= t1);
      resolve({total: t1 - t0, src_changed: tsrc - t0, sent: sent.length ? sent[0] - t0 : null,
               first_recv: recv.length ? recv[0] - t0 : null, last_recv: recv.length ? recv[recv.length - 1] - t0 : null,
               messages: recv.length, bytes: img.src.length});
    }));
  };
  const check = () => { const img = img0(); if (t0 !== null && img && img.src !== old) finish(img); };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  setTimeout(() => { if (!done) { done = true; obs.disconnect(); resolve({total: -1}); } }, 10000);
}); }
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
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def measure(moves: int, model: str, view: str = "Manifold", warmup: int = 4, pause_ms: int = 200) -> dict:
    with app_server() as url, browser_page() as page:
        page.add_init_script(WS_HOOK)
        page.goto(f"{url}/vae_lab?model={model}")
        thumb = page.get_by_role("slider").first
        thumb.wait_for(timeout=90000)
        page.locator("[data-testid='stImage'] img").first.wait_for(timeout=60000)
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
            if i >= warmup:
                rows.append(r)
            wait_idle(page, quiet_ms=pause_ms)   # the next move starts on an idle app
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
            "median_key_to_src_changed_ms": med("src_changed"), "median_messages": med("messages"),
            "image_src_chars": ok[-1]["bytes"] if ok else None, "all_ms": [round(v) for v in tot]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--model", default="digits-2d", help="a shipped model's name (pretrained/vae/NAME.json)")
    ap.add_argument("--view", default="Manifold", help="the view drawn below the sliders")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    res = measure(args.moves, args.model, args.view)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    result = {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(), "model": args.model, "view": args.view,
              "load_1min_before": round(load_before, 2), "load_1min_after": round(os.getloadavg()[0], 2), **res}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")
    return 0 if res["missed"] == 0 and res["exceptions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
