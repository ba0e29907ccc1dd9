"""Real browser sessions against the real server: each lab's tab trains in a process of its own, and that process
ends when its tab closes (a session that used both the GAN lab and the families lab loses both), and the freed
slots serve new tabs.

Closing a browser context closes its websocket; Streamlit then ends the session (app/components/lab_worker.py
hooks that end), and the training processes must go with it. The idle time is set far beyond the tests, so only
the sessions' end can stop the processes here (tests/test_toy_worker.py and tests/test_families_worker.py cover
the idle path). One server for both tests, with four slots: the second test's tabs find theirs only if the
first test's closed tabs gave theirs back.
"""

import os
import time

import pytest

from app.headless import app_server_process, chromium_browser, descendants_named, live_frame
from playground.families.worker import PROCESS_NAME as FAMILIES_PROCESS_NAME
from playground.toy.worker import PROCESS_NAME
from playground.toy.worker_limits import ENV_IDLE_EXIT, ENV_MAX_WORKERS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]
TABS = 2                     # GAN lab: two sessions at once, each its own process, each ended by its tab
SLOTS = 4
GONE_WITHIN_S = 30
TINY = "/families?width=8&layers=1&m1.flow_layers=2&m2.sample_steps=5"


@pytest.fixture(scope="module")
def server():
    """(base URL, Popen) of one server with SLOTS training processes that never end on their own."""
    saved = {k: os.environ.get(k) for k in (ENV_IDLE_EXIT, ENV_MAX_WORKERS)}
    os.environ.update({ENV_IDLE_EXIT: "3600", ENV_MAX_WORKERS: str(SLOTS)})
    try:
        with app_server_process() as out:
            yield out
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def gone_within(seconds: float, running) -> None:
    """Until `running()` (the processes still alive) is empty; fails after `seconds`."""
    t0 = time.time()
    while left := running():
        assert time.time() - t0 < seconds, f"still running {seconds} s after the tabs closed: {left}"
        time.sleep(0.25)


def title_step(frame) -> int:
    title = frame.evaluate("document.querySelector('.gtitle') ? document.querySelector('.gtitle').textContent : ''")
    return int(title.split()[1]) if title.startswith("step ") else 0


def test_closing_the_gan_lab_tabs_ends_their_training_processes(chromium, server):
    url, server = server
    with chromium_browser() as browser:
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
        gone_within(GONE_WITHIN_S, lambda: descendants_named(server.pid, PROCESS_NAME) & workers)
        assert server.poll() is None                              # the server itself carries on

        # the freed slots serve a new tab
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/gan_lab")
        live_frame(page)
        last = descendants_named(server.pid, PROCESS_NAME)
        assert len(last) == 1
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
        gone_within(GONE_WITHIN_S, lambda: descendants_named(server.pid, PROCESS_NAME) & last)


def play(page):
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)


def test_closing_the_families_tabs_ends_their_processes(chromium, server):
    url, server = server
    with chromium_browser() as browser:
        def workers(name=FAMILIES_PROCESS_NAME):
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
        assert len(workers()) == 2 and len(workers(PROCESS_NAME)) == 1   # one process per session and lab
        fam, gan = workers(), workers(PROCESS_NAME)

        one.close()
        both.close()
        gone_within(GONE_WITHIN_S, lambda: (workers() & fam) | (workers(PROCESS_NAME) & gan))
        assert server.poll() is None                               # the server itself carries on
