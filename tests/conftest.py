"""Shared test set-up: one torch thread (2-core machines), and the `chromium` fixture of the browser tests.

`app` and `playground` are installed packages (`pip install -e .`), so nothing is added to sys.path here; the
server and browser helpers the tests share with the benches are in app/headless.py."""

import os

import pytest
import torch

from app.headless import CHROMIUM, app_server, chromium_installed

torch.set_num_threads(1)


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium for a browser test: skipped where it is not installed, a failure in CI."""
    if not chromium_installed():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium package)")
        pytest.skip("headless Chromium not installed: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def shared_lab_worker():
    """One GAN-lab training process for the page tests to hand to the page (each resets it: new networks,
    paused), instead of one forked per test."""
    from playground.toy.config import ToyConfig
    from playground.toy.worker import LabWorker

    worker = LabWorker(ToyConfig(), exit_after=3600)     # outlives any pause between the tests using it
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def app_url():
    """One server of the whole app for the browser tests that change nothing in its environment: each of them
    paid about 10 s for a server of its own to import torch and start its lab workers' forkserver. (Tests that
    set environment variables, or count a server's processes, start their own.)"""
    with app_server() as url:
        yield url
