"""The divergence lab in a real headless Chromium: the page serves, draws its charts, and the tabs work."""

import pytest

from app.headless import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


def test_page_draws_fits_and_switches_to_the_landscape(chromium, app_url):
    with browser_page() as page:
        page.goto(app_url + "/divergences?divergences=kl,rkl")
        page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=90_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        # Target plus two fits drawn as SVG paths, and Plotly's own play button for the animation.
        assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 3
        assert page.locator(".js-plotly-plot .updatemenu-button").count() >= 1
        assert "kl" in page.url and "rkl" in page.url                  # the config is mirrored in the URL
        page.get_by_role("tab", name="Landscape").click()
        page.wait_for_selector(".js-plotly-plot .contourlayer", timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "view=landscape" in page.url
