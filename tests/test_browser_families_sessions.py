"""Real browser sessions against the real server: each families lab tab trains in a process of its own, and that
process ends when its tab closes; a session that used both the GAN lab and the families lab loses both.

The idle time is set far beyond the test, so only the session's end can stop the processes here
(tests/test_families_worker.py covers the idle path).
"""

import time

import pytest

from app.headless import app_server_process, chromium_browser, descendants_named, live_frame
from playground.families.worker import PROCESS_NAME
from playground.toy.worker import PROCESS_NAME as GAN_PROCESS_NAME
from playground.toy.worker_limits import ENV_IDLE_EXIT, ENV_MAX_WORKERS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
GONE_WITHIN_S = 30
TINY = "/families?width=8&layers=1&m1.flow_layers=2&m2.sample_steps=5"


def play(page):
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)


def test_closing_the_tabs_ends_their_families_processes(chromium, monkeypatch):
    monkeypatch.setenv(ENV_IDLE_EXIT, "3600")
    monkeypatch.setenv(ENV_MAX_WORKERS, "4")
    with app_server_process() as (url, server), chromium_browser() as browser:
        def workers(name=PROCESS_NAME):
            return descendants_named(server.pid, name)

        assert workers() == set()
        one = browser.new_context(viewport={"width": 1400, "height": 900})
        page = one.new_page()
        page.goto(url + TINY)
        live_frame(page)
        play(page)
        both = browser.new_context(viewport={"width": 1400, "height": 900})
        page2 = both.new_page()
        page2.goto(url + "/gan_lab")                               # this session uses both labs
        live_frame(page2)
        page2.get_by_role("link", name="Model families lab").click()
        page2.get_by_role("heading", name="Model families lab").wait_for(timeout=60_000)
        assert len(workers()) == 2 and len(workers(GAN_PROCESS_NAME)) == 1   # one process per session and lab
        fam, gan = workers(), workers(GAN_PROCESS_NAME)

        one.close()
        both.close()
        t0 = time.time()
        while (workers() & fam) or (workers(GAN_PROCESS_NAME) & gan):
            assert time.time() - t0 < GONE_WITHIN_S, f"still running {GONE_WITHIN_S} s after the tabs closed"
            time.sleep(0.25)
        assert server.poll() is None                               # the server itself carries on
