"""A real browser against the real server: the score probe page computes and draws the FID/IS curve, and a click
on a sample in the arithmetic grid puts it into a group."""

import os

import pytest

from app.headless import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


def _no_error_shown(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()


def test_probe_page_draws_the_score_curve_and_picks_by_click(chromium, app_url):
    with browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(app_url + "/image_probe")
        page.get_by_role("button", name="Compute score curves").wait_for(timeout=60000)
        page.get_by_role("button", name="Compute score curves").click()
        chart = page.locator(".js-plotly-plot").filter(has_text="FID vs training images")
        chart.wait_for(timeout=120000)
        _no_error_shown(page)
        # two lines in each panel, with points at the five default strengths
        assert page.evaluate("(el) => el.data.length", chart.element_handle()) == 4
        assert page.evaluate("(el) => el.data[0].x.length", chart.element_handle()) == 5
        shot = os.environ.get("PROBE_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)

        # latent arithmetic: clicking the first sample's marker puts sample 0 into group A
        grid = page.locator(".js-plotly-plot").last
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 10 + 56 // 2, box["y"] + 10 + 56 // 2)
        page.get_by_text("mean of A (1)").wait_for(timeout=30000)
        _no_error_shown(page)
        if shot:
            page.screenshot(path=shot.replace(".png", "-arith.png"), full_page=True)
