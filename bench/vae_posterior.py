"""VAE inference page: time from choosing an image to its posterior on screen (target: within 300 ms).

    .venv/bin/python bench/vae_posterior.py [--images 20] [--model digits-2d] [--browser [--jump]] [--json]

Headless: for each of `--images` test images, what the page computes after a new image is chosen
(posterior.inspect with the page's settings: a 64-cell scan, a 100 x 100 grid, 20,000 importance samples) and
the two figures built and serialised. `inspect` is timed three ways on the same images: without the grid cache
on one core, with it on one core, and as the page runs it (cache, importance samples on a second core); the
cache starts empty, so its misses (a scan radius not seen before) are in the figures. --browser also serves the whole app (app/headless.py), opens
/vae_inference in headless Chromium, and clicks the test image's "+" button `--images` times (each image's report
was computed behind the one before it: playground.ahead), or with --jump types `--images` random indices, none
beside the one before (each report computed on the click); the page measures with performance.now() from the
click (or the Enter key) to the new numbers (the first metric's text changing), to the new figures
(the live-figure iframe has finished Plotly.react), to the end of the script run, and to the next animation
frame after all three (`all`: the whole update on screen).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time

IDLE = """() => document.querySelector("[data-testid='stApp']")?.dataset.testScriptState === 'notRunning'"""

ARM = """
() => { window.__pick = new Promise((resolve) => {
  const value = () => document.querySelector("[data-testid='stMetricValue']")?.textContent;
  const state = () => document.querySelector("[data-testid='stApp']")?.dataset.testScriptState;
  const frames = () => {   // figures drawn by the live-figure iframe (same origin) so far
    const f = [...document.querySelectorAll("iframe")].find((el) => (el.src || "").includes("live_figure"));
    try { return Number(f?.contentDocument?.body?.dataset.frames || 0); } catch (e) { return 0; }
  };
  const old = value(), oldFrames = frames();
  let t0 = null, tNumbers = null, tFigure = null, tDone = null, ran = false, done = false;
  const start = (e) => { if (t0 === null && (e.type === 'pointerdown' || e.key === 'Enter')) t0 = performance.now(); };
  document.addEventListener('pointerdown', start, {capture: true});
  document.addEventListener('keydown', start, {capture: true});
  const tick = () => {
    if (done) return;
    if (t0 !== null) {
      const now = performance.now();
      if (tNumbers === null && value() !== old) tNumbers = now;
      if (tFigure === null && frames() > oldFrames) tFigure = now;
      if (state() === 'running') ran = true;
      if (tDone === null && ran && tNumbers !== null && state() === 'notRunning') tDone = now;
      if (tNumbers !== null && tFigure !== null && tDone !== null) {
        done = true;
        requestAnimationFrame(() => resolve({numbers: tNumbers - t0, figure: tFigure - t0, run_done: tDone - t0,
                                             all: performance.now() - t0}));
        return;
      }
    }
    requestAnimationFrame(tick);
  };
  tick();
  setTimeout(() => { if (!done) { done = true; resolve({all: -1}); } }, 15000);
}); }
"""

def summary(values: list[float]) -> dict:
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    return {"median_ms": round(statistics.median(values), 1), "p90_ms": round(p90, 1), "max_ms": round(max(values), 1)}


def settle(page, ms: int) -> None:
    """Until no script is running, then `ms` more (the next click starts on an idle app)."""
    page.wait_for_function(IDLE, timeout=180000, polling=50)
    page.wait_for_timeout(ms)


def headless(model_name: str, images: int) -> dict:
    import torch

    from playground.data import load_dataset
    from playground.paths import pretrained_dir
    from playground.vae import inference_plots as F
    from playground.vae import posterior
    from playground.vae.checkpoint import load_checkpoint
    from playground.vae.likelihood import GridCache

    torch.set_num_threads(1)
    model, _ = load_checkpoint(pretrained_dir() / "vae" / f"{model_name}.pt")
    test = load_dataset(model.cfg.dataset, **model.cfg.data_kwargs("test"))
    cache = GridCache(model)
    ways = {"uncached_1core": {}, "cached_1core": {"cache": cache},
            "page": {"cache": cache, "parallel": True}}
    times: dict[str, list[float]] = {k: [] for k in ways}
    figures = []
    for i in range(images + 2):
        x, y = posterior.test_image(model, test, i)
        for way, kw in ways.items():
            t0 = time.perf_counter()
            pg, rep = posterior.inspect(model, x, y, n=100, samples=20000, scan=64, **kw)
            if i >= 2:                              # two warm-up images
                times[way].append(1000 * (time.perf_counter() - t0))
        t1 = time.perf_counter()
        json.dumps(F.live_specs(pg, rep))             # what the page sends
        if i >= 2:
            figures.append(1000 * (time.perf_counter() - t1))
    out = {f"engine_{way}": summary(v) for way, v in times.items()}
    return {**out, "cache": {"hits": cache.hits, "misses": cache.misses, "MB": round(cache.nbytes() / 2**20, 1)},
            "figures": summary(figures),
            "engine_plus_figures_median_ms": round(statistics.median([a + b for a, b in zip(times["page"], figures)]),
                                                   1)}


def browser(model_name: str, images: int, jump: bool, settle_ms: int = 300, warmup: int = 2) -> dict:
    """Step through the test set with "+" (each image's report is computed behind the one before it), or with
    `jump` type indices drawn at random, none beside the one before (each report is computed on the click);
    each pick `settle_ms` after the app is idle again."""
    import random

    from app.headless import app_server, browser_page

    with app_server() as url, browser_page() as page:
        page.goto(f"{url}/vae_inference?model={model_name}")
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=180000)
        settle(page, 1500)              # the first run loads torch, the model and its test set
        plus = page.locator("[data-testid='stNumberInputStepUp']").first
        field = page.get_by_test_id("stNumberInputField").first
        rng, last, rows = random.Random(0), 0, []
        for i in range(warmup + images):
            page.evaluate(ARM)
            if jump:
                last = rng.choice([j for j in range(2, 400) if abs(j - last) > 1])
                field.fill(str(last))
                field.press("Enter")
            else:
                plus.click()
            r = page.evaluate("window.__pick")
            settle(page, settle_ms)
            if i >= warmup:
                rows.append(r)
        errors = page.locator("[data-testid='stException']").count()
    ok = [r for r in rows if r["all"] > 0]
    out = {"picks": len(rows), "missed": len(rows) - len(ok), "exceptions": errors}
    for key in ("numbers", "figure", "run_done", "all"):
        out[f"click_to_{key}"] = summary([r[key] for r in ok]) if ok else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--model", default="digits-2d")
    ap.add_argument("--browser", action="store_true", help="also measure in a real browser")
    ap.add_argument("--jump", action="store_true", help="in the browser, type random indices instead of stepping")
    ap.add_argument("--settle-ms", type=int, default=300, help="pause after each pick, once the app is idle")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = {"date": datetime.date.today().isoformat(), "cores": os.cpu_count(), "model": args.model,
              "load_1min_before": round(os.getloadavg()[0], 2), "headless": headless(args.model, args.images)}
    if args.browser:
        result["browser" + "_jump" * args.jump] = browser(args.model, args.images, args.jump, args.settle_ms)
    result["load_1min_after"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>18}: {v}")
    b = result.get("browser_jump" if args.jump else "browser")
    failed = b is not None and (b["missed"] or b["exceptions"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
