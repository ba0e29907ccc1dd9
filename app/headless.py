"""Serve the app on a free loopback port and drive it in a headless Chromium (Debian's package, through
Playwright): shared by the browser tests (tests/test_browser_*.py) and the live-page benches (bench/)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]       # the folder holding app/ (a checkout's root)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(timeout: float = 90.0, script: str = "app/server.py"):
    """`streamlit run <script>` (the whole app by default, or one page alone) on a free loopback port;
    yields its base URL."""
    with app_server_process(timeout, script) as (url, _):
        yield url


@contextmanager
def app_server_process(timeout: float = 90.0, script: str = "app/server.py"):
    """As app_server, yielding (base URL, the server's Popen) for tests that watch its processes."""
    port = free_port()
    env = {**os.environ, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / script), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
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
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"server did not start (exit {proc.poll()}):\n{out[-3000:]}")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium_browser():
    """A headless Chromium (Playwright Browser): for tests that open several contexts (browser sessions)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, command name, state letter) of every process readable in /proc."""
    table = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            table[int(d.name)] = (int(rest[1]), name, rest[0])
    return table


def descendants_named(root: int, name: str) -> set[int]:
    """Live (not zombie) processes called `name` (their /proc comm) among the descendants of `root`."""
    table = process_table()
    found, todo = set(), [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, comm, state) in table.items():
            if ppid == parent:
                todo.append(pid)
                if comm == name and state != "Z":
                    found.add(pid)
    return found


@contextmanager
def browser_page(width: int = 1500, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def live_frame(page, timeout: float = 90.0):
    """The live-figure iframe once it has drawn its first frame."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.time() + timeout
    while time.time() < deadline:
        for f in page.frames:
            if "live_figure" in f.url:
                try:
                    if f.evaluate("document.body.dataset.frames || null"):
                        return f
                except PlaywrightError:  # the frame is still navigating: look again
                    continue
        page.wait_for_timeout(250)
    raise AssertionError("the live figure never drew a frame")


def frames_drawn(frame) -> int:
    return int(frame.evaluate("window.__liveFigure ? window.__liveFigure.frames : 0"))


def wait_idle(page, quiet_ms: int = 1000, timeout_ms: int = 180000) -> None:
    """Until no script of the page has run for quiet_ms: what a browser test waits for before it clicks, so that
    a click lands on the settled page, not on one a rerun is replacing (and a timing starts on an idle app)."""
    page.wait_for_function(
        """(quiet) => { const s = document.querySelector("[data-testid='stApp']")?.dataset.testScriptState;
          const now = performance.now();
          if (s !== 'notRunning') { window.__busyAt = now; return false; }
          return now - (window.__busyAt ?? 0) > quiet; }""", arg=quiet_ms, timeout=timeout_ms, polling=100)
