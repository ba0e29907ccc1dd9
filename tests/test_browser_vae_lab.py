"""A real browser against the real server: moving a latent slider changes the decoded image, quickly."""

import statistics

import pytest

from browser_harness import ROOT, app_server, browser_page, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

# Resolves with the milliseconds from now until the decoded image (the first image on the page) has a new
# source that has finished loading.
WATCH_IMAGE = """
() => { window.__vaeWatch = new Promise((resolve) => {
  const t0 = performance.now();
  const first = () => document.querySelector("[data-testid='stImage'] img");
  const old = first() ? first().src : null;
  const tick = () => {
    const img = first();
    if (img && img.src !== old && img.complete && img.naturalWidth > 0) { resolve(performance.now() - t0); return; }
    if (performance.now() - t0 > 10000) { resolve(-1); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}); }
"""


def wait_idle(page, quiet_ms: int = 1000, timeout_ms: int = 180000) -> None:
    """Until no script has run for quiet_ms: a key pressed during the first run (torch, model, test set)
    waits for all of it, which is not what the latency check is about."""
    page.wait_for_function(
        """(quiet) => { const s = document.querySelector("[data-testid='stApp']")?.dataset.testScriptState;
          const now = performance.now();
          if (s !== 'notRunning') { window.__busyAt = now; return false; }
          return now - (window.__busyAt ?? 0) > quiet; }""", arg=quiet_ms, timeout=timeout_ms, polling=100)


def slider_latencies(page, presses: int = 8) -> list[float]:
    thumb = page.get_by_role("slider").first
    thumb.focus()
    out = []
    for i in range(presses):
        page.evaluate(WATCH_IMAGE)   # starts the clock, returns at once
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        ms = page.evaluate("window.__vaeWatch")
        out.append(ms)
        wait_idle(page, 300)
    return out


def test_slider_moves_decoded_image():
    require_chromium()
    assert (ROOT / "pretrained/vae/digits-2d.pt").is_file(), "the shipped VAEs are missing: run make pretrained"
    with app_server(script="app/views/vae_lab.py") as url, browser_page() as page:
        page.goto(url)
        page.get_by_role("slider").first.wait_for(timeout=60000)
        wait_idle(page)
        src0 = page.locator("[data-testid='stImage'] img").first.get_attribute("src")
        # The decoded image arrives at the model's own 8x8 and the browser upscales it with crisp pixels.
        natural, shown, rendering = page.locator("[data-testid='stImage'] img").first.evaluate(
            "e => [e.naturalWidth, e.getBoundingClientRect().width, getComputedStyle(e).imageRendering]")
        assert natural == 8 and shown >= 200 and rendering == "pixelated", (natural, shown, rendering)
        assert src0.startswith("data:image/png;base64,")
        lat = slider_latencies(page)
        assert all(ms > 0 for ms in lat), lat      # every press brought a new, loaded image source
        page.keyboard.press("ArrowRight")             # 8 presses left z0 where it was: one more moves it
        page.wait_for_function("(old) => document.querySelector(\"[data-testid='stImage'] img\").src !== old",
                               arg=src0, timeout=20000)
        assert page.locator("[data-testid='stException']").count() == 0
        med = statistics.median(lat)
        print(f"slider -> new image: median {med:.0f} ms, all {[round(v) for v in lat]}")
        # The 150 ms target is a benchmark figure on a quiet machine; here a loose bound against regressions.
        assert med < 1000, lat

        # Clicking a point of the encoded test set loads that image's code into the sliders.
        pos = page.evaluate("""() => {
          const gd = document.querySelector('.js-plotly-plot'); const fl = gd._fullLayout; const t = gd._fullData[0];
          const r = gd.getBoundingClientRect(); const i = 10;
          return {x: r.left + fl._size.l + fl.xaxis.l2p(t.x[i]), y: r.top + fl._size.t + fl.yaxis.l2p(t.y[i]),
                  zx: t.x[i], zy: t.y[i]};
        }""")
        page.mouse.click(pos["x"], pos["y"])
        page.get_by_text("Loaded test image #10").wait_for(timeout=20000)
        page.wait_for_timeout(1000)
        values = [float(page.locator("[data-testid='stSliderThumbValue']").nth(i).inner_text()) for i in range(2)]
        assert values == pytest.approx([pos["zx"], pos["zy"]], abs=0.006)
        assert page.locator("[data-testid='stException']").count() == 0
