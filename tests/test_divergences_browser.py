"""The divergence lab in a real headless Chromium: the page serves, draws its charts, and the tabs work."""

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from browser_harness import ROOT, browser_page, free_port, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


@contextmanager
def page_server(timeout: float = 90.0):
    """`streamlit run app/views/divergences.py` alone (the page also runs under the app's navigation)."""
    port = free_port()
    env = {**os.environ, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app/views/divergences.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"server did not start (exit {proc.poll()})")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_page_draws_fits_and_switches_to_the_landscape():
    require_chromium()
    with page_server() as url, browser_page() as page:
        page.goto(url + "/?divergences=kl,rkl")
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
