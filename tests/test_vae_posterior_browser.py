"""The posterior inspector in a real browser: choosing image after image redraws the heatmap in place (one live
figure, Plotly.react) centred on each image's own view box, with the numbers the engine computes."""

import pytest

from app.headless import ROOT, browser_page, live_frame
from playground.vae import inference_plots as F
from playground.vae import posterior

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.skipif(not (ROOT / "pretrained/vae/mnist5k-2d.pt").is_file(),
                                 reason="pretrained VAEs missing: run make pretrained")]

IDLE = """() => document.querySelector("[data-testid='stApp']")?.dataset.testScriptState === 'notRunning'"""
AXES = """() => { const fl = document.querySelectorAll('.js-plotly-plot')[0]._fullLayout;
                  return [fl.xaxis.range, fl.yaxis.range, fl.xaxis._length, fl.yaxis._length]; }"""


def test_each_new_image_is_shown_in_its_own_view_box(chromium, app_url):
    from playground.data import load_dataset
    from playground.vae.checkpoint import load_checkpoint

    model, _ = load_checkpoint(ROOT / "pretrained/vae/mnist5k-2d.pt")
    test = load_dataset(model.cfg.dataset, **model.cfg.data_kwargs("test"))
    with browser_page() as page:
        page.goto(f"{app_url}/vae_inference")                      # the default model: mnist5k-2d
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=180000)
        live_frame(page)
        plus = page.locator("[data-testid='stNumberInputStepUp']").first
        for idx in range(5):
            if idx:
                plus.click()
                page.wait_for_timeout(300)
            page.wait_for_function(IDLE, timeout=120000, polling=50)
            page.wait_for_timeout(600)
            pg, rep = posterior.inspect(model, posterior.test_image(model, test, idx)[0], n=100, samples=20000,
                                        scan=64)
            assert page.locator("[data-testid='stMetricValue']").first.inner_text() == f"{rep['log_px']:.3f}"
            x0, x1, y0, y1 = F.view_box(pg, [(pg.mu_q, pg.logvar_q)])
            (fx0, fx1), (fy0, fy1), wx, wy = live_frame(page).evaluate(AXES)
            # the shown ranges hold the view box, centred on it, with equal units on both axes
            tol = 0.02 * (x1 - x0)
            assert fx0 <= x0 + tol and fx1 >= x1 - tol and fy0 <= y0 + tol and fy1 >= y1 - tol, idx
            assert abs((fx0 + fx1) / 2 - (x0 + x1) / 2) < tol and abs((fy0 + fy1) / 2 - (y0 + y1) / 2) < tol, idx
            assert abs((fx1 - fx0) / wx - (fy1 - fy0) / wy) < 0.02 * (fy1 - fy0) / wy, idx
        assert page.locator("[data-testid='stException']").count() == 0
