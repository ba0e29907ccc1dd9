"""A real browser against the real server: two models side by side, both views update while playing, the history
scrubs back, and the history downloads as an animated GIF of several frames."""

import io

import pytest

from app.headless import browser_page, frames_drawn, live_frame

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

TITLES = "() => Object.fromEntries([...document.querySelectorAll('.fig')].map(d => [d.dataset.name, " \
         "(d.querySelector('.gtitle') || {}).textContent || '']))"


def test_two_models_play_side_by_side_scrub_back_and_export_a_gif(chromium, app_url):
    import imageio.v3 as iio

    with browser_page(1500, 1100) as page:
        page.goto(app_url + "/families?width=32&layers=2&m1.flow_layers=2&m2.sample_steps=20")
        frame = live_frame(page, 180)
        before = frame.evaluate(TITLES)
        assert set(before) == {"m0_main", "m0_aux", "m1_main", "m1_aux"}
        assert before["m0_main"].endswith("step 0") and before["m1_main"].endswith("step 0")
        frame.evaluate("document.querySelector('.fig').dataset.marker = 'same-node'")
        drawn = frames_drawn(frame)
        page.get_by_role("button", name="Play").click()
        frame.wait_for_function("() => [...document.querySelectorAll('.fig .gtitle')].slice(0, 4).every("
                                "t => !t.textContent.endsWith('step 0'))", timeout=90_000)
        frame.wait_for_function(f"() => window.__liveFigure.feedFrames >= 3 && window.__liveFigure.frames > {drawn}",
                                timeout=60_000)                             # pulled from the frame feed
        after = frame.evaluate(TITLES)
        steps = {k: int(after[k].rsplit("step ", 1)[1].replace(",", "")) for k in ("m0_main", "m1_main")}
        assert all(s > 0 for s in steps.values()), after                    # both views moved on
        assert frames_drawn(frame) > drawn
        assert frame.evaluate("window.__liveFigure.feedFrames") >= 3        # pulled from the frame feed
        assert frame.evaluate("document.querySelector('.fig').dataset.marker") == "same-node"   # updated in place
        assert page.locator("[data-testid='stException']").count() == 0

        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=60_000)
        page.get_by_text("Look back", exact=True).click()
        page.get_by_role("button", name="Branch from step").wait_for(timeout=60_000)   # the scrubber is out
        slider = page.get_by_role("slider")                 # the last slider on the page: the scrubber
        frame = live_frame(page)
        now = frame.evaluate(TITLES)["m0_main"]
        slider.last.focus()
        page.keyboard.press("Home")                                         # the first recorded frame
        frame.wait_for_function("() => document.querySelector('.fig .gtitle').textContent.endsWith('step 0')",
                                timeout=60_000)
        assert not now.endswith("step 0")
        page.get_by_role("button", name="Branch from step 0").wait_for(timeout=30_000)

        page.get_by_text("Share, save and export").click()
        with page.expect_download(timeout=120_000) as dl:
            page.get_by_role("button", name="History as GIF").click()
        data = open(dl.value.path(), "rb").read()
        assert data[:6] == b"GIF89a"
        frames = iio.imread(io.BytesIO(data), index=None, extension=".gif")
        assert frames.shape[0] >= 3 and frames.shape[-1] == 3
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
