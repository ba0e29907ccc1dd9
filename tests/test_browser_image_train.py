"""A real browser against the real server: launch a short digits run from the Train page, see it progress and
its first sample grid appear, with no error shown."""

import re
import time

import pytest

from app.headless import browser_page
from playground.runs.rundir import RunDir

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

STEPS = 80
SAMPLE_EVERY = 20


def _fill(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(400)


def _no_error_shown(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()


def test_launch_a_short_run_and_watch_progress_and_first_grid(chromium, tmp_path, app_url):
    runs = tmp_path / "runs"
    with browser_page() as page:
        page.goto(app_url + "/image_train")
        page.get_by_text("No runs in").wait_for(timeout=60000)
        _fill(page, "runs folder", runs)
        page.get_by_text(f"No runs in {runs}").wait_for(timeout=10000)
        _fill(page, "steps", STEPS)
        page.get_by_text("Logging and scores").click()
        _fill(page, "sample every", SAMPLE_EVERY)
        _no_error_shown(page)
        page.get_by_role("button", name="Launch run").click()

        # Progress: the run card's bar reports steps while the process trains (the card polls the disk).
        seen, first_grid_step = set(), None
        deadline = time.time() + 60
        while time.time() < deadline and first_grid_step is None:
            for text in page.locator("[data-testid='stProgress']").all_inner_texts():
                m = re.search(r"step (\d+)/(\d+)", text)
                if m and int(m.group(2)) == STEPS:
                    seen.add(int(m.group(1)))
            caption = page.get_by_text(re.compile(r"fixed seed, EMA weights, step \d+"))
            if caption.count():
                first_grid_step = int(re.search(r"step (\d+)", caption.first.inner_text()).group(1))
            page.wait_for_timeout(250)
        _no_error_shown(page)
        assert first_grid_step is not None, f"no sample grid appeared (progress seen: {sorted(seen)})"
        assert first_grid_step % SAMPLE_EVERY == 0
        assert any(0 < s for s in seen), f"no progress shown: {sorted(seen)}"
        img = page.locator("[data-testid='stImage'] img").first
        img.wait_for(timeout=10000)
        assert page.evaluate("(el) => el.complete && el.naturalWidth > 0", img.element_handle())

        # The page showed what the disk holds: one run, launched by the page, with that grid on disk.
        (run_dir,) = list(runs.iterdir())
        run = RunDir.open(run_dir)
        assert first_grid_step in [s for s, _ in run.samples()]
        assert run.config()["steps"] == STEPS and run.config()["dataset"] == "digits"
        # Let the process finish before its folder is removed; the page then reports it completed.
        deadline = time.time() + 60
        while run.effective_status().get("state") in ("queued", "running") and time.time() < deadline:
            time.sleep(0.5)
        assert run.effective_status()["state"] == "completed", (run_dir / "process.out").read_text()[-2000:]
        page.get_by_text("state completed").first.wait_for(timeout=15000)
        _no_error_shown(page)
