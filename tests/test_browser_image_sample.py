"""A real browser against the real server: the Sample page shows a cgan run's class x noise grid, and a pixelcnn
run's pixel-by-pixel sampler animates on its own after Play, holds still after Pause and goes on after Play."""

import os
import re

import pytest

from app.headless import app_server, browser_page
from test_page_image_sample_families import train_family_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


def _no_error_shown(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()


def _choose_run(page, model: str) -> None:
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=re.compile(rf"^{model} \({model} on")).click()


def _pixels_done(page) -> int:
    text = page.get_by_test_id("stProgress").inner_text()
    return int(re.search(r"pixel (\d+) of", text).group(1))


def test_sample_page_class_noise_grid_and_pausable_pixel_sampler(chromium, tmp_path, monkeypatch):
    runs = train_family_runs(tmp_path / "runs")
    monkeypatch.setenv("PLAYGROUND_RUNS", str(runs))
    shot = os.environ.get("SAMPLE_SCREENSHOT")
    with app_server() as url, browser_page() as page:
        page.goto(url + "/image_sample")
        page.get_by_test_id("stSelectbox").first.wait_for(timeout=60000)
        _choose_run(page, "cgan")
        grid = page.get_by_test_id("stImage").filter(has_text="rows: classes 0 to 9")
        grid.wait_for(timeout=60000)
        _no_error_shown(page)
        box = grid.locator("img").bounding_box()
        assert box["height"] > 300 and box["width"] > 200          # ten rows of 8x8 digits, upscaled
        if shot:
            page.screenshot(path=shot.replace(".png", "-cgan.png"), full_page=True)

        _choose_run(page, "pixelcnn")
        page.get_by_text("pixel 0 of 64").wait_for(timeout=60000)
        speed = page.locator("[class*='st-key-smp_px_speed'] input[type='range']")        # pixels per frame: down to 1
        speed.focus()
        speed.press("Home")
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for(timeout=30000)
        page.wait_for_timeout(1500)
        moving = _pixels_done(page)
        assert 0 < moving < 64, moving                            # it moved by itself, and is not done yet
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=30000)
        page.wait_for_timeout(500)
        held = _pixels_done(page)
        assert held >= moving and "(paused)" in page.get_by_test_id("stProgress").inner_text()
        page.wait_for_timeout(1500)
        assert _pixels_done(page) == held                          # paused: nothing is drawn
        if shot:
            page.screenshot(path=shot.replace(".png", "-pixelcnn.png"), full_page=True)
        speed.focus()
        speed.press("End")                                          # the most pixels per frame for the rest
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Play").click()
        page.get_by_text("pixel 64 of 64 — done").wait_for(timeout=60000)
        page.get_by_role("button", name="Play again").wait_for(timeout=30000)
        _no_error_shown(page)
