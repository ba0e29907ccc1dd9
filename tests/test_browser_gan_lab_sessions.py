"""Real browser sessions against the real server: each GAN lab tab's training process ends when its tab closes.

Closing a browser context closes its websocket; Streamlit then ends the session (app/components/lab_worker.py
hooks that end), and the training process must go with it. The idle time is set far beyond the test, so only
the session's end can stop the processes here (tests/test_toy_worker.py covers the idle path).
"""

import time

import pytest

from app.headless import app_server_process, chromium_browser, descendants_named, live_frame
from playground.toy.worker import PROCESS_NAME
from playground.toy.worker_limits import ENV_IDLE_EXIT, ENV_MAX_WORKERS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
TABS = 2                     # two sessions at once: each its own process, each ended by its tab
GONE_WITHIN_S = 30


def title_step(frame) -> int:
    title = frame.evaluate("document.querySelector('.gtitle') ? document.querySelector('.gtitle').textContent : ''")
    return int(title.split()[1]) if title.startswith("step ") else 0


def test_closing_the_tabs_ends_their_training_processes(chromium, monkeypatch):
    monkeypatch.setenv(ENV_IDLE_EXIT, "3600")
    monkeypatch.setenv(ENV_MAX_WORKERS, str(TABS + 1))
    with app_server_process() as (url, server), chromium_browser() as browser:
        assert descendants_named(server.pid, PROCESS_NAME) == set()
        tabs = []
        for _ in range(TABS):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(url + "/gan_lab")
            frame = live_frame(page)
            page.get_by_role("button", name="Play").click()
            page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
            tabs.append((context, frame))
        deadline = time.time() + 60
        while any(title_step(f) == 0 for _, f in tabs):         # every tab trains its own model
            assert time.time() < deadline, "a tab never showed training progress"
            time.sleep(0.5)
        workers = descendants_named(server.pid, PROCESS_NAME)
        assert len(workers) == TABS, workers                      # one training process per session

        for context, _ in tabs:
            context.close()
        t0 = time.time()
        while descendants_named(server.pid, PROCESS_NAME) & workers:
            assert time.time() - t0 < GONE_WITHIN_S, \
                f"still running {GONE_WITHIN_S} s after the tabs closed: {descendants_named(server.pid, PROCESS_NAME)}"
            time.sleep(0.25)
        assert server.poll() is None                              # the server itself carries on

        # the freed slots serve a new tab
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/gan_lab")
        live_frame(page)
        assert len(descendants_named(server.pid, PROCESS_NAME)) == 1
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
